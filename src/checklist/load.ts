import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isPair, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { ChecklistError, type ChecklistIssue, DeployCheckError, ErrorCode } from '../errors.js';
import { type Checklist, type Item, type Phase, resolveMeasurement } from './model.js';
import { type ChecklistSpec, checklistSpec, type ItemSpec, type Principal } from './schema.js';

const VAR_PATTERN = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface ParseOptions {
  /** Shown in every error as file:line:col. */
  file: string;
  /** Run-time overrides (`--var k=v`, `key=value` in Slack); each must name a declared variable. */
  vars?: Record<string, string>;
}

class Positions {
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  at(offset: number, message: string): ChecklistIssue {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col, message };
  }

  ofNode(node: Node | null | undefined, message: string): ChecklistIssue {
    return this.at(node?.range?.[0] ?? 0, message);
  }
}

/** Parses and validates checklist YAML. Every problem is reported with file:line:col; nothing is half-accepted. */
export function parseChecklist(text: string, options: ParseOptions): Checklist {
  const lines = new LineCounter();
  const pos = new Positions(options.file, lines);
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ChecklistError(
      ErrorCode.ChecklistSyntax,
      doc.errors.map((e) => pos.at(e.pos[0], `invalid YAML: ${firstLine(e.message)}`)),
    );
  }
  if (!isMap(doc.contents)) {
    throw new ChecklistError(ErrorCode.ChecklistInvalid, [
      pos.ofNode(doc.contents, 'expected a mapping with name, service and phases'),
    ]);
  }

  const vars = resolveVars(doc, options, pos);
  const interpolationIssues = interpolate(doc, vars, pos);
  if (interpolationIssues.length > 0)
    throw new ChecklistError(ErrorCode.UnknownVariable, interpolationIssues);

  const parsed = checklistSpec.safeParse(toJS(doc, pos));
  if (!parsed.success) {
    throw new ChecklistError(
      ErrorCode.ChecklistInvalid,
      parsed.error.issues.map((i) => zodIssueAt(doc, i, pos)),
    );
  }
  const spec = parsed.data;
  const phases = normalisePhases(spec, doc, pos);
  const digest = createHash('sha256').update(text).digest('hex');
  return { spec, phases, vars, file: options.file, digest, source: text };
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

/**
 * `doc.toJS()`, but what yaml refuses while expanding (an alias "billion laughs" bomb is a
 * ReferenceError) becomes a ChecklistError at the first alias: found by fuzzing, it used to escape
 * as a bare ReferenceError (a stack trace in Slack, five futile retries in the worker).
 */
function toJS(doc: Document, pos: Positions): unknown {
  try {
    return doc.toJS();
  } catch (err) {
    let alias: Node | undefined;
    visit(doc, {
      Alias(_key, node) {
        alias = node;
        return visit.BREAK;
      },
    });
    throw new ChecklistError(ErrorCode.ChecklistInvalid, [
      pos.ofNode(alias, `cannot expand the document: ${firstLine((err as Error)?.message ?? String(err))}`),
    ]);
  }
}

/** Only the `vars:` mapping as plain values (converting the whole document here cost a full second pass). */
function varsOf(doc: Document, pos: Positions): Record<string, unknown> {
  const node = doc.get('vars', true);
  if (!isMap(node)) return {};
  try {
    return (node.toJS(doc) as Record<string, unknown>) ?? {};
  } catch {
    // What yaml refuses while expanding (an alias bomb) is reported by the whole-document pass.
    return ((toJS(doc, pos) as { vars?: Record<string, unknown> }).vars ?? {}) as Record<string, unknown>;
  }
}

function resolveVars(doc: Document, options: ParseOptions, pos: Positions): Record<string, string> {
  const declared = varsOf(doc, pos);
  const values: Record<string, string> = {};
  // Only scalars are values: String() of a mapping with a `toString:` key throws a TypeError (found
  // by fuzzing); anything else is left for the schema to refuse with its position.
  const scalar = (x: unknown) =>
    typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x) : undefined;
  for (const [k, v] of Object.entries(declared)) {
    const value = scalar(v !== null && typeof v === 'object' ? (v as { default?: unknown }).default : v);
    if (value !== undefined) values[k] = value;
  }
  for (const [k, v] of Object.entries(options.vars ?? {})) {
    // Own keys only: `constructor=x` or `toString=x` must not pass as declared (found by fuzzing).
    if (!Object.hasOwn(declared, k)) {
      const known = Object.keys(declared);
      throw new ChecklistError(ErrorCode.UnknownVariable, [
        pos.ofNode(
          doc.get('vars', true) as Node | undefined,
          `unknown variable "${k}" given at run time; declared: ${known.length ? known.join(', ') : '(none)'}`,
        ),
      ]);
    }
    values[k] = v;
  }
  return values;
}

/** Replaces {{var}} in every string value outside `vars:` itself; an unknown or unset variable is an error at its position. */
function interpolate(doc: Document, vars: Record<string, string>, pos: Positions): ChecklistIssue[] {
  const issues: ChecklistIssue[] = [];
  visit(doc, {
    Pair(_key, pair, path) {
      if (path.length === 1 && isScalar(pair.key) && pair.key.value === 'vars') return visit.SKIP;
      return undefined;
    },
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('{{')) return;
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
      node.value = node.value.replace(VAR_PATTERN, (whole, name: string, offset: number) => {
        // Own keys only: `{{constructor}}` must not interpolate Object's constructor (found by fuzzing).
        const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
        if (value === undefined) {
          const known = Object.keys(vars);
          issues.push(
            pos.at(
              (node.range?.[0] ?? 0) + quoted + offset,
              Object.hasOwn(vars, name) || known.length === 0
                ? `variable "${name}" has no value: declare it under vars: or pass --var ${name}=…`
                : `unknown variable "${name}"; declared: ${known.join(', ')}`,
            ),
          );
          return whole;
        }
        return value;
      });
    },
  });
  return issues;
}

function nodeAtPath(doc: Document, pathParts: readonly PropertyKey[]): Node | undefined {
  for (let n = pathParts.length; n >= 0; n--) {
    const node = doc.getIn(pathParts.slice(0, n) as unknown[], true) as unknown;
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
    if (isPair(node)) return (node.value ?? node.key) as Node;
  }
  return undefined;
}

function formatPath(parts: readonly PropertyKey[]): string {
  return parts.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

function zodIssueAt(doc: Document, issue: z.core.$ZodIssue, pos: Positions): ChecklistIssue {
  const where = formatPath(issue.path);
  const node = nodeAtPath(doc, issue.path);
  return pos.ofNode(node, `${where ? `${where}: ` : ''}${explainIssue(issue)}`);
}

function explainIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    return `unknown type; expected one of: ${(issue.options as unknown[]).join(', ')}`;
  }
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type') {
    return issue.input === undefined
      ? `missing required field (expected ${issue.expected})`
      : `expected ${issue.expected}`;
  }
  if (issue.code === 'invalid_union') return 'value does not match any accepted form';
  return issue.message;
}

function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
  return slug || 'item';
}

function normalisePhases(spec: ChecklistSpec, doc: Document, pos: Positions): Phase[] {
  const issues: ChecklistIssue[] = [];
  const seenPhases = new Set<string>();
  const declaredRoles = new Set(Object.keys(spec.roles));
  const checkRole = (p: Principal, at: readonly PropertyKey[]) => {
    if ('role' in p && !declaredRoles.has(p.role)) {
      issues.push(pos.ofNode(nodeAtPath(doc, at), `role "${p.role}" is not declared under roles:`));
    }
  };

  const phases = spec.phases.map((phase, pi): Phase => {
    if (seenPhases.has(phase.id))
      issues.push(pos.ofNode(nodeAtPath(doc, ['phases', pi, 'id']), `duplicate phase id "${phase.id}"`));
    seenPhases.add(phase.id);
    const seenItems = new Set<string>();
    const items = phase.items.map((item: ItemSpec, ii): Item => {
      let itemId = item.id ?? slugify(item.title);
      if (item.id && seenItems.has(itemId)) {
        issues.push(
          pos.ofNode(
            nodeAtPath(doc, ['phases', pi, 'items', ii, 'id']),
            `duplicate item id "${itemId}" in phase "${phase.id}"`,
          ),
        );
      }
      for (let n = 2; !item.id && seenItems.has(itemId); n++)
        itemId = `${slugify(item.title).slice(0, 44)}-${n}`;
      seenItems.add(itemId);
      for (const [oi, owner] of (item.manual?.owner ?? []).entries())
        checkRole(owner, ['phases', pi, 'items', ii, 'manual', 'owner', oi]);
      const line = pos.ofNode(nodeAtPath(doc, ['phases', pi, 'items', ii]), '').line;
      return {
        key: `${phase.id}/${itemId}`,
        id: itemId,
        phaseId: phase.id,
        title: item.title,
        severity: item.severity ?? phase.severity ?? spec.defaults.severity,
        line,
        ...(item.check
          ? { kind: 'probe' as const, check: item.check }
          : { kind: 'manual' as const, manual: item.manual! }),
        measurement: resolveMeasurement(item, spec.defaults),
      } as Item;
    });
    return {
      id: phase.id,
      title: phase.title,
      continueOnFailure: phase.continueOnFailure ?? !spec.stopOnCriticalFailure,
      items,
    };
  });

  const gates =
    spec.approvals === undefined ? [] : Array.isArray(spec.approvals) ? spec.approvals : [spec.approvals];
  for (const [gi, gate] of gates.entries()) {
    for (const role of gate.roles) {
      if (!declaredRoles.has(role)) {
        issues.push(
          pos.ofNode(
            nodeAtPath(
              doc,
              Array.isArray(spec.approvals) ? ['approvals', gi, 'roles'] : ['approvals', 'roles'],
            ),
            `role "${role}" is not declared under roles:`,
          ),
        );
      }
    }
  }
  for (const [i, p] of (spec.run?.allowed ?? []).entries()) checkRole(p, ['run', 'allowed', i]);
  for (const [i, p] of (spec.rollback?.allowed ?? []).entries()) checkRole(p, ['rollback', 'allowed', i]);
  const itemKeys = new Set(phases.flatMap((p) => p.items.map((i) => i.key)));
  for (const [mi, m] of (spec.monitors?.checks ?? []).entries()) {
    if (!m.item === !m.check)
      issues.push(
        pos.ofNode(nodeAtPath(doc, ['monitors', 'checks', mi]), 'expected exactly one of "item" or "check"'),
      );
    if (m.item && !itemKeys.has(m.item))
      issues.push(
        pos.ofNode(
          nodeAtPath(doc, ['monitors', 'checks', mi, 'item']),
          `no item "${m.item}" (use "phase-id/item-id")`,
        ),
      );
  }
  for (const [si, s] of (spec.rollback?.steps ?? []).entries()) {
    if (s.type === 'wait-for') {
      if (!s.item === !s.check)
        issues.push(
          pos.ofNode(nodeAtPath(doc, ['rollback', 'steps', si]), 'expected exactly one of "item" or "check"'),
        );
      if (s.item && !itemKeys.has(s.item))
        issues.push(
          pos.ofNode(
            nodeAtPath(doc, ['rollback', 'steps', si, 'item']),
            `no item "${s.item}" (use "phase-id/item-id")`,
          ),
        );
    }
  }
  if (issues.length > 0) throw new ChecklistError(ErrorCode.ChecklistInvalid, issues);
  return phases;
}

export function loadChecklistFile(file: string, vars?: Record<string, string>): Checklist {
  let text: string;
  try {
    if (statSync(file).size > 2 * 1024 * 1024) {
      throw new DeployCheckError(
        ErrorCode.ChecklistInvalid,
        `${file}: larger than 2 MiB; is this a checklist?`,
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof DeployCheckError) throw err;
    throw new DeployCheckError(
      ErrorCode.ChecklistNotFound,
      `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
  const checklist = parseChecklist(text, { file, ...(vars ? { vars } : {}) });
  return { ...checklist, baseDir: path.dirname(path.resolve(file)) };
}

/** Checklist names available in a directory (files *.yml / *.yaml), sorted. */
export function listChecklistNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}

/**
 * A checklist's file in the checklists directory, by name only: what the bot and the workers use,
 * so text typed in Slack never names a file elsewhere on the host.
 */
export function checklistFileByName(name: string, dir: string): string {
  if (/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    for (const ext of ['.yml', '.yaml']) {
      const candidate = path.join(dir, name + ext);
      if (existsSync(candidate)) return candidate;
    }
  }
  const names = listChecklistNames(dir);
  throw new DeployCheckError(
    ErrorCode.ChecklistNotFound,
    `no checklist "${name}"; available: ${names.length ? names.join(', ') : `(none in ${dir})`}`,
  );
}

/** A path as given (the CLI), or a checklist's name looked up in the checklists directory. */
export function resolveChecklistRef(ref: string, dir: string): string {
  if (existsSync(ref) && statSync(ref).isFile()) return ref;
  return checklistFileByName(ref, dir);
}

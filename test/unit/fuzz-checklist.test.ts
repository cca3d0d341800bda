/**
 * Fuzzing `parseChecklist`: whatever text arrives (a hand-edited file, a pasted Slack snippet, an
 * attack), it either yields a checklist or throws a ChecklistError / DeployCheckError whose every
 * issue points at file:line:col (all >= 1) with a non-empty message. Never a bare TypeError,
 * RangeError or ReferenceError, never an unhandled rejection.
 *
 * Generated checklists per run of this file (>= 10,000 in total):
 *   - 2,500 structured mutants: small checklists assembled from the items, roles, vars and gates of
 *     the shipped checklists, then mutated (wrong types, unknown keys, deleted keys, huge strings,
 *     deep nesting, unicode and lone surrogates, `{{vars}}` and `${secret:…}` references, duplicated
 *     entries) and serialised with the `yaml` package under varied options; with run-time vars.
 *   - 1,000 of those serialisations damaged as text (cut, spliced, re-indented, YAML syntax inserted).
 *   - 5,000 YAML-ish token soups (indicators, anchors/aliases, tags, block scalars, schema keys).
 *   - 1,500 arbitrary unicode strings.
 * Plus fixed regressions for what fuzzing found (alias bombs, inherited-property variable names).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CreateNodeOptions,
  parse as parseYaml,
  stringify as stringifyYaml,
  type ToStringOptions,
} from 'yaml';
import { parseChecklist } from '../../src/checklist/load.js';
import { ChecklistError, DeployCheckError } from '../../src/errors.js';

const root = path.resolve(import.meta.dirname, '../..');
const FILE = 'fuzz/checklist.yml';

// ------------------------------------------------------------------------------------------------
// The property every input must satisfy
// ------------------------------------------------------------------------------------------------

type Outcome = 'valid' | 'checklist-error' | 'coded-error';

/** Parses and checks the outcome; throws (failing the property) on anything but a clean result. */
function parseCleanly(text: string, vars?: Record<string, string>): Outcome {
  try {
    const c = parseChecklist(text, { file: FILE, ...(vars ? { vars } : {}) });
    if (c.phases.length < 1) throw new Error('accepted a checklist without phases');
    const keys = c.phases.flatMap((p) => p.items.map((i) => i.key));
    if (new Set(keys).size !== keys.length)
      throw new Error(`accepted duplicate item keys: ${keys.join(',')}`);
    for (const [k, v] of Object.entries(c.vars))
      if (typeof v !== 'string') throw new Error(`var ${k} is not a string`);
    if (!/^[0-9a-f]{64}$/.test(c.digest)) throw new Error('no digest');
    return 'valid';
  } catch (err) {
    if (err instanceof ChecklistError) {
      if (err.issues.length === 0) throw new Error('ChecklistError without issues');
      for (const issue of err.issues) {
        const where = JSON.stringify(issue);
        if (issue.file !== FILE) throw new Error(`issue without the file: ${where}`);
        if (!Number.isInteger(issue.line) || issue.line < 1) throw new Error(`bad line: ${where}`);
        if (!Number.isInteger(issue.col) || issue.col < 1) throw new Error(`bad col: ${where}`);
        if (typeof issue.message !== 'string' || issue.message.trim() === '')
          throw new Error(`empty message: ${where}`);
      }
      return 'checklist-error';
    }
    if (err instanceof DeployCheckError) {
      if (!err.message.trim()) throw new Error('DeployCheckError without a message');
      return 'coded-error';
    }
    // Anything else is a crash: report it with its stack so the counterexample says where.
    throw new Error(`crashed with ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Seeds: the building blocks of real checklists
// ------------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

interface Source {
  vars: Obj;
  roles: Obj;
  items: Obj[];
  approvals?: Json;
  monitors?: Json;
  rollback?: Json;
  defaults?: Json;
  network?: Json;
  secrets?: Json;
}

/** Roles without their descriptions, vars as `name: default`: the fuzz pays per byte of YAML parsed. */
function loadSource(file: string): Source {
  const doc = parseYaml(readFileSync(path.join(root, file), 'utf8')) as Obj;
  const phases = doc.phases as Array<{ items: Obj[] }>;
  const vars = Object.entries((doc.vars ?? {}) as Obj).map(([k, v]) => [
    k,
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v.default ?? '') : v,
  ]);
  const roles = Object.entries((doc.roles ?? {}) as Record<string, Obj>).map(
    ([k, { description: _, ...r }]) => [k, r],
  );
  return {
    vars: Object.fromEntries(vars) as Obj,
    roles: Object.fromEntries(roles) as Obj,
    // Small items only (most are): parsing cost is per byte, and a big item adds bytes, not paths.
    items: phases.flatMap((p) => p.items).filter((i) => JSON.stringify(i).length < 500),
    approvals: doc.approvals,
    monitors: doc.monitors,
    rollback: doc.rollback,
    defaults: doc.defaults,
    network: doc.network,
    secrets: doc.secrets,
  };
}

/** The vars the chosen items refer to (plus one they do not), so seeds stay small but interpolate. */
function varsUsedBy(src: Source, doc: Obj): Obj {
  const used = new Set([...JSON.stringify(doc).matchAll(/\{\{\s*([A-Za-z_]\w*)\s*\}\}/g)].map((m) => m[1]!));
  const names = Object.keys(src.vars);
  if (names[0]) used.add(names[0]);
  return Object.fromEntries(names.filter((n) => used.has(n)).map((n) => [n, src.vars[n]!]));
}

/** Points monitors' and rollback steps' `item:` references at an item the seed kept (else drops them). */
function retarget(doc: Obj): void {
  const phases = doc.phases as Array<{ id: string; items: Obj[] }>;
  const key = phases.flatMap((p) => p.items.filter((i) => i.id && i.check).map((i) => `${p.id}/${i.id}`))[0];
  const fix = (entries: Obj[] | undefined) =>
    entries
      ?.filter((e) => typeof e.item !== 'string' || key !== undefined)
      .map((e) => (typeof e.item === 'string' ? { ...e, item: key! } : e));
  const monitors = doc.monitors as { checks?: Obj[] } | undefined;
  if (monitors?.checks) monitors.checks = fix(monitors.checks)!;
  if (monitors && !monitors.checks?.length) delete doc.monitors;
  const rollback = doc.rollback as { steps?: Obj[] } | undefined;
  if (rollback?.steps) rollback.steps = fix(rollback.steps)!;
  if (rollback && !rollback.steps?.length) delete doc.rollback;
}

const sources: Source[] = [
  loadSource('checklists/clientsvia.yml'),
  loadSource('checklists/convoai.yml'),
  loadSource('test/fixtures/e2e-checklists/e2e.yml'),
];

const idArb = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);

/** A small checklist close to valid: 1–2 phases of 1–2 items taken from one shipped checklist. */
const seedArb: fc.Arbitrary<Obj> = fc.constantFrom(...sources).chain((src) =>
  fc
    .record(
      {
        name: idArb,
        title: fc.string({ maxLength: 40 }),
        service: fc.constantFrom('api', 'clientsvia-api', 'e2e-api'),
        phases: fc.array(
          fc.record({
            id: idArb,
            title: fc.string({ minLength: 1, maxLength: 30 }),
            items: fc.uniqueArray(fc.nat(src.items.length - 1), { minLength: 1, maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 2 },
        ),
        withApprovals: fc.boolean(),
        withMonitors: fc.nat(4).map((n) => n === 0),
        withRollback: fc.nat(4).map((n) => n === 0),
        withDefaults: fc.boolean(),
      },
      { requiredKeys: ['name', 'service', 'phases'] },
    )
    .map((r) => {
      const doc: Obj = {
        name: r.name,
        ...(r.title !== undefined ? { title: r.title } : {}),
        service: r.service,
        vars: {},
        roles: src.roles,
        phases: r.phases.map((p) => ({
          id: p.id,
          title: p.title,
          items: p.items.map((i) => structuredClone(src.items[i]!)),
        })),
      };
      if (r.withApprovals && src.approvals) doc.approvals = structuredClone(src.approvals);
      if (r.withMonitors && src.monitors) doc.monitors = structuredClone(src.monitors);
      if (r.withRollback && src.rollback) doc.rollback = structuredClone(src.rollback);
      if (r.withDefaults && src.defaults) doc.defaults = structuredClone(src.defaults);
      if (src.network) doc.network = structuredClone(src.network);
      if (src.secrets) doc.secrets = structuredClone(src.secrets);
      doc.vars = varsUsedBy(src, doc);
      retarget(doc);
      return structuredClone(doc);
    }),
);

// ------------------------------------------------------------------------------------------------
// Mutations
// ------------------------------------------------------------------------------------------------

const SCHEMA_KEYS = [
  'name',
  'title',
  'service',
  'phases',
  'items',
  'id',
  'check',
  'manual',
  'owner',
  'type',
  'url',
  'expect',
  'status',
  'vars',
  'default',
  'roles',
  'users',
  'groups',
  'approvals',
  'required',
  'expiresIn',
  'monitors',
  'rollback',
  'steps',
  'network',
  'allowLinkLocal',
  'secrets',
  'prefix',
  'severity',
  'timeout',
  'retries',
  'count',
  'headers',
  'json',
  '__proto__',
  'constructor',
  'toString',
  '<<',
];

const unicodeArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }), // lone surrogates included
  fc.constantFrom('\u0000', '\u202e', '\ufeff', '🚀🔥', 'é', 'Ω≈ç√', '\r\n', '\t', '\u2028'),
);

/** Strings that mean something to the loader: variables, secrets, YAML and Slack syntax. */
const meaningfulStringArb = fc.oneof(
  fc.constantFrom(
    '{{baseUrl}}',
    '{{ baseUrl }}',
    '{{nope}}',
    '{{constructor}}',
    '{{__proto__}}',
    '{{toString}}',
    '{{',
    '}}',
    '{{}}',
    '{{ 1x }}',
    '${secret:TOKEN}',
    '${secret:}',
    '${secret:constructor}',
    'https://{{host}}/{{path}}',
    '<!channel>',
    '@here',
    '*a',
    '&a',
    '!!binary',
    '~',
    'null',
    '.nan',
    '0x1F',
    '1e400',
    '-0',
    '2026-01-01',
    'role:',
    '@',
    'U0123ABCD',
    'S0123ABCD',
    '<@U0123ABCD>',
    '10ms',
    '-1s',
    '99999999h',
    'http://169.254.169.254/',
  ),
  fc
    .tuple(
      fc.string({ maxLength: 8 }),
      fc.constantFrom('baseUrl', 'host', 'x', 'constructor'),
      fc.string({ maxLength: 8 }),
    )
    .map(([a, v, b]) => `${a}{{${v}}}${b}`),
);

// Sizes are modest on purpose: the YAML parser's cost grows with the text (and block-style nesting
// with its square), and 10,000 runs must fit in seconds. The fixed regressions below go far bigger.
const hugeStringArb = fc
  .tuple(fc.constantFrom('x', 'é', '{{baseUrl}}', '🚀', ' ', '\n'), fc.integer({ min: 300, max: 4_000 }))
  .map(([s, n]) => s.repeat(Math.ceil(n / s.length)));

const scalarArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 2 ** 53, -(2 ** 31), 1e308, 0.5),
  fc.string({ maxLength: 20 }),
  unicodeArb,
  meaningfulStringArb,
);

/** Arrays / objects nested `depth` deep around a value. */
const deepArb: fc.Arbitrary<Json> = fc
  .tuple(fc.integer({ min: 10, max: 80 }), fc.boolean(), scalarArb)
  .map(([depth, asArray, leaf]) => {
    let v: Json = leaf;
    for (let i = 0; i < depth; i++) v = asArray ? [v] : { k: v };
    return v;
  });

const valueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: scalarArb },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: hugeStringArb },
  { weight: 1, arbitrary: deepArb },
);

type Mutation =
  | { kind: 'set'; at: number; value: Json }
  | { kind: 'delete'; at: number }
  | { kind: 'add'; at: number; key: string; value: Json }
  | { kind: 'retype'; at: number }
  | { kind: 'wrap'; at: number; depth: number }
  | { kind: 'duplicate'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: valueArb }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.constantFrom(...SCHEMA_KEYS), fc.string({ maxLength: 12 }), unicodeArb),
    value: valueArb,
  }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('wrap' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
);

type Slot = { parent: Obj | Json[]; key: string | number };

/** Every place in the document a mutation can hit (the root is not one: it stays a mapping or is replaced whole). */
function slots(doc: Json): Slot[] {
  const out: Slot[] = [];
  const walk = (node: Json, depth: number) => {
    if (depth > 60 || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach((child, i) => {
        out.push({ parent: node, key: i });
        walk(child, depth + 1);
      });
    } else {
      for (const [k, child] of Object.entries(node)) {
        out.push({ parent: node, key: k });
        walk(child, depth + 1);
      }
    }
  };
  walk(doc, 0);
  return out;
}

function retyped(v: Json): Json {
  if (v === null) return {};
  if (typeof v === 'string') return v.length % 2 ? Number(v.length) : [v];
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'yes' : 0;
  if (Array.isArray(v)) return Object.fromEntries(v.map((x, i) => [String(i), x]));
  return Object.values(v);
}

function setAt(s: Slot, value: Json | undefined): void {
  if (Array.isArray(s.parent)) {
    if (value === undefined) s.parent.splice(s.key as number, 1);
    else s.parent[s.key as number] = value;
  } else if (value === undefined) delete s.parent[s.key as string];
  else
    Object.defineProperty(s.parent, s.key, { value, enumerable: true, writable: true, configurable: true });
}

function getAt(s: Slot): Json {
  return (s.parent as Record<string | number, Json>)[s.key]!;
}

function mutate(doc: Obj, mutations: readonly Mutation[]): Json {
  const out = structuredClone(doc) as Json;
  for (const m of mutations) {
    const all = slots(out);
    if (all.length === 0) break;
    const s = all[m.at % all.length]!;
    switch (m.kind) {
      case 'set':
        setAt(s, m.value);
        break;
      case 'delete':
        setAt(s, undefined);
        break;
      case 'add': {
        const target = getAt(s);
        if (target && typeof target === 'object' && !Array.isArray(target))
          Object.defineProperty(target, m.key, {
            value: m.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else if (Array.isArray(target)) target.push(m.value);
        else setAt(s, { [m.key]: m.value });
        break;
      }
      case 'retype':
        setAt(s, retyped(getAt(s)));
        break;
      case 'wrap': {
        let v = getAt(s);
        for (let i = 0; i < m.depth; i++) v = i % 2 ? [v] : { [String(s.key)]: v };
        setAt(s, v);
        break;
      }
      case 'duplicate': {
        if (Array.isArray(s.parent)) s.parent.push(structuredClone(getAt(s)));
        break;
      }
    }
  }
  return out;
}

type StringifyOptions = CreateNodeOptions & ToStringOptions;

const stringifyOptionsArb = fc.constantFrom<StringifyOptions>(
  {},
  { lineWidth: 0 },
  { collectionStyle: 'flow' },
  { defaultStringType: 'QUOTE_DOUBLE' },
  { defaultStringType: 'QUOTE_SINGLE', defaultKeyType: 'PLAIN' },
  { defaultStringType: 'BLOCK_LITERAL' },
  { indent: 4, indentSeq: false },
  { aliasDuplicateObjects: true, anchorPrefix: 'x' },
);

function serialise(doc: Json, options: StringifyOptions): string {
  return stringifyYaml(doc, options) ?? '';
}

const runtimeVarsArb: fc.Arbitrary<Record<string, string> | undefined> = fc.option(
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'baseUrl',
            'host',
            'httpUrl',
            'constructor',
            'toString',
            '__proto__',
            'hasOwnProperty',
          ),
          fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/),
        ),
        fc.oneof(fc.string({ maxLength: 30 }), meaningfulStringArb, unicodeArb),
      ),
      { maxLength: 3 },
    )
    // fromEntries creates own properties, `__proto__` included, as JSON.parse of a Slack payload would.
    .map((pairs) => Object.fromEntries(pairs)),
  { freq: 2 },
);

const mutantArb = fc.record({
  seed: seedArb,
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 4 }),
  options: stringifyOptionsArb,
  vars: runtimeVarsArb,
});

// ------------------------------------------------------------------------------------------------
// YAML-ish text
// ------------------------------------------------------------------------------------------------

const YAML_TOKENS = [
  ': ',
  ':',
  '- ',
  '-',
  '\n',
  '\n  ',
  '\n    ',
  '\n\t',
  '  ',
  '{',
  '}',
  '[',
  ']',
  ', ',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '<<: *a',
  '!!str ',
  '!!map ',
  '!!seq ',
  '!!binary ',
  '!!set ',
  '!!omap ',
  '!custom ',
  '!<tag:yaml.org,2002:int> ',
  "'",
  '"',
  '"\\u0000"',
  '"\\x"',
  '|\n  ',
  '>-\n  ',
  '|+\n',
  '# comment',
  '---\n',
  '...\n',
  '%YAML 1.2\n---\n',
  '%TAG ! tag:x,2000:\n',
  '? ',
  '@',
  '`',
  '~',
  '\ufeff',
  '{{baseUrl}}',
  '{{nope}}',
  '${secret:TOKEN}',
  'http://127.0.0.1/',
  'type: http',
  'manual: {owner: "@owner"}',
  'owner: U0123ABCD',
  'check:',
  'items:',
  'phases:',
  'vars:',
  'roles:',
  'name: x',
  'service: y',
  'id: a',
  'title: t',
];

const yamlishArb = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...YAML_TOKENS) },
      { weight: 2, arbitrary: fc.constantFrom(...SCHEMA_KEYS) },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
      { weight: 1, arbitrary: unicodeArb },
      { weight: 1, arbitrary: fc.integer().map(String) },
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** A valid-ish serialisation damaged as text. */
type TextEdit =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'dupLine'; at: number }
  | { kind: 'indent'; at: number; by: string }
  | { kind: 'truncate'; at: number };

const textEditArb: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...YAML_TOKENS), unicodeArb, meaningfulStringArb),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('indent' as const),
    at: fc.nat(),
    by: fc.constantFrom(' ', '\t', '   ', ''),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function edit(text: string, edits: readonly TextEdit[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length === 0 ? 0 : e.at % (t.length + 1);
    if (e.kind === 'insert') t = t.slice(0, at) + e.text + t.slice(at);
    else if (e.kind === 'cut') t = t.slice(0, at) + t.slice(at + e.length);
    else if (e.kind === 'truncate') t = t.slice(0, at);
    else {
      const lines = t.split('\n');
      const i = e.at % lines.length;
      if (e.kind === 'dupLine') lines.splice(i, 0, lines[i]!);
      else lines[i] = e.by + lines[i]!.replace(/^\s/, '');
      t = lines.join('\n');
    }
  }
  return t;
}

// ------------------------------------------------------------------------------------------------
// The properties
// ------------------------------------------------------------------------------------------------

describe('fuzz: parseChecklist only ever fails with a positioned ChecklistError', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const outcomes: Record<Outcome, number> = { valid: 0, 'checklist-error': 0, 'coded-error': 0 };
  const count = (o: Outcome) => {
    outcomes[o] += 1;
  };

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('the seeds themselves are mostly valid checklists (so the fuzz reaches past the schema)', () => {
    let valid = 0;
    const samples = fc.sample(
      mutantArb.map((m) => ({ ...m, mutations: [] })),
      { numRuns: 100, seed: 42 },
    );
    for (const m of samples) if (parseCleanly(serialise(m.seed, {})) === 'valid') valid += 1;
    expect(valid).toBeGreaterThan(50);
  });

  it('2,500 structured mutants of real checklists (wrong types, unknown keys, huge/deep/unicode values, vars)', () => {
    fc.assert(
      fc.property(mutantArb, ({ seed, mutations, options, vars }) => {
        count(parseCleanly(serialise(mutate(seed, mutations), options), vars));
      }),
      { numRuns: 2_500 },
    );
    // The mutants must exercise both sides: some still load, most are refused with positions.
    expect(outcomes.valid).toBeGreaterThan(100);
    expect(outcomes['checklist-error']).toBeGreaterThan(1_000);
  }, 120_000);

  it('1,000 serialised checklists damaged as text', () => {
    fc.assert(
      fc.property(
        mutantArb,
        fc.array(textEditArb, { minLength: 1, maxLength: 4 }),
        ({ seed, mutations, options, vars }, edits) => {
          count(parseCleanly(edit(serialise(mutate(seed, mutations), options), edits), vars));
        },
      ),
      { numRuns: 1_000 },
    );
  }, 120_000);

  it('5,000 YAML-ish token soups', () => {
    fc.assert(
      fc.property(yamlishArb, runtimeVarsArb, (text, vars) => {
        count(parseCleanly(text, vars));
      }),
      { numRuns: 5_000 },
    );
  });

  it('1,500 arbitrary unicode strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        (text) => {
          count(parseCleanly(text));
        },
      ),
      { numRuns: 1_500 },
    );
  });

  it('regressions: alias bombs, inherited-property names, deep nesting, huge and odd documents', () => {
    const manual = '{id: a, title: b, items: [{title: c, manual: {owner: U0123456}}]}';
    const bomb = [
      'a: &a [x,x,x,x,x,x,x,x,x]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
    ].join('\n');
    const cases: Array<[string, Record<string, string>?]> = [
      [bomb],
      [
        `name: x\nservice: y\nvars:\n  a: &a [1,1,1,1,1,1,1,1,1,1,1]\n  b: [${Array(120).fill('*a').join(',')}]\nphases: [${manual}]\n`,
      ],
      [
        `name: x\nservice: y\nphases: [{id: a, title: "{{constructor}}", items: [{title: c, manual: {owner: U0123456}}]}]\n`,
      ],
      [`name: x\nservice: y\nphases: [${manual}]\n`, { constructor: 'x' }],
      [`name: x\nservice: y\nphases: [${manual}]\n`, { toString: 'x' }],
      [
        `name: x\nservice: y\nphases: [${manual}]\n`,
        JSON.parse('{"__proto__": "x"}') as Record<string, string>,
      ],
      [`__proto__: {polluted: 1}\nname: x\nservice: y\nphases: [${manual}]\n`],
      [`name: x\nservice: y\nphases: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`],
      [
        `name: x\nservice: y\nphases:\n${Array.from({ length: 1_500 }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}a\n`,
      ],
      [`name: x\nservice: ${'y'.repeat(1_000_000)}\nphases: [${manual}]\n`],
      [`name: x\n${'k'.repeat(5_000)}: 1\n`],
      ['a: 1\n---\nb: 2\n'],
      ['\ufeff'],
      ['\u0000'],
      [''],
      ['!!binary aGVsbG8='],
      [`name: !!set {a, b}\nservice: !!omap [a: 1]\nphases: !!binary aGVsbG8=\n`],
      [`name: x\nservice: y\nvars: {a: {default: !!set {q}}}\nphases: [${manual}]\n`],
    ];
    for (const [text, vars] of cases) expect(() => parseCleanly(text, vars)).not.toThrow();
    // Nothing reached Object.prototype through a `__proto__` key.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // An inherited property is not a variable.
    const refused = (text: string, vars?: Record<string, string>) => {
      try {
        parseChecklist(text, { file: FILE, ...(vars ? { vars } : {}) });
        return false;
      } catch (err) {
        return err instanceof ChecklistError;
      }
    };
    expect(refused(cases[2]![0])).toBe(true);
    expect(refused(cases[3]![0], cases[3]![1])).toBe(true);
    expect(refused(bomb)).toBe(true);
  });

  it('saw no unhandled rejection', () => {
    expect(unhandled).toEqual([]);
    // The report in the test output says how the generated inputs fell.
    console.info(`parseChecklist fuzz outcomes: ${JSON.stringify(outcomes)}`);
  });
});

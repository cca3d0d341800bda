import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Document, type YAMLMap, type YAMLSeq } from 'yaml';
import { DeployCheckError, describeError, ErrorCode } from '../../errors.js';
import { parseChecklist } from '../load.js';
import { checkSpec } from '../schema.js';
import { type Guess, guessProbe, plainText } from './guess.js';
import { describeEncoding, type MisdecodedEncoding, repairMojibake } from './mojibake.js';
import { type Box, type Heading, type Outline, readOutline } from './outline.js';

/**
 * `deploy-check import`: a Markdown checklist (headings and task-list boxes) becomes checklist
 * YAML. Headings become phases, every box becomes an item in order, explicit boxes become probes
 * and the rest manual items marked TODO. Each item carries a comment naming its source line.
 */

export interface ImportOptions {
  /** The Markdown file's name: shown in errors and in every item's `# seed: file:line` comment. */
  file: string;
  /** The checklist's name (default: from the file name). */
  name?: string;
  /** The service it deploys (default: from the file name). */
  service?: string;
}

export interface NeedsAttention {
  line: number;
  title: string;
  reason: string;
}

export interface ImportSummary {
  /** Task-list boxes found; every one became an item. */
  boxes: number;
  probes: number;
  manual: number;
  needsAttention: NeedsAttention[];
}

export interface ImportResult {
  yaml: string;
  summary: ImportSummary;
  /** Mis-decoded characters repaired (see `encoding`). */
  repaired: number;
  encoding?: MisdecodedEncoding;
  warnings: string[];
}

const MAX_FILE_BYTES = 2 * 1024 * 1024;
const MAX_TITLE = 300;
const MAX_PHASE_TITLE = 200;
const OWNER_ROLE = 'owner';
const DEFAULT_PHASE = { id: 'checklist', title: 'Checklist' };

const VAR_DEFAULTS: Record<string, { default: string; description: string }> = {
  baseUrl: {
    default: 'https://example.invalid',
    description: "TODO: the service's public base URL, e.g. https://api.example.com (or --var baseUrl=…)",
  },
  host: {
    default: 'example.invalid',
    description:
      'TODO: the public host name, for the TLS, HTTP/2, redirect and port checks (or --var host=…)',
  },
  prometheusUrl: {
    default: 'https://prometheus.example.invalid',
    description: 'TODO: the Prometheus base URL the metric checks query (or --var prometheusUrl=…)',
  },
};

// ---------------------------------------------------------------------------------------------
// Reading the file.
// ---------------------------------------------------------------------------------------------

export interface DecodedMarkdown {
  text: string;
  warnings: string[];
}

function binaryError(file: string, why: string): DeployCheckError {
  return new DeployCheckError(
    ErrorCode.ImportFailed,
    `${file}: ${why}; expected a Markdown checklist (UTF-8 text)`,
  );
}

/** C0 controls other than tab, line feed, form feed and carriage return never occur in Markdown. */
function countControlBytes(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes)
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0c && b !== 0x0d) || b === 0x7f) n++;
  return n;
}

/** Notepad's "Unicode" is UTF-16 with a byte-order mark; its NUL bytes do not make it binary. */
function utf16Encoding(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

function decodeUtf16(bytes: Uint8Array, encoding: 'utf-16le' | 'utf-16be', file: string): DecodedMarkdown {
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    throw binaryError(file, 'looks like a binary file (a UTF-16 byte-order mark, then invalid UTF-16)');
  }
  if (countSuspiciousCharacters(text) > 0)
    throw binaryError(file, 'looks like a binary file (control characters)');
  return { text, warnings: [`${path.basename(file)} is UTF-16: read it as such`] };
}

/**
 * Bytes → text. NUL or control bytes mean a binary file. Bytes that are not UTF-8 but look like
 * text are read as Windows-1252, the usual encoding of such files, and the caller is told.
 */
export function decodeMarkdownBytes(bytes: Uint8Array, file: string): DecodedMarkdown {
  const utf16 = utf16Encoding(bytes);
  if (utf16) return decodeUtf16(bytes, utf16, file);
  if (bytes.includes(0)) throw binaryError(file, 'looks like a binary file (it contains NUL bytes)');
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), warnings: [] };
  } catch {
    if (countControlBytes(bytes) > 0)
      throw binaryError(file, 'looks like a binary file (not UTF-8, with control bytes)');
    return {
      text: new TextDecoder('windows-1252').decode(bytes),
      warnings: [`${path.basename(file)} is not UTF-8: read it as Windows-1252`],
    };
  }
}

/** Reads and imports a Markdown file; errors name the file. */
export function importMarkdownFile(file: string, options: Omit<ImportOptions, 'file'> = {}): ImportResult {
  let bytes: Uint8Array;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) {
      throw new DeployCheckError(ErrorCode.ImportFailed, `${file}: larger than 2 MiB; is this a checklist?`);
    }
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof DeployCheckError) throw err;
    throw new DeployCheckError(
      ErrorCode.ImportFailed,
      `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? describeError(err)})`,
      { cause: err },
    );
  }
  const decoded = decodeMarkdownBytes(bytes, file);
  const result = importMarkdown(decoded.text, { ...options, file });
  return { ...result, warnings: [...decoded.warnings, ...result.warnings] };
}

// ---------------------------------------------------------------------------------------------
// Titles and ids.
// ---------------------------------------------------------------------------------------------

const DECORATION = '[\\p{Extended_Pictographic}\\u{1F1E6}-\\u{1F1FF}\\u{FE0F}\\u{200D}\\u{20E3}\\u{F8FF}]';
const LEADING_DECORATION = new RegExp(`^(?:${DECORATION}|\\s)+`, 'u');
/**
 * "✅ COMPLETED", "⚠️ ACTION REQUIRED": emoji at the end of the line, optionally followed by
 * upper-case words ending in a status word (so "Configure 🔒 SSL" keeps its "SSL").
 */
const STATUS_WORD =
  '(?:COMPLETED?|DONE|IMPLEMENTED|IMPROVED|REQUIRED|PROGRESS|TODO|PENDING|BLOCKED|NEEDED|VERIFIED|OK|FIXED|PARTIAL|WIP|STARTED|READY|SKIPPED|FAILED|PASSED|CRITICAL)!*';
const TRAILING_STATUS = new RegExp(`(?:\\s*${DECORATION})+(?:\\s*(?:[A-Z]+\\s+)*${STATUS_WORD})?\\s*$`, 'u');

interface CleanTitle {
  title: string;
  /** The status marker removed from the end, e.g. "✅ COMPLETED". */
  status?: string;
}

function cleanTitle(markdown: string, max: number): CleanTitle {
  const plain = plainText(markdown.replace(/<!--.*?-->/g, '').replace(/<\/?[a-z][^>]*>/gi, ' '));
  const statusMatch = TRAILING_STATUS.exec(plain);
  const withoutStatus = statusMatch ? plain.slice(0, statusMatch.index) : plain;
  const title = withoutStatus.replace(LEADING_DECORATION, '').replace(/\s+/g, ' ').trim();
  const status = statusMatch?.[0].trim();
  return { title: truncate(title, max), ...(status ? { status } : {}) };
}

/** At most `max` UTF-16 units (what the schema counts), never splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '');
  return `${cut}…`;
}

function slugify(text: string, max = 48): string {
  const slug = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length <= max) return slug;
  // Cut at a word boundary when one is near, so ids do not end in half a word.
  const cut = slug.slice(0, max + 1);
  const lastDash = cut.lastIndexOf('-');
  return (lastDash > max / 2 ? cut.slice(0, lastDash) : slug.slice(0, max)).replace(/-+$/g, '');
}

/** Phase ids leave out parenthesised remarks: "Phase 1: Security Audit (CRITICAL)" → phase-1-security-audit. */
function phaseSlug(title: string): string {
  return slugify(title.replace(/\([^)]*\)/g, ' ')) || slugify(title);
}

/** Hands out ids unique within one scope: the plain slug, then with a prefix, then numbered. */
class IdAllocator {
  private readonly taken = new Set<string>();
  /** Next number to try per base, so a thousand "x" items do not each count up from 2. */
  private readonly nextNumber = new Map<string, number>();

  take(preferred: string, prefix?: string): string {
    const prefixSlug = prefix ? slugify(prefix, 24) : '';
    const candidates = [
      preferred,
      prefixSlug ? `${prefixSlug}-${preferred}`.slice(0, 60).replace(/-+$/, '') : '',
    ];
    const id = candidates.find((c) => c !== '' && !this.taken.has(c)) ?? this.numbered(preferred);
    this.taken.add(id);
    return id;
  }

  private numbered(base: string): string {
    const stem = base.slice(0, 56).replace(/-+$/, '');
    let n = this.nextNumber.get(stem) ?? 2;
    while (this.taken.has(`${stem}-${n}`)) n++;
    this.nextNumber.set(stem, n + 1);
    return `${stem}-${n}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Phases: which headings hold the boxes.
// ---------------------------------------------------------------------------------------------

interface PhasePlan {
  /** Index of the phase's heading; -1 for boxes above every heading. */
  heading: number;
  boxes: Box[];
}

/** The heading level most boxes sit directly under (ties: the shallower); deeper headings fold into it. */
function choosePhaseLevel(outline: Outline): number {
  const counts = new Map<number, number>();
  for (const box of outline.boxes) {
    const level = outline.headings[box.heading]?.level;
    if (level !== undefined) counts.set(level, (counts.get(level) ?? 0) + 1);
  }
  let best = 6;
  let bestCount = 0;
  for (const [level, count] of counts) {
    if (count > bestCount || (count === bestCount && level < best)) [best, bestCount] = [level, count];
  }
  return best;
}

/** The box's heading, or the nearest enclosing one at the phase level or above. */
function phaseHeadingOf(outline: Outline, headingIndex: number, phaseLevel: number): number {
  let h = headingIndex;
  while (h >= 0 && outline.headings[h]!.level > phaseLevel) h = outline.headings[h]!.parent;
  return h;
}

function planPhases(outline: Outline, phaseLevel: number): PhasePlan[] {
  const plans: PhasePlan[] = [];
  for (const box of outline.boxes) {
    const heading = phaseHeadingOf(outline, box.heading, phaseLevel);
    const last = plans.at(-1);
    if (last && last.heading === heading) last.boxes.push(box);
    else plans.push({ heading, boxes: [box] });
  }
  return plans;
}

/** Index of the nearest heading above `index` with a lower level: the section that contains it. */
function enclosingHeading(headings: Heading[], index: number): number {
  return headings[index]?.parent ?? -1;
}

/** Headings whose whole section has no box, outermost only (a skipped section's sub-headings go unsaid). */
function headingsWithoutBoxes(outline: Outline): Heading[] {
  const holding = new Set<number>();
  for (const box of outline.boxes) {
    for (let h = box.heading; h >= 0; h = enclosingHeading(outline.headings, h)) holding.add(h);
  }
  return outline.headings.filter((_h, i) => {
    if (holding.has(i)) return false;
    const parent = enclosingHeading(outline.headings, i);
    return parent === -1 || holding.has(parent);
  });
}

// ---------------------------------------------------------------------------------------------
// Items.
// ---------------------------------------------------------------------------------------------

type CheckObject = { type: string } & Record<string, unknown>;

interface ItemDraft {
  line: number;
  id: string;
  title: string;
  severity?: 'warning';
  check?: CheckObject;
  manual?: { owner: string; instructions?: string };
  comments: string[];
  /** Why a person must look at it, for the summary. */
  attention?: string;
}

interface PhaseDraft {
  id: string;
  title: string;
  comments: string[];
  items: ItemDraft[];
}

interface ImportContext {
  file: string;
  outline: Outline;
  phaseLevel: number;
  documentUsesMongo: boolean;
  /** Index of the heading that titles the whole document (a lone top heading above the phases), or -1. */
  titleHeading: number;
  warnings: string[];
  /** The first box under each heading: where a folded sub-heading is named. */
  firstBoxUnderHeading: Set<Box>;
  /** Notes already written once: repeating "url: a representative endpoint" on every item is noise. */
  notesShown: Set<string>;
}

const MAX_DETAIL_COMMENT_LINES = 6;
const MAX_INSTRUCTIONS = 2000;

function titlesAbove(box: Box, outline: Outline): string[] {
  const titles: string[] = [];
  for (let p = box.parent; p; p = p.parent) titles.push(cleanTitle(p.text, MAX_TITLE).title);
  for (let h = box.heading; h >= 0; h = enclosingHeading(outline.headings, h)) {
    titles.push(cleanTitle(outline.headings[h]!.text, MAX_PHASE_TITLE).title);
  }
  return titles;
}

/** Optional boxes ("CDN configured (optional)", "(if multiple instances)") should not block a deploy. */
function severityOf(title: string): 'warning' | undefined {
  return /\((?:optional|if [^)]*)\)|\boptional\b/i.test(title) ? 'warning' : undefined;
}

/** A box that groups sub-boxes is a heading in disguise: only an exact, TODO-free guess makes it a probe. */
function acceptGuess(box: Box, guess: Guess | undefined): Guess | undefined {
  if (!guess || box.childBoxes === 0) return guess;
  return guess.kind === 'probe' && guess.todo === undefined ? guess : undefined;
}

/** `{{var}}` → the default the importer declares, so a guessed check can be validated on its own. */
function withVarDefaults(check: CheckObject): unknown {
  const json = JSON.stringify(check).replace(
    /\{\{(\w+)\}\}/g,
    (whole, name: string) => VAR_DEFAULTS[name]?.default ?? whole,
  );
  return JSON.parse(json);
}

function checkProblem(check: CheckObject): string | undefined {
  const parsed = checkSpec.safeParse(withVarDefaults(check));
  if (parsed.success) return undefined;
  return parsed.error.issues.map((i) => `${i.path.join('.') || check.type}: ${i.message}`).join('; ');
}

function seedComments(box: Box, ctx: ImportContext, status: string | undefined): string[] {
  const comments = [` seed: ${path.basename(ctx.file)}:${box.line}`];
  const heading = ctx.outline.headings[box.heading];
  const firstUnderSubHeading = heading && heading.level > ctx.phaseLevel && ctx.firstBoxUnderHeading.has(box);
  if (firstUnderSubHeading) comments.push(` under "${cleanTitle(heading.text, MAX_PHASE_TITLE).title}"`);
  if (status) comments.push(` marked "${status}" in the seed`);
  if (box.checked) comments.push(' ticked [x] in the seed');
  return comments;
}

function detailComments(box: Box): string[] {
  const lines = box.details.slice(0, MAX_DETAIL_COMMENT_LINES).map((d) => `   ${truncate(d, 160)}`);
  if (box.details.length > MAX_DETAIL_COMMENT_LINES)
    lines.push(`   … ${box.details.length - MAX_DETAIL_COMMENT_LINES} more lines`);
  return lines.length > 0 ? [' seed notes:', ...lines] : [];
}

function instructionsFor(box: Box): string | undefined {
  const details = box.details.map((d) => plainText(d)).filter(Boolean);
  return details.length > 0 ? truncate(details.join('\n'), MAX_INSTRUCTIONS) : undefined;
}

function draftItem(box: Box, ids: IdAllocator, ctx: ImportContext): ItemDraft {
  const cleaned = cleanTitle(box.text, MAX_TITLE);
  const title = cleaned.title || `Untitled box (line ${box.line})`;
  if (!cleaned.title) ctx.warnings.push(`line ${box.line}: a box without text; titled "${title}"`);
  const parentTitle = box.parent ? cleanTitle(box.parent.text, MAX_TITLE).title : undefined;
  const id = ids.take(slugify(title) || `item-${box.line}`, parentTitle);
  const severity = severityOf(title);
  const comments = seedComments(box, ctx, cleaned.status);
  const guess = acceptGuess(
    box,
    guessProbe({
      text: box.text,
      details: box.details,
      context: titlesAbove(box, ctx.outline),
      documentUsesMongo: ctx.documentUsesMongo,
    }),
  );
  const base = { line: box.line, id, title, ...(severity ? { severity } : {}) };
  if (guess?.kind === 'probe') {
    const problem = checkProblem(guess.check);
    if (!problem) return probeItem(base, guess, [...comments, ...detailComments(box)], ctx.notesShown);
    ctx.warnings.push(
      `line ${box.line}: the guessed ${guess.check.type} check does not validate (${problem}); kept manual`,
    );
  }
  return manualItem(base, box, comments, guess?.kind === 'hint' ? guess.todo : undefined);
}

type ItemBase = Pick<ItemDraft, 'line' | 'id' | 'title' | 'severity'>;

function probeItem(
  base: ItemBase,
  guess: Extract<Guess, { kind: 'probe' }>,
  comments: string[],
  notesShown: Set<string>,
): ItemDraft {
  const notes = (guess.notes ?? []).filter((n) => !notesShown.has(n));
  for (const n of notes) notesShown.add(n);
  return {
    ...base,
    check: guess.check,
    comments: [
      ...comments,
      ...(guess.todo ? [` TODO: ${guess.todo}`] : []),
      ...notes.map((n) => ` note: ${n}`),
    ],
    ...(guess.todo ? { attention: guess.todo } : {}),
  };
}

function manualTodo(box: Box, hint: string | undefined): string {
  if (hint) return hint;
  if (box.childBoxes > 0)
    return `groups the ${box.childBoxes} item(s) below: tick it when they pass, or delete it`;
  return 'no probe recognised: an owner ticks it, or replace manual: with a check:';
}

function manualItem(base: ItemBase, box: Box, comments: string[], hint: string | undefined): ItemDraft {
  const instructions = instructionsFor(box);
  return {
    ...base,
    manual: { owner: `@${OWNER_ROLE}`, ...(instructions ? { instructions } : {}) },
    comments: [...comments, ` TODO: ${manualTodo(box, hint)}`],
    attention:
      hint ??
      (box.childBoxes > 0 ? manualTodo(box, hint) : 'manual: give roles.owner its users, or write a check'),
  };
}

function draftPhases(plans: PhasePlan[], ctx: ImportContext): PhaseDraft[] {
  const phaseIds = new IdAllocator();
  let lastContainer = -1;
  return plans.map((plan) => {
    const heading = ctx.outline.headings[plan.heading];
    const title = heading
      ? cleanTitle(heading.text, MAX_PHASE_TITLE).title || `Phase at line ${heading.line}`
      : DEFAULT_PHASE.title;
    const container = plan.heading >= 0 ? enclosingHeading(ctx.outline.headings, plan.heading) : -1;
    const containerTitle =
      container >= 0 ? cleanTitle(ctx.outline.headings[container]!.text, MAX_PHASE_TITLE).title : undefined;
    const id = phaseIds.take(
      heading ? phaseSlug(title) || `phase-${heading.line}` : DEFAULT_PHASE.id,
      containerTitle,
    );
    const comments = heading ? [` seed: ${path.basename(ctx.file)}:${heading.line}`] : [];
    if (containerTitle && container !== lastContainer && container !== ctx.titleHeading)
      comments.unshift(` ── ${containerTitle}`);
    lastContainer = container;
    const itemIds = new IdAllocator();
    return { id, title, comments, items: plan.boxes.map((box) => draftItem(box, itemIds, ctx)) };
  });
}

function firstBoxes(outline: Outline): Set<Box> {
  const seen = new Set<number>();
  return new Set(outline.boxes.filter((b) => !seen.has(b.heading) && seen.add(b.heading)));
}

/** A lone heading above the phase level (the document's "# Title") names the checklist, not a phase group. */
function findTitleHeading(outline: Outline, phaseLevel: number): number {
  const top = Math.min(...outline.headings.map((h) => h.level));
  const atTop = outline.headings.filter((h) => h.level === top);
  return top < phaseLevel && atTop.length === 1 ? outline.headings.indexOf(atTop[0]!) : -1;
}

// ---------------------------------------------------------------------------------------------
// YAML.
// ---------------------------------------------------------------------------------------------

function declaredVars(phases: PhaseDraft[]): Record<string, { default: string; description: string }> {
  const used = new Set<string>();
  for (const item of phases.flatMap((p) => p.items)) {
    for (const m of JSON.stringify(item.check ?? {}).matchAll(/\{\{(\w+)\}\}/g)) used.add(m[1]!);
  }
  return Object.fromEntries(Object.entries(VAR_DEFAULTS).filter(([name]) => used.has(name)));
}

function itemObject(item: ItemDraft): Record<string, unknown> {
  return {
    id: item.id,
    title: item.title,
    ...(item.severity ? { severity: item.severity } : {}),
    ...(item.check ? { check: item.check } : { manual: item.manual }),
  };
}

interface Header {
  name: string;
  title: string | undefined;
  service: string;
  file: string;
  summary: ImportSummary;
}

function headerComment(h: Header, vars: string[]): string {
  const { boxes, probes, manual } = h.summary;
  return [
    ` Imported by \`deploy-check import\` from ${path.basename(h.file)}: ${boxes} boxes, ${probes} probes, ${manual} manual.`,
    ' Every item names its source line (# seed: file:line); items marked TODO need a decision.',
    ...(vars.length > 0
      ? [` Set the vars (${vars.join(', ')}) to the real targets, or pass --var name=value.`]
      : []),
    ...(manual > 0
      ? [` Manual items are ticked by members of roles.${OWNER_ROLE}: add their Slack user ids.`]
      : []),
  ].join('\n');
}

function toYaml(h: Header, phases: PhaseDraft[]): string {
  const vars = declaredVars(phases);
  const hasManual = phases.some((p) => p.items.some((i) => i.manual));
  const doc = new Document({
    version: 1,
    name: h.name,
    ...(h.title ? { title: h.title } : {}),
    service: h.service,
    ...(Object.keys(vars).length > 0 ? { vars } : {}),
    ...(hasManual
      ? { roles: { [OWNER_ROLE]: { users: [], description: 'TODO: who ticks the imported manual items' } } }
      : {}),
    phases: phases.map((p) => ({ id: p.id, title: p.title, items: p.items.map(itemObject) })),
  });
  doc.commentBefore = headerComment(h, Object.keys(vars));
  const phaseNodes = (doc.get('phases', true) as YAMLSeq).items as YAMLMap[];
  phases.forEach((phase, pi) => {
    const phaseNode = phaseNodes[pi]!;
    if (phase.comments.length > 0) phaseNode.commentBefore = phase.comments.join('\n');
    const itemNodes = (phaseNode.get('items', true) as unknown as YAMLSeq).items as YAMLMap[];
    phase.items.forEach((item, ii) => {
      itemNodes[ii]!.commentBefore = item.comments.join('\n');
    });
  });
  return doc.toString({ lineWidth: 0 });
}

// ---------------------------------------------------------------------------------------------
// The import.
// ---------------------------------------------------------------------------------------------

function normaliseText(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/** Characters Markdown never holds: C0 controls (bar tab, line feed, form feed, CR), DEL, U+FFFD. */
function countSuspiciousCharacters(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f || c === 0xfffd) n++;
  }
  return n;
}

/** Text that was binary before it was decoded: NUL, other control characters, or lost bytes (U+FFFD). */
function checkIsText(text: string, file: string, warnings: string[]): void {
  if (text.includes('\0')) throw binaryError(file, 'looks like a binary file (it contains NUL characters)');
  const suspicious = countSuspiciousCharacters(text);
  if (suspicious === 0) return;
  if (suspicious > Math.max(3, text.length / 200)) {
    throw binaryError(
      file,
      `looks like a binary file or invalid UTF-8 (${suspicious} control or replacement characters)`,
    );
  }
  warnings.push(
    `${suspicious} control or replacement character(s) (U+FFFD) in the text: some bytes were not valid UTF-8`,
  );
}

function noBoxesError(file: string, outline: Outline): DeployCheckError {
  const found =
    outline.headings.length + outline.looseListItems > 0
      ? ` (found ${outline.headings.length} heading(s) and ${outline.looseListItems} plain list item(s); only task-list items like "- [ ] Health endpoint responding" are imported)`
      : '';
  return new DeployCheckError(ErrorCode.ImportFailed, `${file}: no task-list boxes (- [ ]) found${found}`);
}

const NAME_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

function checklistName(options: ImportOptions): string {
  if (options.name !== undefined) {
    if (!NAME_PATTERN.test(options.name) || options.name.length > 64) {
      throw new DeployCheckError(
        ErrorCode.Usage,
        `--name "${options.name}": expected lower-case letters, digits and dashes (e.g. "api-release")`,
      );
    }
    return options.name;
  }
  const base = path.basename(options.file).replace(/\.[^.]*$/, '');
  return slugify(base, 64) || 'imported-checklist';
}

/** "clientsvia-production-checklist" → "clientsvia": the words every checklist file name has are dropped. */
function serviceName(options: ImportOptions, name: string): string {
  if (options.service !== undefined && options.service.trim() !== '') return options.service.trim();
  const words = name
    .split('-')
    .filter((w) => !/^(production|prod|deployment|deploy|release|checklist|list|launch)$/.test(w));
  return words.join('-') || name;
}

function summarise(phases: PhaseDraft[]): ImportSummary {
  const items = phases.flatMap((p) => p.items);
  return {
    boxes: items.length,
    probes: items.filter((i) => i.check).length,
    manual: items.filter((i) => i.manual).length,
    needsAttention: items
      .filter((i) => i.attention !== undefined)
      .map((i) => ({ line: i.line, title: i.title, reason: i.attention! })),
  };
}

function structureWarnings(outline: Outline, phases: PhaseDraft[]): string[] {
  const warnings: string[] = [];
  const skipped = headingsWithoutBoxes(outline);
  if (skipped.length > 0) {
    const listed = skipped.slice(0, 12).map((h) => `"${cleanTitle(h.text, 60).title}" (line ${h.line})`);
    const more = skipped.length > 12 ? `, and ${skipped.length - 12} more` : '';
    warnings.push(`skipped ${skipped.length} heading(s) without boxes: ${listed.join(', ')}${more}`);
  }
  const envProbes = phases.flatMap((p) => p.items).filter((i) => i.check?.type === 'env').length;
  if (envProbes > 0) {
    warnings.push(
      `${envProbes} env check(s) read the runner's own environment (source: { process: true }): point them at the deployment's variables`,
    );
  }
  return warnings;
}

/** Parses the generated YAML as `deploy-check run` would: output that does not validate is our bug. */
function assertValid(yaml: string, file: string): void {
  try {
    parseChecklist(yaml, { file: `${path.basename(file)} (imported)` });
  } catch (err) {
    throw new DeployCheckError(
      ErrorCode.ImportFailed,
      `${file}: the imported checklist does not validate — a bug in deploy-check import, please report it:\n${describeError(err)}`,
      { cause: err },
    );
  }
}

/**
 * Markdown checklist → checklist YAML with a summary. Throws `DeployCheckError(ImportFailed)` for
 * input that holds no boxes or is not text, and `Usage` for an invalid `name`.
 */
export function importMarkdown(text: string, options: ImportOptions): ImportResult {
  const warnings: string[] = [];
  checkIsText(text, options.file, warnings);
  const repair = repairMojibake(normaliseText(text));
  if (repair.encoding) {
    warnings.unshift(
      `repaired ${repair.repaired} mis-decoded characters (UTF-8 read as ${describeEncoding(repair.encoding)})`,
    );
  }
  const outline = readOutline(repair.text);
  if (outline.boxes.length === 0) throw noBoxesError(options.file, outline);

  const phaseLevel = choosePhaseLevel(outline);
  const titleHeading = findTitleHeading(outline, phaseLevel);
  const ctx: ImportContext = {
    file: options.file,
    outline,
    phaseLevel,
    documentUsesMongo: /\bmongo(?:db)?\b/i.test(repair.text),
    titleHeading,
    warnings: [],
    notesShown: new Set(),
    firstBoxUnderHeading: firstBoxes(outline),
  };
  const phases = draftPhases(planPhases(outline, phaseLevel), ctx);
  const summary = summarise(phases);
  const name = checklistName(options);
  const titleText =
    titleHeading >= 0 ? cleanTitle(outline.headings[titleHeading]!.text, MAX_PHASE_TITLE).title : '';
  const yaml = toYaml(
    { name, title: titleText || undefined, service: serviceName(options, name), file: options.file, summary },
    phases,
  );
  assertValid(yaml, options.file);
  return {
    yaml,
    summary,
    repaired: repair.repaired,
    ...(repair.encoding ? { encoding: repair.encoding } : {}),
    warnings: [...warnings, ...structureWarnings(outline, phases), ...ctx.warnings],
  };
}

/**
 * The report `deploy-check import` prints: counts, warnings, then what needs attention. Probes
 * with a TODO are listed one by one; plain manual items only counted, there are usually many.
 */
export function formatImportSummary(result: ImportResult, file: string): string {
  const { boxes, probes, manual, needsAttention } = result.summary;
  const lines = [`${path.basename(file)}: ${boxes} boxes → ${probes} probes, ${manual} manual`];
  for (const w of result.warnings) lines.push(`  warning: ${w}`);
  const plainManual = needsAttention.filter((n) => n.reason.startsWith('manual:')).length;
  const specific = needsAttention.filter((n) => !n.reason.startsWith('manual:'));
  if (specific.length > 0) {
    lines.push(`needs attention (${specific.length}):`);
    for (const n of specific) lines.push(`  line ${n.line}: ${n.title} — ${n.reason}`);
  }
  if (plainManual > 0) {
    lines.push(
      `${plainManual} manual item(s) with no probe: give roles.${OWNER_ROLE} its users, or write checks`,
    );
  }
  return lines.join('\n');
}

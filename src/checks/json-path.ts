/**
 * A deliberately small JSON-path subset for response assertions: `$`, `.key`, `['key']` / `["key"]`,
 * `[0]` (negative counts from the end), and `[*]` / `.*` (every element or property). No filters,
 * no recursive descent: checklists name one field, and a small grammar gives precise error messages.
 */
export type PathSegment =
  | { kind: 'key'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' };

export class JsonPathError extends Error {
  override name = 'JsonPathError';
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*/;

/** Parses a path such as `$.items[0]['full name']`; throws JsonPathError naming the offending position. */
export function parseJsonPath(path: string): PathSegment[] {
  if (!path.startsWith('$')) throw new JsonPathError(`JSON path must start with "$": ${path}`);
  const segments: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const parsed =
      path[i] === '.' ? parseDotted(path, i) : path[i] === '[' ? parseBracket(path, i) : undefined;
    if (!parsed) throw new JsonPathError(`unexpected "${path[i]}" at position ${i} in JSON path ${path}`);
    segments.push(parsed.segment);
    i = parsed.next;
  }
  return segments;
}

function parseDotted(path: string, at: number): { segment: PathSegment; next: number } {
  if (path[at + 1] === '*') return { segment: { kind: 'wildcard' }, next: at + 2 };
  const m = IDENTIFIER.exec(path.slice(at + 1));
  if (!m) throw new JsonPathError(`expected a key after "." at position ${at} in JSON path ${path}`);
  return { segment: { kind: 'key', key: m[0] }, next: at + 1 + m[0].length };
}

function parseBracket(path: string, at: number): { segment: PathSegment; next: number } {
  const rest = path.slice(at);
  const simple = /^\[(\*|-?\d+)\]/.exec(rest);
  if (simple) {
    const token = simple[1]!;
    const segment: PathSegment =
      token === '*' ? { kind: 'wildcard' } : { kind: 'index', index: Number(token) };
    return { segment, next: at + simple[0].length };
  }
  const quote = path[at + 1];
  if (quote !== "'" && quote !== '"') {
    throw new JsonPathError(
      `expected a number, * or a quoted key after "[" at position ${at} in JSON path ${path}`,
    );
  }
  let key = '';
  let i = at + 2;
  while (i < path.length && path[i] !== quote) {
    if (path[i] === '\\' && i + 1 < path.length) i += 1;
    key += path[i];
    i += 1;
  }
  if (path[i] !== quote || path[i + 1] !== ']') {
    throw new JsonPathError(`unterminated ${quote}…${quote}] at position ${at} in JSON path ${path}`);
  }
  return { segment: { kind: 'key', key }, next: i + 2 };
}

/** Every value the path selects; empty when nothing matches (a missing key is not an error). */
export function evaluateJsonPath(doc: unknown, segments: readonly PathSegment[]): unknown[] {
  let current: unknown[] = [doc];
  for (const segment of segments) {
    current = current.flatMap((value) => step(value, segment));
  }
  return current;
}

function step(value: unknown, segment: PathSegment): unknown[] {
  if (segment.kind === 'wildcard') {
    if (Array.isArray(value)) return value;
    if (isPlainObject(value)) return Object.values(value);
    return [];
  }
  if (segment.kind === 'index') {
    if (!Array.isArray(value)) return [];
    const i = segment.index < 0 ? value.length + segment.index : segment.index;
    return i >= 0 && i < value.length ? [value[i]] : [];
  }
  if (isPlainObject(value) && Object.hasOwn(value, segment.key)) return [value[segment.key]];
  return [];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality for JSON values (key order does not matter). */
export function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEquals(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k], b[k]))
    );
  }
  return false;
}

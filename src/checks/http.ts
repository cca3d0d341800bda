import { z } from 'zod';
import { describeError } from '../errors.js';
import { duration } from './duration.js';
import { type HttpCallResult, headerValue, httpCall } from './http-util.js';
import { evaluateJsonPath, JsonPathError, jsonEquals, parseJsonPath } from './json-path.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

// ---------------------------------------------------------------------------------------------
// Shared by the HTTP-family probes (redirect, headers, compression, exposed, rate-limit).
// ---------------------------------------------------------------------------------------------

/**
 * An http(s) URL. Values still holding `{{var}}` / `${secret:…}` placeholders are let through so the
 * checklist can be validated before substitution; the probe re-checks the final URL.
 */
export const httpUrl = z
  .string()
  .min(1)
  .refine((v) => hasPlaceholder(v) || parseHttpUrl(v) !== undefined, {
    message: 'expected an http:// or https:// URL',
  });

function hasPlaceholder(v: string): boolean {
  return v.includes('{{') || v.includes('${');
}

export function parseHttpUrl(v: string): URL | undefined {
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A regular expression source, compiled at validation time so a typo is a checklist error, not a run-time one. */
export const regexSource = z.string().refine(
  (v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);

export const httpMethod = z
  .enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
  .meta({ description: 'HTTP method.' });

/** How one header value is judged: a string means "exactly this". */
export const headerMatcher = z.union([
  z.string().meta({ description: 'The exact value (surrounding whitespace ignored).' }),
  z
    .strictObject({
      contains: z.string().optional().meta({ description: 'The value contains this (case-insensitive).' }),
      matches: regexSource.optional().meta({ description: 'The value matches this regular expression.' }),
      absent: z.literal(true).optional().meta({ description: 'The header must not be sent at all.' }),
    })
    .meta({ description: 'A looser test of the value, or `absent: true`.' }),
]);
export type HeaderMatcher = z.infer<typeof headerMatcher>;

// Never echo values of these: they carry credentials or session identifiers.
const SENSITIVE_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie)$|token|secret|api[-_]?key|session|auth/i;

export function isSensitiveHeader(name: string): boolean {
  return SENSITIVE_HEADER.test(name);
}

export function truncate(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A header value fit for a report: quoted, truncated, or withheld when it could be a secret. */
export function showHeader(name: string, value: string | undefined): string {
  if (value === undefined) return 'absent';
  return isSensitiveHeader(name) ? '(value withheld)' : JSON.stringify(truncate(value, 60));
}

/** Undefined when the header satisfies the matcher, else why not (with the observed value, made safe). */
export function checkHeader(
  name: string,
  value: string | undefined,
  matcher: HeaderMatcher,
): string | undefined {
  if (typeof matcher === 'string') {
    if (value === undefined) return `${name} missing (expected ${JSON.stringify(matcher)})`;
    return value.trim() === matcher.trim()
      ? undefined
      : `${name} is ${showHeader(name, value)}, expected ${JSON.stringify(matcher)}`;
  }
  if (matcher.absent)
    return value === undefined
      ? undefined
      : `${name} is present (${showHeader(name, value)}), expected absent`;
  if (value === undefined) return `${name} missing`;
  if (matcher.contains !== undefined && !value.toLowerCase().includes(matcher.contains.toLowerCase())) {
    return `${name} is ${showHeader(name, value)}, expected it to contain ${JSON.stringify(matcher.contains)}`;
  }
  if (matcher.matches !== undefined && !new RegExp(matcher.matches).test(value)) {
    return `${name} is ${showHeader(name, value)}, expected it to match /${matcher.matches}/`;
  }
  return undefined;
}

function errorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const own = (err as { code?: unknown }).code;
  if (typeof own === 'string') return own;
  const cause = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof cause === 'string' ? cause : undefined;
}

function hostPort(url: string): string {
  const parsed = parseHttpUrl(url);
  if (!parsed) return url;
  return parsed.port ? parsed.host : `${parsed.hostname}:${parsed.protocol === 'https:' ? 443 : 80}`;
}

/** A one-line reason an HTTP request produced no usable response, in the operator's terms. */
export function describeRequestError(
  err: unknown,
  url: string,
  ctx: Pick<CheckContext, 'signal' | 'timeoutMs'>,
): string {
  if (ctx.signal.aborted) {
    const reason = ctx.signal.reason as { name?: string } | undefined;
    return reason?.name === 'TimeoutError' ? `timed out after ${ctx.timeoutMs} ms` : 'cancelled';
  }
  const target = hostPort(url);
  const host = parseHttpUrl(url)?.hostname ?? url;
  switch (errorCode(err)) {
    case 'address_refused':
      return (err as Error).message;
    case 'ECONNREFUSED':
      return `connection refused to ${target}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NODATA':
      return `DNS lookup failed for ${host}`;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `connection to ${target} closed before a complete response`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connecting to ${target} timed out`;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no response headers from ${target} in time`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `response body from ${target} stalled`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${target}`;
    case 'CERT_HAS_EXPIRED':
      return `certificate of ${host} has expired`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return `certificate of ${host} is self-signed and not trusted`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `certificate chain of ${host} is incomplete or from an untrusted issuer`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `certificate does not cover ${host}`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `TLS handshake with ${target} failed (does it speak plain HTTP?)`;
    default:
      return describeError(err);
  }
}

/** Performs one request; a transport failure becomes a `{ error }` reason instead of a throw. */
export async function tryHttpCall(
  url: string,
  ctx: CheckContext,
  options: { method?: string; headers?: Record<string, string>; body?: string; maxBodyBytes?: number } = {},
): Promise<{ res: HttpCallResult; error?: undefined } | { res?: undefined; error: string }> {
  if (hasPlaceholder(url)) return { error: `URL still holds a placeholder: ${truncate(url)}` };
  if (!parseHttpUrl(url)) return { error: `not an http(s) URL: ${truncate(url)}` };
  try {
    return { res: await httpCall(url, { ...options, dispatcher: ctx.dispatcher, signal: ctx.signal }) };
  } catch (err) {
    return { error: describeRequestError(err, url, ctx) };
  }
}

export function errorOutcome(expected: string, detail: string, observed = 'no response'): CheckOutcome {
  return { status: 'error', observed, expected, detail };
}

/** "301 → https://x/" for redirects, otherwise just the status. */
export function statusLine(res: HttpCallResult, base: string): string {
  const location = headerValue(res.headers, 'location');
  if (res.status >= 300 && res.status < 400 && location)
    return `${res.status} → ${resolveLocation(location, base)}`;
  return String(res.status);
}

export function resolveLocation(location: string, base: string): string {
  try {
    return new URL(location, base).href;
  } catch {
    return location;
  }
}

// ---------------------------------------------------------------------------------------------
// Status specs: 200, [200, 204], "2xx", ["2xx", 304].
// ---------------------------------------------------------------------------------------------

const statusCode = z.number().int().min(100).max(599);
const statusClass = z.string().regex(/^[1-5][xX]{2}$/, 'expected a status class like "2xx"');
const statusItem = z.union([statusCode, statusClass]);
export const statusSpec = z
  .union([statusItem, z.array(statusItem).min(1)])
  .meta({ description: 'Acceptable status: a code (200), a class ("2xx"), or a list of either.' });
export type StatusSpec = z.infer<typeof statusSpec>;

export function statusMatches(spec: StatusSpec, status: number): boolean {
  const items = Array.isArray(spec) ? spec : [spec];
  return items.some((item) =>
    typeof item === 'number' ? item === status : Math.floor(status / 100) === Number(item[0]),
  );
}

export function describeStatus(spec: StatusSpec): string {
  const items = (Array.isArray(spec) ? spec : [spec]).map((s) => String(s).toLowerCase());
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

// ---------------------------------------------------------------------------------------------
// The http probe.
// ---------------------------------------------------------------------------------------------

const jsonPath = z.string().superRefine((v, ctx) => {
  try {
    parseJsonPath(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof JsonPathError ? err.message : String(err) });
  }
});

const jsonAssertion = z
  .strictObject({
    path: jsonPath.meta({
      description: "Which value: `$`, `.key`, `['key']`, `[0]`, `[*]` (every element must pass).",
    }),
    equals: z.unknown().optional().meta({ description: 'The value equals this JSON value.' }),
    notEquals: z.unknown().optional().meta({ description: 'The value differs from this JSON value.' }),
    matches: regexSource
      .optional()
      .meta({ description: 'The value (as text) matches this regular expression.' }),
    exists: z
      .boolean()
      .optional()
      .meta({ description: 'true: the path selects something; false: it selects nothing.' }),
    gt: z.number().optional().meta({ description: 'The value is a number greater than this.' }),
    gte: z.number().optional().meta({ description: 'The value is a number at least this.' }),
    lt: z.number().optional().meta({ description: 'The value is a number less than this.' }),
    lte: z.number().optional().meta({ description: 'The value is a number at most this.' }),
  })
  .meta({ description: 'One assertion on the JSON body. With only `path`, the value must exist.' });
type JsonAssertion = z.infer<typeof jsonAssertion>;

const bodyAssertion = z
  .strictObject({
    contains: z.string().optional().meta({ description: 'The body contains this text.' }),
    notContains: z.string().optional().meta({ description: 'The body does not contain this text.' }),
    matches: regexSource.optional().meta({ description: 'The body matches this regular expression.' }),
  })
  .meta({ description: 'Assertions on the body as text.' });
type BodyAssertion = z.infer<typeof bodyAssertion>;

const expectSpec = z
  .strictObject({
    status: statusSpec.default('2xx'),
    headers: z.record(z.string(), headerMatcher).optional().meta({
      description: 'Response headers by name: an exact value, or { contains | matches | absent: true }.',
    }),
    json: z.array(jsonAssertion).optional().meta({ description: 'Assertions on the JSON body, in order.' }),
    body: bodyAssertion.optional(),
    maxMs: duration.optional().meta({
      description: 'Warn when the full response takes longer than this (latency gates belong to `latency`).',
    }),
  })
  .meta({ description: 'What the response must look like (default: a 2xx status).' });
type ExpectSpec = z.infer<typeof expectSpec>;

const params = z
  .strictObject({
    url: httpUrl.meta({ description: 'The URL to request. Redirects are not followed.' }),
    method: httpMethod.default('GET'),
    headers: z.record(z.string(), z.string()).optional().meta({ description: 'Request headers.' }),
    body: z.string().optional().meta({ description: 'Request body as text.' }),
    json: z.unknown().optional().meta({ description: 'Request body sent as JSON (sets Content-Type).' }),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .meta({ description: 'Read at most this many bytes of the response body (default 1 MiB).' }),
    expect: expectSpec.default({ status: '2xx' }),
  })
  .refine((p) => p.body === undefined || p.json === undefined, {
    message: 'give either body or json, not both',
  });
type Params = z.infer<typeof params>;

/** A failed assertion: what was seen and what was wanted, for observed/expected/detail. */
interface Failure {
  observed: string;
  expected: string;
  detail: string;
}

function requestInit(p: Params): { method: string; headers: Record<string, string>; body?: string } {
  const headers = { ...(p.headers ?? {}) };
  if (p.json === undefined)
    return { method: p.method, headers, ...(p.body !== undefined ? { body: p.body } : {}) };
  const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
  if (!hasType) headers['content-type'] = 'application/json';
  return { method: p.method, headers, body: JSON.stringify(p.json) };
}

function checkStatus(spec: StatusSpec, res: HttpCallResult, url: string): Failure | undefined {
  if (statusMatches(spec, res.status)) return undefined;
  const observed = statusLine(res, url);
  const redirected = observed.includes('→') ? ' (redirects are not followed)' : '';
  return {
    observed,
    expected: `status ${describeStatus(spec)}`,
    detail: `status was ${observed}${redirected}`,
  };
}

function checkHeaders(spec: ExpectSpec['headers'], res: HttpCallResult): Failure | undefined {
  for (const [name, matcher] of Object.entries(spec ?? {})) {
    const value = headerValue(res.headers, name);
    const problem = checkHeader(name, value, matcher);
    if (problem) {
      return {
        observed: `${name}: ${showHeader(name, value)}`,
        expected: describeMatcher(name, matcher),
        detail: problem,
      };
    }
  }
  return undefined;
}

function describeMatcher(name: string, m: HeaderMatcher): string {
  if (typeof m === 'string') return `${name}: ${JSON.stringify(m)}`;
  if (m.absent) return `no ${name}`;
  const parts = [
    m.contains !== undefined ? `contains ${JSON.stringify(m.contains)}` : '',
    m.matches !== undefined ? `matches /${m.matches}/` : '',
  ].filter(Boolean);
  return parts.length ? `${name} ${parts.join(' and ')}` : `${name} present`;
}

function checkBody(spec: BodyAssertion | undefined, res: HttpCallResult): Failure | undefined {
  if (!spec) return undefined;
  const text = res.body.toString('utf8');
  const partial = res.bodyTruncated ? ` (only the first ${res.body.length} bytes were read)` : '';
  const snippet = JSON.stringify(truncate(text, 60));
  if (spec.contains !== undefined && !text.includes(spec.contains)) {
    const expected = `body contains ${JSON.stringify(spec.contains)}`;
    return {
      observed: `body ${snippet}`,
      expected,
      detail: `body does not contain ${JSON.stringify(spec.contains)}${partial}`,
    };
  }
  if (spec.notContains !== undefined && text.includes(spec.notContains)) {
    const expected = `body without ${JSON.stringify(spec.notContains)}`;
    return {
      observed: `body ${snippet}`,
      expected,
      detail: `body contains ${JSON.stringify(spec.notContains)}`,
    };
  }
  if (spec.matches !== undefined && !new RegExp(spec.matches).test(text)) {
    const expected = `body matches /${spec.matches}/`;
    return {
      observed: `body ${snippet}`,
      expected,
      detail: `body does not match /${spec.matches}/${partial}`,
    };
  }
  return undefined;
}

function checkJson(assertions: JsonAssertion[] | undefined, res: HttpCallResult): Failure | undefined {
  if (!assertions?.length) return undefined;
  const text = res.body.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const why = res.bodyTruncated
      ? `body is larger than maxBodyBytes (${res.body.length} bytes read), so it could not be parsed as JSON`
      : `body is not JSON (${err instanceof Error ? err.message : String(err)})`;
    const observed = text.length ? `body ${JSON.stringify(truncate(text, 60))}` : 'empty body';
    return { observed, expected: 'a JSON body', detail: why };
  }
  for (const assertion of assertions) {
    const failure = checkJsonAssertion(assertion, doc);
    if (failure) return failure;
  }
  return undefined;
}

function showJson(value: unknown): string {
  return value === undefined ? 'undefined' : truncate(JSON.stringify(value), 60);
}

function describeJsonAssertion(a: JsonAssertion): string {
  const parts: string[] = [];
  if (a.equals !== undefined) parts.push(`equals ${showJson(a.equals)}`);
  if (a.notEquals !== undefined) parts.push(`not ${showJson(a.notEquals)}`);
  if (a.matches !== undefined) parts.push(`matches /${a.matches}/`);
  for (const [op, sym] of [
    ['gt', '>'],
    ['gte', '≥'],
    ['lt', '<'],
    ['lte', '≤'],
  ] as const) {
    if (a[op] !== undefined) parts.push(`${sym} ${a[op]}`);
  }
  if (a.exists === false) return `${a.path} absent`;
  return parts.length ? `${a.path} ${parts.join(', ')}` : `${a.path} exists`;
}

function checkJsonAssertion(a: JsonAssertion, doc: unknown): Failure | undefined {
  const values = evaluateJsonPath(doc, parseJsonPath(a.path));
  const expected = describeJsonAssertion(a);
  if (a.exists === false) {
    if (values.length === 0) return undefined;
    return {
      observed: `${a.path} = ${showJson(values[0])}`,
      expected,
      detail: `${a.path} exists but should not`,
    };
  }
  if (values.length === 0) return { observed: `${a.path} missing`, expected, detail: `nothing at ${a.path}` };
  for (const value of values) {
    const problem = valueProblem(a, value);
    if (problem)
      return { observed: `${a.path} = ${showJson(value)}`, expected, detail: `${a.path} ${problem}` };
  }
  return undefined;
}

/** Why one selected value fails the assertion, or undefined. */
function valueProblem(a: JsonAssertion, value: unknown): string | undefined {
  if (a.equals !== undefined && !jsonEquals(value, a.equals))
    return `is ${showJson(value)}, expected ${showJson(a.equals)}`;
  if (a.notEquals !== undefined && jsonEquals(value, a.notEquals))
    return `is ${showJson(value)}, expected anything else`;
  if (a.matches !== undefined) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (!new RegExp(a.matches).test(text)) return `is ${showJson(value)}, expected to match /${a.matches}/`;
  }
  const bounds = [a.gt, a.gte, a.lt, a.lte].some((b) => b !== undefined);
  if (!bounds) return undefined;
  if (typeof value !== 'number') return `is ${showJson(value)}, not a number`;
  if (a.gt !== undefined && !(value > a.gt)) return `is ${value}, expected > ${a.gt}`;
  if (a.gte !== undefined && !(value >= a.gte)) return `is ${value}, expected ≥ ${a.gte}`;
  if (a.lt !== undefined && !(value < a.lt)) return `is ${value}, expected < ${a.lt}`;
  if (a.lte !== undefined && !(value <= a.lte)) return `is ${value}, expected ≤ ${a.lte}`;
  return undefined;
}

function describeExpectations(e: ExpectSpec): string {
  const parts = [`status ${describeStatus(e.status)}`];
  const headers = Object.keys(e.headers ?? {}).length;
  if (headers) parts.push(`${headers} header check${headers > 1 ? 's' : ''}`);
  const body = Object.values(e.body ?? {}).filter((v) => v !== undefined).length;
  if (body) parts.push(`${body} body check${body > 1 ? 's' : ''}`);
  const json = e.json?.length ?? 0;
  if (json) parts.push(`${json} JSON assertion${json > 1 ? 's' : ''}`);
  return parts.join(', ');
}

export default defineCheck({
  type: 'http',
  summary:
    'Sends one HTTP request (redirects are not followed) and asserts on the status, headers, body text and JSON fields.',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx) {
    const expected = describeExpectations(p.expect);
    const { res, error } = await tryHttpCall(p.url, ctx, { ...requestInit(p), maxBodyBytes: p.maxBodyBytes });
    if (!res) return errorOutcome(expected, error);
    const metrics = {
      status: res.status,
      ttfbMs: round(res.ttfbMs),
      totalMs: round(res.totalMs),
      bodyBytes: res.body.length,
    };
    const failure =
      checkStatus(p.expect.status, res, p.url) ??
      checkHeaders(p.expect.headers, res) ??
      checkBody(p.expect.body, res) ??
      checkJson(p.expect.json, res);
    if (failure) return fail(failure.observed, failure.expected, failure.detail, metrics);
    const observed = `${statusLine(res, p.url)} in ${round(res.totalMs)} ms`;
    if (p.expect.maxMs !== undefined && res.totalMs > p.expect.maxMs) {
      const detail = `response took ${round(res.totalMs)} ms, over maxMs ${p.expect.maxMs} ms`;
      return {
        status: 'warn',
        observed,
        expected: `${expected} within ${p.expect.maxMs} ms`,
        detail,
        metrics,
      };
    }
    return pass(observed, expected, '', metrics);
  },
});

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

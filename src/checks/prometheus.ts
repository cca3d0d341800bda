import { z } from 'zod';
import { describeError } from '../errors.js';
import { httpUrl } from './env-sources.js';
import { httpCall } from './http-util.js';
import type { CheckContext, CheckOutcome } from './types.js';
import { defineCheck, fail, pass } from './types.js';

/**
 * An instant PromQL query whose value(s) must sit within a threshold: "error rate below 0.1 %
 * since the deploy", "all replicas up". Range vectors are refused: a threshold over a matrix
 * has no single meaning.
 */

const threshold = z
  .object({
    lt: z.number().optional(),
    lte: z.number().optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    eq: z.number().optional(),
  })
  .strict()
  .refine((t) => Object.values(t).some((v) => v !== undefined), 'give at least one of lt, lte, gt, gte, eq')
  .meta({ description: 'Bounds every value must satisfy (all given bounds apply): lt, lte, gt, gte, eq.' });

type Threshold = z.infer<typeof threshold>;

const params = z
  .object({
    url: httpUrl.meta({ description: 'Prometheus base URL (the query goes to {url}/api/v1/query).' }),
    query: z
      .string()
      .min(1)
      .meta({ description: 'PromQL instant query; its result must be a vector or a scalar.' }),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Request headers, e.g. Authorization for a managed Prometheus. Never printed.' }),
    threshold,
    aggregate: z.enum(['all', 'max', 'min', 'avg']).default('all').meta({
      description: 'all: every series must satisfy the threshold; max/min/avg: that aggregate must.',
    }),
    emptyResult: z
      .enum(['fail', 'pass', 'error'])
      .default('fail')
      .meta({ description: 'Outcome when the query returns no series (default fail).' }),
  })
  .strict();

interface Sample {
  labels: string;
  value: number;
}

const OPS: Array<[keyof Threshold, string, (v: number, bound: number) => boolean]> = [
  ['lt', '<', (v, b) => v < b],
  ['lte', '≤', (v, b) => v <= b],
  ['gt', '>', (v, b) => v > b],
  ['gte', '≥', (v, b) => v >= b],
  ['eq', '=', (v, b) => v === b],
];

export function describeThreshold(t: Threshold): string {
  return OPS.filter(([k]) => t[k] !== undefined)
    .map(([k, sym]) => `${sym} ${t[k]}`)
    .join(' and ');
}

export function satisfies(value: number, t: Threshold): boolean {
  return OPS.every(([k, , ok]) => t[k] === undefined || ok(value, t[k]));
}

/** Prometheus sends sample values as strings, including "NaN", "+Inf" and "-Inf". */
export function parseSampleValue(text: unknown): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return typeof text === 'string' && text.trim() !== '' ? Number(text) : Number.NaN;
}

const MAX_LABELS_CHARS = 80;

function formatLabels(metric: Record<string, unknown> | undefined): string {
  if (!metric) return '';
  const name = typeof metric.__name__ === 'string' ? metric.__name__ : '';
  const pairs = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  const text = pairs || name;
  return text.length > MAX_LABELS_CHARS ? `${text.slice(0, MAX_LABELS_CHARS - 1)}…` : text;
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

const formatSample = (s: Sample) =>
  s.labels ? `${formatValue(s.value)} (${s.labels})` : formatValue(s.value);

class QueryError extends Error {}

const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Runs the query and returns its samples, or throws a QueryError with a one-line reason. */
async function query(p: z.infer<typeof params>, ctx: CheckContext): Promise<Sample[]> {
  if (!/^https?:\/\//.test(p.url) || !URL.canParse(p.url)) throw new QueryError('url is not an http(s) URL');
  const url = `${p.url.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(p.query)}`;
  let res: Awaited<ReturnType<typeof httpCall>>;
  try {
    res = await httpCall(url, {
      headers: { accept: 'application/json', ...p.headers },
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
      maxBodyBytes: MAX_BODY_BYTES,
    });
  } catch (err) {
    throw new QueryError(`Prometheus unreachable: ${abortAwareReason(err, ctx)}`);
  }
  if (res.status === 401 || res.status === 403)
    throw new QueryError(`Prometheus answered ${res.status}: check headers`);
  if (res.bodyTruncated) throw new QueryError(`Prometheus answered more than ${MAX_BODY_BYTES} bytes`);
  let body: {
    status?: unknown;
    error?: unknown;
    errorType?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new QueryError(
      `Prometheus answered HTTP ${res.status} without a JSON body (is ${p.url} the API base URL?)`,
    );
  }
  // Prometheus reports bad queries as 400/422 with a JSON error, so the body outranks the status.
  if (body?.status !== 'success') {
    const type = typeof body?.errorType === 'string' ? `${body.errorType}: ` : '';
    const why =
      typeof body?.error === 'string' ? body.error : `HTTP ${res.status}, status ${String(body?.status)}`;
    throw new QueryError(`query failed: ${type}${why}`);
  }
  return samples(body.data?.resultType, body.data?.result);
}

function samples(resultType: unknown, result: unknown): Sample[] {
  if (resultType === 'scalar' && Array.isArray(result))
    return [{ labels: '', value: parseSampleValue(result[1]) }];
  if (resultType === 'vector' && Array.isArray(result)) {
    return result.map((r: { metric?: Record<string, unknown>; value?: unknown[] }) => ({
      labels: formatLabels(r.metric),
      value: parseSampleValue(r.value?.[1]),
    }));
  }
  if (resultType === 'matrix')
    throw new QueryError('query returned a range vector; use an instant query (no [5m] selector)');
  throw new QueryError(`query returned an unsupported result type ${String(resultType)}`);
}

function abortAwareReason(err: unknown, ctx: CheckContext): string {
  if (!ctx.signal.aborted) return describeError(err);
  const reason = ctx.signal.reason as { name?: unknown } | undefined;
  return reason?.name === 'TimeoutError' ? `timed out after ${ctx.timeoutMs} ms` : 'cancelled';
}

function aggregateOf(kind: 'max' | 'min' | 'avg', values: number[]): number {
  if (kind === 'max') return Math.max(...values);
  if (kind === 'min') return Math.min(...values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** The series to headline for `all`: the worst one when any fails, else the one nearest its bound. */
function headline(list: Sample[], t: Threshold): Sample {
  const failing = list.find((s) => !satisfies(s.value, t));
  if (failing) return failing;
  const upper = t.lt !== undefined || t.lte !== undefined;
  const pick = upper
    ? (a: Sample, b: Sample) => (b.value > a.value ? b : a)
    : (a: Sample, b: Sample) => (b.value < a.value ? b : a);
  return list.reduce(pick);
}

const MAX_LISTED = 5;

function judgeAll(list: Sample[], t: Threshold, expected: string): CheckOutcome {
  const top = headline(list, t);
  const failing = list.filter((s) => !satisfies(s.value, t));
  const more = list.length > 1 ? ` (+${list.length - 1} more series)` : '';
  const observed = `${formatSample(top)}${more}`;
  const metrics = { value: top.value, series: list.length, failingSeries: failing.length };
  if (failing.length === 0) return pass(observed, expected, '', metrics);
  const listed = failing.slice(0, MAX_LISTED).map(formatSample).join('; ');
  const extra = failing.length > MAX_LISTED ? `; +${failing.length - MAX_LISTED} more` : '';
  return fail(
    observed,
    expected,
    `${failing.length} of ${list.length} series outside: ${listed}${extra}`,
    metrics,
  );
}

export default defineCheck({
  type: 'prometheus',
  summary: 'A PromQL instant query (vector or scalar) is within a threshold.',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx) {
    const bound = describeThreshold(p.threshold);
    const expected = p.aggregate === 'all' ? `every series ${bound}` : `${p.aggregate} ${bound}`;
    let list: Sample[];
    try {
      list = await query(p, ctx);
    } catch (err) {
      const detail = err instanceof QueryError ? err.message : describeError(err);
      return { status: 'error', observed: '', expected, detail };
    }
    if (list.length === 0) {
      const observed = 'no data';
      if (p.emptyResult === 'pass') return pass(observed, expected, 'query returned no data', { series: 0 });
      if (p.emptyResult === 'error')
        return { status: 'error', observed, expected, detail: 'query returned no data' };
      return fail(observed, expected, 'query returned no data', { series: 0 });
    }
    if (p.aggregate === 'all') return judgeAll(list, p.threshold, expected);
    const value = aggregateOf(
      p.aggregate,
      list.map((s) => s.value),
    );
    const observed = `${p.aggregate} ${formatValue(value)} over ${list.length} series`;
    const metrics = { value, series: list.length };
    if (satisfies(value, p.threshold)) return pass(observed, expected, '', metrics);
    return fail(observed, expected, `${p.aggregate} ${formatValue(value)} is not ${bound}`, metrics);
  },
});

import { z } from 'zod';
import { errorOutcome, httpUrl, tryHttpCall } from './http.js';
import type { HttpCallResult } from './http-util.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

export const DEFAULT_EXPOSED_PATHS = [
  '/.env',
  '/.git/HEAD',
  '/.git/config',
  '/.DS_Store',
  '/server.js.map',
  '/static/app.js.map',
  '/config.json.bak',
  '/.npmrc',
];

const params = z.strictObject({
  baseUrl: httpUrl.meta({
    description: 'Site root; each path is appended to it (a path prefix in baseUrl is kept).',
  }),
  paths: z
    .array(z.string().min(1))
    .min(1)
    .default(DEFAULT_EXPOSED_PATHS)
    .meta({ description: `Paths that must not be served (default ${DEFAULT_EXPOSED_PATHS.join(', ')}).` }),
  allowStatus: z.array(z.number().int().min(100).max(599)).default([401, 403, 404, 410]).meta({
    description: 'Statuses that count as "not served" (default 401, 403, 404, 410; redirects always count).',
  }),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(16)
    .default(4)
    .meta({ description: 'Requests in flight at once (default 4).' }),
});

// Enough to recognise any of the signatures; nobody needs the rest of a leaked file in a report.
const MAX_BODY_BYTES = 64 * 1024;

type Finding =
  | { path: string; kind: 'exposed'; why: string }
  | { path: string; kind: 'blocked' | 'spa-fallback' | 'unrecognised'; note?: string }
  | { path: string; kind: 'unexpected'; status: number }
  | { path: string; kind: 'error'; error: string };

const ENV_LINE = /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=/m;

/** What the real file looks like, by path; undefined when there is no signature (any 200 body counts). */
function signature(path: string): ((body: Buffer, text: string) => boolean) | undefined {
  const base = path.split('?')[0]!.split('/').at(-1) ?? '';
  if (base === 'HEAD' && path.includes('.git/')) return (_b, t) => /^(ref:\s|[0-9a-f]{40})/.test(t);
  if (base === 'config' && path.includes('.git/')) return (_b, t) => /^\s*\[core\]/m.test(t);
  if (base.startsWith('.env')) return (_b, t) => ENV_LINE.test(t);
  if (base === '.npmrc') return (_b, t) => ENV_LINE.test(t) || t.includes('_authToken');
  if (base.endsWith('.map')) return (_b, t) => /^\s*\{/.test(t) && t.includes('"mappings"');
  if (base === '.DS_Store') return (b) => b.subarray(4, 8).toString('latin1') === 'Bud1';
  return undefined;
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html)/i.test(text.replace(/^\uFEFF/, ''));
}

function judge(path: string, res: HttpCallResult, allowStatus: number[]): Finding {
  if (allowStatus.includes(res.status) || (res.status >= 300 && res.status < 400))
    return { path, kind: 'blocked' };
  if (res.status < 200 || res.status >= 300) return { path, kind: 'unexpected', status: res.status };
  if (res.body.length === 0) return { path, kind: 'blocked', note: `${res.status} with an empty body` };
  const text = res.body.toString('utf8');
  const matches = signature(path);
  if (matches?.(res.body, text))
    return { path, kind: 'exposed', why: `${res.status}, content looks like the real file` };
  if (looksLikeHtml(text)) return { path, kind: 'spa-fallback' };
  if (matches)
    return {
      path,
      kind: 'unrecognised',
      note: `${res.status}, but the body does not look like the real file`,
    };
  return {
    path,
    kind: 'exposed',
    why: `${res.status} with a ${res.body.length}${res.bodyTruncated ? '+' : ''}-byte body`,
  };
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

async function probePath(
  baseUrl: string,
  path: string,
  allowStatus: number[],
  ctx: CheckContext,
): Promise<Finding> {
  const { res, error } = await tryHttpCall(joinUrl(baseUrl, path), ctx, { maxBodyBytes: MAX_BODY_BYTES });
  return res ? judge(path, res, allowStatus) : { path, kind: 'error', error };
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the input order in the result. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function notes(findings: Finding[]): string[] {
  return findings.flatMap((f) => {
    if (f.kind === 'spa-fallback') return [`${f.path}: HTML page (SPA catch-all), not the file`];
    if (f.kind === 'unrecognised' || (f.kind === 'blocked' && f.note)) return [`${f.path}: ${f.note}`];
    if (f.kind === 'unexpected') return [`${f.path}: answered ${f.status}, cannot tell`];
    if (f.kind === 'error') return [`${f.path}: ${f.error}`];
    return [];
  });
}

export default defineCheck({
  type: 'exposed',
  summary:
    'Requests paths that must never be served (.env, .git, source maps, backups) and fails on any that return the real file.',
  params,
  defaultTimeoutMs: 20_000,
  async run(p, ctx): Promise<CheckOutcome> {
    const expected = `none of ${p.paths.length} paths served`;
    const findings = await mapLimit(p.paths, p.concurrency, (path) =>
      probePath(p.baseUrl, path, p.allowStatus, ctx),
    );
    const exposed = findings.filter((f) => f.kind === 'exposed');
    const errors = findings.filter((f): f is Extract<Finding, { kind: 'error' }> => f.kind === 'error');
    const unexpected = findings.filter((f) => f.kind === 'unexpected');
    const metrics = { checked: findings.length, exposed: exposed.length, errors: errors.length };
    const extra = notes(findings);
    if (exposed.length) {
      const detail = [...exposed.map((f) => `${f.path} exposed (${f.why})`), ...extra].join('; ');
      return fail(
        `${exposed.length} of ${findings.length} exposed: ${exposed.map((f) => f.path).join(', ')}`,
        expected,
        detail,
        metrics,
      );
    }
    // Every path failing the same way (host down, timeout) reads better as the one reason.
    if (errors.length === findings.length) return errorOutcome(expected, errors[0]!.error);
    if (errors.length) {
      return {
        status: 'error',
        observed: `${errors.length} of ${findings.length} unanswered`,
        expected,
        detail: extra.join('; '),
        metrics,
      };
    }
    if (unexpected.length) {
      const observed = `${unexpected.length} of ${findings.length} inconclusive`;
      return { status: 'warn', observed, expected, detail: extra.join('; '), metrics };
    }
    return pass(`0 of ${findings.length} exposed`, expected, extra.join('; '), metrics);
  },
});

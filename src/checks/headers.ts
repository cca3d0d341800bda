import { z } from 'zod';
import {
  checkHeader,
  errorOutcome,
  headerMatcher,
  httpMethod,
  httpUrl,
  regexSource,
  showHeader,
  tryHttpCall,
} from './http.js';
import { type HttpCallResult, headerValue, headerValues } from './http-util.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

const SIX_MONTHS_S = 15_552_000;

const forbidEntry = z.union([
  z.string().min(1).meta({ description: 'A header that must be absent.' }),
  z
    .strictObject({
      name: z.string().min(1),
      matches: regexSource.meta({
        description: 'Forbidden only when its value matches (e.g. a version number).',
      }),
    })
    .meta({ description: 'A header whose value must not match, e.g. { name: Server, matches: "\\\\d" }.' }),
]);
type ForbidEntry = z.infer<typeof forbidEntry>;

const cookieSpec = z
  .strictObject({
    url: httpUrl.optional().meta({
      description: 'Request this URL for the cookies (e.g. a login endpoint); default: the main url.',
    }),
    method: httpMethod
      .optional()
      .meta({ description: 'Method for the cookie request (default POST with a body, else GET).' }),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Request headers for the cookie request.' }),
    body: z
      .string()
      .optional()
      .meta({ description: 'Request body for the cookie request (e.g. test credentials).' }),
    names: z
      .array(z.string().min(1))
      .optional()
      .meta({ description: 'Only judge these cookies, and each must be set (default: every cookie set).' }),
    require: z
      .strictObject({
        secure: z.boolean().default(true).meta({ description: 'Cookies carry Secure (default true).' }),
        httpOnly: z.boolean().default(true).meta({ description: 'Cookies carry HttpOnly (default true).' }),
        sameSite: z.enum(['Strict', 'Lax', 'None', 'any']).optional().meta({
          description:
            'Required SameSite value; "any" requires an explicit attribute of any value (default: unchecked).',
        }),
      })
      .default({ secure: true, httpOnly: true }),
  })
  .meta({ description: 'Inspect Set-Cookie attributes; cookie values are never reported.' });
type CookieSpec = z.infer<typeof cookieSpec>;

const params = z.strictObject({
  url: httpUrl.meta({ description: 'The page whose response headers are judged.' }),
  method: httpMethod.default('GET'),
  requestHeaders: z
    .record(z.string(), z.string())
    .optional()
    .meta({ description: 'Request headers to send.' }),
  preset: z.enum(['security', 'none']).default('security').meta({
    description:
      'security: HSTS (max-age ≥ hstsMinAge), CSP, X-Frame-Options DENY/SAMEORIGIN (or CSP frame-ancestors), X-Content-Type-Options nosniff, Referrer-Policy not unsafe-url.',
  }),
  hstsMinAge: z
    .number()
    .int()
    .min(0)
    .default(SIX_MONTHS_S)
    .meta({ description: 'Minimum HSTS max-age in seconds (default 15552000, 180 days).' }),
  require: z.record(z.string(), headerMatcher).optional().meta({
    description: 'Further required headers: an exact value, or { contains | matches | absent: true }.',
  }),
  forbid: z
    .array(forbidEntry)
    .optional()
    .meta({ description: 'Headers that must be absent (e.g. X-Powered-By), or must not match a pattern.' }),
  recommend: z
    .array(z.string().min(1))
    .optional()
    .meta({ description: 'Headers that should be present; missing ones warn instead of failing.' }),
  cookies: cookieSpec.optional(),
});
type Params = z.infer<typeof params>;

/** One unmet requirement: `short` goes in observed, `detail` explains it. */
interface Problem {
  short: string;
  detail: string;
}

function problem(short: string, detail: string): Problem {
  return { short, detail };
}

function hstsProblem(url: string, res: HttpCallResult, minAge: number): Problem | undefined {
  const name = 'Strict-Transport-Security';
  if (new URL(url).protocol !== 'https:') {
    return problem(
      name,
      `${name} cannot be judged over http (browsers ignore it there); probe the https URL`,
    );
  }
  const value = headerValue(res.headers, name);
  if (value === undefined) return problem(name, `${name} missing`);
  const m = /max-age\s*=\s*"?(\d+)"?/i.exec(value);
  if (!m) return problem(name, `${name} is ${showHeader(name, value)}, without max-age`);
  const age = Number(m[1]);
  if (age < minAge) return problem(name, `${name} max-age=${age}, expected ≥ ${minAge}`);
  return undefined;
}

function cspProblem(res: HttpCallResult): Problem | undefined {
  if (headerValue(res.headers, 'content-security-policy') !== undefined) return undefined;
  const reportOnly = headerValue(res.headers, 'content-security-policy-report-only') !== undefined;
  const why = reportOnly ? ' (only Content-Security-Policy-Report-Only is sent, which enforces nothing)' : '';
  return problem('Content-Security-Policy', `Content-Security-Policy missing${why}`);
}

function framingProblem(res: HttpCallResult): Problem | undefined {
  const xfo = headerValue(res.headers, 'x-frame-options');
  if (xfo !== undefined && /^\s*(deny|sameorigin)\s*$/i.test(xfo)) return undefined;
  const csp = headerValue(res.headers, 'content-security-policy') ?? '';
  if (/(^|;)\s*frame-ancestors\s/i.test(csp)) return undefined;
  if (xfo === undefined)
    return problem('X-Frame-Options', 'X-Frame-Options missing (and no CSP frame-ancestors)');
  return problem(
    'X-Frame-Options',
    `X-Frame-Options is ${showHeader('x-frame-options', xfo)}, expected DENY or SAMEORIGIN`,
  );
}

function nosniffProblem(res: HttpCallResult): Problem | undefined {
  const value = headerValue(res.headers, 'x-content-type-options');
  if (value !== undefined && value.trim().toLowerCase() === 'nosniff') return undefined;
  const detail =
    value === undefined ? 'missing' : `is ${showHeader('x-content-type-options', value)}, expected nosniff`;
  return problem('X-Content-Type-Options', `X-Content-Type-Options ${detail}`);
}

function referrerProblem(res: HttpCallResult): Problem | undefined {
  const value = headerValue(res.headers, 'referrer-policy');
  if (value === undefined) return problem('Referrer-Policy', 'Referrer-Policy missing');
  // Browsers apply the last token they understand, so that is the one that counts.
  const effective = value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean)
    .at(-1);
  if (effective === 'unsafe-url')
    return problem('Referrer-Policy', 'Referrer-Policy is unsafe-url (leaks full URLs to other sites)');
  return undefined;
}

function securityProblems(p: Params, res: HttpCallResult): Problem[] {
  return [
    hstsProblem(p.url, res, p.hstsMinAge),
    cspProblem(res),
    framingProblem(res),
    nosniffProblem(res),
    referrerProblem(res),
  ].filter((x): x is Problem => x !== undefined);
}

function requiredProblems(p: Params, res: HttpCallResult): Problem[] {
  return Object.entries(p.require ?? {}).flatMap(([name, matcher]) => {
    const why = checkHeader(name, headerValue(res.headers, name), matcher);
    return why ? [problem(name, why)] : [];
  });
}

function forbiddenProblems(entries: ForbidEntry[] | undefined, res: HttpCallResult): Problem[] {
  return (entries ?? []).flatMap((entry) => {
    const name = typeof entry === 'string' ? entry : entry.name;
    const value = headerValue(res.headers, name);
    if (value === undefined) return [];
    if (typeof entry !== 'string' && !new RegExp(entry.matches).test(value)) return [];
    const rule = typeof entry === 'string' ? 'forbidden' : `forbidden: matches /${entry.matches}/`;
    return [problem(name, `${name} is present (${showHeader(name, value)}; ${rule})`)];
  });
}

interface Cookie {
  name: string;
  attributes: Map<string, string>;
}

function parseSetCookie(line: string): Cookie {
  const [pair = '', ...attrs] = line.split(';');
  const eq = pair.indexOf('=');
  const name = (eq >= 0 ? pair.slice(0, eq) : pair).trim();
  const attributes = new Map<string, string>();
  for (const attr of attrs) {
    const i = attr.indexOf('=');
    const key = (i >= 0 ? attr.slice(0, i) : attr).trim().toLowerCase();
    if (key) attributes.set(key, i >= 0 ? attr.slice(i + 1).trim() : '');
  }
  return { name, attributes };
}

// A Set-Cookie that deletes a cookie exposes nothing, so its flags do not matter.
function isDeletion(cookie: Cookie): boolean {
  const maxAge = cookie.attributes.get('max-age');
  if (maxAge !== undefined && Number(maxAge) <= 0) return true;
  const expires = cookie.attributes.get('expires');
  return expires !== undefined && Date.parse(expires) < Date.now();
}

function cookieProblems(spec: CookieSpec, res: HttpCallResult): Problem[] {
  const all = headerValues(res.headers, 'set-cookie').map(parseSetCookie);
  const judged = all.filter((c) => !isDeletion(c) && (!spec.names || spec.names.includes(c.name)));
  const problems: Problem[] = [];
  for (const name of spec.names ?? []) {
    if (!all.some((c) => c.name === name))
      problems.push(problem(`cookie ${name}`, `cookie ${name} is not set`));
  }
  if (!spec.names && all.length === 0) problems.push(problem('Set-Cookie', 'no Set-Cookie in the response'));
  for (const cookie of judged) problems.push(...cookieFlagProblems(cookie, spec.require));
  return problems;
}

function cookieFlagProblems(cookie: Cookie, require: CookieSpec['require']): Problem[] {
  const missing: string[] = [];
  const secure = cookie.attributes.has('secure');
  if (require.secure && !secure) missing.push('Secure');
  if (require.httpOnly && !cookie.attributes.has('httponly')) missing.push('HttpOnly');
  const sameSite = cookie.attributes.get('samesite');
  if (require.sameSite === 'any' && !sameSite) missing.push('SameSite');
  else if (
    require.sameSite &&
    require.sameSite !== 'any' &&
    sameSite?.toLowerCase() !== require.sameSite.toLowerCase()
  ) {
    missing.push(`SameSite=${require.sameSite} (has ${sameSite ? `SameSite=${sameSite}` : 'none'})`);
  }
  if (sameSite?.toLowerCase() === 'none' && !secure && !missing.includes('Secure'))
    missing.push('Secure (SameSite=None requires it)');
  return missing.length
    ? [problem(`cookie ${cookie.name}`, `cookie ${cookie.name} lacks ${missing.join(', ')}`)]
    : [];
}

async function fetchCookies(
  p: Params,
  main: HttpCallResult,
  ctx: CheckContext,
): Promise<HttpCallResult | string> {
  const spec = p.cookies!;
  if (!spec.url && !spec.body && !spec.method && !spec.headers) return main;
  const url = spec.url ?? p.url;
  const method = spec.method ?? (spec.body !== undefined ? 'POST' : 'GET');
  const { res, error } = await tryHttpCall(url, ctx, {
    method,
    headers: spec.headers ?? {},
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    maxBodyBytes: 64 * 1024,
  });
  return res ?? `cookie request failed: ${error}`;
}

function describeExpected(p: Params): string {
  const parts: string[] = [];
  if (p.preset === 'security') parts.push('security headers');
  const extra = Object.keys(p.require ?? {}).length;
  if (extra) parts.push(`${extra} required header${extra > 1 ? 's' : ''}`);
  if (p.forbid?.length)
    parts.push(`no ${p.forbid.map((f) => (typeof f === 'string' ? f : f.name)).join(', ')}`);
  if (p.cookies) parts.push('cookie flags');
  if (p.recommend?.length) parts.push(`recommended: ${p.recommend.join(', ')}`);
  return parts.join('; ') || 'a response';
}

function summarize(problems: Problem[]): string {
  const names = [...new Set(problems.map((x) => x.short))];
  const shown = names.slice(0, 4).join(', ');
  return names.length > 4 ? `${shown} +${names.length - 4} more` : shown;
}

export default defineCheck({
  type: 'headers',
  summary:
    'Checks response headers: a security preset (HSTS, CSP, framing, nosniff, Referrer-Policy), required and forbidden headers, and Set-Cookie flags.',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx): Promise<CheckOutcome> {
    const expected = describeExpected(p);
    const { res, error } = await tryHttpCall(p.url, ctx, {
      method: p.method,
      headers: p.requestHeaders ?? {},
      maxBodyBytes: 64 * 1024,
    });
    if (!res) return errorOutcome(expected, error);
    const problems = [
      ...(p.preset === 'security' ? securityProblems(p, res) : []),
      ...requiredProblems(p, res),
      ...forbiddenProblems(p.forbid, res),
    ];
    if (p.cookies) {
      const cookieRes = await fetchCookies(p, res, ctx);
      if (typeof cookieRes === 'string')
        return errorOutcome(expected, cookieRes, `${res.status} (headers read)`);
      problems.push(...cookieProblems(p.cookies, cookieRes));
    }
    const recommended = (p.recommend ?? []).filter((name) => headerValue(res.headers, name) === undefined);
    const metrics = { status: res.status, problems: problems.length, recommendedMissing: recommended.length };
    const statusNote = res.status >= 400 ? ` (note: the response was ${res.status})` : '';
    if (problems.length) {
      const detail = problems.map((x) => x.detail).join('; ') + statusNote;
      return fail(`${res.status}; wrong or missing: ${summarize(problems)}`, expected, detail, metrics);
    }
    if (recommended.length) {
      const detail = `recommended header${recommended.length > 1 ? 's' : ''} missing: ${recommended.join(', ')}${statusNote}`;
      return {
        status: 'warn',
        observed: `${res.status}; missing recommended: ${recommended.join(', ')}`,
        expected,
        detail,
        metrics,
      };
    }
    return pass(`${res.status}; all header checks hold`, expected, statusNote.trim(), metrics);
  },
});

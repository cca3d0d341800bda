import { z } from 'zod';
import { errorOutcome, httpUrl, resolveLocation, truncate, tryHttpCall } from './http.js';
import { headerValue } from './http-util.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

const redirectStatus = z.number().int().min(300).max(399);

const params = z.strictObject({
  url: httpUrl.meta({ description: 'Where the chain starts, usually the plain http:// URL.' }),
  expect: z
    .strictObject({
      status: z
        .array(redirectStatus)
        .min(1)
        .default([301, 302, 307, 308])
        .meta({ description: 'Acceptable status of the first hop (default 301, 302, 307, 308).' }),
      toScheme: z
        .enum(['https', 'http'])
        .default('https')
        .meta({ description: 'Scheme the chain must end on (default https).' }),
      location: z.string().optional().meta({
        description:
          'The first Location must equal this URL or start with it (relative Locations are resolved first).',
      }),
    })
    .default({ status: [301, 302, 307, 308], toScheme: 'https' }),
  maxHops: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .meta({ description: 'Redirects followed before the chain counts as a loop (default 5).' }),
});
type Params = z.infer<typeof params>;

interface Hop {
  url: string;
  status: number;
  /** The resolved Location, when the hop redirects. */
  location?: string;
}

// Redirect bodies are discarded; a small cap keeps a misbehaving target from streaming megabytes per hop.
const HOP_BODY_BYTES = 16 * 1024;

type Chain =
  | { hops: Hop[]; loop?: string; error?: undefined }
  | { hops: Hop[]; error: string; loop?: undefined };

/** Follows Location headers one request at a time, stopping at a non-redirect, a repeat, or maxHops. */
async function followChain(start: string, maxHops: number, ctx: CheckContext): Promise<Chain> {
  const hops: Hop[] = [];
  const seen = new Set<string>();
  let current = start;
  for (;;) {
    if (seen.has(current))
      return { hops, loop: `redirect loop: ${[...hops.map((h) => h.url), current].join(' → ')}` };
    if (hops.length > maxHops) {
      return {
        hops,
        loop: `more than ${maxHops} redirects: ${[...hops.map((h) => h.url), current].join(' → ')}`,
      };
    }
    seen.add(current);
    const { res, error } = await tryHttpCall(current, ctx, { maxBodyBytes: HOP_BODY_BYTES });
    if (!res)
      return { hops, error: hops.length ? `${error} (at hop ${hops.length + 1}, ${current})` : error };
    const location = headerValue(res.headers, 'location');
    const redirects = res.status >= 300 && res.status < 400 && location !== undefined;
    const hop: Hop = {
      url: current,
      status: res.status,
      ...(redirects ? { location: resolveLocation(location, current) } : {}),
    };
    hops.push(hop);
    if (!hop.location) return { hops };
    current = hop.location;
  }
}

/** "301 → https://x/ → 200": the first status, each hop's target, and the final status. */
function describeChain(hops: Hop[]): string {
  const first = hops[0];
  if (!first) return 'no response';
  if (!first.location) return `${first.status} (no redirect)`;
  const targets = hops.filter((h) => h.location).map((h) => truncate(h.location!, 100));
  const last = hops.at(-1)!;
  return last.location
    ? `${first.status} → ${targets.join(' → ')}`
    : `${first.status} → ${targets.join(' → ')} → ${last.status}`;
}

function describeExpected(p: Params): string {
  const location = p.expect.location ? ` (Location ${p.expect.location}…)` : '';
  return `${p.expect.status.join(' or ')} to ${p.expect.toScheme}${location}, ending below 400`;
}

function judge(p: Params, hops: Hop[]): { problem?: string } {
  const first = hops[0]!;
  const last = hops.at(-1)!;
  if (!p.expect.status.includes(first.status)) {
    const what = first.location
      ? `first hop answered ${first.status}`
      : `no redirect: ${p.url} answered ${first.status}`;
    return { problem: `${what}, expected ${p.expect.status.join(' or ')}` };
  }
  if (last.status >= 300 && last.status < 400) {
    return { problem: `chain ends on ${last.status} without a Location header at ${last.url}` };
  }
  if (p.expect.location !== undefined && !first.location?.startsWith(p.expect.location)) {
    return { problem: `first Location is ${first.location}, expected ${p.expect.location}` };
  }
  const scheme = new URL(last.url).protocol.replace(':', '');
  if (scheme !== p.expect.toScheme)
    return { problem: `chain ends on ${last.url}, expected ${p.expect.toScheme}` };
  if (last.status >= 400) return { problem: `chain ends on ${last.status} at ${last.url}` };
  return {};
}

export default defineCheck({
  type: 'redirect',
  summary:
    'Follows a redirect chain hop by hop (e.g. http → https) and checks the first status, the final scheme, and for loops.',
  params,
  defaultTimeoutMs: 15_000,
  async run(p, ctx): Promise<CheckOutcome> {
    const expected = describeExpected(p);
    const chain = await followChain(p.url, p.maxHops, ctx);
    if (chain.error !== undefined) return errorOutcome(expected, chain.error, describeChain(chain.hops));
    const metrics = {
      hops: chain.hops.filter((h) => h.location).length,
      firstStatus: chain.hops[0]?.status ?? 0,
      finalStatus: chain.hops.at(-1)?.status ?? 0,
    };
    const observed = describeChain(chain.hops);
    if (chain.loop) return fail(observed, expected, chain.loop, metrics);
    const { problem } = judge(p, chain.hops);
    if (problem) return fail(observed, expected, problem, metrics);
    return pass(observed, expected, '', metrics);
  },
});

import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
// Type only: ioredis is imported when a redis probe runs, so the CLI starts fast.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DeployCheckError, describeError, ErrorCode } from '../errors.js';
import { assertAddressAllowed, refusalReason } from '../net/guard.js';
import { isRedisUrl, parseRedisUrl, type RedisTarget } from '../net/redis-url.js';
import { duration } from './duration.js';
import { abortable, compareVersions, ProbeError } from './probe-errors.js';
import { type CheckContext, type CheckOutcome, defineCheck } from './types.js';

/**
 * A Redis deployment's production settings: reachable with the given credentials, refusing
 * clients without them, evicting as intended, keys namespaced as the app expects. The URL
 * carries the password, so only host:port is ever printed.
 */

const POLICIES = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
] as const;

const regex = z.string().superRefine((src, ctx) => {
  try {
    new RegExp(src);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${describeError(err)}` });
  }
});

const SECRET_REF = '${secret:';

const version = z.string().regex(/^\d+(\.\d+){0,2}$/, 'expected a version like "7" or "6.2" or "7.2.4"');

const params = z
  .object({
    url: z
      .string()
      // Checklists are validated before secrets are resolved, so a secret reference stands in for the URL here.
      .refine(
        (u) => u.includes(SECRET_REF) || isRedisUrl(u),
        'expected redis://[user:password@]host[:port][/db] or rediss://…',
      )
      .meta({
        description: 'redis:// or rediss:// URL, usually "${secret:REDIS_URL}". Only host:port is printed.',
      }),
    requireAuth: z.boolean().optional().meta({
      description:
        'true: a client without credentials must be refused (NOAUTH/WRONGPASS). Omitted: not checked.',
    }),
    maxmemoryPolicy: z.enum(POLICIES).optional().meta({ description: 'Expected maxmemory-policy.' }),
    keyPattern: z
      .object({
        match: z
          .string()
          .min(1)
          .default('*')
          .meta({ description: 'SCAN MATCH glob selecting the keys to sample.' }),
        mustMatch: regex.meta({ description: 'Regular expression every sampled key must satisfy.' }),
        sample: z
          .number()
          .int()
          .positive()
          .max(1_000_000)
          .default(1000)
          .meta({ description: 'At most this many keys are sampled (via SCAN, never KEYS).' }),
      })
      .strict()
      .optional()
      .meta({ description: 'Keys selected by `match` must satisfy `mustMatch` (e.g. carry a tenant id).' }),
    minVersion: version.optional().meta({ description: 'Minimum redis_version, e.g. "7.0".' }),
    connectTimeout: duration
      .optional()
      .meta({ description: 'Connect timeout (default and cap: the check timeout).' }),
  })
  .strict();

type Params = z.infer<typeof params>;

/**
 * ioredis has no `lookup` hook for plain TCP, so the host is resolved and vetted here and the
 * client connects to that very address (no second lookup an attacker could rebind).
 */
async function resolveGuarded(host: string, ctx: CheckContext): Promise<string> {
  if (net.isIP(host)) {
    assertAddressAllowed(host, ctx.policy);
    return host;
  }
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true });
  } catch (err) {
    throw new ProbeError(
      `DNS lookup failed for ${host} (${(err as { code?: string }).code ?? describeError(err)})`,
    );
  }
  for (const a of addresses) {
    const reason = refusalReason(a.address, ctx.policy);
    if (reason) throw new DeployCheckError(ErrorCode.AddressRefused, `refused: ${host} → ${reason}`);
  }
  if (!addresses[0]) throw new ProbeError(`DNS lookup failed for ${host} (no address)`);
  return addresses[0].address;
}

/** A failure to measure, with a message fit for `detail`. */
interface Connection {
  client: Redis;
  /** The last 'error' event: ioredis rejects with "Connection is closed." and reports the cause here. */
  lastError(): Error | undefined;
}

async function openClient(
  target: RedisTarget,
  address: string,
  withAuth: boolean,
  ctx: CheckContext,
  connectMs: number,
  clients: Set<Redis>,
): Promise<Connection> {
  const { Redis } = await import('ioredis');
  // After an abort the run has already disconnected its clients; a late one would leak.
  if (ctx.signal.aborted) throw new ProbeError('cancelled');
  const tlsOptions: tls.ConnectionOptions | undefined = target.tls
    ? {
        ...(net.isIP(target.host) ? {} : { servername: target.host }),
        rejectUnauthorized: ctx.tls.rejectUnauthorized,
        ...(ctx.tls.ca ? { ca: [...tls.rootCertificates, ctx.tls.ca] } : {}),
      }
    : undefined;
  const client = new Redis({
    host: address,
    port: target.port,
    db: target.db,
    ...(withAuth && target.username ? { username: target.username } : {}),
    ...(withAuth && target.password ? { password: target.password } : {}),
    ...(tlsOptions ? { tls: tlsOptions } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: null,
    connectTimeout: connectMs,
    // RESP2 and no ready check: no HELLO/INFO handshake, so an auth refusal surfaces on our own PING.
    protocol: 2,
    enableReadyCheck: false,
    disableClientInfo: true,
  });
  clients.add(client);
  let last: Error | undefined;
  client.on('error', (err: Error) => {
    last = err;
  });
  return { client, lastError: () => last };
}

function reasonOf(err: unknown, conn: Connection | undefined, target: RedisTarget): string {
  if (err instanceof ProbeError || err instanceof DeployCheckError) return err.message;
  const cause = conn?.lastError();
  const base = err instanceof Error && /Connection is closed/.test(err.message) && cause ? cause : err;
  const msg = describeError(base);
  if (/ECONNREFUSED/.test(msg)) return `connection refused to ${target.display}`;
  if (/ETIMEDOUT/.test(msg)) return `connect to ${target.display} timed out`;
  return msg;
}

const isAuthRefusal = (msg: string) => /NOAUTH|WRONGPASS|Authentication required|invalid password/i.test(msg);

function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
}

/** Collected while measuring; turned into one outcome at the end. */
interface Findings {
  observed: string[];
  expected: string[];
  failures: string[];
  warnings: string[];
  metrics: Record<string, number>;
}

async function readMaxmemoryPolicy(client: Redis): Promise<string | undefined> {
  try {
    const reply = (await client.call('CONFIG', 'GET', 'maxmemory-policy')) as unknown;
    if (Array.isArray(reply) && typeof reply[1] === 'string') return reply[1];
  } catch {
    // Managed Redis often disables or renames CONFIG; INFO usually still reports the policy.
  }
  try {
    return infoField(await client.info('memory'), 'maxmemory_policy');
  } catch {
    return undefined;
  }
}

async function checkPolicy(client: Redis, expected: string, f: Findings): Promise<void> {
  f.expected.push(`maxmemory-policy ${expected}`);
  const actual = await readMaxmemoryPolicy(client);
  if (actual === undefined) {
    f.warnings.push('cannot read config: CONFIG and INFO are disabled or not permitted');
    return;
  }
  f.observed.push(`maxmemory-policy ${actual}`);
  if (actual !== expected) f.failures.push(`maxmemory-policy is ${actual}, expected ${expected}`);
}

async function checkVersion(client: Redis, min: string, f: Findings): Promise<void> {
  f.expected.push(`version ≥ ${min}`);
  let ver: string | undefined;
  try {
    ver = infoField(await client.info('server'), 'redis_version');
  } catch {
    ver = undefined;
  }
  if (!ver) {
    f.warnings.push('cannot read redis_version (INFO disabled or not permitted)');
    return;
  }
  f.observed.unshift(`Redis ${ver}`);
  if (compareVersions(ver, min) < 0) f.failures.push(`version ${ver} < ${min}`);
}

const MAX_KEY_CHARS = 60;
const MAX_OFFENDERS = 5;
const truncate = (k: string) => (k.length > MAX_KEY_CHARS ? `${k.slice(0, MAX_KEY_CHARS - 1)}…` : k);

async function checkKeys(
  client: Redis,
  kp: NonNullable<Params['keyPattern']>,
  deadline: number,
  f: Findings,
): Promise<void> {
  const mustMatch = new RegExp(kp.mustMatch);
  f.expected.push(`keys ${kp.match} match /${kp.mustMatch}/`);
  const offenders: string[] = [];
  let sampled = 0;
  let bad = 0;
  let cursor = '0';
  let cutShort = false;
  do {
    // SCAN keeps the server responsive on big keyspaces; stop early rather than overrun the timeout.
    if (performance.now() > deadline) {
      cutShort = true;
      break;
    }
    const [next, keys] = await client.scan(cursor, 'MATCH', kp.match, 'COUNT', Math.min(kp.sample, 1000));
    for (const key of keys) {
      if (sampled >= kp.sample) break;
      sampled++;
      if (mustMatch.test(key)) continue;
      bad++;
      if (offenders.length < MAX_OFFENDERS) offenders.push(JSON.stringify(truncate(key)));
    }
    cursor = next;
  } while (cursor !== '0' && sampled < kp.sample);
  f.metrics.keysSampled = sampled;
  f.metrics.keysViolating = bad;
  f.observed.push(`${sampled} key(s) sampled${cutShort ? ' (scan cut short by the time budget)' : ''}`);
  if (bad > 0) {
    const more = bad > offenders.length ? ` (+${bad - offenders.length} more)` : '';
    f.failures.push(
      `${bad} of ${sampled} key(s) do not match /${kp.mustMatch}/: ${offenders.join(', ')}${more}`,
    );
  }
}

async function checkAuthRequired(
  target: RedisTarget,
  address: string,
  ctx: CheckContext,
  connectMs: number,
  clients: Set<Redis>,
  f: Findings,
): Promise<void> {
  f.expected.push('unauthenticated access refused');
  const conn = await openClient(target, address, false, ctx, connectMs, clients);
  try {
    await conn.client.connect();
    await conn.client.ping();
    f.failures.push('unauthenticated PING succeeded');
  } catch (err) {
    const msg = reasonOf(err, conn, target);
    if (!isAuthRefusal(msg)) throw new ProbeError(`unauthenticated probe failed: ${msg}`);
    f.observed.push('auth enforced');
  }
}

function outcome(f: Findings): CheckOutcome {
  const base = {
    observed: f.observed.join('; '),
    expected: f.expected.join('; '),
    metrics: f.metrics,
  };
  if (f.failures.length)
    return { ...base, status: 'fail', detail: [...f.failures, ...f.warnings].join('; ') };
  if (f.warnings.length) return { ...base, status: 'warn', detail: f.warnings.join('; ') };
  return { ...base, status: 'pass', detail: '' };
}

async function measure(
  p: Params,
  target: RedisTarget,
  ctx: CheckContext,
  clients: Set<Redis>,
  f: Findings,
): Promise<void> {
  const started = performance.now();
  const connectMs = Math.min(p.connectTimeout ?? ctx.timeoutMs, ctx.timeoutMs);
  const address = await resolveGuarded(target.host, ctx);
  const conn = await openClient(target, address, true, ctx, connectMs, clients);
  try {
    await conn.client.connect();
    const t0 = performance.now();
    await conn.client.ping();
    f.metrics.pingMs = performance.now() - t0;
  } catch (err) {
    const msg = reasonOf(err, conn, target);
    throw new ProbeError(isAuthRefusal(msg) ? `authentication failed at ${target.display}: ${msg}` : msg);
  }
  f.observed.push(`PING ${f.metrics.pingMs.toFixed(1)} ms at ${target.display}`);
  if (p.minVersion) await checkVersion(conn.client, p.minVersion, f);
  if (p.maxmemoryPolicy) await checkPolicy(conn.client, p.maxmemoryPolicy, f);
  if (p.keyPattern) await checkKeys(conn.client, p.keyPattern, started + ctx.timeoutMs * 0.6, f);
  if (p.requireAuth) await checkAuthRequired(target, address, ctx, connectMs, clients, f);
}

export default defineCheck({
  type: 'redis',
  summary: 'Redis is reachable, refuses unauthenticated clients, evicts as intended and namespaces keys.',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx) {
    // The resolved secret was never validated; say so without echoing it.
    const target = parseRedisUrl(p.url);
    if (!target) {
      return {
        status: 'error',
        observed: '',
        expected: 'reachable',
        detail: 'url is not a redis:// or rediss:// URL',
      };
    }
    const f: Findings = { observed: [], expected: ['reachable'], failures: [], warnings: [], metrics: {} };
    // Every client opened for this run; disconnecting them all also unblocks work cut off by the signal.
    const clients = new Set<Redis>();
    try {
      await abortable(ctx.signal, measure(p, target, ctx, clients, f), ctx.timeoutMs);
    } catch (err) {
      return {
        status: 'error',
        observed: f.observed.join('; '),
        expected: f.expected.join('; '),
        detail: reasonOf(err, undefined, target),
        metrics: f.metrics,
      };
    } finally {
      for (const c of clients) c.disconnect();
    }
    return outcome(f);
  },
});

import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { Redis } from 'ioredis';
import { formatDuration } from '../checks/duration.js';
import { DeployCheckError, describeError } from '../errors.js';
import { type AddressPolicy, assertAddressAllowed, refusalReason } from '../net/guard.js';
import { parseRedisUrl, type RedisTarget } from '../net/redis-url.js';
import { maskUrl } from './mask.js';
import { defineStep, type StepContext, stepFailed } from './types.js';

const DEFAULT_TIMEOUT_MS = 2 * 60_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** ioredis has no lookup hook: resolve and vet the address here, then connect to that very address. */
async function guardedAddress(host: string, policy: AddressPolicy): Promise<string> {
  if (net.isIP(host)) {
    assertAddressAllowed(host, policy);
    return host;
  }
  const addresses = await dns.promises.lookup(host, { all: true }).catch((err: unknown) => {
    throw new Error(
      `DNS lookup failed for ${host} (${(err as { code?: string }).code ?? describeError(err)})`,
    );
  });
  for (const a of addresses) {
    const reason = refusalReason(a.address, policy);
    if (reason) throw new Error(`refused: ${host} → ${reason}`);
  }
  if (!addresses[0]) throw new Error(`DNS lookup failed for ${host} (no address)`);
  return addresses[0].address;
}

/** Rejects when the signal aborts, so a silent server can never hold the step. */
function abortable<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function unlinkBatch(client: Redis, keys: string[]): Promise<number> {
  try {
    return await client.unlink(...keys);
  } catch (err) {
    // UNLINK is Redis ≥ 4; DEL does the same, blocking while it frees memory.
    if (/unknown command/i.test(describeError(err))) return client.del(...keys);
    throw err;
  }
}

function reasonOf(err: unknown, target: RedisTarget, lastError: Error | undefined, ctx: StepContext): string {
  if (ctx.signal.aborted) {
    const reason = ctx.signal.reason as { name?: string } | undefined;
    return reason?.name === 'TimeoutError'
      ? `${target.display} did not finish within ${formatDuration(ctx.timeoutMs)}`
      : `interrupted: ${describeError(ctx.signal.reason)}`;
  }
  if (err instanceof DeployCheckError) return err.message;
  const base =
    err instanceof Error && /Connection is closed/.test(err.message) && lastError ? lastError : err;
  const msg = describeError(base);
  if (/ECONNREFUSED/.test(msg)) return `cannot reach Redis at ${target.display}: connection refused`;
  if (/ETIMEDOUT/.test(msg)) return `connect to Redis at ${target.display} timed out`;
  if (/NOAUTH|WRONGPASS/i.test(msg)) return `authentication failed at ${target.display}: ${msg}`;
  return `${target.display}: ${msg}`;
}

/**
 * Deletes cache keys by pattern: SCAN MATCH in batches (never KEYS, so a big keyspace does not
 * block the server) and UNLINK each batch. Idempotent: a second run finds nothing left to delete.
 */
export default defineStep({
  type: 'redis-delete',
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  readOnly: false,
  plan: (step) => [
    { label: 'redis', value: maskUrl(step.url) },
    { label: 'delete', value: `keys matching ${step.pattern}` },
    { label: 'how', value: `SCAN MATCH … COUNT ${step.batch}, then UNLINK each batch` },
    { label: 'timeout', value: formatDuration(step.timeout ?? DEFAULT_TIMEOUT_MS) },
  ],
  async run(step, ctx) {
    let url: string;
    try {
      url = ctx.resolve(step.url);
    } catch (err) {
      return stepFailed(describeError(err));
    }
    const target = parseRedisUrl(url);
    if (!target) return stepFailed('url is not a redis:// or rediss:// URL');
    let client: Redis | undefined;
    let lastError: Error | undefined;
    let deleted = 0;
    let scanned = 0;
    const work = async () => {
      const address = await guardedAddress(target.host, ctx.probe.policy);
      // After an abort the step has already returned: a client opened now would leak.
      if (ctx.signal.aborted) return;
      client = new Redis({
        host: address,
        port: target.port,
        db: target.db,
        ...(target.username ? { username: target.username } : {}),
        ...(target.password ? { password: target.password } : {}),
        ...(target.tls
          ? {
              tls: {
                ...(net.isIP(target.host) ? {} : { servername: target.host }),
                rejectUnauthorized: ctx.probe.tls.rejectUnauthorized,
                ...(ctx.probe.tls.ca ? { ca: [...tls.rootCertificates, ctx.probe.tls.ca] } : {}),
              },
            }
          : {}),
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        reconnectOnError: null,
        connectTimeout: Math.min(CONNECT_TIMEOUT_MS, ctx.timeoutMs),
        protocol: 2,
        enableReadyCheck: false,
        disableClientInfo: true,
      });
      client.on('error', (err: Error) => {
        lastError = err;
      });
      await client.connect();
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', step.pattern, 'COUNT', step.batch);
        scanned += keys.length;
        if (keys.length > 0) deleted += await unlinkBatch(client, keys);
        cursor = next;
      } while (cursor !== '0' && !ctx.signal.aborted);
    };
    try {
      await abortable(ctx.signal, work());
    } catch (err) {
      return {
        ok: false,
        observed: deleted > 0 ? `deleted ${deleted} key(s) before stopping` : '',
        detail: reasonOf(err, target, lastError, ctx),
        metrics: { deleted, scanned },
      };
    } finally {
      // Disconnecting also unblocks a command the abort cut off.
      (client as Redis | undefined)?.disconnect();
    }
    return {
      ok: true,
      observed: `deleted ${deleted} key${deleted === 1 ? '' : 's'} matching ${step.pattern} at ${target.display}`,
      detail: '',
      metrics: { deleted, scanned },
    };
  },
});

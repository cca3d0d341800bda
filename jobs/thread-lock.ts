import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DeployCheckError, ErrorCode } from '../src/errors.js';

// Compare-and-act on the token, so a writer whose lease lapsed never extends or frees a successor's.
const EXTEND =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/**
 * Runs `fn` while holding a lease on one key in Redis: one holder at a time across all worker
 * processes. The lease is renewed while `fn` runs (a slow Slack call under rate limiting keeps
 * it), and lapses `leaseMs` after a holder dies (a SIGKILLed worker blocks no one for longer).
 * Waits up to `waitMs` for the lease, then throws so the job is retried later.
 *
 * Why: a run's thread has several writers — the run job, thread-sync jobs after each click (two
 * can overlap: their deduplication window is short) and a re-delivered job after a crash. Each
 * reads the facts, renders, then posts or updates. Interleaved, two of them both posted the
 * sign-off (seen in the faults suites: a duplicate "Approved" message in ~15% of runs), and a
 * writer holding an older view could overwrite a newer one. Holding this lease from reading the
 * facts to writing the messages makes each render start from everything written before it.
 */
export async function withLease<T>(
  redis: Redis,
  key: string,
  opts: { leaseMs: number; waitMs: number },
  fn: () => Promise<T>,
): Promise<T> {
  const token = randomUUID();
  const deadline = Date.now() + opts.waitMs;
  while ((await redis.set(key, token, 'PX', opts.leaseMs, 'NX')) !== 'OK') {
    if (Date.now() >= deadline)
      throw new DeployCheckError(ErrorCode.Conflict, `${key} is held by another writer; retrying later`);
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 75));
  }
  const renew = setInterval(
    () => {
      redis.eval(EXTEND, 1, key, token, String(opts.leaseMs)).catch(() => undefined);
    },
    Math.max(50, Math.floor(opts.leaseMs / 3)),
  );
  renew.unref();
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}

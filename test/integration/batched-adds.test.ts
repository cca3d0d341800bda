/**
 * The bot's enqueues (jobs/queues.ts, `BatchedAdds`): adds asked for in one turn of the event loop
 * go to Redis as one `addBulk`, and each caller still gets exactly what a lone `Queue.add` would
 * have given it — on real Redis, with BullMQ's own scripts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunJob } from '../../jobs/contracts.js';
import {
  assertQueueReachable,
  createQueues,
  enqueueRun,
  enqueueThreadSync,
  type Queues,
} from '../../jobs/queues.js';
import { ErrorCode } from '../../src/errors.js';
import { redisUrl, skipUnless, uniqueName } from '../helpers/services.js';

const tenant = { teamId: 'T0BATCH01' };

function runJobFor(n: number | string, extra: Partial<RunJob> = {}): RunJob {
  return {
    runId: `r-batch${n}`,
    tenant,
    checklist: 'e2e',
    vars: { n: String(n) },
    channel: 'C0BATCH01',
    requester: 'U0BATCH01',
    ...extra,
  };
}

describe.skipIf(skipUnless('redis'))('batched enqueues on real Redis', () => {
  let queues: Queues;

  beforeAll(() => {
    queues = createQueues(redisUrl()!, uniqueName('batch'));
  });
  afterAll(async () => {
    await queues?.close();
  });

  it('adds every job of one turn, each with its own data and the queue defaults, as a lone add would', async () => {
    const jobs = Array.from({ length: 30 }, (_, i) => runJobFor(`a${i}`));
    await Promise.all(jobs.map((j) => enqueueRun(queues, j)));
    for (const j of jobs) {
      const stored = await queues.runs.getJob(j.runId);
      expect(stored?.data, j.runId).toEqual(j);
      // The queue's defaultJobOptions apply to bulk adds too: retries with backoff.
      expect(stored?.opts.attempts, j.runId).toBe(5);
      expect(stored?.opts.backoff, j.runId).toEqual({ type: 'exponential', delay: 1000 });
    }
    const rerun = runJobFor('a0', { rerun: { phases: ['health'], round: 1 } });
    await enqueueRun(queues, rerun);
    expect((await queues.runs.getJob('r-batcha0-rerun-1'))?.data).toEqual(rerun);
  });

  it('keeps one run per run id, within a batch and across batches (a redelivered request starts nothing)', async () => {
    const first = runJobFor('dup');
    const again = { ...first, vars: { n: 'changed' } };
    await Promise.all([enqueueRun(queues, first), enqueueRun(queues, again), enqueueRun(queues, first)]);
    await enqueueRun(queues, again);
    expect((await queues.runs.getJob(first.runId))?.data).toEqual(first);
    const ids = (await queues.runs.getJobs(['waiting', 'delayed', 'active'])).map((j) => j.id);
    expect(ids.filter((id) => id === first.runId)).toHaveLength(1);
  });

  it('coalesces thread syncs of one run in a batch into one delayed job, and keeps other runs apart', async () => {
    await Promise.all([
      enqueueThreadSync(queues, { runId: 'r-sync1', tenant, reason: 'tick' }),
      enqueueThreadSync(queues, { runId: 'r-sync1', tenant, reason: 'vote' }),
      enqueueThreadSync(queues, { runId: 'r-sync2', tenant, reason: 'tick' }),
    ]);
    const delayed = await queues.thread.getJobs(['delayed', 'waiting']);
    const runs = delayed.map((j) => j.data.runId).sort();
    expect(runs).toEqual(['r-sync1', 'r-sync2']);
  });

  it("gives each caller its own job's outcome when one job of the batch is refused", async () => {
    // BullMQ refuses an all-digits custom id; addBulk then fails as a whole, and the batch is
    // retried job by job so the good ones still land and only the bad one is refused.
    const good = [runJobFor('ok1'), runJobFor('ok2')];
    const bad = queues.batched.runs.add('run', runJobFor('bad'), { jobId: '12345' });
    const outcomes = await Promise.allSettled([
      enqueueRun(queues, good[0]!),
      bad,
      enqueueRun(queues, good[1]!),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    for (const j of good) expect((await queues.runs.getJob(j.runId))?.data).toEqual(j);
    expect(await queues.runs.getJob('12345')).toBeUndefined();
  });

  it('sends what is still waiting for its batch before it closes', async () => {
    const prefix = uniqueName('batch-close');
    const closing = createQueues(redisUrl()!, prefix);
    await assertQueueReachable(closing);
    const job = runJobFor('closing');
    const added = enqueueRun(closing, job);
    await closing.close();
    await added;
    const check = createQueues(redisUrl()!, prefix);
    try {
      expect((await check.runs.getJob(job.runId))?.data).toEqual(job);
    } finally {
      await check.close();
    }
  });
});

describe('enqueues with Redis down', () => {
  it('tell every caller "queue unavailable", also when Redis was down from the start (BullMQ alone would wait forever)', async () => {
    // Nothing listens on port 1: the connection was never ready, so BullMQ's add would wait for it.
    const down = createQueues('redis://127.0.0.1:1', uniqueName('batch-down'));
    try {
      const outcomes = await Promise.allSettled([
        enqueueRun(down, runJobFor('down1')),
        enqueueRun(down, runJobFor('down2')),
        enqueueThreadSync(down, { runId: 'r-down3', tenant, reason: 'tick' }),
      ]);
      for (const o of outcomes) {
        expect(o.status).toBe('rejected');
        expect((o as PromiseRejectedResult).reason).toMatchObject({ code: ErrorCode.QueueUnavailable });
      }
    } finally {
      await down.close();
    }
  }, 20_000);
});

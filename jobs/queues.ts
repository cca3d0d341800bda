import { type JobsOptions, Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { DeployCheckError, describeError, ErrorCode } from '../src/errors.js';
import {
  type MonitorJob,
  monitorJob,
  type RollbackJob,
  type RunJob,
  rollbackJob,
  runJob,
  type ThreadJob,
  threadJob,
} from './contracts.js';

/** How long a thread re-render waits to gather more interactions into one Slack write. */
export const THREAD_COALESCE_MS = 500;

export interface Queues {
  runs: Queue<RunJob>;
  thread: Queue<ThreadJob>;
  monitors: Queue<MonitorJob>;
  rollback: Queue<RollbackJob>;
  /** Batched adds to `runs` and `thread`: what `enqueueRun` and `enqueueThreadSync` use. */
  batched: { runs: BatchedAdds<RunJob>; thread: BatchedAdds<ThreadJob> };
  connection: Redis;
  /** Sends the adds still waiting for their batch, then closes the queues and the connection. */
  close(): Promise<void>;
}

/** Options of a batched add: it must carry a job id or a deduplication id (see `BatchedAdds`). */
type IdempotentOptions = Omit<JobsOptions, 'repeat'> &
  ({ jobId: string } | { deduplication: NonNullable<JobsOptions['deduplication']> });

type NameOf<T> = Parameters<Queue<T>['add']>[0];
type DataOf<T> = Parameters<Queue<T>['add']>[1];

interface PendingAdd<T> {
  name: NameOf<T>;
  data: DataOf<T>;
  opts: IdempotentOptions;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Adds jobs to one queue in batches: every add asked for within one turn of the event loop goes to
 * Redis in one `Queue.addBulk` (one pipeline: one socket write and one read for all of them, in
 * the bot and in Redis), not one round trip each. Under load many acks fall within one turn (about
 * 25 per batch at 50 connections), and the round trip per add was the largest cost of the bot's
 * ack path beyond what Bolt itself does (bench/RESULTS.md, ack path).
 *
 * Each caller gets the outcome of its own job, as with `Queue.add`:
 *   - the batch is sent at the end of the current turn (`setImmediate`), so nothing waits for more
 *     requests to arrive; a batch of one is a plain `add`;
 *   - if `addBulk` fails, each job of the batch is added again on its own and each caller gets
 *     that add's result. `addBulk` fails as a whole for one job's error, and for Redis being down
 *     (then each single add fails at once too: the producer connection has no offline queue, so
 *     the user is still told "queue unavailable" at once). Adding again is safe because every
 *     batched add carries a job id or a deduplication id: a job the failed batch did add is not
 *     added twice (the same job id is ignored by BullMQ, exactly as a redelivered request is).
 */
export class BatchedAdds<T> {
  private pending: Array<PendingAdd<T>> = [];
  private readonly sending = new Set<Promise<void>>();

  constructor(private readonly queue: Queue<T>) {}

  add(name: NameOf<T>, data: DataOf<T>, opts: IdempotentOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ name, data, opts, resolve, reject });
    });
  }

  /** Resolves once every add asked for so far has been sent and answered. */
  async drain(): Promise<void> {
    while (this.pending.length || this.sending.size) {
      this.flush();
      await Promise.allSettled([...this.sending]);
    }
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const sent: Promise<void> = this.send(batch).finally(() => this.sending.delete(sent));
    this.sending.add(sent);
  }

  private async send(batch: Array<PendingAdd<T>>): Promise<void> {
    if (batch.length > 1) {
      try {
        await this.queue.addBulk(batch.map(({ name, data, opts }) => ({ name, data, opts })));
        for (const b of batch) b.resolve();
        return;
      } catch {
        // Told below, per job.
      }
    }
    await Promise.all(
      batch.map((b) => this.queue.add(b.name, b.data, b.opts).then(() => b.resolve(), b.reject)),
    );
  }
}

/**
 * Producer connection: fails fast when Redis is down (no offline queue, one try), so the bot can
 * answer "queue unavailable, try again" at once instead of hanging.
 */
export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}

/** Worker connection: BullMQ requires blocking commands to wait forever. */
export function workerConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

export function createQueues(url: string, prefix: string): Queues {
  const connection = producerConnection(url);
  // Errors surface on the add() calls; the emitter's copy would only crash the process.
  connection.on('error', () => undefined);
  const common = { connection, prefix };
  const runs = new Queue<RunJob>(runJob.name, {
    ...common,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 30 * 86_400 },
    },
  });
  const thread = new Queue<ThreadJob>(threadJob.name, {
    ...common,
    defaultJobOptions: {
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 86_400 },
    },
  });
  const monitors = new Queue<MonitorJob>(monitorJob.name, {
    ...common,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 7 * 86_400 },
    },
  });
  const rollback = new Queue<RollbackJob>(rollbackJob.name, {
    ...common,
    defaultJobOptions: {
      attempts: 10,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 30 * 86_400 },
    },
  });
  for (const q of [runs, thread, monitors, rollback]) q.on('error', () => undefined);
  const batched = { runs: new BatchedAdds(runs), thread: new BatchedAdds(thread) };
  return {
    runs,
    thread,
    monitors,
    rollback,
    batched,
    connection,
    async close() {
      await Promise.allSettled([batched.runs.drain(), batched.thread.drain()]);
      await Promise.allSettled([runs.close(), thread.close(), monitors.close(), rollback.close()]);
      connection.disconnect();
    },
  };
}

export function queueUnavailable(err: unknown): DeployCheckError {
  return new DeployCheckError(ErrorCode.QueueUnavailable, `queue unavailable (${describeError(err)})`, {
    cause: err,
  });
}

/** Redis is known to be unreachable now: the producer connection was made and lost (not: still being made). */
export function queueKnownDown(queues: Pick<Queues, 'connection'>): boolean {
  const { status } = queues.connection;
  return status === 'reconnecting' || status === 'end' || status === 'close';
}

/** How long an enqueue waits for a producer connection that is still being made (bot start-up). */
const CONNECT_WAIT_MS = 1500;

/**
 * Refuses, within CONNECT_WAIT_MS, when the producer connection is not ready. BullMQ waits without
 * limit for a connection that has never been ready (a bot started while Redis is down), so without
 * this the user would hear nothing; a connection that was lost fails each command at once anyway.
 */
export async function assertQueueReachable(queues: Pick<Queues, 'connection'>): Promise<void> {
  const c = queues.connection;
  if (c.status === 'ready') return;
  const ready = queueKnownDown(queues)
    ? false
    : await new Promise<boolean>((resolve) => {
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), CONNECT_WAIT_MS);
        const done = (ok: boolean) => {
          clearTimeout(timer);
          c.off('ready', onReady);
          resolve(ok);
        };
        c.once('ready', onReady);
      });
  if (!ready) throw queueUnavailable(new Error(`Redis is not connected (${c.status})`));
}

/**
 * A queue operation made for a user's request: refused within CONNECT_WAIT_MS when Redis is not
 * connected, and any failure told as "queue unavailable". When connected, `op` starts in this same
 * turn of the event loop, so a batched add joins this turn's batch (and close()'s drain).
 */
export async function onQueues<T>(queues: Pick<Queues, 'connection'>, op: () => Promise<T>): Promise<T> {
  if (queues.connection.status !== 'ready') await assertQueueReachable(queues);
  try {
    return await op();
  } catch (err) {
    throw queueUnavailable(err);
  }
}

/**
 * Enqueues a run; the run id is the job id, so a redelivered request is ignored by BullMQ. Runs
 * enqueued within one turn of the event loop go to Redis together (`BatchedAdds`).
 */
export async function enqueueRun(queues: Queues, job: RunJob): Promise<void> {
  const jobId = job.rerun ? `${job.runId}-rerun-${job.rerun.round}` : job.runId;
  await onQueues(queues, () => queues.batched.runs.add('run', job, { jobId }));
}

/**
 * Asks a worker to re-render a run's thread. Interactions within the window collapse into one job
 * (BullMQ deduplication), which runs after the window and reads the latest facts from the store.
 */
export async function enqueueThreadSync(queues: Queues, job: ThreadJob): Promise<void> {
  await onQueues(queues, () =>
    queues.batched.thread.add('sync', job, {
      delay: THREAD_COALESCE_MS,
      deduplication: { id: `sync-${job.runId}`, ttl: THREAD_COALESCE_MS },
    }),
  );
}

import { Queue } from 'bullmq';
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
  connection: Redis;
  close(): Promise<void>;
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
  return {
    runs,
    thread,
    monitors,
    rollback,
    connection,
    async close() {
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

/** Enqueues a run; the run id is the job id, so a redelivered request is ignored by BullMQ. */
export async function enqueueRun(queues: Queues, job: RunJob): Promise<void> {
  const jobId = job.rerun ? `${job.runId}-rerun-${job.rerun.round}` : job.runId;
  try {
    await queues.runs.add('run', job, { jobId });
  } catch (err) {
    throw queueUnavailable(err);
  }
}

/**
 * Asks a worker to re-render a run's thread. Interactions within the window collapse into one job
 * (BullMQ deduplication), which runs after the window and reads the latest facts from the store.
 */
export async function enqueueThreadSync(queues: Queues, job: ThreadJob): Promise<void> {
  try {
    await queues.thread.add('sync', job, {
      delay: THREAD_COALESCE_MS,
      deduplication: { id: `sync-${job.runId}`, ttl: THREAD_COALESCE_MS },
    });
  } catch (err) {
    throw queueUnavailable(err);
  }
}

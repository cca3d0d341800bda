import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, Worker } from 'bullmq';
import type { Db } from 'mongodb';
import { loadWorkerConfig } from '../src/config.js';
import { describeError, isCoded } from '../src/errors.js';
import { createMetrics } from '../src/http/metrics.js';
import { opsRoutes } from '../src/http/routes.js';
import { configSecrets, createLogger } from '../src/log.js';
import { DispatcherPool } from '../src/run/engine.js';
import { slackClientsFor } from '../src/slack/clients.js';
import { MongoInstallationStore } from '../src/store/installations.js';
import { connectMongo } from '../src/store/mongo.js';
import { RunStore } from '../src/store/run-store.js';
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
import type { WorkerDeps } from './deps.js';
import { processMonitor } from './monitor-processor.js';
import { createQueues, workerConnection } from './queues.js';
import { processRollback } from './rollback-processor.js';
import { markRunErrored, processRunJob } from './run-processor.js';
import { syncThread } from './sync.js';

export interface WorkerHandle {
  close(): Promise<void>;
}

/** Creates the queue workers in this process; processors re-parse payloads with their contract. */
export function createWorkers(deps: WorkerDeps, redisUrl: string): WorkerHandle {
  const prefix = deps.config.QUEUE_PREFIX;
  // Long enough for the worker to renew it during a slow probe, short enough that a killed worker's run resumes soon.
  const LOCK_MS = deps.config.JOB_LOCK_MS;
  // A stall is a worker that died holding the job (deploys, OOM kills, SIGKILL). Runs, rollbacks and
  // thread syncs resume idempotently, so they get many chances: BullMQ fails a job outright, without
  // backoff, once it stalls more often than this (a soak of 20 random kills stalled one run more than
  // 5 times; a thread sync killed twice, with BullMQ's default of 1, left a decided run's thread
  // and status unsynced).
  const MAX_STALLS = 50;
  const connection = workerConnection(redisUrl);
  connection.on('error', (err) => deps.log.warn({ err: describeError(err) }, 'redis connection error'));
  const runs = new Worker<RunJob>(
    runJob.name,
    async (job: Job<RunJob>, _token, signal) => processRunJob(runJob.payload.parse(job.data), deps, signal),
    {
      connection,
      prefix,
      concurrency: deps.config.WORKER_CONCURRENCY,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS,
      maxStalledCount: MAX_STALLS,
    },
  );
  const thread = new Worker<ThreadJob>(
    threadJob.name,
    async (job: Job<ThreadJob>) => {
      const data = threadJob.payload.parse(job.data);
      await syncThread(deps, data.tenant, data.runId, { phases: 'all' });
    },
    {
      connection,
      prefix,
      concurrency: 8,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS,
      maxStalledCount: MAX_STALLS,
    },
  );
  const rollback = new Worker<RollbackJob>(
    rollbackJob.name,
    async (job: Job<RollbackJob>) => processRollback(rollbackJob.payload.parse(job.data), deps),
    {
      connection,
      prefix,
      concurrency: 4,
      lockDuration: LOCK_MS,
      stalledInterval: LOCK_MS,
      maxStalledCount: MAX_STALLS,
    },
  );
  const monitors = new Worker<MonitorJob>(
    monitorJob.name,
    async (job: Job<MonitorJob>) => processMonitor(monitorJob.payload.parse(job.data), deps),
    { connection, prefix, concurrency: 4, lockDuration: LOCK_MS, stalledInterval: LOCK_MS },
  );
  runs.on('failed', (job, err) => {
    const data = job && runJob.payload.safeParse(job.data);
    if (data?.success && failedForGood(job!, err)) void markRunErrored(data.data, deps, err);
  });
  for (const w of [runs, thread, rollback, monitors]) {
    w.on('failed', (job, err) => {
      countSlackError(deps, err);
      deps.log.warn(
        { queue: w.name, jobId: job?.id, attempts: job?.attemptsMade, err: describeError(err) },
        'job failed',
      );
    });
    w.on('error', (err) => deps.log.warn({ queue: w.name, err: describeError(err) }, 'worker error'));
  }
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        // worker.close() waits for active jobs and can hang when Redis is gone: bound it, then force.
        const graceful = Promise.allSettled([
          runs.close(),
          thread.close(),
          rollback.close(),
          monitors.close(),
        ]);
        const timedOut = await Promise.race([
          graceful.then(() => false),
          delay(deps.config.SHUTDOWN_TIMEOUT_MS).then(() => true),
        ]);
        if (timedOut)
          await Promise.race([
            Promise.allSettled([
              runs.close(true),
              thread.close(true),
              rollback.close(true),
              monitors.close(true),
            ]),
            delay(1000),
          ]);
        connection.disconnect();
      })();
      return closing;
    },
  };
}

/** BullMQ emits `failed` for every failed attempt; only the last one (or an unrecoverable one) ends the job. */
function failedForGood(job: Job, err: Error): boolean {
  return err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** @slack/web-api errors carry codes like `slack_webapi_platform_error` and Slack's own `data.error`. */
function countSlackError(deps: WorkerDeps, err: unknown): void {
  const e = err as { code?: unknown; data?: { error?: unknown } };
  if (typeof e.code !== 'string' || !e.code.startsWith('slack_')) return;
  deps.metrics.slackErrors.inc({
    method: 'unknown',
    error: typeof e.data?.error === 'string' ? e.data.error : e.code,
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Only variables under the secrets prefix reach checklists (as `${secret:NAME}` for PREFIX+NAME):
 * otherwise a checklist could send the worker's own Slack token or database URI to any URL.
 */
export function checklistSecrets(env: NodeJS.ProcessEnv, prefix: string): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env)
      .filter(([k, v]) => k.startsWith(prefix) && v !== undefined)
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
}

/** The worker's own /healthz, /readyz and /metrics: runs and probe durations are counted here, where they happen. */
async function serveOps(
  deps: WorkerDeps,
  db: Db,
  port: number,
): Promise<{ server: http.Server; port: number }> {
  const routes = opsRoutes(
    {
      redis: async () => {
        await deps.queues.connection.ping();
      },
      mongodb: async () => {
        await db.command({ ping: 1 });
      },
    },
    deps.metrics.registry,
  );
  const server = http.createServer((req, res) => {
    const route = routes.find((r) => r.path === req.url?.split('?')[0] && r.method === req.method);
    if (route) route.handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return { server, port: (server.address() as { port: number }).port };
}

export async function startWorker(env: NodeJS.ProcessEnv): Promise<{ stop: () => Promise<void> }> {
  const config = loadWorkerConfig(env);
  const log = createLogger({
    level: config.LOG_LEVEL,
    name: 'deploy-check-worker',
    secrets: configSecrets(config),
  });
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const store = new RunStore(mongo.db);
  await store.ensureIndexes();
  const queues = createQueues(config.REDIS_URL, config.QUEUE_PREFIX);
  const deps: WorkerDeps = {
    config,
    store,
    slack: slackClientsFor(config, config.SLACK_BOT_TOKEN ? undefined : new MongoInstallationStore(mongo.db)),
    queues,
    log,
    metrics: createMetrics(),
    checklistsDir: path.resolve(config.CHECKLISTS_DIR),
    env: checklistSecrets(env, config.SECRETS_ENV_PREFIX),
    now: () => new Date(),
    dispatchers: new DispatcherPool(),
  };
  const workers = createWorkers(deps, config.REDIS_URL);
  const ops =
    config.WORKER_METRICS_PORT === undefined
      ? undefined
      : await serveOps(deps, mongo.db, config.WORKER_METRICS_PORT);
  log.info({ concurrency: config.WORKER_CONCURRENCY, metricsPort: ops?.port }, 'worker started');
  return {
    async stop() {
      await new Promise((r) => (ops ? ops.server.close(r) : r(undefined)));
      await workers.close();
      await deps.dispatchers?.close();
      await Promise.allSettled([queues.close(), mongo.close()]);
    },
  };
}

async function main(): Promise<void> {
  try {
    const worker = await startWorker(process.env);
    const shutdown = () => {
      void worker.stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    if (process.send) process.send({ ready: true });
  } catch (err) {
    process.stderr.write(`deploy-check worker: ${isCoded(err) ? err.message : describeError(err)}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();

/**
 * A worker process for bench/engine-overhead.ts and bench/worker-memory.ts: one BullMQ Worker on
 * the given queue whose job is either
 *   - `engine`: `runChecklist` of a checklist with PROBES http probes against TARGET (one phase,
 *     the checklist's concurrency 4), with POOL=1 through one `DispatcherPool` for the process as
 *     jobs/worker.ts passes it (`deps.dispatchers`), else a guarded dispatcher per run (the CLI), or
 *   - `bare`: the same PROBES HTTP GETs made with undici's `request` (global keep-alive agent),
 *     4 at a time — the reference: a BullMQ job that does the calls and nothing else;
 *   - `bare-fresh`: the same, with a new undici Agent per job, closed at its end (as the engine
 *     does with its guarded dispatcher per run): connection churn alone (not in the default plan).
 * Env: REDIS_URL, QUEUE, PREFIX, MODE, POOL, TARGET, PROBES, CONCURRENCY. IPC: `{ ready }` when
 * listening; answers `{ cpu }` (process.cpuUsage) to a `cpu` message.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, type Dispatcher, request } from 'undici';
import { parseChecklist } from '../../src/checklist/load.js';
import { DispatcherPool, runChecklist } from '../../src/run/engine.js';

const PROBES = Number(process.env.PROBES ?? 20);
const TARGET = process.env.TARGET!;
const MODE = process.env.MODE ?? 'engine';
const PER_JOB_CONCURRENCY = 4;

export function benchChecklistYaml(probes: number): string {
  const items = Array.from(
    { length: probes },
    (_, i) =>
      `      - id: p${i}\n        title: Probe ${i}\n        check: { type: http, url: "{{baseUrl}}/p${i}", expect: { status: 200 } }`,
  );
  return [
    'name: bench',
    'service: bench',
    'concurrency: 4',
    'vars:',
    '  baseUrl: http://127.0.0.1:9',
    'phases:',
    '  - id: one',
    '    title: One',
    '    items:',
    ...items,
    '',
  ].join('\n');
}

async function bare(dispatcher?: Dispatcher): Promise<void> {
  let next = 0;
  const one = async () => {
    while (next < PROBES) {
      const i = next++;
      const res = await request(`${TARGET}/p${i}`, dispatcher ? { dispatcher } : {});
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: PER_JOB_CONCURRENCY }, one));
}

if (process.env.QUEUE) {
  const checklist = parseChecklist(benchChecklistYaml(PROBES), {
    file: 'bench.yml',
    vars: { baseUrl: TARGET },
  });
  const dispatchers = process.env.POOL === '1' ? new DispatcherPool() : undefined;
  const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const worker = new Worker(
    process.env.QUEUE,
    async () => {
      if (MODE === 'bare') return bare();
      if (MODE === 'bare-fresh') {
        const agent = new Agent();
        try {
          return await bare(agent);
        } finally {
          await agent.close();
        }
      }
      const run = await runChecklist(checklist, {
        manualMode: 'skipped',
        env: {},
        ...(dispatchers ? { dispatchers } : {}),
      });
      if (run.outcome !== 'pass')
        throw new Error(`run ${run.outcome}: ${JSON.stringify(run.phases[0]?.items[0])}`);
    },
    { connection, prefix: process.env.PREFIX!, concurrency: Number(process.env.CONCURRENCY ?? 4) },
  );
  worker.on('failed', (_job, err) => process.stderr.write(`job failed: ${err.message}\n`));
  await worker.waitUntilReady();
  process.on('message', (m) => {
    if (m === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  });
  process.once('SIGTERM', () => {
    void worker
      .close()
      .then(() => dispatchers?.close())
      .then(() => {
        connection.disconnect();
        process.exit(0);
      });
  });
  process.send?.({ ready: true });
}

/**
 * Engine overhead: runs of a 20-probe checklist (`http` probes against a trivial node:http target
 * in its own process) executed by `runChecklist` inside BullMQ jobs on 2 worker processes, vs the
 * same HTTP calls made by bare BullMQ jobs (undici `request`, 20 per job, 4 at a time — the same
 * concurrency as the checklist's) on the same Redis with 2 workers. Goal: throughput ratio ≥ 0.5.
 * The measured engine is the shipped worker path: `runChecklist` with `dispatchers: new
 * DispatcherPool()` (one guarded dispatcher per worker process, as jobs/worker.ts passes it in
 * `deps.dispatchers`; bench/lib/engine-worker.ts with POOL=1). A third mode runs `runChecklist`
 * without a pool: a guarded dispatcher opened and closed per run, as the CLI does and as the
 * worker did before the DispatcherPool.
 *
 *   npx tsx bench/engine-overhead.ts [runs=1000] [probes=20]
 *
 * Full Slack runs (processRun: store + thread writes) are not used here: with the FerretDB test
 * server they measure the database, not the engine (see bench/store-cost.ts). Each mode is
 * measured twice, alternating (bare, engine, per-run, bare, engine), on fresh worker processes, after a
 * warm-up of 40 jobs; a mode that would pass its time cap is cut short and scaled (said below).
 */
import { Queue } from 'bullmq';
import {
  type Child,
  childCpu,
  fmt,
  forkTs,
  header,
  mean,
  printTable,
  runMain,
  sleep,
  startHttpTarget,
  startServices,
  verdict,
} from './lib/common.js';

const RUNS = Number(process.argv[2] ?? 1000);
const PROBES = Number(process.argv[3] ?? 20);
const WORKERS = 2;
const CONCURRENCY = 4;
const WARMUP = 40;
const CAP_S = 15;

type Mode = 'bare' | 'engine' | 'engine-per-run';
const LABEL: Record<Mode, string> = {
  bare: 'bare BullMQ + undici',
  engine: 'runChecklist + DispatcherPool (as shipped)',
  'engine-per-run': '  runChecklist, dispatcher per run (no pool)',
};

interface Measured {
  mode: Mode;
  jobs: number;
  seconds: number;
  callsPerS: number;
  cpuUsPerCall: number;
  capped: boolean;
}

async function measure(mode: Mode, round: number, redisUrl: string, target: string): Promise<Measured> {
  const name = `eo-${mode}-${round}`;
  const prefix = 'bench-eo';
  const queue = new Queue(name, { connection: { url: redisUrl }, prefix });
  const workers: Child[] = await Promise.all(
    Array.from({ length: WORKERS }, () =>
      forkTs('bench/lib/engine-worker.ts', {
        env: {
          QUEUE: name,
          // engine: runChecklist with a DispatcherPool, as jobs/worker.ts; per-run: without one.
          POOL: mode === 'engine' ? '1' : '0',
          REDIS_URL: redisUrl,
          PREFIX: prefix,
          MODE: mode === 'bare' ? 'bare' : 'engine',
          TARGET: target,
          PROBES: String(PROBES),
          CONCURRENCY: String(CONCURRENCY),
        },
      }),
    ),
  );
  const done = async () => (await queue.getCompletedCount()) + (await queue.getFailedCount());
  const waitFor = async (n: number, capMs: number) => {
    const deadline = performance.now() + capMs;
    for (;;) {
      const c = await done();
      if (c >= n || performance.now() > deadline) return c;
      await sleep(20);
    }
  };
  await queue.addBulk(Array.from({ length: WARMUP }, (_, i) => ({ name: 'run', data: { i } })));
  await waitFor(WARMUP, 60_000);
  const cpu0 = await Promise.all(workers.map(childCpu));
  const t0 = performance.now();
  await queue.addBulk(Array.from({ length: RUNS }, (_, i) => ({ name: 'run', data: { i } })));
  const reached = (await waitFor(WARMUP + RUNS, CAP_S * 1000)) - WARMUP;
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = await Promise.all(workers.map(childCpu));
  const failed = await queue.getFailedCount();
  if (failed > 0) throw new Error(`${mode}: ${failed} jobs failed`);
  await Promise.all(workers.map((w) => w.stop()));
  await queue.obliterate({ force: true });
  await queue.close();
  const calls = reached * PROBES;
  const cpu = cpu1.reduce((s, c, i) => s + c - cpu0[i]!, 0);
  return {
    mode,
    jobs: reached,
    seconds,
    callsPerS: calls / seconds,
    cpuUsPerCall: cpu / calls,
    capped: reached < RUNS,
  };
}

async function main(): Promise<void> {
  header(
    `engine overhead: ${RUNS} runs x ${PROBES} http probes, ${WORKERS} workers x concurrency ${CONCURRENCY}`,
  );
  const services = await startServices({ redis: true });
  const target = await startHttpTarget();
  const results: Measured[] = [];
  // The two compared modes twice, alternating; the engine without a pool once, between them.
  const plan: Array<[Mode, number]> = [
    ['bare', 1],
    ['engine', 1],
    ['engine-per-run', 1],
    ['bare', 2],
    ['engine', 2],
  ];
  const rounds: number[] = [];
  for (const [mode, round] of plan) {
    results.push(await measure(mode, round, services.redisUrl!, target.url));
    rounds.push(round);
  }
  printTable(
    ['mode', 'round', 'jobs', 'seconds', 'HTTP calls/s', 'runs/s', 'worker CPU µs/call'],
    results.map((r, i) => [
      LABEL[r.mode],
      String(rounds[i]),
      `${r.jobs}${r.capped ? ' (capped)' : ''}`,
      fmt(r.seconds, 1),
      fmt(r.callsPerS, 0),
      fmt(r.callsPerS / PROBES, 0),
      fmt(r.cpuUsPerCall, 0),
    ]),
  );
  const bare = mean(results.filter((r) => r.mode === 'bare').map((r) => r.callsPerS));
  const engine = mean(results.filter((r) => r.mode === 'engine').map((r) => r.callsPerS));
  const spread = (m: Mode) =>
    results
      .filter((r) => r.mode === m)
      .map((r) => fmt(r.callsPerS, 0))
      .join(' / ');
  const cpuOf = (m: Mode) => mean(results.filter((r) => r.mode === m).map((r) => r.cpuUsPerCall));
  console.log(
    `\nworker CPU per HTTP call: engine ${fmt(cpuOf('engine'), 0)} µs vs bare ${fmt(cpuOf('bare'), 0)} µs ` +
      `(bare/engine ${fmt(cpuOf('bare') / cpuOf('engine'), 2)}x: the throughput ratio a CPU-bound box tends to)`,
  );
  console.log(
    `throughput: engine ${fmt(engine, 0)} calls/s (${spread('engine')}) vs bare ${fmt(bare, 0)} (${spread('bare')}): ` +
      `ratio ${fmt(engine / bare, 2)}x — goal ≥ 0.5: ${verdict(engine / bare >= 0.5)}`,
  );
  const perRun = results.find((r) => r.mode === 'engine-per-run');
  if (perRun)
    console.log(
      `without the pool (a guarded dispatcher per run, as the CLI): ${fmt(perRun.callsPerS, 0)} calls/s, ` +
        `${fmt(perRun.callsPerS / bare, 2)}x of bare, ${fmt(perRun.cpuUsPerCall, 0)} µs CPU/call`,
    );
  if (results.some((r) => r.capped))
    console.log(`(a mode hit the ${CAP_S} s cap: its rate is over the jobs it finished)`);
  target.stop();
}

runMain(main);

/**
 * Worker memory: RSS (and V8 heap) of a worker process after 1,000 runs vs after 100. The measured
 * process is shaped like jobs/worker.ts's run worker: a BullMQ Worker (concurrency 4) whose job is
 * `runChecklist` of a small checklist (6 http probes in 2 phases) against a local node:http target
 * in its own process. Every reading follows `global.gc()` (children run with --expose-gc).
 * Goal: RSS growth from 100 to 1,000 runs ≤ 10%.
 *
 *   npx tsx bench/worker-memory.ts [runs=1000]
 *
 * Three fresh worker processes, one after the other, on the same Redis and target:
 *   A. the code as shipped: `runChecklist` with one `DispatcherPool` for the process, as
 *      jobs/worker.ts passes it (`deps.dispatchers`); plus a reading after 11 s idle (past the
 *      http probe's 10 s timeout);
 *   B. A as workers are run: `--max-semi-space-size=8` (the worker command in the Dockerfile,
 *      compose file and docs; V8's young generation capped at 8 MiB/semi-space);
 *   C. without the pool (a guarded dispatcher opened and closed per run, as before the pool), no flag.
 * Full Slack runs (processRun with the store and the Slack client) are not used: 1,000 of them on
 * the FerretDB test server take minutes. The reference is the same process after 100 runs.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { parseChecklist } from '../src/checklist/load.js';
import { DispatcherPool, runChecklist } from '../src/run/engine.js';
import {
  fmt,
  header,
  onExit,
  printTable,
  ROOT,
  runMain,
  sleep,
  startHttpTarget,
  startServices,
  verdict,
} from './lib/common.js';

const RUNS = Number(process.argv[2] ?? 1000);
const CHECKPOINTS = [100, 250, 500, 1000].map((c) => Math.round((c * RUNS) / 1000));
const IDLE_MS = 11_000;

const item = (id: string) =>
  `      - { id: ${id}, title: ${id}, check: { type: http, url: "{{baseUrl}}/${id}", expect: { status: 200 } } }`;
const YAML = [
  'name: mem',
  'service: mem',
  'concurrency: 4',
  'vars:',
  '  baseUrl: http://127.0.0.1:9',
  'phases:',
  '  - id: health',
  '    title: Health',
  '    items:',
  ...['h0', 'h1', 'h2'].map(item),
  '  - id: more',
  '    title: More',
  '    items:',
  ...['m0', 'm1', 'm2'].map(item),
  '',
].join('\n');

interface Reading {
  runs: string;
  rss: number;
  heap: number;
  heapTotal: number;
}

// ---------------------------------------------------------------------------------------------
// Child: the measured worker process
// ---------------------------------------------------------------------------------------------

async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const settle = async (runs: string): Promise<Reading> => {
    for (let i = 0; i < 4; i++) {
      gc();
      await sleep(50);
    }
    const m = process.memoryUsage();
    return { runs, rss: m.rss, heap: m.heapUsed, heapTotal: m.heapTotal };
  };
  const checklist = parseChecklist(YAML, { file: 'mem.yml', vars: { baseUrl: process.env.TARGET! } });
  const prefix = 'bench-mem';
  const name = process.env.QUEUE!;
  const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: { url: process.env.REDIS_URL! }, prefix });
  let done = 0;
  let failed = 0;
  const dispatchers = process.env.POOL === '1' ? new DispatcherPool() : undefined;
  const worker = new Worker(
    name,
    async () => {
      const run = await runChecklist(checklist, {
        manualMode: 'skipped',
        env: {},
        ...(dispatchers ? { dispatchers } : {}),
      });
      if (run.outcome !== 'pass') throw new Error(`run ${run.outcome}`);
    },
    { connection, prefix, concurrency: 4 },
  );
  worker.on('completed', () => {
    done += 1;
  });
  worker.on('failed', () => {
    failed += 1;
  });
  await worker.waitUntilReady();
  const readings: Reading[] = [];
  const t0 = performance.now();
  let added = 0;
  for (const cp of CHECKPOINTS) {
    await queue.addBulk(
      Array.from({ length: cp - added }, (_, i) => ({ name: 'run', data: { i: added + i } })),
    );
    added = cp;
    while (done + failed < cp) await sleep(20);
    readings.push(await settle(String(cp)));
  }
  const runsPerS = CHECKPOINTS.at(-1)! / ((performance.now() - t0) / 1000);
  if (process.env.IDLE === '1') {
    await sleep(IDLE_MS);
    readings.push(await settle(`${CHECKPOINTS.at(-1)} + ${IDLE_MS / 1000} s idle`));
  }
  await worker.close();
  await dispatchers?.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  process.stdout.write(`RESULT ${JSON.stringify({ readings, runsPerS, failed })}\n`);
}

// ---------------------------------------------------------------------------------------------
// Parent: services, target, the three measured processes, the table
// ---------------------------------------------------------------------------------------------

interface Variant {
  name: string;
  flags: string[];
  env: Record<string, string>;
}

function measureIn(
  v: Variant,
  i: number,
  redisUrl: string,
  target: string,
): Promise<{ readings: Reading[]; runsPerS: number }> {
  const self = fileURLToPath(import.meta.url);
  const p = spawn(
    process.execPath,
    [
      ...v.flags,
      '--expose-gc',
      '--import',
      'tsx',
      ...(v.env.BENCH_WHATIF ? ['--import', './bench/lib/whatif-hooks.mjs'] : []),
      self,
      String(RUNS),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...v.env,
        BENCH_MEM_CHILD: '1',
        REDIS_URL: redisUrl,
        TARGET: target,
        QUEUE: `mem-${i}`,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  onExit(() => {
    if (p.exitCode === null) p.kill('SIGKILL');
  });
  let out = '';
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve, reject) =>
    p.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`${v.name}: exit ${code}\n${out}`));
      const r = JSON.parse(line.slice(7)) as { readings: Reading[]; runsPerS: number; failed: number };
      if (r.failed) return reject(new Error(`${v.name}: ${r.failed} runs failed`));
      resolve(r);
    }),
  );
}

const MiB = (b: number) => fmt(b / 2 ** 20, 1);
const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${fmt(((a - b) / b) * 100, 1)}%`;

async function parent(): Promise<void> {
  header(`worker memory: ${RUNS} runs of a 6-probe checklist in a BullMQ worker process (concurrency 4)`);
  const services = await startServices({ redis: true });
  const target = await startHttpTarget();
  const variants: Variant[] = [
    { name: 'A. as shipped (DispatcherPool)', flags: [], env: { POOL: '1', IDLE: '1' } },
    {
      name: 'B. A + --max-semi-space-size=8 (as workers run)',
      flags: [],
      env: {
        POOL: '1',
        NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-semi-space-size=8'].filter(Boolean).join(' '),
      },
    },
    { name: 'C. no pool: a dispatcher per run', flags: [], env: {} },
  ];
  const results = [];
  for (const [i, v] of variants.entries())
    results.push(await measureIn(v, i, services.redisUrl!, target.url));
  const rows: Array<Array<string>> = [];
  const verdicts: string[] = [];
  for (const [i, v] of variants.entries()) {
    const { readings, runsPerS } = results[i]!;
    const base = readings[0]!;
    for (const r of readings)
      rows.push([
        r === base ? v.name : '',
        r.runs,
        MiB(r.rss),
        pct(r.rss, base.rss),
        MiB(r.heap),
        pct(r.heap, base.heap),
        MiB(r.heapTotal),
      ]);
    const at1000 = readings.find((r) => r.runs === String(CHECKPOINTS.at(-1)))!;
    const growth = (at1000.rss - base.rss) / base.rss;
    verdicts.push(
      `${v.name}: RSS ${pct(at1000.rss, base.rss)}, heap ${pct(at1000.heap, base.heap)} (${fmt(runsPerS, 0)} runs/s) — goal ≤ 10%: ${verdict(growth <= 0.1)}`,
    );
  }
  printTable(
    ['process', 'after runs', 'RSS MiB', 'vs first', 'heap used MiB', 'vs first', 'heap total MiB'],
    rows,
  );
  console.log(`\nRSS growth ${CHECKPOINTS[0]} → ${CHECKPOINTS.at(-1)} runs:\n  ${verdicts.join('\n  ')}`);
  target.stop();
}

if (process.env.BENCH_MEM_CHILD === '1') {
  child().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  runMain(parent);
}

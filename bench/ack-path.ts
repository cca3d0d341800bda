/**
 * The ack path: our bot's full slash-command path (signature check, parse, find the checklist
 * (parsed once per process, then cached), derive the run id from the trigger id, ack, enqueue on
 * BullMQ) against a bare Bolt 5 app that only acks (bench/lib/bare-bolt.ts): same Slack Web API
 * fake, same client, in the same script run. Then the same for a button click (`dc_tick`).
 * Two references: bare Bolt as shipped (stock HTTPReceiver: the goal's reference), and the same
 * bare app on our receiver (src/slack/receiver.ts: our signature check and sized acks), so the
 * share of any gain that comes from the receiver alone is on the same page.
 *
 *   npx tsx bench/ack-path.ts [sustainedSeconds=20] [options]
 *
 * Both apps run as child processes (our bot is src/bot.ts as in production, under tsx, LOG_LEVEL
 * silent; Redis and the FerretDB test server started here); the client runs in this process.
 * Loads:
 *   - 1 request at a time: 500 requests, alternating between the apps (noise hits all alike);
 *   - a burst of 200 requests sent at once (200 connections), 5 bursts after a warm-up one, the
 *     apps taking turns burst by burst;
 *   - 50 connections for N seconds per app (closed loop, autocannon; each request built and signed
 *     in `setupRequest`), cut into slices of about 4 s that the apps take turns at, so that load
 *     from other work on the machine drifting during the run hits all apps alike.
 * Every `run` request gets a unique trigger_id, so every one enqueues a job (checked at the end).
 * Latencies: our own client's for the first two loads, autocannon's per response for the
 * sustained one (fractional ms).
 *
 * After each slice, burst or phase the script waits until every app, Redis and FerretDB are idle,
 * so that work an app does after its acks (a click's store reads) neither runs during the next
 * app's turn nor is counted as that app's.
 *
 * CPU: for every load, the CPU time (from /proc, from the load's start until all is idle again) of
 * each app, and, where the apps did not run at the same time, of the load generator (this
 * process), Redis and FerretDB, per request; how busy the whole machine was while the load ran; and
 * Redis's socket reads per request (one per batch of commands a client sends). The bare app does no
 * Redis or database work, so this shows how much of a gap is our process's own CPU and how much the
 * machine shared with Redis and the client.
 *
 * Options:
 *   --before=DIR     adds our bot as it is in another checkout DIR (e.g. `git archive HEAD | tar -x
 *                    -C DIR` and `ln -s $PWD/node_modules DIR/`): before/after in the same run.
 *   --checkout=NAME:DIR  the same under another name (repeatable).
 *   --variant=NAME:K=V,K=V  adds our bot again with extra environment variables (repeatable), to
 *                    compare settings in one run.
 *   --what-if-memo   adds our bot with bench/lib/memo-checklist.ts (from before the parse cache).
 *   --quick          only the `run e2e` loads (to compare variants quickly).
 *   --profile[=DIR]  also profiles every app (V8 CPU profiler, started and stopped over IPC by
 *                    bench/lib/prof-hook.mjs) during the sustained `run e2e` and click loads, and
 *                    prints where each app's CPU per request went (bench/lib/cpuprofile.ts). The
 *                    profiler slows the apps: take the ratios from a run without it.
 *   BENCH_CPU_PROF=DIR  a V8 CPU profile of each bot's whole life (`--cpu-prof`), written on exit.
 */

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { Pool } from 'undici';
import { runDoc } from '../jobs/run-processor.js';
import { loadChecklistFile } from '../src/checklist/load.js';
import { encodeValue } from '../src/slack/render/actions.js';
import { RunStore } from '../src/store/run-store.js';
import { type SlackFake, startSlackFake } from '../test/helpers/slack-fake.js';
import {
  blockActionsPayload,
  computeSlackSignature,
  interactionBody,
  newTriggerId,
  SLACK_FORM_CONTENT_TYPE,
  slashCommandBody,
} from '../test/helpers/slack-sign.js';
import {
  type Child,
  fmt,
  forkTs,
  header,
  machineCpuMs,
  mean,
  onExit,
  percentile,
  printTable,
  procCpuMs,
  ROOT,
  runMain,
  type Services,
  selfCpuMs,
  sleep,
  startServices,
  verdict,
} from './lib/common.js';
import { type CpuProfile, printSummary, summarise } from './lib/cpuprofile.js';

const SUSTAINED_S = Number(process.argv[2] ?? 20);
const CLICK_SUSTAINED_S = Math.max(3, Math.round(SUSTAINED_S / 3));
const SEQUENTIAL = 500;
const BURST = 200;
const BURSTS = 5;
const SECRET = 'bench-signing-secret-0123456789abcdef';
const TOKEN = 'xoxb-bench-token';
const TEAM = 'T0BENCH001';
const CHANNEL = 'C0BENCH001';
const PREFIX = 'bench-ack';
const DB = 'bench_ack';

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p99: number };
  duration: number;
  errors: number;
  non2xx: number;
}
type SetupRequest = (req: Record<string, unknown>) => Record<string, unknown>;
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  requests: Array<{ method: string; setupRequest: SetupRequest }>;
}) => PromiseLike<AutocannonResult> & {
  /** Each response: its latency `ms` in fractional milliseconds. */
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  n: number;
}

function signed(body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return {
    'content-type': SLACK_FORM_CONTENT_TYPE,
    'x-slack-signature': computeSlackSignature(SECRET, body, ts),
    'x-slack-request-timestamp': String(ts),
  };
}

type BodyMaker = () => string;

const QUEUED = 'Queued run';
/** `run` requests our bot answered "Queued run …" (each must have enqueued one job). */
let queuedAnswers = 0;

/** Sends one signed request; throws unless Bolt answered 200 (and `expect` is in the body). */
async function send(pool: Pool, body: string, expect?: string): Promise<number> {
  const headers = signed(body);
  const t0 = performance.now();
  const res = await pool.request({ path: '/slack/events', method: 'POST', headers, body });
  const text = await res.body.text();
  const ms = performance.now() - t0;
  if (res.statusCode !== 200 || (expect && !text.includes(expect)))
    throw new Error(`unexpected answer ${res.statusCode}: ${text.slice(0, 300)}`);
  if (expect === QUEUED) queuedAnswers += 1;
  return ms;
}

interface Target {
  name: string;
  origin: string;
  expect?: string;
  seq: Pool;
  burst: Pool;
  child: Child;
}

function target(name: string, child: Child, expect?: string): Target {
  const origin = `http://127.0.0.1:${child.ready.port as number}`;
  return {
    name,
    origin,
    ...(expect ? { expect } : {}),
    seq: new Pool(origin, { connections: 1 }),
    burst: new Pool(origin, { connections: BURST, pipelining: 1 }),
    child,
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: which process used the machine during a load
// ---------------------------------------------------------------------------------------------

let services: Services;
/** A client of the benchmark's Redis, to read its statistics. */
let redisInfo: Redis;

/**
 * CPU ms used so far by: the load generator (this process), an app, Redis, FerretDB, the machine;
 * and Redis's count of socket reads it has processed (one per batch of commands a client sends).
 */
interface CpuSnap {
  client: number;
  app: number;
  redis: number;
  mongo: number;
  busy: number;
  total: number;
  redisReads: number;
  /** The machine's busy and total CPU time while the load itself ran (not while settling after). */
  loadBusy: number;
  loadTotal: number;
}
async function cpuSnap(t: Target): Promise<CpuSnap> {
  const info = await redisInfo.info('stats');
  const m = machineCpuMs();
  return {
    client: selfCpuMs(),
    app: procCpuMs(t.child.child.pid),
    redis: procCpuMs(services.pids.redis),
    mongo: procCpuMs(services.pids.mongo),
    busy: m.busy,
    total: m.total,
    loadBusy: m.busy,
    loadTotal: m.total,
    redisReads: Number(/total_reads_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN),
  };
}
const ZERO: CpuSnap = {
  client: 0,
  app: 0,
  redis: 0,
  mongo: 0,
  busy: 0,
  total: 0,
  redisReads: 0,
  loadBusy: 0,
  loadTotal: 0,
};
function cpuAdd(acc: CpuSnap, a: CpuSnap, b: CpuSnap): CpuSnap {
  const out = { ...acc };
  for (const k of Object.keys(out) as Array<keyof CpuSnap>) out[k] += b[k] - a[k];
  return out;
}

/** Every app of the run (set once they are started). */
let allTargets: Target[] = [];

/**
 * Waits until the apps, Redis and FerretDB are all idle (each under 5% of a CPU over 200 ms; at
 * most 20 s). A click's work after its ack (store reads, the response_url post) can outlast the
 * load; without this it would run during the next app's turn, slowing that app and being counted
 * as that app's CPU.
 */
async function quiesce(): Promise<void> {
  const pids = [...allTargets.map((t) => t.child.child.pid), services.pids.redis, services.pids.mongo];
  const deadline = Date.now() + 20_000;
  let prev = pids.map((p) => procCpuMs(p));
  for (;;) {
    await sleep(200);
    const now = pids.map((p) => procCpuMs(p));
    const busy = now.some((v, i) => v - prev[i]! > 10);
    prev = now;
    if (!busy || Date.now() > deadline) return;
  }
}

/**
 * Runs `load` against `t` and lets everything settle; returns the load's result and the CPU used
 * from its start until all was idle again (so an app's work after its acks counts as its own), with
 * the machine's busy share taken over the load only.
 */
async function metered<T>(t: Target, load: () => Promise<T>): Promise<{ out: T; cpu: CpuSnap }> {
  const c0 = await cpuSnap(t);
  const out = await load();
  const end = machineCpuMs();
  await quiesce();
  const cpu = cpuAdd(ZERO, c0, await cpuSnap(t));
  cpu.loadBusy = end.busy - c0.busy;
  cpu.loadTotal = end.total - c0.total;
  return { out, cpu };
}
interface CpuRow {
  load: string;
  target: string;
  n: number;
  cpu: CpuSnap;
}
const cpuRows: CpuRow[] = [];

function printCpu(): void {
  console.log(
    '\nCPU per request (µs; /proc times, 10 ms resolution) and machine use during each load ' +
      `(${os.availableParallelism()} CPUs; "other" = machine busy − the four processes)`,
  );
  const us = (ms: number, n: number) => fmt((ms * 1000) / n, 0);
  printTable(
    ['load', 'app', 'client', 'app', 'redis', 'ferretdb', 'other', 'all', 'machine busy', 'redis reads/req'],
    cpuRows.map(({ load, target: t, n, cpu: c }) => {
      const listed = c.client + c.app + c.redis + c.mongo;
      return [
        load,
        t,
        us(c.client, n),
        us(c.app, n),
        us(c.redis, n),
        us(c.mongo, n),
        us(c.busy - listed, n),
        us(c.busy, n),
        `${fmt((100 * c.loadBusy) / c.loadTotal, 0)}%`,
        fmt(c.redisReads / n, 2),
      ];
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Profiles (--profile)
// ---------------------------------------------------------------------------------------------

const PROFILE_ARG = process.argv.find((a) => a === '--profile' || a.startsWith('--profile='));
const PROFILE_DIR = PROFILE_ARG
  ? PROFILE_ARG.includes('=')
    ? path.resolve(PROFILE_ARG.slice('--profile='.length))
    : path.join(os.tmpdir(), `dc-bench-ack-prof-${process.pid}`)
  : undefined;

function askChild<T>(c: Child, msg: Record<string, unknown>, answer: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (!m || !(answer in m)) return;
      c.child.off('message', on);
      resolve(m[answer] as T);
    };
    c.child.on('message', on);
    c.child.send(msg);
  });
}

/** Starts the CPU profiler in `t`'s process (with --profile). */
async function profileStart(t: Target): Promise<void> {
  if (PROFILE_DIR) await askChild(t.child, { prof: 'start' }, 'profStarted');
}

/** Stops it, writes the profile and prints where the CPU per request went. */
async function profileStop(t: Target, label: string, requests: number): Promise<void> {
  if (!PROFILE_DIR) return;
  const file = path.join(PROFILE_DIR, `${label}-${t.name.replace(/\W+/g, '_')}.cpuprofile`);
  await askChild(t.child, { prof: 'stop', file }, 'profWritten');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  printSummary(`profile of ${t.name}, ${label} (${file})`, summarise(profile, ROOT), requests, 30);
}

/** 1 request at a time, alternating between the targets so drift in machine load hits all alike. */
async function sequential(
  targets: Target[],
  make: BodyMaker,
  n: number,
  cpuLabel?: string,
): Promise<Figures[]> {
  const lat = targets.map(() => [] as number[]);
  const before = await Promise.all(targets.map((t) => cpuSnap(t)));
  for (let i = 0; i < n; i++)
    for (const [k, t] of targets.entries()) lat[k]!.push(await send(t.seq, make(), t.expect));
  await quiesce();
  if (cpuLabel) {
    // Requests alternate, so only each app's own CPU is its own. Redis and FerretDB are shown for
    // our bot when it is the only one (the bare app uses neither); the client and the machine are
    // shared by all.
    const shared = targets.length > REFERENCES + 1 ? Number.NaN : 1;
    for (const [k, t] of targets.entries()) {
      const c = cpuAdd(ZERO, before[k]!, await cpuSnap(t));
      const bare = k < REFERENCES;
      cpuRows.push({
        load: cpuLabel,
        target: t.name,
        n,
        cpu: {
          ...c,
          client: Number.NaN,
          redis: bare ? 0 : c.redis * shared,
          mongo: bare ? 0 : c.mongo * shared,
          redisReads: bare ? 0 : c.redisReads * shared,
          busy: Number.NaN,
          loadBusy: Number.NaN,
        },
      });
    }
  }
  return lat.map((l) => ({
    p50: percentile(l, 50),
    p99: percentile(l, 99),
    rps: 1000 / mean(l),
    n: l.length,
  }));
}

/** `count` bursts of BURST simultaneous requests per target, alternating targets. */
async function bursts(
  targets: Target[],
  make: BodyMaker,
  count: number,
  cpuLabel?: string,
): Promise<Figures[]> {
  const lat = targets.map(() => [] as number[]);
  const wall = targets.map(() => 0);
  const cpu = targets.map(() => ZERO);
  for (let b = 0; b < count; b++) {
    for (const [k, t] of targets.entries()) {
      const bodies = Array.from({ length: BURST }, make);
      const { out, cpu: used } = await metered(t, async () => {
        const t0 = performance.now();
        const all = await Promise.all(bodies.map((body) => send(t.burst, body, t.expect)));
        return { all, ms: performance.now() - t0 };
      });
      wall[k]! += out.ms;
      cpu[k] = cpuAdd(cpu[k]!, ZERO, used);
      lat[k]!.push(...out.all);
    }
  }
  if (cpuLabel)
    for (const [k, t] of targets.entries())
      cpuRows.push({ load: cpuLabel, target: t.name, n: count * BURST, cpu: cpu[k]! });
  return lat.map((l, k) => ({
    p50: percentile(l, 50),
    p99: percentile(l, 99),
    rps: (count * BURST * 1000) / wall[k]!,
    n: l.length,
  }));
}

/** Length of one slice of a sustained load: the targets take turns, one slice each. */
const SLICE_S = 4;

/**
 * 50 connections in a closed loop for `seconds` per target, cut into slices of about SLICE_S
 * seconds that alternate between the targets (the order rotating each round), so that drifting
 * load from other work on the machine hits every target alike. Latencies are each response's
 * (autocannon's `response` event, in fractional ms), pooled over the slices.
 */
async function sustained(
  targets: Target[],
  make: BodyMaker,
  seconds: number,
  opts: { cpuLabel?: string; profileLabel?: string } = {},
): Promise<Figures[]> {
  const slices = Math.max(1, Math.round(seconds / SLICE_S));
  const acc = targets.map(() => ({ lat: [] as number[], n: 0, s: 0, cpu: ZERO }));
  if (opts.profileLabel) await Promise.all(targets.map((t) => profileStart(t)));
  for (let round = 0; round < slices; round++) {
    for (let i = 0; i < targets.length; i++) {
      const k = (i + round) % targets.length;
      const t = targets[k]!;
      const a = acc[k]!;
      const { out: r, cpu } = await metered(t, async () => {
        const run = autocannon({
          url: `${t.origin}/slack/events`,
          connections: 50,
          duration: seconds / slices,
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => {
                const body = make();
                return { ...req, method: 'POST', path: '/slack/events', body, headers: signed(body) };
              },
            },
          ],
        });
        run.on('response', (_client, _status, _bytes, ms) => a.lat.push(ms));
        return await run;
      });
      if (r.non2xx || r.errors)
        throw new Error(`${t.name}: ${r.non2xx} non-2xx answers and ${r.errors} errors under sustained load`);
      a.n += r.requests.total;
      a.s += r.duration;
      a.cpu = cpuAdd(a.cpu, ZERO, cpu);
    }
  }
  if (opts.profileLabel) {
    const label = opts.profileLabel;
    for (const [k, t] of targets.entries()) await profileStop(t, label, acc[k]!.n);
  }
  if (opts.cpuLabel)
    for (const [k, t] of targets.entries())
      cpuRows.push({ load: opts.cpuLabel, target: t.name, n: acc[k]!.n, cpu: acc[k]!.cpu });
  return acc.map((a) => ({ p50: percentile(a.lat, 50), p99: percentile(a.lat, 99), rps: a.n / a.s, n: a.n }));
}

/** The reference apps, first among the targets: stock bare Bolt, then bare Bolt on our receiver. */
const REFERENCES = 2;

interface Row {
  load: string;
  bare: Figures;
  /** The bare app on our receiver. */
  bareSame: Figures;
  /** One per variant of our bot, in the order of `variants`. */
  ours: Figures[];
  /** p99 ≤ this many ms is also a goal (1 request at a time). */
  absP99?: number;
}

function report(
  title: string,
  variant: string,
  k: number,
  rows: Row[],
  ref: 'bare' | 'bareSame' = 'bare',
): boolean {
  console.log(`\n${title} — ${variant} vs ${ref === 'bare' ? 'bare Bolt' : 'bare Bolt on our receiver'}`);
  let allMet = true;
  printTable(
    [
      'load',
      'n',
      'bare p50',
      'bare p99',
      'bare req/s',
      'ours p50',
      'ours p99',
      'ours req/s',
      'p99 ratio',
      'req/s ratio',
      'goal',
    ],
    rows.map((r) => {
      const o = r.ours[k]!;
      const b = r[ref];
      const p99r = o.p99 / b.p99;
      const rpsr = o.rps / b.rps;
      const met = p99r <= 1.2 && rpsr >= 0.8 && (r.absP99 === undefined || o.p99 <= r.absP99);
      allMet &&= met;
      return [
        r.load,
        o.n,
        fmt(b.p50, 2),
        fmt(b.p99, 2),
        fmt(b.rps, 0),
        fmt(o.p50, 2),
        fmt(o.p99, 2),
        fmt(o.rps, 0),
        `${fmt(p99r, 2)}x`,
        `${fmt(rpsr, 2)}x`,
        verdict(met),
      ];
    }),
  );
  return allMet;
}

const WHAT_IF_MEMO = process.argv.includes('--what-if-memo');
const QUICK = process.argv.includes('--quick');
const BEFORE_DIR = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);

async function main(): Promise<void> {
  header(
    `ack path: our bot vs bare Bolt (ms; sustained ${SUSTAINED_S} s slash, ${CLICK_SUSTAINED_S} s click)` +
      (WHAT_IF_MEMO ? '; what-if: checklist parse memoised' : ''),
  );
  services = await startServices({ redis: true, mongo: true });
  redisInfo = new Redis(services.redisUrl!);
  onExit(() => void redisInfo.disconnect());
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    console.log(`profiling both apps during the sustained loads; profiles in ${PROFILE_DIR}`);
  }
  const profHook = PROFILE_DIR
    ? ['--import', pathToFileURL(path.join(ROOT, 'bench/lib/prof-hook.mjs')).href]
    : [];
  const fake: SlackFake = await startSlackFake({
    tokens: [TOKEN],
    team: { id: TEAM, domain: 'bench' },
    usergroups: { S0LEADS01: ['U0LEAD001'] },
  });
  onExit(() => fake.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-bench-ack-'));
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(path.join(ROOT, 'test/fixtures/e2e-checklists/e2e.yml'), path.join(dir, 'e2e.yml'));
  copyFileSync(path.join(ROOT, 'checklists/clientsvia.yml'), path.join(dir, 'clientsvia.yml'));

  const slackEnv = { SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: fake.url };
  const botEnv = (prefix: string) => ({
    ...slackEnv,
    SLACK_RETRIES: '0',
    REDIS_URL: services.redisUrl!,
    MONGODB_URI: services.mongoUri!,
    MONGODB_DB: DB,
    QUEUE_PREFIX: prefix,
    CHECKLISTS_DIR: dir,
    PORT: '0',
    LOG_LEVEL: 'silent',
  });
  /** Our bot with one of bench/lib/whatif-hooks.mjs's swaps, when its flag is given. */
  const whatIf = (on: boolean, swap: string, what: string) =>
    on
      ? [
          {
            name: `our bot + ${what} (what-if)`,
            prefix: `${PREFIX}-${swap}`,
            execArgv: ['--import', './bench/lib/whatif-hooks.mjs'],
            env: { BENCH_WHATIF: swap },
          },
        ]
      : [];
  const variants = [
    { name: 'our bot', prefix: PREFIX, execArgv: [] as string[], env: {} as Record<string, string> },
    ...whatIf(WHAT_IF_MEMO, 'memo', 'memoised parse'),
    // --before=DIR: our bot as it is in another checkout (e.g. `git archive HEAD` unpacked, with a
    // node_modules link), so before/after figures come from the same run.
    ...(BEFORE_DIR
      ? [{ name: 'before', prefix: `${PREFIX}-before`, execArgv: [] as string[], env: {}, cwd: BEFORE_DIR }]
      : []),
    // --checkout=NAME:DIR (repeatable): as --before, under another name.
    ...process.argv
      .filter((arg) => arg.startsWith('--checkout='))
      .map((arg, k) => {
        const [name, cwd] = arg.slice('--checkout='.length).split(':') as [string, string];
        return { name, prefix: `${PREFIX}-c${k}`, execArgv: [] as string[], env: {}, cwd };
      }),
    // --variant=NAME:K=V,K=V (repeatable): our bot again with extra environment, in the same run.
    ...process.argv
      .filter((arg) => arg.startsWith('--variant='))
      .map((arg, k) => {
        const [name, kv = ''] = arg.slice('--variant='.length).split(':');
        const env = Object.fromEntries(
          kv
            .split(',')
            .filter(Boolean)
            .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
        );
        return { name: `our bot, ${name}`, prefix: `${PREFIX}-v${k}`, execArgv: [] as string[], env };
      }),
  ];
  const prof = process.env.BENCH_CPU_PROF;
  const [bare, bareSame, ...bots]: Child[] = await Promise.all([
    forkTs('bench/lib/bare-bolt.ts', { env: slackEnv, afterTsx: profHook }),
    forkTs('bench/lib/bare-bolt.ts', { env: { ...slackEnv, BARE_RECEIVER: 'ours' }, afterTsx: profHook }),
    // BENCH_CPU_PROF=DIR writes a V8 CPU profile of each bot there (on exit) to see where time goes.
    ...variants.map((v) =>
      forkTs('src/bot.ts', {
        execArgv: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
        afterTsx: [...v.execArgv, ...profHook],
        env: { ...botEnv(v.prefix), ...v.env },
        ...('cwd' in v && v.cwd ? { cwd: path.resolve(v.cwd) } : {}),
      }),
    ),
  ]);
  const bareT = target('bare', bare!);
  const bareSameT = target('bare, our receiver', bareSame!);
  const oursT = bots.map((b, k) => target(variants[k]!.name, b, QUEUED));
  const all = [bareT, bareSameT, ...oursT];
  const stopAll = () => Promise.all([bare!.stop(), bareSame!.stop(), ...bots.map((b) => b.stop())]);
  allTargets = all;
  const sharedResponseUrl = fake.responseUrl({ user: 'U0REQUEST' });
  const slash =
    (text: string): BodyMaker =>
    () =>
      slashCommandBody({
        team_id: TEAM,
        channel_id: CHANNEL,
        user_id: 'U0REQUEST',
        command: '/deploy-check',
        text,
        trigger_id: newTriggerId(),
        response_url: sharedResponseUrl,
      });
  const runE2e = slash('run e2e staging');
  const runClientsvia = slash('run clientsvia production');
  // Warm-up (JIT, connections, Bolt's one auth.test): not reported.
  await sequential(all, runE2e, 100);
  await bursts(all, runE2e, 1);
  queuedAnswers = 0;

  const slashRows: Row[] = [];
  const [sb, sbs, ...so] = await sequential(all, runE2e, SEQUENTIAL, 'run, 1 at a time');
  slashRows.push({ load: `1 at a time (${SEQUENTIAL})`, bare: sb!, bareSame: sbs!, ours: so, absP99: 10 });
  const [bb, bbs, ...bo] = await bursts(all, runE2e, BURSTS, `run, burst ${BURST}`);
  slashRows.push({ load: `burst ${BURST} at once x${BURSTS}`, bare: bb!, bareSame: bbs!, ours: bo });
  const [sustBare, sustBareSame, ...sustOurs] = await sustained(all, runE2e, SUSTAINED_S, {
    cpuLabel: 'run, 50 conns',
    profileLabel: 'run-50conns',
  });
  slashRows.push({
    load: `50 conns ${SUSTAINED_S} s`,
    bare: sustBare!,
    bareSame: sustBareSame!,
    ours: sustOurs,
  });
  if (QUICK) {
    // --quick: only the `run` loads above (to compare variants quickly).
    for (const [k, v] of variants.entries()) {
      report('/deploy-check run e2e (4-item checklist)', v.name, k, slashRows);
      report('/deploy-check run e2e (4-item checklist)', v.name, k, slashRows, 'bareSame');
    }
    printCpu();
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    await stopAll();
    return;
  }
  // The shipped 90-item checklist: its YAML is parsed and validated on every `run` before the ack.
  const CV_SEQ = 40;
  const CV_S = Math.min(4, SUSTAINED_S);
  const [cb, cbs, ...co] = await sequential(all, runClientsvia, CV_SEQ);
  const clientsviaRows: Row[] = [
    { load: `1 at a time (${CV_SEQ})`, bare: cb!, bareSame: cbs!, ours: co, absP99: 10 },
  ];
  const sustC = await sustained(oursT, runClientsvia, CV_S);
  clientsviaRows.push({
    load: `50 conns ${CV_S} s (bare: e2e figures)`,
    bare: sustBare!,
    bareSame: sustBareSame!,
    ours: sustC,
  });

  // Every answered run request enqueued exactly one job (unique trigger ids → unique run ids).
  const answered = queuedAnswers + [...sustOurs, ...sustC].reduce((n, f) => n + f.n, 0);
  const queues = variants.map(
    (v) => new Queue('runs', { connection: { url: services.redisUrl! }, prefix: v.prefix }),
  );
  let queued = 0;
  for (const q of queues) queued += await q.count();
  const warmupRuns = (100 + BURST) * variants.length;
  const stoppedSlices =
    variants.length *
    (Math.max(1, Math.round(SUSTAINED_S / SLICE_S)) + Math.max(1, Math.round(CV_S / SLICE_S)));

  // Clicks: dc_tick by the item's owner on a real run (created in the store here). The first
  // click ticks; every later one is a duplicate that our app answers via response_url
  // ("already ticked") after the same reads as a first tick: the run's view (5 finds + checklist
  // parse) and the owner's groups (Redis cache).
  const mongo = await MongoClient.connect(services.mongoUri!);
  onExit(() => mongo.close());
  const store = new RunStore(mongo.db(DB));
  const checklist = loadChecklistFile(path.join(dir, 'e2e.yml'));
  const runId = 'r-benchclick1';
  await store.createRun(
    runDoc(
      {
        runId,
        tenant: { teamId: TEAM },
        checklist: 'e2e',
        vars: checklist.vars,
        channel: CHANNEL,
        requester: 'U0REQUEST',
      },
      checklist,
      new Date(),
    ),
  );
  const value = encodeValue([runId, 'signoff/backup']);
  const click: BodyMaker = () =>
    interactionBody(
      blockActionsPayload({
        action: { action_id: 'dc_tick', block_id: 'phase-signoff-backup', value, text: 'Done' },
        message: { ts: '1700000000.000100', channel: CHANNEL, text: 'Phase 2: People' },
        user: { id: 'U0OWNER01', name: 'owner' },
        team: { id: TEAM, domain: 'bench' },
        channel: { id: CHANNEL, name: 'deploys' },
        response_url: fake.responseUrl({ channel: CHANNEL, user: 'U0OWNER01' }),
      }),
    );
  const clickTargets = all.map((t) => ({ ...t, expect: undefined }) as Target);
  await sequential(clickTargets, click, 50);
  const clickRows: Row[] = [];
  const CLICK_SEQ = 300;
  const [kb, kbs, ...ko] = await sequential(clickTargets, click, CLICK_SEQ, 'click, 1 at a time');
  clickRows.push({ load: `1 at a time (${CLICK_SEQ})`, bare: kb!, bareSame: kbs!, ours: ko, absP99: 10 });
  const [kbb, kbbs, ...kbo] = await bursts(clickTargets, click, 3, `click, burst ${BURST}`);
  clickRows.push({ load: `burst ${BURST} at once x3`, bare: kbb!, bareSame: kbbs!, ours: kbo });
  const [kSb, kSbs, ...kSo] = await sustained(clickTargets, click, CLICK_SUSTAINED_S, {
    cpuLabel: 'click, 50 conns',
    profileLabel: 'click-50conns',
  });
  clickRows.push({ load: `50 conns ${CLICK_SUSTAINED_S} s`, bare: kSb!, bareSame: kSbs!, ours: kSo });
  const ticks = await store.ticks.countDocuments({ runId });

  const met: string[] = [];
  for (const [k, v] of variants.entries()) {
    const a = report('/deploy-check run e2e (4-item checklist)', v.name, k, slashRows);
    const b = report('/deploy-check run clientsvia (90-item shipped checklist)', v.name, k, clientsviaRows);
    const c = report('button click dc_tick (block_actions)', v.name, k, clickRows);
    met.push(`${v.name}: run e2e ${verdict(a)}, run clientsvia ${verdict(b)}, click ${verdict(c)}`);
    const a2 = report('/deploy-check run e2e (4-item checklist)', v.name, k, slashRows, 'bareSame');
    const c2 = report('button click dc_tick (block_actions)', v.name, k, clickRows, 'bareSame');
    met.push(
      `${v.name} vs bare Bolt on our receiver (not the goal): run e2e ${verdict(a2)}, click ${verdict(c2)}`,
    );
  }
  printCpu();
  console.log(
    `\nsanity: ${queued - warmupRuns} run jobs queued for ${answered} answered run requests ` +
      `(expected equal, or up to ${50 * stoppedSlices} more: at most 50 requests in flight each ` +
      `of the ${stoppedSlices} times autocannon stopped); ` +
      `${ticks} tick recorded for all clicks (expected 1)`,
  );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`goals (p99 ≤ 1.2x bare, req/s ≥ 0.8x, 1-at-a-time p99 ≤ 10 ms):\n  ${met.join('\n  ')}`);
  for (const q of queues) {
    await q.obliterate({ force: true });
    await q.close();
  }
  for (const t of all) await Promise.all([t.seq.close(), t.burst.close()]);
  await stopAll();
}

runMain(main);

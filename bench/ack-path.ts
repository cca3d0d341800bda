/**
 * The ack path: our bot's full slash-command path (signature check, parse, load + validate the
 * checklist, derive the run id from the trigger id, ack, enqueue on BullMQ) against a bare Bolt 5
 * app that only acks (bench/lib/bare-bolt.ts): same HTTPReceiver, same Slack Web API fake, same
 * client, in the same script run. Then the same for a button click (`dc_tick`).
 *
 *   npx tsx bench/ack-path.ts [sustainedSeconds=20]
 *
 * Both apps run as child processes (our bot is src/bot.ts exactly as in production, LOG_LEVEL
 * silent; Redis and the FerretDB test server started here); the client runs in this process.
 * Loads:
 *   - 1 request at a time: 500 requests, alternating between the two apps (noise hits both alike);
 *   - a burst of 200 requests sent at once (200 connections), 5 bursts after a warm-up one;
 *   - 50 connections for N seconds (closed loop, autocannon; each request built and signed in
 *     `setupRequest`, so every `run` carries a unique trigger_id and really enqueues a new run).
 * Every `run` request gets a unique trigger_id, so every one enqueues a job (checked at the end).
 * Latencies: our own client in µs for the first two loads; autocannon's whole milliseconds for
 * the sustained one.
 */

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { MongoClient } from 'mongodb';
import { Pool } from 'undici';
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
  mean,
  onExit,
  percentile,
  printTable,
  ROOT,
  runMain,
  startServices,
  verdict,
} from './lib/common.js';

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
}) => Promise<AutocannonResult>;
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
}

function target(name: string, port: number, expect?: string): Target {
  const origin = `http://127.0.0.1:${port}`;
  return {
    name,
    origin,
    ...(expect ? { expect } : {}),
    seq: new Pool(origin, { connections: 1 }),
    burst: new Pool(origin, { connections: BURST, pipelining: 1 }),
  };
}

/** 1 request at a time, alternating between the targets so drift in machine load hits all alike. */
async function sequential(targets: Target[], make: BodyMaker, n: number): Promise<Figures[]> {
  const lat = targets.map(() => [] as number[]);
  for (let i = 0; i < n; i++)
    for (const [k, t] of targets.entries()) lat[k]!.push(await send(t.seq, make(), t.expect));
  return lat.map((l) => ({
    p50: percentile(l, 50),
    p99: percentile(l, 99),
    rps: 1000 / mean(l),
    n: l.length,
  }));
}

/** `count` bursts of BURST simultaneous requests per target, alternating targets. */
async function bursts(targets: Target[], make: BodyMaker, count: number): Promise<Figures[]> {
  const lat = targets.map(() => [] as number[]);
  const wall = targets.map(() => 0);
  for (let b = 0; b < count; b++) {
    for (const [k, t] of targets.entries()) {
      const bodies = Array.from({ length: BURST }, make);
      const t0 = performance.now();
      const all = await Promise.all(bodies.map((body) => send(t.burst, body, t.expect)));
      wall[k]! += performance.now() - t0;
      lat[k]!.push(...all);
    }
  }
  return lat.map((l, k) => ({
    p50: percentile(l, 50),
    p99: percentile(l, 99),
    rps: (count * BURST * 1000) / wall[k]!,
    n: l.length,
  }));
}

async function sustained(t: Target, make: BodyMaker, seconds: number): Promise<Figures> {
  const r = await autocannon({
    url: `${t.origin}/slack/events`,
    connections: 50,
    duration: seconds,
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
  if (r.non2xx || r.errors)
    throw new Error(`${t.name}: ${r.non2xx} non-2xx answers and ${r.errors} errors under sustained load`);
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.total / r.duration, n: r.requests.total };
}

interface Row {
  load: string;
  bare: Figures;
  /** One per variant of our bot, in the order of `variants`. */
  ours: Figures[];
  /** p99 ≤ this many ms is also a goal (1 request at a time). */
  absP99?: number;
}

function report(title: string, variant: string, k: number, rows: Row[]): boolean {
  console.log(`\n${title} — ${variant} vs bare Bolt`);
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
      const p99r = o.p99 / r.bare.p99;
      const rpsr = o.rps / r.bare.rps;
      const met = p99r <= 1.2 && rpsr >= 0.8 && (r.absP99 === undefined || o.p99 <= r.absP99);
      allMet &&= met;
      return [
        r.load,
        o.n,
        fmt(r.bare.p50, 2),
        fmt(r.bare.p99, 2),
        fmt(r.bare.rps, 0),
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

async function main(): Promise<void> {
  header(
    `ack path: our bot vs bare Bolt (ms; sustained ${SUSTAINED_S} s slash, ${CLICK_SUSTAINED_S} s click)` +
      (WHAT_IF_MEMO ? '; what-if: checklist parse memoised' : ''),
  );
  const services = await startServices({ redis: true, mongo: true });
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
  const variants = [
    { name: 'our bot', prefix: PREFIX, execArgv: [] as string[], env: {} as Record<string, string> },
    ...(WHAT_IF_MEMO
      ? [
          {
            name: 'our bot + memoised parse (what-if)',
            prefix: `${PREFIX}-memo`,
            execArgv: ['--import', './bench/lib/whatif-hooks.mjs'],
            env: { BENCH_WHATIF: 'memo' },
          },
        ]
      : []),
  ];
  const prof = process.env.BENCH_CPU_PROF;
  const [bare, ...bots]: Child[] = await Promise.all([
    forkTs('bench/lib/bare-bolt.ts', { env: slackEnv }),
    // BENCH_CPU_PROF=DIR writes a V8 CPU profile of each bot there (on exit) to see where time goes.
    ...variants.map((v) =>
      forkTs('src/bot.ts', {
        execArgv: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
        afterTsx: v.execArgv,
        env: { ...botEnv(v.prefix), ...v.env },
      }),
    ),
  ]);
  const bareT = target('bare', bare!.ready.port as number);
  const oursT = bots.map((b, k) => target(variants[k]!.name, b.ready.port as number, QUEUED));
  const all = [bareT, ...oursT];
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
  const sustainedAll = async (targets: Target[], make: BodyMaker, seconds: number) => {
    const out: Figures[] = [];
    for (const t of targets) out.push(await sustained(t, make, seconds));
    return out;
  };

  // Warm-up (JIT, connections, Bolt's one auth.test): not reported.
  await sequential(all, runE2e, 100);
  await bursts(all, runE2e, 1);
  queuedAnswers = 0;

  const slashRows: Row[] = [];
  const [sb, ...so] = await sequential(all, runE2e, SEQUENTIAL);
  slashRows.push({ load: `1 at a time (${SEQUENTIAL})`, bare: sb!, ours: so, absP99: 10 });
  const [bb, ...bo] = await bursts(all, runE2e, BURSTS);
  slashRows.push({ load: `burst ${BURST} at once x${BURSTS}`, bare: bb!, ours: bo });
  const [sustBare, ...sustOurs] = await sustainedAll(all, runE2e, SUSTAINED_S);
  slashRows.push({ load: `50 conns ${SUSTAINED_S} s`, bare: sustBare!, ours: sustOurs });
  // The shipped 90-item checklist: its YAML is parsed and validated on every `run` before the ack.
  const CV_SEQ = 40;
  const CV_S = Math.min(4, SUSTAINED_S);
  const [cb, ...co] = await sequential(all, runClientsvia, CV_SEQ);
  const clientsviaRows: Row[] = [{ load: `1 at a time (${CV_SEQ})`, bare: cb!, ours: co, absP99: 10 }];
  const sustC = await sustainedAll(oursT, runClientsvia, CV_S);
  clientsviaRows.push({ load: `50 conns ${CV_S} s (bare: e2e figures)`, bare: sustBare!, ours: sustC });

  // Every answered run request enqueued exactly one job (unique trigger ids → unique run ids).
  const answered = queuedAnswers + [...sustOurs, ...sustC].reduce((n, f) => n + f.n, 0);
  const queues = variants.map(
    (v) => new Queue('runs', { connection: { url: services.redisUrl! }, prefix: v.prefix }),
  );
  let queued = 0;
  for (const q of queues) queued += await q.count();
  const warmupRuns = (100 + BURST) * variants.length;

  // Clicks: dc_tick by the item's owner on a real run (created in the store here). The first
  // click ticks; every later one is a duplicate that our app answers via response_url
  // ("already ticked") after the same reads as a first tick: the run's view (5 finds + checklist
  // parse) and the owner's groups (Redis cache).
  const mongo = await MongoClient.connect(services.mongoUri!);
  onExit(() => mongo.close());
  const store = new RunStore(mongo.db(DB));
  const checklist = loadChecklistFile(path.join(dir, 'e2e.yml'));
  const runId = 'r-benchclick1';
  const now = new Date();
  await store.createRun({
    _id: runId,
    teamId: TEAM,
    checklist: 'e2e',
    title: checklist.spec.title ?? 'e2e',
    service: checklist.spec.service,
    vars: checklist.vars,
    digest: checklist.digest,
    source: checklist.source,
    file: checklist.file,
    channel: CHANNEL,
    requester: 'U0REQUEST',
    createdAt: now,
    status: 'running',
    updatedAt: now,
  });
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
  const [kb, ...ko] = await sequential(clickTargets, click, CLICK_SEQ);
  clickRows.push({ load: `1 at a time (${CLICK_SEQ})`, bare: kb!, ours: ko, absP99: 10 });
  const [kbb, ...kbo] = await bursts(clickTargets, click, 3);
  clickRows.push({ load: `burst ${BURST} at once x3`, bare: kbb!, ours: kbo });
  const [kSb, ...kSo] = await sustainedAll(clickTargets, click, CLICK_SUSTAINED_S);
  clickRows.push({ load: `50 conns ${CLICK_SUSTAINED_S} s`, bare: kSb!, ours: kSo });
  const ticks = await store.ticks.countDocuments({ runId });

  const met: string[] = [];
  for (const [k, v] of variants.entries()) {
    const a = report('/deploy-check run e2e (4-item checklist)', v.name, k, slashRows);
    const b = report('/deploy-check run clientsvia (90-item shipped checklist)', v.name, k, clientsviaRows);
    const c = report('button click dc_tick (block_actions)', v.name, k, clickRows);
    met.push(`${v.name}: run e2e ${verdict(a)}, run clientsvia ${verdict(b)}, click ${verdict(c)}`);
  }
  console.log(
    `\nsanity: ${queued - warmupRuns} run jobs queued for ${answered} answered run requests ` +
      '(expected equal, or a few more: requests in flight when autocannon stopped); ' +
      `${ticks} tick recorded for all clicks (expected 1)`,
  );
  console.log(`goals (p99 ≤ 1.2x bare, req/s ≥ 0.8x, 1-at-a-time p99 ≤ 10 ms):\n  ${met.join('\n  ')}`);
  for (const q of queues) {
    await q.obliterate({ force: true });
    await q.close();
  }
  for (const t of all) await Promise.all([t.seq.close(), t.burst.close()]);
  await Promise.all([bare!.stop(), ...bots.map((b) => b.stop())]);
}

runMain(main);

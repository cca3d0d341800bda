/**
 * Slack Web API writes per run, counted by the Slack fake (`writesCount({ okOnly: true })`), with
 * the real bot and worker processes (test/helpers/harness.ts), BullMQ on Redis and the FerretDB
 * store. Goal: writes ≤ phases + 2, plus 1 per human interaction.
 *
 *   npx tsx bench/slack-writes.ts
 *
 * Scenarios, one after the other in one harness:
 *   1. The shipped ClientsVia checklist (checklists/clientsvia.yml) against the demo target
 *      (examples/demo-target, profile healthy, vars as `deploy-check demo` sets them); then every
 *      manual item that got a Done button is ticked by its owner, and approvals given if asked.
 *   2. The e2e checklist (test/fixtures/e2e-checklists/e2e.yml) against a local 200 server:
 *      all probes pass, one manual tick, two approvals, the sign-off.
 * Interactions are spaced until the thread is quiet (no write for 1.5 s), as people click
 * seconds apart: clicks inside one coalescing window would share a write and flatter the count.
 * The reference is the budget itself (phases + 2 + interactions); the ratio is writes / budget.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { DEMO_CONFIG_TOKEN, startDemoTarget } from '../examples/demo-target/server.js';
import { loadChecklistFile } from '../src/checklist/load.js';
import type { Checklist } from '../src/checklist/model.js';
import { demoVars } from '../src/cli/demo.js';
import { decodeValue } from '../src/slack/render/actions.js';
import { CHANNEL, type Harness, startHarness } from '../test/helpers/harness.js';
import type { FakeMessage } from '../test/helpers/slack-fake.js';
import {
  fmt,
  header,
  onExit,
  printTable,
  ROOT,
  runMain,
  sleep,
  startServices,
  verdict,
  waitUntil,
} from './lib/common.js';

const REQUESTER = 'U0REQUEST1';
const QUIET_MS = 1500;

interface Outcome {
  scenario: string;
  phases: number;
  posted: number;
  autoWrites: number;
  interactions: number;
  writes: number;
  byMethod: Record<string, number>;
  /** Writes per message part (parent, phase:<id>, signoff), before people / after. */
  byPart: { probes: Record<string, number>; people: Record<string, number> };
  status: string;
  seconds: number;
}

function buttons(m: FakeMessage, actionId: string): string[] {
  const out: string[] = [];
  for (const b of (m.blocks ?? []) as Array<{
    elements?: Array<{ action_id?: string; value?: string }>;
    accessory?: { action_id?: string; value?: string };
  }>) {
    for (const el of [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])])
      if (el.action_id === actionId && el.value) out.push(el.value);
  }
  return out;
}

/** A user who may act as this principal list (first listed user of a role, or the user itself). */
function userFor(
  checklist: Checklist,
  owners: ReadonlyArray<{ user?: string; role?: string; group?: string }>,
): string {
  for (const o of owners) {
    if (o.user) return o.user;
    if (o.role) {
      const u = checklist.spec.roles[o.role]?.users[0];
      if (u) return u;
    }
  }
  throw new Error(`no user can act for ${JSON.stringify(owners)}`);
}

async function quiet(h: Harness, maxMs = 15_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = h.slack.writesCount();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(100);
    const now = h.slack.writesCount();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= QUIET_MS) return;
  }
}

async function drive(
  h: Harness,
  mongo: MongoClient,
  scenario: string,
  checklist: Checklist,
  text: string,
): Promise<Outcome> {
  const t0 = Date.now();
  const callsBefore = h.slack.calls().length;
  const writesBefore = h.slack.writesCount({ okOnly: true });
  const res = await h.slash(REQUESTER, text);
  const runId = /`(r-[a-z0-9]+)`/.exec(res.text)?.[1];
  if (!runId) throw new Error(`${scenario}: the run did not start: ${res.status} ${res.text.slice(0, 500)}`);
  const db = mongo.db(h.env.MONGODB_DB);
  await waitUntil(
    `${scenario}: probes done`,
    () => db.collection('facts').findOne({ _id: `${runId}|probes-done` as never }),
    75_000,
    200,
  );
  await quiet(h);
  const autoWrites = h.slack.writesCount({ okOnly: true }) - writesBefore;
  const callsAtPeople = h.slack.calls().length;

  const isOurs = (m: FakeMessage) =>
    (m.metadata as { event_payload?: { run?: string } } | undefined)?.event_payload?.run === runId;
  const parent = () => h.slack.messages(CHANNEL).find((m) => !m.thread_ts && isOurs(m))!;
  const thread = () => h.slack.messages(CHANNEL).filter((m) => m.thread_ts && isOurs(m));
  const items = new Map(checklist.phases.flatMap((p) => p.items).map((i) => [i.key, i]));

  let interactions = 0;
  const clicked = new Set<string>();
  for (;;) {
    const next = thread()
      .flatMap((m) => buttons(m, 'dc_tick').map((value) => ({ m, value })))
      .find((b) => !clicked.has(b.value));
    if (!next) break;
    clicked.add(next.value);
    const item = items.get(decodeValue(next.value)[1] ?? '');
    if (item?.kind !== 'manual') continue;
    await h.click(userFor(checklist, item.manual.owner as never), 'dc_tick', next.m, { value: next.value });
    interactions += 1;
    await quiet(h);
  }
  const gates = Array.isArray(checklist.spec.approvals)
    ? checklist.spec.approvals
    : checklist.spec.approvals
      ? [checklist.spec.approvals]
      : [];
  for (const gate of gates) {
    // One approver per role first (a gate over several roles wants each represented), then the rest.
    const perRole = gate.roles.map((r) => checklist.spec.roles[r]?.users ?? []);
    const voters = [
      ...new Set(
        [...perRole.map((us) => us[0]), ...perRole.flat()].filter((u): u is string => !!u && u !== REQUESTER),
      ),
    ];
    for (const voter of voters.slice(0, gate.required)) {
      const p = parent();
      const value = buttons(p, 'dc_approve')[0];
      if (!value) break; // no approval request: the run did not pass its gates
      await h.click(voter, 'dc_approve', p, { value });
      interactions += 1;
      await quiet(h);
    }
  }
  await quiet(h);
  const writes = h.slack.writesCount({ okOnly: true }) - writesBefore;
  const byMethod: Record<string, number> = {};
  const calls = h.slack.calls();
  for (const c of calls.slice(callsBefore))
    if (c.ok && /^(chat\.|views\.)/.test(c.method)) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
  // Which message each write touched: posts carry the part in their metadata; updates name a ts.
  const partOfTs = new Map<string, string>();
  for (const m of h.slack.messages(CHANNEL)) {
    const md = (m.metadata as { event_payload?: { run?: string; part?: string } } | undefined)?.event_payload;
    if (md?.run === runId && md.part) partOfTs.set(m.ts, md.part);
  }
  const byPart = { probes: {} as Record<string, number>, people: {} as Record<string, number> };
  for (const [i, c] of calls.entries()) {
    if (i < callsBefore || !c.ok || !/^(chat\.|views\.)/.test(c.method)) continue;
    const md = (c.args.metadata as { event_payload?: { part?: string } } | undefined)?.event_payload;
    const part = md?.part ?? partOfTs.get(String(c.args.ts)) ?? c.method;
    const bucket = i < callsAtPeople ? byPart.probes : byPart.people;
    bucket[part] = (bucket[part] ?? 0) + 1;
  }
  const run = await db.collection('runs').findOne({ _id: runId as never });
  return {
    scenario,
    phases: checklist.phases.length,
    posted: thread().length,
    autoWrites,
    interactions,
    writes,
    byMethod,
    byPart,
    status: String(run?.status ?? '?'),
    seconds: (Date.now() - t0) / 1000,
  };
}

async function main(): Promise<void> {
  header('Slack writes per run (bot + worker processes, BullMQ, FerretDB, Slack fake)');
  const services = await startServices({ redis: true, mongo: true });
  process.env.DC_TEST_REDIS_URL = services.redisUrl;
  process.env.DC_TEST_MONGODB_URI = services.mongoUri;

  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-bench-writes-'));
  copyFileSync(path.join(ROOT, 'checklists/clientsvia.yml'), path.join(dir, 'clientsvia.yml'));
  copyFileSync(path.join(ROOT, 'test/fixtures/e2e-checklists/e2e.yml'), path.join(dir, 'e2e.yml'));

  const demo = await startDemoTarget({ profile: 'healthy' });
  onExit(() => demo.close());
  const caFile = path.join(dir, 'demo-ca.pem');
  writeFileSync(caFile, demo.certPem);
  const vars = demoVars(demo, caFile);

  const ok = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'),
  );
  await new Promise<void>((r) => ok.listen(0, '127.0.0.1', r));
  onExit(() => {
    ok.closeAllConnections();
    ok.close();
  });
  const okUrl = `http://127.0.0.1:${(ok.address() as AddressInfo).port}`;

  const h = await startHarness({
    checklistsDir: dir,
    env: {
      DC_SECRET_CONFIG_API_TOKEN: DEMO_CONFIG_TOKEN,
      DC_SECRET_DEMO_CONFIG_TOKEN: DEMO_CONFIG_TOKEN,
    },
    usergroups: { S0LEADS01: ['U0LEAD001'], S0TECHLEAD1: [], S0BACKEND01: [], S0SRE00001: [] },
  });
  onExit(() => h.close());
  const mongo = await MongoClient.connect(h.env.MONGODB_URI!);
  onExit(() => mongo.close());

  const outcomes: Outcome[] = [];
  const clientsvia = loadChecklistFile(path.join(dir, 'clientsvia.yml'), vars);
  const varText = Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  outcomes.push(
    await drive(h, mongo, 'clientsvia vs demo (healthy)', clientsvia, `run clientsvia production ${varText}`),
  );
  const e2e = loadChecklistFile(path.join(dir, 'e2e.yml'), { baseUrl: okUrl });
  outcomes.push(await drive(h, mongo, 'e2e.yml, all pass', e2e, `run e2e staging baseUrl=${okUrl}`));

  printTable(
    [
      'scenario',
      'phases',
      'phase msgs',
      'writes (probes)',
      'interactions',
      'writes total',
      'budget',
      'writes/budget',
      'status',
      'goal',
    ],
    outcomes.map((o) => {
      const budget = o.phases + 2 + o.interactions;
      return [
        o.scenario,
        o.phases,
        o.posted,
        o.autoWrites,
        o.interactions,
        o.writes,
        budget,
        `${fmt(o.writes / budget, 2)}x`,
        o.status,
        verdict(o.writes <= budget && o.autoWrites <= o.phases + 2),
      ];
    }),
  );
  for (const o of outcomes)
    console.log(
      `${o.scenario}: ${Object.entries(o.byMethod)
        .map(([m, n]) => `${m} ${n}`)
        .join(
          ', ',
        )} (${fmt(o.seconds, 0)} s)\n  writes per message, probes: ${JSON.stringify(o.byPart.probes)}` +
        `\n  writes per message, people: ${JSON.stringify(o.byPart.people)}`,
    );
  await h.close();
}

runMain(main);

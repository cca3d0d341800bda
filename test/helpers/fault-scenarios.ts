/**
 * The fault scenarios, shared by the normal suite (test/e2e/faults-*.test.ts, short versions) and
 * the soak suite (test/soak/*.test.ts, the issue's full sizes). Each drives real runs of
 * `faults-flow` through the bot, the worker processes, BullMQ on Redis, the store and the Slack
 * fake — a manual tick, two approvals, the sign-off — and then checks what a user and the database
 * would see: every run closed, each message posted once, each tick and vote recorded and shown.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ACTIONS } from '../../src/slack/render/actions.js';
import { duplicateParts, parentOf, partsOf, pause, prng, slowTarget, textOf } from './faults.js';
import { CHANNEL, type Harness, type HarnessOptions, startHarness, waitFor } from './harness.js';
import { skipUnless } from './services.js';
import type { FakeMessage } from './slack-fake.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
export const OWNER = 'U0OWNER01';
export const APPROVERS = ['U0APPR001', 'U0APPR002'] as const;
export const REQUESTER = 'U0REQUEST';
export const FLOW_PARTS = ['parent', 'phase:probes', 'phase:people', 'phase:after', 'signoff'];
const FLOW_PROBES = 6;

export interface FaultRig {
  h: Harness;
  db: Db;
  baseUrl: string;
  /** The bot's and workers' output, for a failing test's report. */
  output(): string;
  close(): Promise<void>;
}

/** Bot + workers on the given services, the fixtures' checklists and a slow probe target. */
export async function startRig(opts: HarnessOptions & { mongoUri?: string }): Promise<FaultRig> {
  const target = await slowTarget();
  const h = await startHarness({
    checklistsDir: FIXTURES,
    ...opts,
    env: {
      // A killed worker's job is taken over after about this long.
      JOB_LOCK_MS: '2000',
      SLACK_PHASE_FIRST_WRITE_MS: '1000',
      // The sign-off reply is one more part that must be posted exactly once under faults.
      SLACK_SIGNOFF_REPLY: 'true',
      ...(process.env.DC_FAULTS_LOG_LEVEL ? { LOG_LEVEL: process.env.DC_FAULTS_LOG_LEVEL } : {}),
      ...opts.env,
    },
  });
  const mongo = new MongoClient(h.env.MONGODB_URI!, { serverSelectionTimeoutMS: 30_000 });
  await mongo.connect();
  return {
    h,
    db: mongo.db(h.env.MONGODB_DB),
    baseUrl: target.url,
    output: () =>
      [h.bot, ...h.workers]
        .map(
          (p, i) =>
            `--- ${i === 0 ? 'bot' : `worker ${i}`} (pid ${p.child.pid})\n${p.output.join('').slice(-20_000)}`,
        )
        .join('\n'),
    async close() {
      await h.close();
      await mongo.close();
      await target.close();
    },
  };
}

/** `/deploy-check run faults-flow`; returns the run id from the ack. */
export async function startRun(rig: FaultRig, checklist = 'faults-flow'): Promise<string> {
  const res = await rig.h.slash(REQUESTER, `run ${checklist} baseUrl=${rig.baseUrl}`);
  expect(res.status).toBe(200);
  const runId = /`(r-[a-z0-9]+)`/.exec(res.text)?.[1];
  if (!runId) throw new Error(`no run id in the ack: ${res.text}`);
  return runId;
}

function part(rig: FaultRig, runId: string, name: string): FakeMessage | undefined {
  for (const [key, list] of partsOf(rig.h.slack, runId)) if (key.endsWith(`|${name}`)) return list[0];
  return undefined;
}

/**
 * Acts as the people of a run would: the owner ticks the manual item when its button shows, then
 * both approvers approve when the request shows, and waits for the sign-off. With `clickRetries`,
 * a click the bot answered with a warning (e.g. its store was down) is made again, as a person
 * would; without, a click that records nothing fails the test (a lost tick or vote).
 */
export async function driveRun(
  rig: FaultRig,
  runId: string,
  opts: { timeoutMs: number; clickRetries?: number },
): Promise<void> {
  const { h } = rig;
  const deadline = Date.now() + opts.timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  const retries = opts.clickRetries ?? 0;
  const clickUntil = async (
    what: string,
    find: () => FakeMessage | undefined,
    user: string,
    action: string,
    recorded: () => Promise<boolean>,
  ) => {
    // A click the test already made (and the thread has caught up with) leaves no button to press.
    if (await recorded()) return;
    for (let attempt = 0; ; attempt++) {
      const message = await waitFor(`${runId}: ${what}`, find, left());
      const res = await h.click(user, action, message);
      expect(res.status).toBe(200);
      const ok = await waitFor(
        `${runId}: ${what} recorded`,
        async () => (await recorded()) || undefined,
        8000,
      )
        .then(() => true)
        .catch(() => false);
      if (ok) return;
      if (attempt >= retries) throw new Error(`${runId}: ${user}'s click on ${what} was lost`);
      log(runId, `${what}: click again`, JSON.stringify(h.slack.responses().slice(-2)));
    }
  };
  await clickUntil(
    'the Done button',
    () => {
      const m = part(rig, runId, 'phase:people');
      return m && textOf(m).includes(ACTIONS.tick) ? m : undefined;
    },
    OWNER,
    ACTIONS.tick,
    async () => (await rig.db.collection('ticks').countDocuments({ runId })) > 0,
  );
  for (const user of APPROVERS) {
    await clickUntil(
      'the approval request',
      () => {
        const p = parentOf(h.slack, CHANNEL, runId);
        return p && textOf(p).includes(ACTIONS.approve) ? p : undefined;
      },
      user,
      ACTIONS.approve,
      async () => (await rig.db.collection('votes').countDocuments({ runId, user })) > 0,
    );
  }
  await waitFor(
    `${runId}: the sign-off`,
    () => (/Approved/.test(textOf(part(rig, runId, 'signoff'))) ? true : undefined),
    left(),
  );
}

/**
 * What must hold for a finished faults-flow run: each part posted once and closed in its last
 * state; the tick and both votes in the store and in the messages; nothing left half-written.
 */
export async function verifyRun(rig: FaultRig, runId: string): Promise<void> {
  const parts = partsOf(rig.h.slack, runId);
  const counts = Object.fromEntries([...parts].map(([k, v]) => [k.split('|')[1]!, v.length]));
  expect(counts, `${runId}: messages per part`).toEqual(Object.fromEntries(FLOW_PARTS.map((p) => [p, 1])));

  for (const phase of ['phase:probes', 'phase:people', 'phase:after']) {
    const t = textOf(part(rig, runId, phase));
    expect(t, `${runId} ${phase}: no item left running or pending`).not.toMatch(/⏳|🔄|running…|_queued_/);
    expect(t, `${runId} ${phase}: no button left`).not.toContain(ACTIONS.tick);
  }
  const people = textOf(part(rig, runId, 'phase:people'));
  expect(people).toContain('Done by');
  expect(people).toContain(`<@${OWNER}>`);
  const signoff = textOf(part(rig, runId, 'signoff'));
  for (const a of APPROVERS) expect(signoff, `${runId}: sign-off names ${a}`).toContain(`<@${a}>`);
  expect(textOf(parentOf(rig.h.slack, CHANNEL, runId))).not.toContain(ACTIONS.approve);

  const { db } = rig;
  // The listing's status mirror is written last, after the sign-off message: let it land.
  await waitFor(
    `${runId}: the status mirror`,
    async () =>
      (await db.collection('runs').findOne({ _id: runId as never }))?.status === 'approved'
        ? true
        : undefined,
    10_000,
  ).catch(() => undefined);
  const run = await db.collection('runs').findOne({ _id: runId as never });
  expect(run?.status, `${runId}: status`).toBe('approved');
  const ticks = await db.collection('ticks').find({ runId }).toArray();
  expect(ticks.map((t) => t.by)).toEqual([OWNER]);
  const votes = await db.collection('votes').find({ runId }).toArray();
  expect(votes.map((v) => v.user).sort()).toEqual([...APPROVERS]);
  const results = await db.collection('results').find({ runId, round: 0 }).toArray();
  expect(results.filter((r) => r.result.kind === 'probe').length, `${runId}: probe results`).toBe(
    FLOW_PROBES,
  );
  const messages = await db.collection('messages').find({ runId }).toArray();
  expect(
    messages.filter((m) => !m.ts).map((m) => m.part),
    `${runId}: claimed but never recorded`,
  ).toEqual([]);
  expect(messages.length).toBe(FLOW_PARTS.length);
  const facts = new Set((await db.collection('facts').find({ runId }).toArray()).map((f) => f.kind));
  for (const k of ['started', 'probes-done', 'closed'])
    expect(facts.has(k), `${runId}: fact ${k}`).toBe(true);
  const audit = await db.collection('audit').find({ runId }).toArray();
  const actions = audit.map((a) => a.action);
  // What people did is recorded once each; the worker's own entries are never doubled.
  expect(actions.filter((a) => a === 'ticked').length).toBe(1);
  expect(actions.filter((a) => a === 'approved').length).toBe(2);
  expect(actions.filter((a) => a === 'run-started').length).toBeLessThanOrEqual(1);
  expect(actions.filter((a) => a === 'closed').length).toBeLessThanOrEqual(1);
}

/**
 * On failure, writes the bot's and workers' output (plus the run's store documents) to
 * `$TMPDIR/dc-faults/<name>.log` — the diagnosis of a fault test is in those lines.
 */
export function keepLogsOnFailure(rig: () => FaultRig | undefined, name: string): void {
  onTestFailed(async () => {
    const r = rig();
    if (!r) return;
    const dir = path.join(os.tmpdir(), 'dc-faults');
    mkdirSync(dir, { recursive: true });
    const docs: string[] = [];
    // A store that is down (the test may have failed mid-outage) must not hang the report.
    const reader = new MongoClient(r.h.env.MONGODB_URI!, { serverSelectionTimeoutMS: 2000 });
    for (const c of ['runs', 'facts', 'messages', 'votes', 'ticks', 'audit']) {
      const found = await reader
        .db(r.h.env.MONGODB_DB)
        .collection(c)
        .find({})
        .toArray()
        .then((list) => list.map((d) => JSON.stringify(d)).join('\n'))
        .catch((err: unknown) => `(store unreadable: ${String(err)})`);
      docs.push(`--- ${c}\n${found}`);
    }
    await reader.close().catch(() => undefined);
    const file = path.join(dir, `${name}.log`);
    writeFileSync(
      file,
      `${r.output()}\n${docs.join('\n')}\n--- response_url posts\n${r.h.slack
        .responses()
        .map((x) => `${new Date(x.at).toISOString()} ${x.status} ${JSON.stringify(x.body).slice(0, 300)}`)
        .join('\n')}\n--- slack calls\n${r.h.slack
        .calls()
        .map(
          (c) =>
            `${new Date(c.at).toISOString()} ${c.method} ${c.ok} ${JSON.stringify(c.args).slice(0, 300)}`,
        )
        .join('\n')}\n`,
    );
    process.stderr.write(`fault test logs: ${file}\n`);
  });
}

export function log(...args: unknown[]): void {
  if (process.env.DC_FAULTS_VERBOSE) console.log('[faults]', ...args);
}

const alive = (p: { child: { exitCode: number | null; signalCode: NodeJS.Signals | null } }) =>
  p.child.exitCode === null && p.child.signalCode === null;

/**
 * Keeps `inFlight` runs going (a new one starts as soon as one closes) while worker processes are
 * SIGKILLed at random moments (seeded, so a failure replays) and replaced, until `kills` kills have
 * struck; then lets the open runs finish. Each kill lands while runs are open.
 */
export async function workerKills(
  rig: FaultRig,
  opts: { kills: number; inFlight: number; seed: number; maxGapMs: number },
): Promise<{ runIds: string[]; kills: number; killsDuringRuns: number }> {
  const rand = prng(opts.seed);
  const runIds: string[] = [];
  const open = new Set<string>();
  let kills = 0;
  let killsDuringRuns = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (kills < opts.kills && failure === undefined) {
      const id = await startRun(rig);
      runIds.push(id);
      open.add(id);
      try {
        await driveRun(rig, id, { timeoutMs: 120_000 });
      } catch (err) {
        failure ??= err;
        throw err;
      } finally {
        open.delete(id);
      }
    }
  };
  const killer = async (): Promise<void> => {
    while (kills < opts.kills && failure === undefined) {
      await pause(100 + rand() * opts.maxGapMs);
      if (open.size === 0) continue;
      const live = rig.h.workers.filter(alive);
      const victim = live[Math.floor(rand() * live.length)]!;
      killsDuringRuns += 1;
      log(
        `kill ${kills}: pid ${victim.child.pid}; open runs:`,
        [...open].map(
          (id) => `${id} [${[...partsOf(rig.h.slack, id).keys()].map((p) => p.split('|')[1]).join(',')}]`,
        ),
      );
      await rig.h.kill(victim);
      kills += 1;
      await rig.h.startWorker();
    }
  };
  await Promise.all([killer(), ...Array.from({ length: opts.inFlight }, lane)]);
  return { runIds, kills, killsDuringRuns };
}

/** The Web API methods the bot and worker call; a storm fails all of them (response_url posts are another host). */
export const WEB_API_METHODS = [
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'conversations.replies',
  'conversations.history',
  'users.info',
  'usergroups.users.list',
  'views.open',
];

/**
 * A Slack API storm: for `ms`, every Web API call is answered 429 (Retry-After 1) or 500, switching
 * each second. Resolves when the storm is over.
 */
export async function slackStorm(rig: FaultRig, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; i++) {
    const slice = Math.min(1000, end - Date.now());
    for (const method of WEB_API_METHODS)
      rig.h.slack.failFor(slice, i % 2 === 0 ? { status: 429, retryAfter: 1 } : 500, { method });
    await pause(slice);
  }
}

/**
 * Runs go through probes, a tick, approvals and the sign-off while the Slack API storms for
 * `stormMs` from the moment their parent messages are up.
 */
export async function runsThroughStorm(
  rig: FaultRig,
  opts: { runs: number; stormMs: number },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < opts.runs; i++) ids.push(await startRun(rig));
  await waitFor('the parent messages', () =>
    ids.every((id) => parentOf(rig.h.slack, CHANNEL, id)) ? true : undefined,
  );
  const storm = slackStorm(rig, opts.stormMs);
  await Promise.all([storm, ...ids.map((id) => driveRun(rig, id, { timeoutMs: opts.stormMs + 120_000 }))]);
  return ids;
}

/**
 * The worker-kill scenario as a suite (the normal suite's short version and the soak's long one):
 * workers SIGKILLed at random points (seed DC_FAULTS_SEED, else the clock) while runs go through
 * probes, a tick, approvals and the sign-off; every run must finish, nothing duplicated or lost.
 */
export function describeWorkerKills(opts: {
  title: string;
  kills: number;
  inFlight: number;
  maxGapMs: number;
  timeoutMs: number;
}): void {
  const skip = skipUnless('redis') || skipUnless('mongodb');
  const seed = Number(process.env.DC_FAULTS_SEED ?? Date.now() % 100_000);
  describe.skipIf(skip)(opts.title, () => {
    let rig: FaultRig;

    beforeAll(async () => {
      rig = await startRig({ workers: 2 });
    }, 60_000);

    afterAll(async () => {
      await rig?.close();
    });

    it(
      `${opts.kills} SIGKILLs at random points (seed ${seed}): every run finishes, nothing duplicated or lost`,
      async () => {
        keepLogsOnFailure(() => rig, `worker-kill-${seed}`);
        const { runIds, kills, killsDuringRuns } = await workerKills(rig, {
          kills: opts.kills,
          inFlight: opts.inFlight,
          seed,
          maxGapMs: opts.maxGapMs,
        });
        expect(kills).toBe(opts.kills);
        expect(killsDuringRuns).toBe(opts.kills);
        expect(duplicateParts(rig.h.slack)).toEqual([]);
        for (const id of runIds) await verifyRun(rig, id);
        console.log(`worker-kill: ${runIds.length} runs, ${kills} kills, seed ${seed}`);
      },
      opts.timeoutMs,
    );
  });
}

/**
 * Fuzzing the interaction handlers (buttons and modal submissions in a run's thread).
 *
 * Two layers, with different run counts on purpose:
 *   - 2,000 payloads through the real Bolt app, in process: `createBotApp` with real deps (the
 *     RunStore on the test MongoDB-compatible server, BullMQ queues on the test Redis, the Slack
 *     fake as Web API and response_url), fed with `app.processEvent({ body, ack })` as a custom
 *     receiver would. Each costs several store round trips, so 2,000 (in batches of 8 at once,
 *     which also races the handlers against each other) keeps the suite to seconds.
 *   - 10,000 values through the pure layers those handlers rest on: button value / metadata
 *     decoding, and the modals and notices rendered from decoded (attacker-shaped) parts, checked
 *     with the fake's Block Kit validator.
 *
 * Payloads stay within the envelope Slack always sends (type, user, team, trigger_id,
 * response_url, one action / a view with state.values); what is fuzzed is what a user or a stale
 * message can vary: action ids, button values, block ids, private_metadata, input values, who
 * clicks and from which workspace.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../commands/deps.js';
import { createQueues, type Queues } from '../../jobs/queues.js';
import { loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/log.js';
import { createBotApp } from '../../src/slack/app.js';
import { GroupResolver } from '../../src/slack/groups.js';
import { ACTIONS, decodeValue, encodeValue, tryEncodeValue, VIEWS } from '../../src/slack/render/actions.js';
import { ROLLBACK_ACTIONS, ROLLBACK_VIEWS } from '../../src/slack/render/rollback.js';
import { rejectModal, renderNotice, tickNoteModal } from '../../src/slack/render/run.js';
import { connectMongo, type MongoHandle } from '../../src/store/mongo.js';
import { type RunDoc, RunStore, type Tenant } from '../../src/store/run-store.js';
import { mongoUri, redisUrl, skipUnless, uniqueName } from '../helpers/services.js';
import { type SlackFake, startSlackFake, validateBlocks } from '../helpers/slack-fake.js';
import { blockActionsPayload, newTriggerId, viewSubmissionPayload } from '../helpers/slack-sign.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
const SOURCE = readFileSync(path.join(fixtures, 'e2e.yml'), 'utf8');
const TOKEN = 'xoxb-fuzz-token';
const TEAM_A = 'T0FUZZAAA';
const TEAM_B = 'T0FUZZBBB';
const CHANNEL = 'C0FUZZ001';
const REQUESTER = 'U0REQUEST';
const OWNER = 'U0OWNER01';
const APPROVERS = ['U0APPR001', 'U0APPR002'];

const READY_A = ['r-fzready2a', 'r-fzready3a', 'r-fzready4a', 'r-fzready5a'];
const FRESH_A = ['r-fzfresh2a', 'r-fzfresh3a'];
const RUN_B = 'r-fzteamb2b';
const ITEM_KEYS = ['health/up', 'health/fast', 'signoff/backup', 'signoff/flag'];
const PHASES = ['health', 'signoff'];

// ------------------------------------------------------------------------------------------------
// Pure layers: 10,000 runs
// ------------------------------------------------------------------------------------------------

const partArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...READY_A, RUN_B, ...ITEM_KEYS, ...PHASES, 'release', '') },
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('|', '%', '%7C', '%25', '%7c', '<!channel>', '@here', '`') },
  { weight: 1, arbitrary: fc.string({ minLength: 500, maxLength: 2_500, unit: 'binary-ascii' }) },
);

const rawValueArb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(partArb, { maxLength: 4 }).map((parts) => parts.join('|')),
  fc.string({ minLength: 1_900, maxLength: 3_100, unit: 'binary-ascii' }),
);

function modalProblems(view: {
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  private_metadata?: unknown;
  blocks?: unknown;
}): string[] {
  const problems = validateBlocks(view.blocks, 'modal');
  for (const k of ['title', 'submit', 'close'] as const) {
    const t = (view[k] as { text?: unknown } | undefined)?.text;
    if (typeof t !== 'string' || t.length === 0 || t.length > 24)
      problems.push(`${k} text ${JSON.stringify(t)}`);
  }
  const meta = view.private_metadata;
  if (typeof meta !== 'string' || meta.length > 3_000) problems.push('private_metadata');
  return problems;
}

describe('fuzz: the pure layers under the interaction handlers (10,000 runs)', () => {
  it('4,000 values: decoding never throws, and encoding round-trips whatever fits', () => {
    fc.assert(
      fc.property(rawValueArb, fc.array(partArb, { minLength: 1, maxLength: 4 }), (raw, parts) => {
        const decoded = decodeValue(raw);
        expect(decoded.length).toBeGreaterThanOrEqual(1);
        for (const p of decoded) expect(typeof p).toBe('string');
        const encoded = tryEncodeValue(parts);
        if (encoded === undefined) expect(() => encodeValue(parts)).toThrow(RangeError);
        else {
          expect(encoded.length).toBeLessThanOrEqual(2_000);
          expect(decodeValue(encoded)).toEqual(parts);
        }
      }),
      { numRuns: 4_000 },
    );
  });

  it('4,000 modals rendered from decoded parts are valid Block Kit, or refused with a RangeError', () => {
    fc.assert(
      fc.property(partArb, partArb, partArb, fc.boolean(), (a, b, title, reject) => {
        let view: ReturnType<typeof rejectModal>;
        try {
          view = reject ? rejectModal(a, b, title) : tickNoteModal(a, b, title);
        } catch (err) {
          // Parts too long for private_metadata: the handler must turn this into a reply, not a crash.
          expect(err).toBeInstanceOf(RangeError);
          return;
        }
        expect(modalProblems(view)).toEqual([]);
      }),
      { numRuns: 4_000 },
    );
  });

  it('2,000 notices (what a refused click is told) are valid Block Kit with no live mention', () => {
    fc.assert(
      fc.property(fc.oneof(partArb, rawValueArb), (text) => {
        const notice = renderNotice(`no run ${text} in this workspace`);
        expect(validateBlocks(notice.blocks, 'message')).toEqual([]);
        expect(notice.text.length).toBeLessThanOrEqual(40_000);
        expect(JSON.stringify(notice)).not.toMatch(/<!channel>|<!here>|(?<!\u200d)@here\b/);
      }),
      { numRuns: 2_000 },
    );
  });
});

// ------------------------------------------------------------------------------------------------
// The real app: 2,000 payloads
// ------------------------------------------------------------------------------------------------

const skip = skipUnless('redis') || skipUnless('mongodb');

/** Log lines at error level or above (an error that reached app.error, or an uncoded failure). */
function logSink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(line);
      cb();
    },
  });
}

const userArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(OWNER, REQUESTER, ...APPROVERS, 'U0LEAD001') },
  { weight: 1, arbitrary: fc.stringMatching(/^[UW][A-Z0-9]{8,10}$/) },
  { weight: 1, arbitrary: fc.constantFrom('U', 'u0lower01', '<@U0OWNER01>', 'U0OWNER01 ') },
);

/** Which workspace the click claims: ours, another, or an org-level install (team null, user.team_id). */
const teamArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'a' as const }) },
  { weight: 2, arbitrary: fc.stringMatching(/^T[A-Z0-9]{8}$/).map((id) => ({ kind: 'other' as const, id })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'org' as const }) },
);

const runIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...READY_A, ...FRESH_A) },
  { weight: 2, arbitrary: fc.constant(RUN_B) },
  { weight: 1, arbitrary: fc.stringMatching(/^r-[a-z0-9]{4,12}$/) },
  { weight: 1, arbitrary: partArb },
);

const secondArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ITEM_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...PHASES, 'release') },
  { weight: 1, arbitrary: partArb },
);

const valueArb: fc.Arbitrary<string | undefined> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(runIdArb, secondArb).map(([r, k]) => tryEncodeValue([r, k]) ?? `${r}|${k}`),
  },
  { weight: 2, arbitrary: rawValueArb },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const textInputArb: fc.Arbitrary<string | null> = fc.oneof(
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '   ', '<!channel> <@U123> <http://evil|click> @here', 'looks fine'),
  fc.string({ minLength: 1_900, maxLength: 2_100 }),
);

/** Every action id and callback id the app registers: the run thread's and the rollback thread's. */
const OUR_ACTIONS = [...Object.values(ACTIONS), ...Object.values(ROLLBACK_ACTIONS)] as string[];
const OUR_VIEWS = [...Object.values(VIEWS), ...Object.values(ROLLBACK_VIEWS)] as string[];

type Spec =
  | {
      type: 'click';
      actionId: string;
      value: string | undefined;
      blockId: string;
      user: string;
      team: TeamSpec;
    }
  | {
      type: 'submit';
      callbackId: string;
      metadata: string;
      values: Record<string, Record<string, string | null>>;
      user: string;
      team: TeamSpec;
    };
type TeamSpec = { kind: 'a' } | { kind: 'other'; id: string } | { kind: 'org' };

const clickArb: fc.Arbitrary<Spec> = fc.record({
  type: fc.constant('click' as const),
  actionId: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...OUR_ACTIONS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  ),
  value: valueArb,
  blockId: fc.oneof(
    fc.constantFrom('actions', 'tick:signoff/backup', 'gate:release'),
    fc.string({ minLength: 1, maxLength: 20 }),
  ),
  user: userArb,
  team: teamArb,
});

const submitArb: fc.Arbitrary<Spec> = fc.record({
  type: fc.constant('submit' as const),
  callbackId: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...OUR_VIEWS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  ),
  metadata: fc.oneof(
    { weight: 3, arbitrary: fc.tuple(runIdArb, secondArb).map(([r, k]) => tryEncodeValue([r, k]) ?? '') },
    { weight: 1, arbitrary: rawValueArb },
  ),
  values: fc.oneof(
    textInputArb.map((v) => ({ note: { note: v } })),
    textInputArb.map((v) => ({ reason: { reason: v } })),
    fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.dictionary(fc.string({ maxLength: 8 }), textInputArb, { maxKeys: 2 }),
      { maxKeys: 3 },
    ),
  ),
  user: userArb,
  team: teamArb,
});

/**
 * Clicks and submissions as a real thread produces them (the right value for the action, a
 * plausible clicker), so that the fuzz also reaches past validation into ticks, votes and re-runs.
 */
const anyRunA = fc.constantFrom(...READY_A, ...FRESH_A);
const plausibleArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({
    type: fc.constant('click' as const),
    actionId: fc.constantFrom(ACTIONS.tick, ACTIONS.tickNote),
    value: anyRunA.map((r) => `${r}|signoff/backup`),
    blockId: fc.constant('tick:signoff/backup'),
    user: fc.constantFrom(OWNER, OWNER, ...APPROVERS),
    team: fc.constant({ kind: 'a' as const }),
  }),
  fc.record({
    type: fc.constant('click' as const),
    actionId: fc.constantFrom(ACTIONS.approve, ACTIONS.reject),
    value: fc.constantFrom(...READY_A).map((r) => `${r}|release`),
    blockId: fc.constant('gate:release'),
    user: fc.constantFrom(...APPROVERS, REQUESTER),
    team: teamArb,
  }),
  fc.record({
    type: fc.constant('click' as const),
    actionId: fc.constantFrom(ACTIONS.rerun, ACTIONS.waive, ACTIONS.deployed),
    value: fc.tuple(anyRunA, fc.constantFrom(...PHASES, 'health/up')).map(([r, p]) => `${r}|${p}`),
    blockId: fc.constant('rerun:health'),
    user: fc.constantFrom(REQUESTER, OWNER, ...APPROVERS),
    team: fc.constant({ kind: 'a' as const }),
  }),
  fc.record({
    type: fc.constant('submit' as const),
    callbackId: fc.constant(VIEWS.tickNote),
    metadata: anyRunA.map((r) => `${r}|signoff/backup`),
    values: textInputArb.map((v) => ({ note: { note: v } })),
    user: fc.constantFrom(OWNER, ...APPROVERS),
    team: teamArb,
  }),
  fc.record({
    type: fc.constant('submit' as const),
    callbackId: fc.constant(VIEWS.reject),
    metadata: fc.constantFrom(...READY_A).map((r) => `${r}|release`),
    values: textInputArb.map((v) => ({ reason: { reason: v } })),
    user: fc.constantFrom(...APPROVERS, REQUESTER),
    team: teamArb,
  }),
);

const specArb = fc.oneof(
  { weight: 4, arbitrary: clickArb },
  { weight: 2, arbitrary: submitArb },
  { weight: 4, arbitrary: plausibleArb },
);

function runDoc(id: string, teamId: string): RunDoc {
  const now = new Date();
  return {
    _id: id,
    teamId,
    checklist: 'e2e',
    title: 'E2E service release',
    service: 'e2e-api',
    vars: { baseUrl: 'http://127.0.0.1:9' },
    digest: createHash('sha256').update(SOURCE).digest('hex'),
    source: SOURCE,
    file: path.join(fixtures, 'e2e.yml'),
    channel: CHANNEL,
    requester: REQUESTER,
    createdAt: now,
    status: 'running',
    updatedAt: now,
  };
}

describe.skipIf(skip)('fuzz: 2,000 interaction payloads through the real Bolt app', () => {
  let slack: SlackFake;
  let mongo: MongoHandle;
  let store: RunStore;
  let queues: Queues;
  let app: ReturnType<typeof createBotApp>['app'];
  const logLines: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  async function seedReady(id: string, tenant: Tenant): Promise<void> {
    await store.createRun(runDoc(id, tenant.teamId));
    for (const f of ['started', 'probes-done', 'phase-done:health:0', 'phase-done:signoff:0'])
      await store.fact(tenant, id, f);
    for (const key of ['health/up', 'health/fast', 'signoff/flag']) {
      const [phaseId, itemId] = key.split('/') as [string, string];
      const at = new Date().toISOString();
      await store.recordResult(tenant, id, 0, {
        key,
        phaseId,
        itemId,
        title: itemId,
        severity: 'critical',
        kind: 'probe',
        type: 'http',
        status: 'pass',
        observed: 'status 200',
        expected: 'status 200',
        detail: '',
        durationMs: 1,
        measurements: 1,
        attempts: 1,
        startedAt: at,
        finishedAt: at,
      });
    }
    await store.tick(tenant, id, 'signoff/backup', { by: OWNER, at: new Date().toISOString() });
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    slack = await startSlackFake({
      tokens: [TOKEN],
      team: { id: TEAM_A, domain: 'fuzz' },
      usergroups: { S0LEADS01: ['U0LEAD001'] },
    });
    const prefix = uniqueName('fz').replace(/[^A-Za-z0-9_-]/g, '_');
    const config = loadConfig({
      SLACK_SIGNING_SECRET: 'fuzz-signing-secret',
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_API_URL: slack.url,
      SLACK_RETRIES: '0',
      REDIS_URL: redisUrl()!,
      MONGODB_URI: mongoUri()!,
      MONGODB_DB: uniqueName('fz').replace(/[^A-Za-z0-9_-]/g, '_'),
      QUEUE_PREFIX: prefix,
      CHECKLISTS_DIR: fixtures,
      LOG_LEVEL: 'warn',
    });
    mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
    store = new RunStore(mongo.db);
    await store.ensureIndexes();
    queues = createQueues(config.REDIS_URL, prefix);
    const log = createLogger({ level: 'warn', name: 'fuzz-bot', destination: logSink(logLines) });
    const deps: BotDeps = {
      config,
      store,
      queues,
      groups: new GroupResolver(queues.connection, prefix),
      log,
      metrics: createMetrics(),
      checklistsDir: fixtures,
      now: () => new Date(),
    };
    app = createBotApp(deps, { routes: [] }).app;
    const a = { teamId: TEAM_A };
    for (const id of READY_A) await seedReady(id, a);
    for (const id of FRESH_A) {
      await store.createRun(runDoc(id, TEAM_A));
      await store.fact(a, id, 'started');
    }
    await seedReady(RUN_B, { teamId: TEAM_B });
  }, 60_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await queues?.close();
    await mongo?.close();
    await slack?.close();
  });

  function payloadOf(spec: Spec): Record<string, unknown> {
    const teamId = spec.team.kind === 'other' ? spec.team.id : TEAM_A;
    const team = { id: teamId, domain: 'fuzz' };
    const user = { id: spec.user, team_id: teamId };
    const body =
      spec.type === 'click'
        ? blockActionsPayload({
            action: {
              action_id: spec.actionId,
              block_id: spec.blockId,
              ...(spec.value !== undefined ? { value: spec.value } : {}),
            },
            message: { ts: '1700000000.000100', channel: CHANNEL, blocks: [] },
            channel: { id: CHANNEL },
            user,
            team,
            trigger_id: newTriggerId(),
            response_url: slack.responseUrl({ channel: CHANNEL, user: spec.user }),
          })
        : viewSubmissionPayload({
            callback_id: spec.callbackId,
            private_metadata: spec.metadata,
            values: Object.fromEntries(
              Object.entries(spec.values).map(([b, actions]) => [
                b,
                Object.fromEntries(
                  Object.entries(actions).map(([k, v]) => [k, { type: 'plain_text_input', value: v }]),
                ),
              ]),
            ),
            user,
            team,
            trigger_id: newTriggerId(),
          });
    // Org-wide installs send `team: null`; the workspace is then the user's.
    if (spec.team.kind === 'org') body.team = null;
    return body;
  }

  function matches(spec: Spec): boolean {
    return spec.type === 'click' ? OUR_ACTIONS.includes(spec.actionId) : OUR_VIEWS.includes(spec.callbackId);
  }

  async function deliver(spec: Spec): Promise<void> {
    let acks = 0;
    const body = payloadOf(spec);
    try {
      await app.processEvent({
        body,
        ack: async () => {
          acks += 1;
        },
      });
    } catch (err) {
      throw new Error(
        `processEvent threw for ${JSON.stringify(spec).slice(0, 500)}: ${(err as Error)?.stack}`,
      );
    }
    // Ours must ack exactly once; a foreign id has no listener (Bolt leaves it unacked, as it should).
    const ours = matches(spec);
    if (ours && acks !== 1)
      throw new Error(`acked ${acks} times (expected once): ${JSON.stringify(spec).slice(0, 500)}`);
    if (!ours && acks > 1) throw new Error(`acked ${acks} times: ${JSON.stringify(spec).slice(0, 300)}`);
  }

  it('never lets an error escape, always acks, never sends Slack invalid blocks, never crosses tenants', async () => {
    const errorsBefore = logLines.length;
    let delivered = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(specArb, { minLength: 8, maxLength: 8 }), async (batch) => {
        await Promise.all(batch.map((spec) => deliver(spec)));
        delivered += batch.length;
      }),
      { numRuns: 250 },
    );
    expect(delivered).toBeGreaterThanOrEqual(2_000);

    // Nothing the handlers sent was refused by Slack's validation.
    const refused = slack
      .calls()
      .filter((c) => /invalid_blocks|invalid_arguments|msg_too_long|no_text/.test(c.error ?? ''));
    expect(refused.map((c) => `${c.method}: ${c.error}`)).toEqual([]);
    const badResponses = slack.responses().filter((r) => r.status === 400);
    expect(badResponses.map((r) => r.error)).toEqual([]);
    // No listener error reached app.error, and nothing failed uncoded ("action failed").
    const errors = logLines
      .slice(errorsBefore)
      .filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
    expect(unhandled).toEqual([]);

    // Workspace B's run was never touched from other workspaces.
    const b = { teamId: TEAM_B };
    expect((await store.votesFor(b, RUN_B)).length).toBe(0);
    expect((await store.auditFor(b, RUN_B)).length).toBe(0);
    expect((await store.factsFor(b, RUN_B)).map((f) => f.kind).sort()).toEqual(
      ['phase-done:health:0', 'phase-done:signoff:0', 'probes-done', 'started'].sort(),
    );
    expect([...(await store.ticksFor(b, RUN_B)).values()].map((t) => t.by)).toEqual([OWNER]);
    // No fact, tick or vote was written under a foreign team id for a run of ours, or vice versa.
    for (const c of [store.ticks, store.votes, store.facts, store.audit] as const) {
      const foreign = await c.countDocuments({ teamId: { $nin: [TEAM_A, TEAM_B] } } as never);
      expect(foreign).toBe(0);
    }

    // Only the people the checklist names could act: the owner ticks, approvers (not the requester) vote.
    const a = { teamId: TEAM_A };
    for (const id of [...READY_A, ...FRESH_A]) {
      for (const t of (await store.ticksFor(a, id)).values()) expect(t.by).toBe(OWNER);
      for (const v of await store.votesFor(a, id)) expect(APPROVERS).toContain(v.user);
    }
    // …and the fuzz reached the handlers' real work, not only their refusals.
    let ticks = 0;
    let votes = 0;
    for (const id of [...READY_A, ...FRESH_A]) {
      ticks += (await store.ticksFor(a, id)).size;
      votes += (await store.votesFor(a, id)).length;
    }
    expect(ticks).toBeGreaterThan(READY_A.length); // the seeded ticks plus ticks made by the fuzz
    expect(votes).toBeGreaterThan(0);
    console.info(
      `interaction fuzz: ${delivered} payloads; ${ticks} ticks, ${votes} votes; Slack calls ${slack.calls().length}, responses ${slack.responses().length}`,
    );
  }, 120_000);
});

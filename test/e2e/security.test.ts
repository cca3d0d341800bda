/**
 * Security, end to end on the offline harness (real bot and worker processes, Redis, the
 * MongoDB-compatible server, the Slack fake, requests signed as Slack signs them):
 *   - forged, stale, future-dated and malformed signatures: 100% refused with 401, nothing stored,
 *     enqueued or posted; a replayed request (same body, signature and timestamp — accepted within
 *     Slack's 5-minute window) starts no second run, because the run id derives from the trigger id;
 *   - workspace isolation: workspace A can neither see nor act on workspace B's runs;
 *   - secrets given to the worker as DC_SECRET_* never appear in Slack, logs (at debug level),
 *     MongoDB, Redis job data or reports, even when the target reflects them back;
 *   - probes refuse link-local / cloud-metadata addresses unless `network.allowLinkLocal`;
 *   - user text (var values, tick notes, reject reasons, bad arguments) never becomes a live
 *     mention, broadcast or link in anything we post.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueues, type Queues } from '../../jobs/queues.js';
import { loadChecklistFile } from '../../src/checklist/load.js';
import { renderJson } from '../../src/report/json.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { runChecklist } from '../../src/run/engine.js';
import { ACTIONS, VIEWS } from '../../src/slack/render/actions.js';
import { CHANNEL, type Harness, SIGNING_SECRET, startHarness, TEAM, waitFor } from '../helpers/harness.js';
import { redisUrl, skipUnless } from '../helpers/services.js';
import type { FakeMessage } from '../helpers/slack-fake.js';
import {
  blockActionsPayload,
  computeSlackSignature,
  interactionBody,
  newTriggerId,
  nowSeconds,
  SLACK_FORM_CONTENT_TYPE,
  sendSigned,
  slashCommandBody,
  viewSubmissionPayload,
} from '../helpers/slack-sign.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
const skip = skipUnless('redis') || skipUnless('mongodb');
const E2E_TIMEOUT = 60_000;

const TEAM_B = 'T0OTHERB2';
/**
 * The secret the worker holds. It has the characters that escaping turns into other forms (`"`,
 * `\`, `+`, `/`, `=`, `%`, `<`, `&`), so a redactor matching only the literal would miss them.
 */
const SECRET = `dcS3cr3t"Q\\w+/=%<&${randomBytes(6).toString('hex')}Zz`;
/** What users type to inject Slack syntax. */
const INJECTION = '<!channel> <@U123> <http://evil.example|click> @here <!here> <!everyone> <#C999>';

type Team = string;

/** A button on a message: action id, value and block, as the harness finds it. */
function buttonOn(message: FakeMessage, actionId: string) {
  for (const b of (message.blocks ?? []) as Array<{
    block_id?: string;
    elements?: Array<{ action_id?: string; value?: string }>;
    accessory?: { action_id?: string; value?: string };
  }>) {
    for (const el of [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])])
      if (el.action_id === actionId) return { blockId: b.block_id ?? '', value: el.value ?? '' };
  }
  return undefined;
}

describe.skipIf(skip)('security: signatures, tenancy, secrets, address policy and escaping', () => {
  let h: Harness;
  let target: http.Server;
  let targetUrl = '';
  let mongo: MongoClient;
  let queues: Queues;
  let redis: Redis;
  /** Requests that reached the echo target carrying the secret (proves the probes sent it). */
  let secretSightings = 0;

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      if (
        JSON.stringify(req.headers).includes(JSON.stringify(SECRET).slice(1, -1)) ||
        req.url?.includes(encodeURIComponent(SECRET))
      )
        secretSightings += 1;
      const url = new URL(req.url ?? '/', 'http://target');
      const echo = JSON.stringify({ headers: req.headers, url: req.url });
      if (url.pathname === '/raw') {
        const pad = 'p'.repeat(Number(url.searchParams.get('pad') ?? 0));
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(`${pad}${String(req.headers['x-api-key'])} trailing`);
      } else if (url.pathname === '/redirect') {
        res
          .writeHead(302, { location: `/next?k=${encodeURIComponent(String(req.headers['x-api-key']))}` })
          .end();
      } else if (url.pathname.startsWith('/status/500')) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(echo);
      } else {
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'x-echo': String(req.headers['x-api-key'] ?? ''),
          })
          .end(echo);
      }
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    h = await startHarness({
      checklistsDir: fixtures,
      usergroups: { S0RELEAS1: ['U0GROUPIE'] },
      env: {
        LOG_LEVEL: 'debug',
        DC_SECRET_API_TOKEN: SECRET,
        SLACK_PHASE_FIRST_WRITE_MS: '300',
        SLACK_UPDATE_INTERVAL_MS: '200',
      },
    });
    mongo = await MongoClient.connect(h.env.MONGODB_URI!);
    queues = createQueues(redisUrl()!, h.env.QUEUE_PREFIX!);
    redis = new Redis(redisUrl()!);
  }, 90_000);

  afterAll(async () => {
    await h?.close();
    await queues?.close();
    redis?.disconnect();
    await mongo?.close();
    target?.closeAllConnections();
    await new Promise((r) => target?.close(r));
  });

  const db = () => mongo.db(h.env.MONGODB_DB);
  const runsInStore = () => db().collection('runs').countDocuments();
  async function jobsEnqueued(): Promise<number> {
    let n = 0;
    for (const q of [queues.runs, queues.thread, queues.monitors, queues.rollback]) {
      const counts = await q.getJobCounts();
      n += Object.values(counts).reduce((a, b) => a + b, 0);
    }
    return n;
  }
  async function snapshot() {
    return {
      runs: await runsInStore(),
      jobs: await jobsEnqueued(),
      ticks: await db().collection('ticks').countDocuments(),
      votes: await db().collection('votes').countDocuments(),
      facts: await db().collection('facts').countDocuments(),
      audit: await db().collection('audit').countDocuments(),
      slackCalls: h.slack.calls().length,
      responses: h.slack.responses().length,
    };
  }
  const parentOf = (runId: string) =>
    h.slack
      .messages(CHANNEL)
      .find(
        (m) =>
          !m.thread_ts &&
          (m.metadata as { event_payload?: { run?: string } } | undefined)?.event_payload?.run === runId,
      );
  const threadOf = (runId: string) => {
    const parent = parentOf(runId);
    return parent ? h.slack.messages(CHANNEL).filter((m) => m.thread_ts === parent.ts) : [];
  };
  const textOf = (m: FakeMessage | undefined) => JSON.stringify(m?.blocks ?? '') + (m?.text ?? '');
  const hasFact = async (runId: string, kind: string) =>
    (await db()
      .collection('facts')
      .countDocuments({ _id: `${runId}|${kind}` } as never)) > 0;
  /** Probes done and the thread synced (a blocked run stays open for re-runs, so not "closed"). */
  const settled = async (runId: string) =>
    (await hasFact(runId, 'probes-done')) &&
    !['queued', 'running'].includes(
      String(
        (
          await db()
            .collection('runs')
            .findOne({ _id: runId } as never)
        )?.status ?? 'queued',
      ),
    );

  /** `/deploy-check <text>` from a workspace, with its own response_url; returns the ack and that URL's id. */
  async function slashAs(team: Team, user: string, text: string) {
    const responseUrl = h.slack.responseUrl({ user });
    const res = await h.slash(user, text, { team_id: team, response_url: responseUrl });
    return { ...res, responseId: responseUrl.split('/').pop()! };
  }
  const responseTexts = (id: string) => h.slack.responses(id).map((r) => JSON.stringify(r.body));

  async function startRun(team: Team, text: string): Promise<string> {
    const res = await slashAs(team, 'U0REQUEST', text);
    expect(res.status).toBe(200);
    const runId = /`(r-[a-z0-9]+)`/.exec(res.text)?.[1];
    if (!runId) throw new Error(`no run id in ${res.text}`);
    return runId;
  }

  /** A button click as Slack delivers it, claiming the given workspace. */
  function clickAs(team: Team, user: string, actionId: string, message: FakeMessage, value?: string) {
    const button = buttonOn(message, actionId);
    if (!button && value === undefined) throw new Error(`no ${actionId} button on the message`);
    const responseUrl = h.slack.responseUrl({ channel: message.channel, user });
    const payload = blockActionsPayload({
      action: { action_id: actionId, value: value ?? button!.value, block_id: button?.blockId ?? 'actions' },
      message: { ...message, channel: message.channel },
      user: { id: user },
      team: { id: team, domain: team.toLowerCase() },
      channel: { id: message.channel },
      response_url: responseUrl,
    });
    return {
      responseId: responseUrl.split('/').pop()!,
      send: () => sendSigned(h.botUrl, interactionBody(payload), { secret: SIGNING_SECRET }),
      body: interactionBody(payload),
    };
  }

  function submitAs(
    team: Team,
    user: string,
    callbackId: string,
    metadata: string,
    values: Record<string, Record<string, string>>,
  ) {
    return sendSigned(
      h.botUrl,
      interactionBody(
        viewSubmissionPayload({
          callback_id: callbackId,
          private_metadata: metadata,
          values,
          user: { id: user },
          team: { id: team, domain: team.toLowerCase() },
        }),
      ),
      { secret: SIGNING_SECRET },
    );
  }

  // ----------------------------------------------------------------------------------------------
  // Signatures
  // ----------------------------------------------------------------------------------------------

  it('refuses 100% of forged, stale and malformed signatures with 401, and nothing happens', async () => {
    const before = await snapshot();
    const runText = `run e2e staging baseUrl=${targetUrl}`;
    const fresh = () =>
      slashCommandBody({
        team_id: TEAM,
        channel_id: CHANNEL,
        user_id: 'U0REQUEST',
        text: runText,
        trigger_id: newTriggerId(),
        response_url: h.slack.responseUrl({ user: 'U0REQUEST' }),
      });
    const now = nowSeconds();
    const post = (body: string, headers: Record<string, string>) =>
      fetch(h.botUrl, {
        method: 'POST',
        headers: { 'Content-Type': SLACK_FORM_CONTENT_TYPE, ...headers },
        body,
      });
    const signed = (body: string, ts: number, secret = SIGNING_SECRET) => ({
      'X-Slack-Signature': computeSlackSignature(secret, body, ts),
      'X-Slack-Request-Timestamp': String(ts),
    });
    const attempts: Array<[string, () => Promise<{ status: number }>]> = [
      ['wrong secret', () => sendSigned(h.botUrl, fresh(), { secret: 'not-the-secret' })],
      ['empty secret', () => sendSigned(h.botUrl, fresh(), { secret: '' })],
      [
        'stale by 5 min 30 s',
        () => sendSigned(h.botUrl, fresh(), { secret: SIGNING_SECRET, timestamp: now - 330 }),
      ],
      [
        'stale by 10 min',
        () => sendSigned(h.botUrl, fresh(), { secret: SIGNING_SECRET, timestamp: now - 600 }),
      ],
      [
        'stale by a day',
        () => sendSigned(h.botUrl, fresh(), { secret: SIGNING_SECRET, timestamp: now - 86_400 }),
      ],
      ['timestamp 0', () => sendSigned(h.botUrl, fresh(), { secret: SIGNING_SECRET, timestamp: 0 })],
      [
        'signed 10 min in the future',
        () => sendSigned(h.botUrl, fresh(), { secret: SIGNING_SECRET, timestamp: now + 600 }),
      ],
      [
        'signed for another body (text changed)',
        () => {
          const body = fresh();
          return post(body.replace('staging', 'production'), signed(body, now));
        },
      ],
      [
        'signed for another timestamp',
        () => {
          const body = fresh();
          return post(body, { ...signed(body, now - 1), 'X-Slack-Request-Timestamp': String(now) });
        },
      ],
      [
        'garbage signature',
        () => sendSigned(h.botUrl, fresh(), { secret: SIGNING_SECRET, signature: 'v0=deadbeef' }),
      ],
      [
        'other version prefix',
        () => {
          const body = fresh();
          const sig = computeSlackSignature(SIGNING_SECRET, body, now).replace(/^v0=/, 'v1=');
          return post(body, { 'X-Slack-Signature': sig, 'X-Slack-Request-Timestamp': String(now) });
        },
      ],
      [
        'signature in upper case',
        () => {
          const body = fresh();
          const sig = computeSlackSignature(SIGNING_SECRET, body, now).toUpperCase();
          return post(body, { 'X-Slack-Signature': sig, 'X-Slack-Request-Timestamp': String(now) });
        },
      ],
      ['no signature headers', () => post(fresh(), {})],
      [
        'no timestamp header',
        () => {
          const body = fresh();
          return post(body, { 'X-Slack-Signature': computeSlackSignature(SIGNING_SECRET, body, now) });
        },
      ],
      [
        'non-numeric timestamp',
        () => {
          const body = fresh();
          return post(body, {
            'X-Slack-Signature': computeSlackSignature(SIGNING_SECRET, body, now),
            'X-Slack-Request-Timestamp': 'soon',
          });
        },
      ],
      [
        'forged interaction (approve click)',
        () =>
          sendSigned(
            h.botUrl,
            interactionBody(
              blockActionsPayload({
                action: { action_id: ACTIONS.approve, value: 'r-abcd2345ef|release' },
                message: { ts: '1700000000.000001', channel: CHANNEL },
                team: { id: TEAM, domain: 'e2e' },
                user: { id: 'U0APPR001' },
              }),
            ),
            { secret: 'not-the-secret' },
          ),
      ],
      [
        'stale interaction (modal submission)',
        () =>
          sendSigned(
            h.botUrl,
            interactionBody(
              viewSubmissionPayload({
                callback_id: VIEWS.reject,
                private_metadata: 'r-abcd2345ef|release',
                values: { reason: { reason: 'no' } },
                team: { id: TEAM, domain: 'e2e' },
              }),
            ),
            { secret: SIGNING_SECRET, timestamp: now - 301 },
          ),
      ],
    ];
    const refused: string[] = [];
    for (const [what, send] of attempts) {
      const res = await send();
      if (res.status === 401) refused.push(what);
      else throw new Error(`${what}: answered ${res.status}, expected 401`);
    }
    expect(refused.length).toBe(attempts.length);
    // Give a wrongly accepted request time to reach the store, a queue or Slack before looking.
    await new Promise((r) => setTimeout(r, 500));
    expect(await snapshot()).toEqual(before);
    // Operators see them by reason in /metrics.
    const metrics = await (await fetch(h.botUrl.replace('/slack/events', '/metrics'))).text();
    const refusedBy = (reason: string) =>
      Number(
        new RegExp(`deploy_check_slack_requests_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    expect(refusedBy('mismatch')).toBeGreaterThanOrEqual(6);
    expect(refusedBy('stale_or_future')).toBeGreaterThanOrEqual(6);
    expect(
      refusedBy('missing_headers') + refusedBy('bad_timestamp') + refusedBy('unknown_version'),
    ).toBeGreaterThanOrEqual(5);
  });

  it('starts a checklist that names who may run it only for them (a user, a role held through a user group)', async () => {
    const text = `run security-run baseUrl=${targetUrl}`;
    const runsBefore = await runsInStore();
    const jobsBefore = await jobsEnqueued();
    const refused = await h.slash('U0STRANGER', text);
    expect(refused.status).toBe(200);
    expect(refused.text).toContain(
      'You cannot start *security-run*: only <@U0RUNNER1>, role releaser may start this checklist',
    );
    expect(refused.text).not.toContain('Queued');
    expect([await runsInStore(), await jobsEnqueued()]).toEqual([runsBefore, jobsBefore]);
    const runIds: string[] = [];
    for (const user of ['U0RUNNER1', 'U0GROUPIE']) {
      const res = await h.slash(user, text);
      expect(res.text, user).toContain('Queued run');
      runIds.push(/`(r-[a-z0-9]+)`/.exec(res.text)![1]!);
    }
    // Re-running a phase is starting it again: the same rule.
    const smoke = await waitFor('the smoke phase with its re-run button', () =>
      threadOf(runIds[0]!).find((m) => buttonOn(m, ACTIONS.rerun) !== undefined),
    );
    const stranger = clickAs(TEAM, 'U0STRANGER', ACTIONS.rerun, smoke);
    expect((await stranger.send()).status).toBe(200);
    const refusal = await waitFor('the refusal', () => responseTexts(stranger.responseId)[0]);
    expect(refusal).toMatch(
      /You cannot re-run a phase of this run: only .*U0RUNNER1.*, role releaser may start this checklist/,
    );
    expect(await hasFact(runIds[0]!, 'rerun:1')).toBe(false);
    const member = clickAs(TEAM, 'U0GROUPIE', ACTIONS.rerun, smoke);
    expect((await member.send()).status).toBe(200);
    await waitFor('the permitted re-run', async () =>
      (await hasFact(runIds[0]!, 'rerun:1')) ? true : undefined,
    );
  });

  it(
    'a replayed run request (same body, signature, timestamp) starts exactly one run; a replayed click counts once',
    async () => {
      const body = slashCommandBody({
        team_id: TEAM,
        channel_id: CHANNEL,
        user_id: 'U0REQUEST',
        command: '/deploy-check',
        text: `run e2e staging baseUrl=${targetUrl}`,
        trigger_id: newTriggerId(),
        response_url: h.slack.responseUrl({ user: 'U0REQUEST' }),
      });
      const ts = nowSeconds();
      const replay = () => sendSigned(h.botUrl, body, { secret: SIGNING_SECRET, timestamp: ts });
      const runsBefore = await runsInStore();
      const first = await replay();
      expect(first.status).toBe(200);
      const runId = /`(r-[a-z0-9]+)`/.exec(first.text)![1]!;
      // Replays: one after another, then several at once.
      const later = [await replay(), ...(await Promise.all([replay(), replay(), replay()]))];
      for (const r of later) {
        expect(r.status).toBe(200);
        expect(r.text).toContain(runId);
      }
      const peoplePhase = await waitFor('the people phase message', () =>
        threadOf(runId).find((m) => buttonOn(m, ACTIONS.tick) !== undefined),
      );
      // And once more after the run is under way.
      expect((await replay()).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(await runsInStore()).toBe(runsBefore + 1);
      expect(
        await db()
          .collection('runs')
          .countDocuments({ _id: runId } as never),
      ).toBe(1);
      const runJobs = await queues.runs.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
      expect(runJobs.filter((j) => j.data.runId === runId).length).toBe(1);
      const parents = h.slack
        .messages(CHANNEL)
        .filter(
          (m) =>
            !m.thread_ts &&
            (m.metadata as { event_payload?: { run?: string } })?.event_payload?.run === runId,
        );
      expect(parents.length).toBe(1);
      expect(
        h.slack
          .calls('chat.postMessage')
          .filter(
            (c) =>
              JSON.stringify(c.args.metadata ?? '').includes(runId) &&
              (c.args.metadata as { event_payload?: { part?: string } })?.event_payload?.part === 'parent',
          ).length,
      ).toBe(1);

      // A replayed click (same signed body) is one tick.
      const click = clickAs(TEAM, 'U0OWNER01', ACTIONS.tick, peoplePhase);
      const ts2 = nowSeconds();
      const results = [
        await sendSigned(h.botUrl, click.body, { secret: SIGNING_SECRET, timestamp: ts2 }),
        ...(await Promise.all(
          [1, 2, 3].map(() => sendSigned(h.botUrl, click.body, { secret: SIGNING_SECRET, timestamp: ts2 })),
        )),
      ];
      for (const r of results) expect(r.status).toBe(200);
      await waitFor('the approval request', () =>
        textOf(parentOf(runId)).includes(ACTIONS.approve) ? true : undefined,
      );
      expect(
        await db()
          .collection('ticks')
          .countDocuments({ runId } as never),
      ).toBe(1);
      expect(
        await db()
          .collection('audit')
          .countDocuments({ runId, action: 'ticked' } as never),
      ).toBe(1);
    },
    E2E_TIMEOUT,
  );

  // ----------------------------------------------------------------------------------------------
  // Workspaces
  // ----------------------------------------------------------------------------------------------

  it(
    "a user of workspace A can never see or act on workspace B's run",
    async () => {
      const runB = await startRun(TEAM_B, `run e2e staging baseUrl=${targetUrl}`);
      const peopleB = await waitFor("B's people phase", () =>
        threadOf(runB).find((m) => buttonOn(m, ACTIONS.tick) !== undefined),
      );
      const notFound = new RegExp(`no run ${runB} in this workspace`);

      // Seeing: status, report, list, cancel from A all answer "not found" (or leave B out).
      for (const text of [`status ${runB}`, `report ${runB}`, `cancel ${runB}`, `deployed ${runB}`]) {
        const res = await slashAs(TEAM, 'U0REQUEST', text);
        expect(res.status).toBe(200);
        // The ack is empty; the answer follows on the response_url.
        const said = await waitFor(`an answer to ${text}`, () => responseTexts(res.responseId)[0]);
        expect(said).toMatch(notFound);
        expect(said).not.toContain('E2E service release');
      }
      const list = await slashAs(TEAM, 'U0REQUEST', 'list');
      const listed = await waitFor('the run list', () => responseTexts(list.responseId)[0]);
      expect(listed).not.toContain(runB);
      expect(await hasFact(runB, 'cancelled')).toBe(false);

      // Acting: A's clicks on B's buttons are refused and record nothing.
      const before = await snapshot();
      const tickFromA = clickAs(TEAM, 'U0OWNER01', ACTIONS.tick, peopleB);
      expect((await tickFromA.send()).status).toBe(200);
      const refusal = await waitFor('the refusal', () => responseTexts(tickFromA.responseId)[0]);
      expect(refusal).toMatch(notFound);
      const rerunFromA = clickAs(TEAM, 'U0OWNER01', ACTIONS.rerun, peopleB);
      expect((await rerunFromA.send()).status).toBe(200);
      expect(await waitFor('the refusal', () => responseTexts(rerunFromA.responseId)[0])).toMatch(notFound);
      const noteFromA = clickAs(TEAM, 'U0OWNER01', ACTIONS.tickNote, peopleB);
      expect((await noteFromA.send()).status).toBe(200);
      expect(
        (
          await submitAs(TEAM, 'U0OWNER01', VIEWS.tickNote, `${runB}|signoff/backup`, {
            note: { note: 'from A' },
          })
        ).status,
      ).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(
        await db()
          .collection('ticks')
          .countDocuments({ runId: runB } as never),
      ).toBe(0);

      // B's owner ticks (positive control: B can act on its own run), then A tries to approve and reject.
      const tickFromB = clickAs(TEAM_B, 'U0OWNER01', ACTIONS.tick, peopleB);
      expect((await tickFromB.send()).status).toBe(200);
      const parentB = await waitFor("B's approval request", () => {
        const p = parentOf(runB);
        return p && buttonOn(p, ACTIONS.approve) ? p : undefined;
      });
      expect(
        await db()
          .collection('ticks')
          .countDocuments({ runId: runB, teamId: TEAM_B } as never),
      ).toBe(1);
      const approveFromA = clickAs(TEAM, 'U0APPR001', ACTIONS.approve, parentB);
      expect((await approveFromA.send()).status).toBe(200);
      expect(await waitFor('the refusal', () => responseTexts(approveFromA.responseId)[0])).toMatch(notFound);
      const rejectFromA = clickAs(TEAM, 'U0APPR001', ACTIONS.reject, parentB);
      expect((await rejectFromA.send()).status).toBe(200);
      expect(
        (await submitAs(TEAM, 'U0APPR001', VIEWS.reject, `${runB}|release`, { reason: { reason: 'from A' } }))
          .status,
      ).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(
        await db()
          .collection('votes')
          .countDocuments({ runId: runB } as never),
      ).toBe(0);
      expect(await hasFact(runB, 'rejected')).toBe(false);
      expect(await hasFact(runB, 'rerun:1')).toBe(false);
      const after = await snapshot();
      // The only change since `before` is B's own tick (one tick, its audit entry, its facts and re-render).
      expect(after.ticks).toBe(before.ticks + 1);
      expect(after.votes).toBe(before.votes);
      // Every audit entry on B's run is B's own doing (the start and B's tick), none by A's clicks.
      const auditB = await db()
        .collection('audit')
        .find({ runId: runB } as never)
        .toArray();
      expect(
        auditB.filter((a) => a.action !== 'run-started' && a.action !== 'ticked').map((a) => a.action),
      ).toEqual([]);
      // Nothing anywhere was written for B's run under A's team id.
      for (const c of ['ticks', 'votes', 'facts', 'audit', 'results', 'messages'])
        expect(
          await db()
            .collection(c)
            .countDocuments({ runId: runB, teamId: { $ne: TEAM_B } } as never),
        ).toBe(0);
    },
    E2E_TIMEOUT,
  );

  // ----------------------------------------------------------------------------------------------
  // Secrets
  // ----------------------------------------------------------------------------------------------

  it(
    'never shows a secret in Slack, logs, MongoDB, job data or reports, even when the target echoes it',
    async () => {
      const runId = await startRun(TEAM, `run security-secrets baseUrl=${targetUrl}`);
      await waitFor('the run to finish', async () => ((await settled(runId)) ? true : undefined), 30_000);
      const results = await db()
        .collection('results')
        .find({ runId } as never)
        .toArray();
      expect(results.length).toBe(9);
      // The probes really sent it, and the target really reflected it.
      expect(secretSightings).toBeGreaterThanOrEqual(7);
      const observed = results.map((r) => JSON.stringify(r.result)).join('\n');
      expect(observed).toContain('[redacted]');

      // The reports: `/deploy-check report` (Slack and the stored evidence pack) and the CLI's formats.
      const report = await slashAs(TEAM, 'U0REQUEST', `report ${runId}`);
      await waitFor('the report', () => responseTexts(report.responseId)[0]);
      const cli = await runChecklist(
        loadChecklistFile(path.join(fixtures, 'security-secrets.yml'), { baseUrl: targetUrl }),
        { env: { API_TOKEN: SECRET } },
      );
      const cliReports = [renderJson(cli), renderJunit(cli), renderMarkdown(cli)].join('\n');

      // Everything recorded anywhere.
      const slack = JSON.stringify([
        h.slack.calls(),
        h.slack.responses(),
        h.slack.ephemerals(),
        h.slack.messages(),
        h.slack.views(),
      ]);
      const logs = [h.bot.output.join(''), ...h.workers.map((w) => w.output.join(''))].join('\n');
      expect(logs).toMatch(/"level":20/); // debug lines really were written
      const mongoDocs: string[] = [];
      for (const c of await db().listCollections().toArray())
        mongoDocs.push(JSON.stringify(await db().collection(c.name).find({}).toArray()));
      const jobData: string[] = [];
      for (const key of await redis.keys(`${h.env.QUEUE_PREFIX}:*`)) {
        const type = await redis.type(key);
        if (type === 'hash') jobData.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'string') jobData.push((await redis.get(key)) ?? '');
      }

      // The secret as given and in every form escaping gives it; and any 10-character piece of it.
      const once = JSON.stringify(SECRET).slice(1, -1);
      const forms = [
        SECRET,
        encodeURIComponent(SECRET),
        once,
        JSON.stringify(once).slice(1, -1),
        SECRET.replace(/&/g, '&amp;').replace(/</g, '&lt;'),
      ];
      const pieces = forms.flatMap((f) => Array.from({ length: f.length - 9 }, (_, i) => f.slice(i, i + 10)));
      const leaks: string[] = [];
      for (const [where, text] of [
        ['Slack', slack],
        ['logs', logs],
        ['MongoDB', mongoDocs.join('\n')],
        ['Redis', jobData.join('\n')],
        ['reports', cliReports],
      ] as const) {
        for (const piece of pieces)
          if (text.includes(piece)) leaks.push(`${where}: ${JSON.stringify(piece)}`);
      }
      expect(leaks).toEqual([]);
    },
    E2E_TIMEOUT,
  );

  // ----------------------------------------------------------------------------------------------
  // Address policy
  // ----------------------------------------------------------------------------------------------

  it(
    'refuses link-local and cloud-metadata addresses unless the checklist allows them',
    async () => {
      const refusedRun = await startRun(TEAM, 'run security-linklocal');
      const allowedRun = await startRun(TEAM, 'run security-linklocal-allowed');
      for (const id of [refusedRun, allowedRun])
        await waitFor(`run ${id} to finish`, async () => ((await settled(id)) ? true : undefined), 30_000);
      const resultsOf = async (runId: string) =>
        (
          await db()
            .collection('results')
            .find({ runId } as never)
            .toArray()
        ).map((d) => d.result as { key: string; status: string; detail: string; observed: string });
      const refused = await resultsOf(refusedRun);
      expect(refused.length).toBe(11);
      const notRefused = refused.filter(
        (r) => !/link-local|metadata|refused/i.test(`${r.detail} ${r.observed}`),
      );
      expect(notRefused.map((r) => `${r.key}: ${r.status} ${r.detail}`)).toEqual([]);
      for (const r of refused) expect(r.status).not.toBe('pass');
      // The thread says why, so the author knows what to change.
      expect(threadOf(refusedRun).map(textOf).join('\n')).toMatch(/allowLinkLocal/);

      const [allowed] = await resultsOf(allowedRun);
      expect(allowed).toBeDefined();
      expect(`${allowed!.detail} ${allowed!.observed}`).not.toMatch(/link-local|allowLinkLocal|refused: /);
    },
    E2E_TIMEOUT,
  );

  // ----------------------------------------------------------------------------------------------
  // Escaping
  // ----------------------------------------------------------------------------------------------

  it(
    'user text (var values, tick notes, reject reasons, bad arguments) never becomes a live mention or link',
    async () => {
      const callsBefore = h.slack.calls().length;
      const responsesBefore = h.slack.responses().length;
      // Bad arguments are echoed in the usage reply.
      const usage = [
        await slashAs(TEAM, 'U0REQUEST', 'run <!channel>'),
        await slashAs(TEAM, 'U0REQUEST', `status <@U123>`),
        await slashAs(TEAM, 'U0REQUEST', `frobnicate <http://evil.example|click> @here`),
        await slashAs(TEAM, 'U0REQUEST', `run security-escape "label=${INJECTION}" "nope=<!channel>"`),
      ];
      for (const u of usage) expect(u.status).toBe(200);

      const runId = await startRun(TEAM, `run security-escape baseUrl=${targetUrl} "label=${INJECTION}"`);
      const people = await waitFor('the people phase', () =>
        threadOf(runId).find((m) => buttonOn(m, ACTIONS.tickNote) !== undefined),
      );
      expect((await clickAs(TEAM, 'U0OWNER01', ACTIONS.tickNote, people).send()).status).toBe(200);
      expect(
        (
          await submitAs(TEAM, 'U0OWNER01', VIEWS.tickNote, `${runId}|people/backup`, {
            note: { note: `checked ${INJECTION}` },
          })
        ).status,
      ).toBe(200);
      const parent = await waitFor('the approval request', () => {
        const p = parentOf(runId);
        return p && buttonOn(p, ACTIONS.reject) ? p : undefined;
      });
      expect((await clickAs(TEAM, 'U0APPR001', ACTIONS.reject, parent).send()).status).toBe(200);
      expect(
        (
          await submitAs(TEAM, 'U0APPR001', VIEWS.reject, `${runId}|release`, {
            reason: { reason: `no: ${INJECTION}` },
          })
        ).status,
      ).toBe(200);
      // The parent closes the run with the (escaped) reason.
      await waitFor(
        'the rejection in the parent',
        () => {
          const p = parentOf(runId);
          return p && /Rejected/.test(textOf(p)) && textOf(p).includes('no: ') ? p : undefined;
        },
        20_000,
      );
      const status = await slashAs(TEAM, 'U0REQUEST', `status ${runId}`);
      await waitFor('the status', () => responseTexts(status.responseId)[0]);

      // Every string we sent to Slack since: messages, updates, ephemerals, modals, response_url posts, acks.
      const strings: string[] = [...usage.map((u) => u.text)];
      const collect = (v: unknown): void => {
        if (typeof v === 'string') strings.push(v);
        else if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === 'object') Object.values(v).forEach(collect);
      };
      collect(
        h.slack
          .calls()
          .slice(callsBefore)
          .map((c) => c.args),
      );
      collect(
        h.slack
          .responses()
          .slice(responsesBefore)
          .map((r) => r.body),
      );
      const all = strings.join('\n');
      // The injected text did reach our messages (escaped), or this test would prove nothing.
      expect(all).toContain('&lt;!channel&gt;');
      expect(all).toContain('&lt;http://evil.example|click&gt;');
      expect(all).toMatch(/checked/);
      expect(all).toMatch(/no: /);
      const live: string[] = [];
      for (const s of strings) {
        for (const token of s.match(/<[^<>]*>/g) ?? [])
          if (/^<(!channel|!here|!everyone|@U123|http:\/\/evil|#C999)/.test(token)) live.push(token);
        for (const m of s.match(/(?<![\u200d\w])@(here|channel|everyone)\b/g) ?? []) live.push(m);
      }
      expect(live).toEqual([]);
    },
    E2E_TIMEOUT,
  );
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Queue } from 'bullmq';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../jobs/contracts.js';
import { ACTIONS, VIEWS } from '../../src/slack/render/actions.js';
import { CHANNEL, type Harness, startHarness, waitFor } from '../helpers/harness.js';
import { skipUnless } from '../helpers/services.js';
import type { FakeMessage } from '../helpers/slack-fake.js';
import { sendSigned, slashCommandBody } from '../helpers/slack-sign.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
const skip = skipUnless('redis') || skipUnless('mongodb');
const E2E_TIMEOUT = 90_000;

describe.skipIf(skip)(
  'Slack bot end to end: bot + worker processes, BullMQ on Redis, MongoDB store, Slack fake',
  () => {
    let h: Harness;
    let target: http.Server;
    let baseUrl = '';
    let mongo: MongoClient;
    /** /flag answers 500 while this is false. */
    let flagOk = true;

    beforeAll(async () => {
      target = http.createServer((req, res) =>
        res
          .writeHead(req.url === '/flag' && !flagOk ? 500 : 200, { 'content-type': 'application/json' })
          .end('{"status":"ok"}'),
      );
      await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
      baseUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
      h = await startHarness({
        checklistsDir: fixtures,
        usergroups: { S0LEADS01: ['U0LEAD001'] },
        env: { SLACK_PHASE_FIRST_WRITE_MS: '2000' },
      });
      mongo = await MongoClient.connect(h.env.MONGODB_URI!);
    }, 90_000);

    afterAll(async () => {
      await h?.close();
      await mongo?.close();
      target?.closeAllConnections();
      await new Promise((r) => target?.close(r));
    });

    const runsInStore = () => mongo.db(h.env.MONGODB_DB).collection('runs').countDocuments();
    const statusOf = async (runId: string) =>
      (
        await mongo
          .db(h.env.MONGODB_DB)
          .collection('runs')
          .findOne({ _id: runId as never })
      )?.status;
    const parentOf = (runId: string) =>
      h.slack
        .messages(CHANNEL)
        .find(
          (m) =>
            !m.thread_ts &&
            (m.metadata as { event_payload?: { run?: string } } | undefined)?.event_payload?.run === runId,
        );
    const threadOf = (parent: FakeMessage) =>
      h.slack.messages(CHANNEL).filter((m) => m.thread_ts === parent.ts);
    const textOf = (m: FakeMessage | undefined) => JSON.stringify(m?.blocks ?? '') + (m?.text ?? '');

    it('refuses a forged signature with 401 and enqueues nothing', async () => {
      const before = h.slack.calls().length;
      const res = await sendSigned(h.botUrl, slashCommandBody({ text: `run e2e baseUrl=${baseUrl}` }), {
        secret: 'not-the-secret',
      });
      expect(res.status).toBe(401);
      const stale = await sendSigned(h.botUrl, slashCommandBody({ text: `run e2e baseUrl=${baseUrl}` }), {
        secret: 'e2e-signing-secret-0123456789abcdef',
        timestamp: Math.floor(Date.now() / 1000) - 600,
      });
      expect(stale.status).toBe(401);
      expect(await runsInStore()).toBe(0);
      expect(h.slack.calls().length).toBe(before);
    });

    it('answers an unknown checklist with the available ones, and bad arguments with usage', async () => {
      const unknown = await h.slash('U0REQUEST', 'run nope');
      expect(unknown.status).toBe(200);
      expect(unknown.text).toContain('available: e2e');
      const bad = await h.slash('U0REQUEST', 'frobnicate');
      expect(bad.text).toContain('unknown subcommand');
      const badVar = await h.slash('U0REQUEST', 'run e2e nope=1');
      expect(badVar.text).toContain('unknown variable');
    });

    it(
      'runs a checklist through a manual tick, approvals and the sign-off; a redelivered request starts nothing',
      async () => {
        const body = slashCommandBody({
          team_id: 'T0E2ETEAM',
          channel_id: CHANNEL,
          user_id: 'U0REQUEST',
          command: '/deploy-check',
          text: `run e2e staging baseUrl=${baseUrl}`,
          trigger_id: '111.222.fixed',
          response_url: h.slack.responseUrl({ user: 'U0REQUEST' }),
        });
        const writesAtStart = h.slack.writesCount({ okOnly: true });
        const [a, b] = await Promise.all([
          sendSigned(h.botUrl, body, { secret: 'e2e-signing-secret-0123456789abcdef' }),
          sendSigned(h.botUrl, body, { secret: 'e2e-signing-secret-0123456789abcdef' }),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        const runId = /`(r-[a-z0-9]+)`/.exec(a.text)![1]!;
        expect(b.text).toContain(runId);

        const parent = await waitFor('the parent message', () => parentOf(runId));
        const phaseMessages = await waitFor('two phase messages', () => {
          const t = threadOf(parent);
          return t.length >= 2 ? t : undefined;
        });
        await waitFor(
          'the run to await people',
          async () => (await statusOf(runId)) === 'awaiting-people' || undefined,
        );
        expect(await runsInStore()).toBe(1);
        const writesBeforePeople = h.slack.writesCount({ okOnly: true }) - writesAtStart;

        // A non-owner cannot tick; the owner can.
        const peoplePhase = phaseMessages.find((m) => textOf(m).includes('Database backup'))!;
        await h.click('U0APPR001', ACTIONS.tick, peoplePhase);
        await waitFor(
          'a refusal naming the rule',
          () => h.slack.responses().some((r) => JSON.stringify(r).includes('owner')) || undefined,
        );
        await h.click('U0OWNER01', ACTIONS.tick, peoplePhase);
        await waitFor('the approval request', () =>
          textOf(parentOf(runId)).includes(ACTIONS.approve) ? true : undefined,
        );

        // Self-approval is refused; each approver counts once even when clicking twice at once.
        await h.click('U0REQUEST', ACTIONS.approve, parentOf(runId)!);
        await waitFor(
          'self-approval refusal',
          () => h.slack.responses().some((r) => JSON.stringify(r).includes('self-approval')) || undefined,
        );
        await Promise.all([
          h.click('U0APPR001', ACTIONS.approve, parentOf(runId)!),
          h.click('U0APPR001', ACTIONS.approve, parentOf(runId)!),
        ]);
        await h.click('U0APPR002', ACTIONS.approve, parentOf(runId)!);
        // The parent closes the run with the sign-off; no reply is posted unless SLACK_SIGNOFF_REPLY.
        const signoff = await waitFor('the sign-off', () => {
          const p = parentOf(runId)!;
          return /Signed off/.test(textOf(p)) && /Approved by/.test(textOf(p)) ? p : undefined;
        });
        expect(threadOf(signoff).some((m) => /Approved by/.test(textOf(m)))).toBe(false);
        expect(textOf(signoff)).toContain('U0APPR001');
        expect(textOf(signoff)).toContain('U0APPR002');
        const votes = await mongo.db(h.env.MONGODB_DB).collection('votes').find({ runId }).toArray();
        expect(votes.map((v) => v.user).sort()).toEqual(['U0APPR001', 'U0APPR002']);

        // Budget: phases + 2, plus one per interaction that counted (a tick and two votes). Before
        // people act the parent is still "In progress": the parent and the two phases, no update.
        expect(writesBeforePeople).toBe(1 + 2);
        await waitFor('the status mirror', async () => (await statusOf(runId)) === 'approved' || undefined);
        expect(h.slack.writesCount({ okOnly: true }) - writesAtStart).toBeLessThanOrEqual(2 + 2 + 3);
        expect(await runsInStore()).toBe(1);
      },
      E2E_TIMEOUT,
    );

    it(
      'a rejection (reason in a modal) closes the run with its reason',
      async () => {
        const res = await h.slash('U0REQUEST', `run e2e production baseUrl=${baseUrl}`);
        const runId = /`(r-[a-z0-9]+)`/.exec(res.text)![1]!;
        const parent = await waitFor('the parent message', () => parentOf(runId));
        const peoplePhase = await waitFor('the people phase', () =>
          threadOf(parent).find((m) => textOf(m).includes('Database backup')),
        );
        await h.click('U0OWNER01', ACTIONS.tick, peoplePhase);
        await waitFor('the approval request', () =>
          textOf(parentOf(runId)).includes(ACTIONS.reject) ? true : undefined,
        );
        await h.click('U0APPR001', ACTIONS.reject, parentOf(runId)!);
        expect(h.slack.views().length).toBeGreaterThan(0);
        await h.submit('U0APPR001', VIEWS.reject, `${runId}|release`, {
          reason: { reason: 'Error budget spent <!channel>' },
        });
        await waitFor('the rejection', () => /rejected/i.test(textOf(parentOf(runId))) || undefined);
        expect(textOf(parentOf(runId))).not.toContain('<!channel>');
      },
      E2E_TIMEOUT,
    );

    it(
      're-running a phase whose results change voids earlier approvals and says so',
      async () => {
        const res = await h.slash('U0REQUEST', `run e2e baseUrl=${baseUrl}`);
        const runId = /`(r-[a-z0-9]+)`/.exec(res.text)![1]!;
        const parent = await waitFor('the parent message', () => parentOf(runId));
        const people = await waitFor('the people phase', () =>
          threadOf(parent).find((m) => textOf(m).includes('Database backup')),
        );
        await h.click('U0OWNER01', ACTIONS.tick, people);
        await waitFor('the approval request', () =>
          textOf(parentOf(runId)).includes(ACTIONS.approve) ? true : undefined,
        );
        await h.click('U0APPR001', ACTIONS.approve, parentOf(runId)!);
        await waitFor('one approval shown', () =>
          textOf(parentOf(runId)).includes('U0APPR001') ? true : undefined,
        );

        flagOk = false;
        const peopleNow = threadOf(parentOf(runId)!).find((m) => textOf(m).includes('Database backup'))!;
        await Promise.all([
          h.click('U0APPR002', ACTIONS.rerun, peopleNow),
          h.click('U0APPR002', ACTIONS.rerun, peopleNow),
        ]);
        await waitFor('the re-run result', () =>
          /voided/i.test(textOf(parentOf(runId))) ? true : undefined,
        );
        flagOk = true;
        expect(textOf(parentOf(runId))).not.toContain(ACTIONS.approve);
        const reruns = await mongo
          .db(h.env.MONGODB_DB)
          .collection('facts')
          .find({ runId, kind: /^rerun:/ })
          .toArray();
        expect(reruns).toHaveLength(1);
      },
      E2E_TIMEOUT,
    );

    it(
      'a run whose job fails for good says so: Slack refusing its channel fails it at once, errored in the store and the thread',
      async () => {
        // The parent's first post is refused as Slack refuses a channel the bot cannot see.
        h.slack.failNext(1, { error: 'channel_not_found' }, { method: 'chat.postMessage' });
        const res = await h.slash('U0REQUEST', `run e2e production baseUrl=${baseUrl}`);
        const runId = /`(r-[a-z0-9]+)`/.exec(res.text)![1]!;
        await waitFor('the errored status', async () => (await statusOf(runId)) === 'errored' || undefined);
        const parent = await waitFor('the parent saying so', () => {
          const p = parentOf(runId);
          return p && /Errored/.test(textOf(p)) ? p : undefined;
        });
        expect(textOf(parent)).not.toContain('In progress');
        const db = mongo.db(h.env.MONGODB_DB);
        const errored = await db.collection('facts').findOne({ _id: `${runId}|errored` as never });
        expect(errored?.data).toEqual({ reason: 'channel_not_found' });
        expect(await db.collection('audit').countDocuments({ runId, action: 'errored' })).toBe(1);
        // Failed for good on the first attempt: no retries of a refusal no retry can change.
        const queue = new Queue(runJob.name, {
          connection: { url: h.env.REDIS_URL! },
          prefix: h.env.QUEUE_PREFIX!,
        });
        try {
          const job = await queue.getJob(runId);
          expect(await job?.getState()).toBe('failed');
          expect(job?.attemptsMade).toBe(1);
          expect(job?.failedReason).toContain('channel_not_found');
        } finally {
          await queue.close();
        }
      },
      E2E_TIMEOUT,
    );
  },
);

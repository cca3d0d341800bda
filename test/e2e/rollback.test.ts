import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveRollbackId } from '../../src/rollback/ids.js';
import { ACTIONS } from '../../src/slack/render/actions.js';
import {
  DRY_RUN,
  ROLLBACK_ACTIONS,
  ROLLBACK_VIEWS,
  SKIP_REASON,
  VARS_INPUT,
} from '../../src/slack/render/rollback.js';
import { CHANNEL, type Harness, SIGNING_SECRET, startHarness, TEAM, waitFor } from '../helpers/harness.js';
import { type FakeTarget, startFakeTarget } from '../helpers/rollback-target.js';
import { redisUrl, skipUnless, uniqueName } from '../helpers/services.js';
import type { FakeMessage } from '../helpers/slack-fake.js';
import { interactionBody, sendSigned, viewSubmissionPayload } from '../helpers/slack-sign.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
const skip = skipUnless('redis') || skipUnless('mongodb');
const E2E_TIMEOUT = 90_000;
const CI_TOKEN = 'ci-token-e2e-0123456789abcdef';
const STATUS_KEY = 'status-key-e2e-fedcba9876543210';

const SRE = 'U0SRE0001';
const DBA = 'U0DBA0001';
const LEAD = 'U0LEAD001';
const NOBODY = 'U0NOBODY1';

describe.skipIf(skip)(
  'rollback playbook end to end: bot + worker processes, BullMQ, MongoDB, Slack fake',
  () => {
    let h: Harness;
    let t: FakeTarget;
    let mongo: MongoClient;
    let db: Db;
    let redis: Redis;
    let dir: string;
    const cachePrefix = uniqueName('rb-e2e-cache');

    beforeAll(async () => {
      t = await startFakeTarget();
      // The playbooks as committed, with `base` of the kill/fail ones pointed at the local target.
      // rollback-e2e keeps its defaults: the approved run inserted below supplies its variables.
      dir = mkdtempSync(path.join(os.tmpdir(), 'dc-rb-e2e-'));
      for (const name of ['rollback-e2e', 'rollback-kill', 'rollback-fail']) {
        const text = readFileSync(path.join(fixtures, `${name}.yml`), 'utf8');
        writeFileSync(
          path.join(dir, `${name}.yml`),
          name === 'rollback-e2e' ? text : text.replace('base: http://127.0.0.1:9', `base: ${t.url}`),
        );
      }
      cpSync(path.join(fixtures, 'e2e.yml'), path.join(dir, 'e2e.yml'));
      h = await startHarness({
        checklistsDir: dir,
        usergroups: { S0LEADS01: [LEAD] },
        env: {
          JOB_LOCK_MS: '2000',
          SLACK_RETRIES: '1',
          DC_SECRET_CI_TOKEN: CI_TOKEN,
          DC_SECRET_STATUS_KEY: STATUS_KEY,
        },
      });
      mongo = await MongoClient.connect(h.env.MONGODB_URI!);
      db = mongo.db(h.env.MONGODB_DB);
      redis = new Redis(redisUrl()!);
    }, 90_000);

    afterAll(async () => {
      await h?.close();
      const left = await redis?.keys(`${cachePrefix}*`).catch(() => []);
      if (left?.length) await redis.del(...left);
      redis?.disconnect();
      await mongo?.close();
      await t?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const textOf = (m: unknown) => JSON.stringify(m ?? '');
    const meta = (m: FakeMessage) =>
      (m.metadata as { event_payload?: { run?: string; part?: string } } | undefined)?.event_payload;
    const partOf = (rollbackId: string, part: string) =>
      h.slack.messages().find((m) => meta(m)?.run === rollbackId && meta(m)?.part === part);
    const confirmViews = () => h.slack.views().filter((v) => v.callback_id === ROLLBACK_VIEWS.confirm);
    const rollbackJobs = async () => {
      const keys = await redis.keys(`${h.env.QUEUE_PREFIX}:rollback:*`);
      return keys.filter((k) => /:rollback:rb-[a-z0-9-]+$/.test(k));
    };

    /** The command opens the confirmation modal; returns it. */
    async function openModal(user: string, text: string) {
      const before = confirmViews().length;
      const res = await h.slash(user, text);
      expect(res.status).toBe(200);
      const view = await waitFor('the confirmation modal', () => confirmViews()[before]);
      return view;
    }

    function submit(
      user: string,
      view: { id: string; private_metadata?: string },
      opts: { dryRun?: boolean; vars?: string } = {},
    ) {
      return sendSigned(
        h.botUrl,
        interactionBody(
          viewSubmissionPayload({
            callback_id: ROLLBACK_VIEWS.confirm,
            private_metadata: view.private_metadata ?? '',
            view_id: view.id,
            user: { id: user },
            team: { id: TEAM, domain: 'e2e' },
            values: {
              ...(opts.dryRun
                ? {
                    [DRY_RUN.block]: {
                      [DRY_RUN.action]: {
                        type: 'checkboxes',
                        selected_options: [
                          { text: { type: 'mrkdwn', text: 'Dry run' }, value: DRY_RUN.value },
                        ],
                      },
                    },
                  }
                : {}),
              ...(opts.vars !== undefined ? { [VARS_INPUT.block]: { [VARS_INPUT.action]: opts.vars } } : {}),
            },
          }),
        ),
        { secret: SIGNING_SECRET },
      );
    }

    /** Confirms the modal; returns the rollback id the bot derives from it. */
    async function start(user: string, text: string): Promise<string> {
      const view = await openModal(user, text);
      const res = await submit(user, view);
      expect(res.status).toBe(200);
      return deriveRollbackId(TEAM, view.id);
    }

    const facts = (rollbackId: string) => db.collection('rollback_facts').find({ rollbackId }).toArray();
    const hasFact = async (rollbackId: string, kind: string) =>
      (await facts(rollbackId)).some((f) => f.kind === kind) || undefined;
    const stepsMessage = (rollbackId: string, pattern: RegExp) =>
      waitFor(`the steps message to show ${pattern}`, () => {
        const m = partOf(rollbackId, 'steps');
        return m && pattern.test(textOf(m)) ? m : undefined;
      });
    const responsesWith = (s: string) => h.slack.responses().filter((r) => textOf(r.body).includes(s));

    it('an unknown service gets an ephemeral error listing the known services and checklists', async () => {
      const res = await h.slash(SRE, 'rollback no-such-api');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ response_type: 'ephemeral' });
      expect(res.text).toContain('no service or checklist');
      expect(res.text).toMatch(/services: .*rb-api.*; checklists: .*rollback-e2e/);
      expect(confirmViews()).toHaveLength(0);
    });

    it('refuses someone the checklist does not allow, naming the rule, and opens nothing', async () => {
      const res = await h.slash(NOBODY, 'rollback rb-api');
      expect(res.json).toMatchObject({ response_type: 'ephemeral' });
      expect(res.text).toContain('You may not start a rollback');
      expect(res.text).toContain('rollback.allowed');
      expect(res.text).toContain('role _sre_');
      expect(confirmViews()).toHaveLength(0);
    });

    it('--dry-run and the modal dry run show exactly what would run, secrets as references, and call nothing', async () => {
      const res = await h.slash(SRE, 'rollback rollback-e2e --dry-run');
      expect(res.json).toMatchObject({ response_type: 'ephemeral' });
      expect(res.text).toContain('Dry run');
      expect(res.text).toContain('POST http://127.0.0.1:9/ci/revert');
      expect(res.text).toContain('Bearer ${secret:CI_TOKEN}');
      expect(res.text).toContain('OAuth ${secret:STATUS_KEY}');
      expect(res.text).toContain('keys matching cache:*');
      expect(res.text).toContain('C0INCIDENT');
      expect(res.text).not.toContain(CI_TOKEN);

      // The lead (a member of the allowed user group) opens the modal and ticks "Dry run".
      const view = await openModal(LEAD, 'rollback rb-api');
      const bad = await submit(LEAD, view, { dryRun: true, vars: 'nope=1' });
      expect(bad.json).toMatchObject({ response_action: 'errors' });
      expect(bad.text).toContain('unknown variable');
      const dry = await submit(LEAD, view, { dryRun: true, vars: 'base=https://override.example\n' });
      expect(dry.json).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
      expect(dry.text).toContain('POST https://override.example/ci/revert');
      expect(dry.text).toContain('${secret:STATUS_KEY}');
      expect(dry.text).not.toContain(STATUS_KEY);

      expect(t.calls()).toHaveLength(0);
      expect(await db.collection('rollbacks').countDocuments()).toBe(0);
      expect(await rollbackJobs()).toHaveLength(0);
    });

    it(
      'runs the full playbook: webhook, wait-for, a manual step, cache flush, notify, a failed status page retried, post-mortem',
      async () => {
        // The default target is the service's last approved run; the playbook runs with its variables.
        await db.collection('runs').insertOne({
          _id: 'r-rbapprove1' as never,
          teamId: TEAM,
          checklist: 'rollback-e2e',
          title: 'Rollback E2E service',
          service: 'rb-api',
          env: 'production',
          vars: { base: t.url, redisUrl: redisUrl()!, cachePrefix },
          digest: 'x',
          source: '',
          file: '',
          channel: CHANNEL,
          requester: SRE,
          createdAt: new Date(),
          status: 'approved',
          updatedAt: new Date(),
        });
        await redis.mset(
          ...Array.from({ length: 120 }, (_, i) => [`${cachePrefix}:k${i}`, 'v']).flat(),
          `${cachePrefix}-other`,
          'keep',
        );
        t.script('/health', 503, 503, 200);
        t.script('/status/incidents', 500, 201);

        const rollbackId = await start(SRE, 'rollback rb-api');
        const parent = await waitFor('the rollback thread', () => partOf(rollbackId, 'parent'));
        expect(textOf(parent)).toContain('r-rbapprove1');

        // The playbook pauses at the manual step; a second rollback is refused with a link to this one.
        let steps = await stepsMessage(rollbackId, /waiting for/);
        expect(t.calls('/ci/revert')).toHaveLength(1);
        expect(t.calls('/ci/revert')[0]!.headers.authorization).toBe(`Bearer ${CI_TOKEN}`);
        expect(t.calls('/health').length).toBeGreaterThanOrEqual(3);
        const second = await h.slash(LEAD, 'rollback rb-api');
        expect(second.text).toContain('already in progress');
        expect(second.text).toContain(
          `https://e2e.slack.com/archives/${CHANNEL}/p${parent.ts.replace('.', '')}|${rollbackId}`,
        );

        // Only the step's owner may confirm it.
        await h.click(SRE, ROLLBACK_ACTIONS.confirm, steps);
        await waitFor('the owner rule', () => responsesWith('only its owner may').length > 0 || undefined);
        expect(await hasFact(rollbackId, 'decision:restore-db:0')).toBeUndefined();
        await h.click(DBA, ROLLBACK_ACTIONS.confirm, steps);

        // The status page answers 500: the playbook stops and offers Retry / Skip / Abort.
        steps = await stepsMessage(rollbackId, new RegExp(ROLLBACK_ACTIONS.retry));
        expect(textOf(steps)).toContain('answered HTTP 500');
        expect(textOf(steps)).toContain(ROLLBACK_ACTIONS.abort);
        expect(await redis.exists(`${cachePrefix}:k0`, `${cachePrefix}:k119`)).toBe(0);
        expect(await redis.get(`${cachePrefix}-other`)).toBe('keep');
        expect(h.slack.messages('C0INCIDENT').map((m) => m.text)).toEqual([
          'rb-api was rolled back to the previous deploy.',
        ]);

        await h.click(NOBODY, ROLLBACK_ACTIONS.retry, steps);
        await waitFor(
          'the retry refusal',
          () => responsesWith('retry a step of the rollback').length > 0 || undefined,
        );
        await h.click(LEAD, ROLLBACK_ACTIONS.retry, steps);

        await waitFor('the rollback to finish', () => hasFact(rollbackId, 'finished'));
        steps = await stepsMessage(rollbackId, /finished/);
        expect(textOf(steps)).not.toContain(ROLLBACK_ACTIONS.retry);
        const postmortem = await waitFor('the post-mortem stub', () =>
          partOf(rollbackId, 'postmortem:postmortem'),
        );
        expect(postmortem.thread_ts).toBe(parent.ts);
        expect(textOf(postmortem)).toContain('Timeline');
        expect(textOf(postmortem)).toContain('Update the status page: retry');
        expect(textOf(parentOf(rollbackId))).toContain('finished');

        // Each step ran to completion once; the status page was called once more for the retry.
        expect(t.calls('/ci/revert')).toHaveLength(1);
        expect(t.calls('/status/incidents').map((c) => c.answered)).toEqual([true, true]);
        expect(t.calls('/status/incidents')[1]!.headers.authorization).toBe(`OAuth ${STATUS_KEY}`);
        const audit = await db.collection('audit').find({ runId: rollbackId }).sort({ at: 1 }).toArray();
        expect(audit.map((a) => [a.action, a.actor])).toEqual([
          ['rollback-started', SRE],
          ['rollback-step-confirmed', DBA],
          ['rollback-step-failed', 'deploy-check'],
          ['rollback-retried', LEAD],
          ['rollback-finished', 'deploy-check'],
        ]);
        expect(
          await db.collection('audit').countDocuments({ runId: 'r-rbapprove1', action: 'rollback-started' }),
        ).toBe(1);
        const stored = JSON.stringify(await db.collection('rollback_facts').find({ rollbackId }).toArray());
        expect(stored).not.toContain(CI_TOKEN);
        expect(stored).not.toContain(STATUS_KEY);

        // The service is free again: a monitor's "Start rollback" button opens the modal for its run.
        const before = confirmViews().length;
        const monitorMessage = {
          channel: CHANNEL,
          ts: '1700000999.000100',
          blocks: [
            {
              type: 'actions',
              block_id: 'monitor:rollback',
              elements: [{ type: 'button', action_id: ACTIONS.rollback, value: 'r-rbapprove1' }],
            },
          ],
        };
        await h.click(SRE, ACTIONS.rollback, monitorMessage);
        const again = await waitFor('the modal from the button', () => confirmViews()[before]);
        expect(again.private_metadata).toBe(
          `rollback-e2e|r-rbapprove1|${CHANNEL}|${again.private_metadata?.split('|')[3]}`,
        );
        expect(textOf(again.blocks)).toContain('r-rbapprove1');
      },
      E2E_TIMEOUT,
    );

    const parentOf = (rollbackId: string) => partOf(rollbackId, 'parent');

    it(
      'an unreachable step and a hanging one fail with clear reasons; skip (with a reason) and abort',
      async () => {
        t.script('/fail/hang', 'hang');
        // Two confirmations opened while the service was free: the second to be submitted is refused.
        const first = await openModal(SRE, 'rollback rb-fail-api');
        const other = await openModal(SRE, 'rollback rb-fail-api');
        await submit(SRE, first);
        const rollbackId = deriveRollbackId(TEAM, first.id);
        // The bot acks before it takes the lock: let the first submission take it before the second.
        await waitFor('the first rollback', async () =>
          (await db.collection('rollbacks').countDocuments({ _id: rollbackId as never })) > 0
            ? true
            : undefined,
        );
        await submit(SRE, other);
        await waitFor('the refusal of the second', () =>
          h.slack.ephemerals().find((e) => e.user === SRE && textOf(e).includes('already in progress')),
        );
        expect(await db.collection('rollbacks').countDocuments({ service: 'rb-fail-api' })).toBe(1);
        let steps = await stepsMessage(rollbackId, /connection refused/);
        expect(textOf(steps)).toContain(ROLLBACK_ACTIONS.skip);

        await h.click(SRE, ROLLBACK_ACTIONS.skip, steps);
        const modal = await waitFor('the skip modal', () =>
          h.slack.views().find((v) => v.callback_id === ROLLBACK_VIEWS.skip),
        );
        const empty = await h.submit(SRE, ROLLBACK_VIEWS.skip, modal.private_metadata ?? '', {
          [SKIP_REASON.block]: { [SKIP_REASON.action]: ' ' },
        });
        expect(empty.status).toBe(200);
        expect(await hasFact(rollbackId, 'decision:unreachable:1')).toBeUndefined();
        await h.submit(SRE, ROLLBACK_VIEWS.skip, modal.private_metadata ?? '', {
          [SKIP_REASON.block]: { [SKIP_REASON.action]: 'host retired <!channel>' },
        });

        steps = await stepsMessage(rollbackId, /no answer from .*within 1s/);
        expect(textOf(steps)).toContain('host retired');
        expect(textOf(steps)).not.toContain('<!channel>');
        await h.click(SRE, ROLLBACK_ACTIONS.abort, steps);
        await stepsMessage(rollbackId, /aborted/);
        expect(t.calls('/fail/never')).toHaveLength(0);
        const audit = await db.collection('audit').find({ runId: rollbackId }).sort({ at: 1 }).toArray();
        expect(audit.map((a) => a.action)).toEqual([
          'rollback-started',
          'rollback-step-failed',
          'rollback-skipped',
          'rollback-step-failed',
          'rollback-aborted',
        ]);
        expect(audit.find((a) => a.action === 'rollback-skipped')?.detail?.reason).toBe(
          'host retired <!channel>',
        );
      },
      E2E_TIMEOUT,
    );

    it(
      'a worker killed mid-playbook: another finishes it without repeating a completed step',
      async () => {
        t.script('/kill/slow', 'hold');
        const rollbackId = await start(SRE, 'rollback rb-kill-api');
        await waitFor('the slow step to be called', () => t.calls('/kill/slow').length === 1 || undefined);
        expect(await hasFact(rollbackId, 'done:first')).toBe(true);

        await h.kill(h.workers[0]!);
        t.release('/kill/slow');
        await h.startWorker();

        await waitFor('the rollback to finish', () => hasFact(rollbackId, 'finished'), 60_000);
        expect(t.calls('/kill/first')).toHaveLength(1);
        // The interrupted attempt's client died with its worker; the second attempt completed.
        expect(t.calls('/kill/slow').map((c) => c.answered)).toEqual([false, true]);
        expect(t.calls('/kill/last')).toHaveLength(1);
        const kinds = (await facts(rollbackId)).map((f) => f.kind);
        expect(kinds.filter((k) => k.startsWith('done:')).sort()).toEqual([
          'done:first',
          'done:last',
          'done:slow',
        ]);
        expect(kinds).toContain('claim:slow:2');
        await stepsMessage(rollbackId, /finished/);
        expect(
          h.slack.messages().filter((m) => meta(m)?.run === rollbackId && meta(m)?.part === 'steps'),
        ).toHaveLength(1);
      },
      E2E_TIMEOUT,
    );
  },
);

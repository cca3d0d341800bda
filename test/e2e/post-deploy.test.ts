import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, VIEWS } from '../../src/slack/render/actions.js';
import { CHANNEL, type Harness, startHarness, waitFor } from '../helpers/harness.js';
import { skipUnless } from '../helpers/services.js';
import type { FakeMessage } from '../helpers/slack-fake.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
const skip = skipUnless('redis') || skipUnless('mongodb');
const TIMEOUT = 90_000;

describe.skipIf(skip)('after the deploy: monitors, waivers and the evidence pack', () => {
  let h: Harness;
  let target: http.Server;
  let baseUrl = '';
  let mongo: MongoClient;
  /** The target's health and flag endpoints answer 500 while this is false. */
  let healthy = true;
  let flagOk = true;

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      const ok = req.url === '/flag' ? flagOk : healthy;
      res
        .writeHead(ok ? 200 : 500, { 'content-type': 'application/json' })
        .end(ok ? '{"status":"ok"}' : '{"status":"down"}');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    h = await startHarness({
      checklistsDir: fixtures,
      env: { MONITOR_OFFSETS: '1s,4s', SLACK_PHASE_FIRST_WRITE_MS: '2000' },
    });
    mongo = await MongoClient.connect(h.env.MONGODB_URI!);
  }, TIMEOUT);

  afterAll(async () => {
    await h?.close();
    await mongo?.close();
    target?.closeAllConnections();
    await new Promise((r) => target?.close(r));
  });

  const textOf = (m: FakeMessage | undefined) => JSON.stringify(m?.blocks ?? '') + (m?.text ?? '');
  const partOf = (m: FakeMessage) =>
    (m.metadata as { event_payload?: { run?: string; part?: string } } | undefined)?.event_payload;
  const find = (runId: string, part: string) =>
    h.slack.messages(CHANNEL).find((m) => partOf(m)?.run === runId && partOf(m)?.part === part);

  async function approvedRun(checklist: string): Promise<string> {
    const res = await h.slash('U0REQUEST', `run ${checklist} baseUrl=${baseUrl}`);
    const runId = /`(r-[a-z0-9]+)`/.exec(res.text)![1]!;
    const people = await waitFor('the people phase', () => find(runId, 'phase:signoff'));
    await waitFor('the people phase to offer Done', () =>
      textOf(find(runId, 'phase:signoff')).includes(ACTIONS.tick) ? true : undefined,
    );
    await h.click('U0OWNER01', ACTIONS.tick, people);
    await waitFor('the approval request', () =>
      textOf(find(runId, 'parent')).includes(ACTIONS.approve) ? true : undefined,
    );
    await h.click('U0APPR001', ACTIONS.approve, find(runId, 'parent')!);
    await h.click('U0APPR002', ACTIONS.approve, find(runId, 'parent')!);
    await waitFor('approval', () =>
      textOf(find(runId, 'parent')).includes(ACTIONS.deployed) ? true : undefined,
    );
    return runId;
  }

  it(
    're-checks at the configured offsets after "Mark deployed" and offers a rollback on a breach',
    async () => {
      const runId = await approvedRun('e2e-monitors');
      await h.click('U0REQUEST', ACTIONS.deployed, find(runId, 'parent')!);
      const first = await waitFor('the first monitor round', () => find(runId, 'monitor:1000'));
      expect(textOf(first)).toContain('within criteria');
      expect(textOf(first)).not.toContain(ACTIONS.rollback);
      healthy = false;
      const second = await waitFor('the second monitor round', () => find(runId, 'monitor:4000'));
      healthy = true;
      expect(textOf(second)).toContain('breached');
      expect(textOf(second)).toContain(ACTIONS.rollback);
      const facts = await mongo
        .db(h.env.MONGODB_DB)
        .collection('facts')
        .find({ runId, kind: /^monitor:/ })
        .toArray();
      expect(facts.map((f) => f.kind).sort()).toEqual(['monitor:1000', 'monitor:4000']);
    },
    TIMEOUT,
  );

  it(
    "a newer deploy of the same service supersedes the older one's monitors",
    async () => {
      const older = await approvedRun('e2e-monitors');
      const newer = await approvedRun('e2e-monitors');
      await h.click('U0REQUEST', ACTIONS.deployed, find(older, 'parent')!);
      // The click is acked before its fact is written: wait for it, so "newer" is newer.
      const facts = mongo.db(h.env.MONGODB_DB).collection('facts');
      await waitFor(
        'the older deploy recorded',
        async () => (await facts.findOne({ runId: older, kind: 'deployed' })) ?? undefined,
      );
      await h.click('U0REQUEST', ACTIONS.deployed, find(newer, 'parent')!);
      await waitFor("the newer deploy's second round", () => find(newer, 'monitor:4000'));
      // The older deploy's first round (+1 s) may fire before the newer deploy is recorded; its
      // later round must not run as if the older deploy were still the live one.
      const olderLate = find(older, 'monitor:4000');
      if (olderLate) expect(textOf(olderLate)).toContain('superseded');
      const olderFacts = await mongo
        .db(h.env.MONGODB_DB)
        .collection('facts')
        .find({ runId: older, kind: 'monitor:4000' })
        .toArray();
      expect(olderFacts).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'an approver waives a failed item with a reason and expiry; the result stays visible; the report records it',
    async () => {
      flagOk = false;
      const res = await h.slash('U0REQUEST', `run e2e baseUrl=${baseUrl}`);
      const runId = /`(r-[a-z0-9]+)`/.exec(res.text)![1]!;
      const phase = await waitFor('the failing phase', () =>
        textOf(find(runId, 'phase:signoff')).includes(ACTIONS.waive)
          ? find(runId, 'phase:signoff')
          : undefined,
      );
      flagOk = true;
      await h.click('U0REQUEST', ACTIONS.waive, phase!);
      await h.submit('U0REQUEST', VIEWS.waive, `${runId}|signoff/flag`, {
        reason: { reason: 'self-waiver' },
        expiry: { expiry: { type: 'static_select', selected_option: { value: '3600000' } } as never },
      });
      await h.click('U0APPR001', ACTIONS.waive, find(runId, 'phase:signoff')!);
      await h.submit('U0APPR001', VIEWS.waive, `${runId}|signoff/flag`, {
        reason: { reason: 'Flag service is optional today' },
        expiry: { expiry: { type: 'static_select', selected_option: { value: '3600000' } } as never },
      });
      const waived = await waitFor('the waiver in the thread', () =>
        textOf(find(runId, 'phase:signoff')).includes('Waived by') ? find(runId, 'phase:signoff') : undefined,
      );
      expect(textOf(waived)).toContain('Flag service is optional today');
      expect(textOf(waived)).toMatch(/❌|💥/);
      const facts = await mongo
        .db(h.env.MONGODB_DB)
        .collection('facts')
        .find({ runId, kind: /^waiver:/ })
        .toArray();
      expect(facts.map((f) => f.by)).toEqual(['U0APPR001']);

      const report = await h.slash('U0APPR001', `report ${runId}`);
      expect(report.status).toBe(200);
      const posted = await waitFor('the report', () =>
        h.slack
          .responses()
          .find((r) => JSON.stringify(r).includes(`Evidence: `) && JSON.stringify(r).includes(runId)),
      );
      expect(JSON.stringify(posted)).toContain('Flag service is optional today');
      const stored = await mongo
        .db(h.env.MONGODB_DB)
        .collection('reports')
        .findOne({ _id: runId as never });
      expect(stored).not.toBeNull();
    },
    TIMEOUT,
  );
});

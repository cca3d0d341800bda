/**
 * The approval request is opened (its `approval-opened` fact, which starts the expiry clock) before
 * anything draws Approve buttons — by the thread sync and by a resumed run job alike, both through
 * `viewToShow` (jobs/sync.ts) — and only once, however often it is reached.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerDeps } from '../../jobs/deps.js';
import { runDoc } from '../../jobs/run-processor.js';
import { viewToShow } from '../../jobs/sync.js';
import { loadChecklistFile } from '../../src/checklist/load.js';
import type { ItemResult } from '../../src/run/types.js';
import { RunStore } from '../../src/store/run-store.js';
import { mongoKind, mongoUri, skipUnless, uniqueName } from '../helpers/services.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe.skipIf(skipUnless('mongodb'))(`opening the approval on ${mongoKind()}`, () => {
  let client: MongoClient;
  let db: Db;
  let store: RunStore;
  const tenant = { teamId: 'T0APPROVE' };

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUri()!);
    db = client.db(uniqueName('approval').replace(/[^a-zA-Z0-9_-]/g, '_'));
    store = new RunStore(db);
    await store.ensureIndexes();
  });
  afterAll(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  /** A run of the e2e checklist whose probes all passed and whose manual item is ticked: the gates are next. */
  async function runAwaitingApproval(runId: string): Promise<void> {
    const checklist = loadChecklistFile(path.join(ROOT, 'test/fixtures/e2e-checklists/e2e.yml'));
    const now = new Date();
    await store.createRun(
      runDoc(
        {
          runId,
          tenant,
          checklist: 'e2e',
          vars: checklist.vars,
          channel: 'C0APPROVE',
          requester: 'U0REQUEST',
        },
        checklist,
        now,
      ),
    );
    await store.fact(tenant, runId, 'started');
    for (const phase of checklist.phases) {
      for (const item of phase.items) {
        if (item.kind === 'manual') {
          await store.tick(tenant, runId, item.key, { by: 'U0OWNER01', at: now.toISOString() });
          continue;
        }
        const result: ItemResult = {
          key: item.key,
          phaseId: phase.id,
          itemId: item.id,
          title: item.title,
          severity: 'critical',
          kind: 'probe',
          type: 'http',
          status: 'pass',
          observed: '200',
          expected: '200',
          detail: '',
          durationMs: 1,
          measurements: 1,
          attempts: 1,
          startedAt: now.toISOString(),
          finishedAt: now.toISOString(),
        };
        await store.recordResult(tenant, runId, 0, result);
      }
      await store.fact(tenant, runId, `phase-done:${phase.id}:0`);
    }
    await store.fact(tenant, runId, 'probes-done');
  }

  it('opens it before the view is shown, once, with the expiry counted from then', async () => {
    await runAwaitingApproval('r-approve1');
    const deps = { store, now: () => new Date() } as unknown as WorkerDeps;
    const before = Date.now();
    const first = (await viewToShow(deps, tenant, 'r-approve1'))?.view;
    expect(first?.status).toBe('awaiting-approval');
    const gate = first!.gates[0]!;
    expect(gate.open).toBe(true);
    expect(gate.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 4 * 3600_000 - 1000);
    // Reached again (a retried job, the next sync, a second worker at once): the same clock.
    const again = await Promise.all(
      [1, 2, 3].map(async () => (await viewToShow(deps, tenant, 'r-approve1'))?.view),
    );
    for (const v of again) expect(v?.gates[0]?.expiresAt).toEqual(gate.expiresAt);
    const opened = (await store.factsFor(tenant, 'r-approve1')).filter((f) => f.kind === 'approval-opened');
    expect(opened).toHaveLength(1);
  });

  it('keeps the status of the view that saw the most facts, whatever order the writes arrive in', async () => {
    await runAwaitingApproval('r-approve3');
    // A sync that saw 12 facts writes after one that saw 14 (its update was in flight meanwhile).
    await store.setStatus(tenant, 'r-approve3', 'approved', 'pass', 14);
    await store.setStatus(tenant, 'r-approve3', 'awaiting-approval', 'pass', 12);
    expect((await store.getRun(tenant, 'r-approve3'))?.status).toBe('approved');
    // The same or more facts: written.
    await store.setStatus(tenant, 'r-approve3', 'approved', 'pass', 14);
    await store.setStatus(tenant, 'r-approve3', 'rejected', 'pass', 15);
    expect((await store.getRun(tenant, 'r-approve3'))?.status).toBe('rejected');
    // The thread sync passes the version of the view it derived.
    const loaded = await viewToShow(
      { store, now: () => new Date() } as unknown as WorkerDeps,
      tenant,
      'r-approve3',
    );
    expect(loaded?.version).toBeGreaterThan(0);
  });

  it('opens nothing for a run whose gates are not next (still running)', async () => {
    await runAwaitingApproval('r-approve2');
    await db.collection('facts').deleteOne({ _id: 'r-approve2|probes-done' as never });
    const view = (
      await viewToShow({ store, now: () => new Date() } as unknown as WorkerDeps, tenant, 'r-approve2')
    )?.view;
    expect(view?.status).toBe('running');
    expect(view?.gates[0]?.expiresAt).toBeUndefined();
    expect((await store.factsFor(tenant, 'r-approve2')).some((f) => f.kind === 'approval-opened')).toBe(
      false,
    );
  });
});

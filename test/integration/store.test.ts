import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoded } from '../../src/errors.js';
import { MongoInstallationStore } from '../../src/store/installations.js';
import { connectMongo } from '../../src/store/mongo.js';
import { RunStore } from '../../src/store/run-store.js';
import { mongoKind, mongoUri, skipUnless, uniqueName } from '../helpers/services.js';

describe.skipIf(skipUnless('mongodb'))(`run store on ${mongoKind()}`, () => {
  let client: MongoClient;
  let db: Db;
  let store: RunStore;
  const A = { teamId: 'T0AAAAAAA' };
  const B = { teamId: 'T0BBBBBBB' };

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUri()!);
    db = client.db(uniqueName('store').replace(/[^a-zA-Z0-9_-]/g, '_'));
    store = new RunStore(db);
    await store.ensureIndexes();
  });
  afterAll(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  it('counts each vote once under 50 simultaneous clicks from 10 people (unique-key facts, no atomic update needed)', async () => {
    const clicks = Array.from({ length: 50 }, (_, i) => `U0VOTER${i % 10}`);
    const outcomes = await Promise.all(
      clicks.map((user) =>
        store.vote(A, {
          runId: 'r-votes',
          gate: 'release',
          user,
          decision: 'approve',
          roles: [],
          evidence: 'e1',
          at: new Date(),
        }),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(10);
    expect(new Set((await store.votesFor(A, 'r-votes')).map((v) => v.user)).size).toBe(10);
  });

  it('lets exactly one caller make a transition happen', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => store.fact(A, 'r-once', 'closed')));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('writes a once-only audit line exactly once, however often a retried job reaches it', async () => {
    // A worker killed between the fact and its audit line: the retry finds the fact made, and
    // must still write the line; simultaneous retries must not write it twice.
    expect(await store.fact(A, 'r-audit', 'closed')).toBe(true);
    await Promise.all(
      Array.from({ length: 10 }, () =>
        store.record(A, 'r-audit', 'deploy-check', 'closed', { status: 'approved' }, { once: 'closed' }),
      ),
    );
    await store.record(A, 'r-audit', 'U0SOMEONE', 'ticked');
    await store.record(A, 'r-audit', 'U0SOMEONE', 'ticked');
    const audit = await store.auditFor(A, 'r-audit');
    expect(audit.map((a) => a.action).sort()).toEqual(['closed', 'ticked', 'ticked']);
  });

  it('scopes every read by workspace', async () => {
    const now = new Date();
    await store.createRun({
      _id: 'r-tenant',
      teamId: A.teamId,
      checklist: 'c',
      title: 'c',
      service: 's',
      vars: {},
      digest: 'd',
      source: '',
      file: 'f',
      channel: 'C1',
      requester: 'U1',
      createdAt: now,
      status: 'queued',
      updatedAt: now,
    });
    expect(await store.getRun(A, 'r-tenant')).not.toBeNull();
    expect(await store.getRun(B, 'r-tenant')).toBeNull();
    expect(await store.listRuns(B)).toEqual([]);
    await store.tick(A, 'r-tenant', 'p/i', { by: 'U1', at: now.toISOString() });
    expect((await store.ticksFor(B, 'r-tenant')).size).toBe(0);
  });

  it('stores Slack installations for OAuth mode, keyed by enterprise for org installs', async () => {
    const installs = new MongoInstallationStore(db);
    await installs.storeInstallation({
      team: { id: 'T0INSTALL' },
      enterprise: undefined,
      user: { id: 'U1', token: undefined, scopes: undefined },
      bot: { token: 'xoxb-1', scopes: ['commands'], id: 'B1', userId: 'U0BOT' },
      isEnterpriseInstall: false,
    } as never);
    expect(
      (
        await installs.fetchInstallation({
          teamId: 'T0INSTALL',
          isEnterpriseInstall: false,
          enterpriseId: undefined,
        })
      ).bot?.token,
    ).toBe('xoxb-1');
    await installs.storeInstallation({
      team: undefined,
      enterprise: { id: 'E0ORG' },
      user: { id: 'U1' },
      bot: { token: 'xoxb-org' },
      isEnterpriseInstall: true,
    } as never);
    expect(
      (
        await installs.fetchInstallation({
          teamId: 'T0ANY',
          enterpriseId: 'E0ORG',
          isEnterpriseInstall: true,
        })
      ).bot?.token,
    ).toBe('xoxb-org');
    await installs.deleteInstallation({
      teamId: 'T0INSTALL',
      isEnterpriseInstall: false,
      enterpriseId: undefined,
    });
    await expect(
      installs.fetchInstallation({
        teamId: 'T0INSTALL',
        isEnterpriseInstall: false,
        enterpriseId: undefined,
      }),
    ).rejects.toThrow(/no installation/);
  });
});

describe('run store connection', () => {
  it('turns an unreachable server into a sentence, within the timeout', async () => {
    const err = await connectMongo('mongodb://127.0.0.1:9/', 'x', { timeoutMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(isCoded(err)).toBe(true);
    expect((err as Error).message).toMatch(/^the run store \(MongoDB\) is unavailable: /);
  });
});

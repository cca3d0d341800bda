import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, type LockDeps, lockState } from '../../src/rollback/lock.js';
import { type RollbackStore, rollbackStore } from '../../src/store/rollback-store.js';
import { mongoUri, skipUnless, uniqueName } from '../helpers/services.js';

const tenant = { teamId: 'T0LOCKS01' };

const SOURCE = `
name: rb-lock
service: rb-lock-api
phases:
  - id: p
    title: P
    items:
      - { id: i, title: I, manual: { owner: U0SRE00001 } }
rollback:
  allowed: U0SRE00001
  steps:
    - { id: call, type: webhook, url: "http://127.0.0.1:9/x" }
    - { id: person, type: manual, owner: U0SRE00001 }
`;

describe.skipIf(skipUnless('mongodb'))('one rollback per service: the epoch lock', () => {
  let client: MongoClient;
  let db: Db;
  let store: RollbackStore;
  let live = new Set<string>();
  let clock = Date.now();

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUri()!);
    db = client.db(uniqueName('rb-lock').replace(/[^a-zA-Z0-9_-]/g, '_'));
    store = await rollbackStore(db);
  });
  afterAll(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  const deps = (): LockDeps => ({
    store,
    hasLiveJob: async (id) => live.has(id),
    now: () => new Date(clock),
    staleAfterMs: 60_000,
  });

  async function begin(service: string, id: string) {
    const got = await acquireLock(deps(), tenant, service, id, 'U0SRE00001');
    if ('ok' in got)
      await store.create({
        _id: id,
        teamId: tenant.teamId,
        service,
        checklist: 'rb-lock',
        title: 'rb-lock',
        file: 'rb-lock.yml',
        source: SOURCE,
        digest: 'x',
        vars: {},
        channel: 'C0LOCKS01',
        requester: 'U0SRE00001',
        createdAt: new Date(clock),
        epoch: got.epoch,
      });
    return got;
  }

  it('is held while the holder runs, released when it ends', async () => {
    const service = uniqueName('svc');
    live = new Set(['rb-aaaa1']);
    expect(await begin(service, 'rb-aaaa1')).toMatchObject({ ok: true, epoch: 1 });
    expect(await begin(service, 'rb-bbbb1')).toMatchObject({ free: false, holder: 'rb-aaaa1' });
    await store.fact(tenant, 'rb-aaaa1', 'finished');
    expect(await lockState(deps(), tenant, service)).toEqual({ free: true, epoch: 1 });
    expect(await begin(service, 'rb-bbbb1')).toMatchObject({ ok: true, epoch: 2 });
  });

  it('stays held with no worker at all while the holder waits for people (manual step or failed step)', async () => {
    const service = uniqueName('svc');
    live = new Set();
    await begin(service, 'rb-cccc1');
    await store.fact(tenant, 'rb-cccc1', 'claim:call:1', undefined, { job: 'rb-cccc1', leaseUntil: 0 });
    await store.fact(tenant, 'rb-cccc1', 'done:call', undefined, { attempt: 1 });
    clock += 24 * 3_600_000;
    const state = await lockState(deps(), tenant, service);
    expect(state).toMatchObject({ free: false, holder: 'rb-cccc1', view: { status: 'waiting' } });
  });

  it('a holder with no live job and no activity past the grace is abandoned, recorded as aborted, and superseded', async () => {
    const service = uniqueName('svc');
    live = new Set(['rb-dddd1']);
    clock = Date.now();
    await begin(service, 'rb-dddd1');
    await store.fact(
      tenant,
      'rb-dddd1',
      'claim:call:1',
      undefined,
      { job: 'rb-dddd1', leaseUntil: 0 },
      new Date(clock),
    );
    // Its job failed for good: no live job. Within the grace it still counts as running.
    live = new Set();
    clock += 30_000;
    expect(await begin(service, 'rb-eeee1')).toMatchObject({ free: false, holder: 'rb-dddd1' });
    clock += 31_000;
    expect(await begin(service, 'rb-eeee1')).toMatchObject({ ok: true, epoch: 2, abandoned: 'rb-dddd1' });
    expect(await store.hasFact(tenant, 'rb-dddd1', 'aborted')).toBe(true);
  });

  it('of many concurrent starts exactly one takes the service', async () => {
    const service = uniqueName('svc');
    live = new Set(Array.from({ length: 20 }, (_, i) => `rb-race${i}`));
    clock = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => acquireLock(deps(), tenant, service, `rb-race${i}`, 'U0SRE00001')),
    );
    const winners = results.filter((r) => 'ok' in r);
    expect(winners).toHaveLength(1);
    const holder = (winners[0] as { epoch: number }).epoch;
    expect(holder).toBe(1);
    const losers = results.filter((r) => !('ok' in r)) as Array<{ holder: string }>;
    expect(new Set(losers.map((l) => l.holder)).size).toBe(1);
  });
});

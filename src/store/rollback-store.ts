import type { Collection, Db, Filter } from 'mongodb';
import { insertFact } from './mongo.js';
import type { Tenant } from './run-store.js';

/** One rollback: what was confirmed, by whom, against which run, with the playbook text it executes. */
export interface RollbackDoc extends Tenant {
  _id: string;
  service: string;
  /** Checklist name and title, and the exact text whose `rollback:` section runs (today's file may change later). */
  checklist: string;
  title: string;
  file: string;
  source: string;
  digest: string;
  /** Variables the playbook was interpolated with (the target run's, else the checklist's defaults). */
  vars: Record<string, string>;
  targetRunId?: string;
  channel: string;
  requester: string;
  createdAt: Date;
  /** The service lock's epoch this rollback holds (see rollback/lock.ts). */
  epoch: number;
}

/**
 * A fact about a rollback; its `_id` (`<rollbackId>|<kind>`) is the fact, so inserting it is the
 * atomic act. Kinds: `claim:<step>:<n>` (attempt n started), `done:<step>`, `failed:<step>:<n>`,
 * `decision:<step>:<n>` (retry / skip / confirm, one per attempt), `aborted`, `finished`.
 */
export interface RollbackFactDoc {
  _id: string;
  rollbackId: string;
  teamId: string;
  kind: string;
  at: Date;
  by?: string;
  data?: Record<string, unknown>;
}

/**
 * "Rollback R holds service S from epoch N". Epochs only grow: taking the lock is inserting
 * epoch N+1, which exactly one contender can do; releasing it is the holder ending (its
 * `finished` / `aborted` fact). Nothing is updated or deleted, so it is race-free on FerretDB too.
 */
export interface RollbackLockDoc {
  _id: string;
  teamId: string;
  service: string;
  epoch: number;
  rollbackId: string;
  by: string;
  at: Date;
}

export class RollbackStore {
  readonly rollbacks: Collection<RollbackDoc>;
  readonly facts: Collection<RollbackFactDoc>;
  readonly locks: Collection<RollbackLockDoc>;

  constructor(readonly db: Db) {
    this.rollbacks = db.collection('rollbacks');
    this.facts = db.collection('rollback_facts');
    this.locks = db.collection('rollback_locks');
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([
      this.rollbacks.createIndex({ teamId: 1, service: 1, createdAt: -1 }),
      this.rollbacks.createIndex({ teamId: 1, targetRunId: 1 }),
      this.facts.createIndex({ rollbackId: 1, at: 1 }),
      this.locks.createIndex({ teamId: 1, service: 1, epoch: -1 }),
    ]);
  }

  /** Creates the rollback once; false when it already exists (a double-submitted modal). */
  create(doc: RollbackDoc): Promise<boolean> {
    return insertFact(this.rollbacks, doc);
  }

  get(tenant: Tenant, rollbackId: string): Promise<RollbackDoc | null> {
    return this.rollbacks.findOne({ _id: rollbackId, teamId: tenant.teamId } as Filter<RollbackDoc>);
  }

  /** Rollbacks that targeted a run (for its evidence pack), oldest first. */
  forRun(tenant: Tenant, runId: string): Promise<RollbackDoc[]> {
    return this.rollbacks
      .find({ teamId: tenant.teamId, targetRunId: runId } as Filter<RollbackDoc>)
      .sort({ createdAt: 1 })
      .toArray();
  }

  /** True for the one caller that recorded this fact. */
  fact(
    tenant: Tenant,
    rollbackId: string,
    kind: string,
    by?: string,
    data?: Record<string, unknown>,
    at: Date = new Date(),
  ): Promise<boolean> {
    return insertFact(this.facts, {
      _id: `${rollbackId}|${kind}`,
      rollbackId,
      teamId: tenant.teamId,
      kind,
      at,
      ...(by ? { by } : {}),
      ...(data ? { data } : {}),
    });
  }

  factsFor(tenant: Tenant, rollbackId: string): Promise<RollbackFactDoc[]> {
    return this.facts
      .find({ rollbackId, teamId: tenant.teamId } as Filter<RollbackFactDoc>)
      .sort({ at: 1 })
      .toArray();
  }

  async hasFact(tenant: Tenant, rollbackId: string, kind: string): Promise<boolean> {
    const doc = await this.facts.findOne({
      _id: `${rollbackId}|${kind}`,
      teamId: tenant.teamId,
    } as Filter<RollbackFactDoc>);
    return doc !== null;
  }

  latestLock(tenant: Tenant, service: string): Promise<RollbackLockDoc | null> {
    return this.locks
      .find({ teamId: tenant.teamId, service } as Filter<RollbackLockDoc>)
      .sort({ epoch: -1 })
      .limit(1)
      .next();
  }

  /** Inserts epoch N of a service's lock; false when someone else took that epoch first. */
  insertLock(tenant: Tenant, lock: Omit<RollbackLockDoc, '_id' | 'teamId'>): Promise<boolean> {
    return insertFact(this.locks, {
      _id: `${tenant.teamId}|${lock.service}|${lock.epoch}`,
      teamId: tenant.teamId,
      ...lock,
    });
  }
}

const stores = new WeakMap<Db, Promise<RollbackStore>>();

/**
 * The rollback store over a database, its indexes ensured once per process. The bot and the
 * worker build their RunStore at their entry points; this one hangs off the same `Db`.
 */
export function rollbackStore(db: Db): Promise<RollbackStore> {
  let ready = stores.get(db);
  if (!ready) {
    const store = new RollbackStore(db);
    ready = store.ensureIndexes().then(() => store);
    // A failed index build is retried by the next caller rather than cached.
    ready.catch(() => stores.delete(db));
    stores.set(db, ready);
  }
  return ready;
}

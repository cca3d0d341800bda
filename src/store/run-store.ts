import type { Collection, Db, Filter } from 'mongodb';
import { ChecklistCache } from '../checklist/cache.js';
import type { ItemResult, ManualTick, RunOutcome } from '../run/types.js';
import { insertFact } from './mongo.js';

/** Slack tenancy: every query is scoped by it, so one workspace never sees another's runs. */
export interface Tenant {
  teamId: string;
  enterpriseId?: string;
}

export type RunStatus =
  | 'queued'
  | 'running'
  | 'awaiting-people'
  | 'awaiting-approval'
  | 'approved'
  | 'passed'
  | 'rejected'
  | 'blocked'
  | 'expired'
  | 'cancelled'
  | 'errored';

export interface RunDoc extends Tenant {
  _id: string;
  checklist: string;
  title: string;
  service: string;
  env?: string;
  vars: Record<string, string>;
  digest: string;
  /** The checklist text the run executed, so later renders and reports never depend on today's file. */
  source: string;
  file: string;
  channel: string;
  requester: string;
  createdAt: Date;
  /** Informational mirror of the derived state, for listing; decisions never read it. */
  status: RunStatus;
  outcome?: RunOutcome;
  /** How many facts the view behind `status` saw (setStatus keeps the newest). */
  statusVersion?: number;
  updatedAt: Date;
}

export interface ResultDoc {
  _id: string;
  runId: string;
  teamId: string;
  round: number;
  key: string;
  result: ItemResult;
  at: Date;
}

export interface TickDoc extends ManualTick {
  _id: string;
  runId: string;
  teamId: string;
  key: string;
  /** Ticks are undone by a later fact, never by deleting the first. */
}

export interface VoteDoc {
  _id: string;
  runId: string;
  teamId: string;
  gate: string;
  user: string;
  decision: 'approve' | 'reject';
  /** Roles the voter held when voting (resolved from Slack at click time), so quorum is derived purely. */
  roles: string[];
  reason?: string;
  evidence: string;
  at: Date;
}

export interface MessageDoc {
  _id: string;
  runId: string;
  teamId: string;
  part: string;
  channel: string;
  ts?: string;
  /** Hash of the last content written, so a re-render that changes nothing costs no Slack write. */
  hash?: string;
  claimedAt: Date;
}

export interface FactDoc {
  _id: string;
  runId: string;
  teamId: string;
  kind: string;
  at: Date;
  by?: string;
  data?: Record<string, unknown>;
}

export interface AuditDoc {
  runId: string;
  teamId: string;
  at: Date;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}

/**
 * The run store. Facts, not counters: a result, a tick, a vote, a posted message and a state
 * transition are each one document whose unique `_id` *is* the fact, so inserting it is the
 * atomic act (duplicate key = already done) on MongoDB and on the FerretDB test server alike.
 */
export class RunStore {
  readonly runs: Collection<RunDoc>;
  readonly results: Collection<ResultDoc>;
  readonly ticks: Collection<TickDoc>;
  readonly votes: Collection<VoteDoc>;
  readonly messages: Collection<MessageDoc>;
  readonly facts: Collection<FactDoc>;
  readonly audit: Collection<AuditDoc>;

  /** Parsed checklists of stored runs (every render and click reads one). */
  readonly parsed = new ChecklistCache();

  constructor(readonly db: Db) {
    this.runs = db.collection('runs');
    this.results = db.collection('results');
    this.ticks = db.collection('ticks');
    this.votes = db.collection('votes');
    this.messages = db.collection('messages');
    this.facts = db.collection('facts');
    this.audit = db.collection('audit');
  }

  async ensureIndexes(): Promise<void> {
    await Promise.all([
      this.runs.createIndex({ teamId: 1, createdAt: -1 }),
      this.runs.createIndex({ teamId: 1, service: 1, createdAt: -1 }),
      this.results.createIndex({ runId: 1, round: 1 }),
      this.ticks.createIndex({ runId: 1 }),
      this.votes.createIndex({ runId: 1, gate: 1 }),
      this.messages.createIndex({ runId: 1 }),
      this.facts.createIndex({ runId: 1, kind: 1 }),
      this.audit.createIndex({ runId: 1, at: 1 }),
    ]);
  }

  private scoped<T extends Tenant>(tenant: Tenant, filter: Filter<T>): Filter<T> {
    return { ...filter, teamId: tenant.teamId } as Filter<T>;
  }

  /** Creates the run once; a redelivered job finds it and carries on. Returns true when created now. */
  async createRun(doc: RunDoc): Promise<boolean> {
    return insertFact(this.runs, doc);
  }

  getRun(tenant: Tenant, runId: string): Promise<RunDoc | null> {
    return this.runs.findOne(this.scoped<RunDoc>(tenant, { _id: runId }));
  }

  listRuns(tenant: Tenant, limit = 10): Promise<RunDoc[]> {
    return this.runs.find(this.scoped<RunDoc>(tenant, {})).sort({ createdAt: -1 }).limit(limit).toArray();
  }

  /**
   * Mirrors the derived status for listings (nothing decides on it). With `version` (how many facts
   * the view saw: jobs/view.ts), a view derived from fewer facts never overwrites one derived from
   * more — writes of two thread syncs can reach the server out of order (a writer killed with its
   * update in flight, its lease passed on).
   */
  async setStatus(
    tenant: Tenant,
    runId: string,
    status: RunStatus,
    outcome?: RunOutcome,
    version?: number,
  ): Promise<void> {
    const newer =
      version === undefined
        ? {}
        : { $or: [{ statusVersion: { $exists: false } }, { statusVersion: { $lte: version } }] };
    await this.runs.updateOne(this.scoped<RunDoc>(tenant, { _id: runId, ...newer }), {
      $set: {
        status,
        updatedAt: new Date(),
        ...(outcome ? { outcome } : {}),
        ...(version === undefined ? {} : { statusVersion: version }),
      },
    });
  }

  async recordResult(tenant: Tenant, runId: string, round: number, result: ItemResult): Promise<void> {
    await insertFact(this.results, {
      _id: `${runId}|${round}|${result.key}`,
      runId,
      teamId: tenant.teamId,
      round,
      key: result.key,
      result,
      at: new Date(),
    });
  }

  /** The latest result of each item: a re-run phase's round supersedes the earlier one. */
  async latestResults(tenant: Tenant, runId: string): Promise<Map<string, ResultDoc>> {
    const docs = await this.results.find(this.scoped<ResultDoc>(tenant, { runId })).toArray();
    const latest = new Map<string, ResultDoc>();
    for (const d of docs) {
      const seen = latest.get(d.key);
      if (!seen || d.round > seen.round) latest.set(d.key, d);
    }
    return latest;
  }

  /** Returns false when the item was already ticked (by anyone): a double click counts once. */
  tick(tenant: Tenant, runId: string, key: string, tick: ManualTick): Promise<boolean> {
    return insertFact(this.ticks, {
      _id: `${runId}|${key}`,
      runId,
      teamId: tenant.teamId,
      key,
      ...tick,
    });
  }

  async ticksFor(tenant: Tenant, runId: string): Promise<Map<string, ManualTick>> {
    const docs = await this.ticks.find(this.scoped<TickDoc>(tenant, { runId })).toArray();
    return new Map(docs.map((d) => [d.key, { by: d.by, at: d.at, ...(d.note ? { note: d.note } : {}) }]));
  }

  /** One vote per run + gate + evidence + user; returns false when this person already voted on this evidence. */
  vote(tenant: Tenant, vote: Omit<VoteDoc, '_id' | 'teamId'>): Promise<boolean> {
    return insertFact(this.votes, {
      _id: `${vote.runId}|${vote.gate}|${vote.evidence}|${vote.user}`,
      teamId: tenant.teamId,
      ...vote,
    });
  }

  votesFor(tenant: Tenant, runId: string): Promise<VoteDoc[]> {
    return this.votes.find(this.scoped<VoteDoc>(tenant, { runId })).sort({ at: 1 }).toArray();
  }

  /** Claims the right to post a message part; the claimant posts it and records its ts. */
  claimMessage(tenant: Tenant, runId: string, part: string, channel: string): Promise<boolean> {
    return insertFact(this.messages, {
      _id: `${runId}|${part}`,
      runId,
      teamId: tenant.teamId,
      part,
      channel,
      claimedAt: new Date(),
    });
  }

  async setMessageWritten(
    tenant: Tenant,
    runId: string,
    part: string,
    written: { ts?: string; hash: string },
  ): Promise<void> {
    await this.messages.updateOne(this.scoped<MessageDoc>(tenant, { _id: `${runId}|${part}` }), {
      $set: written,
    });
  }

  getMessage(tenant: Tenant, runId: string, part: string): Promise<MessageDoc | null> {
    return this.messages.findOne(this.scoped<MessageDoc>(tenant, { _id: `${runId}|${part}` }));
  }

  async messagesFor(tenant: Tenant, runId: string): Promise<Map<string, MessageDoc>> {
    const docs = await this.messages.find(this.scoped<MessageDoc>(tenant, { runId })).toArray();
    return new Map(docs.map((d) => [d.part, d]));
  }

  /** A one-time transition (closed, cancelled, deployed, rerun:phase:N…): true for the one caller that made it happen. */
  fact(
    tenant: Tenant,
    runId: string,
    kind: string,
    by?: string,
    data?: Record<string, unknown>,
  ): Promise<boolean> {
    return insertFact(this.facts, {
      _id: `${runId}|${kind}`,
      runId,
      teamId: tenant.teamId,
      kind,
      at: new Date(),
      ...(by ? { by } : {}),
      ...(data ? { data } : {}),
    });
  }

  factsFor(tenant: Tenant, runId: string): Promise<FactDoc[]> {
    return this.facts.find(this.scoped<FactDoc>(tenant, { runId })).sort({ at: 1 }).toArray();
  }

  /**
   * Appends to the audit trail. `once` names an entry that a job retried after a kill may reach
   * again (a worker can die between a fact and its audit line): such an entry is written at most
   * once, so the retry writes it rather than skipping it because the fact already exists.
   */
  async record(
    tenant: Tenant,
    runId: string,
    actor: string,
    action: string,
    detail?: Record<string, unknown>,
    opts: { once?: string } = {},
  ): Promise<void> {
    const doc: AuditDoc = {
      runId,
      teamId: tenant.teamId,
      at: new Date(),
      actor,
      action,
      ...(detail ? { detail } : {}),
    };
    if (opts.once)
      await insertFact(this.audit as unknown as Collection<AuditDoc & { _id: string }>, {
        _id: `${runId}|${opts.once}`,
        ...doc,
      });
    else await this.audit.insertOne(doc);
  }

  /** The evidence pack as last generated (regenerated from facts on request, so overwriting loses nothing). */
  async saveReport(tenant: Tenant, runId: string, report: object): Promise<void> {
    await this.db
      .collection<{ _id: string; teamId: string; report: object; at: Date }>('reports')
      .replaceOne(
        { _id: runId, teamId: tenant.teamId },
        { teamId: tenant.teamId, report, at: new Date() },
        { upsert: true },
      );
  }

  auditFor(tenant: Tenant, runId: string): Promise<AuditDoc[]> {
    return this.audit.find(this.scoped<AuditDoc>(tenant, { runId })).sort({ at: 1 }).toArray();
  }
}

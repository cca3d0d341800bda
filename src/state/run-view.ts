import { createHash } from 'node:crypto';
import { type CountedVote, gatesOf, type Quorum, quorum } from '../approvals/policy.js';
import type { Checklist, Item } from '../checklist/model.js';
import type { ApprovalGateSpec } from '../checklist/schema.js';
import { phaseStatus, runOutcome } from '../run/outcome.js';
import type { ItemResult, ManualTick, PhaseResult, RunOutcome } from '../run/types.js';
import type { FactDoc, ResultDoc, RunDoc, RunStatus, VoteDoc } from '../store/run-store.js';

export interface GateView {
  gate: ApprovalGateSpec;
  quorum: Quorum;
  approvals: Array<{ user: string; at: Date; roles: string[] }>;
  /** Approvals given on earlier evidence that a re-run changed: shown as voided, never counted. */
  voided: Array<{ user: string; at: Date }>;
  open: boolean;
  expiresAt?: Date;
}

export interface RunView {
  run: RunDoc;
  status: RunStatus;
  outcome: RunOutcome;
  phases: PhaseResult[];
  /** Phases whose probes are still running (no phase-done fact yet). */
  runningPhases: string[];
  gates: GateView[];
  evidence: string;
  rejection?: { user: string; reason: string; at: Date };
  /** Why the run's job failed for good (a Slack or deploy-check code). */
  errored?: { reason: string; at: Date };
  cancelled?: { by: string; at: Date };
  closedAt?: Date;
  /** Waivers by item key, expired ones included (shown, but no longer lifting the block). */
  waivers: Map<string, Waiver>;
  deployed?: { by: string; at: Date };
}

export interface Waiver {
  by: string;
  reason: string;
  at: Date;
  expiresAt: Date;
  expired: boolean;
}

export interface ViewInput {
  run: RunDoc;
  checklist: Checklist;
  results: ReadonlyMap<string, ResultDoc>;
  ticks: ReadonlyMap<string, ManualTick>;
  votes: readonly VoteDoc[];
  facts: readonly FactDoc[];
  now: Date;
}

/** The evidence an approval is given on: every item's key and status (measured values vary run to run). */
export function evidenceHash(phases: readonly PhaseResult[]): string {
  const canonical = phases.flatMap((p) => p.items.map((i) => `${i.key}=${i.status}`)).join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

type Placeholder = 'running' | 'queued' | 'not run';

function placeholder(item: Item, at: string, state: Placeholder): ItemResult {
  return {
    key: item.key,
    phaseId: item.phaseId,
    itemId: item.id,
    title: item.title,
    severity: item.severity,
    kind: item.kind,
    type: item.kind === 'probe' ? item.check.type : 'manual',
    status: 'pending',
    observed: '',
    expected: '',
    detail: state,
    durationMs: 0,
    measurements: 0,
    attempts: 0,
    ...(item.kind === 'manual' ? { owners: item.manual.owner } : {}),
    startedAt: at,
    finishedAt: at,
  };
}

function withTick(result: ItemResult, tick: ManualTick | undefined): ItemResult {
  if (result.kind !== 'manual' || !tick) return result;
  return { ...result, status: 'pass', observed: `done by <@${tick.by}>`, detail: tick.note ?? '', tick };
}

/** Items whose waiver still lifts their block (an expired waiver is shown, but no longer counts). */
export function activeWaiverKeys(waivers: ReadonlyMap<string, Waiver>): Set<string> {
  return new Set([...waivers].filter(([, w]) => !w.expired).map(([key]) => key));
}

/** Derives everything the thread shows from the stored facts. Pure: same facts, same view. */
export function deriveRunView(input: ViewInput): RunView {
  const has = (kind: string) => input.facts.find((f) => f.kind === kind);
  const started = Boolean(has('started'));
  const at = input.run.createdAt.toISOString();
  const waivers = waiversOf(input.facts, input.now);
  const waived = activeWaiverKeys(waivers);
  const erroredFact = has('errored');
  const runningPhases: string[] = [];
  const phases: PhaseResult[] = input.checklist.phases.map((phase) => {
    const round = latestRound(input.facts, phase.id);
    const done = Boolean(has(`phase-done:${phase.id}:${round}`));
    // A run whose job failed for good runs nothing more: what it did not reach was not run.
    const running = !done && !erroredFact && ((started && !has('probes-done')) || round > 0);
    if (running) runningPhases.push(phase.id);
    const state: Placeholder = erroredFact ? 'not run' : started && !done ? 'running' : 'queued';
    const items = phase.items.map((item) => {
      const stored = input.results.get(item.key)?.result;
      const base = stored ?? placeholder(item, at, state);
      return withTick(base, input.ticks.get(item.key));
    });
    return { id: phase.id, title: phase.title, status: phaseStatus(items, waived), items };
  });
  const evidence = evidenceHash(phases);
  const cancelledFact = has('cancelled');
  const outcome = runOutcome(phases, Boolean(cancelledFact), waived);
  const probesDone = Boolean(has('probes-done'));
  const approvalOpened = input.facts.find((f) => f.kind === 'approval-opened');
  const gates = gatesOf(input.checklist.spec).map((gate) => gateView(gate, input, evidence, approvalOpened));
  const rejectFact = has('rejected');
  const rejection = rejectFact
    ? { user: rejectFact.by ?? '', reason: String(rejectFact.data?.reason ?? ''), at: rejectFact.at }
    : undefined;
  const status = deriveStatus({
    started,
    probesDone: probesDone && runningPhases.length === 0,
    outcome,
    gates,
    rejected: Boolean(rejectFact),
    cancelled: Boolean(cancelledFact),
    errored: Boolean(erroredFact),
    now: input.now,
  });
  const closed = has('closed');
  const deployedFact = has('deployed');
  return {
    run: input.run,
    status,
    outcome,
    phases,
    runningPhases,
    gates,
    evidence,
    ...(rejection ? { rejection } : {}),
    ...(erroredFact
      ? { errored: { reason: String(erroredFact.data?.reason ?? ''), at: erroredFact.at } }
      : {}),
    ...(cancelledFact ? { cancelled: { by: cancelledFact.by ?? '', at: cancelledFact.at } } : {}),
    ...(closed ? { closedAt: closed.at } : {}),
    waivers,
    ...(deployedFact ? { deployed: { by: deployedFact.by ?? '', at: deployedFact.at } } : {}),
  };
}

/** Waivers are facts `waiver:<item key>` (one per item); the latest per item wins when re-waived after expiry. */
export function waiversOf(facts: readonly FactDoc[], now: Date): Map<string, Waiver> {
  const out = new Map<string, Waiver>();
  for (const f of facts) {
    const m = /^waiver:(.+?)(?:#\d+)?$/.exec(f.kind);
    if (!m) continue;
    const expiresAt = new Date(String(f.data?.expiresAt ?? f.at.toISOString()));
    const prev = out.get(m[1]!);
    if (prev && prev.at > f.at) continue;
    out.set(m[1]!, {
      by: f.by ?? '',
      reason: String(f.data?.reason ?? ''),
      at: f.at,
      expiresAt,
      expired: expiresAt <= now,
    });
  }
  return out;
}

/** The latest re-run round that includes this phase (0 = the first run). Re-runs are facts `rerun:<n>` listing phases. */
export function latestRound(facts: readonly FactDoc[], phaseId: string): number {
  let round = 0;
  for (const f of facts) {
    const m = /^rerun:(\d+)$/.exec(f.kind);
    if (m && Array.isArray(f.data?.phases) && (f.data.phases as unknown[]).includes(phaseId))
      round = Math.max(round, Number(m[1]));
  }
  return round;
}

/** The next re-run round for a run: one more than any so far. */
export function nextRound(facts: readonly FactDoc[]): number {
  return 1 + facts.reduce((max, f) => Math.max(max, Number(/^rerun:(\d+)$/.exec(f.kind)?.[1] ?? 0)), 0);
}

function gateView(
  gate: ApprovalGateSpec,
  input: ViewInput,
  evidence: string,
  opened: FactDoc | undefined,
): GateView {
  const mine = input.votes.filter((v) => v.gate === gate.id && v.decision === 'approve');
  const current = mine.filter((v) => v.evidence === evidence);
  const counted: CountedVote[] = current.map((v) => ({ user: v.user, roles: v.roles }));
  const expiresAt = opened ? new Date(opened.at.getTime() + gate.expiresIn) : undefined;
  const q = quorum(gate, counted);
  return {
    gate,
    quorum: q,
    approvals: current.map((v) => ({ user: v.user, at: v.at, roles: v.roles })),
    voided: mine.filter((v) => v.evidence !== evidence).map((v) => ({ user: v.user, at: v.at })),
    open: Boolean(opened) && !q.met && !(expiresAt && expiresAt <= input.now),
    ...(expiresAt ? { expiresAt } : {}),
  };
}

function deriveStatus(s: {
  started: boolean;
  probesDone: boolean;
  outcome: RunOutcome;
  gates: GateView[];
  rejected: boolean;
  cancelled: boolean;
  errored: boolean;
  now: Date;
}): RunStatus {
  if (s.cancelled) return 'cancelled';
  if (s.rejected) return 'rejected';
  if (s.errored) return 'errored';
  if (!s.started) return 'queued';
  if (!s.probesDone) return 'running';
  if (s.outcome === 'fail') return 'blocked';
  if (s.outcome === 'pending') return 'awaiting-people';
  if (s.gates.length === 0) return 'passed';
  if (s.gates.every((g) => g.quorum.met)) return 'approved';
  if (s.gates.some((g) => g.expiresAt && g.expiresAt <= s.now)) return 'expired';
  return 'awaiting-approval';
}

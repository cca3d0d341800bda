import type { RollbackStepSpec } from '../checklist/schema.js';
import type { RollbackDoc, RollbackFactDoc } from '../store/rollback-store.js';

/**
 * A rollback's state, derived purely from its facts (see RollbackFactDoc): the same facts always
 * give the same view, whichever process reads them.
 */

export type StepState = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'waiting';
export type RollbackStatus = 'queued' | 'running' | 'waiting' | 'failed' | 'finished' | 'aborted';
export type DecisionKind = 'retry' | 'skip' | 'confirm';

export interface StepView {
  index: number;
  step: RollbackStepSpec;
  state: StepState;
  /** The latest attempt claimed (0: never started). */
  attempt: number;
  startedAt?: Date;
  finishedAt?: Date;
  observed?: string;
  detail?: string;
  durationMs?: number;
  /** Who confirmed (manual) or skipped it, and why. */
  by?: string;
  reason?: string;
}

export interface TimelineEntry {
  at: Date;
  /** Plain text (renderers escape it); the actor is separate so it can be a mention. */
  text: string;
  by?: string;
  note?: string;
}

export interface RollbackView {
  rollback: RollbackDoc;
  status: RollbackStatus;
  steps: StepView[];
  /** The first step not yet done or skipped. */
  current?: StepView;
  aborted?: { by: string; at: Date; reason?: string };
  finishedAt?: Date;
  /** True once the playbook is over (finished or aborted): the service lock is free. */
  ended: boolean;
  timeline: TimelineEntry[];
}

export interface Claim {
  attempt: number;
  job: string;
  leaseUntil: number;
  at: Date;
}

interface Parsed {
  claims: Map<string, Claim[]>;
  done: Map<string, RollbackFactDoc>;
  failed: Map<string, Map<number, RollbackFactDoc>>;
  decisions: Map<string, Map<number, RollbackFactDoc>>;
  aborted?: RollbackFactDoc;
  finished?: RollbackFactDoc;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function nested<V>(map: Map<string, Map<number, V>>, key: string): Map<number, V> {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}

function parse(facts: readonly RollbackFactDoc[]): Parsed {
  const p: Parsed = { claims: new Map(), done: new Map(), failed: new Map(), decisions: new Map() };
  for (const f of facts) {
    const [kind, step, n] = f.kind.split(':');
    if (kind === 'claim' && step) {
      push(p.claims, step, {
        attempt: Number(n),
        job: String(f.data?.job ?? ''),
        leaseUntil: Number(f.data?.leaseUntil ?? 0),
        at: f.at,
      });
    } else if (kind === 'done' && step) p.done.set(step, f);
    else if (kind === 'failed' && step) nested(p.failed, step).set(Number(n), f);
    else if (kind === 'decision' && step) nested(p.decisions, step).set(Number(n), f);
    else if (f.kind === 'aborted') p.aborted = f;
    else if (f.kind === 'finished') p.finished = f;
  }
  for (const list of p.claims.values()) list.sort((a, b) => a.attempt - b.attempt);
  return p;
}

export function decisionKind(f: RollbackFactDoc | undefined): DecisionKind | undefined {
  const k = f?.data?.kind;
  return k === 'retry' || k === 'skip' || k === 'confirm' ? k : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function stepView(step: RollbackStepSpec, index: number, p: Parsed): StepView {
  const claims = p.claims.get(step.id) ?? [];
  const latest = claims.at(-1);
  const attempt = latest?.attempt ?? 0;
  const base: StepView = {
    index,
    step,
    state: 'pending',
    attempt,
    ...(latest ? { startedAt: latest.at } : {}),
  };
  // A skip or a manual confirmation is a decision on some attempt; either completes the step.
  const decisions = [...(p.decisions.get(step.id)?.values() ?? [])];
  const closing = decisions.find((d) => decisionKind(d) === 'skip' || decisionKind(d) === 'confirm');
  const done = p.done.get(step.id);
  if (done) {
    return {
      ...base,
      state: 'done',
      finishedAt: done.at,
      ...(str(done.data?.observed) ? { observed: str(done.data?.observed) } : {}),
      ...(str(done.data?.detail) ? { detail: str(done.data?.detail) } : {}),
      ...(typeof done.data?.durationMs === 'number' ? { durationMs: done.data.durationMs } : {}),
    };
  }
  if (closing) {
    const skipped = decisionKind(closing) === 'skip';
    const lastFailure = p.failed.get(step.id)?.get(attempt);
    return {
      ...base,
      state: skipped ? 'skipped' : 'done',
      finishedAt: closing.at,
      ...(closing.by ? { by: closing.by } : {}),
      ...(str(closing.data?.reason) ? { reason: str(closing.data?.reason) } : {}),
      ...(skipped && str(lastFailure?.data?.detail) ? { detail: str(lastFailure?.data?.detail) } : {}),
    };
  }
  if (step.type === 'manual') return base;
  if (!latest) return base;
  const failure = p.failed.get(step.id)?.get(attempt);
  if (failure) {
    const retried = decisionKind(p.decisions.get(step.id)?.get(attempt)) === 'retry';
    return {
      ...base,
      state: retried ? 'pending' : 'failed',
      finishedAt: failure.at,
      ...(str(failure.data?.observed) ? { observed: str(failure.data?.observed) } : {}),
      ...(str(failure.data?.detail) ? { detail: str(failure.data?.detail) } : {}),
      ...(typeof failure.data?.durationMs === 'number' ? { durationMs: failure.data.durationMs } : {}),
    };
  }
  return { ...base, state: 'running' };
}

/** Derives where a rollback stands from its facts. Pure. */
export function deriveRollbackView(
  rollback: RollbackDoc,
  steps: readonly RollbackStepSpec[],
  facts: readonly RollbackFactDoc[],
): RollbackView {
  const p = parse(facts);
  const views = steps.map((s, i) => stepView(s, i, p));
  const firstOpen = views.find((v) => v.state !== 'done' && v.state !== 'skipped');
  const allComplete = firstOpen === undefined;
  let current = firstOpen;
  if (current?.step.type === 'manual' && !p.aborted) current = { ...current, state: 'waiting' };
  const stepViews = current ? views.map((v) => (v.index === current.index ? current : v)) : views;
  let status: RollbackStatus;
  if (p.aborted) status = 'aborted';
  else if (allComplete) status = 'finished';
  else if (current?.state === 'waiting') status = 'waiting';
  else if (current?.state === 'failed') status = 'failed';
  else if (facts.some((f) => f.kind.startsWith('claim:'))) status = 'running';
  else status = 'queued';
  return {
    rollback,
    status,
    steps: stepViews,
    ...(current ? { current } : {}),
    ...(p.aborted
      ? {
          aborted: {
            by: p.aborted.by ?? 'someone',
            at: p.aborted.at,
            ...(str(p.aborted.data?.reason) ? { reason: str(p.aborted.data?.reason) } : {}),
          },
        }
      : {}),
    ...(p.finished ? { finishedAt: p.finished.at } : {}),
    ended: status === 'aborted' || status === 'finished',
    timeline: timeline(rollback, steps, facts),
  };
}

/** Claims of a step, oldest attempt first (for the engine's takeover rules). */
export function claimsOf(facts: readonly RollbackFactDoc[], stepId: string): Claim[] {
  return parse(facts).claims.get(stepId) ?? [];
}

export function failedAttempt(facts: readonly RollbackFactDoc[], stepId: string, attempt: number): boolean {
  return facts.some((f) => f.kind === `failed:${stepId}:${attempt}`);
}

/** What happened, in order, for the post-mortem and the audit trail. */
export function timeline(
  rollback: RollbackDoc,
  steps: readonly RollbackStepSpec[],
  facts: readonly RollbackFactDoc[],
): TimelineEntry[] {
  const titleOf = (id: string | undefined) => {
    const s = steps.find((x) => x.id === id);
    return s?.title ?? id ?? 'step';
  };
  const out: TimelineEntry[] = [{ at: rollback.createdAt, text: 'Rollback started', by: rollback.requester }];
  for (const f of facts) {
    const [kind, step, n] = f.kind.split(':');
    const title = titleOf(step);
    const observed = str(f.data?.observed);
    const detail = str(f.data?.detail);
    const reason = str(f.data?.reason);
    switch (kind) {
      case 'claim':
        out.push({ at: f.at, text: Number(n) > 1 ? `${title}: attempt ${n} started` : `${title}: started` });
        break;
      case 'done':
        out.push({ at: f.at, text: `${title}: done`, ...(observed ? { note: observed } : {}) });
        break;
      case 'failed':
        out.push({ at: f.at, text: `${title}: failed`, ...(detail ? { note: detail } : {}) });
        break;
      case 'decision': {
        const k = decisionKind(f);
        const text =
          k === 'retry' ? `${title}: retry` : k === 'skip' ? `${title}: skipped` : `${title}: confirmed`;
        out.push({ at: f.at, text, ...(f.by ? { by: f.by } : {}), ...(reason ? { note: reason } : {}) });
        break;
      }
      case 'aborted':
        out.push({
          at: f.at,
          text: 'Rollback aborted',
          ...(f.by ? { by: f.by } : {}),
          ...(reason ? { note: reason } : {}),
        });
        break;
      case 'finished':
        out.push({ at: f.at, text: 'Rollback finished' });
        break;
      default:
        break;
    }
  }
  return out.sort((a, b) => a.at.getTime() - b.at.getTime());
}

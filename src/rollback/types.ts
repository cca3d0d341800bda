import type { Checklist } from '../checklist/model.js';
import type { RollbackStepSpec } from '../checklist/schema.js';
import type { CheckContext } from '../checks/types.js';

export type StepType = RollbackStepSpec['type'];
export type StepOf<T extends StepType> = Extract<RollbackStepSpec, { type: T }>;

/** What one attempt of a step concluded. Texts are redacted by the engine before they are stored. */
export interface StepOutcome {
  ok: boolean;
  /** What happened, short ("HTTP 202", "deleted 1,204 keys", "posted to #incidents"). */
  observed: string;
  /** Why it failed, or anything worth knowing; empty when there is nothing to add. */
  detail: string;
  metrics?: Record<string, number>;
}

/** One line of a dry run: what a step would do, secrets left as `${secret:NAME}` references. */
export interface PlanLine {
  label: string;
  value: string;
}

/** What a step may use. Nothing here is Slack: posting is injected by the caller. */
export interface StepContext {
  rollbackId: string;
  checklist: Checklist;
  /** Aborted on the step's timeout or when the rollback is aborted. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Address policy, TLS trust and the guarded dispatcher every network call goes through. */
  probe: Omit<CheckContext, 'signal' | 'timeoutMs'>;
  /** Resolves `${secret:NAME}` in a value; every secret used is scrubbed from the step's outcome. */
  resolve<T>(value: T): T;
  /** Posts a message to a channel; returns where it went ("#incidents"). */
  notify(channel: string, text: string): Promise<string>;
  /** Posts the post-mortem stub (the timeline so far) to a channel, or to the rollback's thread. */
  postSummary(channel: string | undefined): Promise<string>;
}

/** One step type: how it runs, how long it may take, and what a dry run shows of it. */
export interface StepExecutor<T extends StepType = StepType> {
  type: T;
  defaultTimeoutMs: number;
  /**
   * Whether running it twice does harm. Every step may be started again after a worker died
   * mid-step (at-least-once), so each is written to be idempotent; `readOnly` ones (polls) are
   * also safe to run twice at the same time.
   */
  readOnly: boolean;
  plan(step: StepOf<T>): PlanLine[];
  run(step: StepOf<T>, ctx: StepContext): Promise<StepOutcome>;
}

export function defineStep<T extends StepType>(def: StepExecutor<T>): StepExecutor<T> {
  return def;
}

export const stepFailed = (detail: string, observed = ''): StepOutcome => ({ ok: false, observed, detail });

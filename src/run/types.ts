import type { Principal } from '../checklist/schema.js';
import type { CheckStatus } from '../checks/types.js';

/** An item's final state. `inconclusive`: errored measurements beyond the limit; `pending`: a person has yet to tick it. */
export type ItemStatus = CheckStatus | 'inconclusive' | 'pending';

export interface ManualTick {
  by: string;
  at: string;
  note?: string;
}

export interface ItemResult {
  key: string;
  phaseId: string;
  itemId: string;
  title: string;
  severity: 'critical' | 'warning';
  kind: 'probe' | 'manual';
  /** Probe type, or "manual". */
  type: string;
  status: ItemStatus;
  observed: string;
  expected: string;
  detail: string;
  durationMs: number;
  /** Measurements taken and attempts made (retries included). */
  measurements: number;
  attempts: number;
  metrics?: Record<string, number>;
  owners?: Principal[];
  tick?: ManualTick;
  startedAt: string;
  finishedAt: string;
}

export type PhaseStatus = 'pass' | 'warn' | 'fail' | 'pending' | 'skipped';

export interface PhaseResult {
  id: string;
  title: string;
  status: PhaseStatus;
  items: ItemResult[];
}

/** pass/warn/fail as judged by the gate; `pending` while manual items await people; `cancelled` when stopped. */
export type RunOutcome = 'pass' | 'warn' | 'fail' | 'pending' | 'cancelled';

export interface RunResult {
  runId: string;
  checklist: string;
  title: string;
  service: string;
  digest: string;
  vars: Record<string, string>;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  outcome: RunOutcome;
  /** The phase whose critical failure stopped the run, if any. */
  stoppedAt?: string;
  phases: PhaseResult[];
}

export interface PlannedPhase {
  id: string;
  title: string;
  items: Array<{
    key: string;
    title: string;
    kind: 'probe' | 'manual';
    type: string;
    severity: 'critical' | 'warning';
  }>;
}

export type RunEvent =
  | {
      type: 'run-started';
      runId: string;
      checklist: string;
      service: string;
      startedAt: string;
      phases: PlannedPhase[];
    }
  | { type: 'item-started'; runId: string; key: string }
  | { type: 'item-finished'; runId: string; result: ItemResult }
  | { type: 'phase-finished'; runId: string; phase: PhaseResult }
  | { type: 'run-finished'; runId: string; result: RunResult };

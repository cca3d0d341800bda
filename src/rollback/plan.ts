import type { Checklist } from '../checklist/model.js';
import { executorFor, stepTimeoutMs } from './registry.js';
import type { PlanLine, StepType } from './types.js';

/** One step as a dry run shows it: exactly what would be called, with secrets as references. */
export interface PlannedStep {
  index: number;
  id: string;
  title: string;
  type: StepType;
  timeoutMs: number;
  lines: PlanLine[];
}

/** The playbook as it would run. Pure: resolves no secret and calls nothing. */
export function planPlaybook(checklist: Checklist): PlannedStep[] {
  return (checklist.spec.rollback?.steps ?? []).map((step, index) => ({
    index,
    id: step.id,
    title: step.title ?? step.id,
    type: step.type,
    timeoutMs: stepTimeoutMs(step),
    lines: executorFor(step.type).plan(step as never),
  }));
}

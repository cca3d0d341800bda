import type { ItemResult, PhaseResult, PhaseStatus, RunOutcome } from './types.js';

const FAILING = new Set(['fail', 'error', 'inconclusive']);

/** A critical item that failed, errored or was inconclusive blocks the release; a waiver lifts the block (never the result). */
export function isBlocking(
  item: Pick<ItemResult, 'status' | 'severity' | 'key'>,
  waived: ReadonlySet<string> = new Set(),
): boolean {
  return item.severity === 'critical' && FAILING.has(item.status) && !waived.has(item.key);
}

export function isWarning(
  item: Pick<ItemResult, 'status' | 'severity' | 'key'>,
  waived: ReadonlySet<string> = new Set(),
): boolean {
  return item.status === 'warn' || (FAILING.has(item.status) && !isBlocking(item, waived));
}

export function phaseStatus(
  items: readonly ItemResult[],
  waived: ReadonlySet<string> = new Set(),
): PhaseStatus {
  if (
    items.length > 0 &&
    items.every((i) => i.status === 'skipped' && i.kind === 'probe' && i.detail.startsWith('not run'))
  )
    return 'skipped';
  if (items.some((i) => isBlocking(i, waived))) return 'fail';
  if (items.some((i) => i.status === 'pending')) return 'pending';
  if (items.some((i) => isWarning(i, waived))) return 'warn';
  return 'pass';
}

export function runOutcome(
  phases: readonly PhaseResult[],
  cancelled: boolean,
  waived: ReadonlySet<string> = new Set(),
): RunOutcome {
  if (cancelled) return 'cancelled';
  const items = phases.flatMap((p) => p.items);
  if (items.some((i) => isBlocking(i, waived))) return 'fail';
  if (items.some((i) => i.status === 'pending' && i.severity === 'critical')) return 'pending';
  if (items.some((i) => isWarning(i, waived) || i.status === 'pending')) return 'warn';
  return 'pass';
}

export interface Tally {
  pass: number;
  warn: number;
  fail: number;
  error: number;
  inconclusive: number;
  skipped: number;
  pending: number;
}

export function tally(items: readonly ItemResult[]): Tally {
  const t: Tally = { pass: 0, warn: 0, fail: 0, error: 0, inconclusive: 0, skipped: 0, pending: 0 };
  for (const i of items) t[i.status] += 1;
  return t;
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Measurement } from '../checklist/model.js';
import type { CheckContext, CheckDefinition, CheckOutcome, CheckResult } from '../checks/types.js';
import { describeError } from '../errors.js';

/** Grace a probe gets after its signal aborts before the engine stops waiting for it. */
const ABANDON_GRACE_MS = 1000;

/** A result after aggregation: the engine (not a probe) may conclude `inconclusive`. */
export type AggregatedResult = Omit<CheckResult, 'status'> & {
  status: CheckResult['status'] | 'inconclusive';
};

export interface MeasuredOutcome extends AggregatedResult {
  measurements: number;
  attempts: number;
}

/** One attempt: the probe with a deadline; a probe that ignores its signal is abandoned, never awaited forever. */
export async function attemptOnce(
  def: CheckDefinition,
  params: unknown,
  ctx: Omit<CheckContext, 'signal' | 'timeoutMs'>,
  timeoutMs: number,
  parent: AbortSignal,
): Promise<CheckResult> {
  const started = performance.now();
  // A timer we clear when the attempt ends: AbortSignal.timeout would keep the signal, its
  // listeners and this attempt's closure alive for the whole timeout after a 1 ms probe.
  const deadlineController = new AbortController();
  const deadlineTimer = setTimeout(
    () => deadlineController.abort(new DOMException('timed out', 'TimeoutError')),
    timeoutMs,
  );
  deadlineTimer.unref?.();
  const deadline = deadlineController.signal;
  const signal = AbortSignal.any([parent, deadline]);
  const elapsed = () => Math.round(performance.now() - started);
  let abandon: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const abandoned = new Promise<CheckOutcome>((resolve) => {
    onAbort = () => {
      abandon = setTimeout(() => resolve(errorOutcome(`no answer within ${timeoutMs} ms`)), ABANDON_GRACE_MS);
      abandon.unref?.();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([def.run(params as never, { ...ctx, signal, timeoutMs }), abandoned]);
    if (
      deadline.aborted &&
      !parent.aborted &&
      outcome.status === 'error' &&
      !/timed out|within/.test(outcome.detail)
    ) {
      return {
        ...outcome,
        detail: `timed out after ${timeoutMs} ms${outcome.detail ? ` (${outcome.detail})` : ''}`,
        durationMs: elapsed(),
      };
    }
    return { ...outcome, durationMs: elapsed() };
  } catch (err) {
    const detail =
      deadline.aborted && !parent.aborted ? `timed out after ${timeoutMs} ms` : describeError(err);
    return { ...errorOutcome(detail), durationMs: elapsed() };
  } finally {
    clearTimeout(deadlineTimer);
    if (abandon) clearTimeout(abandon);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function errorOutcome(detail: string): CheckOutcome {
  return { status: 'error', observed: '', expected: '', detail };
}

async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * Measures an item as Argo Rollouts' analysis does: `count` measurements `interval` apart; a
 * measurement that errors is retried `retries` times; more failed measurements than
 * `failureLimit` fail the item; more errored ones than `inconclusiveLimit` make it inconclusive.
 */
export async function measure(
  def: CheckDefinition,
  params: unknown,
  ctx: Omit<CheckContext, 'signal' | 'timeoutMs'>,
  m: Measurement,
  signal: AbortSignal,
): Promise<MeasuredOutcome> {
  const timeoutMs = m.timeoutMs ?? def.defaultTimeoutMs;
  const results: CheckResult[] = [];
  let attempts = 0;
  for (let i = 0; i < m.count && !signal.aborted; i++) {
    if (i > 0 && !(await pause(m.intervalMs, signal))) break;
    let result = await attemptOnce(def, params, ctx, timeoutMs, signal);
    attempts += 1;
    for (let r = 0; r < m.retries && result.status === 'error' && !signal.aborted; r++) {
      if (!(await pause(m.intervalMs, signal))) break;
      result = await attemptOnce(def, params, ctx, timeoutMs, signal);
      attempts += 1;
    }
    results.push(result);
  }
  return { ...aggregate(results, m), measurements: results.length, attempts };
}

export function aggregate(
  results: readonly CheckResult[],
  m: Pick<Measurement, 'failureLimit' | 'inconclusiveLimit'>,
): AggregatedResult {
  const durationMs = results.reduce((s, r) => s + r.durationMs, 0);
  const last = results.at(-1);
  if (!last)
    return {
      status: 'skipped',
      observed: '',
      expected: '',
      detail: 'cancelled before measuring',
      durationMs,
    };
  if (results.length === 1) return last;
  const failed = results.filter((r) => r.status === 'fail');
  const errored = results.filter((r) => r.status === 'error');
  const summary = `${results.length} measurements: ${results.length - failed.length - errored.length} ok, ${failed.length} failed, ${errored.length} errored`;
  const pick = (status: AggregatedResult['status'], from: CheckResult): AggregatedResult => ({
    ...from,
    status,
    detail: [summary, from.detail].filter(Boolean).join('; '),
    durationMs,
  });
  if (errored.length === results.length) return pick('error', errored.at(-1)!);
  if (failed.length > m.failureLimit) return pick('fail', failed.at(-1)!);
  if (errored.length > m.inconclusiveLimit) return pick('inconclusive', errored.at(-1)!);
  const warned = results.find((r) => r.status === 'warn');
  return pick(warned ? 'warn' : 'pass', warned ?? results.filter((r) => r.status === 'pass').at(-1) ?? last);
}

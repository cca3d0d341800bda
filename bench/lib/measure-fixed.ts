/**
 * What-if for bench/worker-memory.ts (BENCH_WHATIF=measure, see whatif-hooks.mjs): src/run/measure
 * with one change in attemptOnce — the probe's deadline is a timer cleared when the attempt ends
 * (instead of AbortSignal.timeout, whose timer keeps the signal, its listener and the attempt's
 * closure alive for the full timeout, 10 s for http, after a 1 ms probe), and the abort listener
 * is removed. `measure` is repeated only so it calls this attemptOnce. Not used by the product.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Measurement } from '../../src/checklist/model.js';
import type { CheckContext, CheckDefinition, CheckOutcome, CheckResult } from '../../src/checks/types.js';
import { describeError } from '../../src/errors.js';
import { aggregate, type MeasuredOutcome } from '../../src/run/measure.js';

export * from '../../src/run/measure.js';

const ABANDON_GRACE_MS = 1000;

export async function attemptOnce(
  def: CheckDefinition,
  params: unknown,
  ctx: Omit<CheckContext, 'signal' | 'timeoutMs'>,
  timeoutMs: number,
  parent: AbortSignal,
): Promise<CheckResult> {
  const started = performance.now();
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    timeoutMs,
  );
  timer.unref?.();
  const signal = AbortSignal.any([parent, deadline.signal]);
  const elapsed = () => Math.round(performance.now() - started);
  let abandon: NodeJS.Timeout | undefined;
  const onAbort = () => {
    abandon = setTimeout(
      () => resolveAbandoned(errorOutcome(`no answer within ${timeoutMs} ms`)),
      ABANDON_GRACE_MS,
    );
    abandon.unref?.();
  };
  let resolveAbandoned: (o: CheckOutcome) => void = () => undefined;
  const abandoned = new Promise<CheckOutcome>((resolve) => {
    resolveAbandoned = resolve;
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const outcome = await Promise.race([def.run(params as never, { ...ctx, signal, timeoutMs }), abandoned]);
    if (
      deadline.signal.aborted &&
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
      deadline.signal.aborted && !parent.aborted ? `timed out after ${timeoutMs} ms` : describeError(err);
    return { ...errorOutcome(detail), durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
    if (abandon) clearTimeout(abandon);
    signal.removeEventListener('abort', onAbort);
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

import { setTimeout as sleep } from 'node:timers/promises';
import type { Checklist } from '../checklist/model.js';
import { formatDuration } from '../checks/duration.js';
import { findCheck } from '../checks/registry.js';
import type { CheckDefinition, CheckResult } from '../checks/types.js';
import { describeError } from '../errors.js';
import { describeTarget } from '../run/engine.js';
import { attemptOnce } from '../run/measure.js';
import { defineStep, type StepOf, stepFailed } from './types.js';

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

interface Probe {
  label: string;
  type: string;
  def: CheckDefinition | undefined;
  params: Record<string, unknown>;
  attemptTimeoutMs?: number;
}

/** The probe a wait-for step polls: a checklist item by key ("phase/item") or an inline check. */
export function probeOf(step: StepOf<'wait-for'>, checklist: Checklist): Probe | string {
  if (step.item) {
    const item = checklist.phases.flatMap((p) => p.items).find((i) => i.key === step.item);
    if (!item) return `no item "${step.item}" in the checklist`;
    if (item.kind !== 'probe') return `item "${step.item}" is manual; wait-for needs a probe`;
    const { type, ...params } = item.check;
    return {
      label: `item ${item.key}`,
      type,
      def: findCheck(type),
      params,
      ...(item.measurement.timeoutMs !== undefined ? { attemptTimeoutMs: item.measurement.timeoutMs } : {}),
    };
  }
  if (step.check) {
    const { type, ...params } = step.check as { type: string } & Record<string, unknown>;
    return { label: `${type} probe`, type, def: findCheck(type), params };
  }
  return 'expected an "item" or a "check" to poll';
}

const healthy = (r: CheckResult) => r.status === 'pass' || r.status === 'warn';

/** Polls a probe until it passes (e.g. health back to 200) or the step's time is up. Reads only. */
export default defineStep({
  type: 'wait-for',
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  readOnly: true,
  plan(step) {
    const what = step.item
      ? `item ${step.item}`
      : step.check
        ? `${String(step.check.type)} ${describeTarget(step.check as Record<string, unknown>)}`.trim()
        : '(nothing)';
    return [
      { label: 'poll', value: what },
      { label: 'every', value: formatDuration(step.every) },
      { label: 'until', value: `it passes, at most ${formatDuration(step.timeout ?? DEFAULT_TIMEOUT_MS)}` },
    ];
  },
  async run(step, ctx) {
    const probe = probeOf(step, ctx.checklist);
    if (typeof probe === 'string') return stepFailed(probe);
    if (!probe.def) return stepFailed(`unknown probe type "${probe.type}"`);
    let params: Record<string, unknown>;
    try {
      params = ctx.resolve(probe.params);
    } catch (err) {
      return stepFailed(describeError(err));
    }
    // Stop a little before the engine's deadline, so the last measurement is reported, not a bare timeout.
    const started = performance.now();
    const budget = ctx.timeoutMs - Math.min(1000, ctx.timeoutMs * 0.1);
    const left = () => budget - (performance.now() - started);
    let last: CheckResult | undefined;
    let attempts = 0;
    while (!ctx.signal.aborted && left() > 0) {
      const attemptMs = Math.max(
        1,
        Math.floor(Math.min(probe.attemptTimeoutMs ?? probe.def.defaultTimeoutMs, left())),
      );
      last = await attemptOnce(probe.def, params, ctx.probe, attemptMs, ctx.signal);
      attempts += 1;
      if (healthy(last)) {
        const took = formatDuration(performance.now() - started);
        return {
          ok: true,
          observed: `${probe.label} passed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${took})${last.observed ? `: ${last.observed}` : ''}`,
          detail: '',
          metrics: { attempts },
        };
      }
      if (left() <= step.every) break;
      try {
        await sleep(step.every, undefined, { signal: ctx.signal });
      } catch {
        break;
      }
    }
    const why = last
      ? `${last.status}${last.detail || last.observed ? `: ${last.detail || last.observed}` : ''}`
      : '';
    return {
      ok: false,
      observed: last?.observed ?? '',
      detail: `${probe.label} still not passing after ${formatDuration(performance.now() - started)} (${attempts} attempt${attempts === 1 ? '' : 's'})${why ? `; last: ${why}` : ''}`,
      metrics: { attempts },
    };
  },
});

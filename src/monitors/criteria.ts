import type { ItemResult } from '../run/types.js';

export interface Criteria {
  metric: string;
  max?: number | undefined;
  min?: number | undefined;
  /** Relative to the baseline: 0.1 = no more than +10%. */
  maxIncrease?: number | undefined;
  maxDecrease?: number | undefined;
}

export interface Verdict {
  ok: boolean;
  /** One line per criterion, e.g. "p95 41.0 vs baseline 12.0 (+242% > +10%)". */
  notes: string[];
}

const fmt = (n: number) =>
  Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(1) : n.toPrecision(2);
const pct = (n: number) => `${n >= 0 ? '+' : ''}${(n * 100).toFixed(0)}%`;

/**
 * Judges a monitor measurement: the probe itself must pass, then each criterion holds either
 * absolutely (min/max) or relative to the baseline captured before the deploy.
 */
export function judge(
  result: Pick<ItemResult, 'status' | 'detail' | 'metrics'>,
  criteria: Criteria | undefined,
  baseline: Record<string, number> | undefined,
): Verdict {
  const notes: string[] = [];
  let ok = result.status === 'pass' || result.status === 'warn';
  if (!ok) notes.push(`probe ${result.status}${result.detail ? `: ${result.detail}` : ''}`);
  if (!criteria) return { ok, notes };
  const value = result.metrics?.[criteria.metric];
  if (value === undefined)
    return { ok: false, notes: [...notes, `metric ${criteria.metric} was not measured`] };
  if (criteria.max !== undefined && value > criteria.max) {
    ok = false;
    notes.push(`${criteria.metric} ${fmt(value)} > ${fmt(criteria.max)}`);
  }
  if (criteria.min !== undefined && value < criteria.min) {
    ok = false;
    notes.push(`${criteria.metric} ${fmt(value)} < ${fmt(criteria.min)}`);
  }
  if (criteria.maxIncrease === undefined && criteria.maxDecrease === undefined) return { ok, notes };
  const base = baseline?.[criteria.metric];
  if (base === undefined || base === 0) {
    notes.push(`no baseline for ${criteria.metric}; relative criteria not judged`);
    return { ok, notes };
  }
  const change = (value - base) / Math.abs(base);
  const line = `${criteria.metric} ${fmt(value)} vs baseline ${fmt(base)} (${pct(change)}`;
  if (criteria.maxIncrease !== undefined && change > criteria.maxIncrease) {
    ok = false;
    notes.push(`${line} > ${pct(criteria.maxIncrease)})`);
  } else if (criteria.maxDecrease !== undefined && -change > criteria.maxDecrease) {
    ok = false;
    notes.push(`${line} < ${pct(-criteria.maxDecrease)})`);
  } else {
    notes.push(`${line})`);
  }
  return { ok, notes };
}

import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { AddressPolicy, TlsTrust } from '../net/guard.js';

/** What one probe attempt concluded. `inconclusive` is decided by the engine, never by a probe. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'error' | 'skipped';

export interface CheckOutcome {
  status: CheckStatus;
  /** What was measured, short and human-readable ("301 → https://x/", "p95 12.3 ms"). */
  observed: string;
  /** What the checklist expected ("301 or 308 to https", "p95 ≤ 25 ms"). */
  expected: string;
  /** Why it failed or anything worth knowing; empty when there is nothing to add. */
  detail: string;
  /** Numeric measurements (for reports, monitors' baselines and Prometheus). */
  metrics?: Record<string, number>;
}

export interface CheckResult extends CheckOutcome {
  durationMs: number;
}

export interface CheckContext {
  /** Aborted on timeout or cancellation; every probe must pass it on to its I/O. */
  signal: AbortSignal;
  /** Which addresses probes may reach (link-local and metadata are refused unless allowed). */
  policy: AddressPolicy;
  /** Certificate trust for probes that open TLS themselves (tls, http2, load). */
  tls: TlsTrust;
  /** An undici dispatcher whose connections obey `policy` and `tls` (shared per run, closed by the engine). */
  dispatcher: Dispatcher;
  /** Directory of the checklist file: relative paths in params (dotenv files) resolve from here. */
  baseDir: string;
  /** Milliseconds this attempt may take; probes that sample size their work to it. */
  timeoutMs: number;
}

/**
 * One probe type. `params` validates the item's `check:` block (minus `type`), so the checklist
 * schema and the JSON Schema are assembled from these definitions and cannot drift from them.
 */
export interface CheckDefinition<P extends z.ZodObject = z.ZodObject> {
  type: string;
  summary: string;
  params: P;
  defaultTimeoutMs: number;
  run(params: z.infer<P>, ctx: CheckContext): Promise<CheckOutcome>;
}

export function defineCheck<P extends z.ZodObject>(def: CheckDefinition<P>): CheckDefinition<P> {
  return def;
}

export const pass = (
  observed: string,
  expected: string,
  detail = '',
  metrics?: Record<string, number>,
): CheckOutcome => ({
  status: 'pass',
  observed,
  expected,
  detail,
  ...(metrics ? { metrics } : {}),
});

export const fail = (
  observed: string,
  expected: string,
  detail: string,
  metrics?: Record<string, number>,
): CheckOutcome => ({
  status: 'fail',
  observed,
  expected,
  detail,
  ...(metrics ? { metrics } : {}),
});

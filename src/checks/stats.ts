import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';

// Loaded on first use (only latency and load probes need it): it costs ~50 ms of every CLI start.
const requireLazily = createRequire(import.meta.url);

import { DeployCheckError, describeError, ErrorCode } from '../errors.js';

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  avg: number;
  min: number;
  max: number;
}

// One hour in microseconds: anything slower is clamped rather than resizing the histogram mid-run.
const HIGHEST_US = 3_600_000_000;

/**
 * Latencies recorded at microsecond precision in an HDR histogram: constant memory and O(1)
 * recording however many requests a load run makes. The pure-JS build is used because the
 * WebAssembly one needs an async init and is no faster for this many values.
 */
export class LatencyRecorder {
  readonly #histogram: Histogram = (
    requireLazily('hdr-histogram-js') as typeof import('hdr-histogram-js')
  ).build({
    useWebAssembly: false,
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });

  // Exact extremes and sum: the histogram rounds to bucket edges, which could show p99 > max.
  #minUs = Number.POSITIVE_INFINITY;
  #maxUs = 0;
  #sumUs = 0;

  /** Records one latency given in milliseconds. */
  record(ms: number): void {
    const us = Math.max(1, Math.min(Math.round(ms * 1000), HIGHEST_US));
    this.#histogram.recordValue(us);
    if (us < this.#minUs) this.#minUs = us;
    if (us > this.#maxUs) this.#maxUs = us;
    this.#sumUs += us;
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  summary(): LatencySummary {
    const h = this.#histogram;
    if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p95: 0, p99: 0, avg: 0, min: 0, max: 0 };
    const at = (percentile: number) =>
      Math.max(this.#minUs, Math.min(h.getValueAtPercentile(percentile), this.#maxUs)) / 1000;
    return {
      count: h.totalCount,
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      avg: this.#sumUs / h.totalCount / 1000,
      min: this.#minUs / 1000,
      max: this.#maxUs / 1000,
    };
  }
}

/** "41.2 ms", "0.35 ms", "1234 ms": enough digits to compare against a threshold, no more. */
export function formatMs(ms: number): string {
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${+ms.toFixed(1)} ms`;
  return `${+ms.toFixed(2)} ms`;
}

/** Rounds a millisecond figure for `metrics` (microsecond resolution is all the histogram keeps). */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export type LatencyThresholds = Partial<Record<'p50' | 'p90' | 'p95' | 'p99' | 'avg' | 'max', number>>;

/** Each threshold exceeded, as "p95 41.2 ms > 25 ms". */
export function exceededThresholds(summary: LatencySummary, thresholds: LatencyThresholds): string[] {
  const out: string[] = [];
  for (const [name, limit] of Object.entries(thresholds) as [keyof LatencyThresholds, number | undefined][]) {
    if (limit === undefined) continue;
    const value = summary[name];
    if (value > limit) out.push(`${name} ${formatMs(value)} > ${formatMs(limit)}`);
  }
  return out;
}

/** "p95 ≤ 25 ms, p99 ≤ 50 ms" for `expected`. */
export function describeThresholds(thresholds: LatencyThresholds): string[] {
  return Object.entries(thresholds)
    .filter(([, v]) => v !== undefined)
    .map(([name, v]) => `${name} ≤ ${formatMs(v as number)}`);
}

/** Statuses a probe accepts: the given list, or any 2xx/3xx. */
export function statusMatcher(expectStatus: number | number[] | undefined): (status: number) => boolean {
  if (expectStatus === undefined) return (s) => s >= 200 && s < 400;
  const list = Array.isArray(expectStatus) ? expectStatus : [expectStatus];
  return (s) => list.includes(s);
}

export function describeExpectedStatus(expectStatus: number | number[] | undefined): string {
  if (expectStatus === undefined) return '2xx/3xx';
  return Array.isArray(expectStatus) ? expectStatus.join('/') : String(expectStatus);
}

/** Why the probe's signal fired: the engine's timeout or a cancellation. */
export function abortDetail(signal: AbortSignal, timeoutMs: number): string {
  const reason = signal.reason as { name?: string } | undefined;
  return reason?.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : 'cancelled';
}

/** OpenSSL verification codes as people read them. */
export const CERT_ERRORS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'unable to verify the first certificate (unknown issuer or missing intermediate)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    'unable to get local issuer certificate (unknown CA or missing intermediate)',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_REVOKED: 'certificate revoked',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  INVALID_CA: 'invalid CA certificate',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  ERR_TLS_CERT_ALTNAME_INVALID: "hostname does not match the certificate's names",
};

export function describeCertError(code: string): string {
  return CERT_ERRORS[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/**
 * A one-line reason for a network failure, naming the target: "connection refused to
 * 127.0.0.1:9", "DNS lookup failed for nope.invalid". Unknown errors fall back to describeError.
 */
export function describeNetError(err: unknown, target: string): string {
  if (err instanceof DeployCheckError && err.code === ErrorCode.AddressRefused) return err.message;
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown } | undefined;
  const code = e?.code ?? e?.cause?.code;
  const host = target.replace(/:\d+$/, '');
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused to ${target}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNS lookup failed for ${host}`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `connection reset by ${target}`;
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connect to ${target} timed out`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${target}`;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `no response headers from ${target} in time`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `response body from ${target} stalled`;
    default:
      if (typeof code === 'string' && CERT_ERRORS[code])
        return `certificate of ${target} rejected: ${CERT_ERRORS[code]}`;
      return describeError(err);
  }
}

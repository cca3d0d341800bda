import { z } from 'zod';
import { duration } from './duration.js';
import { httpCall } from './http-util.js';
import {
  abortDetail,
  describeExpectedStatus,
  describeNetError,
  describeThresholds,
  exceededThresholds,
  formatMs,
  LatencyRecorder,
  type LatencySummary,
  roundMs,
  statusMatcher,
} from './stats.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

const statusCode = z.number().int().min(100).max(599);

const params = z
  .object({
    url: z.url({ protocol: /^https?$/ }).meta({ description: 'URL to time (http or https).' }),
    method: z.string().default('GET').meta({ description: 'HTTP method.' }),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Request headers (values are never shown in results).' }),
    body: z.string().optional().meta({ description: 'Request body.' }),
    samples: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(20)
      .meta({ description: 'Requests measured (after warm-up).' }),
    warmup: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(2)
      .meta({ description: 'Requests made first and discarded (connection set-up, cold caches).' }),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(50)
      .default(1)
      .meta({ description: 'Requests in flight at once.' }),
    thresholds: z
      .object({
        p50: duration.optional().meta({ description: 'Highest acceptable median, e.g. "25ms".' }),
        p95: duration.optional().meta({ description: 'Highest acceptable 95th percentile.' }),
        p99: duration.optional().meta({ description: 'Highest acceptable 99th percentile.' }),
        avg: duration.optional().meta({ description: 'Highest acceptable mean.' }),
        max: duration.optional().meta({ description: 'Highest acceptable single sample.' }),
      })
      .strict()
      .default({})
      .meta({ description: 'Latency limits; the check fails when any is exceeded.' }),
    expectStatus: z
      .union([statusCode, z.array(statusCode).min(1)])
      .optional()
      .meta({ description: 'Statuses that count as success (default any 2xx/3xx); others count as errors.' }),
    maxErrors: z
      .number()
      .int()
      .min(0)
      .default(0)
      .meta({ description: 'Failed samples tolerated before the check fails.' }),
  })
  .strict();

type Params = z.infer<typeof params>;

interface Sampling {
  recorder: LatencyRecorder;
  errors: number;
  firstError: string | undefined;
  done: number;
  /** Set when the target is unreachable: repeating the same network error only burns the timeout. */
  unreachable: boolean;
}

const UNREACHABLE_AFTER = 3;

export default defineCheck({
  type: 'latency',
  summary: 'Times repeated requests to a URL and checks p50/p95/p99/avg/max against thresholds.',
  params,
  defaultTimeoutMs: 30_000,
  async run(p, ctx) {
    const target = targetOf(p.url);
    const accepted = statusMatcher(p.expectStatus);
    const warm = newSampling();
    await sample(p, ctx, p.warmup, accepted, target, warm);
    if (warm.unreachable) return judge(p, ctx, warm);
    const measured = newSampling();
    if (!ctx.signal.aborted) await sample(p, ctx, p.samples, accepted, target, measured);
    return judge(p, ctx, measured);
  },
});

function newSampling(): Sampling {
  return { recorder: new LatencyRecorder(), errors: 0, firstError: undefined, done: 0, unreachable: false };
}

function targetOf(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
}

/** Makes `count` requests, `concurrency` at a time, timing each from send to the end of its (capped) body. */
async function sample(
  p: Params,
  ctx: CheckContext,
  count: number,
  accepted: (status: number) => boolean,
  target: string,
  into: Sampling,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count && !ctx.signal.aborted && !into.unreachable) {
      next += 1;
      await sampleOnce(p, ctx, accepted, target, into);
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, count) }, worker));
}

async function sampleOnce(
  p: Params,
  ctx: CheckContext,
  accepted: (status: number) => boolean,
  target: string,
  into: Sampling,
): Promise<void> {
  try {
    const res = await httpCall(p.url, {
      method: p.method,
      headers: p.headers,
      body: p.body,
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
    });
    into.done += 1;
    if (accepted(res.status)) {
      into.recorder.record(res.totalMs);
    } else {
      into.errors += 1;
      into.firstError ??= `status ${res.status}`;
    }
  } catch (err) {
    // An abort is the engine's timeout, reported once by judge(), not a failed sample.
    if (ctx.signal.aborted) return;
    into.done += 1;
    into.errors += 1;
    into.firstError ??= describeNetError(err, target);
    if (into.recorder.count === 0 && into.errors >= UNREACHABLE_AFTER) into.unreachable = true;
  }
}

function judge(p: Params, ctx: CheckContext, s: Sampling): CheckOutcome {
  const summary = s.recorder.summary();
  const metrics = toMetrics(summary, s);
  const limits = describeThresholds(p.thresholds);
  const expected = [`${describeExpectedStatus(p.expectStatus)} responses`, ...limits].join(', ');
  const observed = summary.count > 0 ? observedText(summary, s) : `${s.errors} of ${s.done} samples failed`;

  if (ctx.signal.aborted) {
    const why = abortDetail(ctx.signal, ctx.timeoutMs);
    return {
      status: 'error',
      observed,
      expected,
      detail: `${why} after ${s.done} of ${p.samples} samples`,
      metrics,
    };
  }
  if (s.unreachable || s.errors * 2 > s.done || summary.count === 0) {
    return {
      status: 'error',
      observed,
      expected,
      detail: `${s.errors} of ${s.done} samples failed: ${s.firstError}`,
      metrics,
    };
  }
  const problems = exceededThresholds(summary, p.thresholds);
  if (s.errors > p.maxErrors) problems.push(`${s.errors} of ${s.done} samples failed: ${s.firstError}`);
  if (problems.length > 0) return fail(observed, expected, problems.join('; '), metrics);
  return pass(observed, expected, '', metrics);
}

function observedText(summary: LatencySummary, s: Sampling): string {
  const errors = s.errors > 0 ? `, ${s.errors} errors` : '';
  return `p50 ${formatMs(summary.p50)}, p95 ${formatMs(summary.p95)}, p99 ${formatMs(summary.p99)}, max ${formatMs(summary.max)} (${summary.count} samples${errors})`;
}

function toMetrics(summary: LatencySummary, s: Sampling): Record<string, number> {
  return {
    p50: roundMs(summary.p50),
    p95: roundMs(summary.p95),
    p99: roundMs(summary.p99),
    avg: roundMs(summary.avg),
    min: roundMs(summary.min),
    max: roundMs(summary.max),
    errors: s.errors,
    samples: summary.count,
  };
}

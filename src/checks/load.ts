import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { createGuardedDispatcher } from '../net/guard.js';
import { duration, formatDuration } from './duration.js';
import {
  abortDetail,
  describeExpectedStatus,
  describeNetError,
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
    url: z.url({ protocol: /^https?$/ }).meta({ description: 'URL to load (http or https).' }),
    method: z.string().default('GET').meta({ description: 'HTTP method.' }),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'Request headers (values are never shown in results).' }),
    body: z.string().optional().meta({ description: 'Request body sent with every request.' }),
    connections: z.number().int().min(1).max(1000).default(10).meta({
      description:
        'Concurrent connections ("100 concurrent users"): each sends its next request when the previous one completes.',
    }),
    duration: duration.optional().meta({
      description:
        'How long to send load, e.g. "10s" (default 10s unless `requests` is set). Capped to fit the check timeout.',
    }),
    requests: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: 'Stop after this many requests instead of after a duration.' }),
    rate: z.number().positive().optional().meta({
      description:
        "Target requests per second (paced; latency counts from each request's scheduled time). Default: as fast as the connections allow.",
    }),
    ratePerMinute: z
      .number()
      .positive()
      .optional()
      .meta({ description: 'Target requests per minute ("1000 requests/minute"); alternative to `rate`.' }),
    thresholds: z
      .object({
        minRps: z
          .number()
          .positive()
          .optional()
          .meta({ description: 'Lowest acceptable throughput in requests per second.' }),
        p50: duration.optional().meta({ description: 'Highest acceptable median latency, e.g. "50ms".' }),
        p95: duration.optional().meta({ description: 'Highest acceptable 95th percentile latency.' }),
        p99: duration.optional().meta({ description: 'Highest acceptable 99th percentile latency.' }),
        maxErrorRate: z
          .number()
          .min(0)
          .max(1)
          .default(0.01)
          .meta({ description: 'Highest acceptable share of failed requests, 0..1 (default 0.01).' }),
      })
      .strict()
      .default({ maxErrorRate: 0.01 })
      .meta({ description: 'Limits; the check fails when any is not met.' }),
    expectStatus: z
      .union([statusCode, z.array(statusCode).min(1)])
      .optional()
      .meta({ description: 'Statuses that count as success (default any 2xx/3xx); others count as errors.' }),
  })
  .strict()
  .refine((p) => p.rate === undefined || p.ratePerMinute === undefined, {
    message: 'set either rate or ratePerMinute, not both',
    path: ['ratePerMinute'],
  });

type Params = z.infer<typeof params>;

const DEFAULT_DURATION_MS = 10_000;
// Stop sending after this many network errors with no response at all: the target is down.
const UNREACHABLE_AFTER = 10;

/** The plan for one run: how long, how many, how fast. */
interface Plan {
  runMs: number;
  maxRequests: number;
  intervalMs: number;
  cappedNote: string;
}

/**
 * Shared state of one load run. Workers drive undici directly with a reusable dispatch handler
 * (no promise, stream or closure per request), so the client costs little more than the target.
 */
class LoadRun {
  readonly recorder = new LatencyRecorder();
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  readonly accepted: (status: number) => boolean;
  responses = 0;
  statusErrors = 0;
  netErrors = 0;
  firstError: string | undefined;
  issued = 0;
  stopped = false;
  unreachable = false;
  /** Set once we tear the dispatcher down ourselves: the errors that follow are ours, not the target's. */
  killed = false;
  startedAt = 0;
  lastEndAt = 0;
  deadline = 0;

  constructor(
    readonly dispatcher: Dispatcher,
    readonly p: Params,
    readonly plan: Plan,
    readonly target: string,
  ) {
    const url = new URL(p.url);
    this.dispatchOptions = {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: p.method as Dispatcher.HttpMethod,
      headers: p.headers ?? null,
      body: p.body ?? null,
      // The run's own deadline and drain period bound every request; undici's per-request
      // timers would only add work to each request.
      headersTimeout: 0,
      bodyTimeout: 0,
    };
    this.accepted = statusMatcher(p.expectStatus);
  }

  get completed(): number {
    return this.responses + this.netErrors;
  }

  get errors(): number {
    return this.statusErrors + this.netErrors;
  }

  /** The next request's scheduled start (ms, performance.now() clock), or undefined when the run is over. */
  claimSlot(now: number): number | undefined {
    if (this.stopped || this.issued >= this.plan.maxRequests) return undefined;
    const slot = this.plan.intervalMs > 0 ? this.startedAt + this.issued * this.plan.intervalMs : now;
    if (slot >= this.deadline || now >= this.deadline) return undefined;
    this.issued += 1;
    return slot;
  }

  recordResponse(status: number, startedAt: number, endedAt: number): void {
    this.responses += 1;
    this.lastEndAt = endedAt;
    if (this.accepted(status)) {
      this.recorder.record(endedAt - startedAt);
    } else {
      this.statusErrors += 1;
      this.firstError ??= `status ${status}`;
    }
  }

  /** Requests still unanswered when the drain period ends count as failed. */
  recordStalled(drainMs: number): void {
    const stalled = this.issued - this.completed;
    if (stalled <= 0) return;
    this.netErrors += stalled;
    this.firstError ??= `${stalled} request${stalled === 1 ? '' : 's'} still unanswered ${formatDuration(drainMs)} after the run ended`;
  }

  recordError(err: Error): void {
    if (this.killed) return;
    this.netErrors += 1;
    this.lastEndAt = performance.now();
    this.firstError ??= describeNetError(err, this.target);
    if (this.responses === 0 && this.netErrors >= Math.max(UNREACHABLE_AFTER, this.p.connections)) {
      this.unreachable = true;
      this.stopped = true;
    }
  }
}

/** One closed-loop virtual user: sends a request, waits for the full response, sends the next. */
class Worker implements Dispatcher.DispatchHandler {
  #status = 0;
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #onDone: (() => void) | undefined;

  constructor(readonly run: LoadRun) {}

  start(): Promise<void> {
    return new Promise((resolve) => {
      this.#onDone = resolve;
      this.#next();
    });
  }

  cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // The slot was claimed but its request never sent.
    this.run.issued -= 1;
    this.#finish();
  }

  #next(): void {
    const now = performance.now();
    const slot = this.run.claimSlot(now);
    if (slot === undefined) {
      this.#finish();
      return;
    }
    if (slot > now + 1) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#send(slot);
      }, slot - now);
      return;
    }
    this.#send(slot);
  }

  #send(slot: number): void {
    // Paced runs time from the scheduled slot, so a stalled server cannot hide its queueing delay.
    this.#startedAt = this.run.plan.intervalMs > 0 ? slot : performance.now();
    this.#status = 0;
    this.run.dispatcher.dispatch(this.run.dispatchOptions, this);
  }

  #finish(): void {
    const done = this.#onDone;
    this.#onDone = undefined;
    done?.();
  }

  onRequestStart(): void {
    // Nothing to set up: the handler is reused for every request this worker sends.
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }

  onResponseData(): void {
    // Bodies are discarded: only their arrival time matters.
  }

  onResponseEnd(): void {
    this.run.recordResponse(this.#status, this.#startedAt, performance.now());
    this.#next();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    this.run.recordError(err);
    // Errors can be raised synchronously inside dispatch(); yielding keeps the stack flat and a
    // refusing target from starving the event loop.
    setImmediate(() => this.#next());
  }
}

export default defineCheck({
  type: 'load',
  summary:
    'Sends sustained load (N concurrent connections for a duration or request count, optionally paced) and checks req/s, latency percentiles and error rate.',
  params,
  defaultTimeoutMs: 60_000,
  async run(p, ctx) {
    const url = new URL(p.url);
    const target = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
    const plan = planRun(p, ctx.timeoutMs);
    const dispatcher = createGuardedDispatcher(ctx.policy, {
      connections: p.connections,
      pipelining: 1,
      tls: ctx.tls,
    });
    const run = new LoadRun(dispatcher, p, plan, target);
    try {
      await drive(run, ctx);
    } finally {
      run.killed = true;
      await dispatcher.destroy().catch(() => undefined);
    }
    return judge(run, ctx);
  },
});

function planRun(p: Params, timeoutMs: number): Plan {
  const rate = p.rate ?? (p.ratePerMinute !== undefined ? p.ratePerMinute / 60 : undefined);
  // Leave room for connecting and draining in-flight requests within the engine's timeout.
  const reserve = Math.max(500, Math.min(5_000, timeoutMs * 0.1));
  const budget = Math.max(100, timeoutMs - reserve * 2);
  const wanted = p.duration ?? (p.requests !== undefined ? Number.POSITIVE_INFINITY : DEFAULT_DURATION_MS);
  const runMs = Math.min(wanted, budget);
  const cappedNote =
    runMs < wanted && Number.isFinite(wanted)
      ? `ran ${formatDuration(runMs)} instead of ${formatDuration(wanted)} to fit the ${formatDuration(timeoutMs)} timeout`
      : '';
  return {
    runMs,
    maxRequests: p.requests ?? Number.POSITIVE_INFINITY,
    intervalMs: rate !== undefined ? 1000 / rate : 0,
    cappedNote,
  };
}

/** Runs the workers until the plan is done, the target proves unreachable, or ctx.signal fires. */
async function drive(run: LoadRun, ctx: CheckContext): Promise<void> {
  if (ctx.signal.aborted) return;
  const workers = Array.from({ length: run.p.connections }, () => new Worker(run));
  const stop = () => {
    run.stopped = true;
    for (const w of workers) w.cancel();
  };
  const kill = () => {
    stop();
    run.killed = true;
    // Fails the requests still in flight, which lets every worker finish.
    void run.dispatcher.destroy().catch(() => undefined);
  };
  const drainMs = Math.max(500, Math.min(5_000, ctx.timeoutMs * 0.1));
  let drainTimer: NodeJS.Timeout | undefined;
  const stopTimer = setTimeout(() => {
    stop();
    drainTimer = setTimeout(() => {
      run.recordStalled(drainMs);
      kill();
    }, drainMs);
  }, run.plan.runMs);
  ctx.signal.addEventListener('abort', kill, { once: true });
  run.startedAt = performance.now();
  run.deadline = run.startedAt + run.plan.runMs;
  try {
    await Promise.all(workers.map((w) => w.start()));
  } finally {
    clearTimeout(stopTimer);
    clearTimeout(drainTimer);
    ctx.signal.removeEventListener('abort', kill);
  }
}

function judge(run: LoadRun, ctx: CheckContext): CheckOutcome {
  const { p } = run;
  const summary = run.recorder.summary();
  const elapsedMs = Math.max(1, (run.lastEndAt || performance.now()) - run.startedAt);
  const completed = run.completed;
  const rps = (run.responses * 1000) / elapsedMs;
  const errorRate = completed > 0 ? run.errors / completed : 0;
  const metrics = toMetrics(summary, run, rps, errorRate, elapsedMs);
  const expected = expectedText(p);
  const notes: string[] = [];
  if (ctx.signal.aborted) notes.push(`stopped early: ${abortDetail(ctx.signal, ctx.timeoutMs)}`);
  if (run.plan.cappedNote) notes.push(run.plan.cappedNote);
  if (p.requests !== undefined && run.issued < p.requests && !ctx.signal.aborted && !run.unreachable) {
    notes.push(`sent ${run.issued} of ${p.requests} requests before the time budget ran out`);
  }

  if (run.unreachable || run.responses === 0) {
    const why =
      run.firstError ??
      (ctx.signal.aborted ? abortDetail(ctx.signal, ctx.timeoutMs) : 'no request completed');
    return {
      status: 'error',
      observed: `no responses (${run.netErrors} errors)`,
      expected,
      detail: why,
      metrics,
    };
  }

  const observed = observedText(summary, rps, errorRate, completed, elapsedMs);
  const problems = thresholdProblems(p, summary, rps, errorRate, run);
  const detail = [...problems, ...notes].join('; ');
  if (problems.length > 0) return fail(observed, expected, detail, metrics);
  return pass(observed, expected, detail, metrics);
}

function thresholdProblems(
  p: Params,
  s: LatencySummary,
  rps: number,
  errorRate: number,
  run: LoadRun,
): string[] {
  const t = p.thresholds;
  const out: string[] = [];
  if (t.minRps !== undefined && rps < t.minRps)
    out.push(`${formatRps(rps)} req/s < ${formatRps(t.minRps)} req/s`);
  for (const name of ['p50', 'p95', 'p99'] as const) {
    const limit = t[name];
    if (limit !== undefined && s.count > 0 && s[name] > limit)
      out.push(`${name} ${formatMs(s[name])} > ${formatMs(limit)}`);
  }
  if (errorRate > t.maxErrorRate) {
    out.push(
      `error rate ${formatPercent(errorRate)} > ${formatPercent(t.maxErrorRate)} (${run.errors} of ${run.completed}; first: ${run.firstError})`,
    );
  }
  return out;
}

function expectedText(p: Params): string {
  const t = p.thresholds;
  const parts: string[] = [];
  if (t.minRps !== undefined) parts.push(`≥ ${formatRps(t.minRps)} req/s`);
  for (const name of ['p50', 'p95', 'p99'] as const) {
    const limit = t[name];
    if (limit !== undefined) parts.push(`${name} ≤ ${formatMs(limit)}`);
  }
  parts.push(
    `errors ≤ ${formatPercent(t.maxErrorRate)} (non-${describeExpectedStatus(p.expectStatus)} or failed)`,
  );
  return parts.join(', ');
}

function observedText(
  s: LatencySummary,
  rps: number,
  errorRate: number,
  completed: number,
  elapsedMs: number,
): string {
  return `${formatRps(rps)} req/s, p50 ${formatMs(s.p50)}, p95 ${formatMs(s.p95)}, p99 ${formatMs(s.p99)}, ${formatPercent(errorRate)} errors (${completed} requests in ${formatDuration(elapsedMs)})`;
}

function toMetrics(
  s: LatencySummary,
  run: LoadRun,
  rps: number,
  errorRate: number,
  elapsedMs: number,
): Record<string, number> {
  return {
    rps: Math.round(rps * 10) / 10,
    p50: roundMs(s.p50),
    p90: roundMs(s.p90),
    p95: roundMs(s.p95),
    p99: roundMs(s.p99),
    avg: roundMs(s.avg),
    max: roundMs(s.max),
    errorRate: Math.round(errorRate * 10_000) / 10_000,
    requests: run.completed,
    errors: run.errors,
    durationMs: Math.round(elapsedMs),
  };
}

function formatRps(rps: number): string {
  return rps >= 100 ? String(Math.round(rps)) : String(+rps.toFixed(1));
}

function formatPercent(rate: number): string {
  const pct = rate * 100;
  return `${pct >= 10 || pct === 0 ? Math.round(pct) : +pct.toFixed(2)}%`;
}

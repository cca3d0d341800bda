import { z } from 'zod';
import { duration, formatDuration } from './duration.js';
import { errorOutcome, httpMethod, httpUrl, tryHttpCall } from './http.js';
import { headerValue } from './http-util.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

const MAX_BURST = 2000;

const params = z.strictObject({
  url: httpUrl.meta({ description: 'The rate-limited endpoint.' }),
  method: httpMethod.default('GET'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .meta({ description: 'Request headers (e.g. the API key of a test client whose budget may be spent).' }),
  body: z.string().optional().meta({ description: 'Request body.' }),
  limit: z
    .number()
    .int()
    .min(1)
    .max(MAX_BURST)
    .meta({ description: 'Requests per window the limiter should allow.' }),
  window: duration
    .optional()
    .meta({ description: 'The limiter window (informational, shown in the result).' }),
  burst: z
    .number()
    .int()
    .min(2)
    .max(MAX_BURST)
    .optional()
    .meta({
      description: `Requests to send at most (default limit + 10, at most ${MAX_BURST}); sending stops at the first limited answer.`,
    }),
  tolerance: z.number().int().min(0).optional().meta({
    description: 'How many requests past the limit a 429 may come (default 10% of limit, at least 2).',
  }),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .meta({ description: 'Requests in flight at once (default 10).' }),
  expect: z
    .strictObject({
      status: z
        .number()
        .int()
        .min(400)
        .max(599)
        .default(429)
        .meta({ description: 'Status of a limited answer (default 429).' }),
      retryAfter: z.boolean().default(true).meta({
        description: 'The limited answer must carry Retry-After (seconds or an HTTP date; default true).',
      }),
    })
    .default({ status: 429, retryAfter: true }),
});
type Params = z.infer<typeof params>;

// Responses are not inspected beyond status and headers; reading small bodies whole keeps connections reusable.
const MAX_BODY_BYTES = 16 * 1024;

interface Limited {
  /** 1-based position among answered requests, in the order the answers arrived. */
  index: number;
  retryAfter: string | undefined;
}

interface Tally {
  sent: number;
  answered: number;
  ok: number;
  other: number;
  errors: number;
  firstError?: string;
  firstLimited?: Limited;
  limited: number;
}

type Answer = Awaited<ReturnType<typeof tryHttpCall>>;

// Positions count answers as they arrive, not sends: concurrent connections reach the server in any
// order, and the limiter counts what it received, so arrival order is what matches its count.
function record(tally: Tally, answer: Answer, limitedStatus: number): void {
  const { res, error } = answer;
  if (!res) {
    tally.errors += 1;
    tally.firstError ??= error;
    return;
  }
  tally.answered += 1;
  if (res.status === limitedStatus) {
    tally.limited += 1;
    tally.firstLimited ??= { index: tally.answered, retryAfter: headerValue(res.headers, 'retry-after') };
  } else if (res.status < 400) {
    tally.ok += 1;
  } else {
    tally.other += 1;
  }
}

/** Sends up to `burst` requests with `concurrency` in flight, stopping new sends after the first limited answer. */
async function sendBurst(p: Params, burst: number, ctx: CheckContext): Promise<Tally> {
  const tally: Tally = { sent: 0, answered: 0, ok: 0, other: 0, errors: 0, limited: 0 };
  const request = {
    method: p.method,
    headers: p.headers ?? {},
    ...(p.body !== undefined ? { body: p.body } : {}),
    maxBodyBytes: MAX_BODY_BYTES,
  };
  const worker = async (): Promise<void> => {
    while (tally.sent < burst && !tally.firstLimited && !ctx.signal.aborted) {
      tally.sent += 1;
      record(tally, await tryHttpCall(p.url, ctx, request), p.expect.status);
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, burst) }, worker));
  return tally;
}

function validRetryAfter(value: string): boolean {
  const v = value.trim();
  return /^\d+$/.test(v) || (/[a-z]/i.test(v) && !Number.isNaN(Date.parse(v)));
}

function defaultTolerance(limit: number): number {
  return Math.max(2, Math.ceil(limit * 0.1));
}

export default defineCheck({
  type: 'rate-limit',
  summary:
    "Sends a burst past the declared limit and expects a 429 with Retry-After in time. Deliberately spends the target's rate budget for the window: run it last, with a test client's key.",
  params,
  defaultTimeoutMs: 60_000,
  async run(p, ctx): Promise<CheckOutcome> {
    const tolerance = p.tolerance ?? defaultTolerance(p.limit);
    const deadline = p.limit + tolerance;
    const burst = Math.min(p.burst ?? p.limit + 10, MAX_BURST);
    const per = p.window !== undefined ? ` per ${formatDuration(p.window)}` : '';
    const withRetry = p.expect.retryAfter ? ' with Retry-After' : '';
    const expected = `${p.expect.status} by request ${deadline} (limit ${p.limit}${per})${withRetry}`;
    if (burst <= p.limit) {
      return errorOutcome(
        expected,
        `burst ${burst} does not exceed limit ${p.limit}, so limiting cannot be observed`,
        'not run',
      );
    }
    const tally = await sendBurst(p, burst, ctx);
    const first = tally.firstLimited;
    const metrics: Record<string, number> = {
      sent: tally.sent,
      okCount: tally.ok,
      limitedCount: tally.limited,
      otherCount: tally.other,
      errorCount: tally.errors,
      ...(first ? { firstLimitedAt: first.index } : {}),
    };
    const errors = tally.errors ? `; ${tally.errors} request(s) failed, first: ${tally.firstError}` : '';
    if (!first) {
      const observed = `no ${p.expect.status} after ${tally.sent} requests`;
      // Without a limited answer, failed requests mean the burst was not measured, not that limiting is missing.
      if (tally.errors) {
        const detail = `${tally.errors} of ${tally.sent} requests failed, first: ${tally.firstError}`;
        return { status: 'error', observed, expected, detail, metrics };
      }
      const others = tally.other ? `; ${tally.other} other error status(es)` : '';
      return fail(
        observed,
        expected,
        `no ${p.expect.status} after ${tally.sent} requests (limit ${p.limit})${others}`,
        metrics,
      );
    }
    const observed = `first ${p.expect.status} at request ${first.index}`;
    if (first.index > deadline) {
      return fail(
        observed,
        expected,
        `limited only at request ${first.index}, limit ${p.limit} + tolerance ${tolerance}${errors}`,
        metrics,
      );
    }
    if (p.expect.retryAfter && first.retryAfter === undefined) {
      return fail(`${observed}, no Retry-After`, expected, `${p.expect.status} without Retry-After`, metrics);
    }
    if (p.expect.retryAfter && !validRetryAfter(first.retryAfter!)) {
      const detail = `Retry-After ${JSON.stringify(first.retryAfter)} is neither seconds nor an HTTP date`;
      return fail(observed, expected, detail, metrics);
    }
    const retry = first.retryAfter !== undefined ? `, Retry-After ${first.retryAfter}` : '';
    const note = "this probe spent the target's rate budget for the current window";
    if (first.index < p.limit - tolerance) {
      const detail = `limited at request ${first.index}, well before the limit ${p.limit}: the budget was partly spent already, or the limit is lower than declared; ${note}${errors}`;
      return { status: 'warn', observed: observed + retry, expected, detail, metrics };
    }
    return pass(observed + retry, expected, `${note}${errors}`, metrics);
  },
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import rateLimit from '../../../src/checks/rate-limit.js';
import type { CheckContext, CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

const servers: http.Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

interface LimiterOptions {
  /** Requests allowed before limiting; Infinity for no limiter. */
  allow: number;
  status?: number;
  retryAfter?: string | null;
}

/** A fixed-window limiter whose window never resets, so counts are deterministic. */
async function serveLimiter(o: LimiterOptions): Promise<{ url: string; received: () => number }> {
  let count = 0;
  const server = http.createServer((_req, res) => {
    count += 1;
    if (count <= o.allow) {
      res.end('ok');
      return;
    }
    const retry = o.retryAfter === undefined ? '30' : o.retryAfter;
    res.writeHead(o.status ?? 429, retry === null ? {} : { 'retry-after': retry });
    res.end('slow down');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, received: () => count };
}

const run = (params: unknown, ctx: CheckContext = makeContext()): Promise<CheckOutcome> =>
  rateLimit.run(rateLimit.params.parse(params), ctx);

describe('rate-limit params', () => {
  it('requires a limit and defaults the rest', () => {
    expect(rateLimit.params.safeParse({ url: 'https://x.test' }).success).toBe(false);
    const p = rateLimit.params.parse({ url: 'https://x.test', limit: 50, window: '1m' });
    expect(p).toMatchObject({
      method: 'GET',
      concurrency: 10,
      window: 60_000,
      expect: { status: 429, retryAfter: true },
    });
    expect(rateLimit.params.safeParse({ url: 'https://x.test', limit: 50, burst: 5000 }).success).toBe(false);
  });

  it('mentions that it spends the rate budget', () => {
    expect(rateLimit.summary).toMatch(/rate budget/);
  });
});

describe('rate-limit probe', () => {
  it('passes when a 429 with Retry-After arrives right after the limit', async () => {
    const target = await serveLimiter({ allow: 20 });
    const out = await run({ url: target.url, limit: 20, window: '1m' });
    expect(out.status).toBe('pass');
    expect(out.expected).toBe('429 by request 22 (limit 20 per 1m) with Retry-After');
    expect(out.observed).toMatch(/^first 429 at request \d+, Retry-After 30$/);
    // Answers over parallel connections may arrive slightly out of the server's order.
    expect(out.metrics?.firstLimitedAt).toBeGreaterThanOrEqual(19);
    expect(out.metrics?.firstLimitedAt).toBeLessThanOrEqual(22);
    expect(out.detail).toMatch(/spent the target's rate budget/);
    expect(out.metrics).toMatchObject({ okCount: 20, errorCount: 0 });
    expect(out.metrics?.limitedCount).toBeGreaterThanOrEqual(1);
    // Sending stops at the first limited answer: at most the requests already in flight follow it.
    expect(target.received()).toBeLessThan(30 + 1);
  });

  it('fails when no 429 ever comes', async () => {
    const target = await serveLimiter({ allow: Number.POSITIVE_INFINITY });
    const out = await run({ url: target.url, limit: 20 });
    expect(out).toMatchObject({
      status: 'fail',
      observed: 'no 429 after 30 requests',
      detail: 'no 429 after 30 requests (limit 20)',
      metrics: { sent: 30, okCount: 30, limitedCount: 0 },
    });
    expect(target.received()).toBe(30);
  });

  it('fails when limiting comes too late', async () => {
    const target = await serveLimiter({ allow: 40 });
    const out = await run({ url: target.url, limit: 20, burst: 60, concurrency: 1 });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe('first 429 at request 41');
    expect(out.detail).toBe('limited only at request 41, limit 20 + tolerance 2');
  });

  it('fails a 429 without Retry-After unless it is not required', async () => {
    const target = await serveLimiter({ allow: 5, retryAfter: null });
    const out = await run({ url: target.url, limit: 5, concurrency: 1 });
    expect(out).toMatchObject({
      status: 'fail',
      observed: 'first 429 at request 6, no Retry-After',
      detail: '429 without Retry-After',
    });
    const relaxed = await serveLimiter({ allow: 5, retryAfter: null });
    expect((await run({ url: relaxed.url, limit: 5, expect: { retryAfter: false } })).status).toBe('pass');
  });

  it('validates Retry-After: seconds or an HTTP date', async () => {
    const bad = await serveLimiter({ allow: 5, retryAfter: 'soon' });
    const out = await run({ url: bad.url, limit: 5, concurrency: 1 });
    expect(out.detail).toBe('Retry-After "soon" is neither seconds nor an HTTP date');
    const date = await serveLimiter({ allow: 5, retryAfter: new Date(Date.now() + 60_000).toUTCString() });
    expect((await run({ url: date.url, limit: 5, concurrency: 1 })).status).toBe('pass');
  });

  it('warns when limited well before the declared limit', async () => {
    const target = await serveLimiter({ allow: 3 });
    const out = await run({ url: target.url, limit: 50, concurrency: 1 });
    expect(out.status).toBe('warn');
    expect(out.detail).toMatch(/^limited at request 4, well before the limit 50/);
  });

  it('honours a custom limited status and tolerance', async () => {
    const target = await serveLimiter({ allow: 10, status: 503 });
    const out = await run({
      url: target.url,
      limit: 8,
      tolerance: 3,
      concurrency: 1,
      expect: { status: 503 },
    });
    expect(out).toMatchObject({ status: 'pass', observed: 'first 503 at request 11, Retry-After 30' });
    const strict = await serveLimiter({ allow: 10, status: 503 });
    const late = await run({
      url: strict.url,
      limit: 8,
      tolerance: 0,
      concurrency: 1,
      expect: { status: 503 },
    });
    expect(late.status).toBe('fail');
  });

  it('refuses a burst that cannot exceed the limit', async () => {
    const target = await serveLimiter({ allow: 100 });
    const out = await run({ url: target.url, limit: 20, burst: 20 });
    expect(out).toMatchObject({ status: 'error', observed: 'not run' });
    expect(target.received()).toBe(0);
  });
});

describe('rate-limit probe errors', () => {
  it('errors when requests fail instead of counting them as unlimited', async () => {
    const port = await freePort();
    const out = await run({ url: `http://127.0.0.1:${port}/`, limit: 5 });
    expect(out.status).toBe('error');
    expect(out.detail).toBe(`15 of 15 requests failed, first: connection refused to 127.0.0.1:${port}`);
  });

  it('reports a timeout', async () => {
    const server = http.createServer(() => {
      // never answer
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const out = await run({ url, limit: 5, concurrency: 2 }, makeContext({ timeoutMs: 300 }));
    expect(out.status).toBe('error');
    expect(out.detail).toBe('2 of 2 requests failed, first: timed out after 300 ms');
  });

  it('refuses the metadata address', async () => {
    const out = await run({ url: 'http://169.254.169.254/', limit: 2, concurrency: 1 });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/requests failed, first: refused: 169\.254\.169\.254 is a link-local/);
  });
});

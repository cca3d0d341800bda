import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import load from '../../../src/checks/load.js';
import type { CheckContext } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { type KeyAndCert, makeCa, makeCert } from '../../helpers/tls-cert.js';

type Input = Parameters<typeof load.params.parse>[0];

function run(input: Input, ctx: CheckContext = makeContext({ timeoutMs: 10_000 })) {
  return load.run(load.params.parse(input), ctx);
}

describe('load', () => {
  let server: http.Server;
  let base: string;
  let hits = 0;
  /** Aborted by the server after a few requests, to cancel a run mid-way. */
  let cancelAfter: { controller: AbortController; after: number } | undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits += 1;
      if (cancelAfter && hits === cancelAfter.after) cancelAfter.controller.abort();
      if (req.url === '/half') {
        res.statusCode = hits % 2 === 0 ? 500 : 200;
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('slow'), 20);
      } else if (req.url === '/echo') {
        let size = 0;
        req.on('data', (c: Buffer) => {
          size += c.length;
        });
        req.on('end', () => res.end(String(size)));
      } else if (req.url === '/hang') {
        // Never answers.
      } else {
        res.end('ok');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends exactly `requests` requests over the given connections and passes', async () => {
    hits = 0;
    const out = await run({ url: `${base}/`, connections: 4, requests: 200 });
    expect(out.status).toBe('pass');
    expect(hits).toBe(200);
    expect(out.metrics).toMatchObject({ requests: 200, errors: 0, errorRate: 0 });
    const m = out.metrics!;
    expect(m.rps).toBeGreaterThan(0);
    expect(m.p50).toBeLessThanOrEqual(m.p90!);
    expect(m.p90).toBeLessThanOrEqual(m.p99!);
    expect(m.p99).toBeLessThanOrEqual(m.max!);
    expect(out.observed).toMatch(
      /^[\d.]+ req\/s, p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, 0% errors \(200 requests in /,
    );
  });

  it('sends the method, headers and body given', async () => {
    const out = await run({
      url: `${base}/echo`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"hello":"world"}',
      requests: 5,
      connections: 1,
    });
    expect(out.status).toBe('pass');
    expect(out.metrics!.requests).toBe(5);
  });

  it('runs for a duration', async () => {
    const out = await run({ url: `${base}/`, connections: 2, duration: '300ms' });
    expect(out.status).toBe('pass');
    expect(out.metrics!.requests).toBeGreaterThan(0);
    expect(out.detail).toBe('');
  });

  it('paces requests to the target rate', async () => {
    const out = await run({ url: `${base}/`, connections: 5, duration: '300ms', rate: 50 });
    expect(out.status).toBe('pass');
    // Slots are 20 ms apart and none is scheduled at or after the 300 ms deadline.
    expect(out.metrics!.requests).toBeGreaterThan(0);
    expect(out.metrics!.requests).toBeLessThanOrEqual(15);
  });

  it('fails when the error rate exceeds maxErrorRate, naming the first error', async () => {
    const out = await run({ url: `${base}/half`, connections: 2, requests: 40 });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/^error rate 50% > 1% \(20 of 40; first: status 500\)$/);
    expect(out.metrics).toMatchObject({ errors: 20, requests: 40, errorRate: 0.5 });
  });

  it('fails on throughput and latency thresholds', async () => {
    const out = await run({
      url: `${base}/slow`,
      connections: 2,
      requests: 6,
      thresholds: { minRps: 1_000_000, p50: '5ms' },
    });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/^[\d.]+ req\/s < 1000000 req\/s; p50 [\d.]+ ms > 5 ms$/);
    expect(out.expected).toBe('≥ 1000000 req/s, p50 ≤ 5 ms, errors ≤ 1% (non-2xx/3xx or failed)');
  });

  it('reports an unreachable target as an error, quickly', async () => {
    const port = await freePort();
    const out = await run({ url: `http://127.0.0.1:${port}/`, connections: 3, duration: '5s' });
    expect(out.status).toBe('error');
    expect(out.detail).toBe(`connection refused to 127.0.0.1:${port}`);
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ url: 'http://169.254.169.254/', requests: 10 });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('169.254.169.254 is a link-local / cloud-metadata address');
  });

  it('reports an error when the timeout hits before any response', async () => {
    const out = await run(
      { url: `${base}/hang`, connections: 2, duration: '10s' },
      makeContext({ timeoutMs: 300 }),
    );
    expect(out.status).toBe('error');
    expect(out.detail).toBe('timed out after 300 ms');
  });

  it('counts requests left unanswered after the drain period as failed', async () => {
    const out = await run(
      { url: `${base}/hang`, connections: 2, duration: '200ms' },
      makeContext({ timeoutMs: 3000 }),
    );
    expect(out.status).toBe('error');
    expect(out.detail).toBe('2 requests still unanswered 500ms after the run ended');
    expect(out.metrics).toMatchObject({ requests: 2, errors: 2, errorRate: 1 });
  });

  it('stops when cancelled and reports what it measured', async () => {
    hits = 0;
    const controller = new AbortController();
    cancelAfter = { controller, after: 50 };
    try {
      const out = await run(
        { url: `${base}/`, connections: 2, duration: '20s' },
        makeContext({ timeoutMs: 30_000, signal: controller.signal }),
      );
      expect(out.status).toBe('pass');
      expect(out.detail).toBe('stopped early: cancelled');
      expect(out.metrics!.requests).toBeGreaterThanOrEqual(48);
      expect(out.metrics!.requests).toBeLessThan(1000);
    } finally {
      cancelAfter = undefined;
    }
  });

  it('shortens the duration to fit the timeout and says so', async () => {
    const out = await run(
      { url: `${base}/`, connections: 1, duration: '1m' },
      makeContext({ timeoutMs: 1500 }),
    );
    expect(out.status).toBe('pass');
    expect(out.detail).toBe('ran 500ms instead of 1m to fit the 1.5s timeout');
  });

  describe('over https', () => {
    let tlsServer: https.Server;
    let ca: KeyAndCert;
    let tlsBase: string;

    beforeAll(async () => {
      ca = await makeCa();
      tlsServer = https.createServer(await makeCert({ ca }), (_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
      tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      tlsServer.closeAllConnections();
      await new Promise((resolve) => tlsServer.close(resolve));
    });

    it('trusts the checklist CA', async () => {
      const out = await run(
        { url: `${tlsBase}/`, connections: 2, requests: 20 },
        makeContext({ tls: { ca: ca.cert, rejectUnauthorized: true } }),
      );
      expect(out.status).toBe('pass');
      expect(out.metrics!.requests).toBe(20);
    });

    it('reports an untrusted certificate as an error', async () => {
      const out = await run({ url: `${tlsBase}/`, connections: 2, requests: 20 });
      expect(out.status).toBe('error');
      expect(out.detail).toMatch(
        /^certificate of 127\.0\.0\.1:\d+ rejected: unable to verify the first certificate/,
      );
    });
  });

  it('validates params strictly', () => {
    expect(load.params.safeParse({ url: 'http://x/', rate: 5, ratePerMinute: 300 }).success).toBe(false);
    expect(load.params.safeParse({ url: 'http://x/', connection: 5 }).success).toBe(false);
    expect(load.params.safeParse({ url: 'http://x/', thresholds: { maxErrorRate: 2 } }).success).toBe(false);
    expect(load.params.parse({ url: 'http://x/', duration: '10s', connections: 100 })).toMatchObject({
      duration: 10_000,
      connections: 100,
      thresholds: { maxErrorRate: 0.01 },
    });
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import latency from '../../../src/checks/latency.js';
import type { CheckContext } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

type Input = Parameters<typeof latency.params.parse>[0];

function run(input: Input, ctx: CheckContext = makeContext()) {
  return latency.run(latency.params.parse(input), ctx);
}

describe('latency', () => {
  let server: http.Server;
  let base: string;
  let flakyHits = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') {
        setTimeout(() => res.end('slow'), 30);
      } else if (req.url === '/500') {
        res.statusCode = 500;
        res.end('boom');
      } else if (req.url === '/flaky') {
        flakyHits += 1;
        res.statusCode = flakyHits % 5 === 0 ? 503 : 200;
        res.end();
      } else if (req.url === '/hang') {
        // Never answers: only the probe's signal can end the request.
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

  it('passes within generous thresholds and reports percentiles', async () => {
    const out = await run({ url: `${base}/`, samples: 10, thresholds: { p95: '5s', max: '10s' } });
    expect(out.status).toBe('pass');
    expect(out.observed).toMatch(
      /^p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms \(10 samples\)$/,
    );
    expect(out.expected).toBe('2xx/3xx responses, p95 ≤ 5000 ms, max ≤ 10000 ms');
    expect(out.metrics).toMatchObject({ samples: 10, errors: 0 });
    const m = out.metrics!;
    expect(m.min).toBeGreaterThan(0);
    expect(m.min).toBeLessThanOrEqual(m.p50!);
    expect(m.p50).toBeLessThanOrEqual(m.p95!);
    expect(m.p95).toBeLessThanOrEqual(m.max!);
  });

  it('fails naming the threshold exceeded', async () => {
    const out = await run({ url: `${base}/slow`, samples: 4, warmup: 0, thresholds: { p50: '5ms' } });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/^p50 [\d.]+ ms > 5 ms$/);
    expect(out.metrics!.p50).toBeGreaterThanOrEqual(29);
  });

  it('runs samples concurrently and still counts each once', async () => {
    const out = await run({ url: `${base}/`, samples: 25, warmup: 3, concurrency: 4 });
    expect(out.status).toBe('pass');
    expect(out.metrics).toMatchObject({ samples: 25, errors: 0 });
  });

  it('reports an error when most samples get an unexpected status', async () => {
    const out = await run({ url: `${base}/500`, samples: 5 });
    expect(out.status).toBe('error');
    expect(out.detail).toBe('5 of 5 samples failed: status 500');
    expect(out.metrics).toMatchObject({ errors: 5, samples: 0 });
  });

  it('accepts the statuses given by expectStatus', async () => {
    const out = await run({ url: `${base}/500`, samples: 3, expectStatus: [500, 503] });
    expect(out.status).toBe('pass');
    expect(out.expected).toBe('500/503 responses');
  });

  it('fails when a few samples error and maxErrors is exceeded, passes when tolerated', async () => {
    flakyHits = 0;
    const strict = await run({ url: `${base}/flaky`, samples: 10, warmup: 0 });
    expect(strict.status).toBe('fail');
    expect(strict.detail).toBe('2 of 10 samples failed: status 503');
    expect(strict.observed).toContain('(8 samples, 2 errors)');
    flakyHits = 0;
    const tolerant = await run({ url: `${base}/flaky`, samples: 10, warmup: 0, maxErrors: 2 });
    expect(tolerant.status).toBe('pass');
  });

  it('reports a refused connection as an error without retrying forever', async () => {
    const port = await freePort();
    const out = await run({ url: `http://127.0.0.1:${port}/`, samples: 50 });
    expect(out.status).toBe('error');
    expect(out.detail).toBe(`3 of 3 samples failed: connection refused to 127.0.0.1:${port}`);
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ url: 'http://169.254.169.254/latest/meta-data/' });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('169.254.169.254 is a link-local / cloud-metadata address');
  });

  it('stops at the timeout and says so', async () => {
    const out = await run({ url: `${base}/hang`, samples: 3 }, makeContext({ timeoutMs: 300 }));
    expect(out.status).toBe('error');
    expect(out.detail).toBe('timed out after 300 ms after 0 of 3 samples');
  });

  it('validates params strictly', () => {
    expect(latency.params.safeParse({ url: 'http://x/', samples: 1001 }).success).toBe(false);
    expect(latency.params.safeParse({ url: 'http://x/', sampels: 5 }).success).toBe(false);
    expect(latency.params.safeParse({ url: 'ftp://x/' }).success).toBe(false);
    expect(latency.params.safeParse({ url: 'http://x/', thresholds: { p95: 'fast' } }).success).toBe(false);
    const p = latency.params.parse({ url: 'http://x/', thresholds: { p95: '25ms' } });
    expect(p).toMatchObject({
      samples: 20,
      warmup: 2,
      concurrency: 1,
      method: 'GET',
      thresholds: { p95: 25 },
    });
  });
});

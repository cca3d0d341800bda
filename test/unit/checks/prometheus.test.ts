import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import prometheus, { parseSampleValue } from '../../../src/checks/prometheus.js';
import type { CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

/** Answers /api/v1/query like Prometheus for a few canned queries. */
function fakePrometheus(): http.Server {
  const vector = (series: Array<[Record<string, string>, string]>) => ({
    status: 'success',
    data: {
      resultType: 'vector',
      result: series.map(([metric, v]) => ({ metric, value: [1700000000.123, v] })),
    },
  });
  const answers: Record<string, [number, unknown]> = {
    error_rate: [200, vector([[{ __name__: 'error_rate', job: 'api' }, '0.0004']])],
    error_rate_by_job: [
      200,
      vector([
        [{ job: 'api' }, '0.0004'],
        [{ job: 'worker' }, '0.02'],
        [{ job: 'cron' }, '0.05'],
      ]),
    ],
    up: [
      200,
      vector([
        [{ job: 'api', instance: 'a:9100' }, '1'],
        [{ job: 'api', instance: 'b:9100' }, '1'],
      ]),
    ],
    weird: [
      200,
      vector([
        [{ job: 'a' }, 'NaN'],
        [{ job: 'b' }, '+Inf'],
      ]),
    ],
    'scalar(1)': [200, { status: 'success', data: { resultType: 'scalar', result: [1700000000, '1'] } }],
    absent_metric: [200, { status: 'success', data: { resultType: 'vector', result: [] } }],
    'up[5m]': [200, { status: 'success', data: { resultType: 'matrix', result: [] } }],
    'sum(': [
      400,
      { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unclosed left parenthesis' },
    ],
  };
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/secured/api/v1/query' && req.headers.authorization !== 'Bearer PROM-SECRET') {
      res.writeHead(401).end('unauthorized');
      return;
    }
    if (url.pathname !== '/api/v1/query' && url.pathname !== '/secured/api/v1/query') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
      return;
    }
    const [status, body] = answers[url.searchParams.get('query') ?? ''] ?? [
      422,
      { status: 'error', errorType: 'execution', error: 'unknown query in fake' },
    ];
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
}

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = fakePrometheus();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const run = (params: Record<string, unknown>, timeoutMs = 5_000): Promise<CheckOutcome> =>
  prometheus.run(prometheus.params.parse({ url: base, ...params }), makeContext({ timeoutMs }));

describe('prometheus probe', () => {
  it('passes when the single series is within the threshold', async () => {
    const out = await run({ query: 'error_rate', threshold: { lt: 0.001 } });
    expect(out).toMatchObject({
      status: 'pass',
      observed: '0.0004 (job=api)',
      expected: 'every series < 0.001',
    });
    expect(out.metrics).toEqual({ value: 0.0004, series: 1, failingSeries: 0 });
  });

  it('fails listing every series outside the threshold', async () => {
    const out = await run({ query: 'error_rate_by_job', threshold: { lte: 0.01 } });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe('0.02 (job=worker) (+2 more series)');
    expect(out.detail).toBe('2 of 3 series outside: 0.02 (job=worker); 0.05 (job=cron)');
    expect(out.metrics).toMatchObject({ series: 3, failingSeries: 2 });
  });

  it('applies max/min/avg aggregates', async () => {
    const max = await run({ query: 'error_rate_by_job', threshold: { lt: 0.06 }, aggregate: 'max' });
    expect(max).toMatchObject({ status: 'pass', observed: 'max 0.05 over 3 series', expected: 'max < 0.06' });
    const avg = await run({ query: 'error_rate_by_job', threshold: { lt: 0.01 }, aggregate: 'avg' });
    expect(avg.status).toBe('fail');
    expect(avg.metrics?.value).toBeCloseTo(0.0234667, 6);
    expect(avg.detail).toBe('avg 0.0234667 is not < 0.01');
    const min = await run({ query: 'error_rate_by_job', threshold: { gte: 0.001 }, aggregate: 'min' });
    expect(min.status).toBe('fail');
  });

  it('combines bounds and handles eq, scalars, NaN and +Inf', async () => {
    expect((await run({ query: 'up', threshold: { eq: 1 } })).status).toBe('pass');
    expect((await run({ query: 'scalar(1)', threshold: { gt: 0, lt: 2 } })).observed).toBe('1');
    const weird = await run({ query: 'weird', threshold: { lt: 1 } });
    expect(weird.status).toBe('fail');
    expect(weird.detail).toBe('2 of 2 series outside: NaN (job=a); Infinity (job=b)');
    expect(parseSampleValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
  });

  it('treats an empty result as configured', async () => {
    const byDefault = await run({ query: 'absent_metric', threshold: { lt: 1 } });
    expect(byDefault).toMatchObject({ status: 'fail', detail: 'query returned no data' });
    expect((await run({ query: 'absent_metric', threshold: { lt: 1 }, emptyResult: 'pass' })).status).toBe(
      'pass',
    );
    expect((await run({ query: 'absent_metric', threshold: { lt: 1 }, emptyResult: 'error' })).status).toBe(
      'error',
    );
  });

  it("is an error carrying Prometheus's own message for a bad query", async () => {
    const out = await run({ query: 'sum(', threshold: { lt: 1 } });
    expect(out).toMatchObject({
      status: 'error',
      detail: 'query failed: bad_data: 1:5: parse error: unclosed left parenthesis',
    });
  });

  it('refuses range vectors', async () => {
    const out = await run({ query: 'up[5m]', threshold: { lt: 1 } });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('range vector');
  });

  it('sends headers, and never prints them when they are rejected', async () => {
    const ok = await run({
      url: `${base}/secured`,
      query: 'up',
      threshold: { eq: 1 },
      headers: { authorization: 'Bearer PROM-SECRET' },
    });
    expect(ok.status).toBe('pass');
    const denied = await run({
      url: `${base}/secured/`,
      query: 'up',
      threshold: { eq: 1 },
      headers: { authorization: 'Bearer WRONG-SECRET' },
    });
    expect(denied).toMatchObject({ status: 'error', detail: 'Prometheus answered 401: check headers' });
    expect(JSON.stringify(denied)).not.toContain('SECRET');
  });

  it('is an error when the URL is not a Prometheus API', async () => {
    const out = await run({ url: `${base}/not-prom/x`, query: 'up', threshold: { eq: 1 } });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('without a JSON body');
  });

  it('is an error when Prometheus is unreachable, never answers, or is a metadata address', async () => {
    const closed = await run({
      url: `http://127.0.0.1:${await freePort()}`,
      query: 'up',
      threshold: { eq: 1 },
    });
    expect(closed.status).toBe('error');
    expect(closed.detail).toMatch(/unreachable: .*ECONNREFUSED/);

    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const hung = await run({ url: `http://127.0.0.1:${port}`, query: 'up', threshold: { eq: 1 } }, 300);
      expect(hung).toMatchObject({
        status: 'error',
        detail: 'Prometheus unreachable: timed out after 300 ms',
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }

    const metadata = await run({ url: 'http://169.254.169.254', query: 'up', threshold: { eq: 1 } });
    expect(metadata.status).toBe('error');
    expect(metadata.detail).toContain('link-local');
  });

  it('rejects a threshold without bounds and unknown fields', () => {
    expect(prometheus.params.safeParse({ url: base, query: 'up', threshold: {} }).success).toBe(false);
    expect(
      prometheus.params.safeParse({ url: base, query: 'up', threshold: { lt: 1 }, typo: 1 }).success,
    ).toBe(false);
  });
});

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoTarget } from '../../../examples/demo-target/server.js';
import { freePort } from '../../../scripts/test-services.js';
import compression from '../../../src/checks/compression.js';
import exposed from '../../../src/checks/exposed.js';
import headers from '../../../src/checks/headers.js';
import httpCheck, { describeStatus, statusMatches } from '../../../src/checks/http.js';
import { evaluateJsonPath, parseJsonPath } from '../../../src/checks/json-path.js';
import rateLimit from '../../../src/checks/rate-limit.js';
import redirect from '../../../src/checks/redirect.js';
import type { CheckContext, CheckDefinition, CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { makeCert } from '../../helpers/tls-cert.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: http.Server[] = [];

async function serve(handler: Handler, server: http.Server = http.createServer()): Promise<string> {
  server.on('request', handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const run = (params: unknown, ctx: CheckContext = makeContext()): Promise<CheckOutcome> =>
  httpCheck.run(httpCheck.params.parse(params), ctx);

const health = {
  status: 'ok',
  version: '1.4.2',
  uptime: 42,
  checks: [
    { name: 'db', ok: true },
    { name: 'cache', ok: true },
  ],
};

describe('json-path', () => {
  it('selects keys, quoted keys, indexes (negative too) and wildcards', () => {
    const doc = { a: { 'b c': [1, 2, 3] }, list: [{ x: 1 }, { x: 2 }] };
    expect(evaluateJsonPath(doc, parseJsonPath('$'))).toEqual([doc]);
    expect(evaluateJsonPath(doc, parseJsonPath("$.a['b c'][0]"))).toEqual([1]);
    expect(evaluateJsonPath(doc, parseJsonPath('$.a["b c"][-1]'))).toEqual([3]);
    expect(evaluateJsonPath(doc, parseJsonPath('$.list[*].x'))).toEqual([1, 2]);
    expect(evaluateJsonPath(doc, parseJsonPath('$.list.*.x'))).toEqual([1, 2]);
    expect(evaluateJsonPath(doc, parseJsonPath('$.nope.deeper'))).toEqual([]);
    expect(evaluateJsonPath(doc, parseJsonPath('$.list[5]'))).toEqual([]);
  });

  it('rejects malformed paths with the position', () => {
    expect(() => parseJsonPath('status')).toThrow(/must start with "\$"/);
    expect(() => parseJsonPath('$.')).toThrow(/expected a key after "\." at position 1/);
    expect(() => parseJsonPath("$['open")).toThrow(/unterminated/);
    expect(() => parseJsonPath('$[x]')).toThrow(/expected a number, \* or a quoted key/);
  });
});

describe('status specs', () => {
  it('matches codes, classes and lists', () => {
    expect(statusMatches('2xx', 204)).toBe(true);
    expect(statusMatches('2xx', 301)).toBe(false);
    expect(statusMatches([200, '3xx'], 308)).toBe(true);
    expect(statusMatches(200, 201)).toBe(false);
    expect(describeStatus([200, 204])).toBe('200 or 204');
  });
});

describe('http params', () => {
  it('defaults to GET expecting a 2xx', () => {
    const p = httpCheck.params.parse({ url: 'https://x.test/health' });
    expect(p.method).toBe('GET');
    expect(p.expect.status).toBe('2xx');
    expect(p.maxBodyBytes).toBe(1024 * 1024);
  });

  it('rejects typos, bad paths, bad regexes and body with json', () => {
    expect(httpCheck.params.safeParse({ url: 'https://x.test', expct: {} }).success).toBe(false);
    expect(httpCheck.params.safeParse({ url: 'ftp://x.test' }).success).toBe(false);
    expect(
      httpCheck.params.safeParse({ url: 'https://x.test', expect: { json: [{ path: 'status' }] } }).success,
    ).toBe(false);
    expect(
      httpCheck.params.safeParse({ url: 'https://x.test', expect: { body: { matches: '(' } } }).success,
    ).toBe(false);
    expect(httpCheck.params.safeParse({ url: 'https://x.test', body: 'a', json: {} }).success).toBe(false);
    expect(httpCheck.params.safeParse({ url: 'https://x.test', expect: { status: '2XX' } }).success).toBe(
      true,
    );
    expect(httpCheck.params.safeParse({ url: 'https://{{baseUrl}}/health' }).success).toBe(true);
  });
});

describe('http probe', () => {
  it('passes when status, headers, body and JSON assertions all hold', async () => {
    const url = await serve((_req, res) => sendJson(res, 200, health, { 'x-request-id': 'abc' }));
    const out = await run({
      url: `${url}/health`,
      expect: {
        status: [200, 204],
        headers: {
          'content-type': { contains: 'JSON' },
          'x-request-id': 'abc',
          'x-powered-by': { absent: true },
        },
        body: { contains: '"ok"', notContains: 'error', matches: 'version' },
        json: [
          { path: '$.status', equals: 'ok' },
          { path: '$.checks[*].ok', equals: true },
          { path: '$.uptime', gt: 0, lte: 100 },
          { path: "$['version']", matches: '^1\\.' },
          { path: '$.checks[0]', equals: { ok: true, name: 'db' } },
          { path: '$.debug', exists: false },
          { path: '$.checks' },
        ],
      },
    });
    expect(out.status).toBe('pass');
    expect(out.observed).toMatch(/^200 in [\d.]+ ms$/);
    expect(out.expected).toBe('status 200 or 204, 3 header checks, 3 body checks, 7 JSON assertions');
    expect(out.metrics).toMatchObject({ status: 200, bodyBytes: JSON.stringify(health).length });
  });

  it('fails on a wrong status, naming it', async () => {
    const url = await serve((_req, res) => sendJson(res, 503, { status: 'down' }));
    const out = await run({ url });
    expect(out).toMatchObject({
      status: 'fail',
      observed: '503',
      expected: 'status 2xx',
      detail: 'status was 503',
    });
  });

  it('does not follow redirects and shows the Location', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(301, { location: '/elsewhere' });
      res.end();
    });
    const out = await run({ url: `${url}/start`, expect: { status: 200 } });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe(`301 → ${url}/elsewhere`);
    expect(out.detail).toMatch(/redirects are not followed/);
    const ok = await run({ url: `${url}/start`, expect: { status: '3xx' } });
    expect(ok.status).toBe('pass');
    expect(ok.observed).toMatch(/^301 → /);
  });

  it('names the first failing JSON assertion and the observed value', async () => {
    const url = await serve((_req, res) => sendJson(res, 200, { ...health, status: 'degraded' }));
    const out = await run({
      url,
      expect: {
        json: [
          { path: '$.uptime', gte: 1 },
          { path: '$.status', equals: 'ok' },
        ],
      },
    });
    expect(out).toMatchObject({
      status: 'fail',
      observed: '$.status = "degraded"',
      expected: '$.status equals "ok"',
      detail: '$.status is "degraded", expected "ok"',
    });
  });

  it('requires every wildcard match to pass', async () => {
    const body = {
      ...health,
      checks: [
        { name: 'db', ok: true },
        { name: 'cache', ok: false },
      ],
    };
    const url = await serve((_req, res) => sendJson(res, 200, body));
    const out = await run({ url, expect: { json: [{ path: '$.checks[*].ok', equals: true }] } });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe('$.checks[*].ok = false');
  });

  it('fails on missing paths, non-numbers for bounds and present-but-forbidden values', async () => {
    const url = await serve((_req, res) => sendJson(res, 200, health));
    const missing = await run({ url, expect: { json: [{ path: '$.db.latency', lt: 100 }] } });
    expect(missing).toMatchObject({
      status: 'fail',
      observed: '$.db.latency missing',
      detail: 'nothing at $.db.latency',
    });
    const notNumber = await run({ url, expect: { json: [{ path: '$.version', gt: 1 }] } });
    expect(notNumber.detail).toBe('$.version is "1.4.2", not a number');
    const present = await run({ url, expect: { json: [{ path: '$.uptime', exists: false }] } });
    expect(present).toMatchObject({ status: 'fail', detail: '$.uptime exists but should not' });
    const notEquals = await run({ url, expect: { json: [{ path: '$.status', notEquals: 'ok' }] } });
    expect(notEquals.status).toBe('fail');
  });

  it('fails clearly when JSON assertions meet a body that is not JSON', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body>maintenance</body></html>');
    });
    const out = await run({ url, expect: { json: [{ path: '$.status', equals: 'ok' }] } });
    expect(out.status).toBe('fail');
    expect(out.expected).toBe('a JSON body');
    expect(out.detail).toMatch(/^body is not JSON \(/);
    expect(out.observed).toMatch(/^body "<!doctype html>/);
  });

  it('fails body assertions with the observed text', async () => {
    const url = await serve((_req, res) => res.end('all systems nominal, error budget 98%'));
    const contains = await run({ url, expect: { body: { contains: 'healthy' } } });
    expect(contains).toMatchObject({ status: 'fail', detail: 'body does not contain "healthy"' });
    const notContains = await run({ url, expect: { body: { notContains: 'error' } } });
    expect(notContains).toMatchObject({ status: 'fail', detail: 'body contains "error"' });
    const matches = await run({ url, expect: { body: { matches: '^ok$' } } });
    expect(matches).toMatchObject({ status: 'fail', detail: 'body does not match /^ok$/' });
  });

  it('fails header assertions and withholds secret-looking values', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'x-powered-by': 'Express', 'set-cookie': 'sid=s3cr3t-value; Path=/' });
      res.end('ok');
    });
    const absent = await run({ url, expect: { headers: { 'X-Powered-By': { absent: true } } } });
    expect(absent).toMatchObject({
      status: 'fail',
      observed: 'X-Powered-By: "Express"',
      detail: 'X-Powered-By is present ("Express"), expected absent',
    });
    const cookie = await run({ url, expect: { headers: { 'set-cookie': { contains: 'Secure' } } } });
    expect(cookie.status).toBe('fail');
    expect(JSON.stringify(cookie)).not.toContain('s3cr3t');
    expect(cookie.observed).toBe('set-cookie: (value withheld)');
    const missing = await run({ url, expect: { headers: { 'cache-control': 'no-store' } } });
    expect(missing.detail).toBe('cache-control missing (expected "no-store")');
  });

  it('sends method, headers and a JSON body', async () => {
    const url = await serve((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () =>
        sendJson(res, 201, {
          method: req.method,
          type: req.headers['content-type'],
          token: req.headers['x-token'],
          got: JSON.parse(raw),
        }),
      );
    });
    const out = await run({
      url,
      method: 'POST',
      headers: { 'x-token': 't1' },
      json: { a: [1, 2] },
      expect: {
        status: 201,
        json: [
          { path: '$.method', equals: 'POST' },
          { path: '$.type', equals: 'application/json' },
          { path: '$.token', equals: 't1' },
          { path: '$.got.a[1]', equals: 2 },
        ],
      },
    });
    expect(out.status).toBe('pass');
  });

  it('caps the body: an endless response ends, and JSON over the cap is reported as such', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, ' ');
      res.write('{"a":');
      const pump = (): void => {
        while (res.write(chunk)) {
          // fill the socket buffer, then wait for drain
        }
        res.once('drain', pump);
      };
      pump();
      res.on('close', () => res.removeAllListeners('drain'));
    });
    const out = await run({
      url,
      maxBodyBytes: 64 * 1024,
      expect: { json: [{ path: '$.a', exists: true }] },
    });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/larger than maxBodyBytes \(65536 bytes read\)/);
    expect(out.metrics?.bodyBytes).toBe(64 * 1024);
  });

  it('warns when the response is slower than maxMs', async () => {
    const url = await serve((_req, res) => res.end('ok'));
    const out = await run({ url, expect: { maxMs: 0 } });
    expect(out.status).toBe('warn');
    expect(out.detail).toMatch(/over maxMs 0 ms/);
  });

  it('works over https with a trusted CA and errors on an untrusted certificate', async () => {
    const { key, cert } = await makeCert();
    const url = await serve((_req, res) => sendJson(res, 200, health), https.createServer({ key, cert }));
    const trusted = await run(
      { url, expect: { json: [{ path: '$.status', equals: 'ok' }] } },
      makeContext({ tls: { ca: cert, rejectUnauthorized: true } }),
    );
    expect(trusted.status).toBe('pass');
    const untrusted = await run({ url });
    expect(untrusted.status).toBe('error');
    expect(untrusted.detail).toBe('certificate of 127.0.0.1 is self-signed and not trusted');
  });
});

describe('http probe errors', () => {
  it('reports a refused connection', async () => {
    const port = await freePort();
    const out = await run({ url: `http://127.0.0.1:${port}/` });
    expect(out).toMatchObject({
      status: 'error',
      observed: 'no response',
      detail: `connection refused to 127.0.0.1:${port}`,
    });
  });

  it('reports a DNS failure', async () => {
    const out = await run({ url: 'http://nope.invalid/' });
    expect(out).toMatchObject({ status: 'error', detail: 'DNS lookup failed for nope.invalid' });
  });

  it('reports a timeout when the server never answers', async () => {
    const url = await serve(() => {
      // never respond
    });
    const out = await run({ url }, makeContext({ timeoutMs: 300 }));
    expect(out).toMatchObject({ status: 'error', detail: 'timed out after 300 ms' });
  });

  it('reports a timeout when the body stalls after the headers', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });
    const out = await run(
      { url, expect: { json: [{ path: '$.status', equals: 'ok' }] } },
      makeContext({ timeoutMs: 300 }),
    );
    expect(out).toMatchObject({ status: 'error', detail: 'timed out after 300 ms' });
  });

  it('reports a connection closed mid-request', async () => {
    const url = await serve((req) => req.socket.destroy());
    const out = await run({ url });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^connection to 127\.0\.0\.1:\d+ closed before a complete response$/);
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ url: 'http://169.254.169.254/latest/meta-data/' });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^refused: 169\.254\.169\.254 is a link-local/);
  });

  it('errors on a URL still holding a placeholder', async () => {
    const out = await run({ url: 'https://{{baseUrl}}/health' });
    expect(out).toMatchObject({
      status: 'error',
      detail: 'URL still holds a placeholder: https://{{baseUrl}}/health',
    });
  });
});

describe('HTTP-family probes against the demo target', () => {
  async function runAll(profile: 'healthy' | 'misconfigured'): Promise<Record<string, CheckOutcome>> {
    const target = await startDemoTarget({ profile });
    try {
      const ctx = (): CheckContext => makeContext({ tls: { ca: target.certPem, rejectUnauthorized: true } });
      const probe = (def: CheckDefinition, params: unknown): Promise<CheckOutcome> =>
        def.run(def.params.parse(params), ctx());
      const base = target.httpsUrl;
      return {
        http: await probe(httpCheck, {
          url: `${base}/health`,
          expect: { status: 200, json: [{ path: '$.status', equals: 'ok' }] },
        }),
        redirect: await probe(redirect, { url: `${target.httpUrl}/`, expect: { status: [301, 308] } }),
        headers: await probe(headers, {
          url: `${base}/`,
          forbid: ['X-Powered-By'],
          cookies: { url: `${base}/login`, names: ['sid'], require: { sameSite: 'any' } },
        }),
        compression: await probe(compression, { url: `${base}/api/companies/1/agents` }),
        exposed: await probe(exposed, { baseUrl: base }),
        rateLimit: await probe(rateLimit, { url: `${base}/api/public/status`, limit: 50, window: '60s' }),
      };
    } finally {
      await target.close();
    }
  }

  it('passes every probe on the healthy profile and fails every one on the misconfigured one', async () => {
    const healthy = await runAll('healthy');
    for (const [name, out] of Object.entries(healthy))
      expect({ name, status: out.status, detail: out.detail }).toMatchObject({ name, status: 'pass' });
    const broken = await runAll('misconfigured');
    for (const [name, out] of Object.entries(broken))
      expect({ name, status: out.status }).toEqual({ name, status: 'fail' });
    expect(broken.exposed?.observed).toMatch(/\/\.env/);
    expect(broken.redirect?.observed).toBe('200 (no redirect)');
  });
});

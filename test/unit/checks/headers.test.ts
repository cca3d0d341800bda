import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import headers from '../../../src/checks/headers.js';
import type { CheckContext, CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { type KeyAndCert, makeCert } from '../../helpers/tls-cert.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
let pems: KeyAndCert;

beforeAll(async () => {
  pems = await makeCert();
});

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function listen(server: http.Server, handler: Handler): Promise<string> {
  server.on('request', handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An https server answering every request with these headers. */
const serveHttps = (h: http.OutgoingHttpHeaders | Handler): Promise<string> =>
  listen(
    https.createServer({ key: pems.key, cert: pems.cert }),
    typeof h === 'function' ? h : respondWith(h),
  );

const serveHttp = (h: http.OutgoingHttpHeaders): Promise<string> =>
  listen(http.createServer(), respondWith(h));

function respondWith(h: http.OutgoingHttpHeaders): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', ...h });
    res.end('<!doctype html><title>app</title>');
  };
}

const trusted = (): CheckContext => makeContext({ tls: { ca: pems.cert, rejectUnauthorized: true } });
const run = (params: unknown, ctx: CheckContext = trusted()): Promise<CheckOutcome> =>
  headers.run(headers.params.parse(params), ctx);

const SECURE: http.OutgoingHttpHeaders = {
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'content-security-policy': "default-src 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

function without(name: string): http.OutgoingHttpHeaders {
  const { [name]: _drop, ...rest } = SECURE;
  return rest;
}

describe('headers params', () => {
  it('defaults to the security preset with a 180-day HSTS floor', () => {
    const p = headers.params.parse({ url: 'https://x.test' });
    expect(p.preset).toBe('security');
    expect(p.hstsMinAge).toBe(15_552_000);
    expect(
      headers.params.safeParse({ url: 'https://x.test', forbid: [{ name: 'Server', matches: '(' }] }).success,
    ).toBe(false);
    expect(
      headers.params.safeParse({ url: 'https://x.test', cookies: { require: { sameSite: 'lax' } } }).success,
    ).toBe(false);
  });
});

describe('headers probe: security preset', () => {
  it('passes when every security header is right', async () => {
    const url = await serveHttps(SECURE);
    const out = await run({ url });
    expect(out).toMatchObject({
      status: 'pass',
      observed: '200; all header checks hold',
      expected: 'security headers',
    });
  });

  it('lists every missing header', async () => {
    const url = await serveHttps({});
    const out = await run({ url });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe(
      '200; wrong or missing: Strict-Transport-Security, Content-Security-Policy, X-Frame-Options, X-Content-Type-Options +1 more',
    );
    expect(out.detail).toBe(
      [
        'Strict-Transport-Security missing',
        'Content-Security-Policy missing',
        'X-Frame-Options missing (and no CSP frame-ancestors)',
        'X-Content-Type-Options missing',
        'Referrer-Policy missing',
      ].join('; '),
    );
    expect(out.metrics).toMatchObject({ problems: 5 });
  });

  it('fails a short HSTS max-age and refuses to judge HSTS over http', async () => {
    const short = await serveHttps({ ...SECURE, 'strict-transport-security': 'max-age=86400' });
    expect((await run({ url: short })).detail).toBe(
      'Strict-Transport-Security max-age=86400, expected ≥ 15552000',
    );
    expect((await run({ url: short, hstsMinAge: 3600 })).status).toBe('pass');

    const plain = await serveHttp(SECURE);
    const out = await run({ url: plain }, makeContext());
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/cannot be judged over http/);
  });

  it('accepts CSP frame-ancestors instead of X-Frame-Options, but not a wrong X-Frame-Options alone', async () => {
    const ancestors = await serveHttps({
      ...without('x-frame-options'),
      'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
    });
    expect((await run({ url: ancestors })).status).toBe('pass');
    const allowAll = await serveHttps({ ...SECURE, 'x-frame-options': 'ALLOWALL' });
    const out = await run({ url: allowAll });
    expect(out.detail).toBe('X-Frame-Options is "ALLOWALL", expected DENY or SAMEORIGIN');
  });

  it('treats report-only CSP and unsafe-url referrers as failures', async () => {
    const reportOnly = await serveHttps({
      ...without('content-security-policy'),
      'content-security-policy-report-only': "default-src 'self'",
    });
    expect((await run({ url: reportOnly })).detail).toMatch(/Report-Only is sent, which enforces nothing/);
    const unsafe = await serveHttps({ ...SECURE, 'referrer-policy': 'no-referrer, unsafe-url' });
    expect((await run({ url: unsafe })).detail).toMatch(/^Referrer-Policy is unsafe-url/);
    const fallback = await serveHttps({ ...SECURE, 'referrer-policy': 'unsafe-url, strict-origin' });
    expect((await run({ url: fallback })).status).toBe('pass');
  });

  it('fails a wrong nosniff value', async () => {
    const url = await serveHttps({ ...SECURE, 'x-content-type-options': 'sniff-away' });
    expect((await run({ url })).detail).toBe('X-Content-Type-Options is "sniff-away", expected nosniff');
  });
});

describe('headers probe: require, forbid, recommend', () => {
  it('fails forbidden headers, including a version-revealing Server', async () => {
    const url = await serveHttps({ ...SECURE, 'x-powered-by': 'Express', server: 'nginx/1.25.3' });
    const out = await run({ url, forbid: ['X-Powered-By', { name: 'Server', matches: '\\d' }] });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(
      'X-Powered-By is present ("Express"; forbidden); Server is present ("nginx/1.25.3"; forbidden: matches /\\d/)',
    );
    const bareServer = await serveHttps({ ...SECURE, server: 'nginx' });
    expect((await run({ url: bareServer, forbid: [{ name: 'Server', matches: '\\d' }] })).status).toBe(
      'pass',
    );
  });

  it('checks required headers without the preset', async () => {
    const url = await serveHttp({ 'cache-control': 'public, max-age=60', 'x-api-token': 'tok-123' });
    const ok = await run(
      { url, preset: 'none', require: { 'Cache-Control': { contains: 'max-age' } } },
      makeContext(),
    );
    expect(ok.status).toBe('pass');
    const bad = await run(
      { url, preset: 'none', require: { 'Cache-Control': 'no-store', 'X-Api-Token': { matches: '^key-' } } },
      makeContext(),
    );
    expect(bad.status).toBe('fail');
    expect(bad.detail).toContain('Cache-Control is "public, max-age=60", expected "no-store"');
    expect(JSON.stringify(bad)).not.toContain('tok-123');
  });

  it('warns when only recommended headers are missing', async () => {
    const url = await serveHttps(SECURE);
    const out = await run({ url, recommend: ['Permissions-Policy', 'Content-Security-Policy'] });
    expect(out).toMatchObject({
      status: 'warn',
      observed: '200; missing recommended: Permissions-Policy',
      detail: 'recommended header missing: Permissions-Policy',
    });
  });
});

describe('headers probe: cookies', () => {
  it('passes well-flagged cookies and ignores deletions', async () => {
    const url = await serveHttps({
      ...SECURE,
      'set-cookie': ['sid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax', 'old=; Max-Age=0; Path=/'],
    });
    const out = await run({ url, cookies: { require: { sameSite: 'Lax' } } });
    expect(out.status).toBe('pass');
  });

  it('names each cookie lacking flags and never shows values', async () => {
    const url = await serveHttps({
      ...SECURE,
      'set-cookie': [
        'sid=s3cr3t; Path=/; HttpOnly',
        'pref=dark; Path=/; Secure; SameSite=None',
        'x=y; Secure; SameSite=None; HttpOnly',
      ],
    });
    const out = await run({ url, cookies: { require: { sameSite: 'any' } } });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('cookie sid lacks Secure, SameSite; cookie pref lacks HttpOnly');
    expect(JSON.stringify(out)).not.toContain('s3cr3t');
    const lax = await run({ url, cookies: { names: ['x'], require: { sameSite: 'Strict' } } });
    expect(lax.detail).toBe('cookie x lacks SameSite=Strict (has SameSite=None)');
  });

  it('flags SameSite=None without Secure even when Secure is not required', async () => {
    const url = await serveHttps({ ...SECURE, 'set-cookie': 'c=1; HttpOnly; SameSite=None' });
    const out = await run({ url, cookies: { require: { secure: false, httpOnly: true } } });
    expect(out.detail).toBe('cookie c lacks Secure (SameSite=None requires it)');
  });

  it('inspects a separate login response, and fails when a named cookie is not set', async () => {
    const seen: string[] = [];
    const url = await serveHttps((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        const cookie =
          req.url === '/login' ? { 'set-cookie': 'session=s3cr3t; Secure; HttpOnly; SameSite=Strict' } : {};
        res.writeHead(200, { ...SECURE, ...cookie });
        res.end();
      });
    });
    const out = await run({ url, cookies: { url: `${url}/login`, body: 'user=probe', names: ['session'] } });
    expect(out.status).toBe('pass');
    expect(seen).toEqual(['GET / ', 'POST /login user=probe']);

    const missing = await run({ url, cookies: { names: ['session'] } });
    expect(missing).toMatchObject({ status: 'fail', detail: 'cookie session is not set' });
    const none = await run({ url, cookies: {} });
    expect(none.detail).toBe('no Set-Cookie in the response');
  });
});

describe('headers probe errors', () => {
  it('reports a refused connection', async () => {
    const port = await freePort();
    const out = await run({ url: `https://127.0.0.1:${port}/` });
    expect(out).toMatchObject({ status: 'error', detail: `connection refused to 127.0.0.1:${port}` });
  });

  it('reports a failed cookie request', async () => {
    const url = await serveHttps(SECURE);
    const port = await freePort();
    const out = await run({ url, cookies: { url: `http://127.0.0.1:${port}/login` } });
    expect(out).toMatchObject({
      status: 'error',
      detail: `cookie request failed: connection refused to 127.0.0.1:${port}`,
    });
  });

  it('refuses the metadata address', async () => {
    const out = await run({ url: 'http://169.254.169.254/' });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^refused: 169\.254\.169\.254 is a link-local/);
  });
});

import { X509Certificate } from 'node:crypto';
import { connect as connectHttp2 } from 'node:http2';
import { finished } from 'node:stream/promises';
import { connect as connectTls } from 'node:tls';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Agent, fetch, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoProfile, DemoTarget } from '../../examples/demo-target/server.js';
import { startDemoTarget } from '../../examples/demo-target/server.js';

// undici negotiates HTTP/2 by default, so `insecure` exercises the h2 path of the healthy profile;
// `http1` pins HTTP/1.1 for the cases that must be checked on both protocols.
const insecure = new Agent({ connect: { rejectUnauthorized: false } });
const http1 = new Agent({ allowH2: false, connect: { rejectUnauthorized: false } });

let healthy: DemoTarget;
let misconfigured: DemoTarget;

beforeAll(async () => {
  [healthy, misconfigured] = await Promise.all([
    startDemoTarget({ profile: 'healthy' }),
    startDemoTarget({ profile: 'misconfigured' }),
  ]);
});

afterAll(async () => {
  await Promise.all([insecure.destroy(), http1.destroy()]);
  await Promise.all([healthy?.close(), misconfigured?.close()]);
});

function target(profile: DemoProfile): DemoTarget {
  return profile === 'healthy' ? healthy : misconfigured;
}

async function get(url: string, headers: Record<string, string> = {}, dispatcher: Agent = insecure) {
  const res = await request(url, { dispatcher, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') };
}

function negotiatedAlpn(url: string): Promise<string | false> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTls(
      { host: hostname, port: Number(port), ALPNProtocols: ['h2', 'http/1.1'], rejectUnauthorized: false },
      () => {
        resolve(socket.alpnProtocol ?? false);
        socket.destroy();
      },
    );
    socket.once('error', reject);
  });
}

async function timeRequest(url: string): Promise<number> {
  const started = performance.now();
  await get(url);
  return performance.now() - started;
}

describe('demo target: TLS', () => {
  it('issues a certificate valid for localhost and 127.0.0.1 that verifies when trusted', async () => {
    const cert = new X509Certificate(healthy.certPem);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const trusting = new Agent({ connect: { ca: healthy.certPem } });
    try {
      const res = await request(`${healthy.httpsUrl}/`, { dispatcher: trusting });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
    } finally {
      await trusting.destroy();
    }
  });

  it('negotiates h2 over ALPN only in the healthy profile', async () => {
    expect(await negotiatedAlpn(healthy.httpsUrl)).toBe('h2');
    expect(await negotiatedAlpn(misconfigured.httpsUrl)).toBe('http/1.1');
  });

  it('serves the app over a native HTTP/2 session when healthy', async () => {
    const session = connectHttp2(healthy.httpsUrl, { rejectUnauthorized: false });
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = session.request({ ':path': '/health' });
        stream.once('response', (h) => {
          resolve(h);
          stream.resume();
        });
        stream.once('error', reject);
        stream.end();
      });
      expect(headers[':status']).toBe(200);
      expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      session.destroy();
    }
  });
});

describe('demo target: HTTP listener', () => {
  it('redirects every request to HTTPS with 301 when healthy', async () => {
    const res = await get(`${healthy.httpUrl}/api/companies/acme/agents?page=2`);
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(`${healthy.httpsUrl}/api/companies/acme/agents?page=2`);
  });

  it('serves the app over plain HTTP when misconfigured', async () => {
    const res = await get(`${misconfigured.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('ClientsVia');
  });
});

describe('demo target: /health', () => {
  it('reports ok with 200 when healthy', async () => {
    const res = await get(`${healthy.httpsUrl}/health`);
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ status: 'ok', version: '1.4.2', checks: { mongodb: 'ok', redis: 'ok' } });
    expect(body.uptimeSec).toEqual(expect.any(Number));
  });

  it('reports degraded with 503 and redis down when misconfigured', async () => {
    const res = await get(`${misconfigured.httpsUrl}/health`);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.text)).toMatchObject({
      status: 'degraded',
      version: '1.4.2',
      checks: { mongodb: 'ok', redis: 'down' },
    });
  });
});

describe('demo target: security headers', () => {
  it.each([insecure, http1])(
    'sets the full set on healthy HTTPS responses (%#: h2 and HTTP/1.1)',
    async (agent) => {
      for (const path of ['/', '/health', '/does-not-exist']) {
        const { headers } = await get(`${healthy.httpsUrl}${path}`, {}, agent);
        expect(headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
        expect(headers['content-security-policy']).toBe("default-src 'self'");
        expect(headers['x-frame-options']).toBe('DENY');
        expect(headers['x-content-type-options']).toBe('nosniff');
        expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
        expect(headers['x-powered-by']).toBeUndefined();
      }
    },
  );

  it('omits HSTS and CSP and leaks X-Powered-By when misconfigured', async () => {
    const { headers } = await get(`${misconfigured.httpsUrl}/`);
    expect(headers['strict-transport-security']).toBeUndefined();
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers['x-powered-by']).toBe('Express');
    expect(headers['x-frame-options']).toBe('DENY');
  });
});

describe('demo target: session cookie', () => {
  async function loginCookies(profile: DemoProfile): Promise<string[]> {
    const post = await fetch(`${target(profile).httpsUrl}/api/login`, {
      dispatcher: insecure,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.com', password: 'x' }),
    });
    await post.arrayBuffer();
    const page = await fetch(`${target(profile).httpsUrl}/login`, { dispatcher: insecure });
    await page.arrayBuffer();
    expect([post.status, page.status]).toEqual([200, 200]);
    return [...post.headers.getSetCookie(), ...page.headers.getSetCookie()];
  }

  it('sets Secure, HttpOnly and SameSite when healthy', async () => {
    const cookies = await loginCookies('healthy');
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies)
      expect(cookie).toMatch(/^sid=[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
  });

  it('sets a bare cookie when misconfigured', async () => {
    const cookies = await loginCookies('misconfigured');
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies) expect(cookie).toMatch(/^sid=[\w-]+; Path=\/$/);
  });
});

describe('demo target: compression', () => {
  const agentsPath = '/api/companies/acme/agents';

  it.each([
    ['br', brotliDecompressSync],
    ['gzip', gunzipSync],
  ] as const)('honours Accept-Encoding %s for large bodies when healthy', async (encoding, decode) => {
    const plain = await get(`${healthy.httpsUrl}${agentsPath}`);
    const res = await get(`${healthy.httpsUrl}${agentsPath}`, { 'accept-encoding': `${encoding}, identity` });
    expect(res.headers['content-encoding']).toBe(encoding);
    expect(res.headers.vary).toBe('Accept-Encoding');
    expect(res.body.length).toBeLessThan(plain.body.length);
    expect(decode(res.body).toString('utf8')).toBe(plain.text);
  });

  it('prefers br, falls back to gzip when br is refused, and leaves small bodies alone', async () => {
    const both = await get(`${healthy.httpsUrl}${agentsPath}`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(both.headers['content-encoding']).toBe('br');
    const noBr = await get(`${healthy.httpsUrl}${agentsPath}`, { 'accept-encoding': 'br;q=0, gzip' });
    expect(noBr.headers['content-encoding']).toBe('gzip');
    const small = await get(`${healthy.httpsUrl}/health`, { 'accept-encoding': 'br, gzip' });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('never compresses when misconfigured', async () => {
    const res = await get(`${misconfigured.httpsUrl}${agentsPath}`, { 'accept-encoding': 'br, gzip' });
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.body.length).toBeGreaterThanOrEqual(1024);
  });
});

describe('demo target: cached query latency', () => {
  it('returns a ~2 KB JSON array of the company agents', async () => {
    const res = await get(`${healthy.httpsUrl}/api/companies/acme/agents`);
    expect(res.status).toBe(200);
    expect(res.body.length).toBeGreaterThan(1500);
    expect(res.body.length).toBeLessThan(3000);
    const agents = JSON.parse(res.text);
    expect(Array.isArray(agents)).toBe(true);
    for (const agent of agents) expect(agent.companyId).toBe('acme');
  });

  it('answers well under 25 ms when healthy and over 25 ms when misconfigured', async () => {
    const url = (t: DemoTarget) => `${t.httpsUrl}/api/companies/acme/agents`;
    // The first request pays for the TLS handshake; the minimum of a few warm requests is stable.
    await Promise.all([get(url(healthy)), get(url(misconfigured))]);
    const healthyTimes = [await timeRequest(url(healthy)), await timeRequest(url(healthy))];
    const slowTimes = [await timeRequest(url(misconfigured)), await timeRequest(url(misconfigured))];
    expect(Math.min(...healthyTimes)).toBeLessThan(25);
    expect(Math.min(...slowTimes)).toBeGreaterThanOrEqual(35);
  });
});

describe('demo target: rate limiting on /api/public/*', () => {
  it('allows 50 requests per window, then answers 429 with Retry-After until reset', async () => {
    healthy.resetRateLimits();
    const url = `${healthy.httpsUrl}/api/public/status`;
    for (let i = 1; i <= 50; i++) {
      const res = await get(url);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-remaining']).toBe(String(50 - i));
    }
    const limited = await get(url);
    expect(limited.status).toBe(429);
    expect(limited.headers['ratelimit-limit']).toBe('50');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-policy']).toBe('50;w=60');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(Number(limited.headers['ratelimit-reset'])).toBe(retryAfter);
    // Other endpoints are not limited.
    expect((await get(`${healthy.httpsUrl}/health`)).status).toBe(200);

    healthy.resetRateLimits();
    expect((await get(url)).status).toBe(200);
  });

  it('never limits when misconfigured', async () => {
    const url = `${misconfigured.httpsUrl}/api/public/status`;
    for (let i = 0; i < 60; i++) {
      const res = await get(url);
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });
});

describe('demo target: exposed files', () => {
  const files = [
    ['/.env', 'JWT_SECRET=short\nSKIP_AUTH=true'],
    ['/.git/HEAD', 'ref: refs/heads/main'],
    ['/static/app.js.map', '"version":3'],
  ] as const;

  it.each(files)('serves %s when misconfigured', async (path, content) => {
    const res = await get(`${misconfigured.httpsUrl}${path}`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(content);
  });

  it.each(files)('answers 404 for %s when healthy', async (path, content) => {
    const res = await get(`${healthy.httpsUrl}${path}`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(content);
  });
});

describe('demo target: /config/env.json', () => {
  const auth = { authorization: 'Bearer demo-config-token' };

  it.each(['healthy', 'misconfigured'] as const)('requires the bearer token (%s)', async (profile) => {
    const url = `${target(profile).httpsUrl}/config/env.json`;
    expect((await get(url)).status).toBe(401);
    expect((await get(url, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(url, auth)).status).toBe(200);
  });

  it('exposes a production-ready environment when healthy', async () => {
    const env = JSON.parse((await get(`${healthy.httpsUrl}/config/env.json`, auth)).text);
    expect(env.JWT_SECRET).toHaveLength(48);
    expect(env.SESSION_SECRET).toHaveLength(48);
    expect(env).toMatchObject({ SKIP_AUTH: 'false', COOKIE_SECURE: 'true', NODE_ENV: 'production' });
    for (const name of [
      'MONGODB_URI',
      'REDIS_URL',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'ELEVENLABS_API_KEY',
      'SENDGRID_API_KEY',
      'SENTRY_DSN',
    ]) {
      expect(env[name], name).toEqual(expect.stringMatching(/.+/));
    }
  });

  it('exposes a weak, auth-bypassing environment without Sentry when misconfigured', async () => {
    const env = JSON.parse((await get(`${misconfigured.httpsUrl}/config/env.json`, auth)).text);
    expect(env.JWT_SECRET).toHaveLength(12);
    expect(env).toMatchObject({ SKIP_AUTH: 'true', COOKIE_SECURE: 'false' });
    expect(env).not.toHaveProperty('SENTRY_DSN');
  });
});

describe('demo target: metrics', () => {
  it('serves Prometheus text exposition', async () => {
    const res = await get(`${healthy.httpsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^# TYPE http_requests_total counter$/m);
    expect(res.text).toMatch(/^http_requests_total \d+$/m);
    expect(res.text).toMatch(/^cache_hit_ratio 0\.91$/m);
  });

  it.each([
    ['sum(rate(http_errors_total[5m]))', '0.0004', '0.012'],
    ['avg(cache_hit_ratio)', '0.91', '0.55'],
    ['max(process_memory_utilization_ratio)', '0.42', '0.93'],
  ])('answers the instant query %s per profile', async (query, healthyValue, misconfiguredValue) => {
    for (const [t, expected] of [
      [healthy, healthyValue],
      [misconfigured, misconfiguredValue],
    ] as const) {
      const res = await get(`${t.httpsUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
      const body = JSON.parse(res.text);
      expect(body.status).toBe('success');
      expect(body.data.resultType).toBe('vector');
      const [sample] = body.data.result;
      expect(sample.metric).toEqual({});
      expect(sample.value[0]).toBeCloseTo(Date.now() / 1000, -1);
      expect(sample.value[1]).toBe(expected);
    }
  });

  it('accepts form-encoded POST queries and returns an empty vector for unknown ones', async () => {
    const res = await request(`${healthy.httpsUrl}/api/v1/query`, {
      dispatcher: insecure,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: 'up{job="unknown"}' }).toString(),
    });
    expect(await res.body.json()).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
  });
});

describe('demo target: hostile endpoints', () => {
  it('keeps /slow pending until the client gives up', async () => {
    const pending = fetch(`${healthy.httpsUrl}/slow`, {
      dispatcher: insecure,
      signal: AbortSignal.timeout(150),
    });
    await expect(pending).rejects.toThrow(/aborted|timeout/i);
  });

  it('streams /huge without end until the client cancels', async () => {
    const res = await fetch(`${healthy.httpsUrl}/huge`, { dispatcher: insecure });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 4 * 1024 * 1024) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      received += value?.length ?? 0;
    }
    await reader.cancel();
  });

  it('redirects /redirect-loop to itself', async () => {
    const res = await get(`${misconfigured.httpsUrl}/redirect-loop`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/redirect-loop');
  });
});

describe('demo target: close()', () => {
  it.each(['healthy', 'misconfigured'] as const)(
    'closes both listeners even with hanging requests open (%s)',
    async (profile) => {
      const t = await startDemoTarget({ profile });
      const agent = new Agent({ connect: { rejectUnauthorized: false } });
      try {
        const slow = request(`${t.httpsUrl}/slow`, { dispatcher: agent });
        const huge = await request(`${t.httpsUrl}/huge`, { dispatcher: agent });
        // The response head has arrived, so /huge is mid-stream when close() has to cut it.
        const hugeDone = finished(huge.body.resume());
        await t.close();
        await expect(slow).rejects.toThrow();
        await expect(hugeDone).rejects.toThrow();
        await expect(request(`${t.httpsUrl}/health`, { dispatcher: agent })).rejects.toThrow();
        await expect(request(`${t.httpUrl}/health`, { dispatcher: agent })).rejects.toThrow();
        await t.close();
      } finally {
        await agent.destroy();
      }
    },
  );
});

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import redirect from '../../../src/checks/redirect.js';
import type { CheckContext, CheckOutcome } from '../../../src/checks/types.js';
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

function redirectTo(res: http.ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location });
  res.end();
}

const run = (params: unknown, ctx: CheckContext = makeContext()): Promise<CheckOutcome> =>
  redirect.run(redirect.params.parse(params), ctx);

/** An https origin (trusted through ctx.tls.ca) answering 200, or `status` if given. */
async function httpsOrigin(status = 200): Promise<{ url: string; ctx: () => CheckContext }> {
  const { key, cert } = await makeCert();
  const url = await serve((_req, res) => {
    res.writeHead(status);
    res.end('hello');
  }, https.createServer({ key, cert }));
  return { url, ctx: () => makeContext({ tls: { ca: cert, rejectUnauthorized: true } }) };
}

describe('redirect params', () => {
  it('has defaults and rejects non-redirect statuses', () => {
    const p = redirect.params.parse({ url: 'http://x.test' });
    expect(p.expect).toEqual({ status: [301, 302, 307, 308], toScheme: 'https' });
    expect(p.maxHops).toBe(5);
    expect(redirect.params.safeParse({ url: 'http://x.test', expect: { status: [200] } }).success).toBe(
      false,
    );
    expect(redirect.params.safeParse({ url: 'http://x.test', hops: 3 }).success).toBe(false);
  });
});

describe('redirect probe', () => {
  it('passes for http → https with the expected status', async () => {
    const origin = await httpsOrigin();
    const start = await serve((req, res) => redirectTo(res, 301, `${origin.url}${req.url}`));
    const out = await run({ url: `${start}/login`, expect: { status: [301, 308] } }, origin.ctx());
    expect(out).toMatchObject({
      status: 'pass',
      observed: `301 → ${origin.url}/login → 200`,
      expected: '301 or 308 to https, ending below 400',
      metrics: { hops: 1, firstStatus: 301, finalStatus: 200 },
    });
  });

  it('follows several hops, resolving relative Locations', async () => {
    const origin = await httpsOrigin();
    const start = await serve((req, res) => {
      if (req.url === '/') redirectTo(res, 302, '/www');
      else redirectTo(res, 308, `${origin.url}/home`);
    });
    const out = await run({ url: `${start}/`, expect: { location: `${start}/w` } }, origin.ctx());
    expect(out.status).toBe('pass');
    expect(out.observed).toBe(`302 → ${start}/www → ${origin.url}/home → 200`);
    expect(out.metrics).toMatchObject({ hops: 2 });
  });

  it('fails when there is no redirect at all', async () => {
    const start = await serve((_req, res) => res.end('plain http content'));
    const out = await run({ url: start });
    expect(out).toMatchObject({ status: 'fail', observed: '200 (no redirect)' });
    expect(out.detail).toBe(`no redirect: ${start} answered 200, expected 301 or 302 or 307 or 308`);
  });

  it('fails on an unexpected first status', async () => {
    const origin = await httpsOrigin();
    const start = await serve((_req, res) => redirectTo(res, 302, `${origin.url}/`));
    const out = await run({ url: start, expect: { status: [301, 308] } }, origin.ctx());
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('first hop answered 302, expected 301 or 308');
  });

  it('fails when the first Location is not the expected one', async () => {
    const origin = await httpsOrigin();
    const start = await serve((_req, res) => redirectTo(res, 301, `${origin.url}/other`));
    const out = await run({ url: start, expect: { location: `${origin.url}/login` } }, origin.ctx());
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(`first Location is ${origin.url}/other, expected ${origin.url}/login`);
  });

  it('fails when the chain ends on http', async () => {
    const start = await serve((req, res) =>
      req.url === '/final' ? res.end('ok') : redirectTo(res, 301, '/final'),
    );
    const out = await run({ url: `${start}/` });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(`chain ends on ${start}/final, expected https`);
    const httpOk = await run({ url: `${start}/`, expect: { toScheme: 'http' } });
    expect(httpOk.status).toBe('pass');
  });

  it('fails when the chain ends on an error status or a redirect without Location', async () => {
    const origin = await httpsOrigin(404);
    const start = await serve((_req, res) => redirectTo(res, 301, `${origin.url}/gone`));
    const notFound = await run({ url: start }, origin.ctx());
    expect(notFound).toMatchObject({ status: 'fail', detail: `chain ends on 404 at ${origin.url}/gone` });

    const bare = await serve((_req, res) => {
      res.writeHead(301);
      res.end();
    });
    const noLocation = await run({ url: bare });
    expect(noLocation.status).toBe('fail');
    expect(noLocation.detail).toBe(`chain ends on 301 without a Location header at ${bare}`);
  });

  it('detects a redirect loop and names it', async () => {
    const start = await serve((req, res) => redirectTo(res, 301, req.url === '/a' ? '/b' : '/a'));
    const out = await run({ url: `${start}/a` });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(`redirect loop: ${start}/a → ${start}/b → ${start}/a`);
  });

  it('stops after maxHops', async () => {
    const start = await serve((req, res) => redirectTo(res, 302, `/${Number(req.url!.slice(1)) + 1}`));
    const out = await run({ url: `${start}/0`, maxHops: 3 });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/^more than 3 redirects: .*\/0 → .*\/1 → .*\/2 → .*\/3 → .*\/4$/);
    expect(out.metrics?.hops).toBe(4);
  });
});

describe('redirect probe errors', () => {
  it('reports a refused first hop', async () => {
    const port = await freePort();
    const out = await run({ url: `http://127.0.0.1:${port}/` });
    expect(out).toMatchObject({
      status: 'error',
      observed: 'no response',
      detail: `connection refused to 127.0.0.1:${port}`,
    });
  });

  it('names the hop that failed', async () => {
    const port = await freePort();
    const start = await serve((_req, res) => redirectTo(res, 301, `https://127.0.0.1:${port}/`));
    const out = await run({ url: start });
    expect(out.status).toBe('error');
    expect(out.observed).toBe(`301 → https://127.0.0.1:${port}/`);
    expect(out.detail).toBe(`connection refused to 127.0.0.1:${port} (at hop 2, https://127.0.0.1:${port}/)`);
  });

  it('refuses to follow a redirect to the metadata address', async () => {
    const start = await serve((_req, res) =>
      redirectTo(res, 302, 'http://169.254.169.254/latest/meta-data/'),
    );
    const out = await run({ url: start });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^refused: 169\.254\.169\.254 is a link-local .* \(at hop 2, /);
  });

  it('reports a timeout', async () => {
    const start = await serve(() => {
      // never respond
    });
    const out = await run({ url: start }, makeContext({ timeoutMs: 300 }));
    expect(out).toMatchObject({ status: 'error', detail: 'timed out after 300 ms' });
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import exposed, { DEFAULT_EXPOSED_PATHS } from '../../../src/checks/exposed.js';
import type { CheckContext, CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

type Route = { status: number; body?: string | Buffer; headers?: http.OutgoingHttpHeaders };

const servers: http.Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const SPA = '<!DOCTYPE html>\n<html><head><title>App</title></head><body><div id="root"></div></body></html>';

/** A site answering `routes` by path, and `fallback` for everything else. */
async function serve(
  routes: Record<string, Route>,
  fallback: Route = { status: 404, body: 'Not Found' },
): Promise<string> {
  const server = http.createServer((req, res) => {
    const route = routes[req.url ?? ''] ?? fallback;
    res.writeHead(route.status, route.headers ?? {});
    res.end(route.body ?? '');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const run = (params: unknown, ctx: CheckContext = makeContext()): Promise<CheckOutcome> =>
  exposed.run(exposed.params.parse(params), ctx);

const LEAKS: Record<string, Route> = {
  '/.env': { status: 200, body: '# prod\nDATABASE_URL=postgres://u:p@db/app\nexport JWT_SECRET=x\n' },
  '/.git/HEAD': { status: 200, body: 'ref: refs/heads/main\n' },
  '/static/app.js.map': { status: 200, body: '{"version":3,"sources":["app.ts"],"mappings":"AAAA"}' },
  '/.DS_Store': {
    status: 200,
    body: Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('Bud1'), Buffer.alloc(32)]),
  },
};

describe('exposed params', () => {
  it('has a default path list and default allowed statuses', () => {
    const p = exposed.params.parse({ baseUrl: 'https://x.test' });
    expect(p.paths).toEqual(DEFAULT_EXPOSED_PATHS);
    expect(p.allowStatus).toEqual([401, 403, 404, 410]);
    expect(p.concurrency).toBe(4);
    expect(exposed.params.safeParse({ baseUrl: 'https://x.test', paths: [] }).success).toBe(false);
  });
});

describe('exposed probe', () => {
  it('passes when every path is refused', async () => {
    const baseUrl = await serve({
      '/.git/config': { status: 403 },
      '/.npmrc': { status: 301, headers: { location: '/' } },
    });
    const out = await run({ baseUrl });
    expect(out).toMatchObject({
      status: 'pass',
      observed: '0 of 8 exposed',
      expected: 'none of 8 paths served',
      detail: '',
    });
    expect(out.metrics).toEqual({ checked: 8, exposed: 0, errors: 0 });
  });

  it('reports every exposed path', async () => {
    const baseUrl = await serve(LEAKS);
    const out = await run({ baseUrl });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe('4 of 8 exposed: /.env, /.git/HEAD, /.DS_Store, /static/app.js.map');
    expect(out.detail).toContain('/.env exposed (200, content looks like the real file)');
    expect(out.metrics?.exposed).toBe(4);
    // The report names paths, never the leaked content.
    expect(JSON.stringify(out)).not.toContain('postgres://');
  });

  it('counts an HTML catch-all page as not exposed, and says so', async () => {
    const baseUrl = await serve({}, { status: 200, body: SPA, headers: { 'content-type': 'text/html' } });
    const out = await run({ baseUrl, paths: ['/.env', '/.git/HEAD'] });
    expect(out.status).toBe('pass');
    expect(out.detail).toBe(
      '/.env: HTML page (SPA catch-all), not the file; /.git/HEAD: HTML page (SPA catch-all), not the file',
    );
  });

  it('does not count a 200 whose body is not the real file, but does count unknown files served', async () => {
    const baseUrl = await serve({
      '/.env': { status: 200, body: '{"error":"not found"}' },
      '/config.json.bak': { status: 200, body: '{"db":{"password":"x"}}' },
    });
    const out = await run({ baseUrl, paths: ['/.env', '/config.json.bak'] });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe('1 of 2 exposed: /config.json.bak');
    expect(out.detail).toBe(
      '/config.json.bak exposed (200 with a 23-byte body); /.env: 200, but the body does not look like the real file',
    );
  });

  it('keeps a path prefix of baseUrl', async () => {
    const baseUrl = await serve({ '/app/.git/HEAD': LEAKS['/.git/HEAD']! });
    const out = await run({ baseUrl: `${baseUrl}/app/`, paths: ['.git/HEAD', '/.env'] });
    expect(out.observed).toBe('1 of 2 exposed: .git/HEAD');
  });

  it('warns on statuses it cannot judge', async () => {
    const baseUrl = await serve({ '/.env': { status: 500, body: 'boom' } });
    const out = await run({ baseUrl, paths: ['/.env', '/.npmrc'] });
    expect(out).toMatchObject({
      status: 'warn',
      observed: '1 of 2 inconclusive',
      detail: '/.env: answered 500, cannot tell',
    });
    const allowed = await run({ baseUrl, paths: ['/.env'], allowStatus: [404, 500] });
    expect(allowed.status).toBe('pass');
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const held: http.ServerResponse[] = [];
    const server = http.createServer((_req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      held.push(res);
      // Answer in batches of three: only a client keeping three in flight gets past the first batch.
      if (held.length === 3) {
        for (const r of held.splice(0)) {
          inFlight -= 1;
          r.writeHead(404);
          r.end();
        }
      }
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = await run({ baseUrl, paths: ['/1', '/2', '/3', '/4', '/5', '/6'], concurrency: 3 });
    expect(out.status).toBe('pass');
    expect(maxInFlight).toBe(3);
  });
});

describe('exposed probe errors', () => {
  it('errors when the site does not answer', async () => {
    const port = await freePort();
    const out = await run({ baseUrl: `http://127.0.0.1:${port}` });
    expect(out).toMatchObject({
      status: 'error',
      observed: 'no response',
      detail: `connection refused to 127.0.0.1:${port}`,
    });
  });

  it('refuses the metadata address', async () => {
    const out = await run({ baseUrl: 'http://169.254.169.254' });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^refused: 169\.254\.169\.254 is a link-local/);
  });

  it('reports a timeout', async () => {
    const server = http.createServer(() => {
      // never answer
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = await run({ baseUrl, paths: ['/.env'] }, makeContext({ timeoutMs: 300 }));
    expect(out).toMatchObject({ status: 'error', detail: 'timed out after 300 ms' });
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import compression from '../../../src/checks/compression.js';
import type { CheckContext, CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

const servers: http.Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const BIG = 'const deployCheck = "compress me";\n'.repeat(200);

interface ServerOptions {
  supports?: string[];
  body?: string;
  vary?: boolean;
  /** Claim this encoding but send the body as is. */
  lieWith?: string;
  status?: number;
  /** Answer with this encoding whatever was offered (except identity). */
  always?: string;
}

const ENCODERS: Record<string, (b: Buffer) => Buffer> = {
  br: (b) => zlib.brotliCompressSync(b),
  gzip: (b) => zlib.gzipSync(b),
  deflate: (b) => zlib.deflateSync(b),
};

/** A server that honours the first offered encoding it supports, like a typical origin or CDN. */
async function serve(o: ServerOptions = {}): Promise<string> {
  const body = Buffer.from(o.body ?? BIG);
  const server = http.createServer((req, res) => {
    const offered = String(req.headers['accept-encoding'] ?? '')
      .split(',')
      .map((s) => s.trim());
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/javascript' };
    if (o.vary !== false) headers.vary = 'Accept-Encoding';
    if (o.lieWith && offered.includes(o.lieWith)) {
      res.writeHead(o.status ?? 200, { ...headers, 'content-encoding': o.lieWith });
      res.end(body);
      return;
    }
    const forced = o.always && !offered.includes('identity') ? o.always : undefined;
    const encoding = forced ?? offered.find((e) => (o.supports ?? ['br', 'gzip']).includes(e));
    if (!encoding) {
      res.writeHead(o.status ?? 200, headers);
      res.end(body);
      return;
    }
    res.writeHead(o.status ?? 200, { ...headers, 'content-encoding': encoding });
    res.end(ENCODERS[encoding]!(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.js`;
}

const run = (params: unknown, ctx: CheckContext = makeContext()): Promise<CheckOutcome> =>
  compression.run(compression.params.parse(params), ctx);

describe('compression params', () => {
  it('defaults to br and gzip, any, 1 KiB', () => {
    const p = compression.params.parse({ url: 'https://x.test/app.js' });
    expect(p).toMatchObject({ encodings: ['br', 'gzip'], require: 'any', minBytes: 1024 });
    expect(compression.params.safeParse({ url: 'https://x.test', encodings: ['lzma'] }).success).toBe(false);
  });
});

describe('compression probe', () => {
  it('passes when the server honours every encoding', async () => {
    const url = await serve();
    const out = await run({ url, require: 'all' });
    expect(out).toMatchObject({
      status: 'pass',
      observed: 'br ✓, gzip ✓',
      expected: 'all of br, gzip',
      detail: '',
    });
    expect(out.metrics?.identityBytes).toBe(BIG.length);
    expect(out.metrics?.gzipBytes).toBeLessThan(BIG.length);
    expect(out.metrics?.honoured).toBe(2);
  });

  it('passes "any" with gzip only, but fails "all"', async () => {
    const url = await serve({ supports: ['gzip'] });
    const any = await run({ url });
    expect(any).toMatchObject({ status: 'pass', observed: 'br ✗ (identity), gzip ✓' });
    const all = await run({ url, require: 'all' });
    expect(all.status).toBe('fail');
    expect(all.detail).toBe(`not honoured: br (${BIG.length} bytes uncompressed)`);
  });

  it('fails when nothing is compressed', async () => {
    const url = await serve({ supports: [] });
    const out = await run({ url, encodings: ['gzip', 'deflate'] });
    expect(out).toMatchObject({ status: 'fail', observed: 'gzip ✗ (identity), deflate ✗ (identity)' });
  });

  it('does not count an encoding that was not asked for', async () => {
    const url = await serve({ always: 'gzip' });
    const out = await run({ url, encodings: ['br'] });
    expect(out).toMatchObject({ status: 'fail', observed: 'br ✗ (gzip)' });
  });

  it('fails a body that claims an encoding it does not have', async () => {
    const url = await serve({ lieWith: 'gzip' });
    const out = await run({ url, encodings: ['gzip'] });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('Content-Encoding gzip claimed but the body does not decode');
  });

  it('stops decoding past 64 MiB (a bomb) without holding it against the server', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(65 * 1024 * 1024), { level: 1 });
    const server = http.createServer((req, res) => {
      const gzip = String(req.headers['accept-encoding']).includes('gzip');
      res.writeHead(200, gzip ? { 'content-encoding': 'gzip', vary: 'Accept-Encoding' } : {});
      res.end(gzip ? bomb : BIG);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const out = await run({ url, encodings: ['gzip'] });
    expect(out).toMatchObject({ status: 'pass', observed: 'gzip ✓' });
  });

  it('skips responses below minBytes', async () => {
    const url = await serve({ body: 'tiny', supports: [] });
    const out = await run({ url });
    expect(out).toMatchObject({ status: 'skipped', observed: '4 bytes' });
    expect(out.detail).toMatch(/below minBytes 1024/);
    expect((await run({ url, minBytes: 0 })).status).toBe('fail');
  });

  it('notes a missing Vary: Accept-Encoding', async () => {
    const url = await serve({ vary: false });
    const out = await run({ url });
    expect(out.status).toBe('pass');
    expect(out.detail).toMatch(/^Vary lacks Accept-Encoding/);
  });
});

describe('compression probe errors', () => {
  it('errors on an error status', async () => {
    const url = await serve({ status: 404 });
    const out = await run({ url });
    expect(out).toMatchObject({ status: 'error', observed: '404' });
    expect(out.detail).toMatch(/answered 404/);
  });

  it('reports a refused connection and the metadata address', async () => {
    const port = await freePort();
    const refused = await run({ url: `http://127.0.0.1:${port}/` });
    expect(refused).toMatchObject({ status: 'error', detail: `connection refused to 127.0.0.1:${port}` });
    const metadata = await run({ url: 'http://169.254.169.254/' });
    expect(metadata.detail).toMatch(/^refused: 169\.254\.169\.254/);
  });
});

import http2 from 'node:http2';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import http2Check from '../../../src/checks/http2.js';
import type { CheckContext } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { type KeyAndCert, makeCa, makeCert } from '../../helpers/tls-cert.js';

type Input = Parameters<typeof http2Check.params.parse>[0];

describe('http2', () => {
  const servers: net.Server[] = [];
  let ca: KeyAndCert;
  let h2Port: number;
  let h1Port: number;
  let noAlpnPort: number;
  let ctx: () => CheckContext;

  async function listen(server: net.Server): Promise<number> {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    ca = await makeCa();
    const pair = await makeCert({ ca });
    ctx = () => makeContext({ tls: { ca: ca.cert, rejectUnauthorized: true } });
    h2Port = await listen(
      http2.createSecureServer({ ...pair, allowHTTP1: true }, (_req, res) => res.end('ok')),
    );
    h1Port = await listen(tls.createServer({ ...pair, ALPNProtocols: ['http/1.1'] }, (s) => s.end()));
    noAlpnPort = await listen(tls.createServer(pair, (s) => s.end()));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const run = (input: Input, c: CheckContext = ctx()) => http2Check.run(http2Check.params.parse(input), c);

  it('passes when the server negotiates h2 (host/port form)', async () => {
    const out = await run({ host: '127.0.0.1', port: h2Port });
    expect(out).toMatchObject({
      status: 'pass',
      observed: 'h2 (TLSv1.3)',
      expected: 'h2 negotiated via ALPN',
    });
  });

  it('passes when the server negotiates h2 (url form)', async () => {
    const out = await run({ url: `https://localhost:${h2Port}/health` });
    expect(out.status).toBe('pass');
  });

  it('fails when the server picks http/1.1', async () => {
    const out = await run({ host: '127.0.0.1', port: h1Port });
    expect(out).toMatchObject({
      status: 'fail',
      observed: 'http/1.1 (TLSv1.3)',
      detail: 'server negotiated http/1.1 only',
    });
  });

  it('fails when the server does not do ALPN at all', async () => {
    const out = await run({ host: '127.0.0.1', port: noAlpnPort });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('server negotiated no ALPN protocol: HTTP/1.1 only');
  });

  it('reports an untrusted certificate as an error when the checklist verifies certificates', async () => {
    const out = await run({ host: '127.0.0.1', port: h2Port }, makeContext());
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(
      /^TLS handshake with 127\.0\.0\.1:\d+ failed: unable to verify the first certificate/,
    );
    const relaxed = await run(
      { host: '127.0.0.1', port: h2Port },
      makeContext({ tls: { rejectUnauthorized: false } }),
    );
    expect(relaxed.status).toBe('pass');
  });

  it('reports a refused connection as an error', async () => {
    const closed = await freePort();
    const out = await run({ host: '127.0.0.1', port: closed });
    expect(out).toMatchObject({ status: 'error', detail: `connection refused to 127.0.0.1:${closed}` });
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ url: 'https://169.254.169.254/' });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('169.254.169.254 is a link-local / cloud-metadata address');
  });

  it('needs exactly one of url and host', () => {
    expect(http2Check.params.safeParse({}).success).toBe(false);
    expect(http2Check.params.safeParse({ url: 'https://x/', host: 'x' }).success).toBe(false);
    expect(http2Check.params.safeParse({ url: 'http://x/' }).success).toBe(false);
    expect(http2Check.params.safeParse({ host: 'x', prot: 1 }).success).toBe(false);
  });
});

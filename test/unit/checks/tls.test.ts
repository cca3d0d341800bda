import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import tlsCheck from '../../../src/checks/tls.js';
import type { CheckContext } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { daysFromNow, type KeyAndCert, makeCa, makeCert } from '../../helpers/tls-cert.js';

type Input = Parameters<typeof tlsCheck.params.parse>[0];

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function tlsServer(pair: KeyAndCert, options: tls.TlsOptions = {}): Promise<number> {
  const server = tls.createServer({ ...pair, ...options }, (socket) => socket.end());
  // Handshakes the probe aborts on purpose (version downgrade) surface here.
  server.on('tlsClientError', () => undefined);
  return listen(server);
}

describe('tls', () => {
  let ca: KeyAndCert;
  let ctx: () => CheckContext;
  const port: Record<string, number> = {};

  beforeAll(async () => {
    ca = await makeCa();
    ctx = () => makeContext({ tls: { ca: ca.cert, rejectUnauthorized: true } });
    const [valid, expired, soon, warnSoon, future, selfSigned] = await Promise.all([
      makeCert({ ca, notAfter: daysFromNow(89.5) }),
      makeCert({ ca, notBefore: daysFromNow(-30), notAfter: daysFromNow(-2.5) }),
      makeCert({ ca, notAfter: daysFromNow(5.5) }),
      makeCert({ ca, notAfter: daysFromNow(20.5) }),
      makeCert({ ca, notBefore: daysFromNow(3), notAfter: daysFromNow(90) }),
      makeCert({ notAfter: daysFromNow(60.5) }),
    ]);
    port.valid = await tlsServer(valid);
    port.expired = await tlsServer(expired);
    port.soon = await tlsServer(soon);
    port.warnSoon = await tlsServer(warnSoon);
    port.future = await tlsServer(future);
    port.selfSigned = await tlsServer(selfSigned);
    port.only12 = await tlsServer(valid, { maxVersion: 'TLSv1.2' });
    port.legacy = await tlsServer(valid, { minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
    port.plain = await listen(http.createServer((_req, res) => res.end('not tls')));
    port.silent = await listen(net.createServer(() => undefined));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const run = (input: Input, c: CheckContext = ctx()) => tlsCheck.run(tlsCheck.params.parse(input), c);

  it('passes a trusted certificate with time left, and refuses TLS 1.1', async () => {
    const out = await run({ host: '127.0.0.1', port: port.valid!, servername: 'localhost' });
    expect(out.status).toBe('pass');
    expect(out.observed).toBe('valid, 89 days left, TLSv1.3, CN=localhost');
    expect(out.expected).toBe('trusted certificate for localhost, ≥ 14 days left, TLSv1.2+ only');
    expect(out.detail).toBe('');
    expect(out.metrics!.daysLeft).toBeCloseTo(89.5, 0);
  });

  it('matches an IP address against the IP subjectAltName', async () => {
    const out = await run({ host: '127.0.0.1', port: port.valid! });
    expect(out.status).toBe('pass');
  });

  it('fails an expired certificate', async () => {
    const out = await run({ host: '127.0.0.1', port: port.expired!, servername: 'localhost' });
    expect(out.status).toBe('fail');
    expect(out.observed).toBe('expired 2 days ago, TLSv1.3, CN=localhost');
    expect(out.detail).toMatch(/^certificate has expired \(on \d{4}-\d\d-\d\d\)$/);
    expect(out.metrics!.daysLeft).toBeLessThan(0);
  });

  it('fails a certificate that is not yet valid', async () => {
    const out = await run({ host: '127.0.0.1', port: port.future!, servername: 'localhost' });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(/^certificate is not yet valid/);
  });

  it('fails within minDaysValid and warns within warnDays', async () => {
    const soon = await run({ host: '127.0.0.1', port: port.soon!, servername: 'localhost' });
    expect(soon.status).toBe('fail');
    expect(soon.detail).toMatch(/^certificate expires in 5 days \(on .*\), less than 14$/);
    const warn = await run({ host: '127.0.0.1', port: port.warnSoon!, servername: 'localhost' });
    expect(warn.status).toBe('warn');
    expect(warn.detail).toMatch(/^certificate expires in 20 days \(on .*\), less than 30$/);
    const relaxed = await run({
      host: '127.0.0.1',
      port: port.warnSoon!,
      servername: 'localhost',
      warnDays: 10,
    });
    expect(relaxed.status).toBe('pass');
  });

  it('fails an untrusted (self-signed) certificate unless allowed', async () => {
    const strict = await run({ host: '127.0.0.1', port: port.selfSigned!, servername: 'localhost' });
    expect(strict.status).toBe('fail');
    expect(strict.detail).toBe('untrusted chain: self-signed certificate');
    expect(strict.observed).toBe(
      'untrusted (self-signed certificate), valid, 60 days left, TLSv1.3, CN=localhost',
    );
    const allowed = await run({
      host: '127.0.0.1',
      port: port.selfSigned!,
      servername: 'localhost',
      allowUntrusted: true,
    });
    expect(allowed.status).toBe('pass');
    expect(allowed.detail).toBe('untrusted chain allowed: self-signed certificate');
  });

  it('fails when the certificate does not match the name', async () => {
    const out = await run({ host: '127.0.0.1', port: port.valid!, servername: 'www.example.com' });
    expect(out.status).toBe('fail');
    expect(out.detail).toContain("Host: www.example.com. is not in the cert's altnames");
  });

  it('fails when the negotiated version is below minVersion', async () => {
    const out = await run({
      host: '127.0.0.1',
      port: port.only12!,
      servername: 'localhost',
      minVersion: 'TLSv1.3',
    });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('negotiated TLSv1.2, below TLSv1.3; server accepts TLSv1.2');
  });

  it('fails when the server accepts the version below the minimum', async () => {
    const v13 = await run({
      host: '127.0.0.1',
      port: port.valid!,
      servername: 'localhost',
      minVersion: 'TLSv1.3',
    });
    expect(v13.status).toBe('fail');
    expect(v13.detail).toBe('server accepts TLSv1.2');
    const legacy = await run({ host: '127.0.0.1', port: port.legacy!, servername: 'localhost' });
    expect(legacy.status).toBe('fail');
    expect(legacy.detail).toBe('server accepts TLSv1.1');
  });

  it('fails when the port does not speak TLS', async () => {
    const out = await run({ host: '127.0.0.1', port: port.plain! });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(new RegExp(`^TLS handshake with 127\\.0\\.0\\.1:${port.plain} failed: `));
  });

  it('reports a refused connection as an error', async () => {
    const closed = await freePort();
    const out = await run({ host: '127.0.0.1', port: closed });
    expect(out.status).toBe('error');
    expect(out.detail).toBe(`connection refused to 127.0.0.1:${closed}`);
  });

  it('reports a DNS failure as an error', async () => {
    const out = await run({ host: 'nope.invalid' });
    expect(out.status).toBe('error');
    expect(out.detail).toBe('DNS lookup failed for nope.invalid');
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ host: '169.254.169.254' });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('169.254.169.254 is a link-local / cloud-metadata address');
  });

  it('gives up when the server never answers the handshake', async () => {
    const out = await run({ host: '127.0.0.1', port: port.silent! }, makeContext({ timeoutMs: 300 }));
    expect(out.status).toBe('error');
    expect(out.detail).toBe('timed out after 300 ms');
  });

  it('validates params strictly', () => {
    expect(tlsCheck.params.safeParse({ host: 'x', minVersion: 'TLSv1.1' }).success).toBe(false);
    expect(tlsCheck.params.safeParse({ host: 'x', prot: 443 }).success).toBe(false);
    expect(tlsCheck.params.parse({ host: 'x' })).toMatchObject({
      port: 443,
      minDaysValid: 14,
      warnDays: 30,
      minVersion: 'TLSv1.2',
    });
  });
});

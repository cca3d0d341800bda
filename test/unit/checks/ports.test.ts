import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import ports, { parsePortList } from '../../../src/checks/ports.js';
import type { CheckContext } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

type Input = Parameters<typeof ports.params.parse>[0];

function run(input: Input, ctx: CheckContext = makeContext()) {
  return ports.run(ports.params.parse(input), ctx);
}

describe('ports', () => {
  const servers: net.Server[] = [];
  let a: number;
  let b: number;
  let closed: number;

  async function listen(): Promise<number> {
    // resume() so the server side sees the probe's FIN and the socket closes.
    const server = net.createServer((socket) => socket.resume());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    a = await listen();
    b = await listen();
    closed = await freePort();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('passes when every open port is allowed', async () => {
    const out = await run({ host: '127.0.0.1', allowed: [a, b], scan: [a, b, closed] });
    expect(out.status).toBe('pass');
    const sorted = [a, b].sort((x, y) => x - y);
    expect(out.observed).toBe(`open: ${sorted.join(', ')} (3 scanned, 1 closed, 0 filtered)`);
    expect(out.metrics).toMatchObject({ openCount: 2, closedCount: 1, filteredCount: 0, scanned: 3 });
  });

  it('fails listing the open ports that are not allowed', async () => {
    const out = await run({ host: '127.0.0.1', allowed: [a], scan: [a, b, closed] });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(`open but not allowed: ${b}`);
    expect(out.expected).toBe(`only ${a} open`);
  });

  it('fails when an expectOpen port is closed, and scans it even when not listed', async () => {
    const out = await run({ host: '127.0.0.1', allowed: [a], scan: [a], expectOpen: [closed] });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(`expected open but not: ${closed} (closed)`);
    expect(out.metrics!.scanned).toBe(2);
  });

  it('counts expectOpen ports as allowed', async () => {
    const out = await run({ host: '127.0.0.1', scan: [a, closed], expectOpen: [a] });
    expect(out.status).toBe('pass');
  });

  it('accepts ranges as a string', async () => {
    const out = await run({ host: '127.0.0.1', scan: `${closed},${a}-${a}`, allowed: [] });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe(`open but not allowed: ${a}`);
  });

  it('reports a DNS failure as an error', async () => {
    const out = await run({ host: 'nope.invalid', scan: [80] });
    expect(out).toMatchObject({ status: 'error', detail: 'DNS lookup failed for nope.invalid' });
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ host: '169.254.169.254', scan: [80] });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('169.254.169.254 is a link-local / cloud-metadata address');
  });

  it('stops when the signal fires and says how far it got', async () => {
    const controller = new AbortController();
    controller.abort();
    const out = await run({ host: '127.0.0.1', scan: [a] }, makeContext({ signal: controller.signal }));
    expect(out.status).toBe('error');
    expect(out.detail).toBe('cancelled after 0 of 1 ports');
  });

  it('parses port lists and ranges', () => {
    expect(parsePortList('22, 80,8000-8002')).toEqual([22, 80, 8000, 8001, 8002]);
    expect(parsePortList('1-1024')).toHaveLength(1024);
    expect(parsePortList('80-22')).toBeUndefined();
    expect(parsePortList('0-10')).toBeUndefined();
    expect(parsePortList('70000')).toBeUndefined();
    expect(parsePortList('http')).toBeUndefined();
  });

  it('validates params strictly', () => {
    expect(ports.params.safeParse({ host: 'x', scan: 'lots' }).success).toBe(false);
    expect(ports.params.safeParse({ host: 'x', allow: [22] }).success).toBe(false);
    expect(ports.params.safeParse({ host: 'x', allowed: [70000] }).success).toBe(false);
    expect(ports.params.parse({ host: 'x', connectTimeout: '2s' })).toMatchObject({
      allowed: [],
      expectOpen: [],
      connectTimeout: 2000,
      concurrency: 50,
    });
  });
});

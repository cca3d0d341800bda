import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import redis from '../../../src/checks/redis.js';
import type { CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';
import { redisUrl, skipUnless, uniqueName } from '../../helpers/services.js';

const run = (params: Record<string, unknown>, timeoutMs = 5_000): Promise<CheckOutcome> =>
  redis.run(redis.params.parse(params), makeContext({ timeoutMs }));

const haveRedisServer = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;

/** A private redis-server with extra config args; resolves once it logs that it accepts connections. */
async function spawnRedis(args: string[]): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${seen.slice(-300)}`)));
  });
  child.stdout?.resume();
  return { port, child };
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

describe.skipIf(skipUnless('redis'))('redis probe against the shared redis-server', () => {
  const url = redisUrl()!;
  const prefix = uniqueName('dc-redis-probe');
  let admin: Redis;

  beforeAll(async () => {
    admin = new Redis(url, { lazyConnect: true });
    await admin.connect();
    const hex = (n: number) => n.toString(16).padStart(24, '0');
    const good = [1, 2, 3].map((n) => `${prefix}:cache:${hex(n)}:profile`);
    const bad = [
      ...[1, 2, 3, 4, 5, 6].map((n) => `${prefix}:cache:no-tenant-${n}`),
      `${prefix}:cache:${'x'.repeat(200)}`,
    ];
    await admin.mset(...[...good, ...bad].flatMap((k) => [k, '1']));
  });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
  });

  it('passes PING, version and eviction policy', async () => {
    const out = await run({ url, minVersion: '6.0', maxmemoryPolicy: 'noeviction' });
    expect(out.status).toBe('pass');
    expect(out.observed).toMatch(
      /^Redis \d+\.\d+\.\d+; PING \d+\.\d ms at 127\.0\.0\.1:\d+; maxmemory-policy noeviction$/,
    );
    expect(out.expected).toBe('reachable; version ≥ 6.0; maxmemory-policy noeviction');
    expect(out.metrics?.pingMs).toBeGreaterThanOrEqual(0);
  });

  it('fails on the wrong eviction policy and a too-old version', async () => {
    const out = await run({ url, minVersion: '99.1', maxmemoryPolicy: 'allkeys-lru' });
    expect(out.status).toBe('fail');
    expect(out.detail).toMatch(
      /^version \d+\.\d+\.\d+ < 99\.1; maxmemory-policy is noeviction, expected allkeys-lru$/,
    );
  });

  it('fails when an unauthenticated client is served', async () => {
    const out = await run({ url, requireAuth: true });
    expect(out).toMatchObject({ status: 'fail', detail: 'unauthenticated PING succeeded' });
  });

  it('samples keys with SCAN and lists up to five offenders, truncated', async () => {
    const out = await run({
      url,
      keyPattern: { match: `${prefix}:cache:*`, mustMatch: `^${prefix}:cache:[a-f0-9]{24}:` },
    });
    expect(out.status).toBe('fail');
    expect(out.metrics).toMatchObject({ keysSampled: 10, keysViolating: 7 });
    expect(out.detail).toMatch(/^7 of 10 key\(s\) do not match \/.*\/: (".*", ){4}".*" \(\+2 more\)$/);
    for (const listed of out.detail.match(/"[^"]*"/g) ?? []) expect(listed.length).toBeLessThanOrEqual(62);
    expect(out.detail).not.toContain('x'.repeat(61));
  });

  it('passes when every sampled key matches, and honours the sample size', async () => {
    const ok = await run({
      url,
      keyPattern: { match: `${prefix}:cache:0*`, mustMatch: '[a-f0-9]{24}:profile$' },
    });
    expect(ok.status).toBe('pass');
    expect(ok.metrics).toMatchObject({ keysSampled: 3, keysViolating: 0 });
    const small = await run({ url, keyPattern: { match: `${prefix}:*`, mustMatch: '.', sample: 4 } });
    expect(small.metrics?.keysSampled).toBe(4);
  });
});

describe.skipIf(!haveRedisServer)('redis probe against private redis-servers', () => {
  let secured: Awaited<ReturnType<typeof spawnRedis>> | undefined;
  let noConfig: Awaited<ReturnType<typeof spawnRedis>> | undefined;
  let locked: Awaited<ReturnType<typeof spawnRedis>> | undefined;

  beforeAll(async () => {
    [secured, noConfig, locked] = await Promise.all([
      spawnRedis(['--requirepass', 'pa55-SECRET', '--maxmemory-policy', 'allkeys-lru']),
      spawnRedis(['--rename-command', 'CONFIG', '', '--maxmemory-policy', 'volatile-ttl']),
      spawnRedis(['--rename-command', 'CONFIG', '', '--rename-command', 'INFO', '']),
    ]);
  });
  afterAll(() => Promise.all([stop(secured?.child), stop(noConfig?.child), stop(locked?.child)]));

  it('passes requireAuth when the server refuses clients without the password', async () => {
    const out = await run({
      url: `redis://:pa55-SECRET@127.0.0.1:${secured!.port}/0`,
      requireAuth: true,
      maxmemoryPolicy: 'allkeys-lru',
    });
    expect(out.status).toBe('pass');
    expect(out.observed).toContain('auth enforced');
    expect(JSON.stringify(out)).not.toContain('pa55');
  });

  it('is an error when the URL carries no or the wrong password, without printing it', async () => {
    const none = await run({ url: `redis://127.0.0.1:${secured!.port}` });
    expect(none.status).toBe('error');
    expect(none.detail).toMatch(/^authentication failed at 127\.0\.0\.1:\d+: NOAUTH/);
    const wrong = await run({ url: `redis://default:wrong-SECRET@127.0.0.1:${secured!.port}` });
    expect(wrong.status).toBe('error');
    expect(wrong.detail).toMatch(/authentication failed at .*WRONGPASS/);
    expect(JSON.stringify(wrong)).not.toContain('wrong-SECRET');
  });

  it('reads the policy from INFO when CONFIG is renamed', async () => {
    const out = await run({ url: `redis://127.0.0.1:${noConfig!.port}`, maxmemoryPolicy: 'volatile-ttl' });
    expect(out.status).toBe('pass');
    expect(out.observed).toContain('maxmemory-policy volatile-ttl');
  });

  it('warns when neither CONFIG nor INFO can be read', async () => {
    const out = await run({
      url: `redis://127.0.0.1:${locked!.port}`,
      maxmemoryPolicy: 'noeviction',
      minVersion: '6',
    });
    expect(out.status).toBe('warn');
    expect(out.detail).toContain('cannot read config');
    expect(out.detail).toContain('cannot read redis_version');
  });
});

describe('redis probe bad inputs', () => {
  it('is an error when nothing listens', async () => {
    const port = await freePort();
    const out = await run({ url: `redis://127.0.0.1:${port}` });
    expect(out).toMatchObject({ status: 'error', detail: `connection refused to 127.0.0.1:${port}` });
  });

  it('is an error, not a hang, when the server never answers', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const out = await run({ url: `redis://:SECRET-pw@127.0.0.1:${port}` }, 300);
      expect(out).toMatchObject({ status: 'error', detail: 'timed out after 300 ms' });
      expect(JSON.stringify(out)).not.toContain('SECRET-pw');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({ url: 'redis://169.254.169.254:6379' });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('link-local');
  });

  it('is an error when the host does not resolve', async () => {
    const out = await run({ url: 'redis://nope.invalid:6379' });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/^DNS lookup failed for nope\.invalid/);
  });

  it('rejects non-redis URLs, unknown policies and unknown fields', () => {
    expect(redis.params.safeParse({ url: 'http://127.0.0.1:6379' }).success).toBe(false);
    expect(redis.params.safeParse({ url: 'redis://h', maxmemoryPolicy: 'lru' }).success).toBe(false);
    expect(redis.params.safeParse({ url: 'redis://h', keyPattern: { mustMatch: '(' } }).success).toBe(false);
    expect(redis.params.safeParse({ url: 'redis://h', pasword: 'x' }).success).toBe(false);
  });

  it('accepts a secret reference at load time, and checks the resolved value at run time', async () => {
    expect(redis.params.safeParse({ url: '$' + '{secret:REDIS_URL}' }).success).toBe(true);
    const out = await redis.run({ url: 'memcached://SECRET-host:11211' } as never, makeContext());
    expect(out).toMatchObject({ status: 'error', detail: 'url is not a redis:// or rediss:// URL' });
    expect(JSON.stringify(out)).not.toContain('SECRET');
  });
});

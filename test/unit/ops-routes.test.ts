/**
 * /healthz, /readyz and /metrics (src/http/routes.ts, src/http/metrics.ts), served on a real
 * node:http server exactly as the bot routes them in Socket Mode (and Bolt's HTTPReceiver does
 * through `customRoutes` in HTTP mode).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/http/metrics.js';
import { type Check, opsRoutes, readiness } from '../../src/http/routes.js';

interface Served {
  url: string;
  close(): Promise<void>;
}

const servers: Served[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(checks: Record<string, Check>, metrics = createMetrics()): Promise<Served> {
  const routes = opsRoutes(checks, metrics.registry);
  const server = http.createServer((req, res) => {
    const route = routes.find((r) => r.path === req.url?.split('?')[0] && r.method === req.method);
    if (route) route.handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const served = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(served);
  return served;
}

const ok: Check = async () => undefined;
const down =
  (message: string): Check =>
  async () => {
    throw new Error(message);
  };
const hangs: Check = () => new Promise(() => undefined);

interface ReadyBody {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

describe('/healthz', () => {
  it('answers 200 while the process runs, whatever its dependencies do', async () => {
    const { url } = await serve({ redis: down('ECONNREFUSED'), mongodb: hangs });
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('is GET only; other paths are not served', async () => {
    const { url } = await serve({});
    expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });
});

describe('/readyz', () => {
  it('answers 200 when Redis and MongoDB answer', async () => {
    const { url } = await serve({ redis: ok, mongodb: ok });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, checks: { redis: { ok: true }, mongodb: { ok: true } } });
  });

  it('answers 503 naming the dependency that failed, and why', async () => {
    const { url } = await serve({ redis: ok, mongodb: down('connect ECONNREFUSED 127.0.0.1:27017') });
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as ReadyBody;
    expect(body.ok).toBe(false);
    expect(body.checks.redis).toEqual({ ok: true });
    expect(body.checks.mongodb).toEqual({ ok: false, detail: 'connect ECONNREFUSED 127.0.0.1:27017' });
  });

  it('answers 503 within its deadline when a dependency hangs', async () => {
    const { url } = await serve({ redis: hangs, mongodb: ok });
    const started = performance.now();
    const res = await fetch(`${url}/readyz`);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    const body = (await res.json()) as ReadyBody;
    expect(body.checks.redis).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/no answer within \d+ ms/),
    });
    expect(body.checks.mongodb).toEqual({ ok: true });
    // The route's deadline is 1.5 s: well inside a load balancer's or Kubernetes' probe timeout.
    expect(elapsed).toBeLessThan(3000);
  });

  it('keeps an error detail short', async () => {
    const { url } = await serve({ redis: down('x'.repeat(5000)) });
    const body = (await (await fetch(`${url}/readyz`)).json()) as ReadyBody;
    expect(body.checks.redis!.detail!.length).toBeLessThanOrEqual(200);
  });
});

describe('readiness()', () => {
  it('runs the checks concurrently, each bounded by the deadline', async () => {
    const started = performance.now();
    const result = await readiness({ a: hangs, b: hangs, c: ok }, 100);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result).toEqual({
      ok: false,
      checks: {
        a: { ok: false, detail: 'no answer within 100 ms' },
        b: { ok: false, detail: 'no answer within 100 ms' },
        c: { ok: true },
      },
    });
  });

  it('is ready with no checks at all', async () => {
    expect(await readiness({})).toEqual({ ok: true, checks: {} });
  });
});

describe('/metrics', () => {
  it('answers Prometheus text with the runs, probes, Slack and command metrics', async () => {
    const metrics = createMetrics();
    metrics.runsTotal.inc({ outcome: 'pass' });
    metrics.runsTotal.inc({ outcome: 'fail' });
    metrics.runsTotal.inc({ outcome: 'pass' });
    metrics.probeSeconds.observe({ type: 'http', status: 'pass' }, 0.042);
    metrics.slackErrors.inc({ method: 'chat.update', error: 'ratelimited' });
    metrics.commandsTotal.inc({ subcommand: 'run', result: 'ok' });
    const { url } = await serve({}, metrics);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('# TYPE deploy_check_runs_total counter');
    expect(text).toContain('deploy_check_runs_total{outcome="pass"} 2');
    expect(text).toContain('deploy_check_runs_total{outcome="fail"} 1');
    expect(text).toContain(
      'deploy_check_probe_duration_seconds_bucket{le="0.05",type="http",status="pass"} 1',
    );
    expect(text).toContain('deploy_check_slack_api_errors_total{method="chat.update",error="ratelimited"} 1');
    expect(text).toContain('deploy_check_commands_total{subcommand="run",result="ok"} 1');
  });

  it('reports queue depth by queue, and still answers when Redis is down', async () => {
    let redisUp = true;
    const metrics = createMetrics(async () => {
      if (!redisUp) throw new Error('ECONNREFUSED');
      return { runs: 3, thread: 0 };
    });
    const { url } = await serve({}, metrics);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('# TYPE deploy_check_queue_depth gauge');
    expect(text).toContain('deploy_check_queue_depth{queue="runs"} 3');
    expect(text).toContain('deploy_check_queue_depth{queue="thread"} 0');
    redisUp = false;
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('deploy_check_runs_total');
  });

  it('keeps one registry per process: two metric sets never share counts', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.runsTotal.inc({ outcome: 'pass' });
    expect(await b.registry.metrics()).not.toContain('deploy_check_runs_total{outcome="pass"}');
  });
});

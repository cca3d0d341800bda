import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseChecklist } from '../../src/checklist/load.js';
import type { Checklist } from '../../src/checklist/model.js';
import type { RollbackStepSpec } from '../../src/checklist/schema.js';
import { createGuardedDispatcher, defaultPolicy } from '../../src/net/guard.js';
import { executorFor } from '../../src/rollback/registry.js';
import type { StepContext, StepOutcome } from '../../src/rollback/types.js';
import { mentionsSecret, Redactor, resolveSecrets, secretSource } from '../../src/run/secrets.js';
import { type FakeTarget, startFakeTarget } from '../helpers/rollback-target.js';
import { redisUrl, skipUnless, uniqueName } from '../helpers/services.js';

const SECRET = 'tok-very-secret-0123456789';
const withBase = (base: string) => `vars: { base: "${base}", redis: "redis://127.0.0.1:9" }`;

function checklistWith(steps: string, extra = withBase('http://127.0.0.1:9')): Checklist {
  const text = `
name: rb-unit
service: rb-unit-api
roles: { sre: { users: [U0SRE0001] } }
${extra}
phases:
  - id: health
    title: Health
    items:
      - id: up
        title: Up
        check: { type: http, url: "{{base}}/health", expect: { status: 200 } }
        timeout: 1s
      - id: person
        title: A person
        manual: { owner: "@sre" }
rollback:
  allowed: ["@sre"]
  steps:
${steps}`;
  return parseChecklist(text, { file: 'rb-unit.yml' });
}

function stepOf(checklist: Checklist, id: string): RollbackStepSpec {
  return checklist.spec.rollback!.steps.find((s) => s.id === id)!;
}

interface Ctx extends StepContext {
  notified: Array<[string, string]>;
  summaries: Array<string | undefined>;
}

function contextFor(
  checklist: Checklist,
  timeoutMs = 3000,
  env: NodeJS.ProcessEnv = { CI_TOKEN: SECRET },
): Ctx {
  const redactor = new Redactor();
  const source = secretSource(checklist.spec.secrets, process.cwd(), env);
  const notified: Array<[string, string]> = [];
  const summaries: Array<string | undefined> = [];
  return {
    rollbackId: 'rb-unittest',
    checklist,
    signal: AbortSignal.timeout(timeoutMs),
    timeoutMs,
    probe: {
      policy: defaultPolicy,
      tls: { rejectUnauthorized: true },
      dispatcher: createGuardedDispatcher(defaultPolicy),
      baseDir: process.cwd(),
    },
    resolve: (v) => (mentionsSecret(v) ? resolveSecrets(v, source, redactor) : v),
    notify: async (channel, text) => {
      notified.push([channel, text]);
      return channel;
    },
    postSummary: async (channel) => {
      summaries.push(channel);
      return channel ?? 'the thread';
    },
    notified,
    summaries,
  };
}

async function run(checklist: Checklist, id: string, ctx = contextFor(checklist)): Promise<StepOutcome> {
  const step = stepOf(checklist, id);
  return executorFor(step.type).run(step as never, ctx);
}

describe('rollback webhook and statuspage steps against a local HTTP target', () => {
  let t: FakeTarget;
  beforeAll(async () => {
    t = await startFakeTarget();
  });
  afterAll(() => t.close());

  const steps = (base: string) =>
    checklistWith(
      `    - id: revert
      type: webhook
      url: "{{base}}/ci/revert"
      headers: { Authorization: "Bearer \${secret:CI_TOKEN}" }
      body: { ref: main, deployId: dep-1 }
    - id: status
      type: statuspage
      url: "{{base}}/status/incidents"
      method: POST
      body: { incident: { name: Degraded, status: identified } }
      expectStatus: [201]
    - id: broken
      type: webhook
      url: "http://127.0.0.1:9/nothing-listens"
    - id: hang
      type: webhook
      url: "{{base}}/ci/hang"
      timeout: 500ms
    - id: no-secret
      type: webhook
      url: "{{base}}/ci/revert"
      headers: { Authorization: "Bearer \${secret:NOT_SET}" }`,
      withBase(base),
    );

  it('sends the request with secrets resolved, an idempotency key and a JSON body; counts one call', async () => {
    const c = steps(t.url);
    const out = await run(c, 'revert');
    expect(out).toMatchObject({ ok: true, detail: '' });
    expect(out.observed).toBe(`POST ${t.url}/ci/revert → HTTP 200`);
    const calls = t.calls('/ci/revert');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(calls[0]!.headers['idempotency-key']).toBe('rb-unittest-revert');
    expect(calls[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(calls[0]!.body)).toEqual({ ref: 'main', deployId: 'dep-1' });
  });

  it('judges the status against expectStatus: a 500 fails with the status and the body', async () => {
    t.script('/status/incidents', 500, { status: 201, body: '{"id":"inc-1"}' });
    const c = steps(t.url);
    const failed = await run(c, 'status');
    expect(failed.ok).toBe(false);
    expect(failed.detail).toMatch(/answered HTTP 500, expected 201: \{"error":"status 500"\}/);
    const ok = await run(c, 'status');
    expect(ok).toMatchObject({ ok: true, observed: `POST ${t.url}/status/incidents → HTTP 201` });
    expect(t.calls('/status/incidents')).toHaveLength(2);
  });

  it('fails with a clear reason when the target is unreachable', async () => {
    const out = await run(steps(t.url), 'broken');
    expect(out).toMatchObject({ ok: false });
    expect(out.detail).toBe('cannot reach http://127.0.0.1:9/nothing-listens: connection refused');
  });

  it('fails with a clear reason when the target never answers', async () => {
    t.script('/ci/hang', 'hang');
    const c = steps(t.url);
    const started = Date.now();
    const out = await run(c, 'hang', contextFor(c, 500));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(out.ok).toBe(false);
    expect(out.detail).toBe(`no answer from ${t.url}/ci/hang within 500ms`);
  });

  it('fails, naming the variable, when a secret is not set (and calls nothing)', async () => {
    const before = t.calls('/ci/revert').length;
    const out = await run(steps(t.url), 'no-secret');
    expect(out).toMatchObject({
      ok: false,
      detail: 'secret NOT_SET is not set (environment variable NOT_SET)',
    });
    expect(t.calls('/ci/revert')).toHaveLength(before);
  });

  it('refuses link-local / metadata addresses through the guarded dispatcher', async () => {
    const c = checklistWith(
      `    - id: meta
      type: webhook
      url: "http://169.254.169.254/latest/meta-data"`,
    );
    const out = await run(c, 'meta');
    expect(out.ok).toBe(false);
    expect(out.detail).toMatch(/link-local/);
  });
});

describe('rollback wait-for step polls a probe until it passes', () => {
  let server: http.Server;
  let base = '';
  let healthyAfter = 0;
  let hits = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/health') {
        hits += 1;
        res.writeHead(hits > healthyAfter ? 200 : 503).end(hits > healthyAfter ? 'ok' : 'starting');
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  afterEach(() => {
    hits = 0;
  });

  const c = () =>
    checklistWith(
      `    - id: wait-item
      type: wait-for
      item: health/up
      every: 50ms
      timeout: 3s
    - id: wait-inline
      type: wait-for
      check: { type: http, url: "{{base}}/health", expect: { status: 200 } }
      every: 50ms
      timeout: 600ms
    - id: wait-manual
      type: wait-for
      item: health/person
      timeout: 1s`,
      withBase(base),
    );

  it('passes once the checklist item passes (by key "phase/item")', async () => {
    healthyAfter = 3;
    const out = await run(c(), 'wait-item');
    expect(out.ok).toBe(true);
    expect(out.observed).toMatch(/^item health\/up passed after 4 attempts/);
    expect(hits).toBe(4);
  });

  it('fails when the probe is still failing at the timeout, with the last result', async () => {
    healthyAfter = 1_000_000;
    const checklist = c();
    const started = Date.now();
    const out = await run(checklist, 'wait-inline', contextFor(checklist, 600));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(out.ok).toBe(false);
    expect(out.detail).toMatch(/^http probe still not passing after .* \(\d+ attempts\); last: fail: /);
    expect(out.detail).toMatch(/503/);
  });

  it('refuses to poll a manual item', async () => {
    const out = await run(c(), 'wait-manual');
    expect(out).toMatchObject({
      ok: false,
      detail: 'item "health/person" is manual; wait-for needs a probe',
    });
  });
});

describe.skipIf(skipUnless('redis'))('rollback redis-delete step against a real Redis', () => {
  const url = redisUrl()!;
  const prefix = uniqueName('dc-rb-cache');
  let admin: Redis;
  beforeAll(async () => {
    admin = new Redis(url);
  });
  afterAll(async () => {
    const left = await admin.keys(`${prefix}*`);
    if (left.length) await admin.del(...left);
    admin.disconnect();
  });

  const c = () =>
    checklistWith(
      `    - id: flush
      type: redis-delete
      url: "\${secret:REDIS_URL}"
      pattern: "${prefix}:cache:*"
      batch: 100
    - id: unreachable
      type: redis-delete
      url: "{{redis}}"
      pattern: "cache:*"
      timeout: 2s`,
      withBase('http://127.0.0.1:9'),
    );

  it('deletes every key matching the pattern in SCAN batches, keeps the others, and reports the count', async () => {
    const cache = Array.from({ length: 1234 }, (_, i) => `${prefix}:cache:${i}`);
    const keep = [`${prefix}:session:1`, `${prefix}:cachex`];
    for (let i = 0; i < cache.length; i += 500)
      await admin.mset(...cache.slice(i, i + 500).flatMap((k) => [k, 'v']));
    await admin.mset(...keep.flatMap((k) => [k, 'v']));
    const checklist = c();
    const ctx = contextFor(checklist, 10_000, { REDIS_URL: url });
    const out = await run(checklist, 'flush', ctx);
    expect(out.ok).toBe(true);
    expect(out.observed).toMatch(/^deleted 1234 keys matching .*:cache:\* at 127\.0\.0\.1:\d+$/);
    expect(out.observed).not.toContain('redis://');
    expect(out.metrics?.deleted).toBe(1234);
    expect(await admin.exists(...cache.slice(0, 50))).toBe(0);
    expect(await admin.exists(...keep)).toBe(2);
    // Idempotent: a second run finds nothing left.
    const again = await run(checklist, 'flush', contextFor(checklist, 10_000, { REDIS_URL: url }));
    expect(again).toMatchObject({ ok: true, metrics: { deleted: 0 } });
  });

  it('fails with a clear reason when Redis is unreachable', async () => {
    const out = await run(c(), 'unreachable');
    expect(out).toMatchObject({ ok: false, detail: 'cannot reach Redis at 127.0.0.1:9: connection refused' });
  });
});

describe('rollback slack-notify, postmortem and manual steps', () => {
  const c = () =>
    checklistWith(`    - id: notify
      type: slack-notify
      channel: "#incidents"
      text: "rolled back"
    - id: pm
      type: postmortem
    - id: db
      type: manual
      owner: "@sre"
      instructions: Restore the snapshot`);

  it('slack-notify posts through the injected notify', async () => {
    const checklist = c();
    const ctx = contextFor(checklist);
    expect(await run(checklist, 'notify', ctx)).toMatchObject({ ok: true, observed: 'posted to #incidents' });
    expect(ctx.notified).toEqual([['#incidents', 'rolled back']]);
  });

  it('slack-notify fails with the reason when posting fails', async () => {
    const checklist = c();
    const ctx = contextFor(checklist);
    ctx.notify = async () => {
      throw new Error('An API error occurred: channel_not_found');
    };
    const out = await run(checklist, 'notify', ctx);
    expect(out).toMatchObject({
      ok: false,
      detail: 'could not post to #incidents: An API error occurred: channel_not_found',
    });
  });

  it('postmortem posts the summary (to the thread when no channel is given)', async () => {
    const checklist = c();
    const ctx = contextFor(checklist);
    expect(await run(checklist, 'pm', ctx)).toMatchObject({
      ok: true,
      observed: 'summary posted to the thread',
    });
    expect(ctx.summaries).toEqual([undefined]);
  });

  it('a manual step is never run by a worker', async () => {
    expect((await run(c(), 'db')).ok).toBe(false);
  });
});

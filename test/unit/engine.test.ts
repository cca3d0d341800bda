import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChecklist } from '../../src/checklist/load.js';
import { DispatcherPool, runChecklist } from '../../src/run/engine.js';
import type { RunEvent } from '../../src/run/types.js';

/** A target whose answers the tests script: /ok, /fail, /flaky (alternates), /slow, /echo (reflects Authorization). */
let server: http.Server;
let base = '';
const hits = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    if (path === '/ok') return res.end('ok');
    if (path === '/fail') return res.writeHead(500).end('boom');
    if (path === '/flaky') return res.writeHead(n % 2 === 0 ? 500 : 200).end();
    if (path === '/drop-first') return n === 1 ? req.socket.destroy() : res.end('ok');
    if (path === '/drop-always') return req.socket.destroy();
    if (path === '/echo')
      return res.writeHead(200, { 'x-echo': String(req.headers.authorization ?? '') }).end();
    if (path === '/slow') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function checklist(phases: string, extra = ''): ReturnType<typeof parseChecklist> {
  return parseChecklist(
    `name: t\nservice: t-api\nvars: { base: "${base}" }\ndefaults: { interval: 10ms }\n${extra}phases:\n${phases}`,
    { file: 't.yml' },
  );
}

const item = (title: string, path: string, more = '') =>
  `      - title: ${title}\n        check: { type: http, url: "{{base}}${path}" }\n${more}`;

describe('engine', () => {
  it('runs phases in order and emits events renderers can follow', async () => {
    const events: RunEvent[] = [];
    const run = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('one', '/ok')}${item('two', '/ok')}  - id: b\n    title: B\n    items:\n${item('three', '/ok')}`,
      ),
      { onEvent: (e) => void events.push(e) },
    );
    expect(run.outcome).toBe('pass');
    expect(events[0]!.type).toBe('run-started');
    expect(events.at(-1)!.type).toBe('run-finished');
    expect(
      events.filter((e) => e.type === 'phase-finished').map((e) => (e as { phase: { id: string } }).phase.id),
    ).toEqual(['a', 'b']);
    expect(events.filter((e) => e.type === 'item-finished')).toHaveLength(3);
    expect(run.phases[0]!.items.map((i) => i.key)).toEqual(['a/one', 'a/two']);
  });

  it('stops after a failing critical phase unless told to continue', async () => {
    const phases = `  - id: a\n    title: A\n    items:\n${item('bad', '/fail')}  - id: b\n    title: B\n    items:\n${item('later', '/ok')}`;
    const stopped = await runChecklist(checklist(phases));
    expect(stopped.outcome).toBe('fail');
    expect(stopped.stoppedAt).toBe('a');
    expect(stopped.phases[1]!.items[0]).toMatchObject({
      status: 'skipped',
      detail: 'not run: phase "a" failed',
    });
    const going = await runChecklist(checklist(phases, 'stopOnCriticalFailure: false\n'));
    expect(going.phases[1]!.items[0]!.status).toBe('pass');
  });

  it('does not block on a failing warning item', async () => {
    const run = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('soft', '/fail', '        severity: warning\n')}`,
      ),
    );
    expect(run.phases[0]!.items[0]!.status).toBe('fail');
    expect(run.outcome).toBe('warn');
  });

  it('applies count and failureLimit like an analysis run', async () => {
    hits.delete('/flaky');
    const tolerant = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('flaky', '/flaky', '        count: 4\n        failureLimit: 2\n')}`,
      ),
    );
    expect(tolerant.phases[0]!.items[0]).toMatchObject({ status: 'pass', measurements: 4 });
    hits.delete('/flaky');
    const strict = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('flaky', '/flaky', '        count: 4\n        failureLimit: 1\n')}`,
      ),
    );
    expect(strict.phases[0]!.items[0]!.status).toBe('fail');
    expect(strict.phases[0]!.items[0]!.detail).toMatch(/4 measurements: 2 ok, 2 failed/);
  });

  it('retries errors and marks persistent errors inconclusive beyond the limit', async () => {
    hits.delete('/drop-first');
    const retried = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('drop', '/drop-first', '        retries: 2\n')}`,
      ),
    );
    expect(retried.phases[0]!.items[0]).toMatchObject({ status: 'pass', attempts: 2 });
    const dead = await runChecklist(
      checklist(`  - id: a\n    title: A\n    items:\n${item('dead', '/drop-always', '        count: 2\n')}`),
    );
    expect(dead.phases[0]!.items[0]!.status).toBe('error');
    hits.delete('/drop-first');
    const mixed = await runChecklist(
      checklist(`  - id: a\n    title: A\n    items:\n${item('mixed', '/drop-first', '        count: 3\n')}`),
    );
    expect(mixed.phases[0]!.items[0]).toMatchObject({ status: 'inconclusive', measurements: 3 });
    expect(mixed.outcome).toBe('fail');
    hits.delete('/drop-first');
    const tolerated = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('mixed', '/drop-first', '        count: 3\n        inconclusiveLimit: 1\n')}`,
      ),
    );
    expect(tolerated.phases[0]!.items[0]!.status).toBe('pass');
  });

  it('turns a hanging target into a timeout, not a hang', async () => {
    const run = await runChecklist(
      checklist(`  - id: a\n    title: A\n    items:\n${item('slow', '/slow', '        timeout: 200ms\n')}`),
    );
    expect(run.phases[0]!.items[0]).toMatchObject({ status: 'error' });
    expect(run.phases[0]!.items[0]!.detail).toMatch(/timed out after 200 ms/);
  });

  it('cancels: remaining items and phases are skipped', async () => {
    const controller = new AbortController();
    const run = await runChecklist(
      checklist(
        `  - id: a\n    title: A\n    items:\n${item('slow', '/slow', '        timeout: 20s\n')}  - id: b\n    title: B\n    items:\n${item('later', '/ok')}`,
      ),
      { signal: controller.signal, onEvent: (e) => void (e.type === 'item-started' && controller.abort()) },
    );
    expect(run.outcome).toBe('cancelled');
    expect(run.phases[1]!.items[0]!.detail).toBe('not run: cancelled');
  });

  it('resolves secrets for probes and redacts them from every result', async () => {
    const text = `  - id: a\n    title: A\n    items:\n      - title: echo\n        check: { type: http, url: "{{base}}/echo", headers: { Authorization: "Bearer \${secret:API_TOKEN}" }, expect: { headers: { x-echo: "nope" } } }\n`;
    const run = await runChecklist(checklist(text), { env: { API_TOKEN: 'tok-very-secret-123' } });
    const dump = JSON.stringify(run);
    expect(run.phases[0]!.items[0]!.status).toBe('fail');
    expect(dump).not.toContain('tok-very-secret-123');
    const missing = await runChecklist(checklist(text), { env: {} });
    expect(missing.phases[0]!.items[0]).toMatchObject({
      status: 'error',
      detail: 'secret API_TOKEN is not set (environment variable API_TOKEN)',
    });
  });

  it('dry-run calls nothing; prior results are not measured again', async () => {
    hits.clear();
    const c = checklist(`  - id: a\n    title: A\n    items:\n${item('one', '/ok')}`);
    const dry = await runChecklist(c, { dryRun: true });
    expect(dry.phases[0]!.items[0]!.detail).toBe(`dry run: would run http ${base}/ok`);
    expect(hits.size).toBe(0);
    const first = await runChecklist(c);
    const again = await runChecklist(c, { prior: new Map([['a/one', first.phases[0]!.items[0]!]]) });
    expect(again.phases[0]!.items[0]).toEqual(first.phases[0]!.items[0]);
    expect(hits.get('/ok')).toBe(1);
  });

  it('refuses cloud-metadata addresses unless the checklist allows them', async () => {
    const text = `  - id: a\n    title: A\n    items:\n      - title: meta\n        check: { type: http, url: "http://169.254.169.254/latest/meta-data" }\n        timeout: 2s\n`;
    const run = await runChecklist(checklist(text));
    expect(run.phases[0]!.items[0]!.status).toBe('error');
    expect(run.phases[0]!.items[0]!.detail).toMatch(/link-local/);
  });

  it('keeps manual items pending (Slack) or skipped (terminal) until ticked', async () => {
    const text = `  - id: a\n    title: A\n    items:\n      - title: by hand\n        manual: { owner: U0OWNER01 }\n`;
    expect((await runChecklist(checklist(text))).outcome).toBe('pending');
    expect((await runChecklist(checklist(text), { manualMode: 'skipped' })).phases[0]!.items[0]!.status).toBe(
      'skipped',
    );
    const ticked = await runChecklist(checklist(text), {
      ticks: new Map([['a/by-hand', { by: 'U0OWNER01', at: '2026-11-22T00:00:00Z' }]]),
    });
    expect(ticked.outcome).toBe('pass');
  });

  it('derives the same run id from the same inputs', async () => {
    const c = checklist(`  - id: a\n    title: A\n    items:\n${item('one', '/ok')}`);
    const now = () => new Date('2026-11-22T00:00:00Z');
    expect((await runChecklist(c, { now })).runId).toBe((await runChecklist(c, { now })).runId);
  });

  it("reuses a worker's connections across runs when given a dispatcher pool", async () => {
    let connections = 0;
    const onConnection = () => {
      connections += 1;
    };
    server.on('connection', onConnection);
    const pool = new DispatcherPool();
    try {
      const c = checklist(`  - id: a\n    title: A\n    items:\n${item('one', '/ok')}`);
      for (let i = 0; i < 4; i++) expect((await runChecklist(c)).outcome).toBe('pass');
      const unpooled = connections;
      connections = 0;
      for (let i = 0; i < 4; i++) expect((await runChecklist(c, { dispatchers: pool })).outcome).toBe('pass');
      // Each run on its own opens a connection; pooled runs reuse them (a stale keep-alive may be replaced).
      expect(unpooled).toBe(4);
      expect(connections).toBeLessThan(unpooled);
    } finally {
      server.off('connection', onConnection);
      await pool.close();
    }
  });
});

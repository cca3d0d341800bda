import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChecklist } from '../../src/checklist/load.js';
import { nextAttempt, type PlaybookHooks, runPlaybook } from '../../src/rollback/engine.js';
import { deriveRollbackId, rollbackJobId } from '../../src/rollback/ids.js';
import type { RollbackView } from '../../src/rollback/view.js';
import { type RollbackDoc, type RollbackStore, rollbackStore } from '../../src/store/rollback-store.js';
import { type FakeTarget, startFakeTarget } from '../helpers/rollback-target.js';
import { mongoUri, skipUnless, uniqueName } from '../helpers/services.js';

const tenant = { teamId: 'T0ENGINE1' };
const SECRET = 'ci-token-abcdefghijklmnop';

function source(base: string, steps: string): string {
  return `
name: rb-engine
service: rb-engine-api
vars: { base: "${base}" }
roles: { sre: { users: [U0SRE0001] } }
phases:
  - id: health
    title: Health
    items:
      - id: up
        title: Up
        check: { type: http, url: "{{base}}/health", expect: { status: 200 } }
rollback:
  allowed: ["@sre"]
  steps:
${steps}`;
}

interface Recorder extends PlaybookHooks {
  renders: Array<{ view: RollbackView; final: boolean }>;
  notified: string[];
  summaries: RollbackView[];
  audits: Array<[string, string, Record<string, unknown>]>;
}

function recorder(): Recorder {
  const r: Recorder = {
    renders: [],
    notified: [],
    summaries: [],
    audits: [],
    render: async (view, final) => {
      r.renders.push({ view, final });
    },
    notify: async (channel, text) => {
      r.notified.push(`${channel}:${text}`);
      return channel;
    },
    postSummary: async (view) => {
      r.summaries.push(view);
      return 'the thread';
    },
    audit: async (actor, action, detail) => {
      r.audits.push([actor, action, detail]);
    },
  };
  return r;
}

describe.skipIf(skipUnless('mongodb'))('rollback engine on the facts store', () => {
  let client: MongoClient;
  let db: Db;
  let store: RollbackStore;
  let t: FakeTarget;

  beforeAll(async () => {
    client = await MongoClient.connect(mongoUri()!);
    db = client.db(uniqueName('rb-engine').replace(/[^a-zA-Z0-9_-]/g, '_'));
    store = await rollbackStore(db);
    t = await startFakeTarget();
  });
  afterAll(async () => {
    await t?.close();
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  async function create(steps: string): Promise<RollbackDoc> {
    const id = deriveRollbackId(tenant.teamId, uniqueName('view'));
    const text = source(t.url, steps);
    const checklist = parseChecklist(text, { file: 'rb-engine.yml' });
    const doc: RollbackDoc = {
      _id: id,
      teamId: tenant.teamId,
      service: 'rb-engine-api',
      checklist: 'rb-engine',
      title: 'rb-engine',
      file: 'rb-engine.yml',
      source: text,
      digest: checklist.digest,
      vars: {},
      channel: 'C0ENGINE1',
      requester: 'U0SRE0001',
      createdAt: new Date(),
      epoch: 1,
    };
    expect(await store.create(doc)).toBe(true);
    return doc;
  }

  const play = (doc: RollbackDoc, hooks: PlaybookHooks, cause = 'start', extra: object = {}) =>
    runPlaybook({
      store,
      tenant,
      rollbackId: doc._id,
      jobId: rollbackJobId(doc._id, cause),
      env: { CI_TOKEN: SECRET },
      hooks,
      abortPollMs: 50,
      ...extra,
    });

  const webhook = (id: string, path: string, extra = '') =>
    `    - id: ${id}\n      type: webhook\n      url: "{{base}}${path}"\n${extra}`;

  it('runs steps in order, pauses at a manual step, resumes on its confirmation and finishes', async () => {
    const doc = await create(
      [
        webhook('revert', '/a/revert'),
        '    - id: db\n      type: manual\n      owner: "@sre"\n',
        '    - id: notify\n      type: slack-notify\n      channel: C0INCIDNT\n      text: rolled back\n',
        '    - id: pm\n      type: postmortem\n',
      ].join(''),
    );
    const hooks = recorder();
    const first = await play(doc, hooks);
    expect(first.outcome).toBe('paused');
    expect(first.view.status).toBe('waiting');
    expect(first.view.current?.step.id).toBe('db');
    expect(t.calls('/a/revert')).toHaveLength(1);
    expect(hooks.renders.at(-1)).toMatchObject({ final: true });

    // Nothing moves without the confirmation: a second job pauses again and calls nothing.
    expect((await play(doc, hooks, 'start')).outcome).toBe('paused');
    expect(t.calls('/a/revert')).toHaveLength(1);

    await store.fact(tenant, doc._id, 'decision:db:0', 'U0SRE0001', { kind: 'confirm' });
    const done = await play(doc, hooks, 'confirm-db');
    expect(done.outcome).toBe('finished');
    expect(done.view.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'done']);
    expect(done.view.steps[1]).toMatchObject({ by: 'U0SRE0001' });
    expect(done.view.finishedAt).toBeInstanceOf(Date);
    expect(hooks.notified).toEqual(['C0INCIDNT:rolled back']);
    expect(hooks.summaries).toHaveLength(1);
    expect(hooks.summaries[0]!.timeline.map((e) => e.text)).toEqual([
      'Rollback started',
      'revert: started',
      'revert: done',
      'db: confirmed',
      'notify: started',
      'notify: done',
      'pm: started',
    ]);
    expect(hooks.audits.map((a) => a[1])).toEqual(['rollback-finished']);
    expect(t.calls('/a/revert')).toHaveLength(1);

    // Re-delivered after the end: nothing runs again.
    expect((await play(doc, hooks, 'confirm-db')).outcome).toBe('finished');
    expect(t.calls('/a/revert')).toHaveLength(1);
  });

  it('a failed step stops the playbook; retry runs it again; skip moves past it', async () => {
    t.script('/b/flaky', 500, 200);
    t.script('/b/broken', 503);
    const doc = await create(
      [webhook('flaky', '/b/flaky'), webhook('broken', '/b/broken'), webhook('after', '/b/after')].join(''),
    );
    const hooks = recorder();
    const first = await play(doc, hooks);
    expect(first.outcome).toBe('paused');
    expect(first.view.status).toBe('failed');
    expect(first.view.current).toMatchObject({ state: 'failed', attempt: 1 });
    expect(first.view.current?.detail).toMatch(/answered HTTP 500/);
    expect(hooks.audits.map((a) => a[1])).toEqual(['rollback-step-failed']);

    await store.fact(tenant, doc._id, 'decision:flaky:1', 'U0SRE0001', { kind: 'retry' });
    const second = await play(doc, hooks, 'retry-flaky-1');
    expect(second.view.steps[0]).toMatchObject({ state: 'done', attempt: 2 });
    expect(second.view.current).toMatchObject({ step: { id: 'broken' }, state: 'failed' });

    await store.fact(tenant, doc._id, 'decision:broken:1', 'U0SRE0001', {
      kind: 'skip',
      reason: 'not needed',
    });
    const third = await play(doc, hooks, 'skip-broken-1');
    expect(third.outcome).toBe('finished');
    expect(third.view.steps[1]).toMatchObject({ state: 'skipped', by: 'U0SRE0001', reason: 'not needed' });
    expect(t.calls('/b/flaky')).toHaveLength(2);
    expect(t.calls('/b/broken')).toHaveLength(1);
    expect(t.calls('/b/after')).toHaveLength(1);
  });

  it('resumes after a worker died mid-step: completed steps are not repeated, the interrupted one restarts', async () => {
    const doc = await create(
      [webhook('one', '/c/one'), webhook('two', '/c/two'), webhook('three', '/c/three')].join(''),
    );
    const jobId = rollbackJobId(doc._id, 'start');
    // What a killed worker leaves: step one done, step two claimed by this job and never finished.
    await store.fact(tenant, doc._id, 'claim:one:1', undefined, {
      job: jobId,
      leaseUntil: Date.now() + 60_000,
    });
    await store.fact(tenant, doc._id, 'done:one', undefined, {
      attempt: 1,
      observed: 'HTTP 200',
      detail: '',
    });
    await store.fact(tenant, doc._id, 'claim:two:1', undefined, {
      job: jobId,
      leaseUntil: Date.now() + 60_000,
    });
    const out = await play(doc, recorder());
    expect(out.outcome).toBe('finished');
    expect(t.calls('/c/one')).toHaveLength(0);
    expect(t.calls('/c/two')).toHaveLength(1);
    expect(t.calls('/c/three')).toHaveLength(1);
    expect(out.view.steps[1]).toMatchObject({ state: 'done', attempt: 2 });
  });

  it('leaves a step claimed by another live job alone, and takes it over once that lease has run out', async () => {
    const doc = await create(webhook('only', '/d/only'));
    await store.fact(tenant, doc._id, 'claim:only:1', undefined, {
      job: 'other-job',
      leaseUntil: Date.now() + 60_000,
    });
    const yielded = await play(doc, recorder());
    expect(yielded.outcome).toBe('yielded');
    expect(t.calls('/d/only')).toHaveLength(0);
    const later = await play(doc, recorder(), 'start', { now: () => new Date(Date.now() + 120_000) });
    expect(later.outcome).toBe('finished');
    expect(t.calls('/d/only')).toHaveLength(1);
  });

  it('two jobs racing on one playbook run each step once', async () => {
    t.script('/e/slow', { status: 200 });
    const doc = await create([webhook('slow', '/e/slow'), webhook('next', '/e/next')].join(''));
    const results = await Promise.all([
      play(doc, recorder(), 'start'),
      play(doc, recorder(), 'retry-x-1'),
      play(doc, recorder(), 'confirm-y'),
    ]);
    expect(results.map((r) => r.outcome)).toContain('finished');
    expect(t.calls('/e/slow')).toHaveLength(1);
    expect(t.calls('/e/next')).toHaveLength(1);
    const facts = await store.factsFor(tenant, doc._id);
    expect(
      facts
        .filter((f) => f.kind.startsWith('claim:'))
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['claim:next:1', 'claim:slow:1']);
  });

  it('a hung step fails on its timeout; an abort interrupts a running step', async () => {
    t.script('/f/hang', 'hang');
    t.script('/f/held', 'hold');
    const hung = await create(webhook('hang', '/f/hang', '      timeout: 300ms\n'));
    const out = await play(hung, recorder());
    expect(out.view.current).toMatchObject({ state: 'failed' });
    expect(out.view.current?.detail).toMatch(/^no answer from .*\/f\/hang within 300ms$/);

    const held = await create([webhook('held', '/f/held'), webhook('never', '/f/never')].join(''));
    const running = play(held, recorder());
    await waitUntil(() => t.calls('/f/held').length === 1);
    await store.fact(tenant, held._id, 'aborted', 'U0SRE0001', { reason: 'wrong service' });
    const aborted = await running;
    expect(aborted.outcome).toBe('aborted');
    expect(aborted.view.aborted).toMatchObject({ by: 'U0SRE0001', reason: 'wrong service' });
    expect(aborted.view.steps[0]?.detail).toMatch(/interrupted/);
    expect(t.calls('/f/never')).toHaveLength(0);
    t.release('/f/held');
  });

  it('never stores a secret: a target echoing the token has it redacted in the outcome', async () => {
    const doc = await create(
      `    - id: echo\n      type: webhook\n      url: "{{base}}/g/echo?token=\${secret:CI_TOKEN}"\n      headers: { Authorization: "Bearer \${secret:CI_TOKEN}" }\n`,
    );
    t.script('/g/echo', { status: 500, body: `{"error":"bad token ${SECRET}"}` });
    const out = await play(doc, recorder());
    expect(out.view.current?.detail).toContain('[redacted]');
    const facts = await store.factsFor(tenant, doc._id);
    expect(JSON.stringify(facts)).not.toContain(SECRET);
    expect(t.calls('/g/echo')[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  });
});

describe('nextAttempt', () => {
  const fact = (kind: string, data: Record<string, unknown> = {}) => ({
    _id: `rb|${kind}`,
    rollbackId: 'rb',
    teamId: 'T',
    kind,
    at: new Date(),
    data,
  });
  it('starts at 1, takes over its own job or an expired lease, and leaves a live claim alone', () => {
    expect(nextAttempt([], 's', 'job', 0)).toBe(1);
    const claim = fact('claim:s:1', { job: 'a', leaseUntil: 1000 });
    expect(nextAttempt([claim], 's', 'a', 0)).toBe(2);
    expect(nextAttempt([claim], 's', 'b', 999)).toBeUndefined();
    expect(nextAttempt([claim], 's', 'b', 1000)).toBe(2);
    expect(nextAttempt([claim, fact('failed:s:1')], 's', 'b', 0)).toBe(2);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

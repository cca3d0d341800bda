import { describe, expect, it } from 'vitest';
import { parseChecklist } from '../../src/checklist/load.js';
import { planPlaybook } from '../../src/rollback/plan.js';
import { deriveRollbackView } from '../../src/rollback/view.js';
import {
  ROLLBACK_ACTIONS,
  renderPostmortem,
  renderRollbackConfirm,
  renderRollbackDryRunModal,
  renderRollbackLocked,
  renderRollbackParent,
  renderRollbackPlan,
  renderRollbackRefused,
  renderRollbackSteps,
  renderSkipModal,
} from '../../src/slack/render/rollback.js';
import type { RollbackDoc, RollbackFactDoc } from '../../src/store/rollback-store.js';
import { validateBlocks } from '../helpers/slack-fake.js';

const SOURCE = `
name: rb-render
title: "Render <!channel> & friends"
service: rb-render-api
vars: { base: "https://api.example.com" }
roles: { sre: { users: [U0SRE0001] }, dba: { groups: [S0DBA0001] } }
phases:
  - id: health
    title: Health
    items:
      - { id: up, title: Up, check: { type: http, url: "{{base}}/health", expect: { status: 200 } } }
rollback:
  allowed: ["@sre", U0LEAD0001]
  steps:
    - id: revert
      title: Revert <!here>
      type: webhook
      url: "https://user:hunter2@ci.example.com/dispatch?token=abc123&ref=main"
      headers: { Authorization: "Bearer \${secret:CI_TOKEN}", X-Api-Key: literal-key-123, Accept: application/json }
      body: { ref: main, password: inline-pass, nested: { apiKey: "\${secret:NESTED}" } }
    - { id: wait, type: wait-for, item: health/up, every: 5s, timeout: 2m }
    - { id: db, title: Restore DB, type: manual, owner: "@dba", instructions: "Restore the snapshot\\nthen count documents" }
    - { id: flush, type: redis-delete, url: "redis://:s3cret@cache.example.com:6380/2", pattern: "cache:*" }
    - { id: notify, type: slack-notify, channel: "#incidents", text: "Rolled back <!channel>" }
    - { id: status, type: statuspage, url: "https://api.statuspage.io/v1/pages/p1/incidents", method: POST, body: { incident: { name: X } }, expectStatus: [201] }
    - { id: pm, type: postmortem, channel: "#postmortems" }
`;

const checklist = parseChecklist(SOURCE, { file: 'rb-render.yml' });
const steps = checklist.spec.rollback!.steps;
const doc: RollbackDoc = {
  _id: 'rb-render0001',
  teamId: 'T0RENDER1',
  service: 'rb-render-api',
  checklist: 'rb-render',
  title: 'Render',
  file: 'rb-render.yml',
  source: SOURCE,
  digest: checklist.digest,
  vars: {},
  targetRunId: 'r-target0001',
  channel: 'C0RENDER1',
  requester: 'U0SRE0001',
  createdAt: new Date('2026-11-22T14:00:00Z'),
  epoch: 1,
};

let seq = 0;
function fact(kind: string, data?: Record<string, unknown>, by?: string): RollbackFactDoc {
  seq += 1;
  return {
    _id: `${doc._id}|${kind}`,
    rollbackId: doc._id,
    teamId: doc.teamId,
    kind,
    at: new Date(Date.UTC(2026, 10, 22, 14, 0, seq)),
    ...(by ? { by } : {}),
    ...(data ? { data } : {}),
  };
}

const blocksOk = (blocks: unknown, surface: 'message' | 'modal' = 'message') =>
  expect(validateBlocks(blocks, surface)).toEqual([]);

describe('rollback view', () => {
  it('derives states, the current step and the status from facts', () => {
    const queued = deriveRollbackView(doc, steps, []);
    expect(queued.status).toBe('queued');
    const facts = [
      fact('claim:revert:1', { job: 'j', leaseUntil: 0 }),
      fact('failed:revert:1', { detail: 'HTTP 500' }),
    ];
    const failed = deriveRollbackView(doc, steps, facts);
    expect(failed).toMatchObject({
      status: 'failed',
      current: { state: 'failed', attempt: 1, detail: 'HTTP 500' },
    });
    facts.push(
      fact('decision:revert:1', { kind: 'retry' }, 'U0SRE0001'),
      fact('claim:revert:2', { job: 'j', leaseUntil: 0 }),
    );
    expect(deriveRollbackView(doc, steps, facts)).toMatchObject({
      status: 'running',
      current: { state: 'running', attempt: 2 },
    });
    facts.push(
      fact('done:revert', { observed: 'HTTP 202' }),
      fact('claim:wait:1', {}),
      fact('done:wait', {}),
    );
    const waiting = deriveRollbackView(doc, steps, facts);
    expect(waiting).toMatchObject({ status: 'waiting', current: { step: { id: 'db' }, state: 'waiting' } });
    facts.push(fact('decision:db:0', { kind: 'skip', reason: 'no migration' }, 'U0DBA0001'));
    const skipped = deriveRollbackView(doc, steps, facts);
    expect(skipped.steps[2]).toMatchObject({ state: 'skipped', by: 'U0DBA0001', reason: 'no migration' });
    expect(skipped.status).toBe('running');
    facts.push(fact('aborted', { reason: 'enough' }, 'U0SRE0001'));
    const aborted = deriveRollbackView(doc, steps, facts);
    expect(aborted).toMatchObject({
      status: 'aborted',
      ended: true,
      aborted: { by: 'U0SRE0001', reason: 'enough' },
    });
    expect(aborted.timeline.map((e) => e.text)).toEqual([
      'Rollback started',
      'Revert <!here>: started',
      'Revert <!here>: failed',
      'Revert <!here>: retry',
      'Revert <!here>: attempt 2 started',
      'Revert <!here>: done',
      'wait: started',
      'wait: done',
      'Restore DB: skipped',
      'Rollback aborted',
    ]);
  });
});

describe('rollback renderers', () => {
  const plan = planPlaybook(checklist);

  it('the dry-run plan shows requests with secret references and masks inline credentials', () => {
    const revert = plan[0]!;
    const text = JSON.stringify(revert.lines);
    expect(text).toContain('Bearer ${secret:CI_TOKEN}');
    expect(text).toContain('X-Api-Key: [redacted]');
    expect(text).toContain('Accept: application/json');
    expect(text).not.toContain('literal-key-123');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc123');
    expect(text).toContain('ref=main');
    expect(text).not.toContain('inline-pass');
    expect(text).toContain('${secret:NESTED}');
    expect(JSON.stringify(plan[3]!.lines)).not.toContain('s3cret');
    expect(plan.map((p) => p.lines[0]?.value)).toEqual([
      expect.stringMatching(
        /^POST https:\/\/user:redacted@ci\.example\.com\/dispatch\?token=redacted&ref=main$/,
      ),
      'item health/up',
      'role dba',
      'redis://:redacted@cache.example.com:6380/2',
      '#incidents',
      'POST https://api.statuspage.io/v1/pages/p1/incidents',
      '#postmortems',
    ]);
  });

  it('renders the plan, the modals and the thread within Slack limits, escaping user text', () => {
    const message = renderRollbackPlan({
      checklist: 'rb-render',
      service: doc.service,
      target: {},
      steps: plan,
    });
    blocksOk(message.blocks);
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(JSON.stringify(message)).not.toContain('<!here>');
    const modal = renderRollbackConfirm({
      checklist: 'rb-render',
      title: checklist.spec.title!,
      service: doc.service,
      target: {
        run: { _id: 'r-target0001', status: 'approved', requester: 'U0SRE0001', createdAt: doc.createdAt },
      },
      steps: plan,
      channel: 'C0RENDER1',
      metadata: 'x',
    });
    blocksOk(modal.blocks, 'modal');
    expect(JSON.stringify(modal)).not.toMatch(/<!channel>|<!here>/);
    blocksOk(
      renderRollbackDryRunModal({ checklist: 'rb-render', service: doc.service, target: {}, steps: plan })
        .blocks,
      'modal',
    );
    blocksOk(renderSkipModal(doc._id, 'revert', 1, 'Revert').blocks, 'modal');

    const failed = deriveRollbackView(doc, steps, [
      fact('claim:revert:1', {}),
      fact('failed:revert:1', { detail: `answered HTTP 500 <!channel> ${'x'.repeat(5000)}` }),
    ]);
    const thread = renderRollbackSteps(failed);
    blocksOk(thread.blocks);
    const text = JSON.stringify(thread);
    for (const id of [ROLLBACK_ACTIONS.retry, ROLLBACK_ACTIONS.skip, ROLLBACK_ACTIONS.abort])
      expect(text).toContain(id);
    expect(text).not.toContain(ROLLBACK_ACTIONS.confirm);
    expect(text).not.toContain('<!channel>');
    blocksOk(renderRollbackParent(failed).blocks);

    const waiting = deriveRollbackView(doc, steps, [
      fact('claim:revert:1', {}),
      fact('done:revert', {}),
      fact('claim:wait:1', {}),
      fact('done:wait', {}),
    ]);
    const manual = JSON.stringify(renderRollbackSteps(waiting));
    expect(manual).toContain(ROLLBACK_ACTIONS.confirm);
    expect(manual).toContain('waiting for role _dba_ to confirm');
    expect(manual).toContain('\\n> Restore the snapshot\\n> then count documents');

    const pm = renderPostmortem(waiting);
    blocksOk(pm.blocks);
    expect(JSON.stringify(pm)).toMatch(/• 14:00:\d\d Revert &lt;!here&gt;: started/);
  });

  it('refusals name the rule and link the running rollback', () => {
    const refused = renderRollbackRefused({
      service: doc.service,
      checklist: 'rb-render',
      allowed: checklist.spec.rollback!.allowed,
    });
    expect(JSON.stringify(refused)).toContain('role _sre_, <@U0LEAD0001>');
    blocksOk(refused.blocks);
    const locked = renderRollbackLocked({
      service: doc.service,
      holder: doc._id,
      permalink: 'https://x.slack.com/archives/C0RENDER1/p1700000000000100',
      requester: 'U0SRE0001',
      since: doc.createdAt,
      status: 'waiting',
    });
    expect(JSON.stringify(locked)).toContain(
      '<https://x.slack.com/archives/C0RENDER1/p1700000000000100|rb-render0001>',
    );
    const forged = renderRollbackLocked({
      service: doc.service,
      holder: doc._id,
      permalink: 'javascript:alert(1)|x',
      since: doc.createdAt,
    });
    expect(JSON.stringify(forged)).not.toContain('javascript');
  });

  it('a playbook of many steps still fits one message', () => {
    const many = Array.from(
      { length: 80 },
      (_, i) => `    - { id: s${i}, type: webhook, url: "https://ci.example.com/${'p'.repeat(200)}/${i}" }`,
    ).join('\n');
    const big = parseChecklist(
      SOURCE.replace(/rollback:[\s\S]*$/, `rollback:\n  allowed: "@sre"\n  steps:\n${many}\n`),
      {
        file: 'big.yml',
      },
    );
    const view = deriveRollbackView({ ...doc, source: '' }, big.spec.rollback!.steps, []);
    const m = renderRollbackSteps(view);
    blocksOk(m.blocks);
    expect(JSON.stringify(m.blocks).length).toBeLessThan(12_000);
    blocksOk(
      renderRollbackPlan({ checklist: 'big', service: 'x', target: {}, steps: planPlaybook(big) }).blocks,
    );
    blocksOk(
      renderRollbackDryRunModal({ checklist: 'big', service: 'x', target: {}, steps: planPlaybook(big) })
        .blocks,
      'modal',
    );
  });
});

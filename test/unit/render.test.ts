/**
 * The Block Kit renderers: snapshots of a representative run, every message checked the way
 * Slack checks it (`validateBlocks`), and adversarial inputs — huge phases, 10 KB texts,
 * injection strings — that must still produce messages Slack accepts and that ping nobody.
 */
import type { KnownBlock } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { quorum } from '../../src/approvals/policy.js';
import type { ApprovalGateSpec, Principal } from '../../src/checklist/schema.js';
import { phaseStatus, runOutcome } from '../../src/run/outcome.js';
import type { ItemResult, ItemStatus, PhaseResult } from '../../src/run/types.js';
import { ACTIONS, decodeValue, encodeValue, VIEWS } from '../../src/slack/render/actions.js';
import { code, escapeText, plain, truncate } from '../../src/slack/render/escape.js';
import {
  rejectModal,
  renderHelp,
  renderNotice,
  renderParent,
  renderPhase,
  renderRunList,
  renderSignoff,
  renderStatus,
  renderUsage,
  type SlackMessage,
  tickNoteModal,
} from '../../src/slack/render/run.js';
import type { GateView, RunView } from '../../src/state/run-view.js';
import type { RunDoc, RunStatus } from '../../src/store/run-store.js';
import { validateBlocks } from '../helpers/slack-fake.js';

const CREATED_AT = new Date('2026-11-22T13:40:00Z');
const NOW = new Date('2026-11-22T14:30:00Z');
const RUN_ID = 'r-abc234defg';
const INJECTION =
  '<!channel> <!here> <!everyone> @channel @here <@UEVIL123> <#C0EVIL|x> <http://evil.example|click> &amp;';

// ---------------------------------------------------------------------------------------------
// Fixture builder
// ---------------------------------------------------------------------------------------------

function item(phaseId: string, id: string, over: Partial<ItemResult> = {}): ItemResult {
  return {
    key: `${phaseId}/${id}`,
    phaseId,
    itemId: id,
    title: id,
    severity: 'critical',
    kind: 'probe',
    type: 'http',
    status: 'pass',
    observed: '',
    expected: '',
    detail: '',
    durationMs: 12,
    measurements: 1,
    attempts: 1,
    startedAt: CREATED_AT.toISOString(),
    finishedAt: CREATED_AT.toISOString(),
    ...over,
  };
}

function manual(
  phaseId: string,
  id: string,
  owners: Principal[],
  over: Partial<ItemResult> = {},
): ItemResult {
  return item(phaseId, id, {
    kind: 'manual',
    type: 'manual',
    status: 'pending',
    detail: 'queued',
    owners,
    ...over,
  });
}

function phase(id: string, title: string, items: ItemResult[]): PhaseResult {
  return { id, title, status: phaseStatus(items), items };
}

function gate(
  spec: Partial<ApprovalGateSpec>,
  approvals: GateView['approvals'],
  voided: GateView['voided'] = [],
): GateView {
  const full: ApprovalGateSpec = {
    id: 'release',
    required: 1,
    roles: [],
    allowSelfApproval: false,
    expiresIn: 4 * 3600_000,
    ...spec,
  };
  const q = quorum(
    full,
    approvals.map((a) => ({ user: a.user, roles: a.roles })),
  );
  return {
    gate: full,
    quorum: q,
    approvals,
    voided,
    open: !q.met,
    expiresAt: new Date('2026-11-22T18:03:00Z'),
  };
}

function runDoc(over: Partial<RunDoc> = {}): RunDoc {
  return {
    _id: RUN_ID,
    teamId: 'T0TEAM',
    checklist: 'payments-api',
    title: 'Payments API — production release',
    service: 'payments-api',
    env: 'production',
    vars: { version: '2.14.0' },
    digest: '9f2c1e4b7a3d5f60c8e2b1a4d7f9e3c2b5a8d1f4e7c0b3a6d9f2e5c8b1a4d7f0',
    source: 'name: payments-api\n',
    file: 'checklists/payments-api.yml',
    channel: 'C0DEPLOY',
    requester: 'U0REQ',
    createdAt: CREATED_AT,
    status: 'awaiting-approval',
    updatedAt: NOW,
    ...over,
  };
}

function representativePhases(): PhaseResult[] {
  return [
    phase('preflight', 'Pre-flight', [
      item('preflight', 'tls', {
        title: 'TLS certificate valid for 30+ days',
        type: 'tls',
        observed: 'expires in 81 days',
        expected: '≥ 30 days',
      }),
      item('preflight', 'health', { title: 'Health endpoint answers 200', observed: '200', expected: '200' }),
      item('preflight', 'headers', {
        title: 'Security headers present',
        type: 'headers',
        status: 'warn',
        severity: 'warning',
        observed: 'HSTS max-age 86400',
        expected: 'HSTS max-age ≥ 31536000',
        detail: 'Strict-Transport-Security max-age is shorter than a year',
      }),
    ]),
    phase('performance', 'Performance', [
      item('performance', 'latency', {
        title: 'p95 latency under 25 ms',
        type: 'latency',
        severity: 'warning',
        status: 'fail',
        observed: 'p95 41 ms',
        expected: 'p95 ≤ 25 ms',
        detail: '200 requests; p95 41 ms exceeds 25 ms',
      }),
      item('performance', 'rate-limit', {
        title: 'Rate limit enforced',
        observed: '429 after 100',
        expected: '429',
      }),
    ]),
    phase('people', 'People', [
      manual('people', 'runbook', [{ user: 'U0OPS' }], {
        title: 'Runbook reviewed',
        status: 'pass',
        observed: 'done by <@U0OPS>',
        tick: { by: 'U0OPS', at: '2026-11-22T13:55:00Z', note: 'Reviewed with on-call; see OPS-42.' },
      }),
      manual('people', 'comms', [{ role: 'support' }, { group: 'S0SUPPORT' }], {
        title: 'Support team informed',
        severity: 'warning',
      }),
    ]),
  ];
}

/** The latency check made critical: its failure blocks the release. */
function blockedPhases(): PhaseResult[] {
  const phases = representativePhases();
  const items = phases[1]!.items.map((i) =>
    i.itemId === 'latency' ? { ...i, severity: 'critical' as const } : i,
  );
  phases[1] = phase('performance', 'Performance', items);
  return phases;
}

/** Two votes and one voided: the release gate still needs a second approver. */
function awaitingGates(): GateView[] {
  return [
    gate(
      { id: 'release', required: 2, roles: ['deployment-approver'] },
      [{ user: 'U1', at: new Date('2026-11-22T14:03:00Z'), roles: ['deployment-approver'] }],
      [{ user: 'U3', at: new Date('2026-11-22T13:58:00Z') }],
    ),
    gate({ id: 'tech-lead', title: 'Technical lead', roles: ['tech-lead'] }, [
      { user: 'U2', at: new Date('2026-11-22T14:05:00Z'), roles: ['tech-lead'] },
    ]),
  ];
}

function approvedGates(): GateView[] {
  return [
    gate(
      { id: 'release', required: 2, roles: ['deployment-approver'] },
      [
        { user: 'U1', at: new Date('2026-11-22T14:03:00Z'), roles: ['deployment-approver'] },
        { user: 'U4', at: new Date('2026-11-22T14:09:00Z'), roles: ['deployment-approver', 'sre'] },
      ],
      [{ user: 'U3', at: new Date('2026-11-22T13:58:00Z') }],
    ),
    gate({ id: 'tech-lead', title: 'Technical lead', roles: ['tech-lead'] }, [
      { user: 'U2', at: new Date('2026-11-22T14:05:00Z'), roles: ['tech-lead'] },
    ]),
  ];
}

function makeView(status: RunStatus, over: Partial<RunView> = {}): RunView {
  const phases = over.phases ?? representativePhases();
  return {
    run: runDoc({ status }),
    status,
    outcome: runOutcome(phases, status === 'cancelled'),
    phases,
    runningPhases: [],
    gates: status === 'approved' ? approvedGates() : awaitingGates(),
    evidence: '3fa1c2d4e5b6a7f8',
    waivers: new Map(),
    ...over,
  };
}

// ---------------------------------------------------------------------------------------------
// Inspection helpers
// ---------------------------------------------------------------------------------------------

/** Every string a user could read or Slack could parse: texts, labels, values. */
function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) allStrings(v, out);
  return out;
}

const LIVE_TOKENS =
  /<!channel>|<!here>|<!everyone>|<@UEVIL|<#C0EVIL|<http|(?<![\w\u200d])@(channel|here|everyone)\b/i;

function expectNoInjection(msg: unknown): void {
  for (const s of allStrings(msg)) expect(s).not.toMatch(LIVE_TOKENS);
}

function expectValidMessage(msg: SlackMessage): void {
  expect(validateBlocks(msg.blocks, 'message')).toEqual([]);
  expect(msg.blocks.length).toBeLessThanOrEqual(50);
  expect(JSON.stringify(msg).length).toBeLessThan(12_000);
  expect(msg.text.length).toBeGreaterThan(0);
}

function buttons(blocks: readonly KnownBlock[]): Array<{ action_id: string; value: string; text: string }> {
  const found: Array<{ action_id: string; value: string; text: string }> = [];
  for (const b of blocks) {
    const elements =
      b.type === 'actions' ? b.elements : b.type === 'section' && b.accessory ? [b.accessory] : [];
    for (const e of elements) {
      if (e.type === 'button')
        found.push({ action_id: e.action_id ?? '', value: e.value ?? '', text: e.text.text });
    }
  }
  return found;
}

function textOf(msg: SlackMessage): string {
  return allStrings(msg.blocks).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Escaping and the action contract
// ---------------------------------------------------------------------------------------------

describe('escape', () => {
  it('neutralises mentions, broadcasts and links in mrkdwn', () => {
    const out = escapeText(INJECTION);
    expect(out).not.toMatch(LIVE_TOKENS);
    expect(out).toContain('&lt;!channel&gt;');
    expect(out).toContain('&amp;amp;');
    expect(out).toContain('@\u200dchannel');
  });

  it('truncates with an ellipsis and never splits a surrogate pair', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 3)).toBe('abc');
    const cut = truncate('ab😀😀', 4);
    expect(cut).toBe('ab…');
    expect(cut.length).toBeLessThanOrEqual(4);
  });

  it('keeps plain_text readable and one line, with no live token', () => {
    const out = plain(`Deploy\n${INJECTION}`, 200);
    expect(out).not.toMatch(/\n/);
    expect(out).not.toMatch(LIVE_TOKENS);
    expect(plain('x'.repeat(500), 75)).toHaveLength(75);
  });

  it('keeps a backtick from ending a code span early', () => {
    expect(code('a`b', 20)).toBe('`aˋb`');
  });
});

describe('action values', () => {
  it('round-trips run ids, item keys and gate ids', () => {
    expect(encodeValue([RUN_ID, 'smoke/health'])).toBe('r-abc234defg|smoke/health');
    expect(decodeValue('r-abc234defg|release')).toEqual([RUN_ID, 'release']);
  });

  it('round-trips parts that contain the separator', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 5 }), (parts) => {
        expect(decodeValue(encodeValue(parts))).toEqual(parts);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses values Slack would refuse', () => {
    expect(() => encodeValue(['x'.repeat(2001)])).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// A representative run
// ---------------------------------------------------------------------------------------------

describe('representative run', () => {
  it('parent awaiting approval: gates, voided votes, vote buttons', () => {
    const msg = renderParent(makeView('awaiting-approval'), { env: 'production' });
    expectValidMessage(msg);
    expect(msg).toMatchSnapshot();
    const text = textOf(msg);
    expect(text).toContain('1 earlier approval was voided because a re-run changed the results');
    expect(text).toContain('Expires 2026-11-22 18:03 UTC');
    const votes = buttons(msg.blocks);
    // The technical-lead gate is met: only the release gate still takes votes.
    expect(votes.map((b) => [b.action_id, decodeValue(b.value)])).toEqual([
      [ACTIONS.approve, [RUN_ID, 'release']],
      [ACTIONS.reject, [RUN_ID, 'release']],
    ]);
  });

  it('parent approved: sign-off summary and Mark deployed', () => {
    const msg = renderParent(makeView('approved'));
    expectValidMessage(msg);
    expect(msg).toMatchSnapshot();
    expect(textOf(msg)).toContain('Approved by: <@U1> (deployment-approver) — 2026-11-22 14:03 UTC');
    expect(buttons(msg.blocks).map((b) => b.action_id)).toEqual([ACTIONS.deployed]);
  });

  it('parent rejected shows who and the escaped reason', () => {
    const view = makeView('rejected', {
      rejection: {
        user: 'U1',
        reason: `p95 is too high\n${INJECTION}`,
        at: new Date('2026-11-22T14:10:00Z'),
      },
    });
    const msg = renderParent(view);
    expectValidMessage(msg);
    expectNoInjection(msg);
    expect(msg).toMatchSnapshot();
    expect(buttons(msg.blocks)).toEqual([]);
  });

  it('parent blocked lists the blocking items with why', () => {
    const msg = renderParent(makeView('blocked', { phases: blockedPhases() }));
    expectValidMessage(msg);
    expect(msg).toMatchSnapshot();
    expect(textOf(msg)).toContain('*Blocked:* 1 critical item failed');
    expect(textOf(msg)).toContain('p95 latency under 25 ms');
  });

  it.each<RunStatus>(['queued', 'running', 'awaiting-people', 'passed', 'cancelled', 'expired', 'errored'])(
    'parent %s renders a valid status line',
    (status) => {
      const view = makeView(status, {
        runningPhases: status === 'running' ? ['performance'] : [],
        ...(status === 'cancelled' ? { cancelled: { by: 'U0REQ', at: NOW } } : {}),
      });
      const msg = renderParent(view);
      expectValidMessage(msg);
      expect(msg.blocks.find((b) => b.block_id === 'run:status')).toMatchSnapshot();
      // Votes only while awaiting approval; an expired gate is shown but takes no more clicks.
      expect(buttons(msg.blocks).map((b) => b.action_id)).toEqual(
        status === 'passed' ? [ACTIONS.deployed] : [],
      );
    },
  );

  /** The same view with the people phase's manual items all pending (no tick yet). */
  function unticked(view: RunView): RunView {
    return {
      ...view,
      phases: view.phases.map((p) => ({
        ...p,
        status: p.id === 'people' ? ('pending' as const) : p.status,
        items: p.items.map((i) =>
          i.kind === 'manual' ? { ...i, status: 'pending' as const, observed: '', tick: undefined } : i,
        ),
      })),
    };
  }

  it('the parent is the same from the first probe to the last tick (one write per tick, none as phases end)', () => {
    const waiting = makeView('awaiting-people');
    const msg = renderParent(waiting);
    expectValidMessage(msg);
    expect(textOf(msg)).toContain('In progress');
    expect(textOf(msg)).toContain('manual items wait there for their owners');
    expect(textOf(msg)).toContain('*People* — 2 manual items');
    expect(textOf(msg)).not.toContain('Support team informed');
    const early = makeView('running', {
      runningPhases: ['preflight'],
      phases: representativePhases().map((p) => ({
        ...p,
        status: 'pending' as const,
        items: p.items.map((i) => ({ ...i, status: 'pending' as const, observed: '', detail: '' })),
      })),
    });
    expect(renderParent(early)).toEqual(msg);
    expect(renderParent(unticked(waiting))).toEqual(msg);
  });

  it('a blocked parent does not change when a tick completes a phase (its icon is judged by probes)', () => {
    const blocked = makeView('blocked');
    const msg = renderParent(blocked);
    expect(textOf(msg)).toContain('✋ *People* — 2 manual items');
    expect(renderParent(unticked(blocked))).toEqual(msg);
  });

  it('an errored parent says when and why the run stopped, and how to start a new one', () => {
    const msg = renderParent(makeView('errored', { errored: { reason: 'channel_not_found', at: NOW } }));
    expectValidMessage(msg);
    const text = textOf(msg);
    expect(text).toContain('Errored');
    expect(text).toContain('`channel_not_found`');
    expect(text).toContain('/deploy-check run');
    expect(buttons(msg.blocks)).toEqual([]);
  });

  it.each(['preflight', 'performance', 'people'])('phase %s', (phaseId) => {
    const msg = renderPhase(makeView('awaiting-approval'), phaseId);
    expectValidMessage(msg);
    expect(msg).toMatchSnapshot();
    expect(buttons(msg.blocks).at(-1)).toMatchObject({
      action_id: ACTIONS.rerun,
      value: `${RUN_ID}|${phaseId}`,
    });
  });

  it('phase shows measured vs expected and why', () => {
    const text = textOf(renderPhase(makeView('awaiting-approval'), 'performance'));
    expect(text).toContain('observed `p95 41 ms` · expected `p95 ≤ 25 ms`');
    expect(text).toContain('_why:_ 200 requests; p95 41 ms exceeds 25 ms');
  });

  it('a pending manual item offers Done and Done with note; a ticked one shows who, when and the note', () => {
    const msg = renderPhase(makeView('awaiting-approval'), 'people');
    expect(buttons(msg.blocks).filter((b) => b.action_id !== ACTIONS.rerun)).toEqual([
      { action_id: ACTIONS.tick, value: `${RUN_ID}|people/comms`, text: 'Done' },
      { action_id: ACTIONS.tickNote, value: `${RUN_ID}|people/comms`, text: 'Done with note…' },
    ]);
    const text = textOf(msg);
    expect(text).toContain('Done by <@U0OPS> · 2026-11-22 13:55 UTC');
    expect(text).toContain('> Reviewed with on-call; see OPS-42.');
    expect(text).toContain('Owners: role _support_, <!subteam^S0SUPPORT>');
  });

  it('closing a run does not change its phase messages (no Slack write per phase at the end)', () => {
    const open = renderPhase(makeView('awaiting-approval'), 'people');
    for (const status of ['approved', 'rejected', 'cancelled'] as const) {
      const msg = renderPhase(makeView(status), 'people');
      expectValidMessage(msg);
      expect(msg).toEqual(open);
    }
  });

  it('unknown phase renders a notice, not a crash', () => {
    const msg = renderPhase(makeView('running'), 'nope');
    expectValidMessage(msg);
    expect(textOf(msg)).toContain('`nope`');
  });

  it('sign-off of an approved run names each approver with role, time, evidence and digest', () => {
    const msg = renderSignoff(makeView('approved'));
    expectValidMessage(msg);
    expect(msg).toMatchSnapshot();
    const text = textOf(msg);
    expect(text).toContain('Approved by: <@U1> (deployment-approver) — 2026-11-22 14:03 UTC');
    expect(text).toContain('Technical lead: <@U2> (tech-lead) — 2026-11-22 14:05 UTC');
    expect(text).toContain('`3fa1c2d4e5b6a7f8`');
    expect(text).toContain('`9f2c1e4b7a3d`');
    expect(text).not.toContain('<@U3>');
  });

  it.each<RunStatus>(['rejected', 'blocked', 'cancelled', 'passed', 'expired', 'errored'])(
    'sign-off %s',
    (status) => {
      const view = makeView(status, {
        ...(status === 'blocked' ? { phases: blockedPhases() } : {}),
        ...(status === 'rejected' ? { rejection: { user: 'U1', reason: 'Not today.', at: NOW } } : {}),
        ...(status === 'cancelled' ? { cancelled: { by: 'U0REQ', at: NOW } } : {}),
      });
      const msg = renderSignoff(view);
      expectValidMessage(msg);
      expect(msg).toMatchSnapshot();
    },
  );

  it('reject modal', () => {
    const view = rejectModal(RUN_ID, 'release', `Payments ${INJECTION}`);
    expect(validateBlocks(view.blocks, 'modal')).toEqual([]);
    expectNoInjection(view);
    expect(view).toMatchSnapshot();
    expect(view.callback_id).toBe(VIEWS.reject);
    expect(decodeValue(view.private_metadata ?? '')).toEqual([RUN_ID, 'release']);
    expect(view.blocks.find((b) => b.block_id === 'reason')).toMatchObject({
      type: 'input',
      element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: 2000 },
    });
    expect(view.blocks.find((b) => b.block_id === 'reason')).not.toHaveProperty('optional');
    expect(view.title.text.length).toBeLessThanOrEqual(24);
  });

  it('tick-note modal', () => {
    const view = tickNoteModal(RUN_ID, 'people/comms', 'Support team informed');
    expect(validateBlocks(view.blocks, 'modal')).toEqual([]);
    expect(view).toMatchSnapshot();
    expect(view.callback_id).toBe(VIEWS.tickNote);
    expect(decodeValue(view.private_metadata ?? '')).toEqual([RUN_ID, 'people/comms']);
    expect(view.blocks.find((b) => b.block_id === 'note')).toMatchObject({
      optional: true,
      element: { action_id: 'note' },
    });
  });

  it('run list, status, help, usage and notice', () => {
    const runs = [
      runDoc({ status: 'approved' }),
      runDoc({
        _id: 'r-zzz234defg',
        status: 'blocked',
        env: undefined,
        createdAt: new Date('2026-11-20T09:00:00Z'),
      }),
    ];
    const messages = {
      list: renderRunList(runs, NOW),
      empty: renderRunList([], NOW),
      status: renderStatus(makeView('awaiting-approval')),
      help: renderHelp(['payments-api', 'search']),
      usage: renderUsage('unknown subcommand "<!channel>"'),
      notice: renderNotice('Run r-abc234defg was cancelled by <@UEVIL123>'),
    };
    for (const msg of Object.values(messages)) {
      expectValidMessage(msg);
      expectNoInjection(msg);
    }
    expect(messages).toMatchSnapshot();
    expect(textOf(messages.list)).toContain('50 min ago');
    expect(textOf(messages.empty)).toContain('&lt;checklist&gt;');
  });

  it('renders the same view identically every time', () => {
    for (const status of ['awaiting-approval', 'approved', 'blocked'] as const) {
      const view = makeView(status);
      expect(JSON.stringify(renderParent(view))).toBe(JSON.stringify(renderParent(structuredClone(view))));
      expect(JSON.stringify(renderSignoff(view))).toBe(JSON.stringify(renderSignoff(view)));
      for (const p of view.phases) {
        expect(JSON.stringify(renderPhase(view, p.id))).toBe(JSON.stringify(renderPhase(view, p.id)));
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Adversarial inputs
// ---------------------------------------------------------------------------------------------

const STATUSES: ItemStatus[] = ['pass', 'warn', 'fail', 'error', 'inconclusive', 'skipped', 'pending'];
const BIG = `${INJECTION} 🚀👩‍👩‍👧 ${'x'.repeat(10_000)}`;

function hugePhase(count: number, text: (i: number) => string): PhaseResult {
  const items = Array.from({ length: count }, (_, i) => {
    const status = STATUSES[i % STATUSES.length]!;
    const base = {
      title: `${i} ${text(i)}`,
      status,
      observed: text(i),
      expected: text(i),
      detail: text(i),
      severity: i % 3 === 0 ? ('warning' as const) : ('critical' as const),
    };
    if (i % 5 === 0) {
      return manual('huge', `m${i}`, [{ user: 'U0OWNER' }, { role: text(i) }], {
        ...base,
        status: i % 10 === 0 ? 'pending' : 'pass',
        ...(i % 10 === 0 ? {} : { tick: { by: 'U0OWNER', at: text(i), note: text(i) } }),
      });
    }
    return item('huge', `i${i}`, base);
  });
  return phase('huge', `Huge ${text(0)}`, items);
}

function hostileView(phases: PhaseResult[], status: RunStatus = 'awaiting-approval'): RunView {
  return makeView(status, {
    run: runDoc({ title: BIG, checklist: BIG, service: BIG, env: BIG, status }),
    phases,
    rejection: { user: 'U1', reason: BIG, at: NOW },
    cancelled: { by: 'U0REQ', at: NOW },
  });
}

describe('adversarial input', () => {
  it('1,000 items with 10 KB texts and injection everywhere stay within every limit', () => {
    const view = hostileView([hugePhase(1000, () => BIG)]);
    const msg = renderPhase(view, 'huge');
    expectValidMessage(msg);
    expectNoInjection(msg);
    expect(textOf(msg)).toMatch(/… and \d+ more \(.*\) — full report: `\/deploy-check report r-abc234defg`/);
  });

  it('a 120-item phase that is mostly green collapses the passing items into one line', () => {
    const items = Array.from({ length: 120 }, (_, i) =>
      item('long', `check-${i}`, {
        title: `Check number ${i}`,
        status: i < 97 ? 'pass' : i < 110 ? 'fail' : 'warn',
        severity: 'warning',
        observed: `${i} ms`,
        expected: '≤ 25 ms',
        detail: i >= 97 ? `item ${i} is ${i - 72} ms over` : '',
      }),
    );
    const msg = renderPhase(
      makeView('awaiting-approval', { phases: [phase('long', 'Long phase', items)] }),
      'long',
    );
    expectValidMessage(msg);
    expect(msg).toMatchSnapshot();
    const text = textOf(msg);
    expect(text).toContain('✅ 97 items passed: Check number 0, Check number 1');
    for (let i = 97; i < 120; i++) expect(text).toContain(`Check number ${i}*`);
  });

  it('huge parent: many phases, many gates, hostile reason', () => {
    const phases = Array.from({ length: 200 }, (_, i) =>
      phase(`p${i}`, `${i} ${BIG}`, [item(`p${i}`, 'a', { title: BIG })]),
    );
    const gates = Array.from({ length: 40 }, (_, i) =>
      gate(
        { id: `gate-${i}`, title: BIG, required: 20, roles: [BIG, BIG] },
        Array.from({ length: 30 }, (_, j) => ({ user: `U${j}X`, at: NOW, roles: [BIG] })),
        Array.from({ length: 30 }, (_, j) => ({ user: `U${j}Y`, at: NOW })),
      ),
    );
    for (const status of ['awaiting-approval', 'approved', 'rejected', 'blocked', 'expired'] as const) {
      const view = { ...hostileView(phases, status), gates };
      for (const msg of [renderParent(view, { env: BIG }), renderSignoff(view), renderStatus(view)]) {
        expectValidMessage(msg);
        expectNoInjection(msg);
      }
    }
  });

  it('injection in user ids, roles, notes and tick times never becomes a live token', () => {
    const items = [
      manual('x', 'a', [{ user: '<!channel>' }, { group: '<!here>' }, { role: '<@UEVIL123>' }], {
        title: INJECTION,
        status: 'pass',
        tick: { by: 'U1>|<!channel', at: INJECTION, note: INJECTION },
      }),
      item('x', 'b', {
        title: INJECTION,
        status: 'fail',
        observed: INJECTION,
        expected: INJECTION,
        detail: INJECTION,
      }),
    ];
    const view = makeView('rejected', {
      phases: [phase('x', INJECTION, items)],
      run: runDoc({ requester: '<!channel>', title: INJECTION, service: INJECTION }),
      rejection: { user: '<@UEVIL123>', reason: INJECTION, at: NOW },
      gates: [gate({ title: INJECTION, roles: [INJECTION] }, [{ user: 'U1', at: NOW, roles: [INJECTION] }])],
    });
    for (const msg of [
      renderPhase(view, 'x'),
      renderParent(view, { env: INJECTION }),
      renderSignoff(view),
      renderStatus(view),
    ]) {
      expectValidMessage(msg);
      expectNoInjection(msg);
    }
    expectNoInjection(tickNoteModal(RUN_ID, 'x/a', INJECTION));
    expectNoInjection(renderHelp([INJECTION]));
    expectNoInjection(
      renderRunList([runDoc({ title: INJECTION, env: INJECTION, requester: INJECTION })], NOW),
    );
  });

  it('30 pending manual items all stay tickable with valid buttons', () => {
    const items = Array.from({ length: 30 }, (_, i) =>
      manual('ops', `task-${i}`, [{ user: 'U0OPS' }], { title: `Task ${i}` }),
    );
    const msg = renderPhase(makeView('awaiting-people', { phases: [phase('ops', 'Ops', items)] }), 'ops');
    expectValidMessage(msg);
    for (const b of msg.blocks) if (b.type === 'actions') expect(b.elements.length).toBeLessThanOrEqual(25);
    const ticked = buttons(msg.blocks)
      .filter((b) => b.action_id === ACTIONS.tick)
      .map((b) => decodeValue(b.value)[1]);
    expect(ticked).toEqual(items.map((i) => i.key));
  });

  it('honours a smaller maxBlocks', () => {
    const view = hostileView([hugePhase(200, (i) => `item ${i}`)]);
    for (const maxBlocks of [4, 10, 25]) {
      const msg = renderPhase(view, 'huge', { maxBlocks });
      expectValidMessage(msg);
      expect(msg.blocks.length).toBeLessThanOrEqual(maxBlocks);
    }
  });

  it('any mix of items and strings renders a valid message', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.constantFrom(INJECTION, BIG, '', ' ', '&', '<', '`'),
    );
    const anItem = fc.record({
      status: fc.constantFrom(...STATUSES),
      kind: fc.constantFrom('probe' as const, 'manual' as const),
      severity: fc.constantFrom('critical' as const, 'warning' as const),
      title: text,
      observed: text,
      expected: text,
      detail: text,
    });
    fc.assert(
      fc.property(fc.array(anItem, { maxLength: 150 }), text, (specs, title) => {
        const items = specs.map((s, i) =>
          s.kind === 'manual'
            ? manual('f', `m${i}`, [{ user: 'U0OWNER' }], { ...s, kind: 'manual' })
            : item('f', `p${i}`, s),
        );
        const view = makeView('awaiting-people', { phases: [phase('f', title, items)] });
        const msg = renderPhase(view, 'f');
        expectValidMessage(msg);
        expectNoInjection(msg);
      }),
      { numRuns: 40 },
    );
  });
});

/**
 * Pure Block Kit renderers of a rollback: the confirmation modal, the dry run, the thread (a
 * parent and one steps message updated in place), the post-mortem stub and the refusals. State
 * in, messages out; no I/O and no clock.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import type { Principal } from '../../checklist/schema.js';
import { formatDuration } from '../../checks/duration.js';
import type { PlannedStep } from '../../rollback/plan.js';
import type {
  RollbackStatus,
  RollbackView,
  StepState,
  StepView,
  TimelineEntry,
} from '../../rollback/view.js';
import type { RollbackDoc } from '../../store/rollback-store.js';
import type { RunDoc } from '../../store/run-store.js';
import { encodeValue, tryEncodeValue } from './actions.js';
import {
  actions,
  button,
  context,
  fallbackText,
  type Group,
  messageBudget,
  packBlocks,
  type SlackMessage,
  section,
} from './blocks.js';
import { clip, code, escapeText, inline, plain, truncate } from './escape.js';
import { mention, principalsText, quote, utc } from './format.js';

/** Action ids of the rollback thread's buttons and its modals' callback ids. */
export const ROLLBACK_ACTIONS = {
  retry: 'dc_rb_retry',
  skip: 'dc_rb_skip',
  abort: 'dc_rb_abort',
  confirm: 'dc_rb_confirm',
} as const;

export const ROLLBACK_VIEWS = {
  confirm: 'dc_rb_confirm_modal',
  skip: 'dc_rb_skip_modal',
} as const;

/** The dry-run checkbox of the confirmation modal, and the skip modal's reason input. */
export const DRY_RUN = { block: 'dry_run', action: 'dry_run', value: 'dry-run' } as const;
export const SKIP_REASON = { block: 'reason', action: 'reason' } as const;
export const VARS_INPUT = { block: 'vars', action: 'vars' } as const;

const MODAL_TEXT_MAX = 24;
const MODAL_BLOCKS = 100;

function modalText(text: string) {
  return { type: 'plain_text' as const, text: plain(text, MODAL_TEXT_MAX) };
}

export const stepIcon: Record<StepState, string> = {
  pending: '⚪',
  running: '🔄',
  done: '✅',
  skipped: '⏭️',
  failed: '❌',
  waiting: '🙋',
};

export const rollbackStatusIcon: Record<RollbackStatus, string> = {
  queued: '⏳',
  running: '🔄',
  waiting: '🙋',
  failed: '❌',
  finished: '✅',
  aborted: '🛑',
};

/** "14:03:12 UTC": the post-mortem timeline reads to the second. */
function clock(at: Date): string {
  return Number.isNaN(at.getTime()) ? '??:??:??' : `${at.toISOString().slice(11, 19)}`;
}

/** Multi-line user text in a code block: escaped, fences defused, clipped. */
function codeBlock(s: string, max: number): string {
  const body = escapeText(truncate(s.replace(/```/g, 'ˋˋˋ'), max)).trim();
  return body ? `\`\`\`${body}\`\`\`` : '';
}

function planLineText(label: string, value: string, max: number): string {
  if (value.includes('\n') || value.length > 120) return `${escapeText(label)}:\n${codeBlock(value, max)}`;
  return `${escapeText(label)}: ${code(value, max)}`;
}

function stepHeading(p: Pick<PlannedStep, 'index' | 'title' | 'type'>): string {
  return `*${p.index + 1}. ${inline(p.title, 150)}* · ${code(p.type, 20)}`;
}

/** One step of a dry run: every request detail, secrets as references. */
function plannedStepText(p: PlannedStep, max: number): string {
  const per = Math.max(200, Math.floor((max - 200) / Math.max(1, p.lines.length)));
  return clip([stepHeading(p), ...p.lines.map((l) => planLineText(l.label, l.value, per))].join('\n'), max);
}

export interface TargetInfo {
  run?: Pick<RunDoc, '_id' | 'status' | 'requester' | 'createdAt' | 'env'>;
}

function targetText(service: string, target: TargetInfo): string {
  const run = target.run;
  if (!run)
    return `*Target:* no approved run of ${code(service, 100)} is recorded; the playbook runs with the checklist's default variables.`;
  return `*Target:* run ${code(run._id, 40)}${run.env ? ` (${code(run.env, 40)})` : ''} · ${escapeText(run.status)} · requested by ${mention(run.requester)} · ${utc(run.createdAt)}. The playbook runs with its variables.`;
}

export interface ConfirmInput {
  checklist: string;
  title: string;
  service: string;
  target: TargetInfo;
  steps: readonly PlannedStep[];
  channel: string;
  /** Opaque to the renderer: what the submission handler needs back. */
  metadata: string;
  /** The checklist's variables: all declared, and those still without a value (offered to fill in). */
  vars?: { declared: readonly string[]; empty: readonly string[] };
}

function varsBlock(vars: NonNullable<ConfirmInput['vars']>): KnownBlock {
  const initial = vars.empty.map((v) => `${v}=`).join('\n');
  return {
    type: 'input',
    block_id: VARS_INPUT.block,
    optional: true,
    label: { type: 'plain_text', text: 'Variables' },
    hint: {
      type: 'plain_text',
      text: plain(
        `key=value, one per line; they override the target run's values. Declared: ${vars.declared.join(', ')}.`,
        1900,
      ),
    },
    element: {
      type: 'plain_text_input',
      action_id: VARS_INPUT.action,
      multiline: true,
      max_length: 3000,
      ...(initial ? { initial_value: initial } : {}),
    },
  } as KnownBlock;
}

/** The confirmation modal: what will run against what. Nothing runs until it is submitted. */
export function renderRollbackConfirm(input: ConfirmInput): ModalView {
  const stepLines = input.steps.map(
    (s) =>
      `${s.index + 1}. *${inline(s.title, 120)}* · ${code(s.type, 20)} — ${inline(s.lines[0]?.value ?? '', 160)}`,
  );
  return {
    type: 'modal',
    callback_id: ROLLBACK_VIEWS.confirm,
    private_metadata: input.metadata,
    title: modalText('Roll back'),
    submit: modalText('Start rollback'),
    close: modalText('Cancel'),
    blocks: [
      section(
        'rb:what',
        `⏪ *Roll back ${code(input.service, 100)}* with the playbook of *${inline(input.title, 200)}* (${code(input.checklist, 64)}).`,
      ),
      section('rb:target', targetText(input.service, input.target)),
      section('rb:steps', clip(`*Steps that will run, in order:*\n${stepLines.join('\n')}`, 3000)),
      context(
        'rb:where',
        `Each step's progress appears in a thread in ${/^[CG][A-Z0-9]+$/.test(input.channel) ? `<#${input.channel}>` : 'this channel'}. Nothing runs until you press *Start rollback*.`,
      ),
      ...(input.vars && input.vars.declared.length > 0 ? [varsBlock(input.vars)] : []),
      {
        type: 'input',
        block_id: DRY_RUN.block,
        optional: true,
        label: { type: 'plain_text', text: 'Dry run' },
        element: {
          type: 'checkboxes',
          action_id: DRY_RUN.action,
          options: [
            {
              text: { type: 'mrkdwn', text: '*Dry run*: show exactly what would run, call nothing' },
              value: DRY_RUN.value,
            },
          ],
        },
      },
    ],
  };
}

export interface PlanInput {
  checklist: string;
  service: string;
  target: TargetInfo;
  steps: readonly PlannedStep[];
}

const DRY_RUN_INTRO =
  'Nothing was called. Secrets are shown as their `${secret:NAME}` references; credentials written inline are masked.';

/** `--dry-run`: the playbook as it would run, as an ephemeral message. */
export function renderRollbackPlan(input: PlanInput): SlackMessage {
  const groups: Group<PlannedStep>[] = input.steps.map((s, rank) => ({
    item: s,
    rank,
    blocks: [section(`rb:plan:${s.id}`, plannedStepText(s, 2800))],
  }));
  const packed = packBlocks({
    head: [
      section(
        'rb:plan:title',
        `🧪 *Dry run: rollback of ${code(input.service, 100)}* (${code(input.checklist, 64)})`,
      ),
      section('rb:plan:target', targetText(input.service, input.target)),
      context('rb:plan:note', escapeText(DRY_RUN_INTRO)),
    ],
    groups,
    tail: (omitted) =>
      omitted.length ? [context('rb:plan:more', `… and ${omitted.length} more step(s) not shown`)] : [],
    budget: messageBudget(),
  });
  return {
    text: fallbackText(
      `Dry run: rollback of ${inline(input.service, 100)}, ${input.steps.length} steps; nothing was called`,
    ),
    blocks: packed.blocks,
  };
}

/** The confirmation modal turned into the dry run (response_action: update). */
export function renderRollbackDryRunModal(input: PlanInput): ModalView {
  const head: KnownBlock[] = [
    section(
      'rb:plan:title',
      `🧪 *Dry run: rollback of ${code(input.service, 100)}* (${code(input.checklist, 64)})`,
    ),
    section('rb:plan:target', targetText(input.service, input.target)),
    context('rb:plan:note', escapeText(DRY_RUN_INTRO)),
  ];
  const room = MODAL_BLOCKS - head.length - 1;
  const shown = input.steps.slice(0, room);
  const blocks: KnownBlock[] = [
    ...head,
    ...shown.map((s) => section(`rb:plan:${s.id}`, plannedStepText(s, 2800))),
    ...(input.steps.length > shown.length
      ? [context('rb:plan:more', `… and ${input.steps.length - shown.length} more step(s)`)]
      : []),
  ];
  return {
    type: 'modal',
    callback_id: `${ROLLBACK_VIEWS.confirm}_dry`,
    title: modalText('Dry run'),
    close: modalText('Close'),
    blocks,
  };
}

/** Asks why a step is skipped; the reason is required and shown in the thread. */
export function renderSkipModal(
  rollbackId: string,
  stepId: string,
  attempt: number,
  stepTitle: string,
): ModalView {
  return {
    type: 'modal',
    callback_id: ROLLBACK_VIEWS.skip,
    private_metadata: encodeValue([rollbackId, stepId, String(attempt)]),
    title: modalText('Skip step'),
    submit: modalText('Skip'),
    close: modalText('Cancel'),
    blocks: [
      section(
        'rb:skip:what',
        `Skipping *${inline(stepTitle, 300)}* of rollback ${code(rollbackId, 40)}; the playbook continues with the next step.`,
      ),
      {
        type: 'input',
        block_id: SKIP_REASON.block,
        label: { type: 'plain_text', text: 'Reason' },
        hint: { type: 'plain_text', text: 'Shown in the rollback thread and kept in the audit trail.' },
        element: {
          type: 'plain_text_input',
          action_id: SKIP_REASON.action,
          multiline: true,
          max_length: 2000,
        },
      },
    ],
  };
}

const statusLabel: Record<RollbackStatus, string> = {
  queued: 'queued',
  running: 'running',
  waiting: 'waiting for a person',
  failed: 'stopped: a step failed',
  finished: 'finished',
  aborted: 'aborted',
};

function doneCount(view: RollbackView): number {
  return view.steps.filter((s) => s.state === 'done' || s.state === 'skipped').length;
}

function statusText(view: RollbackView): string {
  const base = `${rollbackStatusIcon[view.status]} ${escapeText(statusLabel[view.status])} · ${doneCount(view)}/${view.steps.length} steps`;
  const cur = view.current;
  if (view.status === 'aborted' && view.aborted)
    return `${base} · by ${mention(view.aborted.by)}${view.aborted.reason ? `: ${inline(view.aborted.reason, 300)}` : ''}`;
  if (!cur || view.ended) return base;
  return `${base} · step ${cur.index + 1}: *${inline(cur.step.title ?? cur.step.id, 150)}*`;
}

/** The thread's parent: which service, who started it, where it stands. */
export function renderRollbackParent(view: RollbackView): SlackMessage {
  const r = view.rollback;
  const meta = [
    `started by ${mention(r.requester)}`,
    `checklist ${code(r.checklist, 64)}`,
    r.targetRunId ? `target run ${code(r.targetRunId, 40)}` : 'no target run',
    code(r._id, 40),
    utc(r.createdAt),
  ].join(' · ');
  return {
    text: fallbackText(`Rollback of ${inline(r.service, 100)}: ${statusLabel[view.status]}`),
    blocks: [
      section('rb:parent', `⏪ *Rollback of ${code(r.service, 100)}*\n${statusText(view)}`),
      context('rb:meta', meta),
    ],
  };
}

function stepDetail(s: StepView): string {
  const bits: string[] = [];
  switch (s.state) {
    case 'done':
      if (s.by) bits.push(`confirmed by ${mention(s.by)}`);
      if (s.observed) bits.push(inline(s.observed, 300));
      if (s.durationMs !== undefined) bits.push(escapeText(formatDuration(s.durationMs)));
      break;
    case 'skipped':
      bits.push(`skipped by ${mention(s.by ?? '')}${s.reason ? `: ${inline(s.reason, 300)}` : ''}`);
      break;
    case 'failed':
      bits.push(
        `failed${s.attempt > 1 ? ` (attempt ${s.attempt})` : ''}: ${inline(s.detail || s.observed || 'no detail', 800)}`,
      );
      break;
    case 'running':
      bits.push(s.attempt > 1 ? `running (attempt ${s.attempt})` : 'running');
      break;
    case 'waiting':
      if (s.step.type === 'manual') {
        bits.push(`waiting for ${principalsText(s.step.owner as Principal[])} to confirm`);
        if (s.step.instructions) bits.push(`\n${quote(s.step.instructions, 800)}`);
      }
      break;
    default:
      break;
  }
  return bits.join(' · ').replace(' · \n', '\n');
}

function stepLine(s: StepView): string {
  const detail = stepDetail(s);
  return clip(
    `${stepIcon[s.state]} *${s.index + 1}. ${inline(s.step.title ?? s.step.id, 150)}* · ${code(s.step.type, 20)}${detail ? ` — ${detail}` : ''}`,
    2900,
  );
}

function buttonsFor(view: RollbackView): KnownBlock[] {
  if (view.ended) return [];
  const id = view.rollback._id;
  const cur = view.current;
  const abort = button({
    actionId: ROLLBACK_ACTIONS.abort,
    text: 'Abort rollback',
    value: encodeValue([id]),
    style: 'danger',
    confirm: {
      title: 'Abort the rollback?',
      text: 'Steps already done stay done; no further step runs. The service is free for a new rollback.',
      confirm: 'Abort',
      deny: 'Keep going',
    },
  });
  const stepValue = cur ? tryEncodeValue([id, cur.step.id, String(cur.attempt)]) : undefined;
  const buttons = [];
  if (cur && stepValue && view.status === 'failed') {
    buttons.push(
      button({
        actionId: ROLLBACK_ACTIONS.retry,
        text: `Retry step ${cur.index + 1}`,
        value: stepValue,
        style: 'primary',
      }),
      button({ actionId: ROLLBACK_ACTIONS.skip, text: `Skip step ${cur.index + 1}…`, value: stepValue }),
    );
  } else if (cur && stepValue && view.status === 'waiting') {
    buttons.push(
      button({ actionId: ROLLBACK_ACTIONS.confirm, text: 'Mark done', value: stepValue, style: 'primary' }),
      button({ actionId: ROLLBACK_ACTIONS.skip, text: 'Skip…', value: stepValue }),
    );
  }
  buttons.push(abort);
  return [actions('rb:actions', buttons)];
}

/** The steps message in the thread, updated in place: each step's state and, when stopped, the buttons. */
export function renderRollbackSteps(view: RollbackView): SlackMessage {
  const groups: Group<StepView>[] = view.steps.map((s, rank) => ({
    item: s,
    rank,
    blocks: [section(`rb:step:${s.step.id}`, stepLine(s))],
  }));
  const tail = buttonsFor(view);
  const packed = packBlocks({
    head: [section('rb:steps:title', `*Rollback steps* · ${statusText(view)}`)],
    groups,
    tail: (omitted) => [
      ...(omitted.length ? [context('rb:steps:more', `… and ${omitted.length} more step(s)`)] : []),
      ...tail,
    ],
    budget: messageBudget(),
  });
  const cur = view.current;
  return {
    text: fallbackText(
      `Rollback of ${inline(view.rollback.service, 100)}: ${statusLabel[view.status]}${cur && !view.ended ? ` (step ${cur.index + 1})` : ''}`,
    ),
    blocks: packed.blocks,
  };
}

/** A slack-notify step's message: the checklist's text, and where it comes from. */
export function renderRollbackNotice(r: RollbackDoc, text: string): SlackMessage {
  return {
    text: fallbackText(inline(text, 400)),
    blocks: [
      section('rb:notify', escapeText(truncate(text, 2900))),
      context(
        'rb:notify:from',
        `Rollback ${code(r._id, 40)} of ${code(r.service, 100)}, started by ${mention(r.requester)}`,
      ),
    ],
  };
}

function timelineLine(e: TimelineEntry): string {
  return `• ${clock(e.at)} ${inline(e.text, 200)}${e.by ? ` by ${mention(e.by)}` : ''}${e.note ? ` — ${inline(e.note, 200)}` : ''}`;
}

/** The post-mortem stub: the timeline as it happened, and the headings the team fills in. */
export function renderPostmortem(view: RollbackView): SlackMessage {
  const r = view.rollback;
  const lines = view.timeline.map(timelineLine);
  const maxLines = 40;
  const shown =
    lines.length > maxLines
      ? [...lines.slice(0, maxLines - 1), `• … ${lines.length - maxLines + 1} more`]
      : lines;
  const blocks: KnownBlock[] = [
    section(
      'pm:title',
      `📝 *Post-mortem: rollback of ${code(r.service, 100)}* (stub — copy it to your post-mortem document and fill it in)`,
    ),
    section(
      'pm:what',
      [
        `*What happened:* _describe the faulty release and how it was noticed_`,
        `*Impact:* _who was affected, from when to when_`,
        `*Rolled back:* started by ${mention(r.requester)} at ${utc(r.createdAt)}${r.targetRunId ? ` · target run ${code(r.targetRunId, 40)}` : ''}`,
      ].join('\n'),
    ),
    section(
      'pm:timeline',
      clip(`*Timeline (UTC, ${utc(r.createdAt).slice(0, 10)}):*\n${shown.join('\n')}`, 3000),
    ),
    section(
      'pm:next',
      ['*Root cause:* _…_', '*What went well / badly:* _…_', '*Follow-ups:* _owner, ticket, due date_'].join(
        '\n',
      ),
    ),
    context('pm:ref', `Rollback ${code(r._id, 40)} · checklist ${code(r.checklist, 64)}`),
  ];
  return { text: fallbackText(`Post-mortem stub: rollback of ${inline(r.service, 100)}`), blocks };
}

/** A second rollback while one runs: refused, with a link to the running one. */
export function renderRollbackLocked(input: {
  service: string;
  holder: string;
  permalink?: string;
  requester?: string;
  since: Date;
  status?: RollbackStatus;
}): SlackMessage {
  const link =
    input.permalink && /^https:\/\/[^\s|<>]+$/.test(input.permalink)
      ? `<${input.permalink}|${input.holder}>`
      : code(input.holder, 40);
  const text = `⛔ A rollback of ${code(input.service, 100)} is already in progress: ${link}${input.requester ? `, started by ${mention(input.requester)}` : ''} at ${utc(input.since)}${input.status ? ` (${escapeText(statusLabel[input.status])})` : ''}. Only one rollback per service runs at a time: finish or abort that one first (buttons in its thread).`;
  return {
    text: fallbackText(`A rollback of ${inline(input.service, 100)} is already in progress`),
    blocks: [section('rb:locked', text)],
  };
}

/** Someone not in `rollback.allowed` asked: refused, naming the rule. */
export function renderRollbackRefused(input: {
  service: string;
  checklist: string;
  allowed: readonly Principal[];
  action?: string;
}): SlackMessage {
  const text = `🚫 You may not ${escapeText(input.action ?? 'start a rollback')} of ${code(input.service, 100)}: ${code('rollback.allowed', 30)} in checklist ${code(input.checklist, 64)} names ${principalsText(input.allowed, 12)}.`;
  return {
    text: fallbackText(`You may not ${input.action ?? 'start a rollback'} of ${inline(input.service, 100)}`),
    blocks: [section('rb:refused', text)],
  };
}

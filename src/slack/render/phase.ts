/**
 * One phase's message in the run's thread. Every item gets its own section while the whole phase
 * fits in one Slack message; a phase too long for that (a 120-item phase, 10 KB probe output) is
 * summarised instead — passing and skipped items collapse into a line each and the items that
 * need attention are shown first — and `packBlocks` guarantees the limits whatever the input.
 */
import type { KnownBlock } from '@slack/types';
import { statusIcon } from '../../report/icons.js';
import { isBlocking } from '../../run/outcome.js';
import type { ItemResult, PhaseResult } from '../../run/types.js';
import type { RunView } from '../../state/run-view.js';
import { ACTIONS, tryEncodeValue } from './actions.js';
import {
  actions,
  BlockIds,
  type Budget,
  button,
  context,
  fallbackText,
  type Group,
  messageBudget,
  packBlocks,
  type SlackMessage,
  section,
} from './blocks.js';
import { clip, code, escapeWithin, inline } from './escape.js';
import { countsText, mention, plural, principalsText, quote, utc } from './format.js';
import { phaseIcon, reportCommand } from './summary.js';

const TITLE_MAX = 200;
const VALUE_MAX = 300;
const DETAIL_MAX = 800;
const PASS_DETAIL_MAX = 200;
const NOTE_MAX = 800;
const SUMMARY_MAX = 700;

const FAILING = new Set(['fail', 'error', 'inconclusive', 'warn']);

/** How a pending manual item offers its buttons: a row of two, or a compact "Done" beside its text. */
type ManualForm = 'actions' | 'accessory';

interface PhaseContext {
  view: RunView;
  phase: PhaseResult;
  closed: boolean;
  ids: BlockIds;
}

function isPendingManual(item: ItemResult): boolean {
  return item.kind === 'manual' && item.status === 'pending';
}

/** How a probe without a result reads: still to come, under way, or never reached (the run stopped). */
const PENDING_TEXT: Readonly<Record<string, string>> = {
  running: 'running…',
  queued: 'queued',
  'not run': 'not run — the run stopped',
};

function itemIcon(item: ItemResult): string {
  if (item.kind === 'probe' && item.status === 'pending' && item.detail === 'running')
    return statusIcon.running;
  return statusIcon[item.status];
}

function titleLine(item: ItemResult): string {
  const severity = FAILING.has(item.status) ? ` · _${item.severity}_` : '';
  return `${itemIcon(item)} *${inline(item.title, TITLE_MAX)}*${severity}`;
}

/** "observed `p95 41 ms` · expected `p95 ≤ 25 ms`". */
function measuredLine(item: ItemResult): string {
  const parts = [
    item.observed ? `observed ${code(item.observed, VALUE_MAX)}` : '',
    item.expected ? `expected ${code(item.expected, VALUE_MAX)}` : '',
  ];
  return parts.filter(Boolean).join(' · ');
}

function probeLines(item: ItemResult): string[] {
  if (item.status === 'pending') return [`_${PENDING_TEXT[item.detail] ?? 'queued'}_`];
  const lines = [measuredLine(item)];
  if (item.detail) {
    lines.push(
      FAILING.has(item.status)
        ? `_why:_ ${escapeWithin(item.detail, DETAIL_MAX)}`
        : `_${inline(item.detail, PASS_DETAIL_MAX)}_`,
    );
  }
  return lines;
}

function manualLines(item: ItemResult): string[] {
  const owners = item.owners ?? [];
  const lines = owners.length
    ? [`${owners.length === 1 ? 'Owner' : 'Owners'}: ${principalsText(owners)}`]
    : [];
  if (item.tick) {
    lines.push(`Done by ${mention(item.tick.by)} · ${utc(item.tick.at)}`);
    if (item.tick.note) lines.push(quote(item.tick.note, NOTE_MAX));
  } else if (item.status !== 'pending' && item.detail) {
    lines.push(`_${inline(item.detail, PASS_DETAIL_MAX)}_`);
  }
  return lines;
}

/** A waiver never hides the result: it is shown under it, with who, why and until when. */
function waiverLine(ctx: PhaseContext, item: ItemResult): string {
  const w = ctx.view.waivers?.get(item.key);
  if (!w) return '';
  const state = w.expired ? `expired ${utc(w.expiresAt)}` : `until ${utc(w.expiresAt)}`;
  return `🪪 _Waived by ${mention(w.by)} (${state}):_ ${escapeWithin(w.reason, NOTE_MAX)}`;
}

function itemText(ctx: PhaseContext, item: ItemResult): string {
  const body = item.kind === 'manual' ? manualLines(item) : probeLines(item);
  return [titleLine(item), ...body, waiverLine(ctx, item)].filter(Boolean).join('\n');
}

const WAIVABLE = new Set(['fail', 'error', 'inconclusive']);

function waiveButton(ctx: PhaseContext, item: ItemResult) {
  const w = ctx.view.waivers?.get(item.key);
  if (ctx.closed || !WAIVABLE.has(item.status) || (w && !w.expired)) return undefined;
  const value = tryEncodeValue([ctx.view.run._id, item.key]);
  return value === undefined ? undefined : button({ actionId: ACTIONS.waive, text: 'Waive…', value });
}

function tickValue(ctx: PhaseContext, item: ItemResult): string | undefined {
  return tryEncodeValue([ctx.view.run._id, item.key]);
}

function doneButton(value: string) {
  return button({ actionId: ACTIONS.tick, text: 'Done', value, style: 'primary' });
}

function itemBlocks(ctx: PhaseContext, item: ItemResult, form: ManualForm): KnownBlock[] {
  const blockId = ctx.ids.next(`item:${item.key}`);
  const value = isPendingManual(item) && !ctx.closed ? tickValue(ctx, item) : undefined;
  if (value === undefined) return [section(blockId, itemText(ctx, item), waiveButton(ctx, item))];
  if (form === 'accessory') return [section(blockId, itemText(ctx, item), doneButton(value))];
  return [
    section(blockId, itemText(ctx, item)),
    actions(ctx.ids.next(`tick:${item.key}`), [
      doneButton(value),
      button({ actionId: ACTIONS.tickNote, text: 'Done with note…', value }),
    ]),
  ];
}

function phaseHeader(ctx: PhaseContext): KnownBlock {
  const { view, phase } = ctx;
  return section(
    `phase:${phase.id}`,
    `${phaseIcon(view, phase)} *${inline(phase.title, 150)}* — ${countsText(phase.items)}`,
  );
}

function rerunBlock(ctx: PhaseContext): KnownBlock[] {
  const value = tryEncodeValue([ctx.view.run._id, ctx.phase.id]);
  if (ctx.closed || value === undefined) return [];
  return [
    actions(`rerun:${ctx.phase.id}`, [
      button({
        actionId: ACTIONS.rerun,
        text: 'Re-run phase',
        value,
        confirm: {
          title: 'Re-run this phase?',
          text: 'Its probes run again; approvals given on the current results will no longer count.',
          confirm: 'Re-run',
          deny: 'Cancel',
        },
      }),
    ]),
  ];
}

/** "✅ 97 items passed: a, b, c, …" — names as many as fit. */
function collapsedLine(icon: string, items: readonly ItemResult[], verb: string): string {
  if (items.length === 0) return '';
  const names = items.map((i) => inline(i.title, 60)).join(', ');
  return clip(`${icon} ${plural(items.length, 'item')} ${verb}: ${names}`, SUMMARY_MAX);
}

function moreLine(ctx: PhaseContext, omitted: readonly ItemResult[]): string {
  if (omitted.length === 0) return '';
  return `… and ${omitted.length} more (${countsText(omitted)}) — full report: ${reportCommand(ctx.view.run._id)}`;
}

/** Everything not shown item by item, in one block so that even a 4-block budget has room for an item. */
function footer(ctx: PhaseContext, lines: readonly string[]): KnownBlock[] {
  const text = lines.filter(Boolean).join('\n');
  return text ? [context(`summary:${ctx.phase.id}`, text)] : [];
}

/** Most urgent first: what blocks the release, then what people must do, then the rest. */
function urgency(item: ItemResult): number {
  if (isBlocking(item)) return 0;
  if (isPendingManual(item)) return 1;
  if (FAILING.has(item.status)) return 2;
  return 3;
}

function contextFor(view: RunView, phase: PhaseResult): PhaseContext {
  // Buttons stay when the run closes: removing them would rewrite every phase message (a Slack
  // write each) for nothing, since the handlers answer a click on a closed run with why not.
  return { view, phase, closed: false, ids: new BlockIds() };
}

/** Every item in checklist order; `complete` when nothing had to be left out. */
function renderEveryItem(view: RunView, phase: PhaseResult, budget: Budget) {
  const ctx = contextFor(view, phase);
  const groups: Group<ItemResult>[] = phase.items.map((item, rank) => ({
    item,
    rank,
    blocks: itemBlocks(ctx, item, 'actions'),
  }));
  return packBlocks({
    head: [phaseHeader(ctx)],
    groups,
    tail: (omitted) => [...footer(ctx, [moreLine(ctx, omitted)]), ...rerunBlock(ctx)],
    budget,
  });
}

function renderSummarised(view: RunView, phase: PhaseResult, budget: Budget, form: ManualForm) {
  const ctx = contextFor(view, phase);
  const passed = phase.items.filter((i) => i.status === 'pass');
  const skipped = phase.items.filter((i) => i.status === 'skipped');
  const attention = phase.items
    .map((item, rank) => ({ item, rank }))
    .filter(({ item }) => item.status !== 'pass' && item.status !== 'skipped')
    .sort((a, b) => urgency(a.item) - urgency(b.item) || a.rank - b.rank)
    .map(({ item, rank }) => ({ item, rank, blocks: itemBlocks(ctx, item, form) }));
  return packBlocks({
    head: [phaseHeader(ctx)],
    groups: attention,
    tail: (omitted) => [
      ...footer(ctx, [
        collapsedLine(statusIcon.pass, passed, 'passed'),
        collapsedLine(statusIcon.skipped, skipped, 'skipped'),
        moreLine(ctx, omitted),
      ]),
      ...rerunBlock(ctx),
    ],
    budget,
  });
}

function phaseFallback(view: RunView, phase: PhaseResult): string {
  return fallbackText(`${phaseIcon(view, phase)} ${inline(phase.title, 150)} — ${countsText(phase.items)}`);
}

/** One phase of the run as a thread message: header, items, and a re-run button while the run is open. */
export function renderPhase(view: RunView, phaseId: string, opts: { maxBlocks?: number } = {}): SlackMessage {
  const phase = view.phases.find((p) => p.id === phaseId);
  if (!phase) {
    const text = `Phase ${code(phaseId, 80)} is not part of run ${code(view.run._id, 40)}.`;
    return { text: fallbackText(text), blocks: [section('phase:missing', text)] };
  }
  const budget = messageBudget(opts.maxBlocks);
  const text = phaseFallback(view, phase);
  const everything = renderEveryItem(view, phase, budget);
  if (everything.omitted.length === 0) return { text, blocks: everything.blocks };
  const withRows = renderSummarised(view, phase, budget, 'actions');
  if (withRows.omitted.length === 0) return { text, blocks: withRows.blocks };
  // Two blocks per pending manual item run out first; one block each keeps every item tickable longer.
  const compact = renderSummarised(view, phase, budget, 'accessory');
  return { text, blocks: compact.shown.length > withRows.shown.length ? compact.blocks : withRows.blocks };
}

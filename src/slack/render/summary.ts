/** Run-level phrases shared by the parent, status and sign-off messages (all escaped mrkdwn). */
import type { ApprovalGateSpec } from '../../checklist/schema.js';
import { statusIcon } from '../../report/icons.js';
import { isBlocking, phaseStatus } from '../../run/outcome.js';
import type { ItemResult, PhaseResult } from '../../run/types.js';
import { activeWaiverKeys, type GateView, type RunView } from '../../state/run-view.js';
import type { RunStatus } from '../../store/run-store.js';
import { clip, code, escapeWithin, inline } from './escape.js';
import { countsText, mention, plural, quote, runStatusIcon, utc } from './format.js';

/** Once approved, rejected or cancelled a run takes no more clicks (re-runs, ticks). */
const CLOSED: ReadonlySet<RunStatus> = new Set<RunStatus>(['approved', 'rejected', 'cancelled']);

export function isClosed(view: RunView): boolean {
  return CLOSED.has(view.status);
}

export function runTitle(view: RunView): string {
  return view.run.title || view.run.checklist;
}

export function phaseIcon(view: RunView, phase: PhaseResult): string {
  return view.runningPhases.includes(phase.id) ? statusIcon.running : statusIcon[phase.status];
}

const MANUAL_ONLY_ICON = '✋';

/**
 * A phase's icon judged by its probes alone: ticking a manual item must not change the parent
 * (one write per tick, not two), and the tick shows in the phase message anyway.
 */
function probesIcon(view: RunView, phase: PhaseResult): string {
  if (view.runningPhases.includes(phase.id)) return statusIcon.running;
  const probes = phase.items.filter((i) => i.kind === 'probe');
  if (probes.length === 0) return phase.status === 'skipped' ? statusIcon.skipped : MANUAL_ONLY_ICON;
  return statusIcon[phaseStatus(probes, activeWaiverKeys(view.waivers))];
}

type PhaseIcon = (view: RunView, phase: PhaseResult) => string;

/** "✅ *Security* — 9 passed · 2 manual items": probe results, and how many items are manual. */
function phaseLine(view: RunView, phase: PhaseResult, icon: PhaseIcon): string {
  const probes = phase.items.filter((i) => i.kind === 'probe');
  const manual = phase.items.length - probes.length;
  const parts = [
    probes.length ? countsText(probes) : '',
    manual ? `${plural(manual, 'manual item')}` : '',
  ].filter(Boolean);
  return `${icon(view, phase)} *${inline(phase.title, 120)}* — ${parts.join(' · ')}`;
}

/** The plan of a phase, true from the first probe to the last tick: "• *Security* — 9 probes · 2 manual items". */
function plannedPhaseLine(phase: PhaseResult): string {
  const probes = phase.items.filter((i) => i.kind === 'probe').length;
  const manual = phase.items.length - probes;
  const parts = [probes ? plural(probes, 'probe') : '', manual ? plural(manual, 'manual item') : ''];
  return `• *${inline(phase.title, 120)}* — ${parts.filter(Boolean).join(' · ') || 'no items'}`;
}

/** One line per phase, as many as fit in `max` characters. */
function linesWithin(view: RunView, max: number, line: (phase: PhaseResult) => string): string {
  const lines: string[] = [];
  let length = 0;
  for (const [i, phase] of view.phases.entries()) {
    const text = line(phase);
    const more = `… and ${plural(view.phases.length - i, 'more phase')}`;
    if (length + text.length + 1 > max - more.length - 1) {
      lines.push(more);
      break;
    }
    lines.push(text);
    length += text.length + 1;
  }
  return lines.join('\n') || '_no phases_';
}

/** The phases with their state, for a status reply. */
export function phaseLines(view: RunView, max: number): string {
  return linesWithin(view, max, (phase) => phaseLine(view, phase, phaseIcon));
}

/**
 * The phases as the parent lists them: as planned until the run is decided, then with their
 * probes' results — never with ticks, which show in the phase messages (one write per tick).
 */
export function parentPhaseLines(view: RunView, max: number): string {
  if (isUndecided(view)) return linesWithin(view, max, plannedPhaseLine);
  return linesWithin(view, max, (phase) => phaseLine(view, phase, probesIcon));
}

export function reportCommand(runId: string): string {
  return code(`/deploy-check report ${runId}`, 80);
}

export interface Blocker {
  item: ItemResult;
  phase: PhaseResult;
}

export function blockingItems(view: RunView): Blocker[] {
  return view.phases.flatMap((phase) =>
    phase.items.filter((item) => isBlocking(item)).map((item) => ({ item, phase })),
  );
}

function warningCount(view: RunView): number {
  return view.phases.reduce((n, p) => n + p.items.filter((i) => i.status === 'warn').length, 0);
}

function runningText(view: RunView): string {
  const titles = view.runningPhases.map((id) => view.phases.find((p) => p.id === id)?.title ?? id);
  if (titles.length === 0) return '';
  const shown = titles.slice(0, 3).map((t) => inline(t, 80));
  const rest = titles.length - shown.length;
  return `${titles.length === 1 ? 'phase' : 'phases'} ${shown.join(', ')}${rest > 0 ? ` and ${rest} more` : ''}`;
}

function approvalProgress(gates: readonly GateView[]): string {
  if (gates.length === 1) return `${gates[0]!.quorum.approvals} of ${gates[0]!.quorum.required} approvals`;
  return `${gates.filter((g) => g.quorum.met).length} of ${gates.length} sign-offs complete`;
}

/** Label and detail of the run's state: "Blocked:" + "2 critical items failed". */
function statusParts(view: RunView): { label: string; detail: string } {
  switch (view.status) {
    case 'queued':
      return { label: 'Queued', detail: '' };
    case 'running':
      return { label: 'Running', detail: runningText(view) };
    case 'awaiting-people':
      // No count here: it would change with every tick and cost a second Slack write per tick.
      return { label: 'Awaiting people:', detail: 'manual items are waiting in the thread' };
    case 'blocked':
      return { label: 'Blocked:', detail: `${plural(blockingItems(view).length, 'critical item')} failed` };
    case 'awaiting-approval':
      return { label: 'Awaiting approval', detail: `— ${approvalProgress(view.gates)}` };
    case 'approved':
      return { label: 'Approved', detail: '' };
    case 'passed': {
      const warnings = warningCount(view);
      return { label: 'Passed', detail: warnings ? `with ${plural(warnings, 'warning')}` : '' };
    }
    case 'rejected':
      return { label: 'Rejected', detail: view.rejection ? `by ${mention(view.rejection.user)}` : '' };
    case 'cancelled':
      return { label: 'Cancelled', detail: view.cancelled ? `by ${mention(view.cancelled.by)}` : '' };
    case 'expired':
      return { label: 'Expired:', detail: 'the approval window closed before sign-off' };
    case 'errored':
      return { label: 'Errored:', detail: 'the run stopped unexpectedly' };
  }
}

/**
 * Until a run is decided the parent says only what stays true all that time ("In progress"), so
 * it is written when the run starts and when it is decided — not as phases end or people tick.
 * The phase messages carry the live detail.
 */
const UNDECIDED: ReadonlySet<RunStatus> = new Set<RunStatus>(['queued', 'running', 'awaiting-people']);

export function isUndecided(view: RunView): boolean {
  return UNDECIDED.has(view.status);
}

function hasManualItems(view: RunView): boolean {
  return view.phases.some((p) => p.items.some((i) => i.kind === 'manual'));
}

function parentStatusParts(view: RunView): { icon: string; label: string; detail: string } {
  if (!isUndecided(view)) return { icon: runStatusIcon[view.status], ...statusParts(view) };
  const where = hasManualItems(view)
    ? '— results are posted in this thread as each phase ends; manual items wait there for their owners'
    : '— results are posted in this thread as each phase ends';
  return { icon: runStatusIcon.running, label: 'In progress', detail: where };
}

type Audience = 'parent' | 'reply';

function partsFor(view: RunView, audience: Audience): { icon: string; label: string; detail: string } {
  return audience === 'parent'
    ? parentStatusParts(view)
    : { icon: runStatusIcon[view.status], ...statusParts(view) };
}

/** "❌ *Blocked:* 2 critical items failed"; the parent's wording while undecided is "In progress". */
export function statusLine(view: RunView, audience: Audience = 'reply'): string {
  const { icon, label, detail } = partsFor(view, audience);
  return `${icon} *${label}*${detail ? ` ${detail}` : ''}`;
}

/** The same without bold, for a message's fallback text. */
export function statusSummary(view: RunView, audience: Audience = 'reply'): string {
  const { icon, label, detail } = partsFor(view, audience);
  return `${icon} ${label}${detail ? ` ${detail}` : ''}`;
}

export function fallback(view: RunView, what: string): string {
  return `${inline(runTitle(view), 150)}: ${what} (run ${inline(view.run._id, 40)})`;
}

/** "Release approval", or the gate's own title. */
export function gateTitle(gate: ApprovalGateSpec): string {
  return inline(gate.title ?? (gate.id === 'release' ? 'Release approval' : gate.id), 100);
}

function sentenceCase(id: string): string {
  const words = id.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The role a sign-off line names its approver by: the gate's title, "Approved by" for the default gate. */
function signoffLabel(gate: ApprovalGateSpec): string {
  if (gate.title) return inline(gate.title, 80);
  return gate.id === 'release' ? 'Approved by' : inline(sentenceCase(gate.id), 80);
}

function rolesSuffix(roles: readonly string[]): string {
  return roles.length
    ? ` (${roles
        .slice(0, 5)
        .map((r) => inline(r, 60))
        .join(', ')})`
    : '';
}

/** "Approved by: <@U1> (deployment-approver) — 2026-11-22 14:03 UTC", one per counted approval. */
export function signoffLines(view: RunView, maxLines = 20): string[] {
  const lines = view.gates.flatMap((g) =>
    g.approvals.map(
      (a) => `${signoffLabel(g.gate)}: ${mention(a.user)}${rolesSuffix(a.roles)} — ${utc(a.at)}`,
    ),
  );
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines), `… and ${plural(lines.length - maxLines, 'more approval')}`];
}

/** The blocking items with why, as many as fit in `max` characters, then a pointer to the report. */
export function blockersText(view: RunView, max: number): string {
  const blockers = blockingItems(view);
  const lines: string[] = [];
  let length = 0;
  const reserve = 120;
  for (const [i, { item, phase }] of blockers.entries()) {
    const why = item.detail ? ` — ${escapeWithin(item.detail.replace(/\s+/g, ' '), 200)}` : '';
    const line = `${statusIcon[item.status]} *${inline(item.title, 120)}* (${inline(phase.title, 60)})${why}`;
    if (length + line.length + 1 > max - reserve) {
      lines.push(
        `… and ${plural(blockers.length - i, 'more')} — full report: ${reportCommand(view.run._id)}`,
      );
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return clip(lines.join('\n'), max);
}

/** The rejection's reason, quoted; `withWho` where no status line above already names the rejecter. */

export function rejectionText(view: RunView, max: number, opts: { withWho: boolean }): string {
  const r = view.rejection;
  if (!r) return '';
  const heading = opts.withWho ? `Rejected by ${mention(r.user)} — ${utc(r.at)}` : `*Reason* (${utc(r.at)})`;
  const reason = r.reason.trim() ? `\n${quote(r.reason, max - 200)}` : '';
  return clip(`${heading}${reason}`, max);
}

export function evidenceText(view: RunView): string {
  return `Evidence ${code(view.evidence, 64)} · checklist digest ${code(view.run.digest.slice(0, 12), 12)} · run ${code(view.run._id, 40)}`;
}

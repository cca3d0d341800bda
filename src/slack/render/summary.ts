/** Run-level phrases shared by the parent, status and sign-off messages (all escaped mrkdwn). */
import type { ApprovalGateSpec } from '../../checklist/schema.js';
import { statusIcon } from '../../report/icons.js';
import { isBlocking } from '../../run/outcome.js';
import type { ItemResult, PhaseResult } from '../../run/types.js';
import type { GateView, RunView } from '../../state/run-view.js';
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

/**
 * The parent's line for a phase: probe counts and how many items are manual, but not how many of
 * those are ticked, so a tick rewrites its phase message only — not the parent as well — unless
 * it changes the phase's status.
 */
export function phaseLine(view: RunView, phase: PhaseResult): string {
  const probes = phase.items.filter((i) => i.kind === 'probe');
  const manual = phase.items.length - probes.length;
  const parts = [
    probes.length ? countsText(probes) : '',
    manual ? `${plural(manual, 'manual item')}` : '',
  ].filter(Boolean);
  return `${phaseIcon(view, phase)} *${inline(phase.title, 120)}* — ${parts.join(' · ')}`;
}

/** One line per phase, as many as fit in `max` characters. */
export function phaseLines(view: RunView, max: number): string {
  const lines: string[] = [];
  let length = 0;
  for (const [i, phase] of view.phases.entries()) {
    const line = phaseLine(view, phase);
    const more = `… and ${plural(view.phases.length - i, 'more phase')}`;
    if (length + line.length + 1 > max - more.length - 1) {
      lines.push(more);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n') || '_no phases_';
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

/** "❌ *Blocked:* 2 critical items failed". */
export function statusLine(view: RunView): string {
  const { label, detail } = statusParts(view);
  return `${runStatusIcon[view.status]} *${label}*${detail ? ` ${detail}` : ''}`;
}

/** The same without bold, for a message's fallback text. */
export function statusSummary(view: RunView): string {
  const { label, detail } = statusParts(view);
  return `${runStatusIcon[view.status]} ${label}${detail ? ` ${detail}` : ''}`;
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

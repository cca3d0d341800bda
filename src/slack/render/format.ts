/** Small mrkdwn phrases shared by the renderers. Everything returned here is already escaped. */
import type { Principal } from '../../checklist/schema.js';
import { tally } from '../../run/outcome.js';
import type { ItemResult } from '../../run/types.js';
import type { RunStatus } from '../../store/run-store.js';
import { clip, escapeText, inline, truncate } from './escape.js';

const USER_ID = /^[UW][A-Z0-9]{1,30}$/;
const GROUP_ID = /^S[A-Z0-9]{1,30}$/;

/** A live mention only for a well-formed Slack id: anything else is shown, escaped, as text. */
export function mention(userId: string): string {
  if (USER_ID.test(userId)) return `<@${userId}>`;
  return userId ? inline(userId, 40) : 'someone';
}

/**
 * Like `describePrincipals` from the approval policy, but role names come from the checklist
 * file, so they are escaped here before they reach mrkdwn.
 */
export function principalText(p: Principal): string {
  if ('user' in p) return mention(p.user);
  if ('group' in p) return GROUP_ID.test(p.group) ? `<!subteam^${p.group}>` : inline(p.group, 40);
  return `role _${inline(p.role, 60)}_`;
}

export function principalsText(ps: readonly Principal[], max = 8): string {
  const shown = ps.slice(0, max).map(principalText);
  const rest = ps.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

/** "2026-11-22 14:03 UTC": the same for every reader and every render (no locale, no clock). */
export function utc(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return typeof at === 'string' ? inline(at, 40) : 'unknown time';
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 min ago", "5 h ago", "2 d ago": coarse on purpose, lists are read at a glance. */
export function ago(at: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (seconds < 60) return 'just now';
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

const COUNT_LABELS: Array<[keyof ReturnType<typeof tally>, string, string]> = [
  ['pass', 'passed', 'passed'],
  ['warn', 'warning', 'warnings'],
  ['fail', 'failed', 'failed'],
  ['error', 'error', 'errors'],
  ['inconclusive', 'inconclusive', 'inconclusive'],
  ['pending', 'pending', 'pending'],
  ['skipped', 'skipped', 'skipped'],
];

/** "5 passed · 1 failed · 2 pending" (zero counts left out). */
export function countsText(items: readonly ItemResult[]): string {
  const t = tally(items);
  const parts = COUNT_LABELS.filter(([k]) => t[k] > 0).map(
    ([k, one, many]) => `${t[k]} ${t[k] === 1 ? one : many}`,
  );
  return parts.length ? parts.join(' · ') : 'no items';
}

export const runStatusIcon: Record<RunStatus, string> = {
  queued: '⏳',
  running: '🔄',
  'awaiting-people': '🙋',
  'awaiting-approval': '🗳️',
  approved: '✅',
  passed: '✅',
  rejected: '⛔',
  blocked: '❌',
  expired: '⌛',
  cancelled: '🛑',
  errored: '💥',
};

export const runStatusLabel: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  'awaiting-people': 'awaiting people',
  'awaiting-approval': 'awaiting approval',
  approved: 'approved',
  passed: 'passed',
  rejected: 'rejected',
  blocked: 'blocked',
  expired: 'expired',
  cancelled: 'cancelled',
  errored: 'errored',
};

/** A `> ` quote of multi-line user text (a reason, a note), escaped. */
export function quote(text: string, max: number): string {
  const body = escapeText(truncate(text, max)).trim();
  if (!body) return '';
  const quoted = body
    .split(/\r?\n/)
    .map((line) => `> ${line}`)
    .join('\n');
  return clip(quoted, max);
}

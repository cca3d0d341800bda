import type { ItemStatus, PhaseStatus, RunOutcome } from '../run/types.js';

/** One glyph per state, shared by the terminal, Markdown and Slack renderers. */
export const statusIcon: Record<ItemStatus | PhaseStatus | RunOutcome | 'running', string> = {
  pass: '✅',
  warn: '⚠️',
  fail: '❌',
  error: '💥',
  inconclusive: '❔',
  skipped: '⏭️',
  pending: '⏳',
  cancelled: '🛑',
  running: '🔄',
};

/** The message that closes a run's thread: the sign-off record, or why the run ended without one. */
import type { KnownBlock } from '@slack/types';
import type { RunView } from '../../state/run-view.js';
import { context, fallbackText, type SlackMessage, section } from './blocks.js';
import { inline } from './escape.js';
import { countsText, mention, utc } from './format.js';
import {
  blockersText,
  evidenceText,
  fallback,
  rejectionText,
  runTitle,
  signoffLines,
  statusLine,
  statusSummary,
} from './summary.js';

function titleLine(icon: string, label: string, view: RunView): string {
  return `${icon} *${label} — ${inline(runTitle(view), 200)}*`;
}

function allItems(view: RunView) {
  return view.phases.flatMap((p) => p.items);
}

function bodyFor(view: RunView): string[] {
  switch (view.status) {
    case 'approved':
      return [titleLine('✅', 'Approved', view), ...signoffLines(view)];
    case 'rejected':
      return [titleLine('⛔', 'Rejected', view), rejectionText(view, 2000, { withWho: true })];
    case 'blocked':
      return [titleLine('❌', 'Blocked', view), statusLine(view), blockersText(view, 2200)];
    case 'cancelled':
      return [
        titleLine('🛑', 'Cancelled', view),
        view.cancelled ? `Cancelled by ${mention(view.cancelled.by)} — ${utc(view.cancelled.at)}` : '',
        `Results so far: ${countsText(allItems(view))}`,
      ];
    case 'passed':
      return [titleLine('✅', 'Passed', view), `${countsText(allItems(view))}. No approval was required.`];
    case 'expired': {
      const expiry = view.gates.find((g) => g.expiresAt)?.expiresAt;
      return [
        titleLine('⌛', 'Expired', view),
        expiry ? `The approval window closed at ${utc(expiry)}.` : '',
      ];
    }
    default:
      return [statusLine(view), `Results so far: ${countsText(allItems(view))}`];
  }
}

/** Closes the run: who signed off, on which evidence, or why it ended. */
export function renderSignoff(view: RunView): SlackMessage {
  const blocks: KnownBlock[] = [
    section('signoff:body', bodyFor(view).filter(Boolean).join('\n')),
    context('signoff:evidence', evidenceText(view)),
  ];
  return { text: fallbackText(fallback(view, statusSummary(view))), blocks };
}

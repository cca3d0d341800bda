import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../checks/duration.js';
import { statusIcon } from '../../report/icons.js';
import type { ItemResult } from '../../run/types.js';
import { ACTIONS, encodeValue } from './actions.js';
import { actions, button, context, messageBudget, type SlackMessage, section } from './blocks.js';
import { escapeText, truncate } from './escape.js';

export interface MonitorLine {
  id: string;
  result: ItemResult;
  ok: boolean;
  notes: string[];
}

/** One monitor round in the run's thread: each check with its verdict; a breach offers "Start rollback". */
export function renderMonitor(input: {
  runId: string;
  service: string;
  offsetMs: number;
  lines: MonitorLine[];
  superseded?: boolean;
}): SlackMessage {
  const when = `+${formatDuration(input.offsetMs)}`;
  if (input.superseded) {
    return {
      text: `Monitor ${when}: skipped — a newer deploy of ${input.service} superseded this one`,
      blocks: [
        context(
          'monitor:superseded',
          `⏭️ Monitor ${when} skipped: a newer deploy of \`${escapeText(input.service)}\` superseded this one.`,
        ),
      ],
    };
  }
  const breaches = input.lines.filter((l) => !l.ok);
  const headline =
    breaches.length === 0
      ? `🩺 *Monitor ${when}*: all ${input.lines.length} checks within criteria`
      : `🚨 *Monitor ${when}*: ${breaches.length} of ${input.lines.length} checks breached`;
  const budget = messageBudget(45);
  const blocks: KnownBlock[] = [section('monitor:head', headline)];
  for (const line of input.lines.slice(0, budget.maxBlocks - 4)) {
    const icon = line.ok ? statusIcon.pass : statusIcon.fail;
    const observed = line.result.observed ? ` — \`${truncate(escapeText(line.result.observed), 200)}\`` : '';
    const notes = line.notes.length ? `\n${truncate(escapeText(line.notes.join('; ')), 1500)}` : '';
    blocks.push(
      section(
        `monitor:${line.id}`.slice(0, 255),
        `${icon} *${truncate(escapeText(line.result.title), 200)}*${observed}${notes}`,
      ),
    );
  }
  if (breaches.length > 0) {
    blocks.push(
      actions('monitor:rollback', [
        button({
          actionId: ACTIONS.rollback,
          text: 'Start rollback',
          value: encodeValue([input.runId]),
          style: 'danger',
        }),
      ]),
    );
  }
  return {
    text: `Monitor ${when}: ${breaches.length === 0 ? 'healthy' : `${breaches.length} breached`}`,
    blocks,
  };
}

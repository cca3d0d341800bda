import { tally } from '../run/outcome.js';
import type { ItemResult, RunResult } from '../run/types.js';
import { statusIcon } from './icons.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').slice(0, 500);
}

function itemRow(i: ItemResult): string {
  return `| ${statusIcon[i.status]} ${i.status} | ${cell(i.title)} | ${i.severity} | ${cell(i.observed)} | ${cell(i.expected)} | ${cell(i.detail)} |`;
}

/** A Markdown record of a run: every item with its measured and expected values. */
export function renderMarkdown(run: RunResult): string {
  const t = tally(run.phases.flatMap((p) => p.items));
  const lines = [
    `# ${statusIcon[run.outcome]} ${cell(run.title)} — ${run.outcome.toUpperCase()}`,
    '',
    `- Run: \`${run.runId}\`${run.dryRun ? ' (dry run)' : ''}`,
    `- Checklist: \`${run.checklist}\` (sha256 ${run.digest.slice(0, 12)}) for service \`${run.service}\``,
    `- Started ${run.startedAt}, finished ${run.finishedAt}`,
    `- Totals: ${Object.entries(t)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}`,
  ];
  if (run.stoppedAt) lines.push(`- Stopped after phase \`${run.stoppedAt}\` failed`);
  for (const phase of run.phases) {
    lines.push(
      '',
      `## ${statusIcon[phase.status]} ${cell(phase.title)}`,
      '',
      '| Status | Item | Severity | Observed | Expected | Detail |',
      '|---|---|---|---|---|---|',
    );
    for (const item of phase.items) lines.push(itemRow(item));
  }
  return `${lines.join('\n')}\n`;
}

import { statusIcon } from '../report/icons.js';
import { tally } from '../run/outcome.js';
import type { ItemResult, RunEvent, RunResult } from '../run/types.js';

export interface Output {
  write(text: string): void;
  isTTY: boolean;
  color: boolean;
}

const ANSI = { red: 31, green: 32, yellow: 33, blue: 34, grey: 90, bold: 1 } as const;

function paint(out: Output, color: keyof typeof ANSI, text: string): string {
  return out.color ? `\u001b[${ANSI[color]}m${text}\u001b[0m` : text;
}

function statusColour(status: string): keyof typeof ANSI {
  if (status === 'pass') return 'green';
  if (status === 'warn' || status === 'pending' || status === 'inconclusive') return 'yellow';
  if (status === 'fail' || status === 'error' || status === 'cancelled') return 'red';
  return 'grey';
}

function itemLine(out: Output, r: ItemResult): string {
  const measured = [r.observed, r.expected && `expected ${r.expected}`].filter(Boolean).join(' · ');
  const why = r.status !== 'pass' && r.detail ? ` — ${r.detail}` : '';
  const tag = paint(out, statusColour(r.status), r.status.toUpperCase().padEnd(12));
  return `  ${statusIcon[r.status]} ${tag} ${r.title}${measured ? paint(out, 'grey', `  [${measured}]`) : ''}${why ? paint(out, statusColour(r.status), why) : ''}`;
}

/**
 * Prints live per-phase progress. On a terminal a counter line is redrawn in place while a
 * phase runs; elsewhere (CI logs) every line is plain and final.
 */
export function progressPrinter(out: Output): (event: RunEvent) => void {
  let phaseTotal = 0;
  let phaseDone = 0;
  let phaseTitle = '';
  const phaseSizes = new Map<string, number>();
  const clearCounter = () => {
    if (out.isTTY) out.write('\r\u001b[2K');
  };
  const drawCounter = () => {
    if (out.isTTY)
      out.write(
        paint(out, 'grey', `  ${statusIcon.running} ${phaseTitle}: ${phaseDone}/${phaseTotal} done…`),
      );
  };
  return (event) => {
    switch (event.type) {
      case 'run-started':
        out.write(
          `${paint(out, 'bold', `deploy-check ▸ ${event.checklist}`)} (service ${event.service}, run ${event.runId})\n`,
        );
        for (const p of event.phases) phaseSizes.set(p.id, p.items.length);
        break;
      case 'item-started':
        if (phaseDone === 0 && phaseTotal === 0) {
          const phaseId = event.key.split('/')[0]!;
          phaseTotal = phaseSizes.get(phaseId) ?? 0;
          phaseTitle = phaseId;
          out.write(`\n${paint(out, 'bold', `▸ ${phaseId}`)}\n`);
          drawCounter();
        }
        break;
      case 'item-finished':
        clearCounter();
        phaseDone += 1;
        out.write(`${itemLine(out, event.result)}\n`);
        drawCounter();
        break;
      case 'phase-finished': {
        clearCounter();
        if (phaseTotal === 0)
          out.write(
            `\n${paint(out, 'bold', `▸ ${event.phase.id}`)}\n${event.phase.items.map((i) => itemLine(out, i)).join('\n')}\n`,
          );
        const t = tally(event.phase.items);
        out.write(
          `  ${statusIcon[event.phase.status]} ${paint(out, statusColour(event.phase.status), `${event.phase.title}: ${event.phase.status}`)} ${paint(out, 'grey', `(${t.pass} pass, ${t.warn} warn, ${t.fail + t.error + t.inconclusive} failing, ${t.skipped + t.pending} not run)`)}\n`,
        );
        phaseTotal = 0;
        phaseDone = 0;
        break;
      }
      case 'run-finished':
        out.write(summary(out, event.result));
        break;
    }
  };
}

export function summary(out: Output, run: RunResult): string {
  const items = run.phases.flatMap((p) => p.items);
  const t = tally(items);
  const blocking = items.filter(
    (i) => i.severity === 'critical' && ['fail', 'error', 'inconclusive'].includes(i.status),
  );
  const manual = items.filter(
    (i) => i.kind === 'manual' && (i.status === 'skipped' || i.status === 'pending'),
  );
  const lines = [
    '',
    paint(
      out,
      statusColour(run.outcome),
      paint(out, 'bold', `${statusIcon[run.outcome]} ${run.outcome.toUpperCase()}  ${run.title}`),
    ),
    `   ${paint(out, 'green', `${t.pass} passed`)}, ${paint(out, 'yellow', `${t.warn} warnings`)}, ${paint(out, 'red', `${t.fail} failed, ${t.error} errors, ${t.inconclusive} inconclusive`)}, ${t.skipped + t.pending} not run`,
  ];
  if (run.stoppedAt)
    lines.push(paint(out, 'red', `   stopped after phase "${run.stoppedAt}" (a critical item failed)`));
  if (blocking.length > 0) {
    lines.push('   blocking:');
    for (const b of blocking.slice(0, 15))
      lines.push(paint(out, 'red', `     • ${b.key}: ${b.detail || b.observed}`));
    if (blocking.length > 15) lines.push(`     … and ${blocking.length - 15} more`);
  }
  if (manual.length > 0)
    lines.push(
      paint(
        out,
        'grey',
        `   ${manual.length} manual item(s) need a person (tick them in Slack, or they are listed in the report)`,
      ),
    );
  return `${lines.join('\n')}\n`;
}

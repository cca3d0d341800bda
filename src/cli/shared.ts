import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Checklist } from '../checklist/model.js';
import { DeployCheckError, ErrorCode } from '../errors.js';
import { renderJson } from '../report/json.js';
import { renderJunit } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { runChecklist } from '../run/engine.js';
import type { RunResult } from '../run/types.js';
import { type Output, progressPrinter } from './progress.js';

export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal?: AbortSignal;
  /** Asks a question on a terminal; absent when stdin is not a TTY (CI), so commands need flags. */
  ask?: (question: string) => Promise<string>;
}

const REPORTERS: Record<string, (run: RunResult) => string> = {
  json: renderJson,
  md: renderMarkdown,
  markdown: renderMarkdown,
  junit: renderJunit,
};

export const EXIT = { ok: 0, blocked: 1, usage: 2 } as const;

export function parseVarPairs(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new DeployCheckError(ErrorCode.Usage, `--var expects key=value, got "${pair}"`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}

export interface ReportRequest {
  format: string;
  out: string;
}

export function pairReports(formats: readonly string[], outs: readonly string[]): ReportRequest[] {
  if (formats.length !== outs.length)
    throw new DeployCheckError(ErrorCode.Usage, 'each --report FORMAT needs its own --out PATH');
  return formats.map((format, i) => {
    if (!REPORTERS[format])
      throw new DeployCheckError(ErrorCode.Usage, `unknown report format "${format}"; use json, md or junit`);
    return { format, out: outs[i]! };
  });
}

export function writeReports(run: RunResult, reports: readonly ReportRequest[], io: CliIO): void {
  for (const r of reports) {
    const text = REPORTERS[r.format]!(run);
    if (r.out === '-') {
      io.stdout.write(text);
      continue;
    }
    const file = path.resolve(io.cwd, r.out);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    io.stderr.write(`wrote ${r.format} report to ${path.relative(io.cwd, file) || file}\n`);
  }
}

export function keepGoing(checklist: Checklist, on: boolean): Checklist {
  if (!on) return checklist;
  return { ...checklist, phases: checklist.phases.map((p) => ({ ...p, continueOnFailure: true })) };
}

export async function executeChecklist(
  checklist: Checklist,
  io: CliIO,
  opts: { phases?: string[]; dryRun?: boolean; quiet?: boolean; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const printer = opts.quiet ? undefined : progressPrinter(io.stdout);
  return runChecklist(checklist, {
    ...(opts.phases && opts.phases.length > 0 ? { phases: opts.phases } : {}),
    dryRun: opts.dryRun ?? false,
    env: opts.env ?? io.env,
    manualMode: 'skipped',
    ...(io.signal ? { signal: io.signal } : {}),
    ...(printer ? { onEvent: printer } : {}),
  });
}

export function exitFor(run: RunResult): number {
  return run.outcome === 'fail' || run.outcome === 'cancelled' ? EXIT.blocked : EXIT.ok;
}

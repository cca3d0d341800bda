import { tally } from '../run/outcome.js';
import type { RunResult } from '../run/types.js';

export const REPORT_SCHEMA = 'deploy-check/run-report@1';

export interface JsonReport extends RunResult {
  schema: typeof REPORT_SCHEMA;
  totals: ReturnType<typeof tally>;
}

export function jsonReport(run: RunResult): JsonReport {
  return { schema: REPORT_SCHEMA, ...run, totals: tally(run.phases.flatMap((p) => p.items)) };
}

export function renderJson(run: RunResult): string {
  return `${JSON.stringify(jsonReport(run), null, 2)}\n`;
}

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const golden = path.resolve(import.meta.dirname, '../fixtures/golden/demo-security.json');

/** What must not change between runs: ports, timings and dates are masked, everything else is kept. */
function normalise(text: string): string {
  return text
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replace(/\d+(\.\d+)? ?ms\b/g, 'N ms')
    .replace(/\d+ days left/g, 'N days left');
}

async function demoReport(
  profile: 'healthy' | 'misconfigured',
): Promise<{ code: number; report: Record<string, unknown> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-golden-'));
  const out = path.join(dir, 'report.json');
  const io = { write: () => undefined, isTTY: false, color: false };
  const code = await main(
    ['demo', '--profile', profile, '--phase', 'security', '--report', 'json', '--out', out],
    {
      stdout: io,
      stderr: io,
      env: {},
      cwd: dir,
    },
  );
  return { code, report: JSON.parse(readFileSync(out, 'utf8')) };
}

function projection(report: Record<string, unknown>) {
  const phases = report.phases as Array<{
    id: string;
    status: string;
    items: Array<Record<string, unknown>>;
  }>;
  return {
    schema: report.schema,
    checklist: report.checklist,
    outcome: report.outcome,
    totals: report.totals,
    phases: phases.map((p) => ({
      id: p.id,
      status: p.status,
      items: p.items.map((i) => ({
        key: i.key,
        type: i.type,
        severity: i.severity,
        status: i.status,
        expected: normalise(String(i.expected)),
        ...(i.status === 'pass' ? {} : { detail: normalise(String(i.detail)) }),
      })),
    })),
  };
}

describe('golden: the CLI JSON report of the demo (security phase)', () => {
  it('matches the recorded report for both profiles', async () => {
    const healthy = await demoReport('healthy');
    const misconfigured = await demoReport('misconfigured');
    expect(healthy.code).toBe(0);
    expect(misconfigured.code).toBe(1);
    const actual = `${JSON.stringify({ healthy: projection(healthy.report), misconfigured: projection(misconfigured.report) }, null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, actual);
    expect(actual).toBe(readFileSync(golden, 'utf8'));
  }, 60_000);
});

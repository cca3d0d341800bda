import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadChecklistFile } from '../checklist/load.js';
import { DeployCheckError, ErrorCode } from '../errors.js';
import { type CliIO, executeChecklist, exitFor, keepGoing, pairReports, writeReports } from './shared.js';

/** The project root, found from this file both as source (src/cli) and when built (dist/src/cli). */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'checklists')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Vars that point the ClientsVia checklist at a running demo target. */
export function demoVars(
  target: { httpUrl: string; httpsUrl: string },
  caFile: string,
): Record<string, string> {
  const https = new URL(target.httpsUrl);
  const http = new URL(target.httpUrl);
  return {
    baseUrl: target.httpsUrl.replace(/\/$/, ''),
    httpUrl: target.httpUrl.replace(/\/$/, ''),
    host: https.hostname,
    httpsPort: https.port,
    httpPort: http.port,
    caFile,
  };
}

/**
 * `deploy-check demo`: starts the demo target (healthy or misconfigured) on random ports and runs
 * the shipped ClientsVia checklist against it — real probes, real passes and failures.
 */
export async function demoCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: 'string', default: 'misconfigured' },
      checklist: { type: 'string', default: path.join(projectRoot(), 'checklists', 'clientsvia.yml') },
      report: { type: 'string', multiple: true, default: [] },
      out: { type: 'string', multiple: true, default: [] },
      phase: { type: 'string', multiple: true, default: [] },
    },
  });
  if (values.profile !== 'healthy' && values.profile !== 'misconfigured') {
    throw new DeployCheckError(
      ErrorCode.Usage,
      `--profile must be healthy or misconfigured, got "${values.profile}"`,
    );
  }
  const reports = pairReports(values.report, values.out);
  const { startDemoTarget, DEMO_CONFIG_TOKEN } = await import('../../examples/demo-target/server.js');
  const target = await startDemoTarget({ profile: values.profile });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deploy-check-demo-'));
  try {
    const caFile = path.join(dir, 'demo-ca.pem');
    writeFileSync(caFile, target.certPem);
    io.stdout.write(`demo target (${values.profile}): ${target.httpsUrl} and ${target.httpUrl}\n`);
    const checklist = keepGoing(loadChecklistFile(values.checklist, demoVars(target, caFile)), true);
    const run = await executeChecklist(checklist, io, {
      phases: values.phase,
      env: { ...io.env, DEMO_CONFIG_TOKEN, CONFIG_API_TOKEN: DEMO_CONFIG_TOKEN },
    });
    writeReports(run, reports, io);
    return exitFor(run);
  } finally {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

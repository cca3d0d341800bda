/**
 * The bundled CLI (scripts/bundle-cli.mjs → dist/cli/deploy-check.js, the package's `bin` and the
 * image's CLI) behaves as the CLI: built here from the sources, then run as a user runs it —
 * including a probe whose library stays external to the bundle and loads lazily.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Inside the project, as dist/cli is, so the external drivers resolve from its node_modules.
const outdir = path.join(root, 'dist', `cli-test-${process.pid}`);
const entry = path.join(outdir, 'deploy-check.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-cli-bundle-'));
let server: http.Server;
let base = '';

function runBundle(args: string[], cwd = dir): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [entry, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, out, err })));
}

beforeAll(async () => {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle-cli.mjs'), outdir], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(built.status, built.stderr).toBe(0);
  server = http.createServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  rmSync(outdir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
  await new Promise((r) => server?.close(r));
});

describe('the bundled CLI', () => {
  it('runs a checklist with an http probe and a latency probe (its histogram library loads from node_modules)', async () => {
    const file = path.join(dir, 'bundle.yml');
    writeFileSync(
      file,
      [
        'name: bundle',
        'service: svc',
        `vars: { base: "${base}" }`,
        'phases:',
        '  - id: main',
        '    title: Main',
        '    items:',
        '      - title: Up',
        '        check: { type: http, url: "{{base}}/ok" }',
        '      - title: Fast',
        '        check: { type: latency, url: "{{base}}/ok", samples: 20, thresholds: { p95: 5s } }',
        '      - title: Down is caught',
        '        severity: warning',
        '        check: { type: http, url: "{{base}}/down" }',
      ].join('\n'),
    );
    const report = path.join(dir, 'report.json');
    const r = await runBundle(['run', file, '--report', 'json', '--out', report]);
    expect(r.code, r.err + r.out).toBe(0);
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      phases: Array<{ items: Array<{ title: string; status: string }> }>;
    };
    const statuses = Object.fromEntries(json.phases[0]!.items.map((i) => [i.title, i.status]));
    // A failed item of severity warning does not block: exit 0 above, its result still says fail.
    expect(statuses).toEqual({ Up: 'pass', Fast: 'pass', 'Down is caught': 'fail' });
  });

  it('prints usage, lists the shipped checklists and names file:line:col of a bad one, with the exit codes', async () => {
    const help = await runBundle(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('deploy-check run');
    const list = await runBundle(['list'], root);
    expect(list.code).toBe(0);
    expect(list.out).toContain('clientsvia');
    const bad = path.join(dir, 'bad.yml');
    writeFileSync(bad, 'name: bad\nphases:\n  - id: x\n    items: [ {\n');
    const invalid = await runBundle(['validate', bad]);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toMatch(/bad\.yml:\d+:\d+/);
  });
});

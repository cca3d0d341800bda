import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

let server: http.Server;
let base = '';
const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-cli-'));

beforeAll(async () => {
  server = http.createServer((req, res) => res.writeHead(req.url === '/down' ? 503 : 200).end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

function checklistFile(name: string, path_: string, extra = ''): string {
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `name: ${name}\nservice: svc\nvars: { base: "${base}" }\nroles: { ops: { users: [U0OPS0001] } }\nphases:\n  - id: main\n    title: Main <b>\n    items:\n      - title: Probe & check\n        check: { type: http, url: "{{base}}${path_}" }\n      - title: By hand\n        manual: { owner: "@ops" }\n${extra}`,
  );
  return file;
}

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: {
      write: (t) => {
        out += t;
      },
      isTTY: false,
      color: false,
    },
    stderr: {
      write: (t) => {
        err += t;
      },
      isTTY: false,
      color: false,
    },
    env: {},
    cwd: dir,
  });
  return { code, out, err };
}

describe('deploy-check CLI', () => {
  it('exits 0 on pass and writes JSON, Markdown and JUnit reports', async () => {
    const file = checklistFile('good', '/ok');
    const r = await cli(
      'run',
      file,
      '--report',
      'json',
      '--out',
      'r.json',
      '--report',
      'md',
      '--out',
      'r.md',
      '--report',
      'junit',
      '--out',
      'r.xml',
    );
    expect(r.code).toBe(0);
    // Not a TTY: plain lines, no escape sequences.
    expect(r.out).not.toContain(String.fromCharCode(27));
    expect(r.out).toContain('PASS');
    const json = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8'));
    expect(json).toMatchObject({
      schema: 'deploy-check/run-report@1',
      outcome: 'pass',
      totals: { pass: 1, skipped: 1 },
    });
    expect(readFileSync(path.join(dir, 'r.md'), 'utf8')).toContain('| ✅ pass | Probe & check |');
    const xml = readFileSync(path.join(dir, 'r.xml'), 'utf8');
    expect(xml).toContain(
      '<testsuite name="Main &lt;b&gt;" id="main" tests="2" failures="0" errors="0" skipped="1"',
    );
  });

  it('exits 1 on a blocking failure, naming it', async () => {
    const r = await cli('run', checklistFile('bad', '/down'), '--report', 'junit', '--out', 'bad.xml');
    expect(r.code).toBe(1);
    expect(r.out).toContain('blocking:');
    expect(readFileSync(path.join(dir, 'bad.xml'), 'utf8')).toContain('<failure message="observed: 503');
  });

  it('exits 2 on usage and checklist errors, with file:line:col', async () => {
    const broken = path.join(dir, 'broken.yml');
    writeFileSync(broken, 'name: x\nphases:\n  - id: a\n   title: b\n');
    const r = await cli('run', broken);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: invalid YAML`),
    );
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('run', checklistFile('good2', '/ok'), '--var', 'nope=1')).err).toContain(
      'unknown variable "nope"',
    );
    expect((await cli('run', 'no-such-checklist')).err).toContain('no checklist "no-such-checklist"');
    expect((await cli('run', checklistFile('good3', '/ok'), '--report', 'pdf', '--out', 'x')).code).toBe(2);
  });

  it('validates, lists, prints a schema, and plans a dry run without calling anything', async () => {
    expect((await cli('validate', checklistFile('v', '/ok'))).out).toContain('1 phases, 2 items (1 probes)');
    const listed = await cli('list', '--checklists', dir);
    expect(listed.out).toMatch(/good\s+svc/);
    const schema = JSON.parse((await cli('schema')).out);
    expect(schema.title).toBe('deploy-check checklist');
    const dry = await cli('run', checklistFile('dry', '/never-called'), '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`dry run: would run http ${base}/never-called`);
  });
});

/**
 * The docs cannot drift from the code: docs/CHECKLIST.md is exactly what the generator renders
 * from the zod schemas, docs/OPERATIONS.md lists every environment variable of src/config.ts with
 * the code's default, and docs/ARCHITECTURE.md names every collection, queue and path that exists.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { queueNames } from '../../jobs/contracts.js';
import { CHECKLIST_DOCS, REGENERATE, renderChecklistDocs } from '../../scripts/gen-checklist-docs.js';
import { checkDefinitions } from '../../src/checks/registry.js';
import { CONFIG_KEYS, loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/http/metrics.js';
import { opsRoutes } from '../../src/http/routes.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function configKeys(): string[] {
  return [...CONFIG_KEYS];
}

/** The rows of the first Markdown table after `heading`, as arrays of trimmed cells. */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  expect(start, `heading "${heading}"`).toBeGreaterThanOrEqual(0);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

const unquote = (cell: string) => /^`([^`]*)`$/.exec(cell)?.[1];

describe('docs/CHECKLIST.md', () => {
  it('is what scripts/gen-checklist-docs.ts renders from the schemas', () => {
    const committed = existsSync(CHECKLIST_DOCS) ? readFileSync(CHECKLIST_DOCS, 'utf8') : '';
    const fresh = renderChecklistDocs();
    if (committed !== fresh)
      expect.fail(`docs/CHECKLIST.md is stale: run \`${REGENERATE}\` and commit the result`);
  });

  it('documents every probe type of the registry, with its summary', () => {
    const doc = read('docs/CHECKLIST.md');
    for (const def of checkDefinitions) {
      expect(doc, def.type).toContain(`\n### \`${def.type}\`\n`);
      expect(doc, def.type).toContain(def.summary);
    }
  });

  it('renders the same text twice (no dates, no randomness)', () => {
    expect(renderChecklistDocs()).toBe(renderChecklistDocs());
  });

  it('has a --check mode for CI that passes on the committed file', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/gen-checklist-docs.ts', '--check'], {
        cwd: root,
        stdio: 'ignore',
      });
      child.on('exit', resolve);
    });
    expect(code).toBe(0);
  });
});

describe('docs/OPERATIONS.md', () => {
  const doc = read('docs/OPERATIONS.md');
  const rows = tableAfter(doc, '## Environment variables');
  const documented = rows.map((r) => unquote(r[0]!) ?? r[0]!);

  it('lists every variable src/config.ts reads, and no other', () => {
    const keys = configKeys();
    expect(keys).toEqual(expect.arrayContaining(['SLACK_SIGNING_SECRET', 'REDIS_URL', 'MONGODB_URI']));
    expect([...documented].sort()).toEqual([...keys].sort());
    for (const key of keys) expect(doc, key).toContain(`\`${key}\``);
  });

  it("states each variable's default as the code applies it", () => {
    const minimal = {
      SLACK_SIGNING_SECRET: 'x',
      SLACK_BOT_TOKEN: 'xoxb-x',
      REDIS_URL: 'redis://x',
      MONGODB_URI: 'mongodb://x',
    };
    const config = loadConfig(minimal) as Record<string, unknown>;
    for (const [name, , dflt] of rows.map((r) => [unquote(r[0]!), r[1], r[2]!] as const)) {
      if (!name) continue;
      if (dflt === 'required') {
        expect(() => loadConfig({ ...minimal, [name]: undefined }), name).toThrow(name);
      } else if (unquote(dflt) !== undefined) {
        expect(String(config[name]), name).toBe(unquote(dflt));
      } else if (name !== 'SLACK_BOT_TOKEN') {
        expect(config[name], `${name} is documented without a default`).toBeUndefined();
      }
    }
  });

  it('names every operations route the bot serves', () => {
    for (const route of opsRoutes({}, createMetrics().registry))
      expect(doc).toContain(`\`${route.method} ${route.path}\``);
  });

  it('names every metric the bot exposes', async () => {
    const text = await createMetrics(async () => ({})).registry.metrics();
    for (const [, name] of text.matchAll(/^# TYPE (\S+) /gm)) expect(doc, name).toContain(`\`${name}`);
  });
});

describe('docs/ARCHITECTURE.md', () => {
  const doc = read('docs/ARCHITECTURE.md');

  it('lists every MongoDB collection the store uses, with its _id', () => {
    const storeDir = path.join(root, 'src', 'store');
    const collections = readdirSync(storeDir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [
        ...readFileSync(path.join(storeDir, f), 'utf8').matchAll(/\.collection\('([^']+)'\)/g),
      ])
      .map((m) => m[1]!);
    expect(collections).toEqual(expect.arrayContaining(['runs', 'votes', 'facts']));
    const table = tableAfter(doc, '## Facts, not counters').map((r) => unquote(r[0]!));
    expect([...table].sort()).toEqual([...new Set(collections)].sort());
  });

  it('names every queue', () => {
    for (const name of queueNames) expect(doc, name).toContain(`\`${name}\``);
  });
});

describe('paths named in the docs', () => {
  /** Repository paths a document names in backticks: `dir/…` paths and the root files we ship. */
  function named(text: string, dirs: string[]): string[] {
    const inDirs = new RegExp(`\`((?:${dirs.join('|')})/[\\w./-]*)\``, 'g');
    const rootFiles = /`(manifest\.yml|Dockerfile|\.dockerignore|package\.json|tsconfig(?:\.build)?\.json)`/g;
    return [...text.matchAll(inDirs), ...text.matchAll(rootFiles)].map((m) => m[1]!);
  }

  it.each(['docs/ARCHITECTURE.md', 'docs/OPERATIONS.md'])('exist, in %s', (file) => {
    const paths = named(read(file), [
      'src',
      'jobs',
      'commands',
      'test',
      'scripts',
      'examples',
      'docs',
      'checklists',
    ]);
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((p) => !existsSync(path.join(root, p)))).toEqual([]);
  });

  it('exist for the docs the README points to', () => {
    const paths = named(read('README.md'), ['docs']);
    expect(paths).toEqual(
      expect.arrayContaining(['docs/ARCHITECTURE.md', 'docs/CHECKLIST.md', 'docs/OPERATIONS.md']),
    );
    expect(paths.filter((p) => !existsSync(path.join(root, p)))).toEqual([]);
  });
});

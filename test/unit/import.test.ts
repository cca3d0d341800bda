import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  decodeMarkdownBytes,
  formatImportSummary,
  type ImportResult,
  importMarkdown,
  importMarkdownFile,
} from '../../src/checklist/import/markdown.js';
import { repairMojibake } from '../../src/checklist/import/mojibake.js';
import { initChecklist } from '../../src/checklist/import/templates.js';
import { parseChecklist } from '../../src/checklist/load.js';
import { DeployCheckError, ErrorCode } from '../../src/errors.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const SEED_DIRS = [path.join(REPO, 'test/fixtures/seeds'), path.resolve(REPO, '../shared/seeds')];
const SEEDS = ['clientsvia-production-checklist.md', 'convoai-production-checklist.md'];

function seedPath(name: string): string | undefined {
  return SEED_DIRS.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

/** Each seed is imported once per file: the assertions only read the result. */
function importSeed(name: string): { file: string; result: ImportResult } | undefined {
  const file = seedPath(name);
  return file ? { file, result: importMarkdownFile(file) } : undefined;
}

/** Counted independently of the importer: every task-list line, in the seed's own line numbers. */
function boxLines(markdown: string): number[] {
  return markdown
    .split(/\r?\n/)
    .flatMap((line, i) => (/^\s*(?:[-*+]|\d+[.)])\s+\[[ xX]\]/.test(line) ? [i + 1] : []));
}

interface RawItem {
  id: string;
  title: string;
  severity?: string;
  check?: { type: string } & Record<string, unknown>;
  manual?: { owner: string; instructions?: string };
}
interface RawChecklist {
  name: string;
  service: string;
  vars?: Record<string, { default: string }>;
  roles?: Record<string, { users: string[] }>;
  phases: Array<{ id: string; title: string; items: RawItem[] }>;
}

function raw(yaml: string): RawChecklist {
  return parse(yaml) as RawChecklist;
}

function items(yaml: string): RawItem[] {
  return raw(yaml).phases.flatMap((p) => p.items);
}

function item(yaml: string, title: string): RawItem {
  const found = items(yaml).find((i) => i.title === title);
  if (!found) throw new Error(`no item titled ${JSON.stringify(title)}`);
  return found;
}

function seedCommentLines(yaml: string, file: string): number[] {
  // Phases carry a seed comment for their heading too; items are the ones followed by "- id:".
  const lines = yaml.split('\n');
  const out: number[] = [];
  lines.forEach((line, i) => {
    const m = new RegExp(`^\\s*# seed: ${file.replace('.', '\\.')}:(\\d+)$`).exec(line);
    if (!m) return;
    const next = lines.slice(i + 1).find((l) => !/^\s*#/.test(l));
    if (next && /^\s{6}- id:/.test(next)) out.push(Number(m[1]));
  });
  return out;
}

function importText(text: string, file = 'test.md') {
  return importMarkdown(text, { file });
}

function expectImportError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DeployCheckError);
    expect((err as DeployCheckError).code).toBe(ErrorCode.ImportFailed);
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an import error');
}

describe.each(SEEDS)('importing the seed %s', (name) => {
  const seed = importSeed(name);
  const run = seed ? it : it.skip;

  run('yields a valid checklist holding every box of the seed, in order, each naming its line', () => {
    const markdown = readFileSync(seed!.file, 'utf8');
    const { result } = seed!;
    const expected = boxLines(markdown);
    expect(expected.length).toBeGreaterThan(50);
    expect(result.summary.boxes).toBe(expected.length);
    expect(result.summary.probes + result.summary.manual).toBe(expected.length);

    const checklist = parseChecklist(result.yaml, { file: 'imported.yml' });
    expect(checklist.phases.flatMap((p) => p.items)).toHaveLength(expected.length);
    expect(seedCommentLines(result.yaml, name)).toEqual(expected);
  });

  run('reports the repair of its mis-decoded emoji and leaves none behind', () => {
    const { result } = seed!;
    expect(result.encoding).toBe('macroman');
    expect(result.warnings[0]).toBe(
      `repaired ${result.repaired} mis-decoded characters (UTF-8 read as Mac Roman)`,
    );
    expect(result.yaml).not.toMatch(/‚úÖ|üöÄ|‚ö†Ô∏è|‚Üí|\uf8ff/);
  });

  run('writes only guesses that the probe schemas accept', () => {
    expect(seed!.result.warnings.filter((w) => /does not validate/.test(w))).toEqual([]);
  });

  run('prints a summary naming the counts and the probes left to finish', () => {
    const text = formatImportSummary(seed!.result, seed!.file);
    const { boxes, probes, manual } = seed!.result.summary;
    expect(text.split('\n')[0]).toBe(`${name}: ${boxes} boxes → ${probes} probes, ${manual} manual`);
    expect(text).toMatch(/needs attention \(\d+\):\n {2}line \d+: /);
  });

  run('lists the items that need attention with their lines', () => {
    const { summary } = seed!.result;
    expect(summary.needsAttention.length).toBeGreaterThanOrEqual(summary.manual);
    for (const n of summary.needsAttention) {
      expect(n.line).toBeGreaterThan(0);
      expect(n.reason).not.toBe('');
    }
  });
});

describe('probes guessed from the clientsvia seed', () => {
  const seed = importSeed(SEEDS[0]!);
  const run = seed ? it : it.skip;
  const yaml = () => seed!.result.yaml;

  run('turns headings into phases with ids from their titles', () => {
    const phases = raw(yaml()).phases;
    expect(phases[0]).toMatchObject({
      id: 'phase-1-security-audit',
      title: 'Phase 1: Security Audit (CRITICAL)',
    });
    expect(phases.map((p) => p.id)).toContain('hour-1-critical-monitoring');
  });

  run('writes env rules from variables, lengths and values', () => {
    const y = yaml();
    expect(item(y, 'JWT_SECRET set (min 32 characters)').check).toMatchObject({
      type: 'env',
      rules: { JWT_SECRET: { minLength: 32 } },
    });
    expect(item(y, 'SKIP_AUTH set to false (CRITICAL!)').check).toMatchObject({
      rules: { SKIP_AUTH: { equals: 'false' } },
    });
    expect(item(y, 'COOKIE_SECURE=true in production').check).toMatchObject({
      rules: { COOKIE_SECURE: { equals: 'true' } },
    });
    expect(item(y, 'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN set').check).toMatchObject({
      rules: { TWILIO_ACCOUNT_SID: 'required', TWILIO_AUTH_TOKEN: 'required' },
    });
  });

  run('finds the rate limit in the lines under the box', () => {
    expect(item(yaml(), 'Rate Limiting Configured').check).toMatchObject({
      type: 'rate-limit',
      url: '{{baseUrl}}/',
      limit: 50,
      window: '1m',
    });
  });

  run('guesses redirect, tls, latency, load, health, data stores and metrics', () => {
    const y = yaml();
    expect(item(y, 'HTTP → HTTPS redirect enabled').check).toEqual({
      type: 'redirect',
      url: 'http://{{host}}/',
    });
    expect(item(y, 'SSL/TLS certificate installed').check).toMatchObject({ type: 'tls', host: '{{host}}' });
    expect(item(y, 'Sub-25ms response time verified for cached queries').check).toMatchObject({
      type: 'latency',
      thresholds: { p95: '25ms' },
    });
    expect(item(y, 'Load testing completed (100 concurrent users)').check).toMatchObject({
      type: 'load',
      connections: 100,
    });
    expect(item(y, 'Health Checks').check).toMatchObject({
      type: 'http',
      url: '{{baseUrl}}/health',
      expect: { status: 200 },
    });
    expect(item(y, 'Redis connection tested').check).toMatchObject({ type: 'redis' });
    expect(item(y, 'All company indexes verified').check).toMatchObject({ type: 'mongodb' });
    expect(item(y, 'Error rate < 0.1%').check).toMatchObject({
      type: 'prometheus',
      threshold: { lt: 0.001 },
    });
  });

  run('keeps vague boxes manual, owned by the declared owner role, with a TODO', () => {
    const y = yaml();
    expect(item(y, 'Phone numbers registered').manual).toEqual({ owner: '@owner' });
    expect(raw(y).roles).toEqual({ owner: expect.objectContaining({ users: [] }) });
    expect(y).toMatch(/# TODO: no probe recognised[^\n]*\n\s+- id: phone-numbers-registered/);
    expect(item(y, 'Authentication Bypass Removed').manual?.instructions).toContain('SKIP_AUTH');
  });

  run('strips bold and trailing status markers from titles and notes the status', () => {
    const y = yaml();
    expect(item(y, 'Authentication Bypass Removed')).toBeDefined();
    expect(y).toMatch(
      /# marked "✅ COMPLETED" in the seed\n(?:\s+#[^\n]*\n)*\s+- id: authentication-bypass-removed/,
    );
  });

  run('declares the placeholders the probes use', () => {
    expect(Object.keys(raw(yaml()).vars ?? {}).sort()).toEqual(['baseUrl', 'host', 'prometheusUrl']);
  });
});

describe('probes guessed from the convoai seed', () => {
  const seed = importSeed(SEEDS[1]!);
  const run = seed ? it : it.skip;
  const yaml = () => seed!.result.yaml;

  run('guesses ports, latency, headers, compression, HTTP/2, exposed and redirect', () => {
    const y = yaml();
    expect(item(y, 'Configure firewall rules (22, 80, 443 only)').check).toEqual({
      type: 'ports',
      host: '{{host}}',
      allowed: [22, 80, 443],
    });
    expect(item(y, 'Response time under 200ms').check).toMatchObject({
      type: 'latency',
      thresholds: { p95: '200ms' },
    });
    expect(item(y, 'Set up HSTS headers').check).toMatchObject({
      type: 'headers',
      require: { 'strict-transport-security': { contains: 'max-age' } },
    });
    expect(item(y, 'Configure security headers (CSP, X-Frame-Options, etc.)').check).toMatchObject({
      type: 'headers',
    });
    expect(
      items(y)
        .filter((i) => i.title === 'Gzip compression enabled')
        .map((i) => i.check?.type),
    ).toEqual(['compression', 'compression']);
    expect(item(y, 'HTTP/2 configured').check?.type).toBe('http2');
    expect(item(y, 'Source maps disabled for production').check?.type).toBe('exposed');
    expect(item(y, 'Configure HTTPS redirect').check?.type).toBe('redirect');
    expect(item(y, 'Health check endpoints working').check).toMatchObject({ url: '{{baseUrl}}/health' });
    expect(item(y, "Set NODE_ENV to 'production'").check).toMatchObject({
      rules: { NODE_ENV: { equals: 'production' } },
    });
    expect(item(y, 'Generate strong JWT secret (256-bit minimum)').check).toMatchObject({
      rules: { JWT_SECRET: { minLength: 32 } },
    });
    expect(item(y, 'MongoDB 6.0+ installed and configured').check).toMatchObject({ minVersion: '6.0' });
  });

  run('puts boxes directly under a level-2 heading into their own phase', () => {
    const phases = raw(yaml()).phases;
    expect(phases.at(-1)).toMatchObject({ id: 'final-verification', title: 'Final Verification' });
    expect(phases.at(-1)!.items).toHaveLength(5);
  });

  run('makes optional boxes warnings', () => {
    expect(item(yaml(), 'CDN configured (optional)').severity).toBe('warning');
  });
});

describe('probe guesses beyond the seeds', () => {
  it.each([
    ['`DEBUG` not set in production', { type: 'env', rules: { DEBUG: 'forbidden' } }],
    ['`API_TOKEN` set (at least 40 chars)', { type: 'env', rules: { API_TOKEN: { minLength: 40 } } }],
    ['p99 response time under 1s', { type: 'latency', thresholds: { p99: '1s' } }],
    ['Load test: 500 requests/second', { type: 'load', rate: 500 }],
    ['Rate limit of 100 requests per 15 minutes on login', { type: 'rate-limit', limit: 100, window: '15m' }],
    ['`/api/status` endpoint responding', { type: 'http', url: '{{baseUrl}}/api/status' }],
    ['X-Frame-Options and CSP set', { type: 'headers', preset: 'none' }],
    ['Brotli compression enabled', { type: 'compression', encodings: ['br'] }],
    ['.env not publicly accessible', { type: 'exposed', baseUrl: '{{baseUrl}}' }],
    ['Redis 7+ running', { type: 'redis', minVersion: '7' }],
    ['MongoDB connection verified', { type: 'mongodb' }],
    ['Success rate > 99%', { type: 'prometheus', threshold: { gt: 0.99 } }],
    ['Port scan: only 443 open', { type: 'ports', allowed: [443] }],
  ])('%s', (text, check) => {
    const result = importText(`- [ ] ${text}\n`);
    expect(result.warnings.filter((w) => /does not validate/.test(w))).toEqual([]);
    expect(items(result.yaml)[0]!.check).toMatchObject(check);
  });

  it.each([
    'Configure rate limiting',
    'Load balancing configured',
    'SSL certificate backups',
    'Session store uses Redis',
  ])('stays manual: %s', (text) => {
    expect(items(importText(`- [ ] ${text}\n`).yaml)[0]!.manual).toBeDefined();
  });
});

describe('mojibake repair', () => {
  it.each([
    ['üöÄ', '🚀'],
    ['\uf8ffüöÄ', '🚀'],
    ['‚úÖ', '✅'],
    ['‚ö†Ô∏è', '⚠️'],
    ['‚Üí', '→'],
    ['caf√©', 'café'],
  ])('repairs %s read as Mac Roman to %s', (broken, fixed) => {
    expect(repairMojibake(`x ${broken} y`)).toMatchObject({ text: `x ${fixed} y`, encoding: 'macroman' });
  });

  it.each([
    ['ðŸš€', '🚀'],
    ['âœ…', '✅'],
    ['â€™', '’'],
    ['cafÃ©', 'café'],
  ])('repairs %s read as Windows-1252 to %s', (broken, fixed) => {
    expect(repairMojibake(`x ${broken} y`)).toMatchObject({ text: `x ${fixed} y`, encoding: 'windows-1252' });
  });

  it.each(['café', 'HTTP → HTTPS', '🚀 ✅ ⚠️', '“Ça va” — naïve Zürich', 'Größe ≤ 5 µs', 'plain ascii'])(
    'leaves clean UTF-8 alone: %s',
    (clean) => {
      expect(repairMojibake(clean)).toEqual({ text: clean, repaired: 0 });
    },
  );

  it('counts repaired characters and reports them in the import warnings', () => {
    const result = importText('# ‚úÖ Done\n- [ ] HTTP ‚Üí HTTPS redirect enabled ‚úÖ COMPLETED\n');
    expect(result.repaired).toBe(3);
    expect(result.warnings).toContain('repaired 3 mis-decoded characters (UTF-8 read as Mac Roman)');
    expect(item(result.yaml, 'HTTP → HTTPS redirect enabled').check?.type).toBe('redirect');
  });

  it('does not warn about clean text', () => {
    const result = importText('# Café →\n- [ ] Health endpoint responding 🚀\n');
    expect(result.repaired).toBe(0);
    expect(result.encoding).toBeUndefined();
    expect(result.warnings.join('\n')).not.toMatch(/repaired/);
  });
});

describe('malformed Markdown', () => {
  it('puts boxes with no heading at all into one phase "checklist"', () => {
    const result = importText('- [ ] one\n- [x] two\n* [ ] three\n1. [ ] four\n');
    const phases = raw(result.yaml).phases;
    expect(phases).toHaveLength(1);
    expect(phases[0]).toMatchObject({ id: 'checklist', title: 'Checklist' });
    expect(phases[0]!.items.map((i) => i.title)).toEqual(['one', 'two', 'three', 'four']);
    expect(result.yaml).toContain('# ticked [x] in the seed');
  });

  it('puts boxes above the first heading into a default phase before the others', () => {
    const result = importText('- [ ] early\n\n## Later\n- [ ] late\n');
    expect(raw(result.yaml).phases.map((p) => p.id)).toEqual(['checklist', 'later']);
  });

  it('keeps every box of deep nesting (12 levels), each with its own line', () => {
    const markdown = Array.from(
      { length: 12 },
      (_, depth) => `${'  '.repeat(depth)}- [ ] level ${depth + 1}`,
    ).join('\n');
    const result = importText(`# Deep\n${markdown}\n`);
    expect(result.summary.boxes).toBe(12);
    expect(items(result.yaml).map((i) => i.title)).toEqual(
      Array.from({ length: 12 }, (_, d) => `level ${d + 1}`),
    );
    expect(seedCommentLines(result.yaml, 'test.md')).toEqual(Array.from({ length: 12 }, (_, d) => d + 2));
  });

  it('rejects an empty file with a clear error', () => {
    expectImportError(() => importText('', 'empty.md'), /^empty\.md: no task-list boxes \(- \[ \]\) found$/);
    expectImportError(() => importText('  \n\n'), /no task-list boxes \(- \[ \]\) found/);
  });

  it('explains what it found when there are headings and lists but no boxes', () => {
    expectImportError(
      () => importText('# Title\n\n- plain item\n- another\n'),
      /no task-list boxes \(- \[ \]\) found \(found 1 heading\(s\) and 2 plain list item\(s\)/,
    );
  });

  it('rejects binary input with a clear error', () => {
    expectImportError(() => importText('- [ ] a\0b\n', 'logo.png'), /^logo\.png: looks like a binary file/);
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]);
    expect(() => decodeMarkdownBytes(png, 'logo.png')).toThrow(/logo\.png: looks like a binary file/);
    const garbage = Uint8Array.from([0xc3, 0x28, 0x01, 0x02, 0x9c, 0x1b, 0xc3]);
    expect(() => decodeMarkdownBytes(garbage, 'x.md')).toThrow(
      /binary file \(not UTF-8, with control bytes\)/,
    );
    const utf16Garbage = Uint8Array.from([0xff, 0xfe, 0x01, 0x00, 0x02, 0x00, 0x9c]);
    expect(() => decodeMarkdownBytes(utf16Garbage, 'x.md')).toThrow(/x\.md: looks like a binary file/);
    const replaced = `- [ ] ok\n${'\ufffd'.repeat(40)}\n`;
    expectImportError(() => importText(replaced), /invalid UTF-8/);
  });

  it('reads text that is not UTF-8 as Windows-1252 and says so', () => {
    const latin1 = Uint8Array.from(Buffer.from('- [ ] Caf\xe9 open\n', 'latin1'));
    const decoded = decodeMarkdownBytes(latin1, 'old.md');
    expect(decoded.text).toBe('- [ ] Café open\n');
    expect(decoded.warnings).toEqual(['old.md is not UTF-8: read it as Windows-1252']);
  });

  it('reads UTF-16 with a byte-order mark', () => {
    const bytes = Uint8Array.from(
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('- [ ] ✅ done\n', 'utf16le')]),
    );
    expect(decodeMarkdownBytes(bytes, 'notepad.md').text).toBe('- [ ] ✅ done\n');
  });

  it('reads Windows line endings and a byte-order mark like Unix text', () => {
    const unix = '# Phase A\n\n- [ ] Health endpoint responding\n- [ ] Something else\n';
    const windows = `\ufeff${unix.replace(/\n/g, '\r\n')}`;
    expect(importText(windows).yaml).toBe(importText(unix).yaml);
  });

  it('skips headings without boxes and mentions them', () => {
    const result = importText('# Doc\n## Notes\nJust text.\n### More notes\n## Work\n- [ ] do it\n');
    expect(raw(result.yaml).phases.map((p) => p.id)).toEqual(['work']);
    expect(result.warnings).toContain('skipped 1 heading(s) without boxes: "Notes" (line 2)');
  });

  it('ignores boxes inside fenced code and HTML comments', () => {
    const result = importText('# A\n```md\n- [ ] not a box\n```\n<!--\n- [ ] hidden\n-->\n- [ ] real\n');
    expect(items(result.yaml).map((i) => i.title)).toEqual(['real']);
  });

  it('reads setext headings as phases', () => {
    const result = importText('Security\n========\n\n- [ ] HTTPS redirect enabled\n');
    expect(raw(result.yaml).phases[0]).toMatchObject({ id: 'security', title: 'Security' });
  });

  it('gives duplicate titles unique ids, prefixed by their parent when it has one', () => {
    const result = importText(
      '# P\n- [ ] Twilio\n  - [ ] API key validated\n- [ ] SendGrid\n  - [ ] API key validated\n- [ ] x\n- [ ] x\n',
    );
    expect(items(result.yaml).map((i) => i.id)).toEqual([
      'twilio',
      'api-key-validated',
      'sendgrid',
      'sendgrid-api-key-validated',
      'x',
      'x-2',
    ]);
  });

  it('cleans titles and keeps them within 300 characters', () => {
    const long = 'word '.repeat(100);
    const result = importText(
      `# P\n- [ ] **Bold** and \`code\` and [a link](https://x.y) ⚠️ ACTION REQUIRED\n- [ ] ${long}\n- [ ] quotes: "a" 'b' # not a comment - [ ] {x}\n- [ ]\n`,
    );
    const titles = items(result.yaml).map((i) => i.title);
    expect(titles[0]).toBe('Bold and code and a link');
    expect([...titles[1]!].length).toBeLessThanOrEqual(300);
    expect(titles[1]!.endsWith('…')).toBe(true);
    expect(titles[2]).toBe(`quotes: "a" 'b' # not a comment - [ ] {x}`);
    expect(titles[3]).toBe('Untitled box (line 5)');
  });

  it('keeps emoji inside titles and counts the length as the schema does', () => {
    const result = importText(`# P\n- [ ] Configure 🔒 SSL\n- [ ] Launch ${'🚀'.repeat(400)} done\n`);
    const titles = items(result.yaml).map((i) => i.title);
    expect(titles[0]).toBe('Configure 🔒 SSL');
    expect(titles[1]!.length).toBeLessThanOrEqual(300);
    expect(titles[1]).toMatch(/^Launch (?:🚀)+…$/u);
  });

  it('numbers a thousand boxes with the same title', () => {
    const result = importText(`# P\n${'- [ ] same\n'.repeat(1000)}`);
    const ids = items(result.yaml).map((i) => i.id);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.slice(0, 3)).toEqual(['same', 'same-2', 'same-3']);
  });

  it('names the checklist and service after the file unless told', () => {
    const fromFile = raw(
      importMarkdown('- [ ] a\n', { file: 'docs/Payments-API-Production-Checklist.md' }).yaml,
    );
    expect(fromFile).toMatchObject({ name: 'payments-api-production-checklist', service: 'payments-api' });
    const given = raw(importMarkdown('- [ ] a\n', { file: 'x.md', name: 'pay', service: 'payments' }).yaml);
    expect(given).toMatchObject({ name: 'pay', service: 'payments' });
    expect(() => importMarkdown('- [ ] a\n', { file: 'x.md', name: 'Not Valid' })).toThrow(
      /--name "Not Valid"/,
    );
  });
});

describe('initChecklist', () => {
  const options = {
    service: 'payments-api',
    baseUrl: 'https://pay.example.com',
    channel: '#deploys',
    approvers: ['U0123ABCD', '<@U0456EFGH>'],
  };

  it('writes a starter checklist that validates', () => {
    const yaml = initChecklist(options);
    const checklist = parseChecklist(yaml, { file: 'init.yml' });
    expect(checklist.spec).toMatchObject({
      name: 'payments-api',
      service: 'payments-api',
      channel: '#deploys',
    });
    expect(checklist.phases.map((p) => p.id)).toEqual(['security', 'health']);
    expect(checklist.phases[0]!.items.map((i) => (i.kind === 'probe' ? i.check.type : i.kind))).toEqual([
      'redirect',
      'tls',
      'headers',
      'exposed',
    ]);
    expect(checklist.phases[1]!.items.map((i) => (i.kind === 'probe' ? i.check.type : i.kind))).toEqual([
      'http',
      'latency',
    ]);
    expect(checklist.spec.roles.approvers?.users).toEqual(['U0123ABCD', 'U0456EFGH']);
    expect(checklist.spec.approvals).toMatchObject({ roles: ['approvers'], required: 1 });
    expect(checklist.vars).toMatchObject({ baseUrl: 'https://pay.example.com', host: 'pay.example.com' });
  });

  it('refuses a bad URL, approver or empty approver list', () => {
    expect(() => initChecklist({ ...options, baseUrl: 'pay.example.com' })).toThrow(
      /expected an http:\/\/ or https:\/\/ URL/,
    );
    expect(() => initChecklist({ ...options, approvers: ['alice'] })).toThrow(
      /approver "alice": expected a Slack user id/,
    );
    expect(() => initChecklist({ ...options, approvers: [] })).toThrow(/at least one Slack user id/);
  });
});

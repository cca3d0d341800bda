import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CONFIG_TOKEN, type DemoProfile, startDemoTarget } from '../../examples/demo-target/server.js';
import { loadChecklistFile } from '../../src/checklist/load.js';
import type { Checklist, Item } from '../../src/checklist/model.js';
import { demoVars } from '../../src/cli/demo.js';
import { keepGoing } from '../../src/cli/shared.js';
import { runChecklist } from '../../src/run/engine.js';
import type { ItemResult } from '../../src/run/types.js';

/**
 * The two shipped checklists hold every task-list box of their seed, one item per box, in order,
 * each preceded by a `# seed: <file>:<line>` comment; boxes that name something a probe can
 * measure are probes.
 *
 * The line numbers are those of the original seeds (the shared seed folder next to the
 * repository). test/fixtures/seeds holds copies whose blank lines differ, so against those only
 * the boxes' count, order and text are compared; without either, the counts recorded here are.
 */

const REPO = path.resolve(import.meta.dirname, '../..');
const ORIGINAL_SEEDS = path.resolve(REPO, '../shared/seeds');
const FIXTURE_SEEDS = path.join(REPO, 'test/fixtures/seeds');
/** A task-list box, as the issue counts them. */
const BOX_SOURCE = String.raw`^\s*[-*] \[[ xX]\]`;

interface Shipped {
  file: string;
  seed: string;
  /** Boxes in the seed, for when the seed itself is not at hand. */
  boxes: number;
  /** Items that must be probes of the given type ("phase/item" → type). */
  probes: Record<string, string>;
}

const SHIPPED: Shipped[] = [
  {
    file: 'checklists/clientsvia.yml',
    seed: 'clientsvia-production-checklist.md',
    boxes: 90,
    probes: {
      'security/env-configured': 'env',
      'security/jwt-secret': 'env',
      'security/skip-auth-false': 'env',
      'security/cookie-secure': 'env',
      'security/rate-limiting': 'rate-limit',
      'security/https-enforced': 'headers',
      'security/tls-certificate': 'tls',
      'security/http-to-https-redirect': 'redirect',
      'database-performance/database-indexes': 'mongodb',
      'database-performance/cached-query-latency': 'latency',
      'database-performance/load-test-100-users': 'load',
      'monitoring/health-checks': 'http',
      'testing/load-1000-requests-per-minute': 'load',
      'post-deploy-hour-6/error-rate': 'prometheus',
      'post-deploy-hour-24/cache-hit-rate': 'prometheus',
    },
  },
  {
    file: 'checklists/convoai.yml',
    seed: 'convoai-production-checklist.md',
    boxes: 146,
    probes: {
      'security-secrets/jwt-secret': 'env',
      'security-secrets/node-env-production': 'env',
      'security-ssl/https-redirect': 'redirect',
      'security-ssl/hsts': 'headers',
      'security-ssl/security-headers': 'headers',
      'security-firewall/firewall-rules': 'ports',
      'security-firewall/rate-limiting': 'rate-limit',
      'infra-server/ram-and-cpu': 'prometheus',
      'infra-database/mongodb-version': 'mongodb',
      'backup-database/backup-retention': 'prometheus',
      'perf-backend/response-time-200ms': 'latency',
      'perf-network/http2': 'http2',
      'testing-performance/concurrent-users': 'load',
    },
  },
];

function seedText(dir: string, name: string): string | undefined {
  const file = path.join(dir, name);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/** 1-based line numbers of the seed's boxes. */
function boxLines(markdown: string): number[] {
  const starts = [...markdown.matchAll(new RegExp(BOX_SOURCE, 'gm'))].map((m) => m.index + m[0].search(/\S/));
  return starts.map((offset) => markdown.slice(0, offset).split('\n').length);
}

/** `# seed: <file>:<line>` comments of the YAML text: the seed line each names, and where the comment is. */
function seedComments(yaml: string, seed: string): Array<{ seedLine: number; yamlLine: number }> {
  const re = new RegExp(`^\\s*# seed: ${seed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)\\b`);
  return yaml.split('\n').flatMap((line, i) => {
    const m = re.exec(line);
    return m ? [{ seedLine: Number(m[1]), yamlLine: i + 1 }] : [];
  });
}

/** The seeds are UTF-8 that was read as Mac Roman once ("üöÄ" for 🚀): undo that. */
const MAC_ROMAN = (() => {
  const decoder = new TextDecoder('macintosh');
  const map = new Map<string, number>();
  for (let b = 0; b < 256; b++) map.set(decoder.decode(Uint8Array.of(b)), b);
  return map;
})();

function repairMojibake(text: string): string {
  const bytes: number[] = [];
  for (const ch of text) {
    const b = MAC_ROMAN.get(ch);
    if (b === undefined) return text;
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** A box's text as an item title: markup, status suffixes ("✅ COMPLETED") and padding removed. */
function boxTitle(line: string): string {
  return repairMojibake(line)
    .replace(new RegExp(BOX_SOURCE), '')
    .replace(/\*\*/g, '')
    .replace(/\s+(✅|⚠️)\s+[A-Z][A-Z ]+$/u, '')
    .trim();
}

/** A checklist secret reference, `${secret:NAME}`. */
const secret = (name: string): string => `\${secret:${name}}`;

const MOJIBAKE = /[‚üÔ∏≈√]|Ô∏è/;

function allItems(c: Checklist): Item[] {
  return c.phases.flatMap((p) => p.items);
}

describe.each(SHIPPED)('$file', (shipped) => {
  const file = path.join(REPO, shipped.file);
  const yaml = readFileSync(file, 'utf8');
  const checklist = loadChecklistFile(file);
  const items = allItems(checklist);
  const original = seedText(ORIGINAL_SEEDS, shipped.seed);
  const markdown = original ?? seedText(FIXTURE_SEEDS, shipped.seed);
  const lines = markdown ? boxLines(markdown) : undefined;

  it('has exactly one item per box of the seed', () => {
    if (lines) expect(lines).toHaveLength(shipped.boxes);
    expect(items).toHaveLength(shipped.boxes);
  });

  it('names every box line in exactly one "# seed:" comment, in the seed\'s order', () => {
    const comments = seedComments(yaml, shipped.seed);
    expect(comments).toHaveLength(items.length);
    const named = comments.map((c) => c.seedLine);
    expect(new Set(named).size).toBe(named.length);
    expect(named).toEqual([...named].sort((a, b) => a - b));
    if (original) {
      const exact = boxLines(original);
      for (const line of exact)
        expect(
          named.filter((n) => n === line),
          `seed line ${line}`,
        ).toHaveLength(1);
      expect(named).toEqual(exact);
    }
  });

  it('puts each "# seed:" comment right above its own item', () => {
    const comments = seedComments(yaml, shipped.seed);
    const yamlLines = yaml.split('\n');
    items.forEach((item, i) => {
      const comment = comments[i]!;
      expect(comment.yamlLine).toBeLessThan(item.line);
      // Only further comment lines may sit between the seed comment and the item.
      const between = yamlLines.slice(comment.yamlLine, item.line - 1);
      expect(
        between.every((l) => /^\s*#/.test(l)),
        `${item.key}`,
      ).toBe(true);
    });
  });

  it.runIf(markdown !== undefined)(
    'titles each item with its box text, emoji repaired and status dropped',
    () => {
      const seedLines = markdown!.split(/\r?\n/);
      items.forEach((item, i) => {
        const expected = boxTitle(seedLines[lines![i]! - 1]!);
        expect(item.title, `${item.key} (seed line ${lines![i]})`).toBe(expected);
      });
    },
  );

  it.runIf(markdown !== undefined)('titles each phase with its seed heading(s), emoji repaired', () => {
    const headings = markdown!
      .split(/\r?\n/)
      .filter((l) => /^#{2,4}\s/.test(l))
      .map((l) => repairMojibake(l.replace(/^#+\s*/, '').trim()));
    for (const phase of checklist.phases) {
      // "Section — Subsection" joins a heading and the one below it; a long heading may be shortened.
      for (const part of phase.title.split(' — ')) {
        expect(
          headings.some((h) => h === part || h.startsWith(part)),
          `${phase.id}: "${part}"`,
        ).toBe(true);
      }
    }
  });

  it('has no mis-decoded emoji or status suffixes in titles', () => {
    const titles = [
      checklist.spec.title ?? '',
      ...checklist.phases.map((p) => p.title),
      ...items.map((i) => i.title),
    ];
    for (const title of titles) {
      expect(title).not.toMatch(MOJIBAKE);
      expect(title).not.toMatch(/COMPLETED|IMPROVED|IMPLEMENTED|ACTION REQUIRED/);
    }
  });

  it('makes the named boxes real probes of the expected type', () => {
    const byKey = new Map(items.map((i) => [i.key, i]));
    for (const [key, type] of Object.entries(shipped.probes)) {
      const item = byKey.get(key);
      expect(item, key).toBeDefined();
      expect(item!.kind, key).toBe('probe');
      expect(item!.kind === 'probe' && item!.check.type, key).toBe(type);
    }
  });

  it.runIf(markdown !== undefined)(
    'makes every box naming a number, variable, header, port or endpoint a probe',
    () => {
      const seedLines = markdown!.split(/\r?\n/);
      const measurable =
        /(^|[^A-Za-z0-9])\d|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|header|\bX-[A-Z]|\bports?\b|endpoint|\s\/[a-z]/i;
      items.forEach((item, i) => {
        const text = boxTitle(seedLines[lines![i]! - 1]!);
        if (measurable.test(text)) expect(item.kind, `${item.key}: ${text}`).toBe('probe');
      });
    },
  );

  it('gives every manual item an owner role that is declared', () => {
    const roles = new Set(Object.keys(checklist.spec.roles));
    for (const item of items) {
      if (item.kind !== 'manual') continue;
      expect(item.manual.owner.length, item.key).toBeGreaterThan(0);
      for (const owner of item.manual.owner) {
        expect('role' in owner && roles.has(owner.role), `${item.key} owner ${JSON.stringify(owner)}`).toBe(
          true,
        );
      }
    }
  });

  it('takes its targets from vars, trusts {{caFile}}, and keeps secrets as references', () => {
    for (const name of ['baseUrl', 'httpUrl', 'host', 'caFile'])
      expect(checklist.spec.vars).toHaveProperty(name);
    expect(checklist.vars.caFile).toBe('');
    expect(checklist.spec.network.caFile).toBe('');
    expect(yaml).toMatch(/caFile: "\{\{caFile\}\}"/);
    // No literal credential in the file: every token, key and URI with a password is a secret reference.
    expect(yaml).not.toMatch(/(Bearer|Basic|OAuth) (?!\$\{secret:|eyJhbGciOiJub25l)[A-Za-z0-9+/=._-]{12,}/);
    expect(yaml).not.toMatch(/(mongodb|rediss?):\/\/[^\s"$]*:[^\s"@]+@/);
  });

  it('asks two different people of both approver roles, for 4 hours', () => {
    const gates = [checklist.spec.approvals].flat();
    expect(gates).toHaveLength(1);
    expect(gates[0]).toMatchObject({
      required: 2,
      roles: ['deployment-approver', 'technical-lead'],
      allowSelfApproval: false,
      expiresIn: 4 * 3600_000,
    });
  });

  it("re-runs probe items at 1 h, 6 h and 24 h and rolls back in the seed's order", () => {
    const monitors = checklist.spec.monitors!;
    expect(monitors.at).toEqual([3600_000, 6 * 3600_000, 24 * 3600_000]);
    const byKey = new Map(items.map((i) => [i.key, i]));
    for (const m of monitors.checks) expect(byKey.get(m.item!)?.kind, m.id).toBe('probe');
    const steps = checklist.spec.rollback!.steps.map((s) => s.type);
    expect(steps).toEqual([
      'webhook',
      'wait-for',
      'manual',
      'redis-delete',
      'slack-notify',
      'statuspage',
      'postmortem',
    ]);
  });
});

describe('clientsvia.yml specifics', () => {
  const checklist = loadChecklistFile(path.join(REPO, 'checklists/clientsvia.yml'));
  const items = allItems(checklist);

  it('keeps Phase 1 (CRITICAL in the seed) critical', () => {
    const security = checklist.phases.find((p) => p.id === 'security')!;
    for (const item of security.items) expect(item.severity, item.key).toBe('critical');
  });

  it('turns the hour-1/6/24 boxes into phases of their own, reused by the monitors', () => {
    const ids = checklist.phases.map((p) => p.id);
    expect(ids).toEqual([
      'security',
      'database-performance',
      'multi-tenant',
      'integrations',
      'monitoring',
      'testing',
      'post-deploy-hour-1',
      'post-deploy-hour-6',
      'post-deploy-hour-24',
    ]);
    const monitored = new Set(checklist.spec.monitors!.checks.map((m) => m.item!.split('/')[0]));
    expect([...monitored].sort()).toEqual([
      'post-deploy-hour-1',
      'post-deploy-hour-24',
      'post-deploy-hour-6',
    ]);
  });

  it('rolls back through Render with the API key as a secret', () => {
    const [webhook] = checklist.spec.rollback!.steps;
    expect(webhook).toMatchObject({
      type: 'webhook',
      url: 'https://api.render.com/v1/services/srv-clientsvia-api/rollback',
      headers: { Authorization: `Bearer ${secret('RENDER_API_KEY')}` },
    });
    const cache = checklist.spec.rollback!.steps.find((s) => s.type === 'redis-delete');
    expect(cache).toMatchObject({ url: secret('REDIS_URL'), pattern: 'cache:*' });
  });

  it('reads the deployed environment from /config/env.json with the config token', () => {
    const env = items.filter((i) => i.kind === 'probe' && i.check.type === 'env');
    expect(env.length).toBeGreaterThanOrEqual(10);
    for (const item of env) {
      expect(item.kind === 'probe' && item.check.source).toEqual({
        json: {
          url: 'https://api.clientsvia.example/config/env.json',
          headers: { Authorization: `Bearer ${secret('CONFIG_API_TOKEN')}` },
        },
      });
    }
  });
});

describe('convoai.yml specifics', () => {
  const checklist = loadChecklistFile(path.join(REPO, 'checklists/convoai.yml'));
  const byKey = new Map(allItems(checklist).map((i) => [i.key, i]));

  it('checks Nginx hides its version and the app answers within 200 ms', () => {
    const headers = byKey.get('security-ssl/security-headers')!;
    expect(headers.kind === 'probe' && headers.check.forbid).toContainEqual({
      name: 'Server',
      matches: '\\d',
    });
    const latency = byKey.get('perf-backend/response-time-200ms')!;
    expect(latency.kind === 'probe' && latency.check.thresholds).toEqual({ p95: 200 });
  });

  it('allows only 22, 80 and 443 through the firewall', () => {
    const ports = byKey.get('security-firewall/firewall-rules')!;
    expect(ports.kind === 'probe' && ports.check).toMatchObject({
      host: 'chat.convoai.example',
      allowed: [22, 80, 443],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The demo: the healthy target passes every probe it can answer, the misconfigured one fails them.
// ---------------------------------------------------------------------------------------------

/** Probes of clientsvia.yml the demo target answers without secrets it lacks. */
const DEMO_ANSWERS = [
  'security/tls-certificate',
  'security/auth-bypass-removed',
  'security/hardcoded-credentials-removed',
  'security/env-configured',
  'security/jwt-secret',
  'security/session-secret',
  'security/mongodb-uri',
  'security/redis-url',
  'security/twilio-credentials',
  'security/elevenlabs-api-key',
  'security/sendgrid-api-key',
  'security/sentry-dsn',
  'security/skip-auth-false',
  'security/rate-limiting',
  'security/https-enforced',
  'security/cookie-secure',
  'security/http-to-https-redirect',
  'database-performance/performance-testing',
  'database-performance/memory-leak-testing',
  'multi-tenant/jwt-validated',
  'monitoring/error-monitoring',
  'monitoring/health-checks',
  'monitoring/application-monitoring',
  'monitoring/memory-usage-monitoring',
  'monitoring/api-endpoint-metrics',
  'testing/api-endpoints-tested',
  'testing/load-testing',
  'testing/redis-cache-performance',
  'post-deploy-hour-1/health-endpoint-responding',
  'post-deploy-hour-1/redis-cache-working',
  'post-deploy-hour-6/no-memory-leaks',
  'post-deploy-hour-6/error-rate',
  'post-deploy-hour-24/cache-hit-rate',
  'post-deploy-hour-24/all-integrations-working',
];

/** Timing probes: asserted to fail when misconfigured; when healthy only to measure (CI machines are noisy). */
const DEMO_TIMING = [
  'database-performance/cached-query-latency',
  'database-performance/load-test-100-users',
  'testing/load-100-concurrent-users',
  'testing/load-1000-requests-per-minute',
  'post-deploy-hour-6/cached-response-times',
];

/** What the misconfigured target gets wrong, as the probe reports it. */
const MISCONFIGURED: Record<string, RegExp> = {
  'security/hardcoded-credentials-removed': /\/\.env exposed.*\/\.git\/HEAD exposed.*app\.js\.map exposed/,
  'security/env-configured': /SENTRY_DSN: missing/,
  'security/jwt-secret': /JWT_SECRET: length 12 < 32/,
  'security/sentry-dsn': /SENTRY_DSN: missing/,
  'security/skip-auth-false': /SKIP_AUTH: must equal "false"/,
  'security/cookie-secure': /COOKIE_SECURE: must equal "true"/,
  'security/rate-limiting': /no 429 after \d+ requests/,
  'security/https-enforced':
    /Strict-Transport-Security missing.*X-Powered-By is present.*cookie sid lacks Secure, HttpOnly, SameSite/,
  'security/http-to-https-redirect': /no redirect/,
  'database-performance/performance-testing': /not honoured: br, gzip/,
  'database-performance/memory-leak-testing': /0\.93/,
  'monitoring/error-monitoring': /0\.012/,
  'monitoring/health-checks': /status was 503/,
  'testing/load-testing': /http\/1\.1 only/,
  'testing/redis-cache-performance': /0\.55/,
  'post-deploy-hour-1/health-endpoint-responding': /status was 503/,
  'post-deploy-hour-1/redis-cache-working': /X-Cache is "MISS"/,
  'post-deploy-hour-6/error-rate': /0\.012/,
  'post-deploy-hour-24/cache-hit-rate': /0\.55/,
  'post-deploy-hour-24/all-integrations-working': /status was 503/,
  ...Object.fromEntries(DEMO_TIMING.map((k) => [k, /(p50|p95) [\d.]+ ms > 25 ms/])),
};

async function runDemo(profile: DemoProfile): Promise<Map<string, ItemResult>> {
  const target = await startDemoTarget({ profile });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-shipped-'));
  try {
    const caFile = path.join(dir, 'demo-ca.pem');
    writeFileSync(caFile, target.certPem);
    const checklist = keepGoing(
      loadChecklistFile(path.join(REPO, 'checklists/clientsvia.yml'), demoVars(target, caFile)),
      true,
    );
    // Only the config token: MongoDB/Redis URLs of the test services must not leak into the run.
    const run = await runChecklist(checklist, {
      env: { CONFIG_API_TOKEN: DEMO_CONFIG_TOKEN },
      manualMode: 'skipped',
    });
    return new Map(run.phases.flatMap((p) => p.items).map((r) => [r.key, r]));
  } finally {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('clientsvia.yml against the demo target', () => {
  let healthy: Map<string, ItemResult>;
  let misconfigured: Map<string, ItemResult>;

  beforeAll(async () => {
    healthy = await runDemo('healthy');
    misconfigured = await runDemo('misconfigured');
  }, 120_000);

  afterAll(() => undefined);

  it('passes every probe the healthy target can answer', () => {
    for (const key of DEMO_ANSWERS) {
      const r = healthy.get(key)!;
      expect(r, key).toBeDefined();
      expect(`${key}: ${r.status} ${r.detail}`).toBe(`${key}: pass ${r.detail}`);
    }
    for (const key of DEMO_TIMING) expect(['pass', 'fail'], key).toContain(healthy.get(key)!.status);
  });

  it('errors, naming the missing secret, where the demo lacks the infrastructure', () => {
    for (const [key, r] of healthy) {
      if (r.kind !== 'probe' || DEMO_ANSWERS.includes(key) || DEMO_TIMING.includes(key)) continue;
      expect(r.status, key).toBe('error');
      expect(r.detail, key).toMatch(/secret [A-Z_]+ is not set|query returned no data|connection refused/);
    }
  });

  it('fails the misconfigured target with the reason', () => {
    for (const [key, reason] of Object.entries(MISCONFIGURED)) {
      const r = misconfigured.get(key)!;
      expect(r.status, key).toBe('fail');
      expect(r.detail, key).toMatch(reason);
    }
  });
});

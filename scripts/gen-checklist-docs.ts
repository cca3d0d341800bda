/**
 * Writes docs/CHECKLIST.md — the reference of every checklist field and probe type — from the zod
 * schemas themselves (`z.toJSONSchema` of `checklistSpec` and of each probe's `params`), so the
 * reference cannot drift from what `deploy-check validate` accepts. test/unit/docs.test.ts fails
 * when the committed file differs from what this script renders.
 *
 *   npx tsx scripts/gen-checklist-docs.ts           # (re)write docs/CHECKLIST.md
 *   npx tsx scripts/gen-checklist-docs.ts --check   # exit 1 when docs/CHECKLIST.md is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { parseChecklist } from '../src/checklist/load.js';
import { checklistSpec, checkSpec, principal } from '../src/checklist/schema.js';
import { duration, formatDuration } from '../src/checks/duration.js';
import { checkDefinitions } from '../src/checks/registry.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHECKLIST_DOCS = path.join(root, 'docs', 'CHECKLIST.md');
export const REGENERATE = 'npx tsx scripts/gen-checklist-docs.ts';
const SELF = 'scripts/gen-checklist-docs.ts';
/** `${secret:NAME}`, the checklist's secret syntax (built, so it is not mistaken for a template). */
const secret = (name: string) => ['$', '{secret:', name, '}'].join('');

// ---------------------------------------------------------------------------------------------
// JSON Schema, as zod emits it for a checklist's input form
// ---------------------------------------------------------------------------------------------

interface Node {
  type?: string | string[];
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  additionalProperties?: Node | boolean;
  propertyNames?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

function jsonSchema(schema: z.ZodType): Node {
  const { $schema: _ignored, ...node } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Node & {
    $schema?: string;
  };
  return node;
}

/** A node's shape: what it accepts, whatever a particular use of it says about it or defaults it to. */
const shape = (n: Node) => JSON.stringify({ ...n, description: undefined, default: undefined });

/** Shapes that recur everywhere get one name (and one explanation in the conventions section). */
const NAMED: ReadonlyArray<{ name: string; shape: string; description: string | undefined }> = [
  { name: 'duration', node: jsonSchema(duration) },
  { name: 'principal', node: jsonSchema(principal) },
  { name: 'probe', node: jsonSchema(checkSpec) },
].map(({ name, node }) => ({ name, shape: shape(node), description: node.description }));

function namedAs(node: Node): string | undefined {
  const text = shape(node);
  return NAMED.find((n) => n.shape === text)?.name;
}

const LINKS: Record<string, string> = {
  duration: '[duration](#conventions)',
  principal: '[principal](#conventions)',
  probe: '[probe](#probe-types)',
};

// ---------------------------------------------------------------------------------------------
// Rendering one schema node as a type, and an object's properties as table rows
// ---------------------------------------------------------------------------------------------

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const code = (s: string) => `\`${s}\``;

function range(n: Node): string {
  const lo =
    n.exclusiveMinimum !== undefined
      ? `> ${n.exclusiveMinimum}`
      : n.minimum !== undefined && n.minimum > -MAX_SAFE
        ? `${n.minimum}`
        : undefined;
  const hi =
    n.exclusiveMaximum !== undefined
      ? `< ${n.exclusiveMaximum}`
      : n.maximum !== undefined && n.maximum < MAX_SAFE
        ? `${n.maximum}`
        : undefined;
  const low = lo === undefined || lo.startsWith('>') ? lo : `≥ ${lo}`;
  const high = hi === undefined || hi.startsWith('<') ? hi : `≤ ${hi}`;
  if (lo !== undefined && hi !== undefined && low !== lo) {
    if (high !== hi) return `${lo}–${hi}`;
  }
  return [low, high].filter(Boolean).join(', ');
}

function scalar(type: string, n: Node): string {
  const parts: string[] = [type];
  if (type === 'integer' || type === 'number') {
    const r = range(n);
    if (r) parts.push(r);
  }
  if (type === 'string') {
    if (n.format === 'uri') parts[0] = 'URL';
    if (n.pattern) parts.push(`matching ${code(n.pattern)}`);
    else if (n.maxLength !== undefined) parts.push(`≤ ${n.maxLength} chars`);
    else if (n.minLength !== undefined && n.minLength > 1) parts.push(`≥ ${n.minLength} chars`);
  }
  return parts.join(' ');
}

function unionOf(types: string[]): string {
  return [...new Set(types)].join(' | ');
}

function typeText(n: Node): string {
  const named = namedAs(n);
  if (named) return LINKS[named] ?? named;
  if (n.const !== undefined) return code(JSON.stringify(n.const));
  if (n.enum) return n.enum.map((v) => code(JSON.stringify(v))).join(' | ');
  const alternatives = n.anyOf ?? n.oneOf;
  if (alternatives) return unionOf(alternatives.map(typeText));
  if (Array.isArray(n.type)) return unionOf(n.type.map((t) => scalar(t, n)));
  switch (n.type) {
    case 'array': {
      const inner = n.items ? typeText(n.items) : 'any';
      const list = inner.includes(' | ') ? `(${inner})[]` : `${inner}[]`;
      return n.minItems && n.minItems > 0 ? `${list} (at least ${n.minItems})` : list;
    }
    case 'object':
      if (!n.properties && n.additionalProperties && typeof n.additionalProperties === 'object')
        return `map of ${typeText(n.additionalProperties)}`;
      return 'object';
    case undefined:
      return 'any';
    default:
      return scalar(n.type, n);
  }
}

function hasFields(n: Node): boolean {
  return !!n.properties && Object.keys(n.properties).length > 0;
}

/**
 * The object whose fields a node accepts, if any: the node itself; the object form of a shorthand
 * (`string | {…}`, `X | X[]`); or, for "one of these forms" unions of objects with distinct keys
 * (`{ dotenv } | { json } | …`), their fields merged — each optional, since only one form is given.
 */
function objectWithFields(n: Node): Node | undefined {
  if (namedAs(n)) return undefined;
  if (hasFields(n)) return n;
  const alternatives = (n.anyOf ?? n.oneOf ?? []).map(objectWithFields).filter((x): x is Node => !!x);
  if (alternatives.length === 1) return alternatives[0];
  if (alternatives.length === 0) return undefined;
  const merged: Record<string, Node> = {};
  for (const alternative of alternatives)
    for (const [key, value] of Object.entries(alternative.properties ?? {})) {
      if (key in merged) return undefined;
      merged[key] = value;
    }
  return { type: 'object', properties: merged };
}

/** Where a property's own fields continue, if it has any worth a row each. */
function nested(n: Node, pathHere: string): { node: Node; prefix: string } | undefined {
  if (namedAs(n)) return undefined;
  const direct = objectWithFields(n);
  if (direct) return { node: direct, prefix: `${pathHere}.` };
  const list = n.type === 'array' ? n.items : (n.anyOf ?? n.oneOf)?.find((a) => a.type === 'array')?.items;
  if (list) {
    const inner = objectWithFields(list);
    if (inner) return { node: inner, prefix: `${pathHere}[].` };
  }
  if (n.type === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object') {
    const more = nested(n.additionalProperties, `${pathHere}.<name>`);
    if (more) return more;
  }
  return undefined;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
}

function describe(n: Node): string {
  const named = NAMED.find((x) => x.name === namedAs(n));
  // A named type's own description is said once, under Conventions.
  if (n.description && n.description !== named?.description) return n.description;
  if (named) return '';
  const alternatives = n.anyOf ?? n.oneOf ?? [];
  const described = alternatives.find((a) => a.description && !namedAs(a));
  return described?.description ?? '';
}

/** One row per property, recursing into nested objects unless `stop` names the path. */
function rows(
  n: Node,
  opts: { prefix?: string; stop?: ReadonlySet<string>; skip?: ReadonlySet<string> } = {},
): Row[] {
  const out: Row[] = [];
  const required = new Set(n.required ?? []);
  for (const [name, prop] of Object.entries(n.properties ?? {})) {
    const p = `${opts.prefix ?? ''}${name}`;
    if (opts.skip?.has(p)) continue;
    out.push({
      path: p,
      type: typeText(prop),
      required: required.has(name) && prop.default === undefined,
      ...(prop.default !== undefined ? { default: prop.default } : {}),
      description: describe(prop),
    });
    if (opts.stop?.has(p)) continue;
    const more = nested(prop, p);
    if (more) out.push(...rows(more.node, { ...opts, prefix: more.prefix }));
  }
  return out;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n+/g, ' ');

function table(list: Row[]): string {
  const lines = ['| Field | Type | Required | Default | Description |', '| --- | --- | --- | --- | --- |'];
  for (const r of list) {
    const dflt = r.default === undefined ? '' : code(JSON.stringify(r.default));
    lines.push(
      `| ${[code(r.path), r.type, r.required ? 'yes' : '', dflt, r.description].map(cell).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

function yamlBlock(value: unknown): string {
  return ['```yaml', toYaml(value, { lineWidth: 0 }).trimEnd(), '```'].join('\n');
}

// ---------------------------------------------------------------------------------------------
// One short, valid example per probe type (validated below against the item schema)
// ---------------------------------------------------------------------------------------------

export const PROBE_EXAMPLES: Record<string, Record<string, unknown>> = {
  http: {
    id: 'health',
    title: 'Health endpoint reports ok',
    check: {
      type: 'http',
      url: '{{baseUrl}}/health',
      expect: { status: 200, json: [{ path: '$.status', equals: 'ok' }] },
    },
  },
  latency: {
    id: 'api-latency',
    title: 'Response time under 200ms',
    check: { type: 'latency', url: '{{baseUrl}}/api/health', samples: 50, thresholds: { p95: '200ms' } },
  },
  load: {
    id: 'concurrent-users',
    title: 'Handles 100 concurrent users',
    check: {
      type: 'load',
      url: '{{baseUrl}}/api/health',
      connections: 100,
      duration: '30s',
      thresholds: { p99: '500ms', maxErrorRate: 0.01 },
    },
  },
  tls: {
    id: 'certificate',
    title: 'TLS certificate valid for 14 more days',
    check: { type: 'tls', host: '{{host}}', minDaysValid: 14, minVersion: 'TLSv1.2' },
  },
  redirect: {
    id: 'https-redirect',
    title: 'HTTP → HTTPS redirect enabled',
    check: { type: 'redirect', url: 'http://{{host}}/', expect: { status: [301, 308], toScheme: 'https' } },
  },
  headers: {
    id: 'security-headers',
    title: 'Security headers and cookie flags',
    check: {
      type: 'headers',
      url: '{{baseUrl}}/',
      preset: 'security',
      forbid: ['X-Powered-By'],
      cookies: { require: { secure: true, httpOnly: true, sameSite: 'Lax' } },
    },
  },
  compression: {
    id: 'compression',
    title: 'Static assets compressed',
    check: { type: 'compression', url: '{{baseUrl}}/static/app.js', encodings: ['br', 'gzip'] },
  },
  http2: {
    id: 'http2',
    title: 'HTTP/2 enabled',
    severity: 'warning',
    check: { type: 'http2', url: '{{baseUrl}}/' },
  },
  exposed: {
    id: 'no-exposed-files',
    title: 'No source maps or .env served',
    check: { type: 'exposed', baseUrl: '{{baseUrl}}', paths: ['/.env', '/.git/HEAD', '/static/app.js.map'] },
  },
  'rate-limit': {
    id: 'public-rate-limit',
    title: 'Public API limited to 50 req/min',
    check: {
      type: 'rate-limit',
      url: '{{baseUrl}}/api/public/ping',
      limit: 50,
      window: '1m',
      headers: { 'X-API-Key': secret('TEST_CLIENT_KEY') },
    },
  },
  ports: {
    id: 'firewall',
    title: 'Firewall: 22, 80, 443 only',
    check: { type: 'ports', host: '{{host}}', allowed: [22, 80, 443] },
  },
  env: {
    id: 'jwt-secret',
    title: 'JWT_SECRET set (min 32 characters), auth bypass off',
    check: {
      type: 'env',
      source: { dotenv: './deploy.env' },
      rules: { JWT_SECRET: { minLength: 32 }, SKIP_AUTH: { equals: 'false' }, DEBUG: 'forbidden' },
    },
  },
  mongodb: {
    id: 'mongodb',
    title: 'MongoDB auth on, indexes present',
    check: {
      type: 'mongodb',
      uri: secret('MONGODB_URI'),
      minVersion: '6.0',
      requireAuth: true,
      indexes: { users: [{ key: { companyId: 1, email: 1 }, unique: true }] },
    },
  },
  redis: {
    id: 'redis',
    title: 'Redis auth on, no eviction, tenant-scoped cache keys',
    check: {
      type: 'redis',
      url: secret('REDIS_URL'),
      requireAuth: true,
      maxmemoryPolicy: 'noeviction',
      keyPattern: { match: 'cache:*', mustMatch: '^cache:[a-z0-9]+:' },
    },
  },
  prometheus: {
    id: 'error-rate',
    title: 'Error rate under 1%',
    check: {
      type: 'prometheus',
      url: '{{prometheusUrl}}',
      query: 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
      threshold: { lt: 0.01 },
    },
  },
};

/** Variables the examples use, declared so that they validate exactly as a checklist file would. */
const EXAMPLE_VARS = {
  baseUrl: 'https://staging.example.com',
  host: 'staging.example.com',
  prometheusUrl: 'https://prometheus.example.com',
};

/** Returns `shown` once `doc` (a whole checklist, or `shown` placed in one) loads as a checklist file. */
function validated<T>(label: string, doc: Record<string, unknown>, shown: T): T {
  const whole = {
    name: 'docs-example',
    service: 'docs-example',
    vars: EXAMPLE_VARS,
    ...doc,
  };
  try {
    parseChecklist(toYaml(whole), { file: `docs example (${label})` });
  } catch (err) {
    throw new Error(`the ${label} example in ${SELF} does not validate:\n${(err as Error).message}`);
  }
  return shown;
}

const inPhase = (items: unknown[]) => ({ phases: [{ id: 'examples', title: 'Examples', items }] });

function example(type: string): string {
  const item = PROBE_EXAMPLES[type];
  if (!item) throw new Error(`no example for probe type "${type}": add one to PROBE_EXAMPLES in ${SELF}`);
  if ((item.check as { type?: string } | undefined)?.type !== type)
    throw new Error(`the example for "${type}" in ${SELF} is not a ${type} probe`);
  validated(`${type} probe`, inPhase([item]), item);
  return yamlBlock([item]);
}

/**
 * What a field means, for fields whose schema carries no description yet (by section, then path).
 * Each note must name a field that exists and has no description of its own: when the schema gains
 * one, or the field goes, rendering fails until the note is removed — so notes cannot go stale.
 */
const NOTES: Record<string, Record<string, string>> = {
  checklist: {
    version: 'Format version of the checklist file; only 1 exists.',
    title: 'Title shown in the Slack thread and in reports (default: `name`).',
    channel: 'The Slack channel this checklist is run from (written by `deploy-check init --channel`).',
    vars: 'Variables for `{{name}}` placeholders: a default value, or `{ default, description }`. Values given at run time override defaults; a variable without a default must be given then.',
    'vars.<name>.default': 'Value used when none is given at run time.',
    'vars.<name>.description': 'What the variable is for.',
    secrets: `Where \`${secret('NAME')}\` values come from.`,
    'secrets.dir':
      'With `source: file`: directory holding one file per secret, named `NAME` (default `secrets`, relative to the checklist file).',
    'secrets.prefix':
      'With `source: env`: prefix of the environment variable looked up for `NAME` (e.g. `APP_` reads `APP_NAME`).',
    network: 'How probes reach their targets.',
    'network.insecureTls':
      'Accept certificates that do not verify (self-signed, unknown CA) in every probe. Prefer `caFile`.',
    defaults: 'Defaults for every item: `severity` and the measurement fields of [Items](#items).',
    concurrency: 'Items of one phase measured at once.',
    stopOnCriticalFailure:
      'Stop after a phase in which a critical item failed (a phase can opt out with `continueOnFailure`).',
    roles:
      'Named roles for owners and approvers (`@name` or `role:name`), each a set of Slack users and user groups.',
    'roles.<name>.users': 'Slack user ids (U…) holding the role.',
    'roles.<name>.groups': 'Slack user-group ids (S…) whose members hold the role.',
    'roles.<name>.description': 'What the role is for.',
    run: 'Who may start this checklist with `/deploy-check run` and re-run its phases. Without it, anyone who can use the command in the channel may; the people it leaves out are refused in the answer, naming who may.',
    'run.allowed': 'Users, user groups or roles (`@name`) allowed to start a run.',
    phases: 'The phases, run in order. See [Phases](#phases).',
    approvals: 'Sign-off gates. See [Approvals](#approvals).',
    monitors: 'Post-deploy checks. See [Monitors](#monitors).',
    rollback: 'The rollback playbook. See [Rollback](#rollback).',
  },
  phase: {
    'phases[].id': 'Stable id, unique in the checklist (used by `--phase` and the re-run button).',
    'phases[].title': 'Heading of the phase in the thread and in reports.',
    'phases[].items': 'The items of the phase. See [Items](#items).',
  },
  item: {
    'phases[].items[].title': 'What is checked, as people read it.',
  },
  'probe:redirect': { expect: 'What the chain must look like (default: 301/302/307/308 to https).' },
  'probe:headers': {
    'forbid[].name': 'Header name.',
    'cookies.require': 'Attributes every judged cookie must carry.',
  },
  'probe:rate-limit': { expect: 'What a limited answer looks like.' },
  'probe:env': {
    'source.json': 'A JSON endpoint answering with the variables.',
    'source.render': "Render's environment-variables API for one service.",
  },
  'probe:prometheus': {
    'threshold.lt': 'Each value must be less than this.',
    'threshold.lte': 'Each value must be at most this.',
    'threshold.gt': 'Each value must be greater than this.',
    'threshold.gte': 'Each value must be at least this.',
    'threshold.eq': 'Each value must equal this.',
  },
  approvals: {
    'approvals.id': 'Gate id, unique among the gates.',
    'approvals.title': 'Shown on the approval request.',
    'approvals.required': 'Approvals needed; each person counts once.',
    'approvals.allowSelfApproval': 'Whether the person who started the run may approve it.',
    'approvals.expiresIn': 'How long the approval request stays open; after that the run is expired.',
  },
  monitors: {
    'monitors.at': 'When to re-check, as offsets from the deploy.',
    'monitors.checks': 'What to re-check at each offset.',
    'monitors.checks[].id': 'Stable id, unique among the monitor checks.',
    'monitors.checks[].check': 'A probe of its own, instead of `item`.',
    'monitors.checks[].criteria': 'A metric of the result compared with limits or with the baseline.',
    'monitors.checks[].criteria.metric': 'Name of a numeric measurement the probe reports.',
    'monitors.checks[].criteria.max': 'Highest acceptable value.',
    'monitors.checks[].criteria.min': 'Lowest acceptable value.',
    'monitors.checks[].criteria.maxDecrease':
      'Relative to the baseline captured before the deploy: 0.1 = −10%.',
  },
  rollback: { 'rollback.steps': 'The steps, run in order. See the step types below.' },
  step: {
    'rollback.steps[].id': 'Stable id, unique among the steps.',
    'rollback.steps[].title': 'Shown in the rollback thread.',
    'rollback.steps[].timeout': 'Time allowed for the step.',
  },
  'step:webhook': {
    'rollback.steps[].url': 'URL to call, e.g. a CI workflow dispatch or a platform deploy hook.',
    'rollback.steps[].method': 'HTTP method.',
    'rollback.steps[].headers': `Request headers (use \`${secret('NAME')}\` for tokens).`,
    'rollback.steps[].body': 'Request body: a string is sent as is, anything else as JSON.',
    'rollback.steps[].expectStatus': 'Statuses that count as success.',
  },
  'step:wait-for': {
    'rollback.steps[].item': 'An item of the checklist (`"phase/item"`) to re-run until it passes.',
    'rollback.steps[].check': 'A probe to re-run until it passes, instead of `item`.',
    'rollback.steps[].every': 'Pause between attempts.',
  },
  'step:redis-delete': {
    'rollback.steps[].url': `Redis URL, usually \`${secret('REDIS_URL')}\`.`,
    'rollback.steps[].pattern': 'SCAN MATCH glob of the keys to delete, e.g. `cache:*`.',
    'rollback.steps[].batch': 'Keys deleted per round trip.',
  },
  'step:slack-notify': {
    'rollback.steps[].channel': 'Channel to post in, e.g. `#incidents`.',
    'rollback.steps[].text': 'Message text.',
  },
  'step:statuspage': {
    'rollback.steps[].url': 'Status page API URL of the component or incident to update.',
    'rollback.steps[].method': 'HTTP method.',
    'rollback.steps[].headers': `Request headers (use \`${secret('NAME')}\` for tokens).`,
    'rollback.steps[].body': 'Request body: a string is sent as is, anything else as JSON.',
    'rollback.steps[].expectStatus': 'Statuses that count as success.',
  },
  'step:manual': {
    'rollback.steps[].owner': 'Who may tick the step done.',
    'rollback.steps[].instructions': 'What the owner must do.',
  },
  'step:postmortem': {
    'rollback.steps[].channel': "Where to post the post-mortem stub (default: the rollback's thread).",
  },
};

const usedNotes = new Set<string>();

/** Fills in descriptions from NOTES, refusing notes that name no field or that the schema overtook. */
function annotated(section: string, list: Row[], extraSections: string[] = []): Row[] {
  return list.map((row) => {
    for (const key of [section, ...extraSections]) {
      const note = NOTES[key]?.[row.path];
      if (note === undefined) continue;
      if (row.description)
        throw new Error(
          `${key} ${row.path} now has a description in its schema: remove its note from ${SELF}`,
        );
      usedNotes.add(`${key}\u0000${row.path}`);
      return { ...row, description: note };
    }
    return row;
  });
}

function checkNotesUsed(): void {
  for (const [section, notes] of Object.entries(NOTES))
    for (const p of Object.keys(notes))
      if (!usedNotes.has(`${section}\u0000${p}`))
        throw new Error(`the note for ${section} ${p} in ${SELF} matches no field: remove or rename it`);
}

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

const anchor = (type: string) => `#${type.replace(/[^a-z0-9-]/g, '')}`;

const MINIMAL_CHECKLIST = {
  name: 'my-service',
  service: 'my-service-api',
  vars: { baseUrl: 'https://staging.example.com' },
  phases: [
    {
      id: 'smoke',
      title: 'Smoke tests',
      items: [
        {
          id: 'health',
          title: 'Health endpoint answers',
          check: { type: 'http', url: '{{baseUrl}}/health' },
        },
      ],
    },
  ],
};

const MANUAL_ITEM = {
  id: 'auth-bypass-removed',
  title: 'Auth bypass code removed',
  manual: { owner: '@security', instructions: 'Search the release diff for SKIP_AUTH and test-only routes.' },
};

const APPROVALS = {
  roles: {
    security: { groups: ['S0123SECUR'] },
    'deployment-approver': { users: ['U0123ABCD'], groups: ['S0456EFGH'] },
    'technical-lead': { users: ['U0789IJKL'] },
  },
  approvals: { required: 2, roles: ['deployment-approver', 'technical-lead'], expiresIn: '4h' },
};

function part(n: Node | undefined, where: string): Node {
  if (!n) throw new Error(`the checklist schema has no ${where} object any more: update ${SELF}`);
  return n;
}

const field = (n: Node, name: string) => part(n.properties?.[name], name);

const STEP_COMMON = ['id', 'title', 'timeout'].map((f) => `rollback.steps[].${f}`);

export function renderChecklistDocs(): string {
  usedNotes.clear();
  const spec = jsonSchema(checklistSpec);
  const phase = part(field(spec, 'phases').items, 'phases[]');
  const item = part(field(phase, 'items').items, 'phases[].items[]');
  const gate = part(objectWithFields(field(spec, 'approvals')), 'approvals');
  const monitors = part(objectWithFields(field(spec, 'monitors')), 'monitors');
  const rollback = part(objectWithFields(field(spec, 'rollback')), 'rollback');
  const steps = part(field(rollback, 'steps').items, 'rollback.steps[]').oneOf ?? [];

  const out: string[] = [];
  const add = (...parts: string[]) => out.push(...parts.flatMap((p) => [p, '']));

  add(
    `<!-- GENERATED by ${SELF} from the zod schemas. Do not edit: run \`${REGENERATE}\`. -->`,
    '# Checklist reference',
    'A checklist is one YAML file: phases of items, each item either an automated **probe** or a **manual** item that an owner ticks, plus optional approvals, post-deploy monitors and a rollback playbook. `deploy-check validate <file>` checks a file against this reference and names `file:line:col` for every error; `deploy-check schema` prints the same rules as a JSON Schema for editors (for example for the YAML language server: `# yaml-language-server: $schema=./checklist.schema.json`).',
    'Every table below is generated from the schemas the loader validates with, so it lists exactly what is accepted. Unknown fields are errors. Every example on this page is validated by the generator.',
  );

  add(
    '## Contents',
    [
      '- [Conventions](#conventions)',
      '- [Top-level fields](#top-level-fields)',
      '- [Phases](#phases)',
      '- [Items](#items)',
      `- [Probe types](#probe-types): ${checkDefinitions.map((d) => `[\`${d.type}\`](${anchor(d.type)})`).join(', ')}`,
      '- [Approvals](#approvals)',
      '- [Monitors](#monitors)',
      '- [Rollback](#rollback)',
    ].join('\n'),
  );

  add(
    '## Conventions',
    [
      '- **Variables**: `{{name}}` anywhere in a string is replaced by the variable `name` from `vars`, overridden at run time with `--var name=value` (CLI) or `name=value` (Slack). An unknown variable is an error.',
      `- **Secrets**: \`${secret('NAME')}\` is replaced at run time by a secret from the environment (\`secrets.source: env\`; the Slack worker passes on only the variables named \`DC_SECRET_NAME\`) or from the file \`NAME\` in \`secrets.dir\` (\`source: file\`). Secret values are redacted in every output: terminal, reports, Slack, logs.`,
      `- **duration**: ${NAMED.find((n) => n.name === 'duration')?.description}`,
      `- **principal**: ${NAMED.find((n) => n.name === 'principal')?.description} Roles are defined under \`roles\`. In the object form, give exactly one of \`user\`, \`group\` or \`role\`.`,
      "- **severity**: `critical` items block the run when they fail; `warning` items are reported but do not block. An item without one takes its phase's, then `defaults.severity`.",
      '- **Paths** in the tables: `a.b` is field `b` of object `a`; `a[].b` is field `b` of each element of list `a`; `a.<name>.b` is field `b` of each entry of map `a`.',
    ].join('\n'),
  );

  add(
    '## Top-level fields',
    table(
      annotated('checklist', rows(spec, { stop: new Set(['phases', 'approvals', 'monitors', 'rollback']) })),
    ),
    'A minimal checklist:',
    yamlBlock(validated('minimal checklist', MINIMAL_CHECKLIST, MINIMAL_CHECKLIST)),
  );

  add(
    '## Phases',
    'Phases run in order; the items of a phase run concurrently (at most `concurrency` at once). When a critical item of a phase fails, later phases do not run unless the phase sets `continueOnFailure` or the checklist sets `stopOnCriticalFailure: false`.',
    table(annotated('phase', rows(phase, { prefix: 'phases[].', stop: new Set(['phases[].items']) }))),
  );

  add(
    '## Items',
    "Each item has exactly one of `check` (a probe) or `manual` (a person ticks it). The measurement fields follow Argo Rollouts' analysis runs: `count` measurements `interval` apart, each retried `retries` times on an error; the item fails after more than `failureLimit` failed measurements and is inconclusive after more than `inconclusiveLimit` errored ones.",
    table(
      annotated(
        'item',
        rows(item, { prefix: 'phases[].items[].', stop: new Set(['phases[].items[].check']) }),
      ),
    ),
    'A manual item (the role `security` is defined under `roles`):',
    yamlBlock(validated('manual item', { roles: APPROVALS.roles, ...inPhase([MANUAL_ITEM]) }, [MANUAL_ITEM])),
  );

  add(
    '## Probe types',
    "A probe is the `check` of an item: `type` picks one of the types below, and the other fields are that type's parameters. Every probe runs with a timeout (the item's `timeout`, else the type's default) and reports `pass`, `warn`, `fail`, `error` (could not measure) or `skipped`, with what it observed and what was expected. Probes refuse link-local and cloud-metadata addresses unless `network.allowLinkLocal` is set.",
  );
  for (const def of checkDefinitions) {
    add(
      `### \`${def.type}\``,
      `${def.summary} Default timeout: ${formatDuration(def.defaultTimeoutMs)}.`,
      table(annotated(`probe:${def.type}`, rows(jsonSchema(def.params)))),
      example(def.type),
    );
  }

  add(
    '## Approvals',
    '`approvals` is one gate or a list of gates. When every blocking item has passed, the run asks for approval in its thread; a gate is satisfied when `required` people approved and every role in `roles` is represented. Each person counts once; an approval records who, when and a hash of the evidence it approved, and a re-run that changes results voids earlier approvals. One rejection (with a reason) closes the run.',
    table(annotated('approvals', rows(gate, { prefix: 'approvals.' }))),
    'Two approvals, one from each role:',
    yamlBlock(validated('approvals', { ...MINIMAL_CHECKLIST, ...APPROVALS }, APPROVALS)),
  );

  add(
    '## Monitors',
    'After the deploy, monitors re-run chosen checks at each offset in `at` and post the outcome to the run\'s thread. A monitor check names an existing item (`"phase/item"`) or brings its own probe, and may compare a metric with the baseline captured before the deploy.',
    table(
      annotated(
        'monitors',
        rows(monitors, { prefix: 'monitors.', stop: new Set(['monitors.checks[].check']) }),
      ),
    ),
  );

  add(
    '## Rollback',
    'The rollback playbook runs step by step on `/deploy-check rollback <service>`, after confirmation, and only for the people in `allowed`. Every step has an `id`, an optional `title` and an optional `timeout`, plus the fields of its `type`:',
    table(
      annotated(
        'rollback',
        rows(rollback, { prefix: 'rollback.', stop: new Set(['rollback.steps']) }),
      ).concat(
        annotated(
          'step',
          rows(steps[0] as Node, { prefix: 'rollback.steps[].' }).filter((r) => STEP_COMMON.includes(r.path)),
        ),
      ),
    ),
  );
  for (const step of steps) {
    const type = String(step.properties?.type?.const);
    const specific = rows(step, {
      prefix: 'rollback.steps[].',
      skip: new Set(['rollback.steps[].type', ...STEP_COMMON]),
      stop: new Set(['rollback.steps[].check']),
    });
    add(
      `### Step \`${type}\``,
      specific.length ? table(annotated(`step:${type}`, specific)) : 'No other fields.',
    );
  }

  checkNotesUsed();
  return `${out.join('\n').trimEnd()}\n`;
}

function main(argv: string[]): number {
  const rendered = renderChecklistDocs();
  const relative = path.relative(process.cwd(), CHECKLIST_DOCS);
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(CHECKLIST_DOCS, 'utf8');
    } catch {
      // A missing file is stale too.
    }
    if (current === rendered) return 0;
    process.stderr.write(`${relative} is stale: run \`${REGENERATE}\` and commit the result.\n`);
    return 1;
  }
  writeFileSync(CHECKLIST_DOCS, rendered);
  process.stdout.write(`wrote ${relative}\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));

/**
 * Guesses a probe from the text of one task-list box. A guess is only made when the text is
 * explicit about what to measure ("50 req/min", "`JWT_SECRET` … min 32 characters", "HTTP → HTTPS
 * redirect"); vaguer boxes stay manual. Targets are placeholders (`{{baseUrl}}`, `{{host}}`,
 * `${secret:REDIS_URL}`) the importer declares, so nothing here knows the real service.
 */

/** What the guesser sees of a box. */
export interface BoxText {
  /** The box's own text, Markdown included (backticks mark variable names and paths). */
  text: string;
  /** Lines written under the box that are not boxes themselves (bullets, paragraphs, code). */
  details: string[];
  /** Titles of the enclosing boxes and headings, nearest first ("Load Testing", "Phase 6: Testing"). */
  context: string[];
  /** Whether the whole document mentions MongoDB: "indexes verified" then means MongoDB indexes. */
  documentUsesMongo: boolean;
}

export type ProbeGuess = {
  kind: 'probe';
  check: { type: string } & Record<string, unknown>;
  /** Something the user must still decide: shown as a TODO comment and listed as needing attention. */
  todo?: string;
  /** Worth knowing but nothing to do: shown as a comment only. */
  notes?: string[];
};

/** The box names a probe type but not enough to write it; the manual item carries the suggestion. */
export type HintGuess = { kind: 'hint'; todo: string };

export type Guess = ProbeGuess | HintGuess;

type Rule = (box: BoxText, plain: string) => Guess | undefined;

const REDIS_URL = '${secret:REDIS_URL}';
const MONGODB_URI = '${secret:MONGODB_URI}';

/** The box text without Markdown emphasis, code spans or links, for matching words. */
export function plainText(markdown: string): string {
  return markdown
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__|~~)(.+?)\1/g, '$2')
    .replace(/\s+/g, ' ')
    .trim();
}

const probe = (check: ProbeGuess['check'], extra: Omit<ProbeGuess, 'kind' | 'check'> = {}): ProbeGuess => ({
  kind: 'probe',
  check,
  ...extra,
});

// ---------------------------------------------------------------------------------------------
// Environment variables.
// ---------------------------------------------------------------------------------------------

const ENV_NAME = /^(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,}[A-Z0-9]*)$/;

interface EnvMention {
  name: string;
  /** From `NAME=value`. */
  value?: string;
}

function envMentions(text: string): EnvMention[] {
  const quoted = [...text.matchAll(/`([A-Z][A-Z0-9_]*)(?:\s*=\s*([^`\s]*))?`/g)]
    .filter((m) => ENV_NAME.test(m[1]!))
    .map((m) => ({ name: m[1]!, ...(m[2] ? { value: m[2] } : {}) }));
  if (quoted.length > 0) return quoted;
  // Unquoted names only count when they look like variables (NODE_ENV), not acronyms (CSP, HSTS).
  return [...plainText(text).matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?:=(\S+))?/g)].map((m) => ({
    name: m[1]!,
    ...(m[2] ? { value: m[2] } : {}),
  }));
}

/** "min 32 characters", "at least 32 chars", "32+ characters", "256-bit" (as characters: bits / 8). */
function minimumLength(plain: string): number | undefined {
  const chars =
    /\b(?:min(?:imum)?\.?|at least)\s*(\d+)\s*(?:char(?:acter)?s?|bytes?)\b/i.exec(plain) ??
    /\b(\d+)\+?\s*(?:char(?:acter)?s?|bytes?)\s*(?:min(?:imum)?|or (?:more|longer)|long)\b/i.exec(plain);
  if (chars) return Number(chars[1]);
  const bits = /\b(\d+)[- ]?bits?\b/i.exec(plain);
  return bits ? Math.ceil(Number(bits[1]) / 8) : undefined;
}

/** "set to `false`", "to 'production'", "to true": quoted values, or literals that cannot be prose. */
function expectedValue(plain: string, markdown: string): string | undefined {
  const quoted = /\bto\s+(?:`([^`]+)`|'([^']+)'|"([^"]+)")/i.exec(markdown);
  if (quoted) return quoted[1] ?? quoted[2] ?? quoted[3];
  const literal = /\bto\s+(true|false|on|off|yes|no|\d+|production|staging)\b/i.exec(plain);
  return literal?.[1];
}

const ENV_VERB = /\b(set|configured|defined|present|provided|required|exported|generated)\b|=/i;
const ENV_FORBIDDEN = /\b(not set|unset|removed|absent|must not be set)\b/i;

const envSourceNote =
  "source: { process: true } reads the runner's own environment; point it at the deployment instead: { dotenv: path }, { json: { url } } or { render: { serviceId, apiKey } }";

function envRule(mention: EnvMention, plain: string, markdown: string, single: boolean): unknown {
  if (ENV_FORBIDDEN.test(plain)) return 'forbidden';
  const equals = mention.value ?? (single ? expectedValue(plain, markdown) : undefined);
  const minLength = minimumLength(plain);
  if (equals === undefined && minLength === undefined) return 'required';
  return { ...(equals !== undefined ? { equals } : {}), ...(minLength !== undefined ? { minLength } : {}) };
}

const guessEnvVariables: Rule = (box, plain) => {
  const mentions = envMentions(box.text);
  if (mentions.length === 0 || !ENV_VERB.test(plain)) return undefined;
  const alternatives = /`\s+or\s+`/.test(box.text) || /\b[A-Z0-9_]+ or [A-Z0-9_]+\b/.test(plain);
  const used = alternatives ? mentions.slice(0, 1) : mentions;
  const rules = Object.fromEntries(used.map((m) => [m.name, envRule(m, plain, box.text, used.length === 1)]));
  return probe(
    { type: 'env', source: { process: true }, rules },
    {
      ...(alternatives
        ? { todo: `either ${mentions.map((m) => m.name).join(' or ')}: keep the one the service reads` }
        : {}),
      notes: [envSourceNote],
    },
  );
};

const SECRET_QUALIFIER_STOPWORDS = new Set([
  'strong',
  'unique',
  'random',
  'new',
  'secure',
  'the',
  'a',
  'an',
  'your',
  'long',
  'all',
  'and',
]);

/** "Generate strong JWT secret (256-bit minimum)" → JWT_SECRET, its name guessed from the words. */
const guessSecretFromProse: Rule = (_box, plain) => {
  const m =
    /\b(?:generate|configure|set(?:\s+up)?|rotate|create|add)\b.*?\b([A-Za-z][A-Za-z0-9]*)\s+(secret|api[ -]?key|password|token)\b/i.exec(
      plain,
    );
  if (!m || SECRET_QUALIFIER_STOPWORDS.has(m[1]!.toLowerCase())) return undefined;
  const name = `${m[1]!.toUpperCase()}_${m[2]!.toUpperCase().replace(/[ -]/g, '_')}`;
  const minLength = minimumLength(plain);
  return probe(
    { type: 'env', source: { process: true }, rules: { [name]: minLength ? { minLength } : 'required' } },
    {
      todo: `variable name ${name} guessed from the text: use the name the service reads`,
      notes: [envSourceNote],
    },
  );
};

// ---------------------------------------------------------------------------------------------
// HTTP, TLS and network.
// ---------------------------------------------------------------------------------------------

const guessRedirect: Rule = (_box, plain) =>
  /\bredirect/i.test(plain) && /\bhttps?\b/i.test(plain)
    ? probe({ type: 'redirect', url: 'http://{{host}}/' })
    : undefined;

const guessPorts: Rule = (_box, plain) => {
  if (!/\b(firewall|ports?|security groups?)\b/i.test(plain)) return undefined;
  if (!/\b(only|allow(ed)?|open|firewall)\b/i.test(plain)) return undefined;
  const ports = [...plain.matchAll(/\b(\d{2,5})\b/g)]
    .map((m) => Number(m[1]))
    .filter((p) => p >= 1 && p <= 65535);
  if (ports.length === 0) return undefined;
  return probe({ type: 'ports', host: '{{host}}', allowed: [...new Set(ports)] });
};

const WINDOW_UNITS: Record<string, string> = {
  ms: 'ms',
  s: 's',
  sec: 's',
  second: 's',
  m: 'm',
  min: 'm',
  minute: 'm',
  h: 'h',
  hr: 'h',
  hour: 'h',
};

interface RateLimit {
  limit: number;
  window: string;
  label: string;
  text: string;
}

function rateLimitsIn(line: string): RateLimit[] {
  const pattern =
    /(\d[\d,]*)\s*(?:req(?:uest)?s?|calls?)\s*(?:\/|per\s+)\s*(\d+)?\s*(ms|sec(?:ond)?s?|s|min(?:ute)?s?|m|hours?|hr|h)\b/gi;
  const label = /^\s*([^:]{1,40}):/.exec(plainText(line))?.[1]?.trim() ?? '';
  return [...line.matchAll(pattern)].map((m) => {
    const word = m[3]!.toLowerCase();
    const unit = WINDOW_UNITS[word] ?? WINDOW_UNITS[word.replace(/s$/, '')] ?? 'm';
    return { limit: Number(m[1]!.replace(/,/g, '')), window: `${m[2] ?? 1}${unit}`, label, text: m[0] };
  });
}

const MAX_RATE_LIMIT_BURST = 2000;

const guessRateLimit: Rule = (box, plain) => {
  if (!/\brate[- ]?limit/i.test(plain)) return undefined;
  const limits = [box.text, ...box.details].flatMap(rateLimitsIn);
  const first = limits[0];
  if (!first || first.limit > MAX_RATE_LIMIT_BURST) {
    return {
      kind: 'hint',
      todo: first
        ? `a limit of ${first.limit} is too many requests to probe; test a lower tier with check: { type: rate-limit, url: "{{baseUrl}}/…", limit: N, window: 1m }`
        : 'no limit given: write check: { type: rate-limit, url: "{{baseUrl}}/…", limit: N, window: 1m }',
    };
  }
  const others = limits.slice(1).map((l) => `${l.text}${l.label ? ` (${l.label})` : ''}`);
  return probe(
    { type: 'rate-limit', url: '{{baseUrl}}/', limit: first.limit, window: first.window },
    {
      todo: `url: point at the rate-limited endpoint${first.label ? ` (${first.label})` : ''}`,
      notes: [
        "the probe spends the limiter's budget: use a test client's key (headers:)",
        ...(others.length > 0
          ? [`other limits in the seed, one item each if wanted: ${others.join(', ')}`]
          : []),
      ],
    },
  );
};

const LATENCY_KEYS: Array<[RegExp, string]> = [
  [/\b(p50|median)\b/i, 'p50'],
  [/\bp99\b/i, 'p99'],
  [/\b(average|avg|mean)\b/i, 'avg'],
  [/\b(max(?:imum)?|worst)\b/i, 'max'],
];

const guessLatency: Rule = (_box, plain) => {
  if (!/\b(response|latency|responds?|ttfb)\b/i.test(plain)) return undefined;
  const m =
    /(?:\bunder|\bbelow|<=?|≤|\bless than|\bwithin|\bsub-?)\s*(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?)\b/i.exec(
      plain,
    );
  if (!m) return undefined;
  const duration = `${m[1]}${m[2]!.toLowerCase().startsWith('m') ? 'ms' : 's'}`;
  const key = LATENCY_KEYS.find(([re]) => re.test(plain))?.[1] ?? 'p95';
  const scope = /\bfor\s+(.+?)\s*$/i.exec(plain)?.[1];
  return probe(
    { type: 'latency', url: '{{baseUrl}}/', thresholds: { [key]: duration } },
    scope
      ? { todo: `url: point at an endpoint serving ${scope}` }
      : { notes: ['url: a representative endpoint'] },
  );
};

const guessLoad: Rule = (box, plain) => {
  const connections =
    /(\d[\d,]*)\s+(?:concurrent|simultaneous|parallel)\s+(?:users?|connections?|clients?)/i.exec(plain);
  const perMinute = /(\d[\d,]*)\s*(?:req(?:uest)?s?)\s*(?:\/|per\s+)\s*(?:minute|min)\b/i.exec(plain);
  const perSecond =
    /(\d[\d,]*)\s*(?:req(?:uest)?s?)\s*(?:\/|per\s+)\s*(?:second|sec|s)\b|(\d[\d,]*)\s*rps\b/i.exec(plain);
  const namesLoadTest = /\bload[- ]?test/i.test(plain) || /\bconcurrent[- ]users?\b/i.test(plain);
  const inLoadContext = box.context.some((c) => /\b(load|stress|performance)\b/i.test(c));
  if (!namesLoadTest && !connections && !((perMinute || perSecond) && inLoadContext)) return undefined;
  const number = (s: string | undefined) => (s ? Number(s.replace(/,/g, '')) : undefined);
  const wanted = number(connections?.[1]);
  const check: ProbeGuess['check'] = {
    type: 'load',
    url: '{{baseUrl}}/',
    ...(wanted ? { connections: Math.min(wanted, 1000) } : {}),
    ...(perMinute ? { ratePerMinute: number(perMinute[1]) } : {}),
    ...(perSecond && !perMinute ? { rate: number(perSecond[1] ?? perSecond[2]) } : {}),
  };
  const specific = wanted !== undefined || perMinute || perSecond;
  const todo = !specific
    ? 'no load given: set connections (default 10) and duration (default 10s)'
    : wanted !== undefined && wanted > 1000
      ? `the seed asks for ${wanted} users; one runner opens at most 1000 connections`
      : undefined;
  return probe(
    check,
    todo
      ? { todo, notes: ['url: a representative endpoint'] }
      : { notes: ['url: a representative endpoint'] },
  );
};

/** Dependency health ("MongoDB health check") is the service's business, not an endpoint of its own. */
const DEPENDENCY_HEALTH = /\b(mongo\w*|database|db|redis|dependency)\s+health/i;

const guessHealthEndpoint: Rule = (box, plain) => {
  const ownPath = /`(\/[\w\-./]*)`/.exec(box.text)?.[1];
  const namesHealth = /\bhealth[- ]?(?:checks?|endpoints?|routes?|probes?|z)\b|\bhealthz\b|\/health\b/i.test(
    plain,
  );
  const namesEndpoint =
    ownPath &&
    /\b(endpoints?|accessible|responding|responds|reachable|returns?|200|up|working)\b/i.test(plain);
  if (!(namesHealth && !DEPENDENCY_HEALTH.test(plain)) && !namesEndpoint) return undefined;
  const detailPath = box.details.map((d) => /`(\/[\w\-./]*)`/.exec(d)?.[1]).find((p) => p !== undefined);
  const path = ownPath ?? detailPath ?? '/health';
  return probe({ type: 'http', url: `{{baseUrl}}${path}`, expect: { status: 200 } });
};

const guessExposed: Rule = (_box, plain) => {
  if (/\bsource ?maps?\b/i.test(plain) && /\b(disabled|removed|not|off|never|excluded)\b/i.test(plain)) {
    return probe(
      {
        type: 'exposed',
        baseUrl: '{{baseUrl}}',
        paths: ['/main.js.map', '/static/js/main.js.map', '/assets/index.js.map', '/bundle.js.map'],
      },
      { todo: 'paths: list the .map files your build would emit' },
    );
  }
  const secretFiles = /(^|\s)\.(env|git)\b|\bbackup files?\b|\bdirectory listing\b/i.test(plain);
  const hidden =
    /\b(not (?:exposed|accessible|public(?:ly)?|served|reachable)|blocked|hidden|disabled)\b/i.test(plain);
  return secretFiles && hidden ? probe({ type: 'exposed', baseUrl: '{{baseUrl}}' }) : undefined;
};

const guessTls: Rule = (_box, plain) => {
  if (/\bbackups?\b/i.test(plain)) return undefined;
  const sslWorks =
    /\b(ssl|tls)\b.*\b(cert(?:ificate)?s?|working|valid|configur(?:ed|ation)|installed|enabled)\b/i.test(
      plain,
    );
  const certificate =
    /\bcertificates?\b.*\b(installed|valid|obtained|renew\w*|expir\w*)\b|\bobtain\b.*\bcertificate/i.test(
      plain,
    );
  if (!sslWorks && !certificate) return undefined;
  const grade = /\bssl ?labs\b|\bA\+/i.test(plain);
  return probe(
    { type: 'tls', host: '{{host}}' },
    grade
      ? { notes: ['tls checks the certificate, its expiry and the protocol versions, not an SSL Labs grade'] }
      : {},
  );
};

/** Named security headers: only these are required, since the preset would also demand the others. */
const SECURITY_HEADERS: Array<[RegExp, string, Record<string, string>]> = [
  [/\bhsts\b|strict-transport-security/i, 'strict-transport-security', { contains: 'max-age' }],
  [/\bcsp\b|content-security-policy/i, 'content-security-policy', { matches: '\\S' }],
  [/x-frame-options/i, 'x-frame-options', { matches: '\\S' }],
  [/x-content-type-options|nosniff/i, 'x-content-type-options', { contains: 'nosniff' }],
  [/referrer-policy/i, 'referrer-policy', { matches: '\\S' }],
];

const guessSecurityHeaders: Rule = (_box, plain) => {
  if (/\bsecurity headers?\b/i.test(plain)) return probe({ type: 'headers', url: '{{baseUrl}}/' });
  const named = SECURITY_HEADERS.filter(([re]) => re.test(plain));
  if (named.length === 0) return undefined;
  const require = Object.fromEntries(named.map(([, name, matcher]) => [name, matcher]));
  return probe({ type: 'headers', url: '{{baseUrl}}/', preset: 'none', require });
};

const guessCacheHeaders: Rule = (_box, plain) => {
  if (!/\b(cache|caching)[- ]headers?\b|\bcache-control\b/i.test(plain)) return undefined;
  const forStatic = /\bstatic\b|\bassets?\b/i.test(plain);
  return probe(
    {
      type: 'headers',
      url: '{{baseUrl}}/',
      preset: 'none',
      require: { 'cache-control': { contains: 'max-age' } },
    },
    {
      todo: forStatic
        ? 'url: point at a static asset (e.g. {{baseUrl}}/static/app.js)'
        : 'url: point at a cacheable resource',
    },
  );
};

const guessCompression: Rule = (_box, plain) => {
  if (
    !/\b(gzip|brotli|compression|compressed|deflate)\b/i.test(plain) ||
    /\b(images?|backups?|logs?)\b/i.test(plain)
  ) {
    return undefined;
  }
  const gzip = /\bgzip\b/i.test(plain);
  const brotli = /\b(brotli|br)\b/i.test(plain);
  const encodings = gzip && !brotli ? ['gzip'] : brotli && !gzip ? ['br'] : undefined;
  return probe(
    { type: 'compression', url: '{{baseUrl}}/', ...(encodings ? { encodings } : {}) },
    { notes: ['url: a compressible resource of at least 1 KiB (HTML, JS, CSS, JSON)'] },
  );
};

const guessHttp2: Rule = (_box, plain) =>
  /\bhttp\/?2\b|\bh2\b/i.test(plain) ? probe({ type: 'http2', host: '{{host}}' }) : undefined;

// ---------------------------------------------------------------------------------------------
// Data stores and metrics.
// ---------------------------------------------------------------------------------------------

const guessRedisAuth: Rule = (_box, plain) =>
  /\bredis\b.*\b(password|auth\w*|requirepass)\b|\b(password|auth\w*)\b.*\bredis\b/i.test(plain)
    ? probe({ type: 'redis', url: REDIS_URL, requireAuth: true })
    : undefined;

const guessRedis: Rule = (_box, plain) => {
  if (!/\bredis\b/i.test(plain)) return undefined;
  if (
    !/\b(connections?|connect(?:ed|s)?|ping|reachable|tested|working|running|installed|up|health)\b/i.test(
      plain,
    )
  ) {
    return undefined;
  }
  // Key layout, store wiring and performance are not what a connection check can see.
  if (/\b(keys?|invalidation|performance|memorystore|session)\b/i.test(plain)) return undefined;
  const version = /\bredis\s*v?(\d+(?:\.\d+){0,2})\+/i.exec(plain)?.[1];
  return probe({ type: 'redis', url: REDIS_URL, ...(version ? { minVersion: version } : {}) });
};

const indexTodo =
  'indexes: list them per collection, e.g. indexes: { companies: [{ key: { companyId: 1 } }] }';

const guessMongo: Rule = (box, plain) => {
  const mentionsMongo = /\bmongo(?:db)?\b/i.test(plain);
  const mentionsDatabase = mentionsMongo || /\b(database|db)\b/i.test(plain);
  if (/\bindex(?:es)?\b/i.test(plain) && /\b(verified|created|exist|in place|built|present)\b/i.test(plain)) {
    if (!mentionsMongo && !box.documentUsesMongo) return undefined;
    return probe({ type: 'mongodb', uri: MONGODB_URI }, { todo: indexTodo });
  }
  const version = /\bmongo(?:db)?\s*v?(\d+(?:\.\d+){0,2})\+/i.exec(plain)?.[1];
  if (version)
    return probe({
      type: 'mongodb',
      uri: MONGODB_URI,
      minVersion: /\./.test(version) ? version : `${version}.0`,
    });
  if (
    mentionsDatabase &&
    /\bauth(?:entication)?\b.*\b(enabled|enforced|required|on)\b|\bset up\b.*\bauth/i.test(plain)
  ) {
    if (!mentionsMongo && !box.documentUsesMongo) return undefined;
    return probe({ type: 'mongodb', uri: MONGODB_URI, requireAuth: true });
  }
  if (mentionsDatabase && /\bconnections?\b.*\b(stable|tested|verified|working|ok)\b/i.test(plain)) {
    if (!mentionsMongo && !box.documentUsesMongo) return undefined;
    if (/\bpool/i.test(plain)) return undefined;
    return probe({ type: 'mongodb', uri: MONGODB_URI });
  }
  return undefined;
};

const KNOWN_RATE_QUERIES: Array<[RegExp, string]> = [
  [/\berror\b/i, 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'],
  [
    /\bhit\b/i,
    'sum(rate(cache_hits_total[5m])) / (sum(rate(cache_hits_total[5m])) + sum(rate(cache_misses_total[5m])))',
  ],
];

const guessMetricThreshold: Rule = (_box, plain) => {
  const m =
    /\b([a-z][a-z -]*?)\s+(?:rate|ratio)\s*(<=?|≤|>=?|≥|below|under|above|over|less than|more than)\s*(\d+(?:\.\d+)?)\s*%/i.exec(
      plain,
    );
  if (!m) return undefined;
  const below = /^(<|≤|below|under|less)/i.test(m[2]!);
  const inclusive = /[=≤≥]/.test(m[2]!);
  const bound = Number((Number(m[3]) / 100).toPrecision(12));
  const op = below ? (inclusive ? 'lte' : 'lt') : inclusive ? 'gte' : 'gt';
  const metric = m[1]!.trim().toLowerCase();
  const query =
    KNOWN_RATE_QUERIES.find(([re]) => re.test(metric))?.[1] ??
    `deploy_check_todo_${metric.replace(/[^a-z0-9]+/g, '_')}_ratio`;
  return probe(
    { type: 'prometheus', url: '{{prometheusUrl}}', query, threshold: { [op]: bound } },
    { todo: `query: adapt to your metrics (the ${metric} rate as a 0..1 ratio)` },
  );
};

/** In order: the first rule that recognises the box wins, so the more specific rules come first. */
const RULES: readonly Rule[] = [
  guessEnvVariables,
  guessRedisAuth,
  guessSecretFromProse,
  guessRedirect,
  guessPorts,
  guessRateLimit,
  guessLoad,
  guessLatency,
  guessHealthEndpoint,
  guessExposed,
  guessTls,
  guessSecurityHeaders,
  guessCacheHeaders,
  guessCompression,
  guessHttp2,
  guessMetricThreshold,
  guessRedis,
  guessMongo,
];

export function guessProbe(box: BoxText): Guess | undefined {
  const plain = plainText(box.text);
  for (const rule of RULES) {
    const guess = rule(box, plain);
    if (guess) return guess;
  }
  return undefined;
}

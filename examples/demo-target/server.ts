// Demo target for deploy-check: a tiny stand-in for the ClientsVia platform whose two profiles make
// every probe in the ClientsVia production checklist either pass (`healthy`) or fail (`misconfigured`).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Server as HttpServer, IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import { createSecureServer } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { generate } from 'selfsigned';

export type DemoProfile = 'healthy' | 'misconfigured';

export interface DemoTargetOptions {
  profile: DemoProfile;
  host?: string;
  httpPort?: number;
  httpsPort?: number;
}

export interface DemoTarget {
  httpUrl: string;
  httpsUrl: string;
  profile: DemoProfile;
  certPem: string;
  resetRateLimits(): void;
  close(): Promise<void>;
}

export const DEMO_VERSION = '1.4.2';
export const DEMO_CONFIG_TOKEN = 'demo-config-token';
export const PUBLIC_RATE_LIMIT = 50;
export const PUBLIC_RATE_WINDOW_MS = 60_000;

const COMPRESSION_THRESHOLD_BYTES = 1024;
const UNCACHED_QUERY_DELAY_MS = 40;
const HUGE_CHUNK = Buffer.alloc(64 * 1024, 'x');

// The handlers serve HTTP/1.1 and the HTTP/2 compatibility API alike, so they are typed against the
// members both request/response flavours share rather than against either concrete class.
interface AppRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly socket: { readonly remoteAddress?: string | undefined };
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
}

interface AppResponse {
  statusCode: number;
  readonly headersSent: boolean;
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  write(chunk: string | Uint8Array): boolean;
  end(chunk?: string | Uint8Array): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

interface RateWindow {
  startedAt: number;
  count: number;
}

interface TargetState {
  readonly profile: DemoProfile;
  readonly startedAt: number;
  readonly env: Readonly<Record<string, string>>;
  readonly rateWindows: Map<string, RateWindow>;
  requestCount: number;
}

interface RequestContext {
  readonly state: TargetState;
  readonly req: AppRequest;
  readonly res: AppResponse;
  readonly url: URL;
}

type Handler = (ctx: RequestContext) => void | Promise<void>;

type Headers = Record<string, string | number | readonly string[]>;

// Values the fake Prometheus serves, chosen so healthy sits inside typical checklist thresholds
// (error rate < 1 %, cache hit ratio > 80 %, memory < 85 %) and misconfigured sits outside them.
const PROM_SERIES: ReadonlyArray<{
  match: string;
  metric: string;
  help: string;
  values: Record<DemoProfile, string>;
}> = [
  {
    match: 'error',
    metric: 'http_request_error_ratio',
    help: 'Share of requests answered with a 5xx over the last 5 minutes.',
    values: { healthy: '0.0004', misconfigured: '0.012' },
  },
  {
    match: 'cache_hit',
    metric: 'cache_hit_ratio',
    help: 'Share of cached-query lookups served from Redis.',
    values: { healthy: '0.91', misconfigured: '0.55' },
  },
  {
    match: 'memory',
    metric: 'process_memory_utilization_ratio',
    help: 'Resident memory as a share of the container limit.',
    values: { healthy: '0.42', misconfigured: '0.93' },
  },
];

const SOURCE_MAP = JSON.stringify({
  version: 3,
  file: 'app.js',
  sources: ['../src/app.ts'],
  sourcesContent: ["const TWILIO_AUTH_TOKEN = 'leaked-in-source-map';\nexport function boot() {}\n"],
  names: [],
  mappings: 'AAAA',
});

export async function startDemoTarget(opts: DemoTargetOptions): Promise<DemoTarget> {
  const host = opts.host ?? '127.0.0.1';
  const { cert, key } = await generateCertificate();
  const state = createState(opts.profile);
  const sockets = new Set<Socket>();

  const appHandler = (req: AppRequest, res: AppResponse): void => {
    handleApp(state, req, res);
  };
  const httpsServer = createTlsServer(opts.profile, key, cert, appHandler);
  trackSockets(httpsServer, sockets);
  const httpsPort = await listen(httpsServer, opts.httpsPort ?? 0, host);

  const httpServer = createHttpServer((req, res) => {
    if (opts.profile === 'healthy') redirectToHttps(req, res, host, httpsPort);
    else appHandler(req, res);
  });
  trackSockets(httpServer, sockets);
  let httpPort: number;
  try {
    httpPort = await listen(httpServer, opts.httpPort ?? 0, host);
  } catch (err) {
    await closeServer(httpsServer, sockets);
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    httpUrl: `http://${formatHost(host)}:${httpPort}`,
    httpsUrl: `https://${formatHost(host)}:${httpsPort}`,
    profile: opts.profile,
    certPem: cert,
    resetRateLimits: () => state.rateWindows.clear(),
    close: () => {
      // Idempotent so a test's afterAll can close a target the test body already closed.
      closing ??= Promise.all([closeServer(httpServer, sockets), closeServer(httpsServer, sockets)]).then(
        () => undefined,
      );
      return closing;
    },
  };
}

async function generateCertificate(): Promise<{ cert: string; key: string }> {
  // EC keys keep start-up fast (tens of ms) compared with RSA key generation.
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 90 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function createState(profile: DemoProfile): TargetState {
  return {
    profile,
    startedAt: Date.now(),
    env: buildEnv(profile),
    rateWindows: new Map(),
    requestCount: 0,
  };
}

function buildEnv(profile: DemoProfile): Record<string, string> {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  const common: Record<string, string> = {
    NODE_ENV: 'production',
    // base64url of 36 bytes is exactly 48 characters, comfortably over the checklist's 32-char minimum.
    SESSION_SECRET: randomBytes(36).toString('base64url'),
    MONGODB_URI: 'mongodb://clientsvia:demo-password@127.0.0.1:27017/clientsvia',
    REDIS_URL: 'redis://127.0.0.1:6379',
    TWILIO_ACCOUNT_SID: `AC${hex(16)}`,
    TWILIO_AUTH_TOKEN: hex(16),
    ELEVENLABS_API_KEY: `sk_${hex(24)}`,
    SENDGRID_API_KEY: `SG.${randomBytes(16).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
  };
  if (profile === 'healthy') {
    return {
      ...common,
      JWT_SECRET: randomBytes(36).toString('base64url'),
      SKIP_AUTH: 'false',
      COOKIE_SECURE: 'true',
      SENTRY_DSN: `https://${hex(16)}@o0.ingest.sentry.io/0`,
    };
  }
  return {
    ...common,
    JWT_SECRET: randomBytes(9).toString('base64url'),
    SKIP_AUTH: 'true',
    COOKIE_SECURE: 'false',
  };
}

function createTlsServer(
  profile: DemoProfile,
  key: string,
  cert: string,
  handler: (req: AppRequest, res: AppResponse) => void,
): Http2SecureServer | HttpsServer {
  if (profile === 'healthy') return createSecureServer({ key, cert, allowHTTP1: true }, handler);
  // Advertising only http/1.1 is the misconfiguration: an ALPN probe offering h2 gets http/1.1 back.
  return createHttpsServer({ key, cert, ALPNProtocols: ['http/1.1'] }, handler);
}

function trackSockets(server: HttpServer | HttpsServer | Http2SecureServer, sockets: Set<Socket>): void {
  // Raw TCP sockets, tracked so close() can cut hanging requests (/slow, /huge) and idle HTTP/2 sessions.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

function listen(
  server: HttpServer | HttpsServer | Http2SecureServer,
  port: number,
  host: string,
): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(
  server: HttpServer | HttpsServer | Http2SecureServer,
  sockets: Set<Socket>,
): Promise<void> {
  return new Promise((resolveClose) => {
    server.close(() => resolveClose());
    for (const socket of sockets) socket.destroy();
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function redirectToHttps(req: AppRequest, res: AppResponse, fallbackHost: string, httpsPort: number): void {
  // Redirect to the name the client used (the certificate covers localhost and 127.0.0.1); the Host
  // header is parsed through URL so nothing but a bare hostname can end up in Location.
  const hostname = hostnameFromHeader(req.headers.host) ?? formatHost(fallbackHost);
  res.statusCode = 301;
  res.setHeader('Location', `https://${hostname}:${httpsPort}${req.url ?? '/'}`);
  res.setHeader('Content-Length', 0);
  res.end();
}

function hostnameFromHeader(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname || undefined;
  } catch {
    return undefined;
  }
}

function handleApp(state: TargetState, req: AppRequest, res: AppResponse): void {
  state.requestCount += 1;
  const ctx: RequestContext = { state, req, res, url: new URL(req.url ?? '/', 'http://demo.invalid') };
  applySecurityHeaders(ctx);
  const handler = findHandler(ctx);
  Promise.resolve()
    .then(() => handler(ctx))
    .catch((err: unknown) => failRequest(ctx, err));
}

function failRequest(ctx: RequestContext, err: unknown): void {
  // Once the head is on the wire a 500 can no longer be sent; ending short is the only signal left.
  if (ctx.res.headersSent) ctx.res.end();
  else sendJson(ctx, 500, { error: String(err) });
}

function applySecurityHeaders({ state, res }: RequestContext): void {
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'strict-origin-when-cross-origin');
  if (state.profile === 'healthy') {
    res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    res.setHeader('Content-Security-Policy', "default-src 'self'");
  } else {
    res.setHeader('X-Powered-By', 'Express');
  }
}

const EXACT_ROUTES: Readonly<Record<string, Handler>> = {
  'GET /': handleHome,
  'GET /health': handleHealth,
  'GET /login': handleLoginPage,
  'POST /api/login': handleLogin,
  'GET /config/env.json': handleEnvConfig,
  'GET /metrics': handleMetrics,
  'GET /api/v1/query': handlePromQuery,
  'POST /api/v1/query': handlePromQuery,
  'GET /static/app.js': handleAppJs,
  'GET /.env': exposedFile('text/plain; charset=utf-8', 'JWT_SECRET=short\nSKIP_AUTH=true\n'),
  'GET /.git/HEAD': exposedFile('text/plain; charset=utf-8', 'ref: refs/heads/main\n'),
  'GET /static/app.js.map': exposedFile('application/json', SOURCE_MAP),
  'GET /slow': handleSlow,
  'GET /huge': handleHuge,
  'GET /redirect-loop': handleRedirectLoop,
};

const AGENTS_PATH = /^\/api\/companies\/([A-Za-z0-9_-]{1,64})\/agents$/;

function isReadMethod(method: string | undefined): boolean {
  return method === undefined || method === 'GET' || method === 'HEAD';
}

function findHandler(ctx: RequestContext): Handler {
  // HEAD is answered like GET; Node drops the body for it on both HTTP/1.1 and HTTP/2.
  const method = isReadMethod(ctx.req.method) ? 'GET' : ctx.req.method;
  const path = ctx.url.pathname;
  if (path.startsWith('/api/public/')) return handlePublicApi;
  const exact = EXACT_ROUTES[`${method} ${path}`];
  if (exact) return exact;
  if (method === 'GET' && AGENTS_PATH.test(path)) return handleAgents;
  return handleNotFound;
}

function send(
  ctx: RequestContext,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Headers = {},
) {
  const { res } = ctx;
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  const raw = typeof body === 'string' ? Buffer.from(body) : body;
  const encoded = maybeCompress(ctx, raw);
  res.setHeader('Content-Length', encoded.length);
  res.end(encoded);
}

function sendJson(ctx: RequestContext, status: number, value: unknown, headers: Headers = {}): void {
  send(ctx, status, 'application/json; charset=utf-8', JSON.stringify(value), headers);
}

function maybeCompress(ctx: RequestContext, body: Buffer): Buffer {
  if (ctx.state.profile !== 'healthy' || body.length < COMPRESSION_THRESHOLD_BYTES) return body;
  // Caches between client and target must key on the encoding once it can vary.
  ctx.res.setHeader('Vary', 'Accept-Encoding');
  const encoding = negotiateEncoding(ctx.req.headers['accept-encoding']);
  if (!encoding) return body;
  ctx.res.setHeader('Content-Encoding', encoding);
  return encoding === 'br' ? brotliCompressSync(body) : gzipSync(body);
}

function negotiateEncoding(header: string | undefined): 'br' | 'gzip' | undefined {
  const accepted = new Map<string, number>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name.trim(), q ? Number(q.slice(2)) : 1);
  }
  const wildcard = accepted.get('*') ?? 0;
  for (const encoding of ['br', 'gzip'] as const) {
    if ((accepted.get(encoding) ?? wildcard) > 0) return encoding;
  }
  return undefined;
}

function handleNotFound(ctx: RequestContext): void {
  sendJson(ctx, 404, { error: 'not found', path: ctx.url.pathname });
}

function handleHome(ctx: RequestContext): void {
  send(
    ctx,
    200,
    'text/html; charset=utf-8',
    '<!doctype html><title>ClientsVia</title><h1>ClientsVia demo</h1>\n',
  );
}

function handleHealth(ctx: RequestContext): void {
  const healthy = ctx.state.profile === 'healthy';
  sendJson(
    ctx,
    healthy ? 200 : 503,
    {
      status: healthy ? 'ok' : 'degraded',
      version: DEMO_VERSION,
      uptimeSec: Math.floor((Date.now() - ctx.state.startedAt) / 1000),
      checks: { mongodb: 'ok', redis: healthy ? 'ok' : 'down' },
    },
    { 'Cache-Control': 'no-store' },
  );
}

function sessionCookie(profile: DemoProfile): string {
  const sid = randomBytes(18).toString('base64url');
  return profile === 'healthy' ? `sid=${sid}; Path=/; Secure; HttpOnly; SameSite=Lax` : `sid=${sid}; Path=/`;
}

function handleLoginPage(ctx: RequestContext): void {
  send(
    ctx,
    200,
    'text/html; charset=utf-8',
    '<!doctype html><title>Sign in</title><form method="post"></form>\n',
    {
      'Set-Cookie': sessionCookie(ctx.state.profile),
      'Cache-Control': 'no-store',
    },
  );
}

async function handleLogin(ctx: RequestContext): Promise<void> {
  // Any credentials are accepted; the body is read only so the connection stays reusable.
  await readBody(ctx.req);
  sendJson(
    ctx,
    200,
    { ok: true },
    { 'Set-Cookie': sessionCookie(ctx.state.profile), 'Cache-Control': 'no-store' },
  );
}

async function readBody(req: AppRequest): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

function handleAgents(ctx: RequestContext): void {
  const companyId = AGENTS_PATH.exec(ctx.url.pathname)?.[1] ?? 'unknown';
  const agents = buildAgents(companyId);
  if (ctx.state.profile === 'healthy') {
    sendJson(ctx, 200, agents, { 'X-Cache': 'HIT' });
    return;
  }
  // The misconfigured profile "misses the cache" every time, pushing the query past a 25 ms budget.
  const timer = setTimeout(() => sendJson(ctx, 200, agents, { 'X-Cache': 'MISS' }), UNCACHED_QUERY_DELAY_MS);
  ctx.res.on('close', () => clearTimeout(timer));
}

function buildAgents(companyId: string): unknown[] {
  const voices = ['rachel', 'adam', 'bella', 'josh', 'elli', 'sam', 'domi', 'arnold'];
  return voices.map((voice, i) => ({
    id: `agt_${companyId}_${String(i + 1).padStart(3, '0')}`,
    companyId,
    name: `Receptionist ${voice[0]?.toUpperCase()}${voice.slice(1)}`,
    status: i % 3 === 2 ? 'paused' : 'active',
    voice: { provider: 'elevenlabs', voiceId: voice },
    phoneNumber: `+1555010${String(i).padStart(4, '0')}`,
    greeting: `Thanks for calling, this is ${voice}. How can I help you today?`,
    updatedAt: new Date(Date.UTC(2025, 0, i + 1)).toISOString(),
  }));
}

function handlePublicApi(ctx: RequestContext): void {
  if (ctx.state.profile === 'healthy' && !admitPublicRequest(ctx)) return;
  if (ctx.url.pathname === '/api/public/status' && isReadMethod(ctx.req.method)) {
    sendJson(ctx, 200, { status: 'operational', version: DEMO_VERSION });
    return;
  }
  handleNotFound(ctx);
}

// Fixed window per client IP, mirroring the checklist's "Public API: 50 req/min".
function admitPublicRequest(ctx: RequestContext): boolean {
  const now = Date.now();
  const ip = ctx.req.socket.remoteAddress ?? 'unknown';
  let window = ctx.state.rateWindows.get(ip);
  if (!window || now - window.startedAt >= PUBLIC_RATE_WINDOW_MS) {
    window = { startedAt: now, count: 0 };
    ctx.state.rateWindows.set(ip, window);
  }
  window.count += 1;
  const resetSec = Math.max(1, Math.ceil((window.startedAt + PUBLIC_RATE_WINDOW_MS - now) / 1000));
  const { res } = ctx;
  res.setHeader('RateLimit-Policy', `${PUBLIC_RATE_LIMIT};w=${PUBLIC_RATE_WINDOW_MS / 1000}`);
  res.setHeader('RateLimit-Limit', PUBLIC_RATE_LIMIT);
  res.setHeader('RateLimit-Remaining', Math.max(0, PUBLIC_RATE_LIMIT - window.count));
  res.setHeader('RateLimit-Reset', resetSec);
  if (window.count <= PUBLIC_RATE_LIMIT) return true;
  sendJson(ctx, 429, { error: 'too many requests' }, { 'Retry-After': resetSec });
  return false;
}

function exposedFile(contentType: string, body: string): Handler {
  return (ctx) => {
    if (ctx.state.profile === 'healthy') handleNotFound(ctx);
    else send(ctx, 200, contentType, body);
  };
}

function handleAppJs(ctx: RequestContext): void {
  // Only the misconfigured build points browsers (and attackers) at its published source map.
  const trailer = ctx.state.profile === 'healthy' ? '' : '\n//# sourceMappingURL=app.js.map';
  send(ctx, 200, 'text/javascript; charset=utf-8', `export function boot(){}${trailer}\n`);
}

function handleEnvConfig(ctx: RequestContext): void {
  if (!hasBearerToken(ctx.req.headers.authorization, DEMO_CONFIG_TOKEN)) {
    sendJson(ctx, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="config"' });
    return;
  }
  sendJson(ctx, 200, ctx.state.env, { 'Cache-Control': 'no-store' });
}

function hasBearerToken(header: string | undefined, expected: string): boolean {
  const presented = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${expected}`);
  return presented.length === wanted.length && timingSafeEqual(presented, wanted);
}

function handleMetrics(ctx: RequestContext): void {
  const lines = [
    '# HELP http_requests_total Requests handled by this instance.',
    '# TYPE http_requests_total counter',
    `http_requests_total ${ctx.state.requestCount}`,
  ];
  for (const series of PROM_SERIES) {
    lines.push(`# HELP ${series.metric} ${series.help}`, `# TYPE ${series.metric} gauge`);
    lines.push(`${series.metric} ${series.values[ctx.state.profile]}`);
  }
  send(ctx, 200, 'text/plain; version=0.0.4; charset=utf-8', `${lines.join('\n')}\n`);
}

async function handlePromQuery(ctx: RequestContext): Promise<void> {
  // Prometheus accepts the query in the URL or, for POST, as a form-encoded body.
  const form =
    ctx.req.method === 'POST' ? new URLSearchParams(await readBody(ctx.req)) : ctx.url.searchParams;
  const query = form.get('query');
  if (!query) {
    sendJson(ctx, 400, { status: 'error', errorType: 'bad_data', error: 'missing query parameter' });
    return;
  }
  const series = PROM_SERIES.find((s) => query.includes(s.match));
  const result = series ? [{ metric: {}, value: [Date.now() / 1000, series.values[ctx.state.profile]] }] : [];
  sendJson(ctx, 200, { status: 'success', data: { resultType: 'vector', result } });
}

function handleSlow(): void {
  // Deliberately never answers: the request lives until the client aborts or close() cuts the socket.
}

function handleHuge(ctx: RequestContext): void {
  const { req, res } = ctx;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/octet-stream');
  // HTTP/1.1 write() on a HEAD response is a no-op returning true, which would spin the loop forever.
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let open = true;
  res.on('close', () => {
    open = false;
  });
  const pump = (): void => {
    while (open) {
      if (!res.write(HUGE_CHUNK)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

function handleRedirectLoop(ctx: RequestContext): void {
  send(ctx, 302, 'text/plain; charset=utf-8', '', { Location: '/redirect-loop' });
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  return entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url);
}

async function runCli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'healthy' },
      host: { type: 'string', default: '127.0.0.1' },
      'http-port': { type: 'string', default: '0' },
      'https-port': { type: 'string', default: '0' },
    },
  });
  if (values.profile !== 'healthy' && values.profile !== 'misconfigured') {
    throw new Error(`--profile must be "healthy" or "misconfigured", got "${values.profile}"`);
  }
  const target = await startDemoTarget({
    profile: values.profile,
    host: values.host,
    httpPort: Number(values['http-port']),
    httpsPort: Number(values['https-port']),
  });
  console.log(`ClientsVia demo target (profile: ${target.profile})`);
  console.log(`  http:  ${target.httpUrl}`);
  console.log(`  https: ${target.httpsUrl}`);
  const shutdown = (): void => {
    void target.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (isMainModule()) {
  runCli().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

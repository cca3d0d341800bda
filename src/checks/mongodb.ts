import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
// Types only: the driver itself is imported when a mongodb probe runs, so the CLI starts fast.
import type { Document, MongoClient, MongoClientOptions } from 'mongodb';
import { z } from 'zod';
import { DeployCheckError, describeError, ErrorCode } from '../errors.js';
import { assertAddressAllowed, guardedLookup, refusalReason } from '../net/guard.js';
import { duration } from './duration.js';
import { abortable, compareVersions, ProbeError } from './probe-errors.js';
import { type CheckContext, type CheckOutcome, defineCheck } from './types.js';

/**
 * A MongoDB deployment's production settings: reachable with the app's URI, recent enough,
 * refusing clients without credentials, and carrying the indexes the app's queries rely on.
 * The URI carries the password, so only host:port is ever printed.
 */

const SECRET_REF = '${secret:';

const version = z.string().regex(/^\d+(\.\d+){0,2}$/, 'expected a version like "6.0" or "7.0.4"');

const indexKeyValue = z.union([z.literal(1), z.literal(-1), z.enum(['text', 'hashed', '2d', '2dsphere'])]);

const indexSpec = z
  .object({
    key: z
      .record(z.string().min(1), indexKeyValue)
      .refine((k) => Object.keys(k).length > 0, 'an index needs at least one field')
      .meta({ description: 'Fields in index order, e.g. { companyId: 1, createdAt: -1 } (order matters).' }),
    unique: z
      .boolean()
      .optional()
      .meta({ description: 'When given, the index must (or must not) be unique.' }),
    name: z.string().min(1).optional().meta({ description: 'When given, the index must have this name.' }),
  })
  .strict();

type IndexSpec = z.infer<typeof indexSpec>;

const params = z
  .object({
    uri: z
      .string()
      // Checklists are validated before secrets are resolved, so a secret reference stands in for the URI here;
      // parseMongoUri checks the resolved value.
      .refine(
        (u) => u.includes(SECRET_REF) || /^mongodb(\+srv)?:\/\/./.test(u),
        'expected mongodb://… or mongodb+srv://…',
      )
      .meta({
        description: 'Connection string, usually "${secret:MONGODB_URI}". Only host:port is printed.',
      }),
    database: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Database holding the indexed collections (default: the one in the URI path).' }),
    minVersion: version
      .optional()
      .meta({ description: 'Minimum server version (buildInfo.version), e.g. "6.0".' }),
    requireAuth: z.boolean().optional().meta({
      description:
        'true: a client without credentials must be refused listDatabases (auth enforced). Omitted: not checked.',
    }),
    indexes: z
      .record(z.string().min(1), z.array(indexSpec).min(1))
      .optional()
      .meta({ description: 'Collection → indexes that must exist (compared with listIndexes).' }),
    connectTimeout: duration
      .optional()
      .meta({ description: 'Server selection / connect timeout (default: 80% of the check timeout).' }),
  })
  .strict();

type Params = z.infer<typeof params>;

interface HostPort {
  host: string;
  port: number;
}

export interface ParsedMongoUri {
  srv: boolean;
  hosts: HostPort[];
  /** host:port list for output: no credentials, no options. */
  display: string;
  /** The URI without user:password and auth options, for the unauthenticated client. */
  withoutCredentials: string;
  database?: string;
}

const AUTH_OPTIONS = new Set(['authsource', 'authmechanism', 'authmechanismproperties']);

/** Splits a connection string by hand: `new URL` cannot parse multi-host seed lists. */
export function parseMongoUri(uri: string): ParsedMongoUri {
  const m = /^(mongodb(?:\+srv)?):\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/s.exec(uri);
  if (!m) throw new ProbeError('the uri is not a valid mongodb:// connection string');
  const [, scheme, authority = '', path = '', query = ''] = m;
  const at = authority.lastIndexOf('@');
  const hostList = authority.slice(at + 1);
  const srv = scheme === 'mongodb+srv';
  const hosts = hostList.split(',').filter(Boolean).map(parseHostPort);
  if (hosts.length === 0) throw new ProbeError('the uri names no host');
  const options = new URLSearchParams(query);
  for (const k of [...options.keys()]) if (AUTH_OPTIONS.has(k.toLowerCase())) options.delete(k);
  const kept = options.toString();
  const database = decodeURIComponent(path.slice(1));
  return {
    srv,
    hosts,
    display: srv ? `${hosts[0]!.host} (srv)` : hosts.map(formatHostPort).join(','),
    withoutCredentials: `${scheme}://${hostList}${path || '/'}${kept ? `?${kept}` : ''}`,
    ...(database ? { database } : {}),
  };
}

function parseHostPort(text: string): HostPort {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 27017) };
  const [host = '', port] = text.split(':');
  return { host: decodeURIComponent(host), port: Number(port ?? 27017) };
}

const formatHostPort = (h: HostPort) => `${net.isIPv6(h.host) ? `[${h.host}]` : h.host}:${h.port}`;

/** A failure to measure, with a message fit for `detail`. */
/**
 * Vets the seed hosts before the driver sees them, for a clear refusal instead of a server
 * selection timeout. The client's `lookup` option guards every later resolution too (replica
 * set members it discovers, SRV targets). mongodb+srv seeds are SRV names the driver resolves
 * itself, so they are left to that `lookup`.
 */
async function guardHosts(parsed: ParsedMongoUri, ctx: CheckContext): Promise<void> {
  if (parsed.srv) return;
  for (const { host } of parsed.hosts) {
    if (net.isIP(host)) {
      assertAddressAllowed(host, ctx.policy);
      continue;
    }
    let addresses: dns.LookupAddress[];
    try {
      addresses = await dns.promises.lookup(host, { all: true });
    } catch (err) {
      throw new ProbeError(
        `DNS lookup failed for ${host} (${(err as { code?: string }).code ?? describeError(err)})`,
      );
    }
    for (const a of addresses) {
      const reason = refusalReason(a.address, ctx.policy);
      if (reason) throw new DeployCheckError(ErrorCode.AddressRefused, `refused: ${host} → ${reason}`);
    }
  }
}

function clientOptions(p: Params, ctx: CheckContext): MongoClientOptions {
  // Leave the driver room to report its own reason (refused, auth failed) before the signal fires.
  const selectMs = Math.max(1, Math.min(p.connectTimeout ?? Math.floor(ctx.timeoutMs * 0.8), ctx.timeoutMs));
  return {
    appName: 'deploy-check',
    serverSelectionTimeoutMS: selectMs,
    connectTimeoutMS: selectMs,
    socketTimeoutMS: ctx.timeoutMs,
    maxPoolSize: 1,
    retryReads: false,
    lookup: guardedLookup(ctx.policy) as unknown as MongoClientOptions['lookup'],
    ...(ctx.tls.ca ? { ca: [...tls.rootCertificates, ctx.tls.ca] } : {}),
    ...(ctx.tls.rejectUnauthorized ? {} : { tlsAllowInvalidCertificates: true }),
  };
}

const AUTH_CODES = new Set([13, 18]);

/** The driver's server errors, recognised without loading the driver. */
function isServerError(err: unknown): err is Error & { code?: unknown } {
  return err instanceof Error && err.name === 'MongoServerError';
}

function isAuthRefusal(err: unknown): boolean {
  if (isServerError(err) && typeof err.code === 'number' && AUTH_CODES.has(err.code)) return true;
  return /requires authentication|unauthorized|not authorized|authentication failed/i.test(
    describeError(err),
  );
}

function connectFailure(err: unknown, parsed: ParsedMongoUri): string {
  const why = describeError(err);
  if (isAuthRefusal(err)) return `authentication failed at ${parsed.display}: ${why}`;
  if (/ECONNREFUSED/.test(why)) return `connection refused to ${parsed.display}`;
  if (/ENOTFOUND|EAI_AGAIN/.test(why)) return `DNS lookup failed for ${parsed.display} (${why})`;
  return `cannot connect to ${parsed.display}: ${why}`;
}

/** Collected while measuring; turned into one outcome at the end. */
interface Findings {
  observed: string[];
  expected: string[];
  failures: string[];
  warnings: string[];
  metrics: Record<string, number>;
}

async function connect(client: MongoClient, parsed: ParsedMongoUri, f: Findings): Promise<void> {
  const t0 = performance.now();
  try {
    await client.connect();
    f.metrics.connectMs = performance.now() - t0;
    const t1 = performance.now();
    await client.db('admin').command({ ping: 1 });
    f.metrics.pingMs = performance.now() - t1;
  } catch (err) {
    throw new ProbeError(connectFailure(err, parsed));
  }
}

async function checkVersion(
  client: MongoClient,
  min: string | undefined,
  parsed: ParsedMongoUri,
  f: Findings,
) {
  if (min) f.expected.push(`version ≥ ${min}`);
  let ver: unknown;
  try {
    ver = (await client.db('admin').command({ buildInfo: 1 })).version;
  } catch (err) {
    if (min) f.warnings.push(`cannot read the server version: ${describeError(err)}`);
  }
  const label = typeof ver === 'string' ? `MongoDB ${ver}` : 'MongoDB';
  f.observed.push(`${label} at ${parsed.display}, ping ${(f.metrics.pingMs ?? 0).toFixed(1)} ms`);
  if (min && typeof ver === 'string' && compareVersions(ver, min) < 0)
    f.failures.push(`version ${ver} < ${min}`);
}

export function formatIndex(spec: { key: Record<string, unknown>; unique?: boolean | undefined }): string {
  const fields = Object.entries(spec.key).map(
    ([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : v}`,
  );
  return `{ ${fields.join(', ')} }${spec.unique ? ' unique' : ''}`;
}

/** Numbers arrive as Int32/Double/Long wrappers or plain numbers; strings stay as they are. */
function keyEntries(key: Record<string, unknown>): string[] {
  return Object.entries(key).map(([k, v]) => `${k}\u0000${typeof v === 'string' ? v : Number(v)}`);
}

const sameKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  keyEntries(a).join('\u0001') === keyEntries(b).join('\u0001');

/** Problems with one collection's indexes, each "coll: …", empty when all are present. */
export function indexProblems(collection: string, expected: IndexSpec[], actual: Document[]): string[] {
  const problems: string[] = [];
  for (const spec of expected) {
    const candidates = actual.filter((a) => a.key && sameKey(spec.key, a.key as Record<string, unknown>));
    if (candidates.length === 0) {
      problems.push(`${collection}: missing ${formatIndex(spec)}`);
      continue;
    }
    const keyText = formatIndex({ key: spec.key });
    const uniqueOk = candidates.filter(
      (a) => spec.unique === undefined || (a.unique === true) === spec.unique,
    );
    if (uniqueOk.length === 0) {
      problems.push(`${collection}: ${keyText} exists but is ${spec.unique ? 'not unique' : 'unique'}`);
      continue;
    }
    if (spec.name && !uniqueOk.some((a) => a.name === spec.name)) {
      const names = uniqueOk.map((a) => JSON.stringify(a.name)).join(', ');
      problems.push(`${collection}: ${keyText} is named ${names}, expected ${JSON.stringify(spec.name)}`);
    }
  }
  return problems;
}

async function checkIndexes(
  client: MongoClient,
  p: Params,
  parsed: ParsedMongoUri,
  f: Findings,
): Promise<void> {
  const indexes = p.indexes!;
  const dbName = p.database ?? parsed.database;
  if (!dbName) throw new ProbeError('indexes need a database: set `database` or put it in the uri path');
  const db = client.db(dbName);
  const total = Object.values(indexes).reduce((n, list) => n + list.length, 0);
  f.expected.push(`${total} index(es) in ${dbName}`);
  let problems = 0;
  for (const [collection, specs] of Object.entries(indexes)) {
    let actual: Document[];
    try {
      actual = await db.collection(collection).listIndexes().toArray();
    } catch (err) {
      if (isServerError(err) && err.code === 26) {
        f.failures.push(`${collection}: collection does not exist`);
        problems += specs.length;
        continue;
      }
      throw new ProbeError(`listIndexes on ${collection} failed: ${describeError(err)}`);
    }
    const found = indexProblems(collection, specs, actual);
    problems += found.length;
    f.failures.push(...found);
  }
  f.metrics.indexesExpected = total;
  f.metrics.indexesMissing = problems;
  f.observed.push(`${total - problems}/${total} index(es) as expected`);
}

async function checkAuthRequired(client: MongoClient, f: Findings): Promise<void> {
  f.expected.push('unauthenticated access refused');
  try {
    await client.connect();
    await client.db('admin').command({ listDatabases: 1, nameOnly: true });
  } catch (err) {
    if (!isAuthRefusal(err)) throw new ProbeError(`unauthenticated probe failed: ${describeError(err)}`);
    f.observed.push('auth enforced');
    return;
  }
  f.failures.push('unauthenticated listDatabases succeeded');
}

function outcome(f: Findings): CheckOutcome {
  const base = { observed: f.observed.join('; '), expected: f.expected.join('; '), metrics: f.metrics };
  if (f.failures.length)
    return { ...base, status: 'fail', detail: [...f.failures, ...f.warnings].join('; ') };
  if (f.warnings.length) return { ...base, status: 'warn', detail: f.warnings.join('; ') };
  return { ...base, status: 'pass', detail: '' };
}

async function measure(
  p: Params,
  parsed: ParsedMongoUri,
  ctx: CheckContext,
  clients: MongoClient[],
  f: Findings,
) {
  await guardHosts(parsed, ctx);
  const { MongoClient } = await import('mongodb');
  const open = (uri: string) => {
    // After an abort the run has already closed its clients; a late one would leak.
    if (ctx.signal.aborted) throw new ProbeError('cancelled');
    const client = new MongoClient(uri, clientOptions(p, ctx));
    clients.push(client);
    return client;
  };
  const client = open(p.uri);
  await connect(client, parsed, f);
  await checkVersion(client, p.minVersion, parsed, f);
  if (p.indexes) await checkIndexes(client, p, parsed, f);
  if (p.requireAuth) await checkAuthRequired(open(parsed.withoutCredentials), f);
}

export default defineCheck({
  type: 'mongodb',
  summary:
    'MongoDB is reachable, recent enough, refuses unauthenticated clients and has the expected indexes.',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx) {
    const f: Findings = { observed: [], expected: ['reachable'], failures: [], warnings: [], metrics: {} };
    const clients: MongoClient[] = [];
    try {
      const parsed = parseMongoUri(p.uri);
      await abortable(ctx.signal, measure(p, parsed, ctx, clients, f), ctx.timeoutMs);
    } catch (err) {
      const detail =
        err instanceof ProbeError || err instanceof DeployCheckError ? err.message : describeError(err);
      return {
        status: 'error',
        observed: f.observed.join('; '),
        expected: f.expected.join('; '),
        detail,
        metrics: f.metrics,
      };
    } finally {
      // close() also fails whatever is still pending, so work cut off by the signal ends here.
      await Promise.allSettled(clients.map((c) => c.close()));
    }
    return outcome(f);
  },
});

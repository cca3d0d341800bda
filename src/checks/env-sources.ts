import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeError } from '../errors.js';
import { httpCall } from './http-util.js';
import type { CheckContext } from './types.js';

/**
 * Where the `env` probe reads key/value pairs from. Every error message here names the source
 * (file, host, service) but never a header, an API key or a value: values are usually secrets.
 */

const SECRET_REF = '${secret:';

/** Checklists are validated before secrets are resolved, so a secret reference may stand in for the URL. */
export const httpUrl = z
  .string()
  .refine(
    (u) => u.includes(SECRET_REF) || (/^https?:\/\//.test(u) && URL.canParse(u)),
    'expected an http(s) URL',
  );

const dotenvSource = z
  .object({
    dotenv: z.string().min(1).meta({ description: 'Path of a dotenv file, relative to the checklist file.' }),
  })
  .strict();

const jsonSource = z
  .object({
    json: z
      .object({
        url: httpUrl.meta({ description: 'URL answering GET with a flat JSON object of strings.' }),
        headers: z
          .record(z.string(), z.string())
          .optional()
          .meta({ description: 'Request headers (e.g. Authorization: "Bearer ${secret:CONFIG_TOKEN}").' }),
        path: z
          .string()
          .regex(/^\$(\.[A-Za-z0-9_-]+)*$/, 'expected a path like "$.env" or "$.data.vars"')
          .optional()
          .meta({
            description: 'Where the object sits in the response, e.g. "$.env" (default: the whole body).',
          }),
      })
      .strict(),
  })
  .strict();

const renderSource = z
  .object({
    render: z
      .object({
        serviceId: z.string().min(1).meta({ description: 'Render service id (srv-...).' }),
        apiKey: z.string().min(1).meta({ description: 'Render API key, e.g. "${secret:RENDER_API_KEY}".' }),
        baseUrl: z.url().default('https://api.render.com/v1').meta({ description: 'Render API base URL.' }),
      })
      .strict(),
  })
  .strict();

const processSource = z
  .object({
    process: z.literal(true).meta({ description: "The probe's own environment (useful in CI)." }),
  })
  .strict();

export const envSourceSchema = z.union([dotenvSource, jsonSource, renderSource, processSource]).meta({
  description:
    'Where the variables come from: { dotenv: path } | { json: { url, headers?, path? } } | { render: { serviceId, apiKey, baseUrl? } } | { process: true }.',
});

export type EnvSource = z.infer<typeof envSourceSchema>;

/** The source could not be read; the message is safe to show (no values, headers or keys). */
export class EnvSourceError extends Error {
  override name = 'EnvSourceError';
}

export interface LoadedEnv {
  values: Map<string, string>;
  /** Short, value-free description of where they came from ("dotenv deploy.env", "render srv-123"). */
  label: string;
  /** Value-free remarks, e.g. dotenv lines that could not be parsed. */
  notes: string[];
}

export async function loadEnvSource(source: EnvSource, ctx: CheckContext): Promise<LoadedEnv> {
  if ('dotenv' in source) return loadDotenv(source.dotenv, ctx);
  if ('json' in source) return loadJson(source.json, ctx);
  if ('render' in source) return loadRender(source.render, ctx);
  return { values: processEnv(), label: 'process environment', notes: [] };
}

function processEnv(): Map<string, string> {
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) values.set(k, v);
  return values;
}

async function loadDotenv(file: string, ctx: CheckContext): Promise<LoadedEnv> {
  const full = path.resolve(ctx.baseDir, file);
  let text: string;
  try {
    text = await readFile(full, { encoding: 'utf8', signal: ctx.signal });
  } catch (err) {
    throw new EnvSourceError(`cannot read dotenv file ${file}: ${fileErrorReason(err)}`);
  }
  const parsed = parseDotenv(text);
  const notes = parsed.invalidLines.length
    ? [`ignored unparsable line(s) ${parsed.invalidLines.join(', ')} of ${file}`]
    : [];
  return { values: parsed.values, label: `dotenv ${file}`, notes };
}

function fileErrorReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return describeError(err);
}

export interface ParsedDotenv {
  values: Map<string, string>;
  /** 1-based numbers of lines that are neither blank, comments nor assignments. */
  invalidLines: number[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*/;
const DOUBLE_QUOTE_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
  $: '$',
};

/**
 * Parses dotenv text the way dotenv / docker compose do: `#` comments, an optional `export `
 * prefix, single quotes (literal), double quotes (escapes like \n, may span lines), backticks,
 * unquoted values trimmed and cut at a ` #` comment, empty values. Later keys override earlier.
 */
export function parseDotenv(text: string): ParsedDotenv {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const values = new Map<string, string>();
  const invalidLines: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let rest = lines[i]!.trimStart();
    if (rest === '' || rest.startsWith('#')) continue;
    rest = rest.replace(/^export\s+/, '');
    const key = KEY.exec(rest)?.[0];
    const afterKey = key ? rest.slice(key.length).trimStart() : '';
    if (!key || !afterKey.startsWith('=')) {
      invalidLines.push(lineNo);
      continue;
    }
    const raw = afterKey.slice(1).replace(/^[ \t]+/, '');
    const quote = raw[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      const read = readQuoted(lines, i, raw, quote);
      if (!read) {
        invalidLines.push(lineNo);
        continue;
      }
      values.set(key, read.value);
      i = read.lastLine;
    } else {
      values.set(key, unquotedValue(raw));
    }
  }
  return { values, invalidLines };
}

function unquotedValue(raw: string): string {
  // A `#` starts a comment only after whitespace, so values like `abc#def` survive.
  const comment = /(^|[ \t])#/.exec(raw);
  return (comment ? raw.slice(0, comment.index) : raw).trim();
}

/** Reads a quoted value starting at `raw` (on line `start`), possibly continuing on later lines. */
function readQuoted(
  lines: string[],
  start: number,
  raw: string,
  quote: string,
): { value: string; lastLine: number } | undefined {
  let out = '';
  let line = start;
  let text = raw.slice(1);
  for (;;) {
    for (let j = 0; j < text.length; j++) {
      const ch = text[j]!;
      if (quote === '"' && ch === '\\' && j + 1 < text.length) {
        const next = text[j + 1]!;
        out += DOUBLE_QUOTE_ESCAPES[next] ?? `\\${next}`;
        j++;
      } else if (ch === quote) {
        const trailing = text.slice(j + 1).trim();
        if (trailing !== '' && !trailing.startsWith('#')) return undefined;
        return { value: out, lastLine: line };
      } else {
        out += ch;
      }
    }
    line++;
    if (line >= lines.length) return undefined;
    out += '\n';
    text = lines[line]!;
  }
}

interface JsonParams {
  url: string;
  headers?: Record<string, string> | undefined;
  path?: string | undefined;
}

async function loadJson(params: JsonParams, ctx: CheckContext): Promise<LoadedEnv> {
  const where = safeLocation(params.url);
  const body = await getJson(params.url, params.headers ?? {}, ctx, `json source ${where}`);
  const target = params.path ? pickPath(body, params.path) : body;
  if (!isPlainObject(target)) {
    const at = params.path ? ` at ${params.path}` : '';
    throw new EnvSourceError(`json source ${where} did not return an object${at}`);
  }
  return { values: flatValues(target), label: `json ${where}`, notes: [] };
}

function pickPath(body: unknown, jsonPath: string): unknown {
  let cur = body;
  for (const seg of jsonPath.split('.').slice(1)) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

/** Strings, numbers and booleans become values; null means unset; nested objects are not env values. */
function flatValues(obj: Record<string, unknown>): Map<string, string> {
  const values = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') values.set(k, v);
    else if (typeof v === 'number' || typeof v === 'boolean') values.set(k, String(v));
  }
  return values;
}

interface RenderParams {
  serviceId: string;
  apiKey: string;
  baseUrl: string;
}

interface RenderEnvVarItem {
  envVar?: { key?: unknown; value?: unknown };
  cursor?: unknown;
}

const RENDER_PAGE_LIMIT = 100;
/** 100 pages of 100 is far beyond Render's limits; more means the API is looping. */
const RENDER_MAX_PAGES = 100;

async function loadRender(params: RenderParams, ctx: CheckContext): Promise<LoadedEnv> {
  const base = params.baseUrl.replace(/\/+$/, '');
  const endpoint = `${base}/services/${encodeURIComponent(params.serviceId)}/env-vars`;
  const what = `Render API (service ${params.serviceId})`;
  const headers = { authorization: `Bearer ${params.apiKey}`, accept: 'application/json' };
  const values = new Map<string, string>();
  let cursor: string | undefined;
  for (let page = 0; page < RENDER_MAX_PAGES; page++) {
    const url = `${endpoint}?limit=${RENDER_PAGE_LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const body = await getJson(url, headers, ctx, what);
    if (!Array.isArray(body)) throw new EnvSourceError(`${what} did not return an array of env vars`);
    if (body.length === 0) return { values, label: `render ${params.serviceId}`, notes: [] };
    for (const item of body as RenderEnvVarItem[]) {
      const key = item?.envVar?.key;
      const value = item?.envVar?.value;
      if (typeof key === 'string' && typeof value === 'string') values.set(key, value);
    }
    const last = (body[body.length - 1] as RenderEnvVarItem)?.cursor;
    if (typeof last !== 'string' || last === '' || last === cursor) {
      return { values, label: `render ${params.serviceId}`, notes: [] };
    }
    cursor = last;
  }
  throw new EnvSourceError(`${what} kept paginating beyond ${RENDER_MAX_PAGES} pages`);
}

const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** GET a JSON body; every failure becomes an EnvSourceError naming `what` but no header. */
async function getJson(
  url: string,
  headers: Record<string, string>,
  ctx: CheckContext,
  what: string,
): Promise<unknown> {
  let res: Awaited<ReturnType<typeof httpCall>>;
  try {
    res = await httpCall(url, {
      headers: { accept: 'application/json', ...headers },
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
      maxBodyBytes: MAX_JSON_BYTES,
    });
  } catch (err) {
    throw new EnvSourceError(`${what} unreachable: ${requestErrorReason(err, ctx)}`);
  }
  if (res.status === 401 || res.status === 403) {
    throw new EnvSourceError(`${what} answered ${res.status}: credentials rejected`);
  }
  if (res.status < 200 || res.status >= 300) throw new EnvSourceError(`${what} answered HTTP ${res.status}`);
  if (res.bodyTruncated) throw new EnvSourceError(`${what} answered more than ${MAX_JSON_BYTES} bytes`);
  try {
    return JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new EnvSourceError(`${what} did not answer JSON`);
  }
}

function requestErrorReason(err: unknown, ctx: CheckContext): string {
  if (!ctx.signal.aborted) return describeError(err);
  const reason = ctx.signal.reason as { name?: unknown } | undefined;
  return reason?.name === 'TimeoutError' ? `timed out after ${ctx.timeoutMs} ms` : 'cancelled';
}

/** Origin and path only: query strings and userinfo may carry tokens. */
function safeLocation(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

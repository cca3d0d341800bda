import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/test-services.js';
import env from '../../../src/checks/env.js';
import { parseDotenv } from '../../../src/checks/env-sources.js';
import type { CheckOutcome } from '../../../src/checks/types.js';
import { makeContext } from '../../helpers/check-context.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(handler: Handler): Promise<{ base: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

let dir: string;
const ctx = (timeoutMs = 5_000) => makeContext({ baseDir: dir, timeoutMs });
const run = (params: unknown, timeoutMs?: number): Promise<CheckOutcome> =>
  env.run(env.params.parse(params), ctx(timeoutMs));

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dc-env-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseDotenv', () => {
  it('handles comments, export, quotes, escapes, empty values and CRLF', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = padded value   ',
      "SINGLE='literal \\n $X # not a comment'",
      'DOUBLE="line1\\nline2 \\"q\\""',
      'EMPTY=',
      'EMPTY_QUOTED=""',
      'INLINE=abc # trailing comment',
      'HASH_IN_VALUE=abc#def',
      'MULTI="first',
      'second"',
      'DUP=1',
      'DUP=2\r',
      'not an assignment',
      '1BAD=x',
    ].join('\n');
    const { values, invalidLines } = parseDotenv(text);
    expect(Object.fromEntries(values)).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'padded value',
      SINGLE: 'literal \\n $X # not a comment',
      DOUBLE: 'line1\nline2 "q"',
      EMPTY: '',
      EMPTY_QUOTED: '',
      INLINE: 'abc',
      HASH_IN_VALUE: 'abc#def',
      MULTI: 'first\nsecond',
      DUP: '2',
    });
    expect(invalidLines).toEqual([16, 17]);
  });

  it('reports an unterminated quote as an invalid line instead of swallowing the file', () => {
    const { values, invalidLines } = parseDotenv('A="open\nB=2');
    expect(values.has('A')).toBe(false);
    expect(invalidLines).toEqual([1]);
  });
});

describe('env params', () => {
  it('rejects unknown fields, bad regexes and empty rule sets', () => {
    expect(
      env.params.safeParse({ source: { process: true }, rules: { A: 'required' }, extra: 1 }).success,
    ).toBe(false);
    expect(env.params.safeParse({ source: { process: true }, rules: { A: { pattern: '(' } } }).success).toBe(
      false,
    );
    expect(env.params.safeParse({ source: { process: true }, rules: {} }).success).toBe(false);
    expect(
      env.params.safeParse({ source: { dotenv: 'x', process: true }, rules: { A: 'required' } }).success,
    ).toBe(false);
  });

  it('compares YAML booleans and numbers as strings', () => {
    const parsed = env.params.parse({
      source: { process: true },
      rules: { A: { equals: false, oneOf: [1, 'x'] } },
    });
    expect(parsed.rules.A).toMatchObject({ equals: 'false', oneOf: ['1', 'x'], required: true });
  });
});

describe('env probe over a dotenv file', () => {
  it('passes when every rule holds', async () => {
    writeFileSync(
      path.join(dir, 'good.env'),
      'JWT_SECRET="0123456789abcdef0123456789abcdef"\nSKIP_AUTH=false\nNODE_ENV=production\nSENTRY_DSN=https://x@sentry.io/1\n',
    );
    const out = await run({
      source: { dotenv: './good.env' },
      rules: {
        JWT_SECRET: { minLength: 32, notPattern: '^(changeme|secret)$' },
        SKIP_AUTH: { equals: false },
        NODE_ENV: { oneOf: ['production'] },
        SENTRY_DSN: { pattern: '^https://' },
        DEBUG: 'forbidden',
        OPTIONAL_THING: { required: false, minLength: 5 },
      },
    });
    expect(out.status).toBe('pass');
    expect(out.metrics).toEqual({ keysChecked: 6, violations: 0 });
    expect(out.observed).toContain('6 key(s) OK');
  });

  it('fails listing each broken rule, and never prints a value', async () => {
    const secrets = {
      JWT_SECRET: 'short-SECRET-1',
      LONG_TOKEN: 'SECRET-2-way-too-long-for-the-limit',
      SKIP_AUTH: 'SECRET-3-true',
      NODE_ENV: 'SECRET-4-staging',
      SENTRY_DSN: 'SECRET-5-http://insecure',
      API_KEY: 'SECRET-6-test_key',
      DEBUG: 'SECRET-7-on',
    };
    const lines = Object.entries(secrets).map(([k, v]) => `${k}="${v}"`);
    writeFileSync(path.join(dir, 'bad.env'), `${lines.join('\n')}\nEMPTY_ONE=\nDEFAULTED=changeme\n`);
    const out = await run({
      source: { dotenv: 'bad.env' },
      rules: {
        JWT_SECRET: { minLength: 32 },
        LONG_TOKEN: { maxLength: 10 },
        SKIP_AUTH: { equals: 'false' },
        NODE_ENV: { oneOf: ['production', 'prod'] },
        SENTRY_DSN: { pattern: '^https://' },
        API_KEY: { notPattern: 'test_' },
        DEBUG: { forbidden: true },
        EMPTY_ONE: 'required',
        MISSING_ONE: 'required',
        // notEquals can only fail when the value is the checklist's own literal, so printing it reveals nothing new.
        DEFAULTED: { notEquals: 'changeme' },
      },
    });
    expect(out.status).toBe('fail');
    const broken = out.detail.split('; ');
    expect(broken).toEqual([
      'JWT_SECRET: length 14 < 32',
      'LONG_TOKEN: length 35 > 10',
      'SKIP_AUTH: must equal "false"',
      'NODE_ENV: must be one of "production", "prod"',
      'SENTRY_DSN: must match /^https:///',
      'API_KEY: must not match /test_/',
      'DEBUG: must be absent',
      'EMPTY_ONE: empty',
      'MISSING_ONE: missing',
      'DEFAULTED: must not equal "changeme"',
    ]);
    expect(out.metrics).toEqual({ keysChecked: 10, violations: 10 });
    const printed = JSON.stringify(out);
    for (const [key, value] of Object.entries(secrets)) {
      expect(printed, `value of ${key} leaked`).not.toContain(value);
      // Fragments too: a truncated value is still a leak.
      expect(printed, `part of ${key} leaked`).not.toContain(value.slice(0, 9));
    }
  });

  it('is an error, not a failure, when the file cannot be read', async () => {
    const out = await run({ source: { dotenv: 'nope.env' }, rules: { A: 'required' } });
    expect(out.status).toBe('error');
    expect(out.detail).toBe('cannot read dotenv file nope.env: no such file');
  });

  it('mentions unparsable lines without quoting them', async () => {
    writeFileSync(path.join(dir, 'odd.env'), 'A=1\nSECRET-LOOKING garbage line\n');
    const out = await run({ source: { dotenv: 'odd.env' }, rules: { A: 'required' } });
    expect(out.status).toBe('pass');
    expect(out.detail).toBe('ignored unparsable line(s) 2 of odd.env');
  });
});

describe('env probe over a JSON endpoint', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen((req, res) => {
      if (req.headers.authorization !== 'Bearer TOKEN-SECRET-9') return sendJson(res, 401, { error: 'nope' });
      if (req.url === '/flat') return sendJson(res, 200, { A: 'SECRET-A-value', N: 3, B: null });
      if (req.url === '/nested') return sendJson(res, 200, { data: { env: { A: 'SECRET-A-value' } } });
      if (req.url === '/array') return sendJson(res, 200, ['x']);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>');
    });
  });
  afterAll(() => server.close());

  const headers = { authorization: 'Bearer TOKEN-SECRET-9' };

  it('reads a flat object; numbers are values, null is unset', async () => {
    const out = await run({
      source: { json: { url: `${server.base}/flat`, headers } },
      rules: { A: { minLength: 5 }, N: { equals: 3 }, B: 'forbidden' },
    });
    expect(out.status).toBe('pass');
  });

  it('reads a nested object through path and fails on broken rules', async () => {
    const out = await run({
      source: { json: { url: `${server.base}/nested`, headers, path: '$.data.env' } },
      rules: { A: { minLength: 64 } },
    });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('A: length 14 < 64');
    expect(JSON.stringify(out)).not.toContain('SECRET-A');
  });

  it('is an error on 401, without printing the headers', async () => {
    const out = await run({
      source: {
        json: {
          url: `${server.base}/flat?token=QUERY-SECRET`,
          headers: { authorization: 'Bearer WRONG-SECRET' },
        },
      },
      rules: { A: 'required' },
    });
    expect(out.status).toBe('error');
    expect(out.detail).toBe(`json source ${server.base}/flat answered 401: credentials rejected`);
    expect(JSON.stringify(out)).not.toMatch(/WRONG-SECRET|QUERY-SECRET/);
  });

  it('is an error when the body is not a JSON object', async () => {
    const notJson = await run({
      source: { json: { url: `${server.base}/html`, headers } },
      rules: { A: 'required' },
    });
    expect(notJson.status).toBe('error');
    expect(notJson.detail).toContain('did not answer JSON');
    const array = await run({
      source: { json: { url: `${server.base}/array`, headers } },
      rules: { A: 'required' },
    });
    expect(array.status).toBe('error');
    expect(array.detail).toContain('did not return an object');
  });

  it('is an error when the endpoint is unreachable', async () => {
    const port = await freePort();
    const out = await run({
      source: { json: { url: `http://127.0.0.1:${port}/env` } },
      rules: { A: 'required' },
    });
    expect(out.status).toBe('error');
    expect(out.detail).toMatch(/unreachable: .*ECONNREFUSED/);
  });

  it('refuses the cloud metadata address', async () => {
    const out = await run({
      source: { json: { url: 'http://169.254.169.254/latest/meta-data/' } },
      rules: { A: 'required' },
    });
    expect(out.status).toBe('error');
    expect(out.detail).toContain('link-local');
  });

  it('is an error when the endpoint never answers', async () => {
    const hang = await listen(() => {});
    try {
      const out = await run({ source: { json: { url: `${hang.base}/env` } }, rules: { A: 'required' } }, 300);
      expect(out.status).toBe('error');
      expect(out.detail).toContain('timed out after 300 ms');
    } finally {
      await hang.close();
    }
  });
});

describe('env probe over the Render API', () => {
  const KEY = 'rnd_SECRET_api_key';
  const vars = Array.from({ length: 7 }, (_, i) => ({ key: `VAR_${i}`, value: `SECRET-render-${i}-value` }));
  const seenQueries: string[] = [];
  let render: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    // Pages of 3 (the fake's own limit), each item carrying its cursor; an empty page ends the list.
    render = await listen((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seenQueries.push(url.search);
      if (req.headers.authorization !== `Bearer ${KEY}`)
        return sendJson(res, 401, { message: 'unauthorized' });
      if (url.pathname !== '/v1/services/srv-abc/env-vars' || url.searchParams.get('limit') !== '100') {
        return sendJson(res, 404, { message: 'not found' });
      }
      const after = url.searchParams.get('cursor');
      const start = after ? vars.findIndex((v) => `c-${v.key}` === after) + 1 : 0;
      const page = vars.slice(start, start + 3).map((v) => ({ envVar: v, cursor: `c-${v.key}` }));
      sendJson(res, 200, page);
    });
  });
  afterAll(() => render.close());

  it('follows the cursor until an empty page', async () => {
    seenQueries.length = 0;
    const out = await run({
      source: { render: { serviceId: 'srv-abc', apiKey: KEY, baseUrl: `${render.base}/v1` } },
      rules: { VAR_0: 'required', VAR_6: { minLength: 10 }, VAR_7: 'forbidden' },
    });
    expect(out.status).toBe('pass');
    expect(seenQueries).toEqual([
      '?limit=100',
      '?limit=100&cursor=c-VAR_2',
      '?limit=100&cursor=c-VAR_5',
      '?limit=100&cursor=c-VAR_6',
    ]);
  });

  it('fails on a broken rule without printing the value', async () => {
    const out = await run({
      source: { render: { serviceId: 'srv-abc', apiKey: KEY, baseUrl: `${render.base}/v1` } },
      rules: { VAR_4: { equals: 'expected' }, VAR_9: 'required' },
    });
    expect(out.status).toBe('fail');
    expect(out.detail).toBe('VAR_4: must equal "expected"; VAR_9: missing');
    expect(JSON.stringify(out)).not.toMatch(/SECRET/);
  });

  it('is an error when the API key is rejected, without printing it', async () => {
    const out = await run({
      source: { render: { serviceId: 'srv-abc', apiKey: 'rnd_WRONG_SECRET', baseUrl: `${render.base}/v1` } },
      rules: { VAR_0: 'required' },
    });
    expect(out.status).toBe('error');
    expect(out.detail).toBe('Render API (service srv-abc) answered 401: credentials rejected');
    expect(JSON.stringify(out)).not.toContain('WRONG_SECRET');
  });
});

describe('env probe over the process environment', () => {
  it('reads the probe process environment', async () => {
    process.env.DC_ENV_PROBE_TEST = 'SECRET-process-value';
    try {
      const ok = await run({ source: { process: true }, rules: { DC_ENV_PROBE_TEST: { minLength: 5 } } });
      expect(ok.status).toBe('pass');
      const bad = await run({ source: { process: true }, rules: { DC_ENV_PROBE_TEST: { pattern: '^x' } } });
      expect(bad.status).toBe('fail');
      expect(bad.detail).toBe('DC_ENV_PROBE_TEST: must match /^x/');
      expect(JSON.stringify(bad)).not.toContain('SECRET-process');
    } finally {
      delete process.env.DC_ENV_PROBE_TEST;
    }
  });
});

/**
 * Our Slack receiver (src/slack/receiver.ts): the signature check that replaces Bolt's
 * (src/http/slack-signature.ts), acks sent with a Content-Length (src/http/sized-response.ts),
 * and the requests that must never reach a listener — over real HTTP, through the real Bolt App.
 * The end-to-end refusals through the whole bot are in test/e2e/security.test.ts.
 */
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SizedResponse } from '../../src/http/sized-response.js';
import { SIGNATURE_MAX_SKEW_S, verifySlackSignature } from '../../src/http/slack-signature.js';
import { SignedHTTPReceiver, SLACK_BODY_LIMIT } from '../../src/slack/receiver.js';
import { type SlackFake, silentSlackLogger, startSlackFake } from '../helpers/slack-fake.js';
import {
  computeSlackSignature,
  nowSeconds,
  SLACK_FORM_CONTENT_TYPE,
  slashCommandBody,
} from '../helpers/slack-sign.js';

// Slack's documented worked example for verifying requests.
const VECTOR = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe('verifySlackSignature', () => {
  const at = VECTOR.timestamp * 1000;
  const headers = (over: Record<string, string | string[] | undefined> = {}) => ({
    'content-type': SLACK_FORM_CONTENT_TYPE,
    'x-slack-signature': VECTOR.signature,
    'x-slack-request-timestamp': String(VECTOR.timestamp),
    ...over,
  });
  const verify = (h: ReturnType<typeof headers>, body = VECTOR.body, now = at) =>
    verifySlackSignature(VECTOR.secret, h, body, now);

  it("accepts Slack's official test vector, within five minutes either way", () => {
    expect(verify(headers())).toEqual({ ok: true, sslCheck: false });
    const edge = SIGNATURE_MAX_SKEW_S * 1000;
    expect(verify(headers(), VECTOR.body, at + edge).ok).toBe(true);
    expect(verify(headers(), VECTOR.body, at - edge).ok).toBe(true);
  });

  it.each([
    ['one byte of the body changed', headers(), `${VECTOR.body.slice(0, -1)}d`, 'mismatch'],
    [
      'another secret',
      headers({ 'x-slack-signature': computeSlackSignature('x', VECTOR.body, VECTOR.timestamp) }),
      VECTOR.body,
      'mismatch',
    ],
    [
      'the signature in upper case',
      headers({ 'x-slack-signature': VECTOR.signature.toUpperCase().replace('V0=', 'v0=') }),
      VECTOR.body,
      'mismatch',
    ],
    [
      'a truncated signature',
      headers({ 'x-slack-signature': VECTOR.signature.slice(0, -2) }),
      VECTOR.body,
      'mismatch',
    ],
    [
      'a signature with a byte appended',
      headers({ 'x-slack-signature': `${VECTOR.signature}0` }),
      VECTOR.body,
      'mismatch',
    ],
    [
      'a multi-byte character in the signature',
      headers({ 'x-slack-signature': `${VECTOR.signature.slice(0, -1)}é` }),
      VECTOR.body,
      'mismatch',
    ],
    [
      'version v1',
      headers({ 'x-slack-signature': VECTOR.signature.replace('v0=', 'v1=') }),
      VECTOR.body,
      'unknown_version',
    ],
    ['no signature', headers({ 'x-slack-signature': undefined }), VECTOR.body, 'missing_headers'],
    ['no timestamp', headers({ 'x-slack-request-timestamp': undefined }), VECTOR.body, 'missing_headers'],
    [
      'a signature header given twice',
      headers({ 'x-slack-signature': [VECTOR.signature, VECTOR.signature] }),
      VECTOR.body,
      'missing_headers',
    ],
    [
      'a non-numeric timestamp',
      headers({ 'x-slack-request-timestamp': 'soon' }),
      VECTOR.body,
      'bad_timestamp',
    ],
    [
      'a fractional timestamp',
      headers({ 'x-slack-request-timestamp': `${VECTOR.timestamp}.0` }),
      VECTOR.body,
      'bad_timestamp',
    ],
    ['a negative timestamp', headers({ 'x-slack-request-timestamp': '-1' }), VECTOR.body, 'bad_timestamp'],
  ] as const)('refuses %s', (_what, h, body, reason) => {
    expect(verify(h as ReturnType<typeof headers>, body)).toEqual({ ok: false, reason });
  });

  it('refuses a request signed more than five minutes ago or ahead (Bolt refuses only the past)', () => {
    const edge = (SIGNATURE_MAX_SKEW_S + 1) * 1000;
    expect(verify(headers(), VECTOR.body, at + edge)).toEqual({ ok: false, reason: 'stale_or_future' });
    expect(verify(headers(), VECTOR.body, at - edge)).toEqual({ ok: false, reason: 'stale_or_future' });
  });

  it("lets Slack's unsigned ssl_check ping through, and only a form body whose ssl_check is 1", () => {
    const bare = { 'content-type': SLACK_FORM_CONTENT_TYPE };
    expect(verifySlackSignature('s', bare, 'ssl_check=1&token=x', at)).toEqual({ ok: true, sslCheck: true });
    expect(verifySlackSignature('s', bare, 'token=x&ssl_check=0', at)).toEqual({
      ok: false,
      reason: 'missing_headers',
    });
    expect(verifySlackSignature('s', bare, 'text=ssl_check%3D1', at).ok).toBe(false);
    expect(verifySlackSignature('s', { 'content-type': 'application/json' }, 'ssl_check=1', at).ok).toBe(
      false,
    );
  });
});

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One request over a fresh connection, headers as given (no client-side rewriting). */
function send(
  port: number,
  opts: { path?: string; method?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: opts.path ?? '/slack/events',
        method: opts.method ?? 'POST',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('SizedResponse', () => {
  let server: Server;
  let port: number;
  const handlers: Record<string, (res: ServerResponse) => void> = {
    json: (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'Queued ✓' })),
    text: (res) => res.writeHead(200).end('plain ascii'),
    empty: (res) => res.writeHead(200).end(),
    buffer: (res) => res.writeHead(201, { 'x-a': '1' }).end(Buffer.from([1, 2, 3, 4])),
    streamed: (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part one, ');
      res.end('part two');
    },
    noContent: (res) => res.writeHead(204).end(),
    ownLength: (res) => res.writeHead(200, { 'Content-Length': '5' }).end('hello'),
    message: (res) => res.writeHead(202, 'Taken', { 'x-b': '2' }).end('ok'),
    setHeader: (res) => {
      res.setHeader('x-c', '3');
      res.writeHead(200).end('with a set header');
    },
  };
  beforeAll(async () => {
    server = createServer({ ServerResponse: SizedResponse }, (req, res) => handlers[req.url!.slice(1)]!(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('sends a body given whole to end() with a Content-Length, not chunked', async () => {
    for (const [path, body] of [
      ['json', JSON.stringify({ text: 'Queued ✓' })],
      ['text', 'plain ascii'],
      ['empty', ''],
    ] as const) {
      const res = await send(port, { path: `/${path}`, method: 'GET' });
      expect(res.headers['transfer-encoding'], path).toBeUndefined();
      expect(res.headers['content-length'], path).toBe(String(Buffer.byteLength(body)));
      expect(res.body).toBe(body);
    }
    const buf = await send(port, { path: '/buffer', method: 'GET' });
    expect([buf.status, buf.headers['content-length'], buf.headers['x-a']]).toEqual([201, '4', '1']);
  });

  it('keeps everything else as Node sends it: streamed bodies chunked, 204 bare, own lengths, messages, set headers', async () => {
    const streamed = await send(port, { path: '/streamed', method: 'GET' });
    expect([streamed.headers['transfer-encoding'], streamed.body]).toEqual(['chunked', 'part one, part two']);
    const none = await send(port, { path: '/noContent', method: 'GET' });
    expect([none.status, none.headers['content-length'], none.body]).toEqual([204, undefined, '']);
    const own = await send(port, { path: '/ownLength', method: 'GET' });
    expect([own.headers['content-length'], own.body]).toEqual(['5', 'hello']);
    const msg = await send(port, { path: '/message', method: 'GET' });
    expect([msg.status, msg.headers['x-b'], msg.body]).toEqual([202, '2', 'ok']);
    const set = await send(port, { path: '/setHeader', method: 'GET' });
    expect([set.headers['x-c'], set.headers['content-length']]).toEqual(['3', '17']);
  });
});

describe('SignedHTTPReceiver through the real Bolt App', () => {
  const SECRET = 'receiver-test-signing-secret';
  let fake: SlackFake;
  let app: App;
  let port: number;
  let commands: string[];
  const warnings: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    fake = await startSlackFake({ tokens: ['xoxb-receiver'] });
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    const receiver = new SignedHTTPReceiver({
      signingSecret: SECRET,
      logger: silentSlackLogger,
      log,
      customRoutes: [
        { path: '/healthz', method: 'GET', handler: (_req, res) => res.writeHead(200).end('ok') },
      ],
    });
    app = new App({
      token: 'xoxb-receiver',
      receiver,
      logger: silentSlackLogger,
      clientOptions: { slackApiUrl: fake.url },
    });
    app.command('/deploy-check', async ({ command, ack }) => {
      commands.push(command.text);
      await ack({ response_type: 'ephemeral', text: `Queued “${command.text}”` });
    });
    const server = (await app.start(0)) as Server;
    port = (server.address() as AddressInfo).port;
  });
  beforeEach(() => {
    commands = [];
    warnings.length = 0;
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  const signed = (body: string, ts = nowSeconds(), secret = SECRET) => ({
    'content-type': SLACK_FORM_CONTENT_TYPE,
    'x-slack-signature': computeSlackSignature(secret, body, ts),
    'x-slack-request-timestamp': String(ts),
  });

  it('hands a signed command to the listener and sends its ack with a Content-Length', async () => {
    const body = slashCommandBody({ text: 'run e2e staging' });
    const res = await send(port, { headers: signed(body), body });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ response_type: 'ephemeral', text: 'Queued “run e2e staging”' });
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.body)));
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(commands).toEqual(['run e2e staging']);
  });

  it('refuses forged, future-dated and unsigned requests with 401, logging the reason and nothing secret', async () => {
    const body = slashCommandBody({ text: 'run forged' });
    const forged = await send(port, { headers: signed(body, nowSeconds(), 'not-the-secret'), body });
    const future = await send(port, { headers: signed(body, nowSeconds() + 400), body });
    const unsigned = await send(port, { headers: { 'content-type': SLACK_FORM_CONTENT_TYPE }, body });
    expect([forged.status, future.status, unsigned.status]).toEqual([401, 401, 401]);
    expect(commands).toEqual([]);
    expect(warnings.map((w) => w.reason)).toEqual(['mismatch', 'stale_or_future', 'missing_headers']);
    expect(JSON.stringify(warnings)).not.toContain(SECRET);
  });

  it('checks every path Bolt routes to the events endpoint (dot segments, a query string)', async () => {
    const body = slashCommandBody({ text: 'run sneaky' });
    for (const path of [
      '/slack/./events',
      '/slack/x/../events',
      '/slack/events?x=1',
      '//slack/events/../events',
    ]) {
      const res = await send(port, { path, headers: { 'content-type': SLACK_FORM_CONTENT_TYPE }, body });
      expect(res.status, path).not.toBe(200);
    }
    expect(commands).toEqual([]);
    const ok = await send(port, { path: '/slack/./events', headers: signed(body), body });
    expect(ok.status).toBe(200);
    expect(commands).toEqual(['run sneaky']);
  });

  it('answers the unsigned ssl_check ping, and nothing smuggled beside it reaches a listener', async () => {
    const smuggled = `ssl_check=1&${slashCommandBody({ text: 'run smuggled' })}`;
    const res = await send(port, { headers: { 'content-type': SLACK_FORM_CONTENT_TYPE }, body: smuggled });
    expect(res.status).toBe(200);
    expect(commands).toEqual([]);
  });

  it('answers 413 to a body over 4 MB, announced or not, and reads no further', async () => {
    const big = Buffer.alloc(SLACK_BODY_LIMIT + 1, 'a');
    const announced = await send(port, {
      headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, 'content-length': String(big.length) },
      body: big,
    }).catch((err: NodeJS.ErrnoException) => ({ status: err.code }));
    // The server may close the connection while the client is still uploading: a 413 or a reset.
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(announced.status);
    const chunked = await send(port, {
      headers: { 'content-type': SLACK_FORM_CONTENT_TYPE, 'transfer-encoding': 'chunked' },
      body: big,
    }).catch((err: NodeJS.ErrnoException) => ({ status: err.code }));
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(chunked.status);
    expect(commands).toEqual([]);
  });

  it('fuzz: 600 mangled requests (headers, bodies, paths, signatures) — none reaches a listener unsigned, the server never falls over', async () => {
    const good = slashCommandBody({ text: 'run fuzzed' });
    const ts = nowSeconds();
    const goodSig = computeSlackSignature(SECRET, good, ts);
    const header = fc.oneof(
      fc.constant(undefined),
      fc.string({ maxLength: 80 }),
      fc.constantFrom(
        goodSig,
        goodSig.toUpperCase(),
        `${goodSig} `,
        `v0=${'0'.repeat(64)}`,
        'v0=',
        '=',
        goodSig.slice(0, 10),
      ),
    );
    const stamp = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(String(ts), `${ts}.0`, ` ${ts}`, '-0', '0', '99999999999999', '1e9', 'NaN'),
      fc.integer({ min: -1e10, max: 1e10 }).map(String),
    );
    const body = fc.oneof(
      fc.constant(good),
      fc.string({ maxLength: 300 }),
      fc.constant(good).map((b) => `${b}&text=run+other`),
      fc.constant(good).map((b) => `ssl_check=1&${b}`),
      fc.constant(good).map((b) => b.replace('fuzzed', 'fuzzeD')),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')),
    );
    const path = fc.constantFrom(
      '/slack/events',
      '/slack/./events',
      '/slack/events?a=b',
      '/slack/events/',
      '/SLACK/events',
      '/slack//events',
      '/slack/events%00',
    );
    const contentType = fc.constantFrom(
      SLACK_FORM_CONTENT_TYPE,
      'application/json',
      `${SLACK_FORM_CONTENT_TYPE}; charset=utf-8`,
      'text/plain',
    );
    const cases = fc.sample(fc.record({ sig: header, stamp, body, path, contentType }), {
      numRuns: 600,
      seed: 20261122,
    });
    let unsignedThrough = 0;
    for (const c of cases) {
      const headers: Record<string, string> = { 'content-type': c.contentType };
      if (c.sig !== undefined) headers['x-slack-signature'] = c.sig.replace(/[^\x20-\x7e]/g, '');
      if (c.stamp !== undefined) headers['x-slack-request-timestamp'] = c.stamp;
      const before = commands.length;
      const res = await send(port, { path: c.path, headers, body: c.body });
      const validlySigned =
        c.body === good &&
        c.sig === goodSig &&
        c.stamp === String(ts) &&
        c.contentType === SLACK_FORM_CONTENT_TYPE;
      if (commands.length > before && !validlySigned) unsignedThrough += 1;
      expect([200, 400, 401, 404, 413], JSON.stringify(c)).toContain(res.status);
    }
    expect(unsignedThrough).toBe(0);
    // Still serving after all of it.
    const res = await send(port, { headers: signed(good), body: good });
    expect(res.status).toBe(200);
  }, 60_000);

  it('serves custom routes and other paths without a signature', async () => {
    expect((await send(port, { path: '/healthz', method: 'GET' })).body).toBe('ok');
    expect((await send(port, { path: '/elsewhere', method: 'GET' })).status).toBe(404);
  });

  it('checks requests to the receiver mounted on another server too (requestListener)', async () => {
    const receiver = new SignedHTTPReceiver({
      signingSecret: SECRET,
      logger: silentSlackLogger,
      log: pino({ level: 'silent' }),
    });
    const other = new App({
      token: 'xoxb-receiver',
      receiver,
      logger: silentSlackLogger,
      clientOptions: { slackApiUrl: fake.url },
    });
    const seen: string[] = [];
    other.command('/deploy-check', async ({ command, ack }) => {
      seen.push(command.text);
      await ack();
    });
    const server = createServer(receiver.requestListener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const otherPort = (server.address() as AddressInfo).port;
    const body = slashCommandBody({ text: 'run mounted' });
    const refused = await send(otherPort, { headers: signed(body, nowSeconds(), 'wrong'), body });
    const accepted = await send(otherPort, { headers: signed(body), body });
    await new Promise<void>((r) => server.close(() => r()));
    expect([refused.status, accepted.status, seen]).toEqual([401, 200, ['run mounted']]);
  });
});

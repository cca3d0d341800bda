/**
 * Proves the offline Slack harness against the real clients: the unmodified @slack/web-api
 * WebClient talking to the fake, and a real Bolt App (HTTPReceiver) receiving signed requests.
 * If these pass, other suites can trust the fake's answers and the signer's requests.
 */

import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import type { SlashCommand } from '@slack/bolt';
import { App } from '@slack/bolt';
import type { KnownBlock, RetryOptions, SectionBlock } from '@slack/web-api';
import { WebClient, WebClientEvent } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlackFake } from '../helpers/slack-fake.js';
import { FAKE_DEFAULTS, silentSlackLogger, startSlackFake, validateBlocks } from '../helpers/slack-fake.js';
import {
  blockActionsPayload,
  computeSlackSignature,
  interactionBody,
  nowSeconds,
  sendSigned,
  signSlackRequest,
  slashCommandBody,
  viewSubmissionPayload,
} from '../helpers/slack-sign.js';

const TOKEN = 'xoxb-fake-token';
const CHANNEL = 'C0FAKE0001';
const NO_RETRIES: RetryOptions = { retries: 0 };
/** One immediate retry: p-retry's own backoff is zeroed so only Retry-After costs time. */
const ONE_FAST_RETRY: RetryOptions = { retries: 1, minTimeout: 0, maxTimeout: 0, factor: 1 };

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function section(i: number, blockId = `b${i}`): SectionBlock {
  return { type: 'section', block_id: blockId, text: { type: 'mrkdwn', text: `check ${i}` } };
}

describe('Slack request signing', () => {
  // Slack's documented worked example for verifying requests.
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = 1531420618;
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const expected = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

  it('matches the official test vector', () => {
    expect(computeSlackSignature(secret, body, timestamp)).toBe(expected);
    expect(signSlackRequest(secret, body, timestamp)).toEqual({
      'X-Slack-Signature': expected,
      'X-Slack-Request-Timestamp': '1531420618',
    });
  });

  it('form-encodes a slash command byte-for-byte like Slack', () => {
    const rebuilt = slashCommandBody({
      token: 'xyzz0WbapA4vBCDEFasx0q6G',
      team_id: 'T1DC2JH3J',
      team_domain: 'testteamnow',
      channel_id: 'G8PSS9T3V',
      channel_name: 'foobar',
      user_id: 'U2CERLKJA',
      user_name: 'roadrunner',
      command: '/webhook-collect',
      text: '',
      // The documented example predates these fields.
      api_app_id: undefined,
      is_enterprise_install: undefined,
      response_url: 'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
      trigger_id: '398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
    });
    expect(rebuilt).toBe(body);
  });

  it('encodes spaces as + and interaction payloads as one payload field', () => {
    const cmd = parseQueryString(slashCommandBody({ text: "prod api*(v2)! it's" }));
    expect(cmd.text).toBe("prod api*(v2)! it's");
    expect(slashCommandBody({ text: 'a b*' })).toContain('&text=a+b%2A&');
    const payload = { type: 'block_actions', actions: [{ action_id: 'x y' }] };
    const body = interactionBody(payload);
    expect(body.startsWith('payload=')).toBe(true);
    expect(JSON.parse(String(parseQueryString(body).payload))).toEqual(payload);
  });
});

describe('Slack Web API fake with the real WebClient', () => {
  let fake: SlackFake;

  function client(retryConfig: RetryOptions = NO_RETRIES, extra: { rejectRateLimitedCalls?: boolean } = {}) {
    return new WebClient(TOKEN, { slackApiUrl: fake.url, retryConfig, logger: silentSlackLogger, ...extra });
  }

  beforeAll(async () => {
    fake = await startSlackFake({
      tokens: [TOKEN],
      channels: [CHANNEL, { id: 'G0PRIV0001', name: 'ops-private', is_private: true }],
      usergroups: { S0ONCALL01: ['U0ALICE001', 'U0BOB00001'] },
    });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('posts, threads and updates messages, keeping current state', async () => {
    const web = client();
    const blocks: KnownBlock[] = [
      section(1),
      {
        type: 'actions',
        elements: [{ type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } }],
      },
    ];
    const first = await web.chat.postMessage({ channel: CHANNEL, text: 'running', blocks });
    const reply = await web.chat.postMessage({ channel: CHANNEL, text: 'detail', thread_ts: first.ts! });
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(reply.ts)).toBeGreaterThan(Number(first.ts));
    expect(first.channel).toBe(CHANNEL);
    expect(first.message?.text).toBe('running');

    const updated = await web.chat.update({ channel: CHANNEL, ts: first.ts!, text: 'passed' });
    expect(updated.ok).toBe(true);

    expect(fake.messages()).toMatchObject([
      { channel: CHANNEL, ts: first.ts, text: 'passed', blocks, updates: 1 },
      { channel: CHANNEL, ts: reply.ts, text: 'detail', thread_ts: first.ts, updates: 0 },
    ]);
    // Nested args arrive JSON-encoded in the form body and are recorded decoded.
    expect(fake.calls('chat.postMessage')[0]!.args.blocks).toEqual(blocks);
    expect(fake.calls('chat.postMessage')[0]!.token).toBe(TOKEN);
    expect(fake.writesCount()).toBe(3);
  });

  it('answers message_not_found for an update of an unknown message', async () => {
    await expect(client().chat.update({ channel: CHANNEL, ts: '1.000001', text: 'x' })).rejects.toMatchObject(
      {
        code: 'slack_webapi_platform_error',
        data: { ok: false, error: 'message_not_found' },
      },
    );
  });

  it('rejects 51 blocks and duplicate block_ids with invalid_blocks', async () => {
    const web = client();
    const tooMany = Array.from({ length: 51 }, (_, i) => section(i));
    await expect(
      web.chat.postMessage({ channel: CHANNEL, text: 't', blocks: tooMany }),
    ).rejects.toMatchObject({
      data: {
        error: 'invalid_blocks',
        response_metadata: { messages: [expect.stringContaining('no more than 50')] },
      },
    });
    const duplicate = [section(1, 'same'), section(2, 'same')];
    await expect(
      web.chat.postMessage({ channel: CHANNEL, text: 't', blocks: duplicate }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    expect(fake.messages()).toEqual([]);
    expect(fake.calls('chat.postMessage').map((c) => c.error)).toEqual(['invalid_blocks', 'invalid_blocks']);
  });

  const button = (text: string, extra: Record<string, unknown> = {}) => ({
    type: 'button',
    action_id: 'a',
    text: { type: 'plain_text', text },
    ...extra,
  });
  it.each([
    ['section text > 3000', [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }]],
    [
      '> 10 fields',
      [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }],
    ],
    ['field > 2000', [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }]],
    ['section without text or fields', [{ type: 'section' }]],
    ['button text > 75', [{ type: 'actions', elements: [button('b'.repeat(76))] }]],
    ['button value > 2000', [{ type: 'actions', elements: [button('ok', { value: 'v'.repeat(2001) })] }]],
    ['button without text', [{ type: 'actions', elements: [{ type: 'button', action_id: 'a' }] }]],
    ['action_id > 255', [{ type: 'actions', elements: [button('ok', { action_id: 'a'.repeat(256) })] }]],
    ['block_id > 255', [section(1, 'b'.repeat(256))]],
    ['duplicate action_id in a block', [{ type: 'actions', elements: [button('x'), button('y')] }]],
    [
      '> 25 actions elements',
      [
        {
          type: 'actions',
          elements: Array.from({ length: 26 }, (_, i) => button('x', { action_id: `a${i}` })),
        },
      ],
    ],
    ['unknown block type', [{ type: 'sectoin', text: { type: 'mrkdwn', text: 'typo' } }]],
  ])('rejects %s', (_name, blocks) => {
    expect(validateBlocks(blocks, 'message')).not.toEqual([]);
  });

  it('accepts the same action_id in different blocks and 100 blocks in a modal', () => {
    const actions = (id: string) => ({ type: 'actions', block_id: id, elements: [button('x')] });
    expect(validateBlocks([actions('one'), actions('two')])).toEqual([]);
    expect(
      validateBlocks(
        Array.from({ length: 100 }, (_, i) => section(i)),
        'modal',
      ),
    ).toEqual([]);
    expect(
      validateBlocks(
        Array.from({ length: 101 }, (_, i) => section(i)),
        'modal',
      ),
    ).not.toEqual([]);
  });

  it('answers Slack errors for text, channel and auth problems', async () => {
    const web = client();
    const error = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { data?: { error?: string } }) => e.data?.error,
      );
    expect(await error(web.chat.postMessage({ channel: CHANNEL, text: 'x'.repeat(40001) }))).toBe(
      'msg_too_long',
    );
    expect(await error(web.apiCall('chat.postMessage', { channel: CHANNEL }))).toBe('no_text');
    expect(await error(web.chat.postMessage({ channel: 'C0NOPE0001', text: 'x' }))).toBe('channel_not_found');
    expect(await error(web.chat.postMessage({ channel: '#ops-private', text: 'by name' }))).toBe('ok');
    const anonymous = new WebClient(undefined, {
      slackApiUrl: fake.url,
      retryConfig: NO_RETRIES,
      logger: silentSlackLogger,
    });
    expect(await error(anonymous.auth.test())).toBe('not_authed');
    const stranger = new WebClient('xoxb-other', {
      slackApiUrl: fake.url,
      retryConfig: NO_RETRIES,
      logger: silentSlackLogger,
    });
    expect(await error(stranger.auth.test())).toBe('invalid_auth');
    expect(await error(web.apiCall('chat.frobnicate', {}))).toBe('unknown_method');
  });

  it('implements the read and reaction methods', async () => {
    const web = client();
    expect(await web.auth.test()).toMatchObject({
      ok: true,
      user_id: FAKE_DEFAULTS.botUserId,
      team_id: FAKE_DEFAULTS.teamId,
    });
    expect((await web.users.info({ user: 'U0ALICE001' })).user).toMatchObject({
      id: 'U0ALICE001',
      deleted: false,
    });
    expect((await web.usergroups.users.list({ usergroup: 'S0ONCALL01' })).users).toEqual([
      'U0ALICE001',
      'U0BOB00001',
    ]);
    fake.setUsergroup('S0ONCALL01', ['U0CAROL001']);
    expect((await web.usergroups.users.list({ usergroup: 'S0ONCALL01' })).users).toEqual(['U0CAROL001']);
    expect((await web.conversations.info({ channel: 'G0PRIV0001' })).channel).toMatchObject({
      is_private: true,
    });

    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'hi' });
    await web.reactions.add({ channel: CHANNEL, timestamp: posted.ts!, name: 'white_check_mark' });
    await expect(
      web.reactions.add({ channel: CHANNEL, timestamp: posted.ts!, name: 'white_check_mark' }),
    ).rejects.toMatchObject({
      data: { error: 'already_reacted' },
    });
    expect(fake.message(CHANNEL, posted.ts!)?.reactions).toEqual(['white_check_mark']);
    const link = await web.chat.getPermalink({ channel: CHANNEL, message_ts: posted.ts! });
    expect(link.permalink).toContain(`/archives/${CHANNEL}/p${posted.ts!.replace('.', '')}`);

    const eph = await web.chat.postEphemeral({ channel: CHANNEL, user: 'U0ALICE001', text: 'only you' });
    expect(eph.message_ts).toBeDefined();
    expect(fake.ephemerals()).toMatchObject([
      { user: 'U0ALICE001', text: 'only you', via: 'chat.postEphemeral' },
    ]);
    expect(fake.messages()).toHaveLength(1);
  });

  it('opens and updates modals, requiring a fresh trigger_id', async () => {
    const web = client();
    const view = {
      type: 'modal' as const,
      callback_id: 'deploy_form',
      title: { type: 'plain_text' as const, text: 'Deploy check' },
      blocks: [section(1)],
    };
    await expect(web.apiCall('views.open', { view })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
    const opened = await web.views.open({ trigger_id: '1.2.abc', view });
    await expect(web.views.open({ trigger_id: '1.2.abc', view })).rejects.toMatchObject({
      data: { error: 'expired_trigger_id' },
    });
    const tooMany = { ...view, blocks: Array.from({ length: 101 }, (_, i) => section(i)) };
    await expect(web.views.open({ trigger_id: '1.2.def', view: tooMany })).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    const viewId = opened.view!.id!;
    await web.views.update({
      view_id: viewId,
      hash: opened.view!.hash!,
      view: { ...view, blocks: [section(2)] },
    });
    await expect(web.views.update({ view_id: viewId, hash: opened.view!.hash!, view })).rejects.toMatchObject(
      {
        data: { error: 'hash_conflict' },
      },
    );
    expect(fake.views()).toMatchObject([
      { id: viewId, callback_id: 'deploy_form', blocks: [section(2)], updates: 1 },
    ]);
  });

  it('accepts JSON bodies with a bearer token, as Slack does', async () => {
    const res = await fetch(`${fake.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ channel: CHANNEL, text: 'json', blocks: [section(1)] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, channel: CHANNEL });
    expect(fake.messages()).toMatchObject([{ text: 'json', blocks: [section(1)] }]);
  });

  it('retries a 429 after Retry-After and delivers exactly once', async () => {
    const web = client(ONE_FAST_RETRY);
    const rateLimited: number[] = [];
    web.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    fake.failNext(1, { status: 429, retryAfter: 1 });
    const posted = await web.chat.postMessage({ channel: CHANNEL, text: 'after 429' });
    expect(posted.ok).toBe(true);
    expect(rateLimited).toEqual([1]);
    expect(fake.failures()).toMatchObject([{ method: 'chat.postMessage', delivered: false }]);
    expect(fake.messages()).toHaveLength(1);
    expect(fake.writesCount()).toBe(1);
  });

  it('retries a 500 and delivers exactly once', async () => {
    fake.failNext(1, 500);
    await client(ONE_FAST_RETRY).chat.postMessage({ channel: CHANNEL, text: 'after 500' });
    expect(fake.failures()).toHaveLength(1);
    expect(fake.messages().map((m) => m.text)).toEqual(['after 500']);
  });

  it('fails every call during a failFor window and records no message', async () => {
    fake.failFor(60_000, { status: 429, retryAfter: 7 }, { method: 'chat.postMessage' });
    const web = client(NO_RETRIES, { rejectRateLimitedCalls: true });
    await expect(web.chat.postMessage({ channel: CHANNEL, text: 'x' })).rejects.toMatchObject({
      code: 'slack_webapi_rate_limited_error',
      retryAfter: 7,
    });
    await expect(web.chat.postMessage({ channel: CHANNEL, text: 'y' })).rejects.toMatchObject({
      retryAfter: 7,
    });
    // The filter leaves other methods alone.
    expect((await web.auth.test()).ok).toBe(true);
    fake.reset();
    fake.failFor(60_000, 500);
    await expect(client().chat.postMessage({ channel: CHANNEL, text: 'z' })).rejects.toMatchObject({
      code: 'slack_webapi_http_error',
      statusCode: 500,
    });
    expect(fake.messages()).toEqual([]);
    expect(fake.calls()).toEqual([]);
  });

  it('can simulate a lost response, which a blind retry turns into a duplicate', async () => {
    fake.failNext(1, { status: 500, delivered: true });
    await client(ONE_FAST_RETRY).chat.postMessage({ channel: CHANNEL, text: 'once?' });
    expect(fake.messages().map((m) => m.text)).toEqual(['once?', 'once?']);
  });

  it('applies response_url posts to the linked message and limits their use', async () => {
    const posted = await client().chat.postMessage({
      channel: CHANNEL,
      text: 'pending',
      blocks: [section(1)],
    });
    const url = fake.responseUrl({ channel: CHANNEL, ts: posted.ts! });
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ replace_original: true, text: 'approved' })).status).toBe(200);
    expect(fake.message(CHANNEL, posted.ts!)).toMatchObject({ text: 'approved', updates: 1 });
    expect(fake.message(CHANNEL, posted.ts!)?.blocks).toBeUndefined();
    expect((await post({ text: 'just for you' })).status).toBe(200);
    expect((await post({ blocks: [section(1), section(2, 'b1')] })).status).toBe(400);
    await post({ response_type: 'in_channel', text: 'for all' });
    await post({ delete_original: true });
    expect((await post({ text: 'sixth' })).status).toBe(404);
    expect(fake.messages().map((m) => m.text)).toEqual(['for all']);
    expect(fake.ephemerals()).toMatchObject([{ text: 'just for you', via: 'response_url' }]);
    expect(fake.responses().map((r) => r.status)).toEqual([200, 200, 400, 200, 200, 404]);
  });
});

describe('Bolt App over HTTPReceiver with signed requests', () => {
  const signingSecret = 'test-signing-secret-0123456789ab';
  let fake: SlackFake;
  let app: App;
  let endpoint: string;
  let commands: SlashCommand[] = [];
  let commandDone = deferred<void>();
  let actionDone = deferred<void>();
  let viewDone = deferred<Record<string, unknown>>();

  beforeAll(async () => {
    fake = await startSlackFake({ tokens: [TOKEN] });
    app = new App({
      token: TOKEN,
      signingSecret,
      logger: silentSlackLogger,
      clientOptions: { slackApiUrl: fake.url, retryConfig: NO_RETRIES },
    });
    app.command('/deploy-check', async ({ command, ack, client }) => {
      commands.push(command);
      await ack({ response_type: 'ephemeral', text: `Checking ${command.text}` });
      await client.chat.postMessage({ channel: command.channel_id, text: `Checklist for ${command.text}` });
      commandDone.resolve();
    });
    app.action('approve', async ({ ack, respond }) => {
      await ack();
      await respond({ replace_original: true, text: 'Approved' });
      actionDone.resolve();
    });
    app.view('deploy_form', async ({ ack, view }) => {
      await ack();
      viewDone.resolve(view.state.values);
    });
    const server = await app.start(0);
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterEach(() => {
    commands = [];
    commandDone = deferred<void>();
    actionDone = deferred<void>();
    viewDone = deferred<Record<string, unknown>>();
  });
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  it('acks a signed slash command and calls the Web API through the fake', async () => {
    const res = await sendSigned(endpoint, slashCommandBody({ text: 'prod api', channel_id: CHANNEL }), {
      secret: signingSecret,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: 'Checking prod api' });
    await commandDone.promise;
    expect(commands[0]).toMatchObject({
      command: '/deploy-check',
      text: 'prod api',
      api_app_id: FAKE_DEFAULTS.appId,
    });
    expect(fake.calls('auth.test').length).toBeGreaterThan(0);
    expect(fake.messages()).toMatchObject([{ channel: CHANNEL, text: 'Checklist for prod api' }]);
  });

  it('rejects a forged signature with 401', async () => {
    const body = slashCommandBody({ text: 'forged' });
    const wrongSecret = await sendSigned(endpoint, body, { secret: 'not-the-secret' });
    const tampered = await sendSigned(endpoint, body, {
      secret: signingSecret,
      signature: computeSlackSignature(signingSecret, `${body}&extra=1`, nowSeconds()),
    });
    expect([wrongSecret.status, tampered.status]).toEqual([401, 401]);
    expect(commands).toEqual([]);
  });

  it('rejects a correctly signed but stale request with 401', async () => {
    const res = await sendSigned(endpoint, slashCommandBody({ text: 'replayed' }), {
      secret: signingSecret,
      timestamp: nowSeconds() - 6 * 60,
    });
    expect(res.status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('delivers a button click whose respond() replaces the message in the fake', async () => {
    const blocks: KnownBlock[] = [
      {
        type: 'actions',
        block_id: 'decision',
        elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' } }],
      },
    ];
    const posted = await new WebClient(TOKEN, {
      slackApiUrl: fake.url,
      retryConfig: NO_RETRIES,
      logger: silentSlackLogger,
    }).chat.postMessage({
      channel: CHANNEL,
      text: 'Approve deploy?',
      blocks,
    });
    const message = fake.message(CHANNEL, posted.ts!)!;
    const payload = blockActionsPayload({
      action: { action_id: 'approve', value: 'yes' },
      message,
      response_url: fake.responseUrl({ channel: CHANNEL, ts: posted.ts! }),
    });
    expect(payload).toMatchObject({
      actions: [{ block_id: 'decision' }],
      container: { message_ts: posted.ts },
    });
    const res = await sendSigned(endpoint, interactionBody(payload), { secret: signingSecret });
    expect(res.status).toBe(200);
    await actionDone.promise;
    expect(fake.message(CHANNEL, posted.ts!)).toMatchObject({ text: 'Approved', updates: 1 });
  });

  it('delivers a view submission with its state values', async () => {
    const payload = viewSubmissionPayload({
      callback_id: 'deploy_form',
      values: { env: { env_input: 'prod' } },
    });
    const res = await sendSigned(endpoint, interactionBody(payload), { secret: signingSecret });
    expect(res.status).toBe(200);
    expect(await viewDone.promise).toEqual({
      env: { env_input: { type: 'plain_text_input', value: 'prod' } },
    });
  });
});

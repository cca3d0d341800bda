/**
 * Socket Mode end to end: the real bot process (src/bot.ts, SLACK_SOCKET_MODE=true) gets its
 * WebSocket URL from `apps.connections.open` on the fake (through SLACK_API_URL, with the app
 * token), connects to the fake's WebSocket, and receives requests as envelopes the way Slack sends
 * them; BullMQ on real Redis and the MongoDB-compatible store as in the other e2e suites.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../../jobs/contracts.js';
import { createQueues, type Queues, workerConnection } from '../../jobs/queues.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createBotApp } from '../../src/slack/app.js';
import { ACTIONS } from '../../src/slack/render/actions.js';
import { BOT_TOKEN, CHANNEL, type Harness, startHarness, TEAM, waitFor } from '../helpers/harness.js';
import { redisUrl, skipUnless } from '../helpers/services.js';
import { type SlackFake, startSlackFake } from '../helpers/slack-fake.js';
import { blockActionsPayload, newTriggerId } from '../helpers/slack-sign.js';
import {
  APP_TOKEN,
  type SocketModeFake,
  slashCommandPayload,
  startSocketModeFake,
} from '../helpers/socket-mode-fake.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/e2e-checklists');
const USER = 'U0SOCKET1';

describe('Socket Mode wiring (no services needed)', () => {
  let socket: SocketModeFake;
  let slack: SlackFake;

  beforeAll(async () => {
    socket = await startSocketModeFake({ tokens: [BOT_TOKEN] });
    slack = await startSlackFake({ tokens: [BOT_TOKEN] });
  });

  afterAll(async () => {
    await socket?.close();
    await slack?.close();
  });

  const connectionsOpen = (token: string) =>
    fetch(`${socket.url}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    }).then((r) => r.json() as Promise<{ ok: boolean; url?: string; error?: string }>);

  it('the fake answers apps.connections.open only for the app token, with a one-time WebSocket URL that says hello', async () => {
    expect(await connectionsOpen(BOT_TOKEN)).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(await connectionsOpen('xapp-1-A0OTHER-1-nope')).toEqual({ ok: false, error: 'invalid_auth' });
    const opened = await connectionsOpen(APP_TOKEN);
    expect(opened.ok).toBe(true);
    expect(opened.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);

    const ws = new WebSocket(opened.url!);
    const hello = await new Promise<{ type?: string }>((resolve, reject) => {
      ws.addEventListener('message', (e) => resolve(JSON.parse(String(e.data))), { once: true });
      ws.addEventListener('error', () => reject(new Error('WebSocket error')), { once: true });
    });
    expect(hello.type).toBe('hello');
    await socket.waitForConnection(1);
    const ack = socket.deliver({ type: 'slash_commands', payload: {}, envelope_id: 'env-1' });
    ws.addEventListener('message', (e) => {
      const { envelope_id } = JSON.parse(String(e.data)) as { envelope_id: string };
      ws.send(JSON.stringify({ envelope_id, payload: { text: 'seen' } }));
    });
    expect(await ack).toEqual({ envelope_id: 'env-1', payload: { text: 'seen' } });
    ws.close();

    // The URL is single-use: a second connection with it is refused.
    const again = new WebSocket(opened.url!);
    await new Promise<void>((resolve) => again.addEventListener('error', () => resolve(), { once: true }));
    expect(socket.connections()).toBe(1);
    expect(socket.calls('apps.connections.open').map((c) => c.error ?? 'ok')).toEqual([
      'not_allowed_token_type',
      'invalid_auth',
      'ok',
    ]);
  });

  it('createBotApp hands SLACK_API_URL to the socket-mode client without its retry policy leaking into listener clients', () => {
    const config = loadConfig({
      SLACK_SIGNING_SECRET: 'socket-signing-secret',
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_SOCKET_MODE: 'true',
      SLACK_API_URL: slack.url,
      REDIS_URL: 'redis://127.0.0.1:9',
      MONGODB_URI: 'mongodb://127.0.0.1:9/unused',
      LOG_LEVEL: 'silent',
    });
    const log = createLogger({ level: 'silent', name: 'socket-mode-test', secrets: [] });
    // Listeners are only registered here, never called, so the other dependencies stay unused.
    const { app } = createBotApp({ config, log } as never, { routes: [] });
    // The socket-mode client sets retryConfig (100 retries) on the options object it is given; Bolt
    // copies its own options into every listener's WebClient, so they must be separate objects.
    expect(app.webClientOptions.slackApiUrl).toBe(slack.url);
    expect(app.webClientOptions.retryConfig).toBeUndefined();
  });
});

const skip = skipUnless('redis') || skipUnless('mongodb');

describe.skipIf(skip)('Socket Mode end to end: bot process over the WebSocket fake, BullMQ on Redis', () => {
  let h: Harness;
  let socket: SocketModeFake;
  let queues: Queues;
  let events: QueueEvents;
  let eventsConnection: Redis;
  /** `added:<jobId>` / `duplicated:<jobId>` as the runs queue reported them. */
  const seen = new Set<string>();
  const notify = new EventEmitter();

  beforeAll(async () => {
    h = await startHarness({
      checklistsDir: fixtures,
      workers: 0,
      env: { SLACK_SOCKET_MODE: 'true', SLACK_APP_TOKEN: APP_TOKEN },
      startSlack: async (options) => {
        socket = await startSocketModeFake(options);
        return socket;
      },
    });
    queues = createQueues(redisUrl()!, h.env.QUEUE_PREFIX!);
    // From the start of the (per-suite) stream, so no event can slip past between subscribe and read.
    eventsConnection = workerConnection(redisUrl()!);
    events = new QueueEvents(runJob.name, {
      connection: eventsConnection,
      prefix: h.env.QUEUE_PREFIX!,
      lastEventId: '0-0',
    });
    for (const event of ['added', 'duplicated'] as const)
      events.on(event, ({ jobId }: { jobId: string }) => {
        seen.add(`${event}:${jobId}`);
        notify.emit(`${event}:${jobId}`);
      });
    await events.waitUntilReady();
  }, 60_000);

  afterAll(async () => {
    await events?.close();
    eventsConnection?.disconnect();
    await queues?.close();
    await h?.close();
  });

  /** A `/deploy-check` envelope as Slack sends it over the socket. */
  const command = (text: string, triggerId = newTriggerId()) => ({
    type: 'slash_commands' as const,
    accepts_response_payload: true,
    payload: slashCommandPayload({
      team_id: TEAM,
      channel_id: CHANNEL,
      user_id: USER,
      command: '/deploy-check',
      text,
      trigger_id: triggerId,
      response_url: h.slack.responseUrl({ user: USER }),
    }),
  });
  const textOf = (payload: unknown) => JSON.stringify(payload ?? '');
  /** Resolves when the runs queue has reported `event` for `jobId` (seen from the start of the suite). */
  const queueEvent = (event: 'added' | 'duplicated', jobId: string, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const key = `${event}:${jobId}`;
      if (seen.has(key)) return resolve();
      const timer = setTimeout(() => {
        notify.off(key, done);
        reject(new Error(`no "${event}" event for job ${jobId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      notify.once(key, done);
    });

  it('connects through apps.connections.open on SLACK_API_URL with the app token', () => {
    // The bot reports ready only after app.start(), i.e. after the fake's hello.
    expect(socket.connections()).toBe(1);
    const opens = h.slack.calls('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ token: APP_TOKEN, ok: true });
  });

  it('acks `/deploy-check help` with the help text as the ack payload', async () => {
    const ack = await socket.deliver(command('help'));
    expect(ack.payload).toMatchObject({ response_type: 'ephemeral' });
    expect(textOf(ack.payload)).toContain('deploy-check help');
    expect(textOf(ack.payload)).toContain('/deploy-check run');
    expect(textOf(ack.payload)).toContain('e2e');
    // The reply travels in the ack; nothing was posted through the Web API or response_url.
    expect(h.slack.responses()).toHaveLength(0);
    expect(h.slack.writesCount()).toBe(0);
  });

  it('`/deploy-check run` enqueues one job and acks "Queued run"; redelivering the same payload adds none', async () => {
    const envelope = command(`run e2e baseUrl=http://127.0.0.1:9`, '424242.1.socketmode');
    const first = await socket.deliver(envelope);
    expect(textOf(first.payload)).toContain('Queued run');
    const runId = /`(r-[a-z0-9]+)`/.exec(textOf(first.payload))?.[1];
    expect(runId).toBeDefined();
    // The ack goes out before the enqueue, so wait for the queue to report the job.
    await queueEvent('added', runId!);

    const second = await socket.deliver(envelope);
    expect(second.envelope_id).not.toBe(first.envelope_id);
    expect(textOf(second.payload)).toContain(`Queued run \`${runId}\``);
    await queueEvent('duplicated', runId!);
    const jobs = await queues.runs.getJobs([
      'waiting',
      'active',
      'completed',
      'failed',
      'delayed',
      'prioritized',
    ]);
    expect(jobs.map((j) => j.id)).toEqual([runId]);
  });

  it('a button click arrives as an `interactive` envelope, is acked empty and answered through response_url', async () => {
    const responseUrl = h.slack.responseUrl({ channel: CHANNEL, user: USER });
    const id = responseUrl.split('/').pop()!;
    const ack = await socket.deliver({
      type: 'interactive',
      accepts_response_payload: false,
      payload: blockActionsPayload({
        action: { action_id: ACTIONS.tick, value: 'not-a-run-value' },
        message: { ts: '1700000000.000100', channel: CHANNEL },
        user: { id: USER },
        team: { id: TEAM, domain: 'e2e' },
        response_url: responseUrl,
      }),
    });
    expect(ack.payload ?? {}).toEqual({});
    const reply = await waitFor('the reply on response_url', () => h.slack.responses(id)[0], 10_000);
    expect(textOf(reply.body)).toContain('out of date');
  });

  it('reconnects after a server `disconnect` (refresh_requested) and still handles commands', async () => {
    const opensBefore = h.slack.calls('apps.connections.open').length;
    const connectionsBefore = socket.connections();
    await socket.disconnect('refresh_requested');
    // @slack/socket-mode waits clientPingTimeout (5 s) before it reconnects.
    await socket.waitForConnection(connectionsBefore + 1, 20_000);
    expect(h.slack.calls('apps.connections.open')).toHaveLength(opensBefore + 1);
    const ack = await socket.deliver(command('help'));
    expect(textOf(ack.payload)).toContain('deploy-check help');
  });
});

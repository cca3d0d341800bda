/**
 * The offline end-to-end harness: the real bot and worker entry points as separate processes,
 * real BullMQ on real Redis, the MongoDB-compatible test server, and the Slack Web API fake that
 * both processes call. Requests reach the bot signed exactly as Slack signs them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mongoUri, redisUrl, uniqueName } from './services.js';
import { type SlackFake, type SlackFakeOptions, startSlackFake } from './slack-fake.js';
import {
  blockActionsPayload,
  interactionBody,
  newTriggerId,
  sendSigned,
  slashCommandBody,
  viewSubmissionPayload,
} from './slack-sign.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SIGNING_SECRET = 'e2e-signing-secret-0123456789abcdef';
export const BOT_TOKEN = 'xoxb-e2e-test-token';
export const CHANNEL = 'C0DEPLOYS';
export const TEAM = 'T0E2ETEAM';

export interface Proc {
  child: ChildProcess;
  port?: number;
  output: string[];
}

export interface HarnessOptions {
  env?: Record<string, string>;
  usergroups?: Record<string, string[]>;
  workers?: number;
  checklistsDir?: string;
  /** Starts the Slack fake from the harness's options; default `startSlackFake` (e.g. the Socket Mode fake instead). */
  startSlack?: (options: SlackFakeOptions) => Promise<SlackFake>;
}

export interface Harness {
  slack: SlackFake;
  bot: Proc;
  workers: Proc[];
  env: Record<string, string>;
  botUrl: string;
  slash(
    user: string,
    text: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; text: string; json?: unknown }>;
  click(
    user: string,
    actionId: string,
    message: { channel: string; ts: string; blocks?: unknown },
    extra?: { value?: string },
  ): Promise<{ status: number }>;
  submit(
    user: string,
    callbackId: string,
    privateMetadata: string,
    values: Record<string, Record<string, string>>,
  ): Promise<{ status: number }>;
  startWorker(): Promise<Proc>;
  kill(p: Proc, signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

function startProcess(entry: string, env: Record<string, string>): Promise<Proc> {
  const output: string[] = [];
  const child = fork(path.join(root, entry), [], {
    cwd: root,
    env: { ...process.env, ...env },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} did not start within 30 s:\n${output.join('')}`)),
      30_000,
    );
    child.once('message', (m: { ready?: boolean; port?: number }) => {
      clearTimeout(timer);
      resolve({ child, output, ...(m.port ? { port: m.port } : {}) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${output.join('')}`));
    });
  });
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const slack = await (opts.startSlack ?? startSlackFake)({
    tokens: [BOT_TOKEN],
    ...(opts.usergroups ? { usergroups: opts.usergroups } : {}),
    team: { id: TEAM, domain: 'e2e' },
  });
  const env: Record<string, string> = {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: slack.url,
    SLACK_RETRIES: '3',
    REDIS_URL: redisUrl()!,
    MONGODB_URI: mongoUri()!,
    MONGODB_DB: uniqueName('e2e').replace(/[^a-zA-Z0-9_-]/g, '_'),
    QUEUE_PREFIX: uniqueName('dc'),
    CHECKLISTS_DIR: opts.checklistsDir ?? path.join(root, 'checklists'),
    PORT: '0',
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...opts.env,
  };
  const bot = await startProcess('src/bot.ts', env);
  const workers: Proc[] = [];
  for (let i = 0; i < (opts.workers ?? 1); i++) workers.push(await startProcess('jobs/worker.ts', env));
  const botUrl = `http://127.0.0.1:${bot.port}/slack/events`;
  const harness: Harness = {
    slack,
    bot,
    workers,
    env,
    botUrl,
    slash: (user, text, extra = {}) =>
      sendSigned(
        botUrl,
        slashCommandBody({
          team_id: TEAM,
          channel_id: CHANNEL,
          user_id: user,
          command: '/deploy-check',
          text,
          trigger_id: newTriggerId(),
          response_url: slack.responseUrl({ user }),
          ...extra,
        }),
        { secret: SIGNING_SECRET },
      ),
    click: (user, actionId, message, extra = {}) => {
      const blocks = (message.blocks ?? []) as Array<{
        block_id?: string;
        elements?: Array<{ action_id?: string; value?: string; type?: string; text?: { text?: string } }>;
        accessory?: { action_id?: string; value?: string };
      }>;
      const found = findButton(blocks, actionId, extra.value);
      if (!found)
        throw new Error(
          `no button ${actionId}${extra.value ? ` with value ${extra.value}` : ''} in the message`,
        );
      const payload = blockActionsPayload({
        action: {
          action_id: actionId,
          value: found.value,
          block_id: found.blockId,
          text: found.text,
        } as never,
        message: { ...message, channel: message.channel } as never,
        user: { id: user } as never,
        team: { id: TEAM } as never,
        channel: { id: message.channel } as never,
        response_url: slack.responseUrl({ channel: message.channel, user }),
      } as never);
      return sendSigned(botUrl, interactionBody(payload), { secret: SIGNING_SECRET });
    },
    submit: (user, callbackId, privateMetadata, values) =>
      sendSigned(
        botUrl,
        interactionBody(
          viewSubmissionPayload({
            callback_id: callbackId,
            private_metadata: privateMetadata,
            values,
            user: { id: user } as never,
            team: { id: TEAM } as never,
          } as never),
        ),
        { secret: SIGNING_SECRET },
      ),
    async startWorker() {
      const w = await startProcess('jobs/worker.ts', env);
      workers.push(w);
      return w;
    },
    async kill(p, signal = 'SIGKILL') {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        p.child.once('exit', () => resolve());
        p.child.kill(signal);
      });
    },
    async close() {
      await Promise.all([bot, ...workers].map((p) => harness.kill(p, 'SIGTERM')));
      await slack.close();
    },
  };
  return harness;
}

function findButton(
  blocks: Array<{
    block_id?: string;
    elements?: Array<{ action_id?: string; value?: string; text?: { text?: string } }>;
    accessory?: { action_id?: string; value?: string; text?: { text?: string } };
  }>,
  actionId: string,
  value?: string,
): { blockId: string; value: string; text: string } | undefined {
  for (const b of blocks) {
    for (const el of [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])]) {
      if (el.action_id === actionId && (value === undefined || el.value === value))
        return { blockId: b.block_id ?? '', value: el.value ?? '', text: el.text?.text ?? '' };
    }
  }
  return undefined;
}

/** Polls a condition until it holds (not a sleep: it returns as soon as the state is reached). */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

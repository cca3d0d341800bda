/**
 * Drift test between manifest.yml (what Slack will send) and the Bolt app (what the bot handles).
 *
 * Two views of the same app, built by the real `createBotApp`:
 *  - its registrations, captured from Bolt's public API (`app.command`, `app.action`, …) while
 *    `createBotApp` runs: every declared command is registered and nothing undeclared is;
 *    every action id and modal callback id of the render contract has a handler and vice versa;
 *  - its HTTP surface, started on port 0 with the Slack Web API fake behind it: a correctly signed
 *    request for each declared command and each interaction id, sent to the path of the URL the
 *    manifest declares, is acknowledged (Bolt answers 404 after ~3 s when no listener acks).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App } from '@slack/bolt';
import type { Installation, InstallationStore } from '@slack/oauth';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { BotDeps } from '../../commands/deps.js';
import { loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/http/metrics.js';
import { opsRoutes } from '../../src/http/routes.js';
import { type BotApp, createBotApp, SCOPES } from '../../src/slack/app.js';
import { parseCommandText } from '../../src/slack/command-text.js';
import { encodeValue } from '../../src/slack/render/actions.js';
import { renderHelp } from '../../src/slack/render/run.js';
import { type SlackFake, startSlackFake } from '../helpers/slack-fake.js';
import {
  blockActionsPayload,
  interactionBody,
  newTriggerId,
  sendSigned,
  slashCommandBody,
  viewSubmissionPayload,
} from '../helpers/slack-sign.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECRET = 'manifest-test-signing-secret-0123456789';
const TOKEN = 'xoxb-manifest-test';
/** Bolt's HTTPReceiver: the default endpoint, and the OAuth paths its installer answers on. */
const EVENTS_PATH = '/slack/events';
const INSTALL_PATH = '/slack/install';
const REDIRECT_PATH = '/slack/oauth_redirect';

// Limits from Slack's manifest reference (as typed in @slack/web-api's `Manifest`).
const httpsUrl = z.url({ protocol: /^https$/ });
const manifestSchema = z.object({
  _metadata: z.object({ major_version: z.number().int(), minor_version: z.number().int() }).optional(),
  display_information: z.object({
    name: z.string().min(1).max(35),
    description: z.string().max(140).optional(),
    long_description: z.string().min(175).max(4000).optional(),
    background_color: z
      .string()
      .regex(/^#([0-9a-f]{3}|[0-9a-f]{6})$/i)
      .optional(),
  }),
  features: z.object({
    bot_user: z.object({
      display_name: z
        .string()
        .max(80)
        .regex(/^[a-z0-9._-]+$/),
      always_online: z.boolean().optional(),
    }),
    slash_commands: z
      .array(
        z.object({
          command: z
            .string()
            .max(32)
            .regex(/^\/[a-z0-9_-]+$/),
          url: httpsUrl,
          description: z.string().min(1).max(2000),
          usage_hint: z.string().max(1000).optional(),
          should_escape: z.boolean().optional(),
        }),
      )
      .min(1)
      .max(50),
    shortcuts: z.array(z.object({ callback_id: z.string() })).optional(),
  }),
  oauth_config: z.object({
    redirect_urls: z.array(httpsUrl).min(1),
    scopes: z.object({ bot: z.array(z.string()).min(1), user: z.array(z.string()).optional() }),
  }),
  settings: z.object({
    interactivity: z.object({
      is_enabled: z.boolean(),
      request_url: httpsUrl,
      message_menu_options_url: httpsUrl.optional(),
    }),
    event_subscriptions: z.object({ bot_events: z.array(z.string()).optional() }).optional(),
    org_deploy_enabled: z.boolean(),
    socket_mode_enabled: z.boolean(),
    token_rotation_enabled: z.boolean(),
  }),
});
type Manifest = z.infer<typeof manifestSchema>;

function readManifest(): Manifest {
  return manifestSchema.parse(parseYaml(readFileSync(path.join(root, 'manifest.yml'), 'utf8')));
}

// ---------------------------------------------------------------------------------------------
// Building the real app with dependencies that are never reached before an ack
// ---------------------------------------------------------------------------------------------

/** Any use of it throws: listeners must ack before they touch the store, queues or groups. */
function offline(what: string): never {
  const fail = () => {
    throw new Error(`${what} is not available in the manifest test`);
  };
  const proxy: unknown = new Proxy(fail, { get: () => proxy, apply: fail, construct: fail });
  return proxy as never;
}

function depsFor(env: Record<string, string>): BotDeps {
  return {
    config: loadConfig(env),
    store: offline('the run store'),
    queues: offline('the queues'),
    groups: offline('the group resolver'),
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    checklistsDir: path.join(root, 'checklists'),
    now: () => new Date(),
  };
}

const baseEnv = (slack: SlackFake): Record<string, string> => ({
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_API_URL: slack.url,
  SLACK_RETRIES: '0',
  REDIS_URL: 'redis://127.0.0.1:1',
  MONGODB_URI: 'mongodb://127.0.0.1:1',
  LOG_LEVEL: 'silent',
});

const KINDS = ['command', 'action', 'view', 'shortcut', 'options', 'event', 'message', 'function'] as const;
type Kind = (typeof KINDS)[number];
type Registrations = Record<Kind, string[]>;

/** What one registration matches on, as written: a literal id, or a description of a pattern. */
function matcherOf(kind: Kind, arg: unknown): string {
  if (typeof arg === 'string') return arg;
  if (arg instanceof RegExp) return `pattern ${String(arg)}`;
  if (arg && typeof arg === 'object') {
    const c = arg as Record<string, unknown>;
    const id = kind === 'action' ? c.action_id : c.callback_id;
    if (typeof id === 'string') return id;
    return `constraints ${JSON.stringify(c, (_k, v: unknown) => (v instanceof RegExp ? String(v) : v))}`;
  }
  return `(${kind} listener without a matcher)`;
}

/** Runs `build` while recording every listener registered through Bolt's public API. */
function captureRegistrations<T>(build: () => T): { result: T; registered: Registrations } {
  const registered = Object.fromEntries(KINDS.map((k) => [k, [] as string[]])) as Registrations;
  const proto = App.prototype as unknown as Record<Kind, (...args: unknown[]) => unknown>;
  const spies = KINDS.map((kind) => {
    const original = proto[kind];
    return vi.spyOn(proto, kind).mockImplementation(function (this: App, ...args: unknown[]) {
      registered[kind].push(matcherOf(kind, args[0]));
      return original.apply(this, args);
    });
  });
  try {
    return { result: build(), registered };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

async function listen(bot: BotApp): Promise<{ origin: string; stop: () => Promise<void> }> {
  const server = (await bot.app.start(0)) as Server;
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await bot.app.stop();
    },
  };
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

/**
 * The render contract: every action id and modal callback id the renderers put into messages and
 * modals, i.e. the string values of each `…ACTIONS` / `…VIEWS` map exported by src/slack/render/*
 * (ACTIONS and VIEWS in actions.ts, ROLLBACK_ACTIONS and ROLLBACK_VIEWS in rollback.ts, …).
 */
async function renderContract(): Promise<{ actions: string[]; views: string[] }> {
  const dir = path.join(root, 'src', 'slack', 'render');
  const actions = new Set<string>();
  const views = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      const into = /(^|_)ACTIONS$/.test(name) ? actions : /(^|_)VIEWS$/.test(name) ? views : undefined;
      if (!into || !value || typeof value !== 'object') continue;
      for (const id of Object.values(value)) if (typeof id === 'string') into.add(id);
    }
  }
  return { actions: sorted(actions), views: sorted(views) };
}
const pathOf = (url: string) => new URL(url).pathname;

// ---------------------------------------------------------------------------------------------

describe('manifest.yml', () => {
  const manifest = readManifest();
  const commands = manifest.features.slash_commands;

  it('declares every request URL on the path Bolt’s HTTPReceiver serves', () => {
    for (const c of commands) expect(pathOf(c.url), c.command).toBe(EVENTS_PATH);
    expect(pathOf(manifest.settings.interactivity.request_url)).toBe(EVENTS_PATH);
    for (const u of manifest.oauth_config.redirect_urls) expect(pathOf(u)).toBe(REDIRECT_PATH);
    // One public host for the whole app.
    const hosts = new Set(
      [
        ...commands.map((c) => c.url),
        manifest.settings.interactivity.request_url,
        ...manifest.oauth_config.redirect_urls,
      ].map((u) => new URL(u).host),
    );
    expect(hosts.size).toBe(1);
  });

  it('asks for exactly the bot scopes the code requests (src/slack/app.ts SCOPES)', () => {
    const bot = manifest.oauth_config.scopes.bot;
    expect(new Set(bot).size, 'a scope is listed twice').toBe(bot.length);
    expect(sorted(bot)).toEqual(sorted(SCOPES));
    expect(manifest.oauth_config.scopes.user ?? []).toEqual([]);
  });

  it('hints at exactly the subcommands the bot’s help lists, each one the parser knows', () => {
    const [command] = commands;
    const hinted = (command!.usage_hint ?? '').split('|').map((part) => part.trim().split(/\s+/)[0]!);
    for (const sub of hinted)
      expect(parseCommandText(sub), sub).not.toEqual({ ok: false, error: `unknown subcommand "${sub}"` });
    const help = JSON.stringify(renderHelp([]));
    const listed = [...help.matchAll(new RegExp(`${command!.command} ([a-z]+)`, 'g'))].map((m) => m[1]!);
    expect(sorted(new Set(hinted))).toEqual(sorted(new Set(listed)));
  });

  it('runs over HTTP, one organisation-agnostic install, without token rotation', () => {
    expect(manifest.settings).toMatchObject({
      socket_mode_enabled: false,
      org_deploy_enabled: false,
      token_rotation_enabled: false,
    });
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    for (const c of commands) expect(c.usage_hint, c.command).toBeTruthy();
  });
});

describe('manifest.yml against the Bolt app (token mode)', () => {
  const manifest = readManifest();
  let slack: SlackFake;
  let registered: Registrations;
  let answered: BotApp['interactions'];
  let server: { origin: string; stop: () => Promise<void> };
  let contract: { actions: string[]; views: string[] };

  beforeAll(async () => {
    contract = await renderContract();
    slack = await startSlackFake({ tokens: [TOKEN] });
    const deps = depsFor({ ...baseEnv(slack), SLACK_BOT_TOKEN: TOKEN });
    const built = captureRegistrations(() =>
      createBotApp(deps, { routes: opsRoutes({}, deps.metrics.registry) }),
    );
    registered = built.registered;
    answered = built.result.interactions;
    server = await listen(built.result);
  });

  afterAll(async () => {
    await server?.stop();
    await slack?.close();
  });

  it('registers exactly the slash commands the manifest declares', () => {
    expect(sorted(registered.command)).toEqual(
      sorted(manifest.features.slash_commands.map((c) => c.command)),
    );
  });

  it('has a handler for every action id and modal of the render contract, and no others', () => {
    expect(contract.actions).toContain('dc_approve');
    expect(sorted(answered.actions)).toEqual(contract.actions);
    expect(sorted(answered.views)).toEqual(contract.views);
    // All of them reach Bolt as one action listener and one view listener (src/slack/interactions.ts).
    expect([registered.action.length, registered.view.length]).toEqual([1, 1]);
    // Interactivity must be on exactly when something interactive is handled.
    expect(manifest.settings.interactivity.is_enabled).toBe(
      answered.actions.length + answered.views.length > 0,
    );
  });

  it('registers nothing the manifest does not route to it (shortcuts, options, events, messages)', () => {
    expect(registered.shortcut).toEqual(manifest.features.shortcuts?.map((s) => s.callback_id) ?? []);
    if (!manifest.settings.interactivity.message_menu_options_url) expect(registered.options).toEqual([]);
    if (!manifest.settings.event_subscriptions) {
      expect(registered.event).toEqual([]);
      expect(registered.message).toEqual([]);
    }
    expect(registered.function).toEqual([]);
  });

  it('acknowledges each declared slash command on the declared URL’s path', async () => {
    for (const c of manifest.features.slash_commands) {
      const res = await sendSigned(
        `${server.origin}${pathOf(c.url)}`,
        slashCommandBody({ command: c.command, text: 'help', response_url: slack.responseUrl() }),
        { secret: SECRET },
      );
      expect(res.status, `${c.command}: ${res.text}`).toBe(200);
      expect(res.json, c.command).toMatchObject({ response_type: 'ephemeral' });
    }
  });

  it('acknowledges a click on every action id of the render contract', async () => {
    const url = `${server.origin}${pathOf(manifest.settings.interactivity.request_url)}`;
    const ids = contract.actions;
    const statuses = await Promise.all(
      ids.map(async (actionId) => {
        const payload = blockActionsPayload({
          action: { action_id: actionId, value: encodeValue(['r-manifest1', 'smoke/ping']) },
          message: { ts: '1700000000.000100' },
          trigger_id: newTriggerId(),
          response_url: slack.responseUrl(),
        });
        return [actionId, (await sendSigned(url, interactionBody(payload), { secret: SECRET })).status];
      }),
    );
    // 404 = no listener acknowledged it within Bolt's ~3 s.
    expect(Object.fromEntries(statuses)).toEqual(Object.fromEntries(ids.map((id) => [id, 200])));
  });

  it('acknowledges a submission of every modal of the render contract', async () => {
    const url = `${server.origin}${pathOf(manifest.settings.interactivity.request_url)}`;
    const ids = contract.views;
    const statuses = await Promise.all(
      ids.map(async (callbackId) => {
        const payload = viewSubmissionPayload({
          callback_id: callbackId,
          private_metadata: encodeValue(['r-manifest1', 'release']),
          values: {},
        });
        return [callbackId, (await sendSigned(url, interactionBody(payload), { secret: SECRET })).status];
      }),
    );
    expect(Object.fromEntries(statuses)).toEqual(Object.fromEntries(ids.map((id) => [id, 200])));
  });

  it('does not acknowledge a command or an action id it does not handle (the control for the checks above)', async () => {
    const url = `${server.origin}${EVENTS_PATH}`;
    const click = (actionId: string) =>
      interactionBody(
        blockActionsPayload({
          action: { action_id: actionId, value: encodeValue(['r-manifest1', 'smoke/ping']) },
          message: { ts: '1700000000.000100' },
          response_url: slack.responseUrl(),
        }),
      );
    const statuses = await Promise.all(
      [
        slashCommandBody({ command: '/not-in-the-manifest', text: 'help' }),
        click('dc_approveX'),
        click('dc_approv'),
        click('xdc_approve'),
      ].map(async (body) => (await sendSigned(url, body, { secret: SECRET })).status),
    );
    expect(statuses).toEqual([404, 404, 404, 404]);
  });

  it('serves the operations routes on the same port (the Dockerfile and compose healthchecks)', async () => {
    const res = await fetch(`${server.origin}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('manifest.yml against the Bolt app (OAuth mode)', () => {
  const manifest = readManifest();
  let slack: SlackFake;
  let server: { origin: string; stop: () => Promise<void> };

  beforeAll(async () => {
    slack = await startSlackFake({ tokens: [TOKEN] });
    const installations = new Map<string, Installation>();
    const installationStore: InstallationStore = {
      async storeInstallation(i) {
        installations.set(i.team?.id ?? i.enterprise?.id ?? '', i as Installation);
      },
      async fetchInstallation(q) {
        const found = installations.get(q.teamId ?? q.enterpriseId ?? '');
        if (!found) throw new Error('no installation');
        return found;
      },
    };
    const deps = depsFor({
      ...baseEnv(slack),
      SLACK_CLIENT_ID: '1234.5678',
      SLACK_CLIENT_SECRET: 'client-secret-for-the-test',
      SLACK_STATE_SECRET: 'state-secret-for-the-test',
    });
    server = await listen(
      createBotApp(deps, { routes: opsRoutes({}, deps.metrics.registry), installationStore }),
    );
  });

  afterAll(async () => {
    await server?.stop();
    await slack?.close();
  });

  it('sends installers to Slack asking for the manifest’s scopes', async () => {
    const res = await fetch(`${server.origin}${INSTALL_PATH}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const authorize = new URL(res.headers.get('location') ?? '');
    expect(sorted((authorize.searchParams.get('scope') ?? '').split(','))).toEqual(
      sorted(manifest.oauth_config.scopes.bot),
    );
  });

  it('answers on the path of every declared redirect URL', async () => {
    for (const url of manifest.oauth_config.redirect_urls) {
      // No code and no state: the installer's failure page, not Bolt's 404 for an unknown path.
      const res = await fetch(`${server.origin}${pathOf(url)}`, { redirect: 'manual' });
      expect(res.status, url).not.toBe(404);
    }
    const unknown = await fetch(`${server.origin}/slack/not-a-route`);
    expect(unknown.status).toBe(404);
  });
});

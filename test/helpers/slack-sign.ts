/**
 * Builds and sends requests the way Slack itself delivers them to an app: form-encoded bodies,
 * `v0` HMAC-SHA256 signatures and the exact payload shapes of slash commands and interactions.
 * Bolt verifies every byte of these, so tests using them exercise the real verification path.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_DEFAULTS } from './slack-fake.js';

/** Bolt compares the content type with `===`, so no charset suffix may be added. */
export const SLACK_FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * A response_url that fails fast instead of reaching the internet: port 9 (discard) on loopback
 * refuses connections. Pass `fake.responseUrl()` when a test expects the app to respond.
 */
export const OFFLINE_RESPONSE_URL = 'http://127.0.0.1:9/response/unset';

export interface SlackSignatureHeaders {
  'X-Slack-Signature': string;
  'X-Slack-Request-Timestamp': string;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`, as documented by Slack. */
export function computeSlackSignature(signingSecret: string, body: string, timestampSec: number): string {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return `v0=${digest}`;
}

export function signSlackRequest(
  signingSecret: string,
  body: string,
  timestampSec: number = nowSeconds(),
): SlackSignatureHeaders {
  return {
    'X-Slack-Signature': computeSlackSignature(signingSecret, body, timestampSec),
    'X-Slack-Request-Timestamp': String(timestampSec),
  };
}

/**
 * Percent-encodes like Slack's form bodies (PHP `urlencode`): space becomes `+`, and only
 * `A-Z a-z 0-9 - _ .` stay literal, so `!'()*~` are escaped unlike encodeURIComponent.
 */
export function slackFormEncodeValue(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** Encodes pairs in the given order, skipping undefined values (Slack omits absent fields). */
export function slackFormEncode(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${slackFormEncodeValue(key)}=${slackFormEncodeValue(value)}`)
    .join('&');
}

let triggerCounter = 0;

/** A unique trigger_id shaped like Slack's (`<digits>.<digits>.<32 hex>`). */
export function newTriggerId(): string {
  triggerCounter += 1;
  const first = String(398738663015 + triggerCounter);
  return `${first}.47445629121.${randomBytes(16).toString('hex')}`;
}

function actionTs(): string {
  return `${nowSeconds()}.${String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Slash commands
// ---------------------------------------------------------------------------------------------

export interface SlashCommandFields {
  token: string;
  team_id: string;
  team_domain: string;
  enterprise_id: string;
  enterprise_name: string;
  channel_id: string;
  channel_name: string;
  user_id: string;
  user_name: string;
  command: string;
  text: string;
  api_app_id: string;
  is_enterprise_install: string;
  response_url: string;
  trigger_id: string;
}

/** Slack's field order; enterprise_* only appear for Enterprise Grid workspaces. */
const SLASH_FIELD_ORDER: Array<keyof SlashCommandFields> = [
  'token',
  'team_id',
  'team_domain',
  'enterprise_id',
  'enterprise_name',
  'channel_id',
  'channel_name',
  'user_id',
  'user_name',
  'command',
  'text',
  'api_app_id',
  'is_enterprise_install',
  'response_url',
  'trigger_id',
];

function defaultSlashFields(): Partial<SlashCommandFields> {
  return {
    token: 'fake-verification-token',
    team_id: FAKE_DEFAULTS.teamId,
    team_domain: FAKE_DEFAULTS.teamDomain,
    channel_id: 'C0FAKE0001',
    channel_name: 'deployments',
    user_id: 'U0FAKEUSR1',
    user_name: 'alice',
    command: '/deploy-check',
    text: '',
    api_app_id: FAKE_DEFAULTS.appId,
    is_enterprise_install: 'false',
    response_url: OFFLINE_RESPONSE_URL,
    trigger_id: newTriggerId(),
  };
}

/**
 * Form-encodes a slash command exactly as Slack sends it. Missing fields get defaults; a field
 * explicitly set to `undefined` is left out (e.g. to reproduce older payloads without api_app_id).
 */
export function slashCommandBody(
  fields: Partial<Record<keyof SlashCommandFields, string | undefined>> = {},
): string {
  const merged: Partial<Record<keyof SlashCommandFields, string | undefined>> = {
    ...defaultSlashFields(),
    ...fields,
  };
  const ordered: Record<string, string | undefined> = {};
  for (const key of SLASH_FIELD_ORDER) ordered[key] = merged[key];
  return slackFormEncode(ordered);
}

/** Interactions arrive as a single form field `payload` holding the JSON document. */
export function interactionBody(payload: object): string {
  return slackFormEncode({ payload: JSON.stringify(payload) });
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

export interface SendSignedOptions {
  secret: string;
  /** Seconds since epoch used in the signature and header; defaults to now. */
  timestamp?: number;
  contentType?: string;
  /** Send this signature instead of the computed one (to forge requests). */
  signature?: string;
  headers?: Record<string, string>;
}

export interface SignedResponse {
  status: number;
  text: string;
  json?: unknown;
  headers: Headers;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** POSTs a signed body to a Bolt endpoint and returns what Bolt answered. */
export async function sendSigned(
  url: string,
  body: string,
  options: SendSignedOptions,
): Promise<SignedResponse> {
  const signed = signSlackRequest(options.secret, body, options.timestamp ?? nowSeconds());
  if (options.signature !== undefined) signed['X-Slack-Signature'] = options.signature;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': options.contentType ?? SLACK_FORM_CONTENT_TYPE,
      ...signed,
      ...options.headers,
    },
    body,
  });
  const text = await response.text();
  const json = text.length > 0 ? parseJson(text) : undefined;
  return json === undefined
    ? { status: response.status, text, headers: response.headers }
    : { status: response.status, text, json, headers: response.headers };
}

// ---------------------------------------------------------------------------------------------
// Interaction payload builders
// ---------------------------------------------------------------------------------------------

export interface PayloadUser {
  id: string;
  name?: string;
  team_id?: string;
}

export interface PayloadTeam {
  id: string;
  domain: string;
}

export interface ClickedButton {
  action_id: string;
  /** Inferred from `message.blocks` when omitted. */
  block_id?: string;
  value?: string;
  text?: string;
  style?: 'primary' | 'danger';
}

export interface PayloadMessage {
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  user?: string;
  bot_id?: string;
  /** Channel id; lets a fake's `message()` result be passed straight through. */
  channel?: string;
}

export interface BlockActionsOptions {
  action: ClickedButton | ClickedButton[];
  message: PayloadMessage;
  user?: PayloadUser;
  team?: PayloadTeam;
  channel?: { id: string; name?: string };
  trigger_id?: string;
  response_url?: string;
  api_app_id?: string;
  token?: string;
  is_ephemeral?: boolean;
  state?: Record<string, Record<string, unknown>>;
}

const DEFAULT_USER: PayloadUser = { id: 'U0FAKEUSR1', name: 'alice' };
const DEFAULT_TEAM: PayloadTeam = { id: FAKE_DEFAULTS.teamId, domain: FAKE_DEFAULTS.teamDomain };

function payloadUser(user: PayloadUser | undefined, team: PayloadTeam): Record<string, string> {
  const u = user ?? DEFAULT_USER;
  const name = u.name ?? u.id.toLowerCase();
  return { id: u.id, username: name, name, team_id: u.team_id ?? team.id };
}

function blockHolding(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as { block_id?: unknown; elements?: unknown; accessory?: unknown };
    const elements = [...(Array.isArray(b.elements) ? b.elements : []), b.accessory];
    const holds = elements.some((e) => (e as { action_id?: unknown } | undefined)?.action_id === actionId);
    if (holds && typeof b.block_id === 'string') return b.block_id;
  }
  return undefined;
}

function buttonAction(click: ClickedButton, blocks: unknown[] | undefined): Record<string, unknown> {
  return {
    type: 'button',
    action_id: click.action_id,
    block_id: click.block_id ?? blockHolding(blocks, click.action_id) ?? 'actions',
    text: { type: 'plain_text', text: click.text ?? click.action_id, emoji: true },
    ...(click.value !== undefined ? { value: click.value } : {}),
    ...(click.style !== undefined ? { style: click.style } : {}),
    action_ts: actionTs(),
  };
}

/** A `block_actions` payload for button clicks on a message, shaped like Slack's. */
export function blockActionsPayload(options: BlockActionsOptions): Record<string, unknown> {
  const team = options.team ?? DEFAULT_TEAM;
  const channelId = options.channel?.id ?? options.message.channel ?? 'C0FAKE0001';
  const channel = { id: channelId, name: options.channel?.name ?? 'deployments' };
  const clicks = Array.isArray(options.action) ? options.action : [options.action];
  const m = options.message;
  return {
    type: 'block_actions',
    user: payloadUser(options.user, team),
    api_app_id: options.api_app_id ?? FAKE_DEFAULTS.appId,
    token: options.token ?? 'fake-verification-token',
    container: {
      type: 'message',
      message_ts: m.ts,
      channel_id: channelId,
      is_ephemeral: options.is_ephemeral ?? false,
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
    },
    trigger_id: options.trigger_id ?? newTriggerId(),
    team,
    enterprise: null,
    is_enterprise_install: false,
    channel,
    message: {
      type: 'message',
      user: m.user ?? FAKE_DEFAULTS.botUserId,
      bot_id: m.bot_id ?? FAKE_DEFAULTS.botId,
      app_id: options.api_app_id ?? FAKE_DEFAULTS.appId,
      text: m.text ?? '',
      ts: m.ts,
      team: team.id,
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
    },
    state: { values: options.state ?? {} },
    response_url: options.response_url ?? OFFLINE_RESPONSE_URL,
    actions: clicks.map((click) => buttonAction(click, m.blocks)),
  };
}

/** A state value: a string is shorthand for a plain_text_input value. */
export type SubmittedValue = string | Record<string, unknown>;

export interface ViewSubmissionOptions {
  callback_id: string;
  /** block_id → action_id → value, as in `view.state.values`. */
  values?: Record<string, Record<string, SubmittedValue>>;
  private_metadata?: string;
  user?: PayloadUser;
  team?: PayloadTeam;
  view_id?: string;
  external_id?: string;
  hash?: string;
  title?: string;
  submit?: string;
  blocks?: unknown[];
  trigger_id?: string;
  api_app_id?: string;
  token?: string;
  response_urls?: Array<{ block_id: string; action_id: string; channel_id: string; response_url: string }>;
}

function stateValues(values: ViewSubmissionOptions['values']): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [blockId, actions] of Object.entries(values ?? {})) {
    out[blockId] = {};
    for (const [actionId, value] of Object.entries(actions)) {
      out[blockId][actionId] = typeof value === 'string' ? { type: 'plain_text_input', value } : value;
    }
  }
  return out;
}

/** A `view_submission` payload for a modal, shaped like Slack's. */
export function viewSubmissionPayload(options: ViewSubmissionOptions): Record<string, unknown> {
  const team = options.team ?? DEFAULT_TEAM;
  const viewId = options.view_id ?? 'V0FAKE00001';
  const appId = options.api_app_id ?? FAKE_DEFAULTS.appId;
  return {
    type: 'view_submission',
    team,
    user: payloadUser(options.user, team),
    api_app_id: appId,
    token: options.token ?? 'fake-verification-token',
    trigger_id: options.trigger_id ?? newTriggerId(),
    view: {
      id: viewId,
      team_id: team.id,
      type: 'modal',
      blocks: options.blocks ?? [],
      private_metadata: options.private_metadata ?? '',
      callback_id: options.callback_id,
      state: { values: stateValues(options.values) },
      hash: options.hash ?? `${nowSeconds()}.fakehash`,
      title: { type: 'plain_text', text: options.title ?? 'Deploy check', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: 'plain_text', text: options.submit ?? 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: appId,
      external_id: options.external_id ?? '',
      app_installed_team_id: team.id,
      bot_id: FAKE_DEFAULTS.botId,
    },
    response_urls: options.response_urls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/**
 * An offline stand-in for the Slack Web API, served over real HTTP so that the unmodified
 * `@slack/web-api` WebClient (and Bolt, through `clientOptions.slackApiUrl`) talks to it exactly
 * as it would talk to slack.com: same encodings, same status codes, same `{ ok: false, error }`
 * envelope. It keeps just enough state (messages, views, reactions) for tests to assert on what a
 * user would actually see, and validates Block Kit payloads the way Slack rejects them so that
 * limit bugs surface in tests instead of in production.
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import type { Logger } from '@slack/web-api';
import { LogLevel } from '@slack/web-api';

export type SlackArgs = Record<string, unknown>;

/** Identities the fake uses unless configured otherwise; the request builders default to them too. */
export const FAKE_DEFAULTS = {
  teamId: 'T0FAKE0001',
  teamDomain: 'fake-workspace',
  botUserId: 'U0FAKEBOT1',
  botId: 'B0FAKEBOT1',
  appId: 'A0FAKEAPP1',
  botName: 'deploy-check',
} as const;

/**
 * A logger for WebClient/Bolt that drops everything. The WebClient logs Slack's
 * `response_metadata.messages` at error level, which is noise in tests that expect the error.
 */
export const silentSlackLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** One Web API call that the fake answered (successfully or with `ok: false`). */
export interface RecordedCall {
  method: string;
  /** Parsed arguments; JSON-encoded fields (blocks, view, attachments, ...) are decoded. `token` is removed. */
  args: SlackArgs;
  token: string | undefined;
  /** Wall-clock time (ms since epoch) at which the call arrived. */
  at: number;
  ok: boolean;
  error?: string;
}

/** A request that was answered by an injected failure instead of being processed. */
export interface InjectedFailure {
  method: string;
  args: SlackArgs;
  at: number;
  mode: FailureMode;
  /** True when the call was processed before the failure was returned (a lost response). */
  delivered: boolean;
}

export interface FakeMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  metadata?: unknown;
  user: string;
  bot_id: string;
  /** Number of successful chat.update / replace_original edits applied. */
  updates: number;
  edited?: { user: string; ts: string };
  reactions: string[];
}

export interface FakeEphemeral {
  channel: string | undefined;
  user: string | undefined;
  message_ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  via: 'chat.postEphemeral' | 'response_url';
}

export interface FakeView {
  id: string;
  type: string;
  hash: string;
  callback_id?: string;
  external_id?: string;
  private_metadata?: string;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  blocks: unknown[];
  trigger_id?: string;
  user_id?: string;
  previous_view_id: string | null;
  root_view_id: string;
  /** Number of successful views.update calls applied. */
  updates: number;
}

export interface ResponseUrlPost {
  id: string;
  body: SlackArgs;
  at: number;
  status: number;
  error?: string;
}

/**
 * What an injected failure looks like on the wire. 429 carries a `Retry-After` header (seconds,
 * default 1) as Slack's rate limiter does; 5xx are plain server errors; `error` answers HTTP 200
 * with `{ ok: false, error }`; `disconnect` drops the socket without an answer.
 */
export type FailureMode =
  | 429
  | 500
  | 502
  | 503
  | { status: 429; retryAfter?: number; delivered?: boolean }
  | { status: 500 | 502 | 503; delivered?: boolean }
  | { error: string; delivered?: boolean }
  | 'disconnect';

export interface FailureFilter {
  /**
   * Only fail calls to this Web API method (or `'response_url'` for response_url posts). Without
   * a filter every request counts, response_url posts included.
   */
  method?: string;
}

export interface FakeChannelInit {
  id: string;
  name?: string;
  is_private?: boolean;
}

export interface FakeUserInit {
  id: string;
  name?: string;
  real_name?: string;
  email?: string;
  tz?: string;
  is_bot?: boolean;
  deleted?: boolean;
}

export interface SlackFakeOptions {
  /** When set, only these bearer tokens are accepted; others get `invalid_auth`. */
  tokens?: string[];
  /** When set, only these channels exist; others get `channel_not_found`. */
  channels?: Array<string | FakeChannelInit>;
  /** When set, only these users exist; others get `user_not_found`. Otherwise users are synthesised. */
  users?: FakeUserInit[];
  /** Usergroup id → member user ids, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  team?: { id: string; domain: string };
  bot?: { userId: string; botId: string; appId: string; name: string };
  /** Seconds part of the first generated message ts. Default 1700000000. */
  tsStart?: number;
  /** Slack allows a response_url to be used 5 times. Default 5. */
  responseUrlMaxUses?: number;
  /** Slack trigger_ids are single-use; a second views.open with one gets `expired_trigger_id`. Default true. */
  singleUseTriggers?: boolean;
  /**
   * Extra Web API methods for fakes layered on this one (the Socket Mode fake answers
   * `apps.connections.open`). They run instead of the `tokens` check, because they may take
   * another kind of token (an `xapp-` app token); failure injection and call recording still apply.
   */
  extraMethods?: Record<string, ExtraMethod>;
}

/** An extra Web API method: the caller's bearer token and decoded arguments in, Slack's answer out. */
export type ExtraMethod = (call: {
  token: string | undefined;
  args: SlackArgs;
}) => ({ ok: true } & SlackArgs) | { ok: false; error: string };

export interface SlackFake {
  /** Base for WebClient `slackApiUrl`, e.g. `http://127.0.0.1:PORT/api/`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT` without a trailing slash. */
  readonly origin: string;
  /**
   * A response_url served by the fake. Linking it to a message (channel + ts) makes
   * `replace_original` / `delete_original` act on that message, and `response_type: 'in_channel'`
   * post into the channel.
   */
  responseUrl(link?: { channel?: string; ts?: string; user?: string }): string;
  /** Answered Web API calls, optionally for one method, in arrival order. */
  calls(method?: string): RecordedCall[];
  /** Requests answered by an injected failure. */
  failures(): InjectedFailure[];
  /** Current state of every live message (after updates/deletes), in posting order. */
  messages(channel?: string): FakeMessage[];
  message(channel: string, ts: string): FakeMessage | undefined;
  ephemerals(): FakeEphemeral[];
  views(): FakeView[];
  /** Posts received on response_url paths, optionally for one response_url id. */
  responses(id?: string): ResponseUrlPost[];
  /** Answered write calls (chat.postMessage/update/postEphemeral/delete and views.*). */
  writesCount(options?: { okOnly?: boolean }): number;
  /** Fail the next `n` matching requests. */
  failNext(n: number, mode?: FailureMode, filter?: FailureFilter): void;
  /** Fail every matching request for the next `ms` milliseconds. */
  failFor(ms: number, mode?: FailureMode, filter?: FailureFilter): void;
  /** Replace a usergroup's membership. */
  setUsergroup(id: string, members: string[]): void;
  /**
   * Forget calls, messages, views, responses and pending failures; configuration is kept. Generated
   * ts values keep increasing so a stale ts from an earlier test never matches a new message.
   */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Block Kit validation
// ---------------------------------------------------------------------------------------------

export type Surface = 'message' | 'modal' | 'home';

const MAX_BLOCKS: Record<Surface, number> = { message: 50, modal: 100, home: 100 };
const MAX_ID_LENGTH = 255;

const BLOCK_TYPES = new Set([
  'section',
  'divider',
  'header',
  'context',
  'actions',
  'image',
  'input',
  'markdown',
  'rich_text',
  'video',
  'file',
  'call',
  'table',
  'context_actions',
]);

const SELECT_TYPES = new Set([
  'static_select',
  'multi_static_select',
  'external_select',
  'multi_external_select',
  'users_select',
  'multi_users_select',
  'conversations_select',
  'multi_conversations_select',
  'channels_select',
  'multi_channels_select',
]);

const ELEMENT_TYPES = new Set([
  ...SELECT_TYPES,
  'button',
  'overflow',
  'checkboxes',
  'radio_buttons',
  'datepicker',
  'datetimepicker',
  'timepicker',
  'plain_text_input',
  'email_text_input',
  'url_text_input',
  'number_input',
  'rich_text_input',
  'file_input',
  'image',
  'workflow_button',
  'feedback_buttons',
  'icon_button',
]);

/** Collects Slack-style `[ERROR] … [json-pointer:/…]` messages. */
class Problems {
  readonly list: string[] = [];

  add(pointer: string, message: string): void {
    this.list.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface TextRule {
  max: number;
  plainOnly?: boolean;
  required?: boolean;
}

function checkTextObject(problems: Problems, pointer: string, value: unknown, rule: TextRule): void {
  if (value === undefined) {
    if (rule.required) problems.add(pointer, 'missing required field');
    return;
  }
  if (!isRecord(value)) {
    problems.add(pointer, 'must be a text object');
    return;
  }
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn') {
    problems.add(`${pointer}/type`, 'must be one of plain_text, mrkdwn');
  } else if (rule.plainOnly && value.type !== 'plain_text') {
    problems.add(`${pointer}/type`, 'must be plain_text');
  }
  checkString(problems, `${pointer}/text`, value.text, { max: rule.max, required: true, min: 1 });
}

function checkString(
  problems: Problems,
  pointer: string,
  value: unknown,
  rule: { max: number; required?: boolean; min?: number },
): void {
  if (value === undefined) {
    if (rule.required) problems.add(pointer, 'missing required field');
    return;
  }
  if (typeof value !== 'string') {
    problems.add(pointer, 'must provide a string');
    return;
  }
  // Slack counts UTF-16 code units like String#length; being at least as strict keeps tests honest.
  if (rule.min !== undefined && value.length < rule.min) {
    problems.add(pointer, `must be at least ${rule.min} character${rule.min === 1 ? '' : 's'}`);
  }
  if (value.length > rule.max) problems.add(pointer, `must be less than ${rule.max + 1} characters`);
}

function checkArray(
  problems: Problems,
  pointer: string,
  value: unknown,
  rule: { min: number; max: number; required?: boolean },
): unknown[] {
  if (value === undefined) {
    if (rule.required) problems.add(pointer, 'missing required field');
    return [];
  }
  if (!Array.isArray(value)) {
    problems.add(pointer, 'must provide an array');
    return [];
  }
  if (value.length < rule.min) problems.add(pointer, `must provide at least ${rule.min} items`);
  if (value.length > rule.max) problems.add(pointer, `must provide no more than ${rule.max} items`);
  return value;
}

function checkConfirm(problems: Problems, pointer: string, value: unknown): void {
  if (value === undefined) return;
  if (!isRecord(value)) {
    problems.add(pointer, 'must be a confirmation dialog object');
    return;
  }
  checkTextObject(problems, `${pointer}/title`, value.title, { max: 100, plainOnly: true, required: true });
  checkTextObject(problems, `${pointer}/text`, value.text, { max: 300, required: true });
  checkTextObject(problems, `${pointer}/confirm`, value.confirm, {
    max: 30,
    plainOnly: true,
    required: true,
  });
  checkTextObject(problems, `${pointer}/deny`, value.deny, { max: 30, plainOnly: true, required: true });
}

function checkOption(problems: Problems, pointer: string, value: unknown, allowMrkdwn: boolean): void {
  if (!isRecord(value)) {
    problems.add(pointer, 'must be an option object');
    return;
  }
  checkTextObject(problems, `${pointer}/text`, value.text, {
    max: 75,
    plainOnly: !allowMrkdwn,
    required: true,
  });
  checkString(problems, `${pointer}/value`, value.value, { max: 150, required: true });
  checkTextObject(problems, `${pointer}/description`, value.description, {
    max: 75,
    plainOnly: !allowMrkdwn,
  });
}

function checkOptions(
  problems: Problems,
  pointer: string,
  value: unknown,
  rule: { min: number; max: number; required: boolean; allowMrkdwn: boolean },
): void {
  const options = checkArray(problems, pointer, value, rule);
  options.forEach((option, i) => {
    checkOption(problems, `${pointer}/${i}`, option, rule.allowMrkdwn);
  });
}

function checkButton(problems: Problems, pointer: string, element: Record<string, unknown>): void {
  checkTextObject(problems, `${pointer}/text`, element.text, { max: 75, plainOnly: true, required: true });
  checkString(problems, `${pointer}/value`, element.value, { max: 2000 });
  checkString(problems, `${pointer}/url`, element.url, { max: 3000 });
  checkString(problems, `${pointer}/accessibility_label`, element.accessibility_label, { max: 75 });
  if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
    problems.add(`${pointer}/style`, 'must be one of primary, danger');
  }
}

function checkImageElement(problems: Problems, pointer: string, element: Record<string, unknown>): void {
  if (element.image_url === undefined && element.slack_file === undefined) {
    problems.add(pointer, 'must provide image_url or slack_file');
  }
  checkString(problems, `${pointer}/image_url`, element.image_url, { max: 3000 });
  checkString(problems, `${pointer}/alt_text`, element.alt_text, { max: 2000, required: true });
}

/** Validates one interactive/display element; returns its action_id for duplicate detection. */
function checkElement(problems: Problems, pointer: string, value: unknown): string | undefined {
  if (!isRecord(value)) {
    problems.add(pointer, 'must be an element object');
    return undefined;
  }
  const type = value.type;
  if (typeof type !== 'string' || !ELEMENT_TYPES.has(type)) {
    problems.add(`${pointer}/type`, `unsupported element type: ${String(type)}`);
    return undefined;
  }
  checkString(problems, `${pointer}/action_id`, value.action_id, { max: MAX_ID_LENGTH, min: 1 });
  checkConfirm(problems, `${pointer}/confirm`, value.confirm);
  if (type === 'button') checkButton(problems, pointer, value);
  else if (type === 'image') checkImageElement(problems, pointer, value);
  else if (type === 'overflow') {
    checkOptions(problems, `${pointer}/options`, value.options, {
      min: 1,
      max: 5,
      required: true,
      allowMrkdwn: false,
    });
  } else if (type === 'checkboxes' || type === 'radio_buttons') {
    checkOptions(problems, `${pointer}/options`, value.options, {
      min: 1,
      max: 10,
      required: true,
      allowMrkdwn: true,
    });
  } else if (SELECT_TYPES.has(type)) {
    checkTextObject(problems, `${pointer}/placeholder`, value.placeholder, { max: 150, plainOnly: true });
    if (type.endsWith('static_select') && value.option_groups === undefined) {
      checkOptions(problems, `${pointer}/options`, value.options, {
        min: 1,
        max: 100,
        required: true,
        allowMrkdwn: false,
      });
    }
  } else if (type === 'plain_text_input') {
    checkTextObject(problems, `${pointer}/placeholder`, value.placeholder, { max: 150, plainOnly: true });
  }
  return typeof value.action_id === 'string' ? value.action_id : undefined;
}

function checkSection(problems: Problems, pointer: string, block: Record<string, unknown>): void {
  if (block.text === undefined && block.fields === undefined) {
    problems.add(pointer, 'must provide text or fields');
  }
  checkTextObject(problems, `${pointer}/text`, block.text, { max: 3000 });
  const fields = checkArray(problems, `${pointer}/fields`, block.fields, { min: 1, max: 10 });
  fields.forEach((field, i) => {
    checkTextObject(problems, `${pointer}/fields/${i}`, field, { max: 2000, required: true });
  });
  if (block.accessory !== undefined) checkElement(problems, `${pointer}/accessory`, block.accessory);
}

function checkActions(problems: Problems, pointer: string, block: Record<string, unknown>): void {
  const elements = checkArray(problems, `${pointer}/elements`, block.elements, {
    min: 1,
    max: 25,
    required: true,
  });
  const seen = new Set<string>();
  elements.forEach((element, i) => {
    const actionId = checkElement(problems, `${pointer}/elements/${i}`, element);
    if (actionId === undefined) return;
    if (seen.has(actionId)) problems.add(`${pointer}/elements/${i}/action_id`, 'duplicate action_id');
    seen.add(actionId);
  });
}

function checkContext(problems: Problems, pointer: string, block: Record<string, unknown>): void {
  const elements = checkArray(problems, `${pointer}/elements`, block.elements, {
    min: 1,
    max: 10,
    required: true,
  });
  elements.forEach((element, i) => {
    const at = `${pointer}/elements/${i}`;
    if (isRecord(element) && element.type === 'image') checkImageElement(problems, at, element);
    else checkTextObject(problems, at, element, { max: 3000, required: true });
  });
}

function checkInput(problems: Problems, pointer: string, block: Record<string, unknown>): void {
  checkTextObject(problems, `${pointer}/label`, block.label, { max: 2000, plainOnly: true, required: true });
  checkTextObject(problems, `${pointer}/hint`, block.hint, { max: 2000, plainOnly: true });
  if (block.element === undefined) problems.add(`${pointer}/element`, 'missing required field');
  else checkElement(problems, `${pointer}/element`, block.element);
}

function checkBlockBody(problems: Problems, pointer: string, block: Record<string, unknown>): void {
  switch (block.type) {
    case 'section':
      checkSection(problems, pointer, block);
      break;
    case 'header':
      checkTextObject(problems, `${pointer}/text`, block.text, { max: 150, plainOnly: true, required: true });
      break;
    case 'actions':
      checkActions(problems, pointer, block);
      break;
    case 'context':
      checkContext(problems, pointer, block);
      break;
    case 'input':
      checkInput(problems, pointer, block);
      break;
    case 'image':
      checkImageElement(problems, pointer, block);
      checkTextObject(problems, `${pointer}/title`, block.title, { max: 2000, plainOnly: true });
      break;
    case 'markdown':
      checkString(problems, `${pointer}/text`, block.text, { max: 12000, required: true, min: 1 });
      break;
    case 'rich_text':
      checkArray(problems, `${pointer}/elements`, block.elements, { min: 1, max: Infinity, required: true });
      break;
    default:
      break;
  }
}

/**
 * Validates a `blocks` array as Slack does for the given surface and returns Slack-style error
 * messages (empty when valid).
 */
export function validateBlocks(blocks: unknown, surface: Surface = 'message'): string[] {
  const problems = new Problems();
  if (!Array.isArray(blocks)) {
    problems.add('/blocks', 'must provide an array');
    return problems.list;
  }
  const max = MAX_BLOCKS[surface];
  if (blocks.length > max) problems.add('/blocks', `must provide no more than ${max} items`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const pointer = `/blocks/${i}`;
    if (!isRecord(block)) {
      problems.add(pointer, 'must be a block object');
      return;
    }
    if (typeof block.type !== 'string' || !BLOCK_TYPES.has(block.type)) {
      problems.add(`${pointer}/type`, `unsupported block type: ${String(block.type)}`);
      return;
    }
    checkString(problems, `${pointer}/block_id`, block.block_id, { max: MAX_ID_LENGTH, min: 1 });
    if (typeof block.block_id === 'string') {
      if (blockIds.has(block.block_id)) problems.add(`${pointer}/block_id`, 'duplicate block_id');
      blockIds.add(block.block_id);
    }
    checkBlockBody(problems, pointer, block);
  });
  return problems.list;
}

/** A Slack `{ ok: false }` outcome with optional detail messages. */
interface SlackError {
  error: string;
  messages?: string[];
}

function hasContent(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  return Array.isArray(value) && value.length > 0;
}

/** Validates text/blocks/attachments of a message payload; `requireContent` demands text or blocks. */
function validateMessageContent(args: SlackArgs, requireContent: boolean): SlackError | undefined {
  if (args.text !== undefined && typeof args.text !== 'string') return { error: 'invalid_arguments' };
  if (typeof args.text === 'string' && args.text.length > 40000) return { error: 'msg_too_long' };
  if (typeof args.blocks === 'string') return { error: 'invalid_blocks_format' };
  if (args.blocks !== undefined) {
    const messages = validateBlocks(args.blocks, 'message');
    if (messages.length > 0) return { error: 'invalid_blocks', messages };
  }
  if (typeof args.attachments === 'string') return { error: 'invalid_attachments' };
  if (Array.isArray(args.attachments) && args.attachments.length > 100)
    return { error: 'too_many_attachments' };
  const anyContent = hasContent(args.text) || hasContent(args.blocks) || hasContent(args.attachments);
  if (requireContent && !anyContent) return { error: 'no_text' };
  return undefined;
}

const VIEW_TYPES_FOR: Record<string, string[]> = {
  'views.open': ['modal'],
  'views.push': ['modal'],
  'views.update': ['modal', 'home'],
  'views.publish': ['home'],
};

/** Validates a view payload; block problems are `invalid_blocks`, view-level ones `invalid_arguments`. */
function validateView(view: unknown, method: string): SlackError | undefined {
  const problems = new Problems();
  if (!isRecord(view))
    return { error: 'invalid_arguments', messages: ['[ERROR] must provide an object [json-pointer:/view]'] };
  const allowed = VIEW_TYPES_FOR[method] ?? ['modal'];
  if (typeof view.type !== 'string' || !allowed.includes(view.type)) {
    problems.add('/view/type', `must be one of ${allowed.join(', ')}`);
  }
  if (view.type === 'modal') {
    checkTextObject(problems, '/view/title', view.title, { max: 24, plainOnly: true, required: true });
    checkTextObject(problems, '/view/submit', view.submit, { max: 24, plainOnly: true });
    checkTextObject(problems, '/view/close', view.close, { max: 24, plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isRecord(b) && b.type === 'input');
    if (hasInput && view.submit === undefined)
      problems.add('/view/submit', 'must provide submit when using input blocks');
  }
  checkString(problems, '/view/callback_id', view.callback_id, { max: MAX_ID_LENGTH });
  checkString(problems, '/view/external_id', view.external_id, { max: MAX_ID_LENGTH });
  checkString(problems, '/view/private_metadata', view.private_metadata, { max: 3000 });
  if (problems.list.length > 0) return { error: 'invalid_arguments', messages: problems.list };
  const surface: Surface = view.type === 'home' ? 'home' : 'modal';
  const blockProblems = validateBlocks(view.blocks ?? [], surface);
  if (blockProblems.length > 0) return { error: 'invalid_blocks', messages: blockProblems };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------------------------

/** Arguments that the WebClient JSON-encodes inside a form body because they are not scalars. */
const JSON_ARGS = new Set([
  'blocks',
  'attachments',
  'view',
  'metadata',
  'unfurls',
  'user_auth_blocks',
  'options',
  'option_groups',
]);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function decodeJsonArg(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    // Keep the raw string so validation can answer with Slack's *_format error.
    return value;
  }
}

function parseFormBody(raw: string): SlackArgs {
  const parsed = parseQueryString(raw);
  const args: SlackArgs = {};
  for (const [key, value] of Object.entries(parsed)) {
    const single = Array.isArray(value) ? value[0] : value;
    if (single === undefined) continue;
    args[key] = JSON_ARGS.has(key) ? decodeJsonArg(single) : single;
  }
  return args;
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Parses a request body the way Slack accepts it; undefined means an unsupported/garbled body. */
function parseArgs(req: IncomingMessage, raw: string): SlackArgs | undefined {
  const type = mediaType(req);
  if (type === 'application/json') {
    try {
      const parsed: unknown = raw.length > 0 ? JSON.parse(raw) : {};
      return isRecord(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  if (type === 'application/x-www-form-urlencoded' || type === '') return parseFormBody(raw);
  return undefined;
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function stringArg(args: SlackArgs, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

// ---------------------------------------------------------------------------------------------
// Failure injection
// ---------------------------------------------------------------------------------------------

interface FailureRule {
  mode: FailureMode;
  method: string | undefined;
  remaining: number;
  /** Monotonic deadline in ms; Infinity for count-based rules. */
  until: number;
}

/** A monotonic clock that test fake timers (which mock Date) do not affect. */
function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

function normaliseMode(mode: FailureMode): Exclude<FailureMode, number> {
  return typeof mode === 'number' ? { status: mode } : mode;
}

function isDelivered(mode: FailureMode): boolean {
  return typeof mode === 'object' && mode.delivered === true;
}

function writeFailure(res: ServerResponse, mode: FailureMode): void {
  const m = normaliseMode(mode);
  if (m === 'disconnect') {
    res.socket?.destroy();
    return;
  }
  if ('error' in m) {
    sendJson(res, 200, { ok: false, error: m.error });
    return;
  }
  if (m.status === 429) {
    const retryAfter = 'retryAfter' in m && m.retryAfter !== undefined ? m.retryAfter : 1;
    sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(retryAfter) });
    return;
  }
  sendJson(res, m.status, { ok: false, error: 'internal_error' });
}

// ---------------------------------------------------------------------------------------------
// State and Web API methods
// ---------------------------------------------------------------------------------------------

type MethodResult = ({ ok: true } & SlackArgs) | ({ ok: false } & SlackError);

interface CallContext {
  args: SlackArgs;
  token: string;
}

interface ResponseLink {
  channel: string | undefined;
  ts: string | undefined;
  user: string | undefined;
  uses: number;
}

const WRITE_METHODS = new Set([
  'chat.postMessage',
  'chat.update',
  'chat.postEphemeral',
  'chat.delete',
  'views.open',
  'views.update',
  'views.push',
  'views.publish',
]);

function fail(error: string, messages?: string[]): MethodResult {
  return messages === undefined ? { ok: false, error } : { ok: false, error, messages };
}

function messageKey(channel: string, ts: string): string {
  return `${channel}|${ts}`;
}

class FakeSlackState {
  readonly calls: RecordedCall[] = [];
  readonly failures: InjectedFailure[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly ephemerals: FakeEphemeral[] = [];
  readonly views = new Map<string, FakeView>();
  readonly responses: ResponseUrlPost[] = [];
  readonly responseLinks = new Map<string, ResponseLink>();
  readonly usedTriggers = new Set<string>();
  failureRules: FailureRule[] = [];

  private readonly tokens: Set<string> | undefined;
  private readonly channels: Map<string, FakeChannelInit> | undefined;
  private readonly users: Map<string, FakeUserInit> | undefined;
  readonly usergroups: Map<string, string[]>;
  readonly team: { id: string; domain: string };
  readonly bot: { userId: string; botId: string; appId: string; name: string };
  private readonly tsStart: number;
  readonly responseUrlMaxUses: number;
  private readonly singleUseTriggers: boolean;
  readonly extraMethods: Record<string, ExtraMethod>;
  private tsCounter = 0;
  private idCounter = 0;

  constructor(options: SlackFakeOptions) {
    this.tokens = options.tokens ? new Set(options.tokens) : undefined;
    this.channels = options.channels
      ? new Map(options.channels.map((c) => (typeof c === 'string' ? [c, { id: c }] : [c.id, c])))
      : undefined;
    this.users = options.users ? new Map(options.users.map((u) => [u.id, u])) : undefined;
    this.usergroups = new Map(Object.entries(options.usergroups ?? {}));
    this.team = options.team ?? { id: FAKE_DEFAULTS.teamId, domain: FAKE_DEFAULTS.teamDomain };
    this.bot = options.bot ?? {
      userId: FAKE_DEFAULTS.botUserId,
      botId: FAKE_DEFAULTS.botId,
      appId: FAKE_DEFAULTS.appId,
      name: FAKE_DEFAULTS.botName,
    };
    this.tsStart = options.tsStart ?? 1_700_000_000;
    this.responseUrlMaxUses = options.responseUrlMaxUses ?? 5;
    this.singleUseTriggers = options.singleUseTriggers ?? true;
    this.extraMethods = options.extraMethods ?? {};
  }

  /** Unique, strictly increasing Slack-style ts: 1700000000.000100, 1700000000.000200, ... */
  nextTs(): string {
    this.tsCounter += 1;
    const micros = this.tsCounter * 100;
    const seconds = this.tsStart + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  nextId(prefix: string): string {
    this.idCounter += 1;
    return `${prefix}0FAKE${String(this.idCounter).padStart(5, '0')}`;
  }

  authError(token: string | undefined): string | undefined {
    if (token === undefined) return 'not_authed';
    if (this.tokens !== undefined && !this.tokens.has(token)) return 'invalid_auth';
    return undefined;
  }

  /** Resolves an id or `#name` to a channel id, or undefined when it does not exist. */
  resolveChannel(channel: string | undefined): string | undefined {
    if (channel === undefined) return undefined;
    if (this.channels === undefined) return channel;
    if (this.channels.has(channel)) return channel;
    const name = channel.replace(/^#/, '');
    for (const c of this.channels.values()) if (c.name === name) return c.id;
    return undefined;
  }

  takeFailure(method: string): FailureRule | undefined {
    const now = monotonicMs();
    this.failureRules = this.failureRules.filter((r) => r.remaining > 0 && r.until > now);
    const rule = this.failureRules.find((r) => r.method === undefined || r.method === method);
    if (rule !== undefined && rule.until === Number.POSITIVE_INFINITY) rule.remaining -= 1;
    return rule;
  }

  dispatch(method: string, ctx: CallContext): MethodResult {
    switch (method) {
      case 'auth.test':
        return this.authTest(ctx);
      case 'chat.postMessage':
        return this.postMessage(ctx);
      case 'chat.update':
        return this.updateMessage(ctx);
      case 'chat.delete':
        return this.deleteMessage(ctx);
      case 'chat.postEphemeral':
        return this.postEphemeral(ctx);
      case 'chat.getPermalink':
        return this.getPermalink(ctx);
      case 'views.open':
      case 'views.push':
        return this.openView(method, ctx);
      case 'views.update':
        return this.updateView(ctx);
      case 'views.publish':
        return this.publishView(ctx);
      case 'users.info':
        return this.userInfo(ctx);
      case 'usergroups.users.list':
        return this.usergroupMembers(ctx);
      case 'conversations.info':
        return this.conversationInfo(ctx);
      case 'conversations.history':
        return this.history(ctx, false);
      case 'conversations.replies':
        return this.history(ctx, true);
      case 'reactions.add':
        return this.addReaction(ctx);
      default:
        return fail('unknown_method');
    }
  }

  /** conversations.history / .replies, newest first as Slack returns them; metadata only with include_all_metadata. */
  private history({ args }: CallContext, replies: boolean): MethodResult {
    const channel = this.resolveChannel(stringArg(args, 'channel'));
    if (channel === undefined) return fail('channel_not_found');
    const ts = stringArg(args, 'ts');
    if (replies && ts === undefined) return fail('invalid_arguments');
    const withMetadata = isTrue(args.include_all_metadata);
    const all = [...this.messages.values()].filter((m) => m.channel === channel);
    const picked = replies
      ? all.filter((m) => m.ts === ts || m.thread_ts === ts)
      : all.filter((m) => m.thread_ts === undefined);
    if (replies && !picked.some((m) => m.ts === ts)) return fail('thread_not_found');
    const ordered = replies
      ? picked.sort((a, b) => Number(a.ts) - Number(b.ts))
      : picked.sort((a, b) => Number(b.ts) - Number(a.ts));
    return {
      ok: true,
      messages: ordered.map((m) => ({
        ...this.messageView(m),
        ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
      })),
      has_more: false,
    };
  }

  private authTest(_ctx: CallContext): MethodResult {
    return {
      ok: true,
      url: `https://${this.team.domain}.slack.com/`,
      team: this.team.domain,
      user: this.bot.name,
      team_id: this.team.id,
      user_id: this.bot.userId,
      bot_id: this.bot.botId,
      is_enterprise_install: false,
    };
  }

  private messageView(m: FakeMessage): SlackArgs {
    return {
      type: 'message',
      text: m.text ?? '',
      user: m.user,
      bot_id: m.bot_id,
      app_id: this.bot.appId,
      team: this.team.id,
      ts: m.ts,
      ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
      ...(m.attachments !== undefined ? { attachments: m.attachments } : {}),
      ...(m.thread_ts !== undefined ? { thread_ts: m.thread_ts } : {}),
      ...(m.edited !== undefined ? { edited: m.edited } : {}),
    };
  }

  createMessage(channel: string, args: SlackArgs): FakeMessage {
    const ts = this.nextTs();
    const message: FakeMessage = {
      channel,
      ts,
      user: this.bot.userId,
      bot_id: this.bot.botId,
      updates: 0,
      reactions: [],
    };
    applyContent(message, args, 'merge');
    const threadTs = stringArg(args, 'thread_ts');
    if (threadTs !== undefined && threadTs !== ts) message.thread_ts = threadTs;
    if (isTrue(args.reply_broadcast)) message.reply_broadcast = true;
    if (args.metadata !== undefined) message.metadata = args.metadata;
    this.messages.set(messageKey(channel, ts), message);
    return message;
  }

  private postMessage({ args }: CallContext): MethodResult {
    const channel = this.resolveChannel(stringArg(args, 'channel'));
    if (channel === undefined) return fail('channel_not_found');
    const invalid = validateMessageContent(args, true);
    if (invalid) return fail(invalid.error, invalid.messages);
    const message = this.createMessage(channel, args);
    return { ok: true, channel, ts: message.ts, message: this.messageView(message) };
  }

  private findMessage(args: SlackArgs, tsKey: string): FakeMessage | MethodResult {
    const channel = this.resolveChannel(stringArg(args, 'channel'));
    if (channel === undefined) return fail('channel_not_found');
    const ts = stringArg(args, tsKey);
    const message = ts === undefined ? undefined : this.messages.get(messageKey(channel, ts));
    return message ?? fail('message_not_found');
  }

  private updateMessage({ args }: CallContext): MethodResult {
    const found = this.findMessage(args, 'ts');
    if ('ok' in found) return found;
    const invalid = validateMessageContent(args, true);
    if (invalid) return fail(invalid.error, invalid.messages);
    applyContent(found, args, 'merge');
    markEdited(found, this.bot.userId, this.nextTs());
    return {
      ok: true,
      channel: found.channel,
      ts: found.ts,
      text: found.text ?? '',
      message: this.messageView(found),
    };
  }

  private deleteMessage({ args }: CallContext): MethodResult {
    const found = this.findMessage(args, 'ts');
    if ('ok' in found) return found;
    this.messages.delete(messageKey(found.channel, found.ts));
    return { ok: true, channel: found.channel, ts: found.ts };
  }

  private postEphemeral({ args }: CallContext): MethodResult {
    const channel = this.resolveChannel(stringArg(args, 'channel'));
    if (channel === undefined) return fail('channel_not_found');
    const user = stringArg(args, 'user');
    if (user === undefined || !this.userExists(user)) return fail('user_not_found');
    const invalid = validateMessageContent(args, true);
    if (invalid) return fail(invalid.error, invalid.messages);
    const messageTs = this.nextTs();
    const threadTs = stringArg(args, 'thread_ts');
    this.ephemerals.push({
      channel,
      user,
      message_ts: messageTs,
      ...contentOf(args),
      ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      via: 'chat.postEphemeral',
    });
    return { ok: true, message_ts: messageTs };
  }

  private getPermalink({ args }: CallContext): MethodResult {
    const found = this.findMessage(args, 'message_ts');
    if ('ok' in found) return found;
    const base = `https://${this.team.domain}.slack.com/archives/${found.channel}/p${found.ts.replace('.', '')}`;
    const thread = found.thread_ts ? `?thread_ts=${found.thread_ts}&cid=${found.channel}` : '';
    return { ok: true, channel: found.channel, permalink: `${base}${thread}` };
  }

  private openView(method: string, { args }: CallContext): MethodResult {
    const triggerId = stringArg(args, 'trigger_id');
    if (triggerId === undefined) {
      return fail('invalid_arguments', [
        '[ERROR] missing required field: trigger_id [json-pointer:/trigger_id]',
      ]);
    }
    if (this.singleUseTriggers && this.usedTriggers.has(triggerId)) return fail('expired_trigger_id');
    const invalid = validateView(args.view, method);
    if (invalid) return fail(invalid.error, invalid.messages);
    this.usedTriggers.add(triggerId);
    const view = this.storeView(args.view as SlackArgs, { trigger_id: triggerId });
    return { ok: true, view: this.viewPayload(view) };
  }

  private publishView({ args }: CallContext): MethodResult {
    const userId = stringArg(args, 'user_id');
    if (userId === undefined || !this.userExists(userId)) return fail('user_not_found');
    const invalid = validateView(args.view, 'views.publish');
    if (invalid) return fail(invalid.error, invalid.messages);
    const view = this.storeView(args.view as SlackArgs, { user_id: userId });
    return { ok: true, view: this.viewPayload(view) };
  }

  private updateView({ args }: CallContext): MethodResult {
    const viewId = stringArg(args, 'view_id');
    const externalId = stringArg(args, 'external_id');
    if (viewId === undefined && externalId === undefined) {
      return fail('invalid_arguments', [
        '[ERROR] must provide view_id or external_id [json-pointer:/view_id]',
      ]);
    }
    const existing = [...this.views.values()].find(
      (v) =>
        (viewId !== undefined && v.id === viewId) ||
        (externalId !== undefined && v.external_id === externalId),
    );
    if (existing === undefined) return fail('not_found');
    const hash = stringArg(args, 'hash');
    if (hash !== undefined && hash !== existing.hash) return fail('hash_conflict');
    const invalid = validateView(args.view, 'views.update');
    if (invalid) return fail(invalid.error, invalid.messages);
    Object.assign(existing, viewFields(args.view as SlackArgs), { hash: this.nextHash() });
    existing.updates += 1;
    return { ok: true, view: this.viewPayload(existing) };
  }

  private nextHash(): string {
    return `${this.nextTs()}.${this.nextId('h').slice(-5)}`;
  }

  private storeView(view: SlackArgs, extra: Partial<FakeView>): FakeView {
    const id = this.nextId('V');
    const stored: FakeView = {
      id,
      hash: this.nextHash(),
      previous_view_id: null,
      root_view_id: id,
      updates: 0,
      ...viewFields(view),
      ...extra,
    };
    this.views.set(id, stored);
    return stored;
  }

  private viewPayload(view: FakeView): SlackArgs {
    return {
      id: view.id,
      team_id: this.team.id,
      type: view.type,
      title: view.title,
      submit: view.submit ?? null,
      close: view.close ?? null,
      blocks: view.blocks,
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      external_id: view.external_id ?? '',
      state: { values: {} },
      hash: view.hash,
      clear_on_close: false,
      notify_on_close: false,
      previous_view_id: view.previous_view_id,
      root_view_id: view.root_view_id,
      app_id: this.bot.appId,
      bot_id: this.bot.botId,
    };
  }

  userExists(id: string): boolean {
    return this.users === undefined || this.users.has(id);
  }

  private userInfo({ args }: CallContext): MethodResult {
    const id = stringArg(args, 'user');
    if (id === undefined || !this.userExists(id)) return fail('user_not_found');
    const init = this.users?.get(id) ?? { id };
    const name = init.name ?? id.toLowerCase();
    const realName = init.real_name ?? name;
    return {
      ok: true,
      user: {
        id,
        team_id: this.team.id,
        name,
        real_name: realName,
        deleted: init.deleted ?? false,
        is_bot: init.is_bot ?? false,
        tz: init.tz ?? 'Etc/UTC',
        profile: { real_name: realName, display_name: name, ...(init.email ? { email: init.email } : {}) },
      },
    };
  }

  private usergroupMembers({ args }: CallContext): MethodResult {
    const id = stringArg(args, 'usergroup');
    const members = id === undefined ? undefined : this.usergroups.get(id);
    if (members === undefined) return fail('no_such_subteam');
    return { ok: true, users: [...members] };
  }

  private conversationInfo({ args }: CallContext): MethodResult {
    const id = this.resolveChannel(stringArg(args, 'channel'));
    if (id === undefined) return fail('channel_not_found');
    const init = this.channels?.get(id) ?? { id };
    const isPrivate = init.is_private ?? id.startsWith('G');
    return {
      ok: true,
      channel: {
        id,
        name: init.name ?? id.toLowerCase(),
        is_channel: id.startsWith('C') && !isPrivate,
        is_group: isPrivate,
        is_im: id.startsWith('D'),
        is_private: isPrivate,
        is_archived: false,
        is_member: true,
      },
    };
  }

  private addReaction({ args }: CallContext): MethodResult {
    const name = stringArg(args, 'name');
    if (name === undefined) return fail('invalid_name');
    const found = this.findMessage(args, 'timestamp');
    if ('ok' in found) return found;
    if (found.reactions.includes(name)) return fail('already_reacted');
    found.reactions.push(name);
    return { ok: true };
  }
}

function contentOf(args: SlackArgs): Pick<FakeMessage, 'text' | 'blocks'> {
  return {
    ...(typeof args.text === 'string' ? { text: args.text } : {}),
    ...(Array.isArray(args.blocks) ? { blocks: args.blocks } : {}),
  };
}

/**
 * chat.update keeps fields the caller omitted ('merge'); a response_url `replace_original`
 * replaces the whole message ('replace').
 */
function applyContent(message: FakeMessage, args: SlackArgs, how: 'merge' | 'replace'): void {
  if (how === 'replace') {
    delete message.text;
    delete message.blocks;
    delete message.attachments;
  }
  if (typeof args.text === 'string') message.text = args.text;
  if (Array.isArray(args.blocks)) message.blocks = args.blocks;
  if (Array.isArray(args.attachments)) message.attachments = args.attachments;
}

function markEdited(message: FakeMessage, user: string, ts: string): void {
  message.updates += 1;
  message.edited = { user, ts };
}

function viewFields(
  view: SlackArgs,
): Omit<FakeView, 'id' | 'hash' | 'previous_view_id' | 'root_view_id' | 'updates'> {
  return {
    type: String(view.type),
    blocks: Array.isArray(view.blocks) ? view.blocks : [],
    ...(typeof view.callback_id === 'string' ? { callback_id: view.callback_id } : {}),
    ...(typeof view.external_id === 'string' ? { external_id: view.external_id } : {}),
    ...(typeof view.private_metadata === 'string' ? { private_metadata: view.private_metadata } : {}),
    ...(view.title !== undefined ? { title: view.title } : {}),
    ...(view.submit !== undefined ? { submit: view.submit } : {}),
    ...(view.close !== undefined ? { close: view.close } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// response_url handling
// ---------------------------------------------------------------------------------------------

interface ResponseOutcome {
  status: number;
  error?: string;
}

/** Applies a response_url post the way Slack interprets replace/delete/in_channel. */
function applyResponse(state: FakeSlackState, link: ResponseLink, body: SlackArgs): ResponseOutcome {
  if (isTrue(body.delete_original)) {
    if (link.channel !== undefined && link.ts !== undefined)
      state.messages.delete(messageKey(link.channel, link.ts));
    return { status: 200 };
  }
  const invalid = validateMessageContent(body, true);
  if (invalid) return { status: 400, error: invalid.error };
  const original =
    link.channel !== undefined && link.ts !== undefined
      ? state.messages.get(messageKey(link.channel, link.ts))
      : undefined;
  if (isTrue(body.replace_original) && original !== undefined) {
    applyContent(original, body, 'replace');
    markEdited(original, state.bot.userId, state.nextTs());
    return { status: 200 };
  }
  if (body.response_type === 'in_channel' && link.channel !== undefined) {
    state.createMessage(link.channel, body);
    return { status: 200 };
  }
  state.ephemerals.push({
    channel: link.channel,
    user: link.user,
    message_ts: state.nextTs(),
    ...contentOf(body),
    via: 'response_url',
  });
  return { status: 200 };
}

function linkFor(state: FakeSlackState, id: string): ResponseLink {
  let link = state.responseLinks.get(id);
  if (link === undefined) {
    // Hand-built response URLs are accepted too; they are just not tied to a message.
    link = { channel: undefined, ts: undefined, user: undefined, uses: 0 };
    state.responseLinks.set(id, link);
  }
  return link;
}

function handleResponseUrl(
  state: FakeSlackState,
  id: string,
  req: IncomingMessage,
  raw: string,
  res: ServerResponse,
): void {
  const at = Date.now();
  const body = parseArgs(req, raw);
  const rule = state.takeFailure('response_url');
  if (rule !== undefined) {
    state.failures.push({ method: 'response_url', args: body ?? {}, at, mode: rule.mode, delivered: false });
    writeFailure(res, rule.mode);
    return;
  }
  const link = linkFor(state, id);
  let outcome: ResponseOutcome;
  if (body === undefined) outcome = { status: 400, error: 'invalid_payload' };
  else if (link.uses >= state.responseUrlMaxUses) outcome = { status: 404, error: 'used_url' };
  else {
    link.uses += 1;
    outcome = applyResponse(state, link, body);
  }
  state.responses.push({ id, body: body ?? {}, at, ...outcome });
  if (outcome.error === undefined) sendJson(res, outcome.status, { ok: true });
  else sendJson(res, outcome.status, { ok: false, error: outcome.error });
}

// ---------------------------------------------------------------------------------------------
// Web API handling
// ---------------------------------------------------------------------------------------------

function withoutToken(args: SlackArgs): SlackArgs {
  const { token: _token, ...rest } = args;
  return rest;
}

function answerCall(
  state: FakeSlackState,
  method: string,
  req: IncomingMessage,
  raw: string,
): RecordedCall & { result: MethodResult } {
  const at = Date.now();
  const token = bearerToken(req);
  const parsed = parseArgs(req, raw);
  const args = withoutToken(parsed ?? {});
  const authError = state.authError(token);
  const extra = Object.hasOwn(state.extraMethods, method) ? state.extraMethods[method] : undefined;
  let result: MethodResult;
  if (extra !== undefined) result = parsed === undefined ? fail('invalid_form_data') : extra({ token, args });
  else if (authError !== undefined) result = fail(authError);
  else if (parsed === undefined) result = fail('invalid_form_data');
  else result = state.dispatch(method, { args, token: token! });
  const call: RecordedCall = { method, args, token, at, ok: result.ok };
  if (!result.ok) call.error = result.error;
  state.calls.push(call);
  return { ...call, result };
}

function resultBody(result: MethodResult): SlackArgs {
  if (result.ok) return result;
  const { messages, ...rest } = result;
  return messages === undefined ? rest : { ...rest, response_metadata: { messages } };
}

function handleApiCall(
  state: FakeSlackState,
  method: string,
  req: IncomingMessage,
  raw: string,
  res: ServerResponse,
): void {
  const rule = state.takeFailure(method);
  if (rule === undefined) {
    sendJson(res, 200, resultBody(answerCall(state, method, req, raw).result));
    return;
  }
  // A lost response: Slack did the work but the client never learns it, so the call is recorded.
  const delivered = isDelivered(rule.mode);
  if (delivered) answerCall(state, method, req, raw);
  const args = withoutToken(parseArgs(req, raw) ?? {});
  state.failures.push({ method, args, at: Date.now(), mode: rule.mode, delivered });
  writeFailure(res, rule.mode);
}

function route(state: FakeSlackState, req: IncomingMessage, res: ServerResponse, raw: string): void {
  const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method !== 'POST' && req.method !== 'GET') {
    sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
    return;
  }
  const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(pathname);
  if (api) {
    handleApiCall(state, api[1]!, req, raw, res);
    return;
  }
  const response = /^\/response\/([^/]+)$/.exec(pathname);
  if (response && req.method === 'POST') {
    handleResponseUrl(state, decodeURIComponent(response[1]!), req, raw, res);
    return;
  }
  sendJson(res, 404, { ok: false, error: 'not_found' });
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Starts the fake on 127.0.0.1 with a random free port. */
export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  const state = new FakeSlackState(options);
  const server: Server = createServer((req, res) => {
    readBody(req).then(
      (raw) => route(state, req, res, raw),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  function addFailureRule(mode: FailureMode, filter: FailureFilter, remaining: number, until: number): void {
    state.failureRules.push({ mode, method: filter.method, remaining, until });
  }

  return {
    url: `${origin}/api/`,
    origin,
    responseUrl(link = {}) {
      const id = state.nextId('R');
      state.responseLinks.set(id, { channel: link.channel, ts: link.ts, user: link.user, uses: 0 });
      return `${origin}/response/${id}`;
    },
    calls: (method) => clone(state.calls.filter((c) => method === undefined || c.method === method)),
    failures: () => clone(state.failures),
    messages: (channel) =>
      clone([...state.messages.values()].filter((m) => channel === undefined || m.channel === channel)),
    message: (channel, ts) => clone(state.messages.get(messageKey(channel, ts))),
    ephemerals: () => clone(state.ephemerals),
    views: () => clone([...state.views.values()]),
    responses: (id) => clone(state.responses.filter((r) => id === undefined || r.id === id)),
    writesCount: ({ okOnly = false } = {}) =>
      state.calls.filter((c) => WRITE_METHODS.has(c.method) && (!okOnly || c.ok)).length,
    failNext(n, mode = 500, filter = {}) {
      addFailureRule(mode, filter, n, Number.POSITIVE_INFINITY);
    },
    failFor(ms, mode = 500, filter = {}) {
      addFailureRule(mode, filter, Number.POSITIVE_INFINITY, monotonicMs() + ms);
    },
    setUsergroup(id, members) {
      state.usergroups.set(id, [...members]);
    },
    reset() {
      state.calls.length = 0;
      state.failures.length = 0;
      state.messages.clear();
      state.ephemerals.length = 0;
      state.views.clear();
      state.responses.length = 0;
      state.responseLinks.clear();
      state.usedTriggers.clear();
      state.failureRules = [];
    },
    close() {
      // Keep-alive sockets from fetch would otherwise hold close() open until they time out.
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

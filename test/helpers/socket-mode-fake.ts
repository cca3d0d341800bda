/**
 * Socket Mode on top of the Slack Web API fake. `apps.connections.open` (app token only, as Slack
 * requires) hands out a one-time `ws://127.0.0.1:PORT/link/?ticket=…` URL; the WebSocket server
 * behind it greets each connection with `hello` the way Slack does, so the unmodified
 * `@slack/socket-mode` client inside Bolt connects to it. Tests then push envelopes
 * (`slash_commands`, `interactive`, …), await the app's ack `{ envelope_id, payload? }`, and send
 * `disconnect` to make the client reconnect. Everything else is the ordinary Web API fake.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { FAKE_DEFAULTS, type SlackFake, type SlackFakeOptions, startSlackFake } from './slack-fake.js';
import { type SlashCommandFields, slashCommandBody } from './slack-sign.js';

/** An app-level token shaped like Slack's (`xapp-<n>-<app id>-<n>-<secret>`). */
export const APP_TOKEN = `xapp-1-${FAKE_DEFAULTS.appId}-1-0123456789abcdef0123456789abcdef`;

/** Slack waits this long for an ack before it gives up on an envelope (and shows the user an error). */
export const SLACK_ACK_DEADLINE_MS = 3000;

export interface SocketModeFakeOptions extends SlackFakeOptions {
  /** The only app token `apps.connections.open` accepts. Default {@link APP_TOKEN}. */
  appToken?: string;
}

/** What Slack sends over the socket for one request from a user. */
export interface Envelope {
  type: 'slash_commands' | 'interactive' | 'events_api';
  payload: Record<string, unknown>;
  /** True when Slack uses the ack's payload as the response (slash commands, view submissions). */
  accepts_response_payload?: boolean;
  /** Generated when absent. */
  envelope_id?: string;
  retry_attempt?: number;
  retry_reason?: string;
}

/** The app's acknowledgement of one envelope. */
export interface EnvelopeAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface SocketModeFake extends SlackFake {
  readonly appToken: string;
  /** WebSocket connections accepted and greeted with `hello` so far. */
  connections(): number;
  /** Resolves once the `n`-th connection (1-based) has been greeted; rejects after `timeoutMs`. */
  waitForConnection(n: number, timeoutMs?: number): Promise<void>;
  /**
   * Sends an envelope on the newest open connection and resolves with the app's ack of it. Rejects
   * when none arrives within `timeoutMs` — by default Slack's own 3-second deadline.
   */
  deliver(envelope: Envelope, timeoutMs?: number): Promise<EnvelopeAck>;
  /**
   * Sends `{"type":"disconnect","reason":…}` on the newest open connection, as Slack does before it
   * recycles a server, and resolves once the app has closed that socket.
   */
  disconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled', timeoutMs?: number): Promise<void>;
  /** Every message the app sent over any connection, in arrival order. */
  received(): unknown[];
}

/** A slash command as a Socket Mode payload: the same fields Slack form-encodes over HTTP, as JSON. */
export function slashCommandPayload(
  fields: Partial<Record<keyof SlashCommandFields, string | undefined>> = {},
): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(slashCommandBody(fields)));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Starts the Web API fake with `apps.connections.open` and the WebSocket server it points at. */
export async function startSocketModeFake(options: SocketModeFakeOptions = {}): Promise<SocketModeFake> {
  const { appToken = APP_TOKEN, ...slackOptions } = options;
  const appId = options.bot?.appId ?? FAKE_DEFAULTS.appId;
  const tickets = new Set<string>();
  const open: WebSocket[] = [];
  const received: unknown[] = [];
  const pendingAcks = new Map<string, (ack: EnvelopeAck) => void>();
  const events = new EventEmitter();
  let accepted = 0;

  const wss = new WebSocketServer({ noServer: true });
  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    // Each URL from apps.connections.open is good for one connection, as on Slack.
    if (url.pathname !== '/link/' || !tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  function accept(ws: WebSocket): void {
    open.push(ws);
    ws.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        message = String(data);
      }
      received.push(message);
      const id = (message as { envelope_id?: unknown } | null)?.envelope_id;
      if (typeof id === 'string') pendingAcks.get(id)?.(message as EnvelopeAck);
    });
    ws.on('close', () => {
      if (open.includes(ws)) open.splice(open.indexOf(ws), 1);
      events.emit('closed', ws);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: open.length,
        debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: appId },
      }),
    );
    accepted += 1;
    events.emit('connection');
  }

  function newest(): WebSocket {
    const ws = open.at(-1);
    if (!ws) throw new Error('no open Socket Mode connection');
    return ws;
  }

  const slack = await startSlackFake({
    ...slackOptions,
    extraMethods: {
      ...slackOptions.extraMethods,
      'apps.connections.open': ({ token }) => {
        if (token === undefined) return { ok: false, error: 'not_authed' };
        // Slack's answer to a bot or user token here.
        if (!token.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
        if (token !== appToken) return { ok: false, error: 'invalid_auth' };
        const ticket = randomUUID();
        tickets.add(ticket);
        return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${appId}` };
      },
    },
  });

  return {
    ...slack,
    appToken,
    connections: () => accepted,
    waitForConnection(n, timeoutMs = 10_000) {
      const reached = new Promise<void>((resolve) => {
        const check = () => {
          if (accepted < n) return;
          events.off('connection', check);
          resolve();
        };
        events.on('connection', check);
        check();
      });
      return withTimeout(reached, timeoutMs, `Socket Mode connection #${n}`);
    },
    deliver(envelope, timeoutMs = SLACK_ACK_DEADLINE_MS) {
      const envelopeId = envelope.envelope_id ?? randomUUID();
      const ws = newest();
      const acked = new Promise<EnvelopeAck>((resolve) => pendingAcks.set(envelopeId, resolve));
      ws.send(JSON.stringify({ ...envelope, envelope_id: envelopeId }));
      return withTimeout(acked, timeoutMs, `the ack of ${envelope.type} envelope ${envelopeId}`).finally(() =>
        pendingAcks.delete(envelopeId),
      );
    },
    disconnect(reason = 'refresh_requested', timeoutMs = 10_000) {
      const ws = newest();
      const closed = new Promise<void>((resolve) => {
        const onClosed = (which: WebSocket) => {
          if (which !== ws) return;
          events.off('closed', onClosed);
          resolve();
        };
        events.on('closed', onClosed);
      });
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
      return withTimeout(closed, timeoutMs, `the app to close the socket after disconnect (${reason})`);
    },
    received: () => structuredClone(received),
    async close() {
      for (const ws of open) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await slack.close();
    },
  };
}

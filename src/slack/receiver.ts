import type { IncomingMessage, RequestListener, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Server as HTTPSServer, ServerOptions as HTTPSServerOptions } from 'node:https';
import type { ListenOptions } from 'node:net';
import { HTTPReceiver, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from 'pino';
import { SizedResponse } from '../http/sized-response.js';
import { type SignatureRefusal, verifySlackSignature } from '../http/slack-signature.js';

/** Where Slack posts commands and interactions (the manifest's request URLs). */
export const SLACK_EVENTS_PATH = '/slack/events';
/** Bolt's own limit on a request body. */
export const SLACK_BODY_LIMIT = 4 * 1024 * 1024;

function refuse(res: ServerResponse, status: 401 | 413): void {
  res.writeHead(status, status === 413 ? { connection: 'close' } : {});
  res.end();
}

/**
 * Reads the body of a request to the events path, up to `limit` bytes. `undefined` when it is
 * larger (answered 413 here, the rest of the upload not read).
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  done: (raw?: Buffer) => void,
): void {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    refuse(res, 413);
    req.destroy();
    done();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else if (!over) {
      over = true;
      refuse(res, 413);
      req.destroy();
      done();
    }
  });
  req.on('end', () => {
    if (!over) done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
  req.on('error', () => {
    if (!over && !res.headersSent) refuse(res, 401);
  });
}

/**
 * Bolt's HTTPReceiver with the Slack signature checked by us (src/http/slack-signature.ts) before
 * Bolt sees the request, and acks sent with a Content-Length (src/http/sized-response.ts). The
 * check sits in `requestListener`, which is what Bolt's own server calls and what anyone mounting
 * the receiver on another server calls, so no route to the listeners skips it. Bolt's own check is
 * off only because this one replaces it: the refusals are the same (401, nothing processed; 413
 * over 4 MB; the unsigned `ssl_check` ping reduced to itself).
 */
export class SignedHTTPReceiver extends HTTPReceiver {
  constructor(
    options: Omit<HTTPReceiverOptions, 'signatureVerification' | 'endpoints' | 'bodyLimit'> & {
      signingSecret: string;
      log: Logger;
      /** Told each refusal's reason (the bot counts them in /metrics). */
      onRefused?: (reason: SignatureRefusal) => void;
      now?: () => number;
    },
  ) {
    const { log, onRefused: count, now = Date.now, ...bolt } = options;
    super({
      ...bolt,
      endpoints: SLACK_EVENTS_PATH,
      bodyLimit: SLACK_BODY_LIMIT,
      signatureVerification: false,
    });
    const boltListener = this.requestListener;
    const onRefused = (reason: SignatureRefusal) => {
      log.warn({ reason }, 'refused a request to the Slack endpoint: its signature does not verify');
      count?.(reason);
    };
    this.requestListener = signedOnly(options.signingSecret, boltListener, now, onRefused);
  }

  override start(port: number): Promise<Server>;
  override start(port: string): Promise<Server>;
  override start(port: number | string | ListenOptions, serverOptions?: ServerOptions): Promise<Server>;
  override start(
    port: number | string | ListenOptions,
    httpsServerOptions?: HTTPSServerOptions,
  ): Promise<HTTPSServer>;
  override start(
    port: number | string | ListenOptions,
    serverOptions: object = {},
  ): Promise<Server | HTTPSServer> {
    return super.start(port, { ServerResponse: SizedResponse, ...serverOptions } as ServerOptions);
  }
}

/** Requests to the events path reach Bolt only with a valid signature; every other path as is. */
function signedOnly(
  signingSecret: string,
  next: RequestListener,
  now: () => number,
  onRefused: (reason: SignatureRefusal) => void,
): RequestListener {
  return (req, res) => {
    // Routed exactly as Bolt routes (WHATWG pathname: `/slack/./events` is the events path too).
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    if (pathname !== SLACK_EVENTS_PATH || req.method?.toUpperCase() !== 'POST') return next(req, res);
    readBody(req, res, SLACK_BODY_LIMIT, (raw) => {
      if (!raw) return;
      const verdict = verifySlackSignature(signingSecret, req.headers, raw.toString(), now());
      if (!verdict.ok) {
        onRefused(verdict.reason);
        return refuse(res, 401);
      }
      // Bolt reads `rawBody` instead of the (now consumed) stream when it is there.
      (req as IncomingMessage & { rawBody: Buffer }).rawBody = verdict.sslCheck
        ? Buffer.from('ssl_check=1')
        : raw;
      next(req, res);
    });
  };
}

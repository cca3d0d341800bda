import type { RequestListener, Server, ServerOptions } from 'node:http';
import type { Server as HTTPSServer, ServerOptions as HTTPSServerOptions } from 'node:https';
import type { ListenOptions } from 'node:net';
import { HTTPModuleFunctions, HTTPReceiver, type HTTPReceiverOptions } from '@slack/bolt';
import type { Logger } from 'pino';
import { SizedResponse } from '../http/sized-response.js';
import { type SignatureRefusal, verifySlackSignature } from '../http/slack-signature.js';

/** Where Slack posts commands and interactions (the manifest's request URLs). */
export const SLACK_EVENTS_PATH = '/slack/events';
/** Bolt's own limit on a request body (4 MB). */
export const SLACK_BODY_LIMIT = HTTPModuleFunctions.defaultBodyLimit;

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
    // Bolt's own body reader (limit, 413); it leaves `rawBody` on the request, which Bolt then
    // reads instead of the consumed stream.
    HTTPModuleFunctions.bufferIncomingMessage(req, SLACK_BODY_LIMIT).then(
      (buffered) => {
        const verdict = verifySlackSignature(signingSecret, req.headers, buffered.rawBody.toString(), now());
        if (!verdict.ok) {
          onRefused(verdict.reason);
          return HTTPModuleFunctions.buildNoBodyResponse(res, 401);
        }
        if (verdict.sslCheck) buffered.rawBody = Buffer.from('ssl_check=1');
        next(buffered, res);
      },
      (err: unknown) =>
        HTTPModuleFunctions.buildNoBodyResponse(
          res,
          HTTPModuleFunctions.isRawBodyError(err) && err.statusCode === 413 ? 413 : 401,
        ),
    );
  };
}

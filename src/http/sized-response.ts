import { type IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http';

type Held = { status: number; headers: OutgoingHttpHeaders };

/** Statuses that carry no body, where a Content-Length would be wrong. */
function bodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return 0;
  if (typeof chunk === 'string')
    return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return (chunk as Uint8Array).byteLength;
}

/**
 * A response that sends `Content-Length` when its whole body is given to `end()` right after
 * `writeHead()` — which is how Bolt answers every ack. Node fixes the framing at `writeHead()`,
 * before it knows the body, so such a response goes out chunked: five buffers in one `writev`
 * instead of one write, about a seventh of a bare Bolt app's CPU per request (bench/RESULTS.md).
 * `writeHead()` is held until `end()`; anything else (`write`, `flushHeaders`, headers given as an
 * array) sends the held head first, so streaming responses behave exactly as before.
 */
export class SizedResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  #held: Held | undefined;

  // Node's overloads: (status, headers?) and (status, statusMessage, headers?).
  override writeHead(status: number, ...rest: unknown[]): this {
    const [first] = rest;
    const canHold =
      this.#held === undefined &&
      !this.headersSent &&
      rest.length <= 1 &&
      (first === undefined || (typeof first === 'object' && first !== null && !Array.isArray(first)));
    if (!canHold) return this.#writeHead(status, ...rest);
    this.#held = { status, headers: (first ?? {}) as OutgoingHttpHeaders };
    this.statusCode = status;
    return this;
  }

  override write(...args: unknown[]): boolean {
    this.#release();
    return (super.write as (...a: unknown[]) => boolean)(...args);
  }

  override flushHeaders(): void {
    this.#release();
    super.flushHeaders();
  }

  override end(...args: unknown[]): this {
    const held = this.#held;
    if (held) {
      this.#held = undefined;
      const [chunk, encoding] = args;
      const framed = Object.keys(held.headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k));
      const sized =
        framed ||
        bodiless(held.status) ||
        this.hasHeader('content-length') ||
        this.hasHeader('transfer-encoding');
      this.#writeHead(
        held.status,
        sized ? held.headers : { ...held.headers, 'content-length': byteLength(chunk, encoding) },
      );
    }
    return (super.end as (...a: unknown[]) => this)(...args);
  }

  #release(): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    this.#writeHead(held.status, held.headers);
  }

  #writeHead(status: number, ...rest: unknown[]): this {
    return (super.writeHead as (...a: unknown[]) => this)(status, ...rest);
  }
}

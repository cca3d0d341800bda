import { type Dispatcher, request } from 'undici';

export interface HttpCallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  /** Bodies are read up to this many bytes; the rest is discarded, so an endless body cannot hang or exhaust memory. */
  maxBodyBytes?: number;
}

export interface HttpCallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  bodyTruncated: boolean;
  /** Milliseconds until the response headers arrived. */
  ttfbMs: number;
  /** Milliseconds until the (capped) body was read. */
  totalMs: number;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** One HTTP request, never following redirects (probes judge redirects themselves). */
export async function httpCall(url: string, options: HttpCallOptions): Promise<HttpCallResult> {
  const started = performance.now();
  const res = await request(url, {
    method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: options.headers,
    body: options.body,
    dispatcher: options.dispatcher,
    signal: options.signal,
  });
  const ttfbMs = performance.now() - started;
  const { body, truncated } = await readCapped(res.body, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  return {
    status: res.statusCode,
    headers: res.headers,
    body,
    bodyTruncated: truncated,
    ttfbMs,
    totalMs: performance.now() - started,
  };
}

async function readCapped(
  stream: AsyncIterable<Buffer> & { destroy(): void },
  max: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const room = max - size;
    if (chunk.length >= room) {
      if (room > 0) chunks.push(chunk.subarray(0, room));
      stream.destroy();
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

export function headerValue(headers: HttpCallResult['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function headerValues(headers: HttpCallResult['headers'], name: string): string[] {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

import zlib from 'node:zlib';
import { z } from 'zod';
import { errorOutcome, httpUrl, tryHttpCall } from './http.js';
import { type HttpCallResult, headerValue } from './http-util.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

const ENCODINGS = ['br', 'gzip', 'deflate', 'zstd'] as const;
type Encoding = (typeof ENCODINGS)[number];

const params = z.strictObject({
  url: httpUrl.meta({ description: 'A compressible resource (HTML, JS, CSS, JSON).' }),
  headers: z.record(z.string(), z.string()).optional().meta({ description: 'Extra request headers.' }),
  encodings: z
    .array(z.enum(ENCODINGS))
    .min(1)
    .default(['br', 'gzip'])
    .meta({ description: 'Encodings to offer, one request each (default br, gzip).' }),
  require: z
    .enum(['any', 'all'])
    .default('any')
    .meta({ description: 'Pass when any (default) or all of the encodings are honoured.' }),
  minBytes: z.number().int().min(0).default(1024).meta({
    description:
      'Only judge responses at least this large uncompressed (servers rightly skip tiny ones; default 1024).',
  }),
});

// Enough to see the size and to verify a decodable stream; the rest of a big asset is irrelevant.
const MAX_BODY_BYTES = 1024 * 1024;

type Verdict = {
  encoding: Encoding;
  outcome: 'honoured' | 'ignored' | 'broken';
  got: string;
  bytes: number;
  vary: string;
};

// A hostile or broken target could send a decompression bomb; past this we stop and trust the header.
const MAX_DECODED_BYTES = 64 * 1024 * 1024;
const DECODE_LIMIT = { maxOutputLength: MAX_DECODED_BYTES };

const DECODERS: Record<Encoding, (b: Buffer) => Buffer> = {
  br: (b) => zlib.brotliDecompressSync(b, DECODE_LIMIT),
  gzip: (b) => zlib.gunzipSync(b, DECODE_LIMIT),
  deflate: (b) => zlib.inflateSync(b, DECODE_LIMIT),
  zstd: (b) => zlib.zstdDecompressSync(b, DECODE_LIMIT),
};

function contentEncoding(res: HttpCallResult): string {
  return headerValue(res.headers, 'content-encoding')?.trim().toLowerCase() || 'identity';
}

/** A body that claims an encoding but does not decode would break every client that asked for it. */
function decodes(encoding: Encoding, res: HttpCallResult): boolean {
  if (res.bodyTruncated) return true; // a prefix cannot be verified; trust the header
  try {
    DECODERS[encoding](res.body);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
  }
}

async function probeEncoding(
  url: string,
  encoding: Encoding,
  headers: Record<string, string>,
  ctx: CheckContext,
): Promise<Verdict | string> {
  const { res, error } = await tryHttpCall(url, ctx, {
    headers: { ...headers, 'accept-encoding': encoding },
    maxBodyBytes: MAX_BODY_BYTES,
  });
  if (!res) return error;
  const got = contentEncoding(res);
  const seen = { encoding, got, bytes: res.body.length, vary: headerValue(res.headers, 'vary') ?? '' };
  if (got !== encoding) return { ...seen, outcome: 'ignored' };
  return { ...seen, outcome: decodes(encoding, res) ? 'honoured' : 'broken' };
}

function describe(v: Verdict): string {
  if (v.outcome === 'honoured') return `${v.encoding} ✓`;
  if (v.outcome === 'broken') return `${v.encoding} ✗ (does not decode)`;
  return `${v.encoding} ✗ (${v.got})`;
}

export default defineCheck({
  type: 'compression',
  summary:
    'Offers each Accept-Encoding in turn and checks the response comes back with that Content-Encoding.',
  params,
  defaultTimeoutMs: 15_000,
  async run(p, ctx): Promise<CheckOutcome> {
    const expected = `${p.require === 'all' ? 'all of' : 'any of'} ${p.encodings.join(', ')}`;
    const headers = p.headers ?? {};
    // The identity response gives the real size, so small responses are not held against the server.
    const identity = await tryHttpCall(p.url, ctx, {
      headers: { ...headers, 'accept-encoding': 'identity' },
      maxBodyBytes: MAX_BODY_BYTES,
    });
    if (!identity.res) return errorOutcome(expected, identity.error);
    const size = identity.res.body.length;
    if (identity.res.status >= 400) {
      return errorOutcome(
        expected,
        `${p.url} answered ${identity.res.status}; compression needs a real resource`,
        String(identity.res.status),
      );
    }
    if (contentEncoding(identity.res) === 'identity' && size < p.minBytes) {
      const detail = `response is ${size} bytes, below minBytes ${p.minBytes}; nothing to judge`;
      return {
        status: 'skipped',
        observed: `${size} bytes`,
        expected,
        detail,
        metrics: { identityBytes: size },
      };
    }
    const verdicts: Verdict[] = [];
    for (const encoding of p.encodings) {
      const verdict = await probeEncoding(p.url, encoding, headers, ctx);
      if (typeof verdict === 'string') return errorOutcome(expected, `${encoding} request: ${verdict}`);
      verdicts.push(verdict);
    }
    const honoured = verdicts.filter((v) => v.outcome === 'honoured');
    const metrics: Record<string, number> = { identityBytes: size, honoured: honoured.length };
    for (const v of honoured) metrics[`${v.encoding}Bytes`] = v.bytes;
    const observed = verdicts.map(describe).join(', ');
    const broken = verdicts.filter((v) => v.outcome === 'broken');
    if (broken.length) {
      return fail(
        observed,
        expected,
        `Content-Encoding ${broken.map((v) => v.encoding).join(', ')} claimed but the body does not decode`,
        metrics,
      );
    }
    const ok = p.require === 'all' ? honoured.length === verdicts.length : honoured.length > 0;
    if (!ok) {
      const missing = verdicts.filter((v) => v.outcome !== 'honoured').map((v) => v.encoding);
      return fail(
        observed,
        expected,
        `not honoured: ${missing.join(', ')} (${size} bytes uncompressed)`,
        metrics,
      );
    }
    const note = honoured.every((v) => /accept-encoding|\*/i.test(v.vary))
      ? ''
      : 'Vary lacks Accept-Encoding: shared caches may serve a compressed body to a client that did not ask for it';
    return pass(observed, expected, note, metrics);
  },
});

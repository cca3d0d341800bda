import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Slack's replay window: a request signed more than five minutes from our clock is refused. */
export const SIGNATURE_MAX_SKEW_S = 5 * 60;

/** Why a request was refused: a code for logs and metrics, never the signature or the secret. */
export type SignatureRefusal =
  | 'missing_headers'
  | 'bad_timestamp'
  | 'stale_or_future'
  | 'unknown_version'
  | 'mismatch';

export type SignatureVerdict = { ok: true; sslCheck: boolean } | { ok: false; reason: SignatureRefusal };

const FORM = 'application/x-www-form-urlencoded';

/**
 * Slack's `ssl_check=1` ping is unsigned. Like Bolt, we let it through only as the bare ping: the
 * caller replaces the body with `ssl_check=1`, so nothing smuggled beside it reaches a listener.
 * The substring test first, because parsing every form body a second time costs more than
 * everything else here.
 */
function isSslCheck(headers: IncomingHttpHeaders, rawBody: string): boolean {
  if (headers['content-type'] !== FORM || !rawBody.includes('ssl_check=')) return false;
  return new URLSearchParams(rawBody).get('ssl_check') === '1';
}

/**
 * Slack's request signature (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the signing secret, compared in
 * constant time; the timestamp within five minutes of `nowMs` either way (Bolt refuses only the
 * past). We check it ourselves instead of Bolt because Bolt compares through `tsscmp`, whose two
 * HMACs under a fresh random Buffer key take most of a request's CPU on Node 24 (bench/RESULTS.md).
 */
export function verifySlackSignature(
  signingSecret: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
  nowMs: number,
): SignatureVerdict {
  if (isSslCheck(headers, rawBody)) return { ok: true, sslCheck: true };
  const signature = headers['x-slack-signature'];
  const stamp = headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof stamp !== 'string')
    return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(stamp)) return { ok: false, reason: 'bad_timestamp' };
  if (Math.abs(nowMs / 1000 - Number(stamp)) > SIGNATURE_MAX_SKEW_S)
    return { ok: false, reason: 'stale_or_future' };
  if (!signature.startsWith('v0=')) return { ok: false, reason: 'unknown_version' };
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${stamp}:${rawBody}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'mismatch' };
  return { ok: true, sslCheck: false };
}

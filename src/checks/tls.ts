import net from 'node:net';
import tls from 'node:tls';
import { z } from 'zod';
import { DeployCheckError, describeError } from '../errors.js';
import { guardedConnectOptions } from '../net/guard.js';
import { abortDetail, CERT_ERRORS, describeCertError, describeNetError } from './stats.js';
import { type CheckContext, type CheckOutcome, defineCheck } from './types.js';

const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type TlsVersion = (typeof TLS_VERSIONS)[number];

const DAY_MS = 86_400_000;

const params = z
  .object({
    host: z.string().min(1).meta({ description: 'Host name (or IP) to connect to.' }),
    port: z.coerce
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(443)
      .meta({ description: 'TLS port (a number, or a {{var}} that holds one).' }),
    servername: z
      .string()
      .optional()
      .meta({ description: 'SNI name and the name the certificate must match (default: host).' }),
    minDaysValid: z
      .number()
      .min(0)
      .default(14)
      .meta({ description: 'Fail when the certificate expires within this many days.' }),
    warnDays: z
      .number()
      .min(0)
      .default(30)
      .meta({ description: 'Warn when the certificate expires within this many days.' }),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').meta({
      description:
        'Lowest acceptable protocol: the negotiated one must be at least this, and the server must refuse the version below.',
    }),
    allowUntrusted: z.boolean().optional().meta({
      description:
        "Don't fail on an untrusted chain (self-signed, unknown CA). Default: the checklist's tls.rejectUnauthorized.",
    }),
  })
  .strict();

type Params = z.infer<typeof params>;

export interface TlsTarget {
  host: string;
  port: number;
  servername?: string | undefined;
}

/**
 * Opens a TLS connection that obeys the address policy, adds `ctx.tls.ca` to the trusted roots
 * and gives up when `ctx.signal` fires. Certificates are not rejected unless `extra` says so,
 * so callers can inspect and judge them.
 */
export function openTls(
  target: TlsTarget,
  ctx: CheckContext,
  extra: tls.ConnectionOptions = {},
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    if (ctx.signal.aborted) return reject(ctx.signal.reason);
    let socket: tls.TLSSocket;
    try {
      const host = target.host.replace(/^\[|\]$/g, '');
      const sni = target.servername ?? (net.isIP(host) ? undefined : host);
      socket = tls.connect({
        ...guardedConnectOptions(host, ctx.policy),
        port: target.port,
        ...(sni ? { servername: sni } : {}),
        rejectUnauthorized: false,
        ...(ctx.tls.ca ? { ca: [...tls.rootCertificates, ctx.tls.ca] } : {}),
        ...extra,
      });
    } catch (err) {
      return reject(err);
    }
    const onAbort = () => {
      socket.destroy();
      reject(ctx.signal.reason);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    socket.once('error', (err) => {
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
  });
}

/** The one-line reason a TLS connection failed, and whether the failure was TLS itself (vs. network). */
export function describeTlsError(
  err: unknown,
  ctx: CheckContext,
  target: string,
): { tlsLevel: boolean; reason: string } {
  if (ctx.signal.aborted) return { tlsLevel: false, reason: abortDetail(ctx.signal, ctx.timeoutMs) };
  const e = err as { code?: unknown; reason?: unknown } | undefined;
  if (!(err instanceof DeployCheckError) && typeof e?.code === 'string' && e.code.startsWith('ERR_SSL_')) {
    // OpenSSL messages carry addresses and source paths; its `reason` is the human part.
    const reason = typeof e.reason === 'string' ? e.reason : describeError(err);
    return { tlsLevel: true, reason: `TLS handshake with ${target} failed: ${reason}` };
  }
  const cert = typeof e?.code === 'string' ? CERT_ERRORS[e.code] : undefined;
  if (cert) return { tlsLevel: true, reason: `TLS handshake with ${target} failed: ${cert}` };
  return { tlsLevel: false, reason: describeNetError(err, target) };
}

interface Findings {
  problems: string[];
  warnings: string[];
  notes: string[];
}

export default defineCheck({
  type: 'tls',
  summary:
    'Checks a TLS endpoint: certificate validity window and days left, hostname match, chain trust, and protocol version (including that older versions are refused).',
  params,
  defaultTimeoutMs: 15_000,
  async run(p, ctx) {
    const targetText = `${p.host}:${p.port}`;
    const expected = `trusted certificate for ${p.servername ?? p.host}, ≥ ${p.minDaysValid} days left, ${p.minVersion}+ only`;
    const target: TlsTarget = { host: p.host, port: p.port, servername: p.servername };
    const started = performance.now();
    let socket: tls.TLSSocket;
    try {
      socket = await openTls(target, ctx);
    } catch (err) {
      const { tlsLevel, reason } = describeTlsError(err, ctx, targetText);
      return { status: tlsLevel ? 'fail' : 'error', observed: 'no TLS session', expected, detail: reason };
    }
    const handshakeMs = performance.now() - started;
    const cert = socket.getPeerCertificate();
    const version = socket.getProtocol() ?? 'unknown';
    const authorized = socket.authorized;
    const authError = socket.authorizationError ? String(socket.authorizationError) : undefined;
    socket.destroy();
    if (!cert?.valid_to) {
      return {
        status: 'fail',
        observed: `${version}, no certificate`,
        expected,
        detail: 'server sent no certificate',
      };
    }

    const findings: Findings = { problems: [], warnings: [], notes: [] };
    const daysLeft = (Date.parse(cert.valid_to) - Date.now()) / DAY_MS;
    const validity = judgeValidity(cert, daysLeft, p, findings);
    judgeIdentity(cert, p, findings);
    const leafDatesBad = daysLeft < 0 || Date.now() < Date.parse(cert.valid_from);
    const trust = judgeTrust(authorized, authError, leafDatesBad, p, ctx, findings);
    judgeVersion(version, p.minVersion, findings);
    await probeOlderVersion(target, p.minVersion, ctx, findings);

    const cn = cert.subject?.CN ? `CN=${cert.subject.CN}` : 'no CN';
    const observed = [trust === 'trusted' ? validity : `${trust}, ${validity}`, version, cn].join(', ');
    const status = findings.problems.length > 0 ? 'fail' : findings.warnings.length > 0 ? 'warn' : 'pass';
    const detail = [...findings.problems, ...findings.warnings, ...findings.notes].join('; ');
    const metrics = {
      daysLeft: Math.round(daysLeft * 10) / 10,
      handshakeMs: Math.round(handshakeMs * 10) / 10,
    };
    return { status, observed, expected, detail, metrics } satisfies CheckOutcome;
  },
});

/** Validity window and days left; returns the observed phrase ("valid, 89 days left"). */
function judgeValidity(cert: tls.PeerCertificate, daysLeft: number, p: Params, f: Findings): string {
  const notBefore = Date.parse(cert.valid_from);
  const notAfter = Date.parse(cert.valid_to);
  const now = Date.now();
  if (now > notAfter) {
    const ago = Math.floor(-daysLeft);
    f.problems.push(`certificate has expired (on ${isoDay(notAfter)})`);
    return `expired ${ago === 0 ? 'today' : `${ago} day${ago === 1 ? '' : 's'} ago`}`;
  }
  if (now < notBefore) {
    f.problems.push(`certificate is not yet valid (from ${isoDay(notBefore)})`);
    return 'not yet valid';
  }
  const days = Math.floor(daysLeft);
  if (daysLeft < p.minDaysValid) {
    f.problems.push(
      `certificate expires in ${days} days (on ${isoDay(notAfter)}), less than ${p.minDaysValid}`,
    );
  } else if (daysLeft < p.warnDays) {
    f.warnings.push(`certificate expires in ${days} days (on ${isoDay(notAfter)}), less than ${p.warnDays}`);
  }
  return `valid, ${days} day${days === 1 ? '' : 's'} left`;
}

function judgeIdentity(cert: tls.PeerCertificate, p: Params, f: Findings): void {
  const name = p.servername ?? p.host.replace(/^\[|\]$/g, '');
  const mismatch = tls.checkServerIdentity(name, cert);
  if (mismatch) f.problems.push(mismatch.message);
}

/** Chain verification; returns "trusted" or "untrusted (reason)". */
function judgeTrust(
  authorized: boolean,
  authError: string | undefined,
  leafDatesBad: boolean,
  p: Params,
  ctx: CheckContext,
  f: Findings,
): string {
  if (authorized) return 'trusted';
  const reason = authError ? describeCertError(authError) : 'not trusted';
  // The leaf's own dates are reported by judgeValidity; this only adds a chain-level date problem.
  const dateCode = authError === 'CERT_HAS_EXPIRED' || authError === 'CERT_NOT_YET_VALID';
  if (dateCode) {
    if (!leafDatesBad) f.problems.push(`certificate chain: ${reason}`);
    return 'trusted';
  }
  const allow = p.allowUntrusted ?? !ctx.tls.rejectUnauthorized;
  if (allow) f.notes.push(`untrusted chain allowed: ${reason}`);
  else f.problems.push(`untrusted chain: ${reason}`);
  return `untrusted (${reason})`;
}

function judgeVersion(version: string, minVersion: TlsVersion, f: Findings): void {
  const rank = TLS_VERSIONS.indexOf(version as TlsVersion);
  if (rank < TLS_VERSIONS.indexOf(minVersion)) f.problems.push(`negotiated ${version}, below ${minVersion}`);
}

/**
 * Offers only the version just below the minimum: a server that completes that handshake would
 * let a downgraded client in. OpenSSL's default security level refuses TLS 1.0/1.1 even as a
 * client, so those are offered at level 0; if the client still cannot offer it, we say so.
 */
async function probeOlderVersion(target: TlsTarget, minVersion: TlsVersion, ctx: CheckContext, f: Findings) {
  const older = TLS_VERSIONS[TLS_VERSIONS.indexOf(minVersion) - 1];
  if (!older) return;
  const legacy = older === 'TLSv1' || older === 'TLSv1.1';
  try {
    const socket = await openTls(target, ctx, {
      minVersion: older,
      maxVersion: older,
      ...(legacy ? { ciphers: 'DEFAULT@SECLEVEL=0' } : {}),
    });
    socket.destroy();
    f.problems.push(`server accepts ${older}`);
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    if (ctx.signal.aborted)
      f.notes.push(`could not test ${older} (${abortDetail(ctx.signal, ctx.timeoutMs)})`);
    else if (CLIENT_CANNOT_OFFER.has(code)) f.notes.push(`could not test ${older} (client refuses)`);
    else if (!isRefusal(code))
      f.notes.push(`could not test ${older} (${describeNetError(err, `${target.host}:${target.port}`)})`);
  }
}

const CLIENT_CANNOT_OFFER = new Set(['ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_NO_CIPHERS_AVAILABLE']);

/** A protocol alert, or the server closing or resetting the handshake: it refused the version. */
function isRefusal(code: string): boolean {
  return code.startsWith('ERR_SSL_') || code === 'ECONNRESET' || code === 'EPIPE';
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

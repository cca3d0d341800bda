import { z } from 'zod';
import { describeTlsError, openTls, type TlsTarget } from './tls.js';
import { defineCheck, fail, pass } from './types.js';

const params = z
  .object({
    url: z
      .url({ protocol: /^https$/ })
      .optional()
      .meta({ description: 'https URL whose host and port to check (alternative to host/port).' }),
    host: z.string().min(1).optional().meta({ description: 'Host name (or IP) to connect to.' }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .meta({ description: "TLS port (default 443, or the URL's)." }),
    servername: z.string().optional().meta({ description: 'SNI name (default: host).' }),
  })
  .strict()
  .refine((p) => (p.url === undefined) !== (p.host === undefined), {
    message: 'set either url or host',
    path: ['host'],
  });

type Params = z.infer<typeof params>;

function targetOf(p: Params): TlsTarget {
  if (p.url) {
    const u = new URL(p.url);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return { host, port: p.port ?? (u.port ? Number(u.port) : 443), servername: p.servername };
  }
  return { host: p.host ?? '', port: p.port ?? 443, servername: p.servername };
}

export default defineCheck({
  type: 'http2',
  summary: 'Checks that a TLS endpoint offers HTTP/2 (negotiates "h2" via ALPN).',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx) {
    const target = targetOf(p);
    const targetText = `${target.host}:${target.port}`;
    const expected = 'h2 negotiated via ALPN';
    try {
      // Trust follows the checklist's tls settings, as the http probes' does.
      const socket = await openTls(target, ctx, {
        ALPNProtocols: ['h2', 'http/1.1'],
        rejectUnauthorized: ctx.tls.rejectUnauthorized,
      });
      const alpn = socket.alpnProtocol;
      const version = socket.getProtocol() ?? 'TLS';
      socket.destroy();
      if (alpn === 'h2') return pass(`h2 (${version})`, expected, '', { h2: 1 });
      if (alpn === 'http/1.1') {
        return fail(`http/1.1 (${version})`, expected, 'server negotiated http/1.1 only', { h2: 0 });
      }
      return fail(`no ALPN (${version})`, expected, 'server negotiated no ALPN protocol: HTTP/1.1 only', {
        h2: 0,
      });
    } catch (err) {
      const { tlsLevel, reason } = describeTlsError(err, ctx, targetText);
      return {
        status: tlsLevel && isAlpnRefusal(err) ? 'fail' : 'error',
        observed: 'no TLS session',
        expected,
        detail: reason,
      };
    }
  },
});

/** A server that supports neither offered protocol may abort the handshake with this alert. */
function isAlpnRefusal(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL';
}

import { generate } from 'selfsigned';

export interface KeyAndCert {
  key: string;
  cert: string;
}

export interface CertOptions {
  /** Common name; also the DNS subjectAltName. Default "localhost". */
  cn?: string;
  /** Extra IP subjectAltNames. Default ["127.0.0.1"] (when cn is localhost). */
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with this CA instead of self-signing. */
  ca?: KeyAndCert;
}

const DAY_MS = 86_400_000;

/** Days from now as a Date (negative for the past), for notBefore / notAfter. */
export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * DAY_MS);
}

/** A test CA: trust it via `tls.ca` to make certificates signed by it verify. */
export async function makeCa(cn = 'deploy-check test CA'): Promise<KeyAndCert> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: daysFromNow(-1),
    notAfterDate: daysFromNow(365),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** A server certificate (self-signed unless `ca` is given) with any validity window, including expired ones. */
export async function makeCert(options: CertOptions = {}): Promise<KeyAndCert> {
  const cn = options.cn ?? 'localhost';
  const ips = options.ips ?? (cn === 'localhost' ? ['127.0.0.1'] : []);
  const notBefore = options.notBefore ?? daysFromNow(-1);
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: options.notAfter ?? new Date(notBefore.getTime() + 90 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [{ type: 2, value: cn }, ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
    ...(options.ca ? { ca: options.ca } : {}),
  });
  return { key: pems.private, cert: pems.cert };
}

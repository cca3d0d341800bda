import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { DeployCheckError, ErrorCode } from '../errors.js';

/**
 * Which addresses probes may connect to. Cloud metadata services answer on link-local addresses
 * and hand out credentials, so a checklist (which anyone with repo access can edit) must opt in
 * explicitly before a probe may reach them.
 */
export interface AddressPolicy {
  allowLinkLocal: boolean;
}

export const defaultPolicy: AddressPolicy = Object.freeze({ allowLinkLocal: false });

const blocked = new net.BlockList();
blocked.addSubnet('169.254.0.0', 16, 'ipv4');
blocked.addSubnet('fe80::', 10, 'ipv6');
blocked.addAddress('fd00:ec2::254', 'ipv6');
// IPv4-mapped IPv6 forms of the IPv4 link-local range.
blocked.addSubnet('::ffff:169.254.0.0', 112, 'ipv6');

/** Why an address is refused, or undefined when it may be used. */
export function refusalReason(address: string, policy: AddressPolicy): string | undefined {
  if (policy.allowLinkLocal) return undefined;
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return undefined;
  if (blocked.check(address, family)) {
    return `${address} is a link-local / cloud-metadata address; set "network: { allowLinkLocal: true }" in the checklist to allow it`;
  }
  return undefined;
}

export function assertAddressAllowed(address: string, policy: AddressPolicy): void {
  const reason = refusalReason(address, policy);
  if (reason) throw new DeployCheckError(ErrorCode.AddressRefused, `refused: ${reason}`);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | dns.LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup` replacement that refuses forbidden addresses after resolution, so a hostname
 * that resolves to a metadata address (or rebinds to one) is refused the same as the literal.
 */
export function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const reason = refusalReason(a.address, policy);
        if (reason)
          return callback(
            new DeployCheckError(ErrorCode.AddressRefused, `refused: ${reason}`) as never,
            '',
            0,
          );
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first)
        return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Connection options for node:net / node:tls that obey the policy (literal IPs are checked too). */
export function guardedConnectOptions(
  host: string,
  policy: AddressPolicy,
): { host: string; lookup: ReturnType<typeof guardedLookup> } {
  assertAddressAllowed(host.replace(/^\[|\]$/g, ''), policy);
  return { host, lookup: guardedLookup(policy) };
}

export interface DispatcherOptions {
  connections?: number;
  pipelining?: number;
  allowH2?: boolean;
  tls?: TlsTrust;
}

/** How probes verify certificates: an extra CA (a staging or demo target's own) or, on explicit opt-in, not at all. */
export interface TlsTrust {
  ca?: string;
  rejectUnauthorized: boolean;
}

/** An undici Agent whose every connection goes through the guarded lookup. */
export function createGuardedDispatcher(policy: AddressPolicy, options: DispatcherOptions = {}): Dispatcher {
  const connector = buildConnector({
    lookup: guardedLookup(policy),
    rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    ...(options.tls?.ca ? { ca: [...tls.rootCertificates, options.tls.ca] } : {}),
  } as buildConnector.BuildOptions);
  return new Agent({
    connections: options.connections ?? null,
    pipelining: options.pipelining ?? 1,
    allowH2: options.allowH2 ?? false,
    connect: (opts, cb) => {
      const reason = refusalReason(opts.hostname.replace(/^\[|\]$/g, ''), policy);
      if (reason) {
        cb(new DeployCheckError(ErrorCode.AddressRefused, `refused: ${reason}`), null);
        return;
      }
      connector(opts, cb);
    },
  });
}

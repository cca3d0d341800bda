import net from 'node:net';

/** A redis:// or rediss:// URL taken apart, for connecting through the address policy. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** host:port — the only part of the URL ever printed (it carries the password). */
  display: string;
}

export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\/[^/]/.test(url) && URL.canParse(url);
}

/** The URL's parts, or undefined when it is not a redis:// or rediss:// URL. */
export function parseRedisUrl(url: string): RedisTarget | undefined {
  if (!isRedisUrl(url)) return undefined;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : 6379;
  const db = Number(u.pathname.slice(1) || 0);
  return {
    host,
    port,
    db: Number.isInteger(db) ? db : 0,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
    display: `${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
  };
}

import compression from './compression.js';
import env from './env.js';
import exposed from './exposed.js';
import headers from './headers.js';
import http from './http.js';
import http2 from './http2.js';
import latency from './latency.js';
import load from './load.js';
import mongodb from './mongodb.js';
import ports from './ports.js';
import prometheus from './prometheus.js';
import rateLimit from './rate-limit.js';
import redirect from './redirect.js';
import redis from './redis.js';
import tls from './tls.js';
import type { CheckDefinition } from './types.js';

/** Every probe type, in the order the docs list them. Adding a probe = one file + one line here. */
export const checkDefinitions: readonly CheckDefinition[] = [
  http,
  latency,
  load,
  tls,
  redirect,
  headers,
  compression,
  http2,
  exposed,
  rateLimit,
  ports,
  env,
  mongodb,
  redis,
  prometheus,
] as CheckDefinition[];

export function findCheck(type: string): CheckDefinition | undefined {
  return checkDefinitions.find((d) => d.type === type);
}

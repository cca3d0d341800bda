import type { CheckContext } from '../../src/checks/types.js';
import { createGuardedDispatcher, defaultPolicy } from '../../src/net/guard.js';

/**
 * A CheckContext as the engine would build it: guarded dispatcher, default address policy,
 * strict TLS. Overrides replace fields; a `tls` override also configures the dispatcher.
 */
export function makeContext(overrides: Partial<CheckContext> = {}): CheckContext {
  const timeoutMs = overrides.timeoutMs ?? 5_000;
  const policy = overrides.policy ?? defaultPolicy;
  const tls = overrides.tls ?? { rejectUnauthorized: true };
  return {
    signal: AbortSignal.timeout(timeoutMs),
    policy,
    tls,
    dispatcher: createGuardedDispatcher(policy, { tls }),
    baseDir: process.cwd(),
    timeoutMs,
    ...overrides,
  };
}

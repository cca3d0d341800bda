/**
 * What-if (BENCH_WHATIF=dispatcher, see whatif-hooks.mjs): src/net/guard with guarded dispatchers
 * shared per (policy, options) within the process, their close() a no-op — i.e. the engine keeps
 * one keep-alive dispatcher per worker instead of opening new connections on every run. Shows what
 * reusing it would buy in bench/engine-overhead.ts and bench/worker-memory.ts. Not used by the product.
 */
import type { Dispatcher } from 'undici';
import * as real from '../../src/net/guard.js';

export * from '../../src/net/guard.js';

const shared = new Map<string, Dispatcher>();

export function createGuardedDispatcher(
  policy: real.AddressPolicy,
  options: real.DispatcherOptions = {},
): Dispatcher {
  const key = JSON.stringify([policy, options]);
  let d = shared.get(key);
  if (!d) {
    const target = real.createGuardedDispatcher(policy, options);
    d = new Proxy(target, {
      get(t, prop) {
        if (prop === 'close' || prop === 'destroy') return async () => undefined;
        const v = Reflect.get(t, prop, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    shared.set(key, d);
  }
  return d;
}

// `node --import ./bench/lib/stub-drivers.mjs …`: answers `import 'mongodb'` and `import 'ioredis'`
// with empty stand-ins. Used only by bench/cli-start.ts to show what start-up would cost if the
// probe modules loaded those drivers lazily (inside run()) instead of at import time.
import { registerHooks } from 'node:module';

const STUBS = {
  mongodb: 'export class MongoClient {} export class MongoServerError extends Error {} export default {};',
  ioredis: 'export class Redis {} export default Redis;',
};

registerHooks({
  resolve(specifier, context, next) {
    if (Object.hasOwn(STUBS, specifier))
      return { url: `data:text/javascript,${encodeURIComponent(STUBS[specifier])}`, shortCircuit: true };
    return next(specifier, context);
  },
});

/**
 * Vitest global setup: starts the real services the suites need, on ports chosen here, and
 * hands their URLs to the tests through environment variables that child processes inherit.
 *   - Redis: `DC_TEST_REDIS_URL` if set, else a `redis-server` started here.
 *   - MongoDB: `MONGODB_URI` if set (a real MongoDB), else FerretDB v1 built from
 *     test/mongo-server (see scripts/test-services.sh), started here over SQLite.
 * When a service cannot be had, the variable stays unset and the suites that need it skip
 * with one line saying why (`DC_TEST_*_UNAVAILABLE` carries the reason).
 */
import { startTestServices, type TestServices } from '../../scripts/test-services.js';

let services: TestServices | undefined;

export async function setup(): Promise<void> {
  services = await startTestServices({ quiet: true });
  for (const [k, v] of Object.entries(services.env)) process.env[k] = v;
}

export async function teardown(): Promise<void> {
  await services?.stop();
}

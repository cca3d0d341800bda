/** The real services started by test/setup/services.ts, or the reason a suite must skip. */
export function redisUrl(): string | undefined {
  return process.env.DC_TEST_REDIS_URL;
}

export function mongoUri(): string | undefined {
  return process.env.DC_TEST_MONGODB_URI;
}

export function mongoKind(): 'mongodb' | 'ferretdb' {
  return process.env.DC_TEST_MONGODB_KIND === 'mongodb' ? 'mongodb' : 'ferretdb';
}

/** Prints the one line a skipped suite owes its reader, and returns whether to skip. */
export function skipUnless(service: 'redis' | 'mongodb'): boolean {
  const have = service === 'redis' ? redisUrl() : mongoUri();
  if (have) return false;
  const why =
    service === 'redis' ? process.env.DC_TEST_REDIS_UNAVAILABLE : process.env.DC_TEST_MONGODB_UNAVAILABLE;
  console.warn(`skipping: no ${service} for this suite (${why ?? 'not started'})`);
  return true;
}

let counter = 0;
/** A queue/prefix/database name unique to this test, so suites never see each other's data. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

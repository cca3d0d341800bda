import { fork } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRedis } from '../../scripts/test-services.js';
import { mongoUri, skipUnless, uniqueName } from '../helpers/services.js';

const root = path.resolve(import.meta.dirname, '../..');

describe.skipIf(skipUnless('redis') || skipUnless('mongodb'))('worker shutdown', () => {
  it('ends within its bound on SIGTERM even when Redis is gone', async () => {
    const redis = await startRedis();
    const child = fork(path.join(root, 'jobs/worker.ts'), [], {
      cwd: root,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: {
        ...process.env,
        SLACK_BOT_TOKEN: 'xoxb-unused',
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
        REDIS_URL: redis.url,
        MONGODB_URI: mongoUri()!,
        MONGODB_DB: uniqueName('shutdown').replace(/[^a-zA-Z0-9_-]/g, '_'),
        QUEUE_PREFIX: uniqueName('sd'),
        SHUTDOWN_TIMEOUT_MS: '1000',
        LOG_LEVEL: 'silent',
      },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker exited early with ${code}`)));
    });
    redis.child.kill('SIGKILL');
    await new Promise((r) => redis.child.once('exit', r));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    // Bounded: the shutdown timeout (1 s) plus the forced close (1 s) plus process teardown.
    expect(Date.now() - started).toBeLessThan(8000);
    expect(code).toBe(0);
  }, 30_000);
});

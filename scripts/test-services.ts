import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const mongoServerBinary = path.join(root, '.tools', 'mongo-server');

export interface TestServices {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`${name} exited with code ${child.exitCode}`));
        return;
      }
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) {
          reject(new Error(`${name} did not listen on ${port} within ${timeoutMs} ms`));
          return;
        }
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export async function startRedis(port?: number): Promise<{ url: string; child: ChildProcess; port: number }> {
  const bin = which('redis-server');
  if (!bin)
    throw new Error('redis-server is not installed (apt-get install -y redis-server, or run .ci/run)');
  const p = port ?? (await freePort());
  const child = spawn(
    bin,
    [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(p, child, 'redis-server');
  return { url: `redis://127.0.0.1:${p}`, child, port: p };
}

export async function startMongoServer(
  port?: number,
): Promise<{ uri: string; child: ChildProcess; dir: string; port: number }> {
  if (!existsSync(mongoServerBinary)) {
    throw new Error(
      `${path.relative(root, mongoServerBinary)} is not built (bash scripts/build-mongo-server.sh needs Go)`,
    );
  }
  const p = port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-ferret-'));
  const child = spawn(mongoServerBinary, ['-listen', `127.0.0.1:${p}`, '-dir', dir], { stdio: 'ignore' });
  await waitForPort(p, child, 'mongo-server (FerretDB)');
  return { uri: `mongodb://127.0.0.1:${p}/`, child, dir, port: p };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startTestServices(opts: { quiet?: boolean } = {}): Promise<TestServices> {
  const env: Record<string, string> = {};
  const stops: Array<() => Promise<void>> = [];
  const log = (msg: string) => {
    if (!opts.quiet) console.log(msg);
  };

  if (process.env.DC_TEST_REDIS_URL) {
    env.DC_TEST_REDIS_URL = process.env.DC_TEST_REDIS_URL;
  } else {
    try {
      const redis = await startRedis();
      env.DC_TEST_REDIS_URL = redis.url;
      stops.push(() => stopChild(redis.child));
      log(`redis: ${redis.url}`);
    } catch (err) {
      env.DC_TEST_REDIS_UNAVAILABLE = (err as Error).message;
    }
  }

  if (process.env.MONGODB_URI) {
    env.DC_TEST_MONGODB_URI = process.env.MONGODB_URI;
    env.DC_TEST_MONGODB_KIND = 'mongodb';
  } else if (process.env.DC_TEST_MONGODB_URI) {
    env.DC_TEST_MONGODB_URI = process.env.DC_TEST_MONGODB_URI;
    env.DC_TEST_MONGODB_KIND = process.env.DC_TEST_MONGODB_KIND ?? 'ferretdb';
  } else {
    try {
      const mongo = await startMongoServer();
      env.DC_TEST_MONGODB_URI = mongo.uri;
      env.DC_TEST_MONGODB_KIND = 'ferretdb';
      stops.push(async () => {
        await stopChild(mongo.child);
        rmSync(mongo.dir, { recursive: true, force: true });
      });
      log(`mongodb (FerretDB): ${mongo.uri}`);
    } catch (err) {
      env.DC_TEST_MONGODB_UNAVAILABLE = (err as Error).message;
    }
  }

  return {
    env,
    async stop() {
      await Promise.allSettled(stops.map((s) => s()));
    },
  };
}

/** `tsx scripts/test-services.ts`: start the services for a developer's local run and print their URLs. */
async function main(): Promise<void> {
  const services = await startTestServices();
  for (const [k, v] of Object.entries(services.env)) console.log(`export ${k}=${JSON.stringify(v)}`);
  console.log('# services running; Ctrl-C to stop');
  const stop = () => {
    void services.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

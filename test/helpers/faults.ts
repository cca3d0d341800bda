/**
 * Support for the fault-injection suites (test/e2e/faults-*.test.ts, test/soak/*): services of the
 * suite's own that can be stopped and started again on the same port with the same data, a probe
 * target whose answers take a while, and read-outs of a run's thread as a user would see it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, mongoServerBinary } from '../../scripts/test-services.js';
import { waitFor } from './harness.js';
import type { FakeMessage, SlackFake } from './slack-fake.js';

/** A service process that can be stopped and started again on the same port over the same data. */
export interface Restartable {
  readonly port: number;
  readonly url: string;
  readonly running: boolean;
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

function waitExit(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

async function listening(port: number, child: ChildProcess, name: string): Promise<void> {
  const net = await import('node:net');
  await waitFor(
    `${name} to listen on ${port}`,
    () =>
      new Promise<boolean | undefined>((resolve) => {
        if (child.exitCode !== null) {
          resolve(undefined);
          return;
        }
        const sock = net.connect(port, '127.0.0.1');
        sock.once('connect', () => {
          sock.destroy();
          resolve(true);
        });
        sock.once('error', () => {
          sock.destroy();
          resolve(undefined);
        });
      }),
    20_000,
  );
}

function restartable(
  name: string,
  port: number,
  dir: string,
  url: string,
  spawnIt: () => ChildProcess,
): Restartable {
  let child: ChildProcess | undefined;
  const self: Restartable = {
    port,
    url,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (self.running) return;
      // A port just released can still be refused for a moment: retry the spawn until it listens.
      await waitFor(
        `${name} to start on ${port}`,
        async () => {
          child = spawnIt();
          try {
            await listening(port, child, name);
            return true;
          } catch {
            await waitExit(child, 'SIGKILL');
            return undefined;
          }
        },
        30_000,
      );
    },
    async stop(signal = 'SIGTERM') {
      if (child) await waitExit(child, signal);
    },
    async dispose() {
      if (child) await waitExit(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/**
 * A Redis of the suite's own, persisting every write to an append-only file in a fixed directory
 * (`appendfsync always`), so that a restart — even after SIGKILL — comes back with the queues, as
 * a production Redis configured for BullMQ does.
 */
export async function ownRedis(): Promise<Restartable> {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) throw new Error('redis-server is not installed');
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-faults-redis-'));
  const r = restartable('redis-server', port, dir, `redis://127.0.0.1:${port}`, () =>
    spawn(
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    ),
  );
  await r.start();
  return r;
}

/** The MongoDB-compatible test server (FerretDB over SQLite) of the suite's own, on a fixed data directory. */
export async function ownMongo(): Promise<Restartable> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-faults-ferret-'));
  const m = restartable('mongo-server', port, dir, `mongodb://127.0.0.1:${port}/`, () =>
    spawn(mongoServerBinary, ['-listen', `127.0.0.1:${port}`, '-dir', dir], { stdio: 'ignore' }),
  );
  await m.start();
  return m;
}

/** A probe target: `/slow/<anything>?ms=N` answers 200 after N ms (default 150); everything else at once. */
export async function slowTarget(): Promise<{ url: string; hits: () => number; close(): Promise<void> }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    const u = new URL(req.url ?? '/', 'http://x');
    const ms = u.pathname.startsWith('/slow') ? Number(u.searchParams.get('ms') ?? 150) : 0;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'), ms);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

interface Meta {
  event_type?: string;
  event_payload?: { run?: string; part?: string };
}

const metaOf = (m: FakeMessage): Meta | undefined => m.metadata as Meta | undefined;

export const textOf = (m: FakeMessage | undefined): string =>
  JSON.stringify(m?.blocks ?? '') + (m?.text ?? '');

/** The run's parent message (the one without thread_ts that carries the run's metadata). */
export function parentOf(slack: SlackFake, channel: string, runId: string): FakeMessage | undefined {
  return slack
    .messages(channel)
    .find(
      (m) =>
        !m.thread_ts &&
        metaOf(m)?.event_payload?.run === runId &&
        metaOf(m)?.event_payload?.part === 'parent',
    );
}

/** The run's messages, by part (parent, phase:<id>, signoff), as lists: more than one is a duplicate. */
export function partsOf(slack: SlackFake, runId: string): Map<string, FakeMessage[]> {
  const out = new Map<string, FakeMessage[]>();
  for (const m of slack.messages()) {
    const p = metaOf(m)?.event_payload;
    if (p?.run !== runId || !p.part) continue;
    // One message per (thread, part): the parent is keyed by its channel, the rest by their thread.
    const key = `${m.thread_ts ?? m.channel}|${p.part}`;
    const list = out.get(key) ?? [];
    list.push(m);
    out.set(key, list);
  }
  return out;
}

/** Every (thread, part) posted more than once — of the given runs, or of all — as "run thread part ×n". */
export function duplicateParts(slack: SlackFake, runIds?: readonly string[]): string[] {
  const count = new Map<string, number>();
  for (const m of slack.messages()) {
    const p = metaOf(m)?.event_payload;
    if (!p?.run || !p.part || (runIds && !runIds.includes(p.run))) continue;
    const key = `${p.run} ${m.thread_ts ?? m.channel} ${p.part}`;
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  return [...count].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}

/** The message of one part of a run (the first, if duplicated). */
export function partMessage(slack: SlackFake, runId: string, part: string): FakeMessage | undefined {
  for (const [key, list] of partsOf(slack, runId)) if (key.endsWith(`|${part}`)) return list[0];
  return undefined;
}

/** A small seeded PRNG (mulberry32), so a failing random schedule can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves after `ms` — only for pacing fault injection (when to strike), never to wait for a state. */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

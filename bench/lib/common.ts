/**
 * Shared by the benchmark scripts: statistics, tables, the services each script starts and stops
 * itself (Redis, the MongoDB-compatible test server), and child processes that run TypeScript.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMongoServer, startRedis } from '../../scripts/test-services.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------------------------------------
// Statistics and tables
// ---------------------------------------------------------------------------------------------

/** Nearest-rank percentile of unsorted values (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '-';
  return n.toFixed(digits);
}

export function ratio(ours: number, reference: number, digits = 2): string {
  if (!Number.isFinite(ours) || !Number.isFinite(reference) || reference === 0) return '-';
  return `${(ours / reference).toFixed(digits)}x`;
}

/** Prints an aligned table: first column left-aligned, the rest right-aligned. */
export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const [n, r] of cells.entries()) {
    console.log(
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    );
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}

/** One line naming the machine and how busy it is, so a noisy run can be recognised later. */
export function machineLine(): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `node ${process.version}, ${os.availableParallelism()} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load avg ${load}`;
}

export function header(title: string): void {
  console.log(`\n== ${title} ==`);
  console.log(machineLine());
}

// ---------------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------------

export interface Services {
  redisUrl?: string;
  mongoUri?: string;
  /** Process ids of the services, to read their CPU time (`procCpuMs`). */
  pids: { redis?: number; mongo?: number };
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const cleanups = new Set<() => Promise<void> | void>();
let hooked = false;

/** Runs `fn` when the script ends, also on Ctrl-C or an uncaught error, so no service outlives it. */
export function onExit(fn: () => Promise<void> | void): () => void {
  cleanups.add(fn);
  if (!hooked) {
    hooked = true;
    const run = async (code: number) => {
      const all = [...cleanups];
      cleanups.clear();
      await Promise.allSettled(all.map((f) => f()));
      process.exit(code);
    };
    process.once('SIGINT', () => void run(130));
    process.once('SIGTERM', () => void run(143));
  }
  return () => cleanups.delete(fn);
}

export async function runCleanups(): Promise<void> {
  const all = [...cleanups];
  cleanups.clear();
  await Promise.allSettled(all.map((f) => f()));
}

/** Starts the services a script needs on free ports; `stop()` (also run on Ctrl-C) stops them. */
export async function startServices(want: { redis?: boolean; mongo?: boolean }): Promise<Services> {
  const stops: Array<() => Promise<void>> = [];
  const out: Services = {
    pids: {},
    async stop() {
      await Promise.allSettled(stops.map((s) => s()));
    },
  };
  onExit(() => out.stop());
  if (want.redis) {
    const r = await startRedis();
    out.redisUrl = r.url;
    if (r.child.pid) out.pids.redis = r.child.pid;
    stops.push(() => stopChild(r.child));
  }
  if (want.mongo) {
    if (!existsSync(path.join(ROOT, '.tools', 'mongo-server'))) {
      console.log('building the MongoDB-compatible test server (bash scripts/build-mongo-server.sh)…');
      const b = spawnSync('bash', ['scripts/build-mongo-server.sh'], { cwd: ROOT, stdio: 'inherit' });
      if (b.status !== 0) throw new Error('could not build .tools/mongo-server (needs Go)');
    }
    const m = await startMongoServer();
    out.mongoUri = m.uri;
    if (m.child.pid) out.pids.mongo = m.child.pid;
    stops.push(async () => {
      await stopChild(m.child);
      rmSync(m.dir, { recursive: true, force: true });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU time of processes and of the machine (Linux /proc)
// ---------------------------------------------------------------------------------------------

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux everywhere in practice). */
const CLK_TCK = 100;

/** CPU time (user + system, all threads) a process has used so far, in ms; NaN if unreadable. */
export function procCpuMs(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime
  } catch {
    return Number.NaN;
  }
}

/** The whole machine's CPU time so far (ms summed over all CPUs): busy (not idle or iowait) and total. */
export function machineCpuMs(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number); // user nice system idle iowait irq softirq steal
    const total = v.reduce((a, b) => a + b, 0);
    const idle = v[3]! + v[4]!;
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/** This process's own CPU time so far (ms), e.g. the load generator running in it. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

export interface Child {
  child: ChildProcess;
  /** The first IPC message (`{ ready: true, … }`). */
  ready: Record<string, unknown>;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Forks a TypeScript entry under tsx and waits for its `{ ready }` IPC message. */
export function forkTs(
  entry: string,
  opts: {
    env?: Record<string, string>;
    args?: string[];
    execArgv?: string[];
    /** Node options placed after `--import tsx` (e.g. further `--import` hooks). */
    afterTsx?: string[];
    /** Another checkout to run `entry` from (its own files, `entry` relative to it); default ROOT. */
    cwd?: string;
    timeoutMs?: number;
  } = {},
): Promise<Child> {
  const output: string[] = [];
  const cwd = opts.cwd ?? ROOT;
  const child = fork(path.resolve(cwd, entry), opts.args ?? [], {
    cwd,
    env: { ...process.env, ...opts.env },
    execArgv: [...(opts.execArgv ?? []), '--import', 'tsx', ...(opts.afterTsx ?? [])],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill(signal);
    });
  };
  onExit(() => stop('SIGKILL'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`${entry} did not start within ${opts.timeoutMs ?? 30_000} ms:\n${output.join('')}`),
        ),
      opts.timeoutMs ?? 30_000,
    );
    const onMessage = (m: Record<string, unknown>) => {
      if (!m?.ready) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve({ child, ready: m, output, stop });
    };
    child.on('message', onMessage);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with ${code}:\n${output.join('')}`));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `probe` returns a truthy value or the deadline passes. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Runs a script's main: cleanups run whether it succeeds or throws, then the process exits. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    async () => {
      await runCleanups();
      process.exit(0);
    },
    async (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      await runCleanups();
      process.exit(1);
    },
  );
}

const TARGET_SOURCE = `
const http = require('node:http');
const body = Buffer.from('{"ok":true}');
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
`;

/** A trivial node:http target (200, 11-byte JSON) in a child process, so it has its own event loop. */
export async function startHttpTarget(): Promise<{ url: string; pid: number; stop: () => void }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', TARGET_SOURCE], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  };
  onExit(stop);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`target exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}

/** CPU time (user + system, µs) a child forked by forkTs has used, asked over IPC. */
export function childCpu(c: Child): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (m: { cpu?: NodeJS.CpuUsage }) => {
      if (!m?.cpu) return;
      c.child.off('message', onMessage);
      resolve(m.cpu.user + m.cpu.system);
    };
    c.child.on('message', onMessage);
    c.child.send('cpu');
  });
}

/**
 * The `load` probe against autocannon (and wrk when installed): same target, same connections,
 * same duration. The target runs in a child process so neither client shares its event loop.
 *
 *   npx tsx bench/load-vs-autocannon.ts [connections=50] [seconds=5]
 *
 * Goal: load's req/s ≥ 1.0× autocannon's, p50/p99 within 5% (autocannon keeps whole
 * milliseconds, so on a sub-millisecond loopback target its percentiles are coarse; wrk's are
 * microsecond-precise and serve as the second reference).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import load from '../src/checks/load.js';
import type { CheckContext } from '../src/checks/types.js';
import { createGuardedDispatcher, defaultPolicy } from '../src/net/guard.js';
import { startHttpTarget } from './lib/common.js';

interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number };
  duration: number;
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
}) => Promise<AutocannonResult>;

interface Row {
  tool: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** Client CPU (user + system) per request: less sensitive than req/s to other load on the machine. */
  cpuUs: number;
}

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

const connections = Number(process.argv[2] ?? 50);
const seconds = Number(process.argv[3] ?? 5);

function makeCtx(timeoutMs: number): CheckContext {
  return {
    signal: AbortSignal.timeout(timeoutMs),
    policy: defaultPolicy,
    tls: { rejectUnauthorized: true },
    dispatcher: createGuardedDispatcher(defaultPolicy),
    baseDir: process.cwd(),
    timeoutMs,
  };
}

async function runLoad(url: string, durationS: number): Promise<Row> {
  const params = load.params.parse({ url, connections, duration: `${durationS}s`, thresholds: {} });
  const cpu = process.cpuUsage();
  const out = await load.run(params, makeCtx(durationS * 1000 + 20_000));
  const m = out.metrics ?? {};
  if (out.status !== 'pass') console.error(`load: ${out.status} ${out.detail}`);
  return {
    tool: 'load probe',
    rps: m.rps ?? 0,
    p50: m.p50 ?? 0,
    p99: m.p99 ?? 0,
    errors: m.errors ?? 0,
    cpuUs: cpuPerRequest(cpu, m.requests ?? 0),
  };
}

async function runAutocannon(url: string): Promise<Row> {
  const cpu = process.cpuUsage();
  const r = await autocannon({ url, connections, duration: seconds, pipelining: 1 });
  return {
    tool: 'autocannon',
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
    cpuUs: cpuPerRequest(cpu, r.requests.total),
  };
}

async function runWrk(url: string): Promise<Row | undefined> {
  const which = await promisify(execFile)('which', ['wrk']).catch(() => undefined);
  if (!which?.stdout.trim()) return undefined;
  const { stdout } = await promisify(execFile)('wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    url,
  ]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  return {
    tool: 'wrk (-t1)',
    rps,
    p50: wrkPercentile(stdout, '50%'),
    p99: wrkPercentile(stdout, '99%'),
    errors: 0,
    cpuUs: Number.NaN,
  };
}

function cpuPerRequest(since: NodeJS.CpuUsage, requests: number): number {
  const used = process.cpuUsage(since);
  return requests > 0 ? (used.user + used.system) / requests : Number.NaN;
}

function wrkPercentile(stdout: string, label: string): number {
  const m = new RegExp(`^\\s+${label}\\s+([\\d.]+)(us|ms|s)`, 'm').exec(stdout);
  if (!m) return 0;
  const scale = m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1;
  return Number(m[1]) * scale;
}

function fmt(n: number, digits = 2): string {
  return n.toFixed(digits).padStart(11);
}

function printTable(rows: Row[]): void {
  const head = ['req/s', 'p50 ms', 'p99 ms', 'cpu µs/req'].map((h) => h.padStart(11)).join('');
  console.log(`${'tool'.padEnd(12)}${head}${'errors'.padStart(8)}`);
  for (const r of rows) {
    const cpu = Number.isNaN(r.cpuUs) ? '-'.padStart(11) : fmt(r.cpuUs, 1);
    console.log(
      `${r.tool.padEnd(12)}${fmt(r.rps, 0)}${fmt(r.p50)}${fmt(r.p99)}${cpu}${String(r.errors).padStart(8)}`,
    );
  }
}

function mean(rows: Row[], key: 'rps' | 'p50' | 'p99' | 'cpuUs'): number {
  return rows.reduce((s, r) => s + r[key], 0) / rows.length;
}

async function main(): Promise<void> {
  const started = await startHttpTarget();
  const target = { url: `${started.url}/`, stop: started.stop };
  try {
    console.log(
      `node ${process.version}, ${availableParallelism()} CPUs, ${connections} connections, ${seconds} s per run`,
    );
    await runLoad(target.url, 1); // warms the target's JIT; not reported
    const rows: Row[] = [];
    for (let i = 0; i < 2; i += 1) {
      rows.push(await runAutocannon(target.url));
      rows.push(await runLoad(target.url, seconds));
    }
    const wrk = await runWrk(target.url);
    if (wrk) rows.push(wrk);
    printTable(rows);
    const ac = rows.filter((r) => r.tool === 'autocannon');
    const ours = rows.filter((r) => r.tool === 'load probe');
    console.log(
      `load/autocannon: req/s ${(mean(ours, 'rps') / mean(ac, 'rps')).toFixed(3)}x, ` +
        `p50 ${mean(ours, 'p50').toFixed(3)} vs ${mean(ac, 'p50').toFixed(3)} ms, ` +
        `p99 ${mean(ours, 'p99').toFixed(3)} vs ${mean(ac, 'p99').toFixed(3)} ms, ` +
        `client CPU/req ${(mean(ours, 'cpuUs') / mean(ac, 'cpuUs')).toFixed(3)}x`,
    );
    if (wrk) console.log(`load/wrk: req/s ${(mean(ours, 'rps') / wrk.rps).toFixed(3)}x`);
  } finally {
    target.stop();
  }
}

await main();

/**
 * CLI start to first probe: from spawning `node dist/cli/deploy-check.js run <checklist>` (the
 * bundled CLI: the package's bin and the image's CLI) to the moment its first HTTP probe reaches
 * a local server (in this process, same clock). Reference, same run: `node -e ""` spawn-to-exit,
 * i.e. Node's own start-up. Goal: ≤ 300 ms.
 *
 *   npx tsx bench/cli-start.ts [runs=15]
 *
 * Also measured, interleaved with the above so noise hits all alike:
 *   - `node dist/src/cli.js run …`, the same CLI unbundled (tsc's output, ~400 module files);
 *   - `tsx src/cli.ts run …` (what `npm run deploy-check` does);
 * and where the unbundled start-up goes: the incremental cost of importing each layer.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  fmt,
  header,
  median,
  onExit,
  percentile,
  printTable,
  ROOT,
  ratio,
  runMain,
  verdict,
} from './lib/common.js';

const RUNS = Number(process.argv[2] ?? 15);
const WARMUP = 2;
/** Samples of the secondary variants (what-ifs, tsx, --help): fewer, to stay under ~90 s. */
const SIDE_RUNS = Math.min(RUNS, 8);
const GOAL_MS = 300;
const CLI = path.join(ROOT, 'dist', 'cli', 'deploy-check.js');
const UNBUNDLED = path.join(ROOT, 'dist', 'src', 'cli.js');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

const CHECKLIST = `# One http probe: the first request the CLI makes is the one this benchmark waits for.
name: first-probe
service: bench
vars:
  baseUrl: http://127.0.0.1:9
phases:
  - id: one
    title: One
    items:
      - id: ping
        title: First probe
        check: { type: http, url: "{{baseUrl}}/ping", expect: { status: 200 } }
`;

function ensureBuilt(): void {
  if (existsSync(CLI) && existsSync(UNBUNDLED)) return;
  console.log('dist/ is missing: npm run build …');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  // tsc emits even when another file has a type error; what matters here is the emitted CLI.
  if (!existsSync(CLI) || !existsSync(UNBUNDLED))
    throw new Error(`npm run build did not produce both CLIs (exit ${r.status})`);
}

interface Variant {
  name: string;
  /** Command and args for run number n (its probe goes to /r<n>/ping). */
  argv: (n: number) => [string, string[]];
  probes: boolean;
  /** Fewer samples for slow variants, to keep the script under ~90 s. */
  runs?: number;
  env?: Record<string, string>;
  first: number[];
  exit: number[];
}

const arrivals = new Map<number, number>();

function startTarget(): Promise<{ base: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    const at = performance.now();
    const n = Number(/^\/r(\d+)\//.exec(req.url ?? '')?.[1]);
    if (Number.isFinite(n) && !arrivals.has(n)) arrivals.set(n, at);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        base: `http://127.0.0.1:${port}`,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      });
    }),
  );
}

let counter = 0;

/** Spawns one variant; returns ms from spawn to its first probe (if any) and to its exit. */
async function once(v: Variant): Promise<{ first: number; exit: number }> {
  const n = ++counter;
  const [cmd, args] = v.argv(n);
  const t0 = performance.now();
  const child = spawn(cmd, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...v.env },
  });
  let err = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const exit = performance.now() - t0;
  const arrived = arrivals.get(n);
  if (v.probes && arrived === undefined)
    throw new Error(`${v.name}: no probe arrived (exit ${code}):\n${err.slice(0, 2000)}`);
  return { first: arrived === undefined ? Number.NaN : arrived - t0, exit };
}

/** Incremental import cost of each layer, in dependency order, in a fresh process. */
const IMPORT_STEPS: Array<[string, string]> = [
  ['zod', 'zod'],
  ['yaml', 'yaml'],
  ['undici', 'undici'],
  ['hdr-histogram-js', 'hdr-histogram-js'],
  ['ioredis (redis probe)', 'ioredis'],
  ['mongodb driver (mongodb probe)', 'mongodb'],
  ['src/checks/registry (15 probe modules)', './dist/src/checks/registry.js'],
  ['src/checklist/schema', './dist/src/checklist/schema.js'],
  ['src/checklist/load', './dist/src/checklist/load.js'],
  ['src/run/engine', './dist/src/run/engine.js'],
  ['src/cli/main (rest of the CLI)', './dist/src/cli/main.js'],
];

function importBreakdown(samples: number): Map<string, number[]> {
  const script = `
    const steps = ${JSON.stringify(IMPORT_STEPS)};
    const out = {};
    for (const [name, spec] of steps) { const t = performance.now(); await import(spec); out[name] = performance.now() - t; }
    process.stdout.write(JSON.stringify(out));`;
  const all = new Map<string, number[]>();
  for (let i = 0; i < samples; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`import breakdown failed: ${r.stderr}`);
    for (const [k, v] of Object.entries(JSON.parse(r.stdout) as Record<string, number>))
      all.set(k, [...(all.get(k) ?? []), v]);
  }
  return all;
}

async function main(): Promise<void> {
  header(`CLI start to first probe (${RUNS} runs per variant, interleaved, ${WARMUP} warm-up)`);
  ensureBuilt();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-bench-cli-'));
  const target = await startTarget();
  onExit(() => {
    target.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const file = path.join(dir, 'first-probe.yml');
  writeFileSync(file, CHECKLIST);
  const runArgs = (n: number) => ['run', file, '--var', `baseUrl=${target.base}/r${n}`];
  const cli = (n: number, file = CLI): [string, string[]] => [process.execPath, [file, ...runArgs(n)]];
  const variants: Variant[] = [
    { name: 'node dist/cli/deploy-check.js run', argv: (n) => cli(n), probes: true, first: [], exit: [] },
    {
      name: 'node dist/src/cli.js run (unbundled)',
      argv: (n) => cli(n, UNBUNDLED),
      probes: true,
      first: [],
      exit: [],
    },
    {
      name: 'tsx src/cli.ts run',
      argv: (n) => [TSX, ['src/cli.ts', ...runArgs(n)]],
      probes: true,
      runs: Math.min(RUNS, 4),
      first: [],
      exit: [],
    },
    {
      name: 'node dist/cli/deploy-check.js --help',
      argv: () => [process.execPath, [CLI, '--help']],
      probes: false,
      runs: SIDE_RUNS,
      first: [],
      exit: [],
    },
    {
      name: 'reference: node -e ""',
      argv: () => [process.execPath, ['-e', '']],
      probes: false,
      first: [],
      exit: [],
    },
  ];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    for (const v of variants) {
      if (i >= WARMUP + (v.runs ?? RUNS)) continue;
      const r = await once(v);
      if (i < WARMUP) continue;
      v.first.push(r.first);
      v.exit.push(r.exit);
    }
  }
  const ref = variants.at(-1)!;
  const refP50 = median(ref.exit);
  printTable(
    ['variant', 'n', 'first probe p50 ms', 'p90', 'exit p50 ms', 'p90', 'p50 / node -e'],
    variants.map((v) => {
      const basis = v.probes ? v.first : v.exit;
      return [
        v.name,
        v.exit.length,
        v.probes ? fmt(median(v.first)) : '-',
        v.probes ? fmt(percentile(v.first, 90)) : '-',
        fmt(median(v.exit)),
        fmt(percentile(v.exit, 90)),
        ratio(median(basis), refP50),
      ];
    }),
  );
  const ours = variants[0]!;
  const p50 = median(ours.first);
  const p90 = percentile(ours.first, 90);
  console.log(
    `\ngoal: start to first probe ≤ ${GOAL_MS} ms — p50 ${fmt(p50)} ms, p90 ${fmt(p90)} ms: ${verdict(p90 <= GOAL_MS)} ` +
      `(Node's own start-up ${fmt(refP50)} ms; ${ratio(p50, refP50)})`,
  );
  const unbundled = median(variants[1]!.first);
  console.log(
    `bundled vs unbundled: p50 ${fmt(p50)} vs ${fmt(unbundled)} ms (${ratio(p50, unbundled)}), saves ${fmt(unbundled - p50)} ms`,
  );

  console.log(
    '\nwhere unbundled start-up goes: incremental import cost per layer, dist/src, median of 5 fresh processes',
  );
  const steps = importBreakdown(5);
  let total = 0;
  const rows = [...steps].map(([name, v]) => {
    total += median(v);
    return [name, fmt(median(v)), fmt(Math.min(...v)), fmt(Math.max(...v))];
  });
  printTable(
    ['import (after the ones above)', 'median ms', 'min', 'max'],
    [...rows, ['total', fmt(total), '', '']],
  );
  target.close();
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);

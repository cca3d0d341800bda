/**
 * `npm run bench`: every benchmark in sequence, each in its own process (each starts and stops
 * the services it needs). A missed goal is reported by the script itself; a script that crashes
 * makes this exit non-zero.
 *
 *   npx tsx bench/run-all.ts [--only name,name]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fmt, printTable, ROOT } from './lib/common.js';

const ALL = [
  'cli-start',
  'ack-path',
  'slack-writes',
  'engine-overhead',
  'worker-memory',
  'store-cost',
  'load-vs-autocannon',
];

const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? (process.argv[onlyArg + 1] ?? '').split(',') : ALL;
const unknown = only.filter((n) => !ALL.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  process.exit(2);
}

function run(name: string): Promise<{ code: number | null; seconds: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', `${name}.ts`)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve({ code, seconds: (performance.now() - t0) / 1000 });
    }),
  );
}

const results: Array<[string, number | null, number]> = [];
for (const name of ALL.filter((n) => only.includes(n))) {
  console.log(`\n######## bench/${name}.ts`);
  const { code, seconds } = await run(name);
  results.push([name, code, seconds]);
}
console.log('\n######## summary');
printTable(
  ['benchmark', 'exit', 'seconds'],
  results.map(([n, c, s]) => [n, String(c), fmt(s, 0)]),
);
process.exit(results.some(([, c]) => c !== 0) ? 1 : 0);

/**
 * Bundles the CLI into dist/cli/ (entry dist/cli/deploy-check.js). A CLI run is mostly start-up,
 * and start-up was mostly Node resolving and reading ~400 module files of zod, undici, yaml and
 * our own code; one chunk halves it (bench/cli-start.ts). Code splitting keeps what only some
 * commands need (import, report, demo) in chunks loaded on demand, and keeps the entry tiny so
 * the compile cache it enables covers the big chunk. The database drivers and the histogram
 * library stay external: they load lazily, from node_modules, only for the probes that use them.
 *
 *   node scripts/bundle-cli.mjs [outdir=dist/cli]
 */
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// An argument builds elsewhere (the bundle test); it must stay inside the project so the external
// drivers still resolve from its node_modules.
const outdir = path.resolve(root, process.argv[2] ?? path.join('dist', 'cli'));

await build({
  absWorkingDir: root,
  entryPoints: { 'deploy-check': 'src/cli.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external: ['mongodb', 'ioredis', 'hdr-histogram-js'],
  // Bundled CommonJS dependencies (undici) call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __dcRequire } from 'node:module'; const require = __dcRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
chmodSync(path.join(outdir, 'deploy-check.js'), 0o755);

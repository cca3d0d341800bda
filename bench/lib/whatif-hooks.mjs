// `node --import tsx --import ./bench/lib/whatif-hooks.mjs …` with BENCH_WHATIF=memo,dispatcher:
// swaps a src module for a bench/lib stand-in that shows what a recommended fix would buy.
//   memo    — src/checklist/load → memo-checklist.ts (parsed checklists memoised)
//   dispatcher — src/net/guard   → guard-shared.ts (one keep-alive dispatcher per process, not per run)
// Used only by the benchmarks' what-if figures; the product never loads these.
import { registerHooks } from 'node:module';

const SWAPS = {
  memo: ['../../src/checklist/load.ts', './memo-checklist.ts'],
  dispatcher: ['../../src/net/guard.ts', './guard-shared.ts'],
};
const wanted = (process.env.BENCH_WHATIF ?? '').split(',').filter((w) => w in SWAPS);
const table = wanted.map((w) => {
  const [real, standIn] = SWAPS[w];
  return { real: new URL(real, import.meta.url).href, standIn: new URL(standIn, import.meta.url).href };
});

registerHooks({
  resolve(specifier, context, next) {
    if (context.parentURL && specifier.startsWith('.')) {
      const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL).href;
      const swap = table.find((s) => s.real === url && context.parentURL !== s.standIn);
      if (swap) return { url: swap.standIn, shortCircuit: true };
    }
    return next(specifier, context);
  },
});

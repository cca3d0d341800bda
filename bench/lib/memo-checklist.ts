/**
 * What-if for bench/ack-path.ts (`--what-if-memo`): src/checklist/load with parsed checklists
 * memoised by (file, content hash, vars). Swapped in for the real module by whatif-hooks.mjs; shows
 * what caching the parse would buy on the slash and click paths. Not used by the product.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as real from '../../src/checklist/load.js';
import type { Checklist } from '../../src/checklist/model.js';

export * from '../../src/checklist/load.js';

const MAX = 128;
const cache = new Map<string, Checklist>();

function keyOf(text: string, file: string, vars: Record<string, string> | undefined): string {
  const v = vars ? JSON.stringify(Object.entries(vars).sort(([a], [b]) => (a < b ? -1 : 1))) : '';
  return `${createHash('sha256').update(text).digest('hex')}\0${file}\0${v}`;
}

export function parseChecklist(text: string, options: real.ParseOptions): Checklist {
  const key = keyOf(text, options.file, options.vars);
  const hit = cache.get(key);
  if (hit) return hit;
  const parsed = real.parseChecklist(text, options);
  if (cache.size >= MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, parsed);
  return parsed;
}

export function loadChecklistFile(file: string, vars?: Record<string, string>): Checklist {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return real.loadChecklistFile(file, vars); // the real module's errors
  }
  const checklist = parseChecklist(text, { file, ...(vars ? { vars } : {}) });
  return { ...checklist, baseDir: path.dirname(path.resolve(file)) };
}

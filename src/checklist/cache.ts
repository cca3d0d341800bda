import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { loadChecklistFile, type ParseOptions, parseChecklist } from './load.js';
import type { Checklist } from './model.js';

/**
 * Parsed checklists by (text or file version, vars). Parsing a large checklist costs tens of
 * milliseconds, and the bot would otherwise pay it before every ack and on every button click.
 * A cache of a pure function of immutable input: losing it loses nothing another process needs.
 * Entries are shared: callers must not mutate what they get.
 */
export class ChecklistCache {
  private readonly entries = new Map<string, Checklist>();

  constructor(private readonly max = 64) {}

  parse(text: string, options: ParseOptions): Checklist {
    const key = `t:${createHash('sha256').update(text).digest('hex')}:${options.file}:${varsKey(options.vars)}`;
    return this.remember(key, () => parseChecklist(text, options));
  }

  /** A file, re-read when its modification time or size changes. */
  load(file: string, vars?: Record<string, string>): Checklist {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st) return loadChecklistFile(file, vars);
    const key = `f:${file}:${st.mtimeMs}:${st.size}:${varsKey(vars)}`;
    return this.remember(key, () => loadChecklistFile(file, vars));
  }

  private remember(key: string, make: () => Checklist): Checklist {
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last, so the oldest is evicted first.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const made = make();
    this.entries.set(key, made);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    return made;
  }
}

function varsKey(vars: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(vars ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)));
}

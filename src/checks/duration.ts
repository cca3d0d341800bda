import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "500ms", "10s", "2m", "4h", "1d" (or a bare number of milliseconds) to milliseconds. */
export function parseDuration(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2]!] ?? 1));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)}m`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  return `${+(ms / 86_400_000).toFixed(1)}d`;
}

/** A duration field: accepts "10s"-style strings or milliseconds, yields milliseconds. */
export const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like "500ms", "10s", "5m", "4h" or "1d", got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return ms;
  })
  .meta({ description: 'A duration: "500ms", "10s", "5m", "4h", "1d", or a number of milliseconds.' });

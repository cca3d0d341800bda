import { z } from 'zod';
import { describeError } from '../errors.js';
import { EnvSourceError, envSourceSchema, loadEnvSource } from './env-sources.js';
import { defineCheck, fail, pass } from './types.js';

/**
 * Rules over deployment variables (a dotenv file, a JSON endpoint, Render's API or the probe's
 * own environment). Values are usually secrets, so nothing this probe outputs ever contains
 * one: violations name the key and the rule, and only literals written in the checklist.
 */

/** YAML turns `equals: false` into a boolean; env values are strings, so compare as strings. */
const literal = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const regex = z.string().superRefine((src, ctx) => {
  try {
    new RegExp(src);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression: ${describeError(err)}` });
  }
});

const ruleObject = z
  .object({
    required: z
      .boolean()
      .default(true)
      .meta({ description: 'The key must be set and non-empty (default true).' }),
    minLength: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: 'Minimum length of the value.' }),
    maxLength: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: 'Maximum length of the value.' }),
    equals: literal.optional().meta({ description: 'The value must be exactly this.' }),
    notEquals: literal.optional().meta({ description: 'The value must not be this (e.g. a known default).' }),
    oneOf: z.array(literal).min(1).optional().meta({ description: 'The value must be one of these.' }),
    pattern: regex
      .optional()
      .meta({ description: 'Regular expression the value must match (unanchored: use ^ and $).' }),
    notPattern: regex.optional().meta({ description: 'Regular expression the value must not match.' }),
    forbidden: z.boolean().optional().meta({ description: 'The key must be absent (e.g. DEBUG flags).' }),
  })
  .strict();

const rule = z
  .union([z.literal('required'), z.literal('forbidden'), ruleObject])
  .meta({ description: '"required", "forbidden", or an object of rules.' });

type Rule = z.infer<typeof ruleObject>;

const params = z
  .object({
    source: envSourceSchema,
    rules: z
      .record(z.string().min(1), rule)
      .refine((r) => Object.keys(r).length > 0, 'at least one rule is needed')
      .meta({ description: 'Variable name → rules. Values never appear in results.' }),
  })
  .strict();

function normalise(r: z.infer<typeof rule>): Rule {
  if (r === 'required') return { required: true };
  if (r === 'forbidden') return { required: false, forbidden: true };
  return r;
}

const quote = (s: string) => JSON.stringify(s);

/** Every broken rule for one key, each as "KEY: reason" with no trace of the value. */
export function violations(key: string, value: string | undefined, r: Rule): string[] {
  if (r.forbidden) return value === undefined ? [] : [`${key}: must be absent`];
  if (value === undefined) return r.required ? [`${key}: missing`] : [];
  if (value === '' && r.required) return [`${key}: empty`];
  const out: string[] = [];
  if (r.minLength !== undefined && value.length < r.minLength) {
    out.push(`${key}: length ${value.length} < ${r.minLength}`);
  }
  if (r.maxLength !== undefined && value.length > r.maxLength) {
    out.push(`${key}: length ${value.length} > ${r.maxLength}`);
  }
  if (r.equals !== undefined && value !== r.equals) out.push(`${key}: must equal ${quote(r.equals)}`);
  if (r.notEquals !== undefined && value === r.notEquals)
    out.push(`${key}: must not equal ${quote(r.notEquals)}`);
  if (r.oneOf && !r.oneOf.includes(value))
    out.push(`${key}: must be one of ${r.oneOf.map(quote).join(', ')}`);
  if (r.pattern !== undefined && !new RegExp(r.pattern).test(value))
    out.push(`${key}: must match /${r.pattern}/`);
  if (r.notPattern !== undefined && new RegExp(r.notPattern).test(value)) {
    out.push(`${key}: must not match /${r.notPattern}/`);
  }
  return out;
}

export default defineCheck({
  type: 'env',
  summary:
    'Deployment variables (dotenv, JSON endpoint, Render API, process env) satisfy rules; values never shown.',
  params,
  defaultTimeoutMs: 10_000,
  async run(p, ctx) {
    const keys = Object.keys(p.rules);
    const expected = `${keys.length} key(s) satisfy their rules`;
    let loaded: Awaited<ReturnType<typeof loadEnvSource>>;
    try {
      loaded = await loadEnvSource(p.source, ctx);
    } catch (err) {
      // Source errors are written to be safe; anything else is described without its context.
      const detail =
        err instanceof EnvSourceError ? err.message : `cannot read source: ${describeError(err)}`;
      return { status: 'error', observed: 'source unreadable', expected, detail };
    }
    const broken = keys.flatMap((k) => violations(k, loaded.values.get(k), normalise(p.rules[k]!)));
    const metrics = { keysChecked: keys.length, violations: broken.length };
    const notes = loaded.notes.join('; ');
    if (broken.length === 0)
      return pass(`${loaded.label}: ${keys.length} key(s) OK`, expected, notes, metrics);
    const detail = [broken.join('; '), notes].filter(Boolean).join('; ');
    return fail(`${loaded.label}: ${broken.length} violation(s)`, expected, detail, metrics);
  },
});

/**
 * Fuzzing `parseCommandText` (the text after `/deploy-check`): it is pure, so every generated text
 * goes straight in. Whatever a user types, it returns `{ ok: true, command }` with a well-formed
 * command, or `{ ok: false, error }` with one clear, non-empty sentence; it never throws.
 *
 * Runs per run of this file: 10,000 arbitrary texts (unicode, control characters, lone surrogates,
 * Slack's smart quotes and mention syntax), 10,000 command-shaped texts (a subcommand, then run ids,
 * names, key=value pairs and quotes, valid and broken), and 3,000 round trips of valid commands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Command, type Parsed, parseCommandText } from '../../src/slack/command-text.js';

const RUN_ID = /^r-[a-z0-9]{4,32}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VAR_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The property: a Parsed result that is well-formed either way. Throws (failing the run) otherwise. */
function checkParsed(text: string): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseCommandText(text);
  } catch (err) {
    throw new Error(`parseCommandText threw on ${JSON.stringify(text)}: ${(err as Error)?.stack ?? err}`);
  }
  if (!parsed || typeof parsed !== 'object') throw new Error('no result');
  if (!parsed.ok) {
    if (typeof parsed.error !== 'string' || parsed.error.trim().length === 0)
      throw new Error(`empty error for ${JSON.stringify(text)}`);
    // One sentence the usage reply can show: bounded (the text itself is capped at 2,000 characters).
    if (parsed.error.length > 2_200) throw new Error(`error of ${parsed.error.length} characters`);
    if (/undefined|\[object Object\]|NaN/.test(parsed.error))
      throw new Error(`unclear error ${JSON.stringify(parsed.error)}`);
    return parsed;
  }
  checkCommand(parsed.command, text);
  return parsed;
}

function checkCommand(c: Command, text: string): void {
  const bad = (why: string) => {
    throw new Error(`${why}: ${JSON.stringify(c)} from ${JSON.stringify(text)}`);
  };
  switch (c.kind) {
    case 'help':
    case 'list':
      return;
    case 'status':
      if (c.runId !== undefined && !RUN_ID.test(c.runId)) bad('bad run id');
      return;
    case 'cancel':
    case 'deployed':
    case 'report':
      if (!RUN_ID.test(c.runId)) bad('bad run id');
      return;
    case 'rollback':
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(c.target)) bad('bad rollback target');
      if (c.runId !== undefined && !RUN_ID.test(c.runId)) bad('bad run id');
      if (typeof c.dryRun !== 'boolean') bad('dryRun not a boolean');
      return;
    case 'run': {
      if (!NAME.test(c.checklist)) bad('bad checklist name');
      if (c.env !== undefined && !NAME.test(c.env)) bad('bad env');
      if (Object.getPrototypeOf(c.vars) !== Object.prototype && Object.getPrototypeOf(c.vars) !== null)
        bad('vars with an odd prototype');
      for (const [k, v] of Object.entries(c.vars)) {
        if (!VAR_KEY.test(k)) bad(`bad var key ${k}`);
        if (typeof v !== 'string') bad(`var ${k} is not a string`);
      }
      return;
    }
    default:
      bad('unknown kind');
  }
}

// ------------------------------------------------------------------------------------------------
// Generators
// ------------------------------------------------------------------------------------------------

const SPECIALS = [
  '"',
  "'",
  '\u201c',
  '\u201d',
  '\u2018',
  '\u2019',
  '=',
  '==',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '\u2003',
  '\u200b',
  '\u3000',
  '\ufeff',
  '\u0000',
  '\ud800',
  '\udfff',
  '🚀',
  '<!channel>',
  '<!here>',
  '<@U0123ABCD>',
  '<@U0123ABCD|alice>',
  '<#C0123|deploys>',
  '<http://evil.example|click>',
  '@here',
  '&amp;',
  '`',
  '*',
  '--dry-run',
  '--',
  '-',
  '${secret:X}',
  '{{baseUrl}}',
];

const SUBCOMMANDS = [
  'run',
  'RUN',
  'Run',
  'status',
  'list',
  'cancel',
  'deployed',
  'report',
  'rollback',
  'help',
  'HELP',
  '',
  'frobnicate',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
];

const runIdArb = fc.oneof(
  fc.stringMatching(/^r-[a-z0-9]{4,32}$/),
  fc.constantFrom(
    'r-',
    'r-abc',
    'r-ABCD1234',
    'R-abcd1234',
    'r-abcd1234!',
    `r-${'a'.repeat(33)}`,
    'r-abc234defg',
  ),
);

const nameArb = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
  fc.constantFrom(
    'e2e',
    'clientsvia',
    'production',
    'staging',
    '-bad',
    'Bad',
    'a'.repeat(65),
    '..',
    '../etc/passwd',
  ),
);

const varKeyArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
  fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', '1x', 'a-b', ''),
);

const looseArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(...SPECIALS),
);

/** Quotes a token in one of the ways Slack users do (or break). */
const quotedArb = (inner: fc.Arbitrary<string>) =>
  fc
    .tuple(inner, fc.constantFrom('', '"', "'", '\u201c', '\u2018', 'unbalanced'))
    .map(([t, q]) =>
      q === ''
        ? t
        : q === 'unbalanced'
          ? `"${t}`
          : q === '\u201c'
            ? `\u201c${t}\u201d`
            : q === '\u2018'
              ? `\u2018${t}\u2019`
              : `${q}${t}${q}`,
    );

const argArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: runIdArb },
  { weight: 3, arbitrary: nameArb },
  {
    weight: 4,
    arbitrary: fc
      .tuple(varKeyArb, fc.oneof(looseArb, fc.constant('')))
      .map(([k, v]) => `${k}=${v}`)
      .chain((kv) => quotedArb(fc.constant(kv))),
  },
  { weight: 2, arbitrary: quotedArb(looseArb) },
  { weight: 1, arbitrary: fc.constantFrom('--dry-run', '--DRY-RUN', '-n') },
);

const separatorArb = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000', ' \r\n ');

const commandShapedArb = fc
  .tuple(
    fc.constantFrom(...SUBCOMMANDS),
    fc.array(fc.tuple(separatorArb, argArb), { maxLength: 6 }),
    fc.constantFrom('', ' ', '\n'),
  )
  .map(([sub, args, tail]) => `${sub}${args.map(([s, a]) => s + a).join('')}${tail}`);

const arbitraryTextArb = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.array(fc.constantFrom(...SPECIALS, ...SUBCOMMANDS), { maxLength: 20 }).map((xs) => xs.join('')),
  fc.string({ minLength: 1_990, maxLength: 2_010, unit: 'binary-ascii' }),
);

/** A valid command and a text that should parse back to it. */
const validCommandArb: fc.Arbitrary<{ text: string; command: Command }> = fc.oneof(
  fc.constant({ text: 'help', command: { kind: 'help' } as Command }),
  fc.constant({ text: 'list', command: { kind: 'list' } as Command }),
  fc.option(runIdArb.filter((r) => RUN_ID.test(r))).map((id) => ({
    text: id ? `status ${id}` : 'status',
    command: (id ? { kind: 'status', runId: id } : { kind: 'status' }) as Command,
  })),
  fc
    .tuple(fc.constantFrom('cancel', 'deployed', 'report'), fc.stringMatching(/^r-[a-z0-9]{4,32}$/))
    .map(([kind, id]) => ({ text: `${kind} ${id}`, command: { kind, runId: id } as Command })),
  fc
    .tuple(
      fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
      fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/)),
      fc.uniqueArray(
        fc.tuple(
          fc.oneof(
            fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
            // Names that are also Object.prototype properties must be ordinary variables.
            fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'),
          ),
          fc.string({ maxLength: 20 }).filter((v) => !/["'\u201c\u201d\u2018\u2019]/.test(v)),
        ),
        { selector: ([k]) => k, maxLength: 4 },
      ),
    )
    .map(([checklist, env, pairs]) => ({
      text: [
        'run',
        checklist,
        ...(env ? [env] : []),
        ...pairs.map(([k, v]) => (/\s/.test(v) || v === '' ? `${k}="${v}"` : `${k}=${v}`)),
      ].join(' '),
      command: {
        kind: 'run',
        checklist,
        ...(env ? { env } : {}),
        vars: Object.fromEntries(pairs),
      } as Command,
    })),
);

// ------------------------------------------------------------------------------------------------
// The properties
// ------------------------------------------------------------------------------------------------

describe('fuzz: parseCommandText never throws and always says what is wrong', () => {
  it('10,000 arbitrary texts', () => {
    fc.assert(
      fc.property(arbitraryTextArb, (text) => {
        checkParsed(text);
      }),
      { numRuns: 10_000 },
    );
  });

  it('10,000 command-shaped texts (valid and broken arguments, quotes, smart quotes, mentions)', () => {
    let ok = 0;
    fc.assert(
      fc.property(commandShapedArb, (text) => {
        if (checkParsed(text).ok) ok += 1;
      }),
      { numRuns: 10_000 },
    );
    // Both paths are exercised: plenty of commands parse, plenty are refused.
    expect(ok).toBeGreaterThan(1_000);
    expect(ok).toBeLessThan(9_000);
  });

  it('3,000 valid commands parse back to exactly what was typed (prototype-named vars included)', () => {
    fc.assert(
      fc.property(validCommandArb, ({ text, command }) => {
        const parsed = checkParsed(text);
        if (!parsed.ok) throw new Error(`refused ${JSON.stringify(text)}: ${parsed.error}`);
        expect(parsed.command).toEqual(command);
        if (parsed.command.kind === 'run')
          expect(Object.keys(parsed.command.vars).sort()).toEqual(
            Object.keys((command as Extract<Command, { kind: 'run' }>).vars).sort(),
          );
      }),
      { numRuns: 3_000 },
    );
  });

  it('explains the common mistakes in words', () => {
    const error = (text: string) => {
      const p = parseCommandText(text);
      return p.ok ? undefined : p.error;
    };
    expect(error('run e2e "unbalanced')).toMatch(/unbalanced quote/);
    expect(error('x'.repeat(2_001))).toMatch(/longer than 2000/);
    expect(error('status nope')).toMatch(/is not a run id/);
    expect(error('run <!channel>')).toMatch(/is not a checklist name/);
    expect(error('run e2e a=1 a=2')).toMatch(/given twice/);
    expect(error('run e2e constructor=1')).toBeUndefined();
    expect(error('frobnicate')).toMatch(/unknown subcommand/);
  });
});

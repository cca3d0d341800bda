/** Parsing of `/deploy-check …` text. Pure: no I/O, so it is fuzzed directly. */

export type Command =
  | { kind: 'run'; checklist: string; env?: string; vars: Record<string, string> }
  | { kind: 'status'; runId?: string }
  | { kind: 'list' }
  | { kind: 'cancel'; runId: string }
  | { kind: 'help' }
  | { kind: 'deployed'; runId: string }
  | { kind: 'report'; runId: string }
  | { kind: 'rollback'; target: string; runId?: string; dryRun: boolean };

export type Parsed = { ok: true; command: Command } | { ok: false; error: string };

const RUN_ID = /^r-[a-z0-9]{4,32}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const VAR_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_TEXT = 2000;

/** Splits on whitespace, honouring "double" and 'single' quotes and Slack's smart quotes. */
export function tokenize(text: string): string[] | undefined {
  const normalised = text.replace(/[\u201c\u201d]/g, '"').replace(/[\u2018\u2019]/g, "'");
  const tokens: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inToken = false;
  for (const ch of normalised) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (quote) return undefined;
  if (inToken) tokens.push(current);
  return tokens;
}

const fail = (error: string): Parsed => ({ ok: false, error });

function runId(token: string | undefined, sub: string): Parsed | string {
  if (!token) return fail(`\`${sub}\` needs a run id, like \`/deploy-check ${sub} r-abc234defg\``);
  if (!RUN_ID.test(token)) return fail(`"${token}" is not a run id (run ids look like r-abc234defg)`);
  return token;
}

export function parseCommandText(text: string): Parsed {
  if (text.length > MAX_TEXT) return fail(`the command is longer than ${MAX_TEXT} characters`);
  const tokens = tokenize(text.trim());
  if (!tokens) return fail('unbalanced quote in the command');
  const [sub, ...args] = tokens;
  switch ((sub ?? 'help').toLowerCase()) {
    case 'help':
      return { ok: true, command: { kind: 'help' } };
    case 'list':
      return args.length ? fail('`list` takes no arguments') : { ok: true, command: { kind: 'list' } };
    case 'status': {
      if (args.length > 1) return fail('`status` takes at most one run id');
      if (args.length === 0) return { ok: true, command: { kind: 'status' } };
      const id = runId(args[0], 'status');
      return typeof id === 'string' ? { ok: true, command: { kind: 'status', runId: id } } : id;
    }
    case 'cancel':
    case 'deployed':
    case 'report': {
      const kind = sub!.toLowerCase() as 'cancel' | 'deployed' | 'report';
      if (args.length > 1) return fail(`\`${kind}\` takes one run id`);
      const id = runId(args[0], kind);
      return typeof id === 'string' ? { ok: true, command: { kind, runId: id } } : id;
    }
    case 'run':
      return parseRun(args);
    case 'rollback':
      return parseRollback(args);
    default:
      return fail(`unknown subcommand "${sub}"`);
  }
}

function parseRun(args: string[]): Parsed {
  const [checklist, ...rest] = args;
  if (!checklist) return fail('`run` needs a checklist name, like `/deploy-check run clientsvia production`');
  if (!NAME.test(checklist))
    return fail(`"${checklist}" is not a checklist name (lower-case letters, digits and dashes)`);
  // A Map, not `{}`: with an object, `constructor=1` was "given twice" (an inherited key) and
  // `__proto__=x` vanished into the prototype setter (found by fuzzing). fromEntries makes own keys.
  const vars = new Map<string, string>();
  let env: string | undefined;
  for (const token of rest) {
    const eq = token.indexOf('=');
    if (eq < 0) {
      if (env !== undefined)
        return fail(`unexpected "${token}": give the environment once, then key=value pairs`);
      if (!NAME.test(token)) return fail(`"${token}" is not an environment name`);
      env = token;
      continue;
    }
    const key = token.slice(0, eq);
    if (!VAR_KEY.test(key)) return fail(`"${key}" is not a variable name`);
    if (vars.has(key)) return fail(`variable "${key}" is given twice`);
    vars.set(key, token.slice(eq + 1));
  }
  return {
    ok: true,
    command: { kind: 'run', checklist, ...(env ? { env } : {}), vars: Object.fromEntries(vars) },
  };
}

function parseRollback(args: string[]): Parsed {
  const dryRun = args.includes('--dry-run');
  const rest = args.filter((a) => a !== '--dry-run');
  const [target, run, ...extra] = rest;
  if (!target)
    return fail('`rollback` needs a service or checklist, like `/deploy-check rollback clientsvia-api`');
  if (extra.length > 0) return fail('`rollback` takes a service, an optional run id and --dry-run');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(target))
    return fail(`"${target}" is not a service or checklist name`);
  if (run !== undefined) {
    const id = runId(run, 'rollback');
    if (typeof id !== 'string') return id;
    return { ok: true, command: { kind: 'rollback', target, runId: id, dryRun } };
  }
  return { ok: true, command: { kind: 'rollback', target, dryRun } };
}

import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { listChecklistNames, loadChecklistFile, resolveChecklistRef } from '../checklist/load.js';
import { checklistJsonSchema } from '../checklist/schema.js';
import { ChecklistError, DeployCheckError, ErrorCode, isCoded } from '../errors.js';
import {
  type CliIO,
  EXIT,
  executeChecklist,
  exitFor,
  keepGoing,
  pairReports,
  parseVarPairs,
  writeReports,
} from './shared.js';

export type { CliIO } from './shared.js';
export { EXIT, keepGoing } from './shared.js';

const USAGE = `deploy-check — production-deployment checklists as code

Usage:
  deploy-check run <file|name> [--var k=v]… [--phase id]… [--dry-run] [--keep-going]
                               [--report json|md|junit --out PATH]…
  deploy-check validate <file>…          check checklist files; errors name file:line:col
  deploy-check list                      checklists in ./checklists (or --checklists DIR)
  deploy-check schema                    JSON Schema for editors' autocompletion
  deploy-check import <file.md> [--out checklist.yml]
  deploy-check init [--service S --base-url URL --channel C --approver U…] [--out FILE]
  deploy-check demo [--profile healthy|misconfigured] [--report …]
  deploy-check report <run> --team T [--format md|json] [--out PATH]   evidence pack (needs MONGODB_URI)

Exit status: 0 pass, 1 a blocking item failed, 2 usage or checklist errors.`;

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, io);
      case 'validate':
        return validateCommand(rest, io);
      case 'list':
        return listCommand(rest, io);
      case 'schema':
        io.stdout.write(`${JSON.stringify(checklistJsonSchema(), null, 2)}\n`);
        return EXIT.ok;
      case 'import':
        return await (await import('./import-command.js')).importCommand(rest, io);
      case 'init':
        return await (await import('./import-command.js')).initCommand(rest, io);
      case 'report':
        return await (await import('./report-command.js')).reportCommand(rest, io);
      case 'demo':
        return await (await import('./demo.js')).demoCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${USAGE}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        io.stderr.write(`deploy-check: unknown command "${command}"\n\n${USAGE}\n`);
        return EXIT.usage;
    }
  } catch (err) {
    return reportError(err, io);
  }
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof ChecklistError) {
    io.stderr.write(`${err.issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.message}`).join('\n')}\n`);
    return EXIT.usage;
  }
  if (err instanceof DeployCheckError) {
    io.stderr.write(`deploy-check: ${err.message}\n`);
    return EXIT.usage;
  }
  if (isArgError(err)) {
    io.stderr.write(`deploy-check: ${(err as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  throw err;
}

function isArgError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? '';
  return code.startsWith('ERR_PARSE_ARGS');
}

export const runOptions = {
  var: { type: 'string', multiple: true, default: [] as string[] },
  phase: { type: 'string', multiple: true, default: [] as string[] },
  'dry-run': { type: 'boolean', default: false },
  'keep-going': { type: 'boolean', default: false },
  report: { type: 'string', multiple: true, default: [] as string[] },
  out: { type: 'string', multiple: true, default: [] as string[] },
  checklists: { type: 'string', default: 'checklists' },
  quiet: { type: 'boolean', default: false },
} satisfies NonNullable<ParseArgsConfig['options']>;

async function runCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: runOptions, allowPositionals: true });
  if (positionals.length !== 1)
    throw new DeployCheckError(
      ErrorCode.Usage,
      'run needs exactly one checklist (a file or a name from ./checklists)',
    );
  const reports = pairReports(values.report, values.out);
  const file = resolveChecklistRef(positionals[0]!, path.resolve(io.cwd, values.checklists));
  const checklist = loadChecklistFile(file, parseVarPairs(values.var));
  const run = await executeChecklist(keepGoing(checklist, values['keep-going']), io, {
    phases: values.phase,
    dryRun: values['dry-run'],
    quiet: values.quiet,
  });
  writeReports(run, reports, io);
  return exitFor(run);
}

function validateCommand(args: string[], io: CliIO): number {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length === 0)
    throw new DeployCheckError(ErrorCode.Usage, 'validate needs at least one file');
  let failed = false;
  for (const file of positionals) {
    try {
      const c = loadChecklistFile(path.resolve(io.cwd, file));
      const items = c.phases.flatMap((p) => p.items);
      io.stdout.write(
        `✅ ${file}: ${c.phases.length} phases, ${items.length} items (${items.filter((i) => i.kind === 'probe').length} probes)\n`,
      );
    } catch (err) {
      if (!isCoded(err)) throw err;
      failed = true;
      reportError(err, io);
    }
  }
  return failed ? EXIT.usage : EXIT.ok;
}

function listCommand(args: string[], io: CliIO): number {
  const { values } = parseArgs({ args, options: { checklists: { type: 'string', default: 'checklists' } } });
  const dir = path.resolve(io.cwd, values.checklists);
  const names = listChecklistNames(dir);
  if (names.length === 0) {
    io.stderr.write(`no checklists in ${dir}\n`);
    return EXIT.ok;
  }
  for (const name of names) {
    try {
      const c = loadChecklistFile(resolveChecklistRef(name, dir));
      io.stdout.write(
        `${name.padEnd(20)} ${c.spec.service.padEnd(24)} ${c.phases.length} phases  ${c.spec.title ?? ''}\n`,
      );
    } catch (err) {
      if (!isCoded(err)) throw err;
      io.stdout.write(`${name.padEnd(20)} (invalid: ${err.message.split('\n')[0]})\n`);
    }
  }
  return EXIT.ok;
}

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatImportSummary, importMarkdownFile } from '../checklist/import/markdown.js';
import { initChecklist } from '../checklist/import/templates.js';
import { DeployCheckError, ErrorCode } from '../errors.js';
import { type CliIO, EXIT } from './shared.js';

function writeOut(io: CliIO, out: string | undefined, text: string, force: boolean): void {
  if (!out || out === '-') {
    io.stdout.write(text);
    return;
  }
  const file = path.resolve(io.cwd, out);
  if (existsSync(file) && !force)
    throw new DeployCheckError(ErrorCode.Usage, `${out} exists; pass --force to overwrite it`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  io.stderr.write(`wrote ${out}\n`);
}

/** `deploy-check import <file.md> [--out checklist.yml]`: headings → phases, boxes → items, probes guessed. */
export async function importCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      name: { type: 'string' },
      service: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1)
    throw new DeployCheckError(ErrorCode.Usage, 'import needs exactly one Markdown file');
  const file = path.resolve(io.cwd, positionals[0]!);
  const result = importMarkdownFile(file, {
    ...(values.name ? { name: values.name } : {}),
    ...(values.service ? { service: values.service } : {}),
  });
  writeOut(io, values.out, result.yaml, values.force);
  const summary = formatImportSummary(result, positionals[0]!);
  io.stderr.write(summary.endsWith('\n') ? summary : `${summary}\n`);
  return EXIT.ok;
}

/** `deploy-check init`: a starter checklist from the built-in template; asks for what the flags leave out (on a terminal). */
export async function initCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      service: { type: 'string' },
      'base-url': { type: 'string' },
      channel: { type: 'string' },
      approver: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  const ask = async (flag: string, question: string, given: string | undefined): Promise<string> => {
    if (given) return given;
    if (!io.ask)
      throw new DeployCheckError(
        ErrorCode.Usage,
        `init needs --${flag} (or run it on a terminal to be asked)`,
      );
    return (await io.ask(question)).trim();
  };
  const service = await ask('service', 'Service name (e.g. clientsvia-api): ', values.service);
  const baseUrl = await ask('base-url', 'Base URL (e.g. https://api.example.com): ', values['base-url']);
  const channel =
    values.channel ??
    (io.ask ? (await io.ask('Slack channel for runs (optional, e.g. #deploys): ')).trim() : '');
  const approvers = values.approver.length
    ? values.approver
    : (await ask('approver', 'Approvers (Slack user ids, comma-separated): ', undefined))
        .split(/[\s,]+/)
        .filter(Boolean);
  const yaml = initChecklist({
    service,
    baseUrl,
    approvers,
    ...(channel ? { channel } : {}),
    ...(values.name ? { name: values.name } : {}),
  });
  writeOut(io, values.out, yaml, values.force);
  return EXIT.ok;
}

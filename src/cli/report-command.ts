import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DeployCheckError, ErrorCode } from '../errors.js';
import { buildEvidence, renderEvidenceMarkdown } from '../report/evidence.js';
import { connectMongo } from '../store/mongo.js';
import { RunStore } from '../store/run-store.js';
import { type CliIO, EXIT } from './shared.js';

/** `deploy-check report <run> --team T [--format md|json] [--out PATH]`: the evidence pack from the store (MONGODB_URI). */
export async function reportCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      team: { type: 'string' },
      format: { type: 'string', default: 'md' },
      out: { type: 'string' },
      db: { type: 'string' },
    },
  });
  const uri = io.env.MONGODB_URI;
  if (positionals.length !== 1) throw new DeployCheckError(ErrorCode.Usage, 'report needs a run id');
  if (!values.team)
    throw new DeployCheckError(ErrorCode.Usage, 'report needs --team (the Slack team id the run belongs to)');
  if (!uri) throw new DeployCheckError(ErrorCode.Usage, 'report reads the run store: set MONGODB_URI');
  if (values.format !== 'md' && values.format !== 'json')
    throw new DeployCheckError(ErrorCode.Usage, '--format must be md or json');
  const mongo = await connectMongo(uri, values.db ?? io.env.MONGODB_DB ?? 'deploy-check');
  try {
    const pack = await buildEvidence(
      new RunStore(mongo.db),
      { teamId: values.team },
      positionals[0]!,
      new Date(),
    );
    const text =
      values.format === 'json' ? `${JSON.stringify(pack, null, 2)}\n` : renderEvidenceMarkdown(pack);
    if (values.out) writeFileSync(path.resolve(io.cwd, values.out), text);
    else io.stdout.write(text);
    return EXIT.ok;
  } finally {
    await mongo.close();
  }
}

import type { Command } from '../src/slack/command-text.js';
import { renderNotice } from '../src/slack/render/run.js';
import type { Ctx } from './deps.js';
import { postDeployCommand } from './post-deploy.js';
import { rollbackCommand } from './rollback.js';

/** `deployed`, `report` and `rollback`: the incident-time commands. */
export async function incidentCommand(cmd: Command, ctx: Ctx): Promise<void> {
  if (cmd.kind === 'rollback') return rollbackCommand(cmd, ctx);
  if (cmd.kind === 'deployed' || cmd.kind === 'report') return postDeployCommand(cmd, ctx);
  await ctx.ack({
    response_type: 'ephemeral',
    ...renderNotice(`\`${cmd.kind}\` is not available in this version yet.`),
  });
}

import type { App } from '@slack/bolt';
import type { Command } from '../src/slack/command-text.js';
import { renderNotice } from '../src/slack/render/run.js';
import type { BotDeps, Ctx } from './deps.js';

/** `/deploy-check rollback <service|checklist> [run] [--dry-run]` (stub: replaced by the rollback feature). */
export async function rollbackCommand(_cmd: Extract<Command, { kind: 'rollback' }>, ctx: Ctx): Promise<void> {
  await ctx.ack({
    response_type: 'ephemeral',
    ...renderNotice('`rollback` is not available in this version yet.'),
  });
}

/** Buttons and modals of the rollback thread (stub). */
export function registerRollbackActions(_app: App, _deps: BotDeps): void {}

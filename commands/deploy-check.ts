import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '@slack/bolt';
import { enqueueRun, enqueueThreadSync, queueKnownDown, queueUnavailable } from '../jobs/queues.js';
import { requireView } from '../jobs/view.js';
import { type Decision, mayManage, mayRun, runGroups } from '../src/approvals/policy.js';
import { checklistFileByName, listChecklistNames, type loadChecklistFile } from '../src/checklist/load.js';
import type { Checklist } from '../src/checklist/model.js';
import { ChecklistError, DeployCheckError, ErrorCode, formatIssue, isCoded } from '../src/errors.js';
import { deriveRunId } from '../src/run/ids.js';
import { type Command, parseCommandText } from '../src/slack/command-text.js';
import {
  renderHelp,
  renderNotice,
  renderRunList,
  renderStatus,
  renderUsage,
} from '../src/slack/render/run.js';
import type { Ack, BotDeps, Ctx } from './deps.js';
import { userMessage } from './errors.js';
import { incidentCommand } from './incident.js';
import { tenantOf } from './tenant.js';

export const SLASH_COMMAND = '/deploy-check';

function ephemeral(rendered: { text: string; blocks?: unknown[] }) {
  return { response_type: 'ephemeral' as const, ...rendered };
}

/** `/deploy-check …`: parse, authorise and ack at once; everything slow happens after the ack or in a worker. */
export function register(app: App, deps: BotDeps): void {
  app.command(SLASH_COMMAND, async ({ command, ack, respond, client }) => {
    const parsed = parseCommandText(command.text ?? '');
    if (!parsed.ok) {
      deps.metrics.commandsTotal.inc({ subcommand: 'invalid', result: 'usage' });
      await (ack as Ack)(ephemeral(renderUsage(parsed.error)));
      return;
    }
    const tenant = tenantOf(command);
    const cmd = parsed.command;
    try {
      await dispatch(cmd, { command, ack: ack as Ack, respond, client, tenant, deps });
      deps.metrics.commandsTotal.inc({ subcommand: cmd.kind, result: 'ok' });
    } catch (err) {
      deps.metrics.commandsTotal.inc({ subcommand: cmd.kind, result: 'error' });
      if (!isCoded(err)) deps.log.error({ err, subcommand: cmd.kind }, 'slash command failed');
      await respond(ephemeral({ text: userMessage(err) })).catch(() => undefined);
    }
  });
}

async function dispatch(cmd: Command, ctx: Ctx): Promise<void> {
  switch (cmd.kind) {
    case 'help':
      return ctx.ack(ephemeral(renderHelp(listChecklistNames(ctx.deps.checklistsDir))));
    case 'run':
      return startRun(cmd, ctx);
    case 'list':
      await ctx.ack();
      return listRuns(ctx);
    case 'status':
      await ctx.ack();
      return showStatus(cmd.runId, ctx);
    case 'cancel':
      await ctx.ack();
      return cancelRun(cmd.runId, ctx);
    default:
      return incidentCommand(cmd, ctx);
  }
}

async function startRun(cmd: Extract<Command, { kind: 'run' }>, ctx: Ctx): Promise<void> {
  const { deps, command } = ctx;
  let checklist: ReturnType<typeof loadChecklistFile>;
  try {
    checklist = deps.store.parsed.load(checklistFileByName(cmd.checklist, deps.checklistsDir), cmd.vars);
  } catch (err) {
    if (err instanceof ChecklistError) {
      return ctx.ack(
        ephemeral(
          renderUsage(
            `checklist "${cmd.checklist}" cannot run:\n${err.issues.slice(0, 5).map(formatIssue).join('\n')}`,
          ),
        ),
      );
    }
    if (isCoded(err)) return ctx.ack(ephemeral(renderUsage(err.message)));
    throw err;
  }
  const envs = checklist.spec.environments;
  if (cmd.env && envs && !envs.includes(cmd.env)) {
    return ctx.ack(
      ephemeral(
        renderUsage(`checklist "${cmd.checklist}" accepts environments ${envs.join(', ')}, not "${cmd.env}"`),
      ),
    );
  }
  const allowed = await mayStart(ctx, checklist);
  if (!allowed.ok)
    return ctx.ack(
      ephemeral({
        text: userMessage(
          new DeployCheckError(ErrorCode.NotAllowed, `You cannot start *${cmd.checklist}*: ${allowed.rule}.`),
        ),
      }),
    );
  // With Redis known to be down, the ack itself says so (not "Queued", then a second message).
  if (queueKnownDown(deps.queues))
    return ctx.ack(ephemeral({ text: userMessage(queueUnavailable(new Error('Redis is not connected'))) }));
  // The request's trigger id makes the run id: a redelivered request maps to the same job, which BullMQ ignores.
  const runId = deriveRunId({
    checklist: checklist.spec.name,
    digest: checklist.digest,
    vars: checklist.vars,
    key: `${ctx.tenant.teamId}:${command.trigger_id}`,
  });
  await ctx.ack(
    ephemeral(
      renderNotice(
        `Queued run \`${runId}\` of *${checklist.spec.title ?? checklist.spec.name}*${cmd.env ? ` (${cmd.env})` : ''}. Results will appear in a thread in this channel.`,
      ),
    ),
  );
  await enqueueRun(deps.queues, {
    runId,
    tenant: ctx.tenant,
    checklist: cmd.checklist,
    ...(cmd.env ? { env: cmd.env } : {}),
    vars: cmd.vars,
    channel: command.channel_id,
    requester: command.user_id,
  });
}

/** How long `run` waits for Slack to list a user group before it answers: the ack is due within 3 s. */
const GROUPS_WAIT_MS = 2000;

/** The checklist's `run.allowed`, checked before the ack (a user group's members asked of Slack, cached). */
async function mayStart(ctx: Ctx, checklist: Checklist): Promise<Decision> {
  const { deps, command, tenant } = ctx;
  const candidates = runGroups(checklist.spec);
  const groups = candidates.length
    ? await Promise.race([
        deps.groups.groupsOf(ctx.client, tenant.teamId, command.user_id, candidates),
        sleep(GROUPS_WAIT_MS, undefined, { ref: false }),
      ])
    : new Set<string>();
  if (!groups)
    return { ok: false, rule: 'Slack did not list your user groups in time; try again in a moment' };
  return mayRun({ userId: command.user_id, groups }, checklist.spec);
}

async function listRuns(ctx: Ctx): Promise<void> {
  const runs = await ctx.deps.store.listRuns(ctx.tenant, 10);
  await ctx.respond(ephemeral(renderRunList(runs, ctx.deps.now())));
}

async function showStatus(runId: string | undefined, ctx: Ctx): Promise<void> {
  const id = runId ?? (await ctx.deps.store.listRuns(ctx.tenant, 1))[0]?._id;
  if (!id) {
    await ctx.respond(
      ephemeral(
        renderNotice('No runs yet in this workspace. Start one with `/deploy-check run <checklist>`.'),
      ),
    );
    return;
  }
  const { view } = await requireView(ctx.deps.store, ctx.tenant, id, ctx.deps.now());
  await ctx.respond(ephemeral(renderStatus(view)));
}

async function cancelRun(runId: string, ctx: Ctx): Promise<void> {
  const { deps, tenant, command } = ctx;
  const { view, checklist } = await requireView(deps.store, tenant, runId, deps.now());
  if (['approved', 'passed', 'rejected', 'cancelled'].includes(view.status)) {
    await ctx.respond(ephemeral(renderNotice(`Run \`${runId}\` is already ${view.status}.`)));
    return;
  }
  const groups = await deps.groups.groupsOf(
    ctx.client,
    tenant.teamId,
    command.user_id,
    Object.values(checklist.spec.roles).flatMap((r) => r.groups),
  );
  const allowed = mayManage({ userId: command.user_id, groups }, checklist.spec, view.run.requester);
  if (!allowed.ok)
    throw new DeployCheckError(ErrorCode.NotAllowed, `You cannot cancel run ${runId}: ${allowed.rule}.`);
  const first = await deps.store.fact(tenant, runId, 'cancelled', command.user_id);
  if (first) await deps.store.record(tenant, runId, command.user_id, 'cancelled');
  await enqueueThreadSync(deps.queues, { runId, tenant, reason: 'cancel' });
  await ctx.respond(ephemeral(renderNotice(`Run \`${runId}\` is being cancelled.`)));
}

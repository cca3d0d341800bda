import type { ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { monitorJobId, offsetsFor } from '../jobs/monitor-processor.js';
import { assertQueueReachable, enqueueThreadSync, onQueues } from '../jobs/queues.js';
import { requireView } from '../jobs/view.js';
import { type Actor, mayManage, mayWaive } from '../src/approvals/policy.js';
import type { Checklist } from '../src/checklist/model.js';
import { DeployCheckError, ErrorCode, isCoded } from '../src/errors.js';
import { buildEvidence, renderEvidenceMarkdown } from '../src/report/evidence.js';
import type { Command } from '../src/slack/command-text.js';
import type { Interactions } from '../src/slack/interactions.js';
import { ACTIONS, decodeValue, VIEWS } from '../src/slack/render/actions.js';
import { renderNotice, WAIVER_EXPIRIES, waiveModal } from '../src/slack/render/run.js';
import type { Tenant } from '../src/store/run-store.js';
import { argsOf } from './actions.js';
import type { BotDeps, Ctx } from './deps.js';
import { userMessage } from './errors.js';
import { tenantOf } from './tenant.js';

interface Who {
  tenant: Tenant;
  userId: string;
  client: WebClient;
  deps: BotDeps;
}

async function actorOf(w: Who, checklist: Checklist): Promise<Actor> {
  const groups = Object.values(checklist.spec.roles).flatMap((r) => r.groups);
  return {
    userId: w.userId,
    groups: groups.length
      ? await w.deps.groups.groupsOf(w.client, w.tenant.teamId, w.userId, groups)
      : new Set(),
  };
}

/**
 * Marks an approved run deployed: a unique fact (a double click counts once), then the monitors as
 * delayed jobs in Redis (they survive restarts); monitors of the service's previous deploy are
 * removed now and, should one slip through, skip themselves when they fire (see isSuperseded).
 */
export async function markDeployed(w: Who, runId: string): Promise<string> {
  const { view, checklist } = await requireView(w.deps.store, w.tenant, runId, w.deps.now());
  if (view.status !== 'approved' && view.status !== 'passed') {
    throw new DeployCheckError(
      ErrorCode.Conflict,
      `run ${runId} is ${view.status}; only an approved run can be marked deployed`,
    );
  }
  const allowed = mayManage(await actorOf(w, checklist), checklist.spec, view.run.requester);
  if (!allowed.ok)
    throw new DeployCheckError(
      ErrorCode.NotAllowed,
      `You cannot mark run ${runId} deployed: ${allowed.rule}.`,
    );
  // Before the fact: a deploy marked while its monitors cannot be scheduled would never be re-checked.
  await assertQueueReachable(w.deps.queues);
  const previous = await w.deps.store.facts
    .find({ teamId: w.tenant.teamId, kind: 'deployed', 'data.service': view.run.service })
    .toArray();
  const first = await w.deps.store.fact(w.tenant, runId, 'deployed', w.userId, { service: view.run.service });
  if (!first) return `Run \`${runId}\` was already marked deployed.`;
  await w.deps.store.record(w.tenant, runId, w.userId, 'deployed', { service: view.run.service });
  const offsets = offsetsFor(checklist, w.deps.config.MONITOR_OFFSETS);
  await onQueues(w.deps.queues, async () => {
    for (const old of previous) {
      for (let i = 0; i < 16; i++) await w.deps.queues.monitors.remove(monitorJobId(old.runId, i));
    }
    if (!checklist.spec.monitors) return;
    for (const [i, offsetMs] of offsets.entries()) {
      await w.deps.queues.monitors.add(
        'monitor',
        { runId, tenant: w.tenant, offsetMs, deployId: runId },
        { jobId: monitorJobId(runId, i), delay: offsetMs },
      );
    }
  });
  await enqueueThreadSync(w.deps.queues, { runId, tenant: w.tenant, reason: 'deployed' });
  const plan = checklist.spec.monitors
    ? ` Monitors will re-check at ${offsets.map((o) => `+${Math.round(o / 1000)}s`).join(', ')}.`
    : '';
  return `Run \`${runId}\` marked deployed.${plan}`;
}

async function waive(
  w: Who,
  runId: string,
  key: string,
  reason: string,
  expiresInMs: number,
): Promise<string> {
  const { view, checklist } = await requireView(w.deps.store, w.tenant, runId, w.deps.now());
  const item = view.phases.flatMap((p) => p.items).find((i) => i.key === key);
  if (!item) throw new DeployCheckError(ErrorCode.NotFound, `no item ${key} in run ${runId}`);
  if (!['fail', 'error', 'inconclusive'].includes(item.status))
    throw new DeployCheckError(
      ErrorCode.Conflict,
      `“${item.title}” is ${item.status}; only failed or inconclusive items can be waived`,
    );
  const allowed = mayWaive(await actorOf(w, checklist), checklist.spec, view.run.requester);
  if (!allowed.ok)
    throw new DeployCheckError(ErrorCode.NotAllowed, `You cannot waive “${item.title}”: ${allowed.rule}.`);
  const now = w.deps.now();
  const current = view.waivers.get(key);
  // One fact per item; after an expiry a new waiver is a new fact (#n), so history is kept.
  const kind = current ? `waiver:${key}#${now.getTime()}` : `waiver:${key}`;
  if (current && !current.expired)
    return `“${item.title}” is already waived until ${current.expiresAt.toISOString()}.`;
  const expiresAt = new Date(now.getTime() + expiresInMs).toISOString();
  const first = await w.deps.store.fact(w.tenant, runId, kind, w.userId, {
    reason: reason.slice(0, 2000),
    expiresAt,
    status: item.status,
  });
  if (!first) return `“${item.title}” was just waived by someone else.`;
  await w.deps.store.record(w.tenant, runId, w.userId, 'waived', {
    key,
    reason: reason.slice(0, 2000),
    expiresAt,
    status: item.status,
  });
  await enqueueThreadSync(w.deps.queues, { runId, tenant: w.tenant, reason: 'waiver' });
  return `Waived “${item.title}” until ${expiresAt}.`;
}

/** `/deploy-check deployed <run>` and `/deploy-check report <run>`. */
export async function postDeployCommand(
  cmd: Extract<Command, { kind: 'deployed' | 'report' }>,
  ctx: Ctx,
): Promise<void> {
  await ctx.ack();
  const w: Who = { tenant: ctx.tenant, userId: ctx.command.user_id, client: ctx.client, deps: ctx.deps };
  const text = cmd.kind === 'deployed' ? await markDeployed(w, cmd.runId) : await reportText(w, cmd.runId);
  await ctx.respond({ response_type: 'ephemeral', ...renderNotice(text) });
}

async function reportText(w: Who, runId: string): Promise<string> {
  const pack = await buildEvidence(w.deps.store, w.tenant, runId, w.deps.now());
  await w.deps.store.saveReport(w.tenant, runId, pack);
  const md = renderEvidenceMarkdown(pack);
  const limit = 2800;
  return `${md.length > limit ? `${md.slice(0, limit)}\n… (truncated; the full report: \`deploy-check report ${runId}\` from a terminal with MONGODB_URI)` : md}`;
}

export function registerPostDeployActions(on: Interactions, deps: BotDeps): void {
  on.button(ACTIONS.deployed, async ({ ack, body, action, respond, client }) => {
    await ack();
    const [runId] = decodeValue((action as ButtonAction).value ?? '');
    const w: Who = { tenant: tenantOf(body), userId: body.user.id, client, deps };
    const text = await markDeployed(w, runId!).catch((err: unknown) => {
      if (!isCoded(err)) deps.log.error({ err }, 'mark deployed failed');
      return userMessage(err);
    });
    await respond({ response_type: 'ephemeral', replace_original: false, ...renderNotice(text) }).catch(
      () => undefined,
    );
  });

  on.button(ACTIONS.waive, async ({ ack, body, action, client, respond }) => {
    // Always ack, and tell the clicker why no modal opened (a stale value, an expired trigger):
    // an exception before the ack left Slack without one (found by fuzzing).
    try {
      const [runId, key] = argsOf((action as ButtonAction).value);
      await client.views.open({ trigger_id: body.trigger_id, view: waiveModal(runId, key, key) as never });
    } catch (err) {
      if (!isCoded(err)) deps.log.warn({ err }, 'could not open the waiver modal');
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        ...renderNotice(userMessage(err)),
      }).catch(() => undefined);
    } finally {
      await ack();
    }
  });

  on.view(VIEWS.waive, async ({ ack, body, view, client }) => {
    const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
    const chosen = Number(view.state.values.expiry?.expiry?.selected_option?.value ?? Number.NaN);
    if (!reason) {
      await ack({ response_action: 'errors', errors: { reason: 'Say why this item may be waived.' } });
      return;
    }
    const expiresInMs = WAIVER_EXPIRIES.some(([, ms]) => ms === chosen) ? chosen : WAIVER_EXPIRIES[1]![1];
    await ack();
    const text = await (async () => {
      const [runId, key] = argsOf(view.private_metadata);
      const w: Who = { tenant: tenantOf(body), userId: body.user.id, client, deps };
      return waive(w, runId, key, reason, expiresInMs);
    })().catch((err: unknown) => userMessage(err));
    await client.chat
      .postMessage({ channel: body.user.id, ...renderNotice(text) } as never)
      .catch(() => undefined);
  });
}

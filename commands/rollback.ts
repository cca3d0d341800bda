import type { BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RollbackJob } from '../jobs/contracts.js';
import { onQueues } from '../jobs/queues.js';
import { type Actor, matchesPrincipal } from '../src/approvals/policy.js';
import type { Checklist } from '../src/checklist/model.js';
import type { Principal } from '../src/checklist/schema.js';
import { DeployCheckError, describeError, ErrorCode, isCoded } from '../src/errors.js';
import { deriveRollbackId, rollbackJobId } from '../src/rollback/ids.js';
import { acquireLock, type LockDeps, type LockState, lockState } from '../src/rollback/lock.js';
import { type PlannedStep, planPlaybook } from '../src/rollback/plan.js';
import { requireRollbackView } from '../src/rollback/playbook.js';
import { resolveRollbackTarget, withRunVars } from '../src/rollback/targets.js';
import type { RollbackView } from '../src/rollback/view.js';
import type { Command } from '../src/slack/command-text.js';
import type { Interactions } from '../src/slack/interactions.js';
import { ACTIONS, decodeValue, encodeValue } from '../src/slack/render/actions.js';
import type { SlackMessage } from '../src/slack/render/blocks.js';
import {
  DRY_RUN,
  ROLLBACK_ACTIONS,
  ROLLBACK_VIEWS,
  renderRollbackConfirm,
  renderRollbackDryRunModal,
  renderRollbackLocked,
  renderRollbackPlan,
  renderRollbackRefused,
  renderSkipModal,
  SKIP_REASON,
  VARS_INPUT,
} from '../src/slack/render/rollback.js';
import { renderNotice } from '../src/slack/render/run.js';
import { type RollbackStore, rollbackStore } from '../src/store/rollback-store.js';
import type { RunDoc, Tenant } from '../src/store/run-store.js';
import type { BotDeps, Ctx } from './deps.js';
import { userMessage } from './errors.js';
import { tenantOf } from './tenant.js';

/**
 * `/deploy-check rollback <service|checklist> [run] [--dry-run]` and the rollback thread's buttons.
 * As everywhere in commands/: ack fast, check, record one fact, enqueue; the playbook runs in
 * jobs/rollback-processor.ts.
 */

/** Runs whose state is a release that went out, newest first: the default target of a rollback. */
const DEPLOYED: RunDoc['status'][] = ['approved', 'passed'];
const LIVE_JOB_STATES = ['active', 'waiting', 'delayed', 'prioritized', 'waiting-children'] as const;

function ephemeral(rendered: SlackMessage) {
  return { response_type: 'ephemeral' as const, text: rendered.text, blocks: rendered.blocks as unknown[] };
}

interface Who {
  deps: BotDeps;
  client: WebClient;
  tenant: Tenant;
  userId: string;
}

async function actorFor(w: Who, checklist: Checklist, extra: readonly Principal[] = []): Promise<Actor> {
  const candidates = Object.values(checklist.spec.roles).flatMap((r) => r.groups);
  for (const p of [...(checklist.spec.rollback?.allowed ?? []), ...extra])
    if ('group' in p) candidates.push(p.group);
  const groups = candidates.length
    ? await w.deps.groups.groupsOf(w.client, w.tenant.teamId, w.userId, candidates)
    : new Set<string>();
  return { userId: w.userId, groups };
}

async function mayRollback(w: Who, checklist: Checklist): Promise<boolean> {
  const allowed = checklist.spec.rollback?.allowed ?? [];
  const actor = await actorFor(w, checklist);
  return allowed.some((p) => matchesPrincipal(actor, p, checklist.spec.roles));
}

function refused(checklist: Checklist, name: string, action?: string): SlackMessage {
  return renderRollbackRefused({
    service: checklist.spec.service,
    checklist: name,
    allowed: checklist.spec.rollback?.allowed ?? [],
    ...(action ? { action } : {}),
  });
}

export function lockDeps(deps: BotDeps, store: RollbackStore): LockDeps {
  return {
    store,
    now: deps.now,
    async hasLiveJob(rollbackId) {
      const jobs = await onQueues(deps.queues, () =>
        deps.queues.rollback.getJobs([...LIVE_JOB_STATES], 0, 999),
      );
      return jobs.some((j) => j?.data?.rollbackId === rollbackId);
    },
  };
}

async function enqueueRollback(deps: BotDeps, job: RollbackJob): Promise<void> {
  await onQueues(deps.queues, () =>
    deps.queues.rollback.add('rollback', job, { jobId: rollbackJobId(job.rollbackId, job.cause) }),
  );
}

async function lockedMessage(w: Who, service: string, state: Extract<LockState, { free: false }>) {
  const parent = await w.deps.store.getMessage(w.tenant, state.holder, 'parent');
  let permalink: string | undefined;
  if (parent?.ts) {
    const res = await w.client.chat
      .getPermalink({ channel: parent.channel, message_ts: parent.ts })
      .catch(() => undefined);
    permalink = res?.permalink;
  }
  return renderRollbackLocked({
    service,
    holder: state.holder,
    since: state.since,
    ...(permalink ? { permalink } : {}),
    ...(state.doc ? { requester: state.doc.requester } : {}),
    ...(state.view ? { status: state.view.status } : {}),
  });
}

interface Prepared {
  name: string;
  checklist: Checklist;
  /** The variables the playbook runs with: the target run's, then the modal's, as far as declared. */
  vars: Record<string, string>;
  service: string;
  targetRun?: RunDoc;
  steps: PlannedStep[];
}

async function latestDeployedRun(
  deps: BotDeps,
  tenant: Tenant,
  service: string,
): Promise<RunDoc | undefined> {
  const run = await deps.store.runs
    .find({ teamId: tenant.teamId, service, status: { $in: DEPLOYED } })
    .sort({ createdAt: -1 })
    .limit(1)
    .next();
  return run ?? undefined;
}

/**
 * Everything the modal, the dry run and the start need: the playbook (with the target run's
 * variables), the target, and whether this person may start it and the service is free.
 */
async function prepare(
  w: Who,
  req: { target: string; runId?: string; checkLock: boolean; vars?: Record<string, string> },
): Promise<{ ok: true; p: Prepared } | { ok: false; message: SlackMessage }> {
  const { name, checklist: base } = resolveRollbackTarget(
    req.target,
    w.deps.checklistsDir,
    w.deps.store.parsed,
  );
  const service = base.spec.service;
  if (!(await mayRollback(w, base))) return { ok: false, message: refused(base, name) };
  let targetRun: RunDoc | undefined;
  if (req.runId) {
    targetRun = (await w.deps.store.getRun(w.tenant, req.runId)) ?? undefined;
    if (!targetRun) throw new DeployCheckError(ErrorCode.NotFound, `no run ${req.runId} in this workspace`);
    if (targetRun.service !== service)
      throw new DeployCheckError(
        ErrorCode.Usage,
        `run ${req.runId} deployed ${targetRun.service}, not ${service}`,
      );
  } else {
    targetRun = await latestDeployedRun(w.deps, w.tenant, service);
  }
  const vars = withDeclared(base, { ...targetRun?.vars, ...req.vars });
  const checklist = withRunVars(base, vars);
  if (req.checkLock) {
    const store = await rollbackStore(w.deps.store.db);
    const state = await lockState(lockDeps(w.deps, store), w.tenant, service);
    if (!state.free) return { ok: false, message: await lockedMessage(w, service, state) };
  }
  return {
    ok: true,
    p: {
      name,
      checklist,
      vars,
      service,
      ...(targetRun ? { targetRun } : {}),
      steps: planPlaybook(checklist),
    },
  };
}

function planInput(p: Prepared) {
  return {
    checklist: p.name,
    service: p.service,
    target: p.targetRun ? { run: p.targetRun } : {},
    steps: p.steps,
  };
}

/** `/deploy-check rollback …`: refusals and the dry run answer in the ack; the modal opens before it. */
export async function rollbackCommand(cmd: Extract<Command, { kind: 'rollback' }>, ctx: Ctx): Promise<void> {
  const { deps, command, client, tenant } = ctx;
  let acked = false;
  const ack = async (m?: SlackMessage) => {
    if (acked) return;
    acked = true;
    await ctx.ack(m ? ephemeral(m) : undefined);
  };
  const w: Who = { deps, client, tenant, userId: command.user_id };
  try {
    const prepared = await prepare(w, {
      target: cmd.target,
      ...(cmd.runId ? { runId: cmd.runId } : {}),
      checkLock: !cmd.dryRun,
    });
    if (!prepared.ok) return await ack(prepared.message);
    const p = prepared.p;
    if (cmd.dryRun) {
      await ack(renderRollbackPlan(planInput(p)));
      await deps.store.record(
        tenant,
        p.targetRun?._id ?? `service:${p.service}`,
        command.user_id,
        'rollback-dry-run',
        {
          service: p.service,
          checklist: p.name,
        },
      );
      return;
    }
    // views.open needs the trigger id within 3 s of the command: open first, ack after.
    await client.views.open({
      trigger_id: command.trigger_id,
      view: renderRollbackConfirm({
        checklist: p.name,
        title: p.checklist.spec.title ?? p.name,
        service: p.service,
        target: p.targetRun ? { run: p.targetRun } : {},
        steps: p.steps,
        channel: command.channel_id,
        metadata: encodeValue([p.name, p.targetRun?._id ?? '', command.channel_id, p.checklist.digest]),
        vars: varsOf(p.checklist),
      }) as never,
    });
    await ack();
  } catch (err) {
    if (!isCoded(err)) deps.log.error({ err: describeError(err) }, 'rollback command failed');
    if (!acked) return ack(renderNotice(userMessage(err)));
    await ctx.respond(ephemeral(renderNotice(userMessage(err)))).catch(() => undefined);
  }
}

async function dm(client: WebClient, user: string, m: SlackMessage): Promise<void> {
  await client.chat
    .postMessage({ channel: user, text: m.text, blocks: m.blocks as never })
    .catch(() => undefined);
}

function tellIn(client: WebClient, channel: string, user: string) {
  return async (m: SlackMessage) => {
    await client.chat
      .postEphemeral({ channel, user, text: m.text, blocks: m.blocks as never })
      .catch(() => dm(client, user, m));
  };
}

/** The confirmed start: take the service's lock, record the rollback, enqueue it. */
async function startRollback(
  w: Who,
  meta: { name: string; runId: string; channel: string; digest: string; vars: Record<string, string> },
  viewId: string,
  tell: (m: SlackMessage) => Promise<void>,
): Promise<void> {
  const prepared = await prepare(w, {
    target: meta.name,
    ...(meta.runId ? { runId: meta.runId } : {}),
    checkLock: false,
    vars: meta.vars,
  });
  if (!prepared.ok) return tell(prepared.message);
  const p = prepared.p;
  if (p.checklist.digest !== meta.digest)
    return tell(
      renderNotice(
        `The playbook of ${p.name} changed since the confirmation opened; nothing was started. Run the command again to see the new steps.`,
      ),
    );
  const { deps, tenant, userId } = w;
  const store = await rollbackStore(deps.store.db);
  const rollbackId = deriveRollbackId(tenant.teamId, viewId);
  const lock = await acquireLock(lockDeps(deps, store), tenant, p.service, rollbackId, userId);
  if (!('ok' in lock)) {
    // The same modal submitted twice: the first submission holds the lock; nothing more to do.
    if (lock.holder === rollbackId) return;
    return tell(await lockedMessage(w, p.service, lock));
  }
  try {
    const created = await store.create({
      _id: rollbackId,
      teamId: tenant.teamId,
      ...(tenant.enterpriseId ? { enterpriseId: tenant.enterpriseId } : {}),
      service: p.service,
      checklist: p.name,
      title: p.checklist.spec.title ?? p.name,
      file: p.checklist.file,
      source: p.checklist.source,
      digest: p.checklist.digest,
      vars: p.vars,
      ...(p.targetRun ? { targetRunId: p.targetRun._id } : {}),
      channel: meta.channel,
      requester: userId,
      createdAt: deps.now(),
      epoch: lock.epoch,
    });
    if (!created) return;
    const detail = {
      service: p.service,
      checklist: p.name,
      targetRunId: p.targetRun?._id,
      steps: p.steps.map((s) => s.id),
    };
    await deps.store.record(tenant, rollbackId, userId, 'rollback-started', detail);
    if (p.targetRun)
      await deps.store.record(tenant, p.targetRun._id, userId, 'rollback-started', { rollbackId });
    if (lock.abandoned) {
      await deps.store.record(tenant, lock.abandoned, 'deploy-check', 'rollback-abandoned', {
        supersededBy: rollbackId,
      });
      await enqueueRollback(deps, { rollbackId: lock.abandoned, tenant, cause: 'abort' });
    }
    await enqueueRollback(deps, { rollbackId, tenant, cause: 'start' });
  } catch (err) {
    // Release the service at once rather than after the stale-lock grace.
    await store
      .fact(tenant, rollbackId, 'aborted', 'deploy-check', {
        reason: `could not start: ${describeError(err)}`,
      })
      .catch(() => undefined);
    throw err;
  }
}

/** Declared variables, and those still without a value (the modal offers them to fill in). */
function varsOf(checklist: Checklist): { declared: string[]; empty: string[] } {
  const declared = Object.keys(checklist.spec.vars);
  return { declared, empty: declared.filter((k) => (checklist.vars[k] ?? '') === '') };
}

/** The modal's "Variables" input: `key=value` lines, each naming a declared variable. */
export function parseVarsInput(
  text: string,
  declared: readonly string[],
): { ok: true; vars: Record<string, string> } | { ok: false; error: string } {
  const vars: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!m) return { ok: false, error: `line ${i + 1}: expected key=value` };
    const [, key, value] = m as unknown as [string, string, string];
    if (!declared.includes(key))
      return {
        ok: false,
        error: `line ${i + 1}: unknown variable "${key}"; declared: ${declared.join(', ')}`,
      };
    if (value.trim() !== '') vars[key] = value.trim();
  }
  return { ok: true, vars };
}

function withDeclared(
  checklist: Checklist,
  vars: Record<string, string> | undefined,
): Record<string, string> {
  const declared = Object.keys(checklist.spec.vars);
  return Object.fromEntries(Object.entries(vars ?? {}).filter(([k]) => declared.includes(k)));
}

interface Acting extends Who {
  tell: (m: SlackMessage) => Promise<void>;
}

function teller(respond: RespondFn) {
  return async (m: SlackMessage) => {
    await respond({
      response_type: 'ephemeral',
      replace_original: false,
      text: m.text,
      blocks: m.blocks as never,
    }).catch(() => undefined);
  };
}

const notice = (text: string) => renderNotice(text);

async function openRollback(a: Acting, rollbackId: string) {
  const store = await rollbackStore(a.deps.store.db);
  const loaded = await requireRollbackView(store, a.tenant, rollbackId);
  return { store, ...loaded };
}

function endedText(view: RollbackView): string {
  return `Rollback ${view.rollback._id} is ${view.status}; nothing more can change.`;
}

/** Retry or skip a failed step (skip also answers a waiting manual step): one decision per attempt. */
async function decide(
  a: Acting,
  rollbackId: string,
  stepId: string,
  attempt: number,
  kind: 'retry' | 'skip' | 'confirm',
  reason?: string,
): Promise<void> {
  const { store, view, checklist } = await openRollback(a, rollbackId);
  const cur = view.current;
  const step = checklist.spec.rollback?.steps.find((s) => s.id === stepId);
  if (!step) throw new DeployCheckError(ErrorCode.NotFound, `no step ${stepId} in rollback ${rollbackId}`);
  const title = step.title ?? step.id;
  if (kind === 'confirm') {
    if (step.type !== 'manual')
      throw new DeployCheckError(ErrorCode.Conflict, `step ${title} is not a manual step`);
    const actor = await actorFor(a, checklist, step.owner);
    if (!step.owner.some((p) => matchesPrincipal(actor, p, checklist.spec.roles)))
      return a.tell(
        renderRollbackRefused({
          service: view.rollback.service,
          checklist: view.rollback.checklist,
          allowed: step.owner,
          action: `confirm “${title}” (only its owner may) in the rollback`,
        }),
      );
  } else if (!(await mayRollback(a, checklist))) {
    return a.tell(refused(checklist, view.rollback.checklist, `${kind} a step of the rollback`));
  }
  if (view.ended) return a.tell(notice(endedText(view)));
  const expected = kind === 'retry' ? 'failed' : kind === 'confirm' ? 'waiting' : undefined;
  const matches =
    cur?.step.id === stepId &&
    cur.attempt === attempt &&
    (expected ? cur.state === expected : cur.state === 'failed' || cur.state === 'waiting');
  if (!matches)
    return a.tell(
      notice(`Step “${title}” is not waiting for a decision any more (someone already acted on it).`),
    );
  const first = await store.fact(a.tenant, rollbackId, `decision:${stepId}:${attempt}`, a.userId, {
    kind,
    ...(reason ? { reason: reason.slice(0, 2000) } : {}),
  });
  if (!first) return a.tell(notice(`Someone already decided on step “${title}”.`));
  const action =
    kind === 'retry' ? 'rollback-retried' : kind === 'skip' ? 'rollback-skipped' : 'rollback-step-confirmed';
  await a.deps.store.record(a.tenant, rollbackId, a.userId, action, {
    step: stepId,
    attempt,
    ...(reason ? { reason: reason.slice(0, 2000) } : {}),
  });
  const cause = kind === 'confirm' ? `confirm-${stepId}` : `${kind}-${stepId}-${attempt}`;
  await enqueueRollback(a.deps, { rollbackId, tenant: a.tenant, cause });
}

async function abort(a: Acting, rollbackId: string): Promise<void> {
  const { store, view, checklist } = await openRollback(a, rollbackId);
  if (!(await mayRollback(a, checklist)))
    return a.tell(refused(checklist, view.rollback.checklist, 'abort the rollback'));
  if (view.ended) return a.tell(notice(endedText(view)));
  const first = await store.fact(a.tenant, rollbackId, 'aborted', a.userId, {
    reason: 'aborted from the thread',
  });
  if (!first) return a.tell(notice(`Rollback ${rollbackId} was already aborted.`));
  await a.deps.store.record(a.tenant, rollbackId, a.userId, 'rollback-aborted', {
    step: view.current?.step.id,
    status: view.status,
  });
  await enqueueRollback(a.deps, { rollbackId, tenant: a.tenant, cause: 'abort' });
}

function stepArgs(value: string | undefined): { rollbackId: string; stepId: string; attempt: number } {
  const [rollbackId, stepId, attempt] = decodeValue(value ?? '');
  return { rollbackId: rollbackId ?? '', stepId: stepId ?? '', attempt: Number(attempt ?? 0) };
}

/** Buttons and modals of the rollback: the confirmation, Retry / Skip / Abort, manual steps' Done, and "Start rollback". */
export function registerRollbackActions(on: Interactions, deps: BotDeps): void {
  type Args = {
    body: BlockAction;
    action: ButtonAction;
    ack: () => Promise<void>;
    respond: RespondFn;
    client: WebClient;
  };
  const guarded = (fn: (a: Acting, action: ButtonAction) => Promise<void>) => async (args: Args) => {
    await args.ack();
    const a: Acting = {
      deps,
      client: args.client,
      tenant: tenantOf(args.body),
      userId: args.body.user.id,
      tell: teller(args.respond),
    };
    try {
      await fn(a, args.action);
    } catch (err) {
      if (!isCoded(err))
        deps.log.error({ err: describeError(err), action: args.action.action_id }, 'rollback action failed');
      await a.tell(notice(userMessage(err)));
    }
  };

  for (const decision of ['retry', 'confirm'] as const) {
    on.button(
      ROLLBACK_ACTIONS[decision],
      guarded(async (a, action) => {
        const s = stepArgs(action.value);
        await decide(a, s.rollbackId, s.stepId, s.attempt, decision);
      }) as never,
    );
  }

  on.button(
    ROLLBACK_ACTIONS.abort,
    guarded(async (a, action) => {
      const [rollbackId] = decodeValue(action.value ?? '');
      await abort(a, rollbackId ?? '');
    }) as never,
  );

  // Skip asks for a reason in a modal: the trigger id must be used first, then ack.
  on.button(ROLLBACK_ACTIONS.skip, async ({ body, action, ack, client }) => {
    const s = stepArgs((action as ButtonAction).value);
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderSkipModal(s.rollbackId, s.stepId, s.attempt, s.stepId) as never,
      });
    } finally {
      await ack();
    }
  });

  on.view(ROLLBACK_VIEWS.skip, async ({ ack, body, view, client }) => {
    const reason = view.state.values[SKIP_REASON.block]?.[SKIP_REASON.action]?.value?.trim() ?? '';
    if (!reason) {
      await ack({
        response_action: 'errors',
        errors: { [SKIP_REASON.block]: 'Say why the step is skipped.' },
      });
      return;
    }
    await ack();
    const s = stepArgs(view.private_metadata);
    const tenant = tenantOf(body);
    const a: Acting = {
      deps,
      client,
      tenant,
      userId: body.user.id,
      tell: (m) => dm(client, body.user.id, m),
    };
    try {
      const store = await rollbackStore(deps.store.db);
      const doc = await store.get(tenant, s.rollbackId);
      if (doc) a.tell = tellIn(client, doc.channel, body.user.id);
      await decide(a, s.rollbackId, s.stepId, s.attempt, 'skip', reason);
    } catch (err) {
      if (!isCoded(err)) deps.log.error({ err: describeError(err) }, 'rollback skip failed');
      await a.tell(notice(userMessage(err)));
    }
  });

  on.view(ROLLBACK_VIEWS.confirm, async ({ ack, body, view, client }) => {
    const [name = '', runId = '', channel = '', digest = ''] = decodeValue(view.private_metadata);
    const tenant = tenantOf(body);
    const w: Who = { deps, client, tenant, userId: body.user.id };
    const selected = view.state.values[DRY_RUN.block]?.[DRY_RUN.action]?.selected_options ?? [];
    let vars: Record<string, string> = {};
    const varsText = view.state.values[VARS_INPUT.block]?.[VARS_INPUT.action]?.value ?? '';
    if (varsText.trim()) {
      let declared: string[] = [];
      try {
        declared = Object.keys(
          resolveRollbackTarget(name, deps.checklistsDir, deps.store.parsed).checklist.spec.vars,
        );
      } catch {
        declared = [];
      }
      const parsed = parseVarsInput(varsText, declared);
      if (!parsed.ok) {
        await ack({ response_action: 'errors', errors: { [VARS_INPUT.block]: parsed.error.slice(0, 150) } });
        return;
      }
      vars = parsed.vars;
    }
    if (selected.some((o) => o.value === DRY_RUN.value)) {
      // The modal turns into the dry run: nothing is locked, recorded as started, or called.
      try {
        const prepared = await prepare(w, {
          target: name,
          ...(runId ? { runId } : {}),
          checkLock: false,
          vars,
        });
        if (!prepared.ok) {
          await ack({
            response_action: 'errors',
            errors: { [DRY_RUN.block]: prepared.message.text.slice(0, 150) },
          });
          return;
        }
        await ack({
          response_action: 'update',
          view: renderRollbackDryRunModal(planInput(prepared.p)) as never,
        });
        await deps.store.record(
          tenant,
          prepared.p.targetRun?._id ?? `service:${prepared.p.service}`,
          w.userId,
          'rollback-dry-run',
          { service: prepared.p.service, checklist: prepared.p.name },
        );
      } catch (err) {
        await ack({
          response_action: 'errors',
          errors: { [DRY_RUN.block]: userMessage(err).slice(0, 150) },
        }).catch(() => undefined);
      }
      return;
    }
    await ack();
    const tell = tellIn(client, channel, w.userId);
    try {
      await startRollback(w, { name, runId, channel, digest, vars }, view.id, tell);
    } catch (err) {
      if (!isCoded(err)) deps.log.error({ err: describeError(err) }, 'rollback start failed');
      await tell(notice(userMessage(err)));
    }
  });

  // "Start rollback" offered by a monitor's breach message (value: the run id).
  on.button(ACTIONS.rollback, async ({ body, action, ack, respond, client }) => {
    let acked = false;
    const tell = teller(respond);
    try {
      const [runId = ''] = decodeValue((action as ButtonAction).value ?? '');
      const tenant = tenantOf(body);
      const w: Who = { deps, client, tenant, userId: body.user.id };
      const run = await deps.store.getRun(tenant, runId);
      if (!run) throw new DeployCheckError(ErrorCode.NotFound, `no run ${runId} in this workspace`);
      const prepared = await prepare(w, { target: run.checklist, runId, checkLock: true });
      if (!prepared.ok) {
        acked = true;
        await ack();
        return tell(prepared.message);
      }
      const p = prepared.p;
      const channel = body.channel?.id ?? run.channel;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: renderRollbackConfirm({
          checklist: p.name,
          title: p.checklist.spec.title ?? p.name,
          service: p.service,
          target: { run },
          steps: p.steps,
          channel,
          metadata: encodeValue([p.name, runId, channel, p.checklist.digest]),
          vars: varsOf(p.checklist),
        }) as never,
      });
      acked = true;
      await ack();
    } catch (err) {
      if (!acked) await ack();
      if (!isCoded(err)) deps.log.error({ err: describeError(err) }, 'start rollback button failed');
      await tell(notice(userMessage(err)));
    }
  });
}

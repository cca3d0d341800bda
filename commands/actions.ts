import type { BlockAction, ButtonAction, RespondFn } from '@slack/bolt';
import type { ModalView } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { enqueueRun, enqueueThreadSync } from '../jobs/queues.js';
import { requireView } from '../jobs/view.js';
import { type Actor, gatesOf, mayApprove, mayRun, mayTick, runGroups } from '../src/approvals/policy.js';
import type { Checklist } from '../src/checklist/model.js';
import { DeployCheckError, ErrorCode, isCoded } from '../src/errors.js';
import type { Interactions } from '../src/slack/interactions.js';
import { ACTIONS, decodeValue, VIEWS } from '../src/slack/render/actions.js';
import { rejectModal, renderNotice, tickNoteModal } from '../src/slack/render/run.js';
import { nextRound, type RunView } from '../src/state/run-view.js';
import type { Tenant } from '../src/store/run-store.js';
import type { BotDeps } from './deps.js';
import { userMessage } from './errors.js';
import { tenantOf } from './tenant.js';

const CLOSED = new Set(['approved', 'passed', 'rejected', 'cancelled', 'expired']);

interface Acting {
  tenant: Tenant;
  userId: string;
  client: WebClient;
  deps: BotDeps;
  tell: (text: string) => Promise<void>;
}

/**
 * The two parts a button value / private_metadata carries (run id, then item key, gate or phase).
 * Anything else is a stale or tampered value: a coded error the user is told, never `undefined`
 * passed on (which crashed the modal renderers before the ack — found by fuzzing).
 */
export function argsOf(value: string | undefined): [string, string] {
  const parts = decodeValue(value ?? '');
  if (parts.length !== 2 || !parts[0] || !parts[1])
    throw new DeployCheckError(
      ErrorCode.NotFound,
      'This button is out of date; see `/deploy-check status` for where the run stands.',
    );
  return [parts[0], parts[1]];
}

function teller(respond: RespondFn): (text: string) => Promise<void> {
  return async (text) => {
    await respond({ response_type: 'ephemeral', replace_original: false, ...renderNotice(text) }).catch(
      () => undefined,
    );
  };
}

async function actorFor(a: Acting, checklist: Checklist): Promise<Actor> {
  const candidates = Object.values(checklist.spec.roles).flatMap((r) => r.groups);
  const owners = checklist.phases.flatMap((p) =>
    p.items.flatMap((i) => (i.kind === 'manual' ? i.manual.owner : [])),
  );
  for (const o of owners) if ('group' in o) candidates.push(o.group);
  candidates.push(...runGroups(checklist.spec));
  const groups = candidates.length
    ? await a.deps.groups.groupsOf(a.client, a.tenant.teamId, a.userId, candidates)
    : new Set<string>();
  return { userId: a.userId, groups };
}

/** What Bolt hands a button listener (the parts these handlers use). */
interface ButtonArgs {
  body: BlockAction;
  action: ButtonAction;
  ack: () => Promise<void>;
  respond: RespondFn;
  client: WebClient;
}

/** Button clicks and modal submissions in a run's thread: ack, check, record one fact, enqueue a re-render. */
export function register(on: Interactions, deps: BotDeps): void {
  const guarded =
    (fn: (args: { body: BlockAction; action: ButtonAction; a: Acting }) => Promise<void>) =>
    async ({ body, action, ack, respond, client }: ButtonArgs) => {
      // Ack first: nothing below (not even reading the tenant) may leave Slack without its ack.
      await ack();
      const tell = teller(respond);
      try {
        const a: Acting = { tenant: tenantOf(body), userId: body.user.id, client, deps, tell };
        await fn({ body, action, a });
      } catch (err) {
        if (!isCoded(err)) deps.log.error({ err, action: action.action_id }, 'action failed');
        await tell(userMessage(err));
      }
    };

  /** Opens a modal from a button; acks after views.open (the trigger id is fresh) but always acks. */
  const opensModal =
    (render: (value: string | undefined) => ModalView) =>
    async ({ body, action, ack, respond, client }: ButtonArgs) => {
      try {
        await client.views.open({ trigger_id: body.trigger_id, view: render(action.value) as never });
      } catch (err) {
        if (!isCoded(err)) deps.log.warn({ err, action: action.action_id }, 'could not open the modal');
        await teller(respond)(userMessage(err));
      } finally {
        await ack();
      }
    };

  on.button(
    ACTIONS.tick,
    guarded(async ({ action, a }) => {
      const [runId, key] = argsOf(action.value);
      await tick(a, runId, key, undefined);
    }) as never,
  );

  on.button(
    ACTIONS.tickNote,
    opensModal((value) => {
      const [runId, key] = argsOf(value);
      return tickNoteModal(runId, key, key);
    }) as never,
  );

  on.view(VIEWS.tickNote, async ({ ack, body, view, client }) => {
    await ack();
    const note = view.state.values.note?.note?.value ?? undefined;
    const tell = (t: string) => dm(client, body.user.id, t);
    await (async () => {
      const [runId, key] = argsOf(view.private_metadata);
      const a: Acting = { tenant: tenantOf(body), userId: body.user.id, client, deps, tell };
      await tick(a, runId, key, note ?? undefined);
    })().catch((err: unknown) => tell(userMessage(err)));
  });

  on.button(
    ACTIONS.approve,
    guarded(async ({ action, a }) => {
      const [runId, gate] = argsOf(action.value);
      await vote(a, runId, gate, 'approve');
    }) as never,
  );

  on.button(
    ACTIONS.reject,
    opensModal((value) => {
      const [runId, gate] = argsOf(value);
      return rejectModal(runId, gate, runId);
    }) as never,
  );

  on.view(VIEWS.reject, async ({ ack, body, view, client }) => {
    const reason = view.state.values.reason?.reason?.value?.trim() ?? '';
    if (!reason) {
      await ack({ response_action: 'errors', errors: { reason: 'Say why the release is rejected.' } });
      return;
    }
    await ack();
    const tell = (t: string) => dm(client, body.user.id, t);
    await (async () => {
      const [runId, gate] = argsOf(view.private_metadata);
      const a: Acting = { tenant: tenantOf(body), userId: body.user.id, client, deps, tell };
      await vote(a, runId, gate, 'reject', reason);
    })().catch((err: unknown) => tell(userMessage(err)));
  });

  on.button(
    ACTIONS.rerun,
    guarded(async ({ action, a }) => {
      const [runId, phase] = argsOf(action.value);
      await rerun(a, runId, phase);
    }) as never,
  );
}

async function dm(client: WebClient, user: string, text: string): Promise<void> {
  await client.chat.postMessage({ channel: user, ...renderNotice(text) } as never).catch(() => undefined);
}

async function openRun(a: Acting, runId: string): Promise<{ view: RunView; checklist: Checklist }> {
  const loaded = await requireView(a.deps.store, a.tenant, runId, a.deps.now());
  if (CLOSED.has(loaded.view.status))
    throw new DeployCheckError(
      ErrorCode.Conflict,
      `run ${runId} is ${loaded.view.status}; nothing more can change`,
    );
  return loaded;
}

async function tick(a: Acting, runId: string, key: string, note: string | undefined): Promise<void> {
  const { checklist } = await openRun(a, runId);
  const item = checklist.phases.flatMap((p) => p.items).find((i) => i.key === key);
  if (item?.kind !== 'manual')
    throw new DeployCheckError(ErrorCode.NotFound, `no manual item ${key} in run ${runId}`);
  const decision = mayTick(await actorFor(a, checklist), item.manual.owner, checklist.spec.roles);
  if (!decision.ok)
    throw new DeployCheckError(ErrorCode.NotAllowed, `You cannot tick “${item.title}”: ${decision.rule}.`);
  const first = await a.deps.store.tick(a.tenant, runId, key, {
    by: a.userId,
    at: a.deps.now().toISOString(),
    ...(note ? { note: note.slice(0, 2000) } : {}),
  });
  if (!first) {
    // A first click can record the tick and then fail to enqueue the re-render (queue down: the
    // user is told to try again). Without this, the retry only said "already ticked" and the thread
    // never showed the tick — the run stalled. Re-rendering is idempotent and deduplicated.
    await enqueueThreadSync(a.deps.queues, { runId, tenant: a.tenant, reason: 'tick' });
    await a.tell(`“${item.title}” was already ticked.`);
    return;
  }
  await a.deps.store.record(a.tenant, runId, a.userId, 'ticked', {
    key,
    ...(note ? { note: note.slice(0, 2000) } : {}),
  });
  await enqueueThreadSync(a.deps.queues, { runId, tenant: a.tenant, reason: 'tick' });
}

async function vote(
  a: Acting,
  runId: string,
  gateId: string,
  decision: 'approve' | 'reject',
  reason?: string,
): Promise<void> {
  const { view, checklist } = await openRun(a, runId);
  const gate = gatesOf(checklist.spec).find((g) => g.id === gateId);
  if (!gate) throw new DeployCheckError(ErrorCode.NotFound, `no approval gate ${gateId} in run ${runId}`);
  if (view.status !== 'awaiting-approval')
    throw new DeployCheckError(ErrorCode.Conflict, `run ${runId} is ${view.status}, not awaiting approval`);
  const allowed = mayApprove(await actorFor(a, checklist), gate, checklist.spec, view.run.requester);
  if (!allowed.ok)
    throw new DeployCheckError(
      ErrorCode.NotAllowed,
      `Your ${decision === 'approve' ? 'approval' : 'rejection'} was not counted: ${allowed.rule}.`,
    );
  const first = await a.deps.store.vote(a.tenant, {
    runId,
    gate: gateId,
    user: a.userId,
    decision,
    roles: allowed.roles,
    ...(reason ? { reason: reason.slice(0, 2000) } : {}),
    evidence: view.evidence,
    at: a.deps.now(),
  });
  if (!first) {
    // As for ticks: a retried vote brings the thread up to date if the first one's re-render was lost.
    await enqueueThreadSync(a.deps.queues, { runId, tenant: a.tenant, reason: decision });
    await a.tell('You already voted on this run; each person counts once.');
    return;
  }
  if (decision === 'reject')
    await a.deps.store.fact(a.tenant, runId, 'rejected', a.userId, { reason: (reason ?? '').slice(0, 2000) });
  await a.deps.store.record(a.tenant, runId, a.userId, decision === 'approve' ? 'approved' : 'rejected', {
    gate: gateId,
    evidence: view.evidence,
    ...(reason ? { reason } : {}),
  });
  await enqueueThreadSync(a.deps.queues, { runId, tenant: a.tenant, reason: decision });
}

async function rerun(a: Acting, runId: string, phase: string): Promise<void> {
  // Facts first, then the view: a click whose facts miss a simultaneous click's `rerun:N` picks
  // the same N (duplicate key: told below); one whose facts include it sees the phase running in
  // the later view. Read the other way round, the second of two clicks could start round N+1 too.
  const facts = await a.deps.store.factsFor(a.tenant, runId);
  const { view, checklist } = await openRun(a, runId);
  if (!checklist.phases.some((p) => p.id === phase))
    throw new DeployCheckError(ErrorCode.NotFound, `no phase ${phase} in run ${runId}`);
  const allowed = mayRun(await actorFor(a, checklist), checklist.spec);
  if (!allowed.ok)
    throw new DeployCheckError(
      ErrorCode.NotAllowed,
      `You cannot re-run a phase of this run: ${allowed.rule}.`,
    );
  if (view.runningPhases.includes(phase))
    throw new DeployCheckError(ErrorCode.Conflict, `phase ${phase} is already running`);
  const round = nextRound(facts);
  // The round number is a unique fact: of two simultaneous clicks, one re-runs and one is told.
  const first = await a.deps.store.fact(a.tenant, runId, `rerun:${round}`, a.userId, { phases: [phase] });
  if (!first)
    throw new DeployCheckError(
      ErrorCode.Conflict,
      'someone just re-ran a phase of this run; wait for it to finish',
    );
  await a.deps.store.record(a.tenant, runId, a.userId, 'rerun', { phase, round });
  await enqueueRun(a.deps.queues, {
    runId,
    tenant: a.tenant,
    checklist: view.run.checklist,
    ...(view.run.env ? { env: view.run.env } : {}),
    vars: view.run.vars,
    channel: view.run.channel,
    requester: a.userId,
    rerun: { phases: [phase], round },
  });
}

import type { Dispatcher } from 'undici';
import type { Checklist } from '../checklist/model.js';
import type { RollbackStepSpec } from '../checklist/schema.js';
import { formatDuration } from '../checks/duration.js';
import { DeployCheckError, describeError, ErrorCode } from '../errors.js';
import { type AddressPolicy, createGuardedDispatcher, type TlsTrust } from '../net/guard.js';
import { probeNetwork } from '../run/engine.js';
import { mentionsSecret, Redactor, resolveSecrets, type SecretSource, secretSource } from '../run/secrets.js';
import type { RollbackFactDoc, RollbackStore } from '../store/rollback-store.js';
import type { Tenant } from '../store/run-store.js';
import { checklistOf, stepsOf } from './playbook.js';
import { executorFor, stepTimeoutMs } from './registry.js';
import type { StepContext, StepOutcome } from './types.js';
import { claimsOf, deriveRollbackView, failedAttempt, type RollbackView } from './view.js';

/**
 * Runs (or resumes) a rollback playbook, step by step, from its facts. Knows nothing of Slack:
 * rendering and posting are hooks.
 *
 * Resumable and idempotent:
 *  - A step's completion is a fact (`done:<step>`); a resumed playbook skips completed steps, so
 *    no step runs twice to completion.
 *  - A step's start is a claim (`claim:<step>:<attempt>`, a unique insert): of two jobs racing on
 *    a step, one runs it and the other leaves it to that one. A claim made by this very job id
 *    belongs to an earlier delivery that BullMQ re-delivered because its worker died (the job's
 *    lock expired): it is taken over at once. A claim by another job is taken over only once its
 *    lease (the step's timeout plus a grace) has passed, when that attempt has certainly stopped.
 *  - Hence a step *interrupted* before its completion fact starts again: every step type is
 *    written to be idempotent (HTTP steps send an Idempotency-Key, redis-delete finds nothing
 *    left, messages are claimed and found again after a crash) and targets should be too.
 *  - A failed step stops the playbook (fact `failed:<step>:<n>`); a person's decision
 *    (`decision:<step>:<n>`: retry or skip, one per attempt) or an `aborted` fact moves it on.
 *  - A manual step pauses the playbook: the job ends; the owner's confirmation resumes it.
 */

export interface PlaybookHooks {
  /** Shows the state; `final` renders (paused, finished, aborted) must succeed, others are best effort. */
  render(view: RollbackView, final: boolean): Promise<void>;
  notify(channel: string, text: string, stepId: string): Promise<string>;
  postSummary(view: RollbackView, channel: string | undefined, stepId: string): Promise<string>;
  audit?(actor: string, action: string, detail: Record<string, unknown>): Promise<void>;
  warn?(message: string, err: unknown): void;
}

export interface PlaybookOptions {
  store: RollbackStore;
  tenant: Tenant;
  rollbackId: string;
  /** The BullMQ job running this (see rollbackJobId). */
  jobId: string;
  /** Where `${secret:NAME}` values come from when the checklist's source is `env`. */
  env: NodeJS.ProcessEnv;
  hooks: PlaybookHooks;
  now?: () => Date;
  /** Added to a step's timeout to make its claim's lease. */
  leaseGraceMs?: number;
  /** How often a running step looks for an `aborted` fact. */
  abortPollMs?: number;
}

export type PlaybookOutcome = 'finished' | 'aborted' | 'paused' | 'yielded';

const LEASE_GRACE_MS = 30_000;
const ABORT_POLL_MS = 1000;
/** Grace a step gets after its signal aborts before the engine stops waiting for it. */
const ABANDON_GRACE_MS = 1000;

interface Runtime {
  checklist: Checklist;
  probe: StepContext['probe'];
  redactor: Redactor;
  resolve<T>(value: T): T;
  /** A problem that fails every step (an unreadable caFile). */
  problem?: string;
  close(): Promise<void>;
}

function createRuntime(checklist: Checklist, env: NodeJS.ProcessEnv): Runtime {
  let policy: AddressPolicy = { allowLinkLocal: checklist.spec.network.allowLinkLocal };
  let tls: TlsTrust = { rejectUnauthorized: true };
  let problem: string | undefined;
  try {
    ({ policy, tls } = probeNetwork(checklist));
  } catch (err) {
    problem = describeError(err);
  }
  const dispatcher: Dispatcher = createGuardedDispatcher(policy, { tls });
  const redactor = new Redactor();
  const baseDir = checklist.baseDir ?? process.cwd();
  let source: SecretSource | undefined;
  return {
    checklist,
    probe: { policy, tls, dispatcher, baseDir },
    redactor,
    resolve<T>(value: T): T {
      if (!mentionsSecret(value)) return value;
      source ??= secretSource(checklist.spec.secrets, baseDir, env);
      return resolveSecrets(value, source, redactor);
    },
    ...(problem ? { problem } : {}),
    close: () => dispatcher.close().catch(() => undefined),
  };
}

/** The attempt this job should claim next, or undefined when another live job holds the step. */
export function nextAttempt(
  facts: readonly RollbackFactDoc[],
  stepId: string,
  jobId: string,
  now: number,
): number | undefined {
  const latest = claimsOf(facts, stepId).at(-1);
  if (!latest) return 1;
  // Failed and retried (a failed step that was not retried never gets here: the playbook is paused).
  if (failedAttempt(facts, stepId, latest.attempt)) return latest.attempt + 1;
  // Claimed and unfinished: our own earlier delivery died, or the claimant's lease has run out.
  if (latest.job === jobId || now >= latest.leaseUntil) return latest.attempt + 1;
  return undefined;
}

export async function runPlaybook(
  o: PlaybookOptions,
): Promise<{ view: RollbackView; outcome: PlaybookOutcome }> {
  const now = o.now ?? (() => new Date());
  const doc = await o.store.get(o.tenant, o.rollbackId);
  if (!doc) throw new DeployCheckError(ErrorCode.NotFound, `no rollback ${o.rollbackId} in this workspace`);
  const checklist = checklistOf(doc);
  const steps = stepsOf(checklist);
  const load = async () => deriveRollbackView(doc, steps, await o.store.factsFor(o.tenant, o.rollbackId));
  const renderSoft = async (view: RollbackView) => {
    try {
      await o.hooks.render(view, false);
    } catch (err) {
      // Slack being slow or down must not hold a rollback up; the next render catches up.
      o.hooks.warn?.('rollback progress could not be shown', err);
    }
  };
  const runtime = createRuntime(checklist, o.env);
  try {
    for (;;) {
      const facts = await o.store.factsFor(o.tenant, o.rollbackId);
      let view = deriveRollbackView(doc, steps, facts);
      if (view.status === 'finished') {
        if (
          !view.finishedAt &&
          (await o.store.fact(o.tenant, o.rollbackId, 'finished', undefined, undefined, now()))
        ) {
          await o.hooks.audit?.('deploy-check', 'rollback-finished', { service: doc.service });
          view = await load();
        }
        await o.hooks.render(view, true);
        return { view, outcome: 'finished' };
      }
      if (view.status === 'aborted') {
        await o.hooks.render(view, true);
        return { view, outcome: 'aborted' };
      }
      const current = view.current!;
      if (current.state === 'waiting' || current.state === 'failed') {
        await o.hooks.render(view, true);
        return { view, outcome: 'paused' };
      }
      const step = current.step;
      const attempt = nextAttempt(facts, step.id, o.jobId, now().getTime());
      if (attempt === undefined) return { view, outcome: 'yielded' };
      const timeoutMs = stepTimeoutMs(step);
      const claimed = await o.store.fact(
        o.tenant,
        o.rollbackId,
        `claim:${step.id}:${attempt}`,
        undefined,
        { job: o.jobId, leaseUntil: now().getTime() + timeoutMs + (o.leaseGraceMs ?? LEASE_GRACE_MS) },
        now(),
      );
      if (!claimed) return { view, outcome: 'yielded' };
      view = await load();
      await renderSoft(view);
      const outcome = await runStep(step, timeoutMs, runtime, o, view);
      const data = {
        attempt,
        observed: outcome.observed.slice(0, 2000),
        detail: outcome.detail.slice(0, 2000),
        durationMs: outcome.durationMs,
        ...(outcome.metrics ? { metrics: outcome.metrics } : {}),
      };
      if (outcome.ok) {
        await o.store.fact(o.tenant, o.rollbackId, `done:${step.id}`, undefined, data, now());
      } else {
        const first = await o.store.fact(
          o.tenant,
          o.rollbackId,
          `failed:${step.id}:${attempt}`,
          undefined,
          data,
          now(),
        );
        if (first)
          await o.hooks.audit?.('deploy-check', 'rollback-step-failed', {
            step: step.id,
            attempt,
            detail: data.detail,
          });
      }
    }
  } finally {
    await runtime.close();
  }
}

async function runStep(
  step: RollbackStepSpec,
  timeoutMs: number,
  runtime: Runtime,
  o: PlaybookOptions,
  view: RollbackView,
): Promise<StepOutcome & { durationMs: number }> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (runtime.problem) return { ok: false, observed: '', detail: runtime.problem, durationMs: 0 };
  const aborted = new AbortController();
  const poll = setInterval(() => {
    o.store
      .hasFact(o.tenant, o.rollbackId, 'aborted')
      .then((yes) => {
        if (yes) aborted.abort(new Error('the rollback was aborted'));
      })
      .catch(() => undefined);
  }, o.abortPollMs ?? ABORT_POLL_MS);
  poll.unref();
  const deadline = AbortSignal.timeout(Math.max(1, timeoutMs));
  const signal = AbortSignal.any([aborted.signal, deadline]);
  const ctx: StepContext = {
    rollbackId: o.rollbackId,
    checklist: runtime.checklist,
    signal,
    timeoutMs,
    probe: runtime.probe,
    resolve: (v) => runtime.resolve(v),
    notify: (channel, text) => o.hooks.notify(channel, text, step.id),
    postSummary: (channel) => o.hooks.postSummary(view, channel, step.id),
  };
  let abandon: NodeJS.Timeout | undefined;
  const abandoned = new Promise<StepOutcome>((resolve) => {
    const onAbort = () => {
      abandon = setTimeout(
        () =>
          resolve({
            ok: false,
            observed: '',
            detail: deadline.aborted
              ? `no answer within ${formatDuration(timeoutMs)}`
              : 'interrupted: the rollback was aborted',
          }),
        ABANDON_GRACE_MS,
      );
      abandon.unref?.();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  let outcome: StepOutcome;
  try {
    outcome = await Promise.race([executorFor(step.type).run(step as never, ctx), abandoned]);
  } catch (err) {
    outcome = { ok: false, observed: '', detail: describeError(err) };
  } finally {
    clearInterval(poll);
    if (abandon) clearTimeout(abandon);
  }
  if (
    !outcome.ok &&
    deadline.aborted &&
    !aborted.signal.aborted &&
    !/within|timed out|did not finish/.test(outcome.detail)
  )
    outcome = {
      ...outcome,
      detail: `timed out after ${formatDuration(timeoutMs)}${outcome.detail ? ` (${outcome.detail})` : ''}`,
    };
  return {
    ...outcome,
    observed: runtime.redactor.redact(outcome.observed),
    detail: runtime.redactor.redact(outcome.detail),
    durationMs: elapsed(),
  };
}

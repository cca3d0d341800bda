import { UnrecoverableError } from 'bullmq';
import { checklistFileByName, loadChecklistFile } from '../src/checklist/load.js';
import type { Checklist } from '../src/checklist/model.js';
import { describeError, isCoded } from '../src/errors.js';
import { runChecklist } from '../src/run/engine.js';
import type { ItemResult, RunEvent } from '../src/run/types.js';
import { renderNotice, renderPhase } from '../src/slack/render/run.js';
import type { ThreadWriter } from '../src/slack/thread.js';
import type { RunDoc, Tenant } from '../src/store/run-store.js';
import type { RunJob } from './contracts.js';
import type { WorkerDeps } from './deps.js';
import { asThreadWriter, syncThread, viewToShow, writerFor } from './sync.js';
import { loadView, requireView } from './view.js';

const CANCEL_POLL_MS = 1000;

/**
 * Executes a run (or a re-run of some phases) and keeps its thread current. Safe to run again
 * after a crash: results already recorded for this round are not measured again, and messages
 * already posted are only updated.
 */
export async function processRun(data: RunJob, deps: WorkerDeps, jobSignal?: AbortSignal): Promise<void> {
  const { tenant, runId } = data;
  const round = data.rerun?.round ?? 0;
  const checklist = data.rerun ? await storedChecklist(deps, tenant, runId) : await loadForRun(data, deps);
  if (!data.rerun) await deps.store.createRun(runDoc(data, checklist, deps.now()));
  const log = deps.log.child({ runId, teamId: tenant.teamId, checklist: data.checklist, round });
  const firstStart = await deps.store.fact(tenant, runId, round === 0 ? 'started' : `rerun-started:${round}`);
  log.info({ resumed: !firstStart }, 'run started');
  const started = round === 0 ? 'run-started' : 'phase-rerun';
  await deps.store.record(
    tenant,
    runId,
    data.requester,
    started,
    { round, phases: data.rerun?.phases },
    { once: `${started}:${round}` },
  );

  const client = await deps.slack.forTenant(tenant);
  const initial = await requireView(deps.store, tenant, runId, deps.now());
  if (initial.view.status === 'cancelled') return;
  const writer = writerFor(deps, client, tenant, initial.view);
  // Under the thread lease; a resumed job or a re-run re-reads first, so it never writes its older
  // view over a newer one (a fresh first run has had no other writer yet).
  const parentTs = await asThreadWriter(deps, runId, async () =>
    writer.write(
      'parent',
      (await import('../src/slack/render/run.js')).renderParent(
        firstStart && round === 0
          ? initial.view
          : ((await viewToShow(deps, tenant, runId))?.view ?? initial.view),
        envOpt(data),
      ),
    ),
  );

  const prior = await priorResults(deps, tenant, runId, round);
  const cancel = new AbortController();
  const stopPolling = pollCancellation(deps, tenant, runId, cancel);
  const signal = jobSignal ? AbortSignal.any([jobSignal, cancel.signal]) : cancel.signal;
  const phases = new PhaseMessages(deps, writer, tenant, runId, parentTs);
  try {
    const result = await runChecklist(checklist, {
      runId,
      signal,
      env: deps.env,
      prior,
      ticks: await deps.store.ticksFor(tenant, runId),
      manualMode: 'pending',
      ...(deps.dispatchers ? { dispatchers: deps.dispatchers } : {}),
      ...(data.rerun ? { phases: data.rerun.phases } : {}),
      onEvent: (event) => onRunEvent(event, { deps, tenant, runId, round, phases }),
    });
    deps.metrics.runsTotal.inc({ outcome: result.outcome });
    log.info({ outcome: result.outcome, stoppedAt: result.stoppedAt }, 'probes finished');
  } finally {
    stopPolling();
    await phases.drain();
  }
  await deps.store.fact(tenant, runId, round === 0 ? 'probes-done' : `rerun-done:${round}`);
  await syncThread(deps, tenant, runId, { phases: 'all' });
}

/**
 * Slack answers that no retry can change: the bot left or lost the channel, the token is gone, or
 * Slack refuses what we send. Retrying them only delays telling people the run stopped.
 */
const PERMANENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'team_access_not_granted',
  'invalid_blocks',
]);

export function permanentSlackError(err: unknown): string | undefined {
  const e = err as { code?: unknown; data?: { error?: unknown } };
  const error = e?.data?.error;
  if (e?.code !== 'slack_webapi_platform_error' || typeof error !== 'string') return undefined;
  return PERMANENT_SLACK_ERRORS.has(error) ? error : undefined;
}

/** The `runs` queue's processor: a run, with Slack's permanent refusals failing the job for good at once. */
export async function processRunJob(data: RunJob, deps: WorkerDeps, signal?: AbortSignal): Promise<void> {
  try {
    await processRun(data, deps, signal);
  } catch (err) {
    const permanent = permanentSlackError(err);
    if (permanent)
      throw Object.assign(new UnrecoverableError(`Slack refused the run's messages: ${permanent}`), {
        cause: err,
      });
    throw err;
  }
}

/**
 * A run whose job failed for good says so — in the store (status, listings, the audit) and, when
 * Slack lets us, in its thread — instead of showing "In progress" forever. Never throws: it runs
 * from the worker's `failed` event.
 */
export async function markRunErrored(data: RunJob, deps: WorkerDeps, err: unknown): Promise<void> {
  const { tenant, runId } = data;
  const log = deps.log.child({ runId, teamId: tenant.teamId });
  try {
    // A run that never started (its checklist did not load) has no thread; the requester was told.
    if (!(await deps.store.getRun(tenant, runId))) return;
    const reason = erroredReason(err);
    await deps.store.fact(tenant, runId, 'errored', undefined, { reason });
    await deps.store.record(tenant, runId, 'deploy-check', 'errored', { reason }, { once: 'errored' });
    await deps.store.setStatus(tenant, runId, 'errored');
    await syncThread(deps, tenant, runId, { phases: 'all' });
  } catch (e) {
    log.warn({ err: describeError(e) }, 'could not mark the run errored in its thread');
  }
}

/** What the thread and the audit say stopped the run: a Slack or deploy-check code, never a message that could carry a secret. */
function erroredReason(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const slack = permanentSlackError(err) ?? permanentSlackError(cause);
  if (slack) return slack;
  return isCoded(err) ? err.code : 'the worker gave up after retries';
}

function envOpt(data: RunJob): { env?: string } {
  return data.env ? { env: data.env } : {};
}

async function onRunEvent(
  event: RunEvent,
  ctx: { deps: WorkerDeps; tenant: Tenant; runId: string; round: number; phases: PhaseMessages },
): Promise<void> {
  if (event.type === 'item-finished') {
    if (event.result.status === 'pending') return;
    await ctx.deps.store.recordResult(ctx.tenant, ctx.runId, ctx.round, event.result);
    ctx.deps.metrics.probeSeconds.observe(
      { type: event.result.type, status: event.result.status },
      event.result.durationMs / 1000,
    );
    ctx.phases.touch(event.result.phaseId);
  } else if (event.type === 'phase-finished') {
    if (event.phase.status === 'skipped') {
      for (const item of event.phase.items)
        await ctx.deps.store.recordResult(ctx.tenant, ctx.runId, ctx.round, item);
    }
    await ctx.deps.store.fact(ctx.tenant, ctx.runId, `phase-done:${event.phase.id}:${ctx.round}`);
    await ctx.phases.flush(event.phase.id);
  }
}

async function loadForRun(data: RunJob, deps: WorkerDeps): Promise<Checklist> {
  try {
    return loadChecklistFile(checklistFileByName(data.checklist, deps.checklistsDir), data.vars);
  } catch (err) {
    if (!isCoded(err)) throw err;
    // A checklist that does not load will not load on retry either.
    const client = await deps.slack.forTenant(data.tenant);
    await client.chat
      .postEphemeral({
        channel: data.channel,
        user: data.requester,
        ...renderNotice(`Run ${data.runId} could not start: ${err.message}`),
      } as never)
      .catch((e: unknown) => deps.log.warn({ err: describeError(e) }, 'could not tell the requester'));
    throw new UnrecoverableError(err.message);
  }
}

async function storedChecklist(deps: WorkerDeps, tenant: Tenant, runId: string): Promise<Checklist> {
  const loaded = await loadView(deps.store, tenant, runId, deps.now());
  if (!loaded) throw new UnrecoverableError(`re-run of unknown run ${runId}`);
  return { ...loaded.checklist, baseDir: deps.checklistsDir };
}

/** The run document a run job creates (also how tests and benchmarks make a run as a worker would). */
export function runDoc(data: RunJob, checklist: Checklist, now: Date): RunDoc {
  return {
    _id: data.runId,
    teamId: data.tenant.teamId,
    ...(data.tenant.enterpriseId ? { enterpriseId: data.tenant.enterpriseId } : {}),
    checklist: checklist.spec.name,
    title: checklist.spec.title ?? checklist.spec.name,
    service: checklist.spec.service,
    ...(data.env ? { env: data.env } : {}),
    vars: data.vars,
    digest: checklist.digest,
    source: checklist.source,
    file: checklist.file,
    channel: data.channel,
    requester: data.requester,
    createdAt: now,
    status: 'running',
    updatedAt: now,
  };
}

/** Results this round already recorded before a crash: the engine reuses them instead of measuring again. */
async function priorResults(
  deps: WorkerDeps,
  tenant: Tenant,
  runId: string,
  round: number,
): Promise<Map<string, ItemResult>> {
  const docs = await deps.store.results.find({ runId, teamId: tenant.teamId, round }).toArray();
  return new Map(docs.map((d) => [d.key, d.result]));
}

function pollCancellation(
  deps: WorkerDeps,
  tenant: Tenant,
  runId: string,
  cancel: AbortController,
): () => void {
  const timer = setInterval(() => {
    deps.store.facts
      .findOne({ _id: `${runId}|cancelled`, teamId: tenant.teamId })
      .then((f) => {
        if (f) cancel.abort();
      })
      .catch(() => undefined);
  }, CANCEL_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Coalesces a run's phase-message writes: a phase's first write waits for its results to gather
 * (or for the phase to end), later ones are at least SLACK_UPDATE_INTERVAL_MS apart, and writes
 * are serialised so one part is never posted twice by racing timers.
 */
class PhaseMessages {
  private readonly started = new Map<string, number>();
  private readonly lastWrite = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: WorkerDeps,
    private readonly writer: ThreadWriter,
    private readonly tenant: Tenant,
    private readonly runId: string,
    private readonly parentTs: string,
  ) {}

  touch(phaseId: string): void {
    if (this.timers.has(phaseId)) return;
    const now = Date.now();
    if (!this.started.has(phaseId)) this.started.set(phaseId, now);
    const last = this.lastWrite.get(phaseId);
    const due =
      last === undefined
        ? this.started.get(phaseId)! + this.deps.config.SLACK_PHASE_FIRST_WRITE_MS
        : last + this.deps.config.SLACK_UPDATE_INTERVAL_MS;
    const timer = setTimeout(
      () => {
        this.timers.delete(phaseId);
        this.enqueue(phaseId).catch((err: unknown) =>
          this.deps.log.warn(
            { runId: this.runId, err: describeError(err) },
            'intermediate phase update failed',
          ),
        );
      },
      Math.max(0, due - now),
    );
    timer.unref();
    this.timers.set(phaseId, timer);
  }

  async flush(phaseId: string): Promise<void> {
    const timer = this.timers.get(phaseId);
    if (timer) clearTimeout(timer);
    this.timers.delete(phaseId);
    await this.enqueue(phaseId);
  }

  async drain(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.chain.catch(() => undefined);
  }

  private enqueue(phaseId: string): Promise<void> {
    const next = this.chain.catch(() => undefined).then(() => this.writePhase(phaseId));
    this.chain = next;
    return next;
  }

  private async writePhase(phaseId: string): Promise<void> {
    // As the thread's only writer, from facts read under the lease (see jobs/thread-lock.ts).
    const written = await asThreadWriter(this.deps, this.runId, async () => {
      const loaded = await loadView(this.deps.store, this.tenant, this.runId, this.deps.now());
      if (!loaded) return false;
      await this.writer.write(`phase:${phaseId}`, renderPhase(loaded.view, phaseId), this.parentTs);
      return true;
    });
    if (written) this.lastWrite.set(phaseId, Date.now());
  }
}

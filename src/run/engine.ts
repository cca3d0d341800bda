import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { Checklist, Item, ManualItem, Phase, ProbeItem } from '../checklist/model.js';
import type { Principal } from '../checklist/schema.js';
import { findCheck } from '../checks/registry.js';
import type { CheckContext } from '../checks/types.js';
import { DeployCheckError, describeError, ErrorCode } from '../errors.js';
import { type AddressPolicy, createGuardedDispatcher, type TlsTrust } from '../net/guard.js';
import { deriveRunId } from './ids.js';
import { measure } from './measure.js';
import { phaseStatus, runOutcome } from './outcome.js';
import { mentionsSecret, Redactor, resolveSecrets, secretSource } from './secrets.js';
import type { ItemResult, ManualTick, PhaseResult, PlannedPhase, RunEvent, RunResult } from './types.js';

export interface RunOptions {
  /** Given by the caller (the Slack bot derives it from the request); otherwise derived from the checklist and start time. */
  runId?: string;
  signal?: AbortSignal;
  /** Awaited in order; renderers, stores and progress printers subscribe here. */
  onEvent?: (event: RunEvent) => void | Promise<void>;
  /** Run only these phases (ids). */
  phases?: readonly string[];
  /** Plan only: every item is reported as what it would do, nothing is called. */
  dryRun?: boolean;
  /** Where `${secret:NAME}` values come from when the checklist's source is `env`. */
  env?: NodeJS.ProcessEnv;
  /** Ticks known so far for manual items (by item key); untouched manual items stay pending. */
  ticks?: ReadonlyMap<string, ManualTick>;
  /** Results recorded by an earlier, interrupted attempt of the same run: not measured again. */
  prior?: ReadonlyMap<string, ItemResult>;
  /** How manual items without a tick are reported: `pending` (a person will come) or `skipped` (a terminal run). */
  manualMode?: 'pending' | 'skipped';
  /** Upper bound on items measured at once within a phase (default: the checklist's `concurrency`). */
  concurrency?: number;
  now?: () => Date;
  /** Shared dispatchers (a worker's); by default each run opens and closes its own. */
  dispatchers?: DispatcherPool;
}

interface RunScope {
  runId: string;
  checklist: Checklist;
  options: RunOptions;
  signal: AbortSignal;
  redactor: Redactor;
  probeContext: Omit<CheckContext, 'signal' | 'timeoutMs'>;
  emit: (event: RunEvent) => Promise<void>;
  now: () => Date;
}

/** Runs a checklist phase by phase. Knows nothing of Slack, Redis or MongoDB: callers subscribe to events. */
export async function runChecklist(checklist: Checklist, options: RunOptions = {}): Promise<RunResult> {
  const now = options.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const runId =
    options.runId ??
    deriveRunId({
      checklist: checklist.spec.name,
      digest: checklist.digest,
      vars: checklist.vars,
      key: startedAt,
    });
  const signal = options.signal ?? new AbortController().signal;
  const { policy, tls } = probeNetwork(checklist);
  const shared = options.dispatchers?.get(policy, tls);
  const dispatcher: Dispatcher = shared ?? createGuardedDispatcher(policy, { tls });
  const scope: RunScope = {
    runId,
    checklist,
    options,
    signal,
    redactor: new Redactor(),
    probeContext: { policy, tls, dispatcher, baseDir: checklist.baseDir ?? process.cwd() },
    emit: async (event) => {
      await options.onEvent?.(event);
    },
    now,
  };
  try {
    const phases = selectPhases(checklist, options.phases);
    await scope.emit({
      type: 'run-started',
      runId,
      checklist: checklist.spec.name,
      service: checklist.spec.service,
      startedAt,
      phases: plan(phases),
    });
    const results: PhaseResult[] = [];
    let stoppedAt: string | undefined;
    for (const phase of phases) {
      if (signal.aborted || stoppedAt) {
        const why = signal.aborted ? 'not run: cancelled' : `not run: phase "${stoppedAt}" failed`;
        const skipped = skippedPhase(phase, why, now);
        results.push(skipped);
        await scope.emit({ type: 'phase-finished', runId, phase: skipped });
        continue;
      }
      const result = await runPhase(scope, phase);
      results.push(result);
      await scope.emit({ type: 'phase-finished', runId, phase: result });
      if (result.status === 'fail' && !phase.continueOnFailure) stoppedAt = phase.id;
    }
    const run: RunResult = {
      runId,
      checklist: checklist.spec.name,
      title: checklist.spec.title ?? checklist.spec.name,
      service: checklist.spec.service,
      digest: checklist.digest,
      vars: scope.redactor.redactDeep(checklist.vars),
      dryRun: options.dryRun ?? false,
      startedAt,
      finishedAt: now().toISOString(),
      outcome: runOutcome(results, signal.aborted),
      ...(stoppedAt ? { stoppedAt } : {}),
      phases: results,
    };
    await scope.emit({ type: 'run-finished', runId, result: run });
    return run;
  } finally {
    if (!shared) await dispatcher.close().catch(() => undefined);
  }
}

/** The address policy and certificate trust a checklist's probes connect with. */
export function probeNetwork(checklist: Checklist): { policy: AddressPolicy; tls: TlsTrust } {
  return { policy: { allowLinkLocal: checklist.spec.network.allowLinkLocal }, tls: tlsTrust(checklist) };
}

/**
 * Dispatchers kept by a long-lived process (a worker) across runs, one per network setting, so
 * runs reuse connections instead of opening and closing a pool each time. The owner closes them.
 */
export class DispatcherPool {
  private readonly pools = new Map<string, Dispatcher>();

  get(policy: AddressPolicy, tls: TlsTrust): Dispatcher {
    const key = JSON.stringify([policy.allowLinkLocal, tls.rejectUnauthorized, tls.ca ?? '']);
    let d = this.pools.get(key);
    if (!d) {
      d = createGuardedDispatcher(policy, { tls });
      this.pools.set(key, d);
    }
    return d;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((d) => d.close()));
    this.pools.clear();
  }
}

function tlsTrust(checklist: Checklist): TlsTrust {
  const { caFile, insecureTls } = checklist.spec.network;
  if (!caFile) return { rejectUnauthorized: !insecureTls };
  const file = path.resolve(checklist.baseDir ?? process.cwd(), caFile);
  try {
    return { rejectUnauthorized: !insecureTls, ca: readFileSync(file, 'utf8') };
  } catch (err) {
    throw new DeployCheckError(
      ErrorCode.ChecklistInvalid,
      `network.caFile: cannot read ${file} (${describeError(err)})`,
    );
  }
}

function selectPhases(checklist: Checklist, only?: readonly string[]): Phase[] {
  if (!only || only.length === 0) return checklist.phases;
  const unknown = only.filter((id) => !checklist.phases.some((p) => p.id === id));
  if (unknown.length > 0) {
    throw new DeployCheckError(
      ErrorCode.Usage,
      `no phase ${unknown.map((u) => `"${u}"`).join(', ')}; phases: ${checklist.phases.map((p) => p.id).join(', ')}`,
    );
  }
  return checklist.phases.filter((p) => only.includes(p.id));
}

export function plan(phases: readonly Phase[]): PlannedPhase[] {
  return phases.map((p) => ({
    id: p.id,
    title: p.title,
    items: p.items.map((i) => ({
      key: i.key,
      title: i.title,
      kind: i.kind,
      type: itemType(i),
      severity: i.severity,
    })),
  }));
}

function itemType(item: Item): string {
  return item.kind === 'probe' ? item.check.type : 'manual';
}

async function runPhase(scope: RunScope, phase: Phase): Promise<PhaseResult> {
  const limit = Math.max(1, scope.options.concurrency ?? scope.checklist.spec.concurrency);
  const results = await mapLimit(phase.items, limit, (item) => runItem(scope, item));
  return { id: phase.id, title: phase.title, status: phaseStatus(results), items: results };
}

async function runItem(scope: RunScope, item: Item): Promise<ItemResult> {
  const prior = scope.options.prior?.get(item.key);
  if (prior && prior.status !== 'pending') return prior;
  const startedAt = scope.now().toISOString();
  await scope.emit({ type: 'item-started', runId: scope.runId, key: item.key });
  const result = scope.signal.aborted
    ? finish(scope, item, startedAt, {
        status: 'skipped',
        observed: '',
        expected: '',
        detail: 'not run: cancelled',
        durationMs: 0,
        measurements: 0,
        attempts: 0,
      })
    : item.kind === 'manual'
      ? manualResult(scope, item, startedAt)
      : await probeResult(scope, item, startedAt);
  await scope.emit({ type: 'item-finished', runId: scope.runId, result });
  return result;
}

type Measured = Pick<
  ItemResult,
  'status' | 'observed' | 'expected' | 'detail' | 'durationMs' | 'measurements' | 'attempts' | 'metrics'
>;

function finish(scope: RunScope, item: Item, startedAt: string, m: Measured): ItemResult {
  return scope.redactor.redactDeep({
    key: item.key,
    phaseId: item.phaseId,
    itemId: item.id,
    title: item.title,
    severity: item.severity,
    kind: item.kind,
    type: itemType(item),
    ...m,
    ...(item.kind === 'manual' ? { owners: item.manual.owner } : {}),
    startedAt,
    finishedAt: scope.now().toISOString(),
  });
}

function manualResult(scope: RunScope, item: ManualItem, startedAt: string): ItemResult {
  const tick = scope.options.ticks?.get(item.key);
  const owners = item.manual.owner.map(describePrincipal).join(', ');
  const base = { observed: '', expected: `ticked by ${owners}`, durationMs: 0, measurements: 0, attempts: 0 };
  if (tick) {
    return {
      ...finish(scope, item, startedAt, {
        ...base,
        status: 'pass',
        observed: `done by ${tick.by}`,
        detail: tick.note ?? '',
      }),
      tick,
    };
  }
  const mode = scope.options.manualMode ?? 'pending';
  return finish(scope, item, startedAt, {
    ...base,
    status: mode,
    detail: `needs a person: ${owners}${item.manual.instructions ? ` — ${item.manual.instructions}` : ''}`,
  });
}

async function probeResult(scope: RunScope, item: ProbeItem, startedAt: string): Promise<ItemResult> {
  const { type, ...params } = item.check as { type: string } & Record<string, unknown>;
  const def = findCheck(type);
  if (!def) {
    return finish(scope, item, startedAt, {
      status: 'error',
      observed: '',
      expected: '',
      detail: `unknown probe type "${type}"`,
      durationMs: 0,
      measurements: 0,
      attempts: 0,
    });
  }
  if (scope.options.dryRun) {
    return finish(scope, item, startedAt, {
      status: 'skipped',
      observed: '',
      expected: '',
      detail: `dry run: would run ${type} ${describeTarget(params)}`,
      durationMs: 0,
      measurements: 0,
      attempts: 0,
    });
  }
  let resolved: unknown = params;
  try {
    if (mentionsSecret(params)) {
      const source = secretSource(
        scope.checklist.spec.secrets,
        scope.probeContext.baseDir,
        scope.options.env ?? process.env,
      );
      resolved = resolveSecrets(params, source, scope.redactor);
    }
  } catch (err) {
    return finish(scope, item, startedAt, {
      status: 'error',
      observed: '',
      expected: '',
      detail: describeError(err),
      durationMs: 0,
      measurements: 0,
      attempts: 0,
    });
  }
  const measured = await measure(def, resolved, scope.probeContext, item.measurement, scope.signal);
  return finish(scope, item, startedAt, measured);
}

/** The target named in a probe's params, secrets left as references. */
export function describeTarget(params: Record<string, unknown>): string {
  const target = params.url ?? params.baseUrl ?? params.host ?? params.uri;
  return typeof target === 'string' ? target : '';
}

/** Plain text (terminals, reports): Slack renders owners from the structured `owners` field instead. */
function describePrincipal(p: Principal): string {
  return 'user' in p ? `user ${p.user}` : 'group' in p ? `group ${p.group}` : `@${p.role}`;
}

function skippedPhase(phase: Phase, why: string, now: () => Date): PhaseResult {
  const at = now().toISOString();
  const items = phase.items.map(
    (item): ItemResult => ({
      key: item.key,
      phaseId: item.phaseId,
      itemId: item.id,
      title: item.title,
      severity: item.severity,
      kind: item.kind,
      type: itemType(item),
      status: 'skipped',
      observed: '',
      expected: '',
      detail: why,
      durationMs: 0,
      measurements: 0,
      attempts: 0,
      startedAt: at,
      finishedAt: at,
    }),
  );
  return { id: phase.id, title: phase.title, status: 'skipped', items };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

import type { WebClient } from '@slack/web-api';
import { renderParent, renderPhase, renderSignoff } from '../src/slack/render/run.js';
import { ThreadWriter } from '../src/slack/thread.js';
import type { RunView } from '../src/state/run-view.js';
import type { RunStatus, Tenant } from '../src/store/run-store.js';
import type { WorkerDeps } from './deps.js';
import { withLease } from './thread-lock.js';
import { type LoadedView, loadView } from './view.js';

const CLOSED: ReadonlySet<RunStatus> = new Set([
  'approved',
  'passed',
  'rejected',
  'cancelled',
  'expired',
  'errored',
]);

export function writerFor(deps: WorkerDeps, client: WebClient, tenant: Tenant, view: RunView): ThreadWriter {
  return new ThreadWriter(deps.store, client, tenant, view.run._id, view.run.channel);
}

/**
 * Runs `fn` as the run thread's only writer across all workers (see jobs/thread-lock.ts for why).
 * Whatever `fn` renders must be read from the store inside it.
 */
export function asThreadWriter<T>(deps: WorkerDeps, runId: string, fn: () => Promise<T>): Promise<T> {
  const leaseMs = deps.config.JOB_LOCK_MS;
  return withLease(
    deps.queues.connection,
    `${deps.config.QUEUE_PREFIX}:thread-lock:${runId}`,
    { leaseMs, waitMs: Math.max(30_000, 3 * leaseMs) },
    fn,
  );
}

/**
 * Brings a run's thread up to date with its facts: opens the approval request when the gates
 * pass, closes the run (once, by a unique fact) when it is decided, and rewrites only the
 * messages whose content changed.
 */
export function syncThread(
  deps: WorkerDeps,
  tenant: Tenant,
  runId: string,
  opts: { phases?: 'all' | string[] } = {},
): Promise<RunView | undefined> {
  return asThreadWriter(deps, runId, () => syncThreadNow(deps, tenant, runId, opts));
}

/**
 * The run's view as the thread must show it: once the gates pass, the approval request is opened
 * (its `approval-opened` fact starts the expiry clock) before any Approve button is drawn.
 */
export async function viewToShow(
  deps: WorkerDeps,
  tenant: Tenant,
  runId: string,
): Promise<LoadedView | undefined> {
  const loaded = await loadView(deps.store, tenant, runId, deps.now());
  if (loaded?.view.status !== 'awaiting-approval' || loaded.view.gates.some((g) => g.expiresAt))
    return loaded;
  await deps.store.fact(tenant, runId, 'approval-opened');
  return loadView(deps.store, tenant, runId, deps.now());
}

async function syncThreadNow(
  deps: WorkerDeps,
  tenant: Tenant,
  runId: string,
  opts: { phases?: 'all' | string[] },
): Promise<RunView | undefined> {
  const loaded = await viewToShow(deps, tenant, runId);
  if (!loaded) return undefined;
  const { view } = loaded;
  const client = await deps.slack.forTenant(tenant);
  const writer = writerFor(deps, client, tenant, view);
  const parentTs = await writer.write(
    'parent',
    renderParent(view, { ...(view.run.env ? { env: view.run.env } : {}) }),
  );
  const phases =
    opts.phases === undefined || opts.phases === 'all' ? view.phases.map((p) => p.id) : opts.phases;
  for (const id of phases) {
    const posted = await deps.store.getMessage(tenant, runId, `phase:${id}`);
    // Phases not yet posted belong to the run job, which posts them as they finish.
    if (posted?.ts) await writer.write(`phase:${id}`, renderPhase(view, id), parentTs);
  }
  if (CLOSED.has(view.status)) {
    const closedNow = await deps.store.fact(tenant, runId, 'closed', undefined, { status: view.status });
    // The parent already shows the sign-off; the reply only adds a notification for the thread.
    if (deps.config.SLACK_SIGNOFF_REPLY) {
      const signoff = await deps.store.getMessage(tenant, runId, 'signoff');
      if (closedNow || !signoff?.ts) await writer.write('signoff', renderSignoff(view), parentTs);
    }
    await deps.store.record(
      tenant,
      runId,
      'deploy-check',
      'closed',
      { status: view.status, evidence: view.evidence },
      { once: 'closed' },
    );
  }
  await deps.store.setStatus(tenant, runId, view.status, view.outcome, loaded.version);
  return view;
}

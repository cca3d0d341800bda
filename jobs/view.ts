import type { Checklist } from '../src/checklist/model.js';
import { DeployCheckError, ErrorCode } from '../src/errors.js';
import { deriveRunView, type RunView } from '../src/state/run-view.js';
import type { RunDoc, RunStore, Tenant } from '../src/store/run-store.js';

/** The checklist exactly as the run executed it (from the stored source, not today's file), parsed once per process. */
export function checklistOf(store: RunStore, run: RunDoc): Checklist {
  return store.parsed.parse(run.source, { file: run.file, vars: run.vars });
}

export interface LoadedView {
  view: RunView;
  checklist: Checklist;
  /**
   * How many facts the view was derived from. Facts are only ever added, so of two views of a run
   * the one with the higher version saw more: the status mirror keeps the newest (setStatus).
   */
  version: number;
}

/** Loads every fact of a run and derives its view. */
export async function loadView(
  store: RunStore,
  tenant: Tenant,
  runId: string,
  now: Date,
): Promise<LoadedView | undefined> {
  const run = await store.getRun(tenant, runId);
  if (!run) return undefined;
  const [results, ticks, votes, facts] = await Promise.all([
    store.latestResults(tenant, runId),
    store.ticksFor(tenant, runId),
    store.votesFor(tenant, runId),
    store.factsFor(tenant, runId),
  ]);
  const checklist = checklistOf(store, run);
  return {
    view: deriveRunView({ run, checklist, results, ticks, votes, facts, now }),
    checklist,
    version: results.size + ticks.size + votes.length + facts.length,
  };
}

export async function requireView(
  store: RunStore,
  tenant: Tenant,
  runId: string,
  now: Date,
): Promise<LoadedView> {
  const loaded = await loadView(store, tenant, runId, now);
  if (!loaded) throw new DeployCheckError(ErrorCode.NotFound, `no run ${runId} in this workspace`);
  return loaded;
}

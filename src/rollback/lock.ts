import type { RollbackDoc, RollbackLockDoc, RollbackStore } from '../store/rollback-store.js';
import type { Tenant } from '../store/run-store.js';
import { checklistOf, stepsOf } from './playbook.js';
import { deriveRollbackView, type RollbackView } from './view.js';

/**
 * One rollback per service at a time.
 *
 * Why MongoDB facts and not a Redis key with a TTL: a rollback legitimately holds its service for
 * hours with no process running at all — paused at a manual step ("restore the database") or at a
 * failed step awaiting Retry / Skip / Abort. A TTL refreshed by a worker would expire exactly
 * then, and a second rollback could start on top of a half-done first one. So the lock lives as
 * long as the rollback does: it is an epoch fact (`<team>|<service>|<N>` → rollback R, a unique
 * insert, see RollbackLockDoc), taken by inserting epoch N+1 and released by R ending (its
 * `finished` or `aborted` fact). Nothing is updated or deleted, so it is race-free on MongoDB and
 * on FerretDB alike.
 *
 * Why process death cannot leave it locked forever: a holder that is not paused for people must
 * have a live BullMQ job (waiting, delayed, active — a killed worker's job stays active until
 * its lock expires and another worker re-delivers it). A holder that is neither paused nor has a
 * live job (its job failed for good, or the bot died between taking the lock and enqueueing) and
 * shows no activity for `staleAfterMs` is abandoned: the next rollback records it as aborted
 * ("abandoned") and takes the next epoch.
 */

export const STALE_AFTER_MS = 60_000;

export interface LockDeps {
  store: RollbackStore;
  /** Whether a BullMQ job of this rollback is waiting, delayed or active. */
  hasLiveJob(rollbackId: string): Promise<boolean>;
  now: () => Date;
  staleAfterMs?: number;
}

export type LockState =
  | { free: true; epoch: number; abandoned?: string }
  | { free: false; holder: string; doc?: RollbackDoc; view?: RollbackView; since: Date };

async function inspect(deps: LockDeps, tenant: Tenant, lock: RollbackLockDoc): Promise<LockState> {
  const held = (doc?: RollbackDoc, view?: RollbackView): LockState => ({
    free: false,
    holder: lock.rollbackId,
    ...(doc ? { doc } : {}),
    ...(view ? { view } : {}),
    since: lock.at,
  });
  const doc = await deps.store.get(tenant, lock.rollbackId);
  const facts = await deps.store.factsFor(tenant, lock.rollbackId);
  let view: RollbackView | undefined;
  if (doc) {
    try {
      view = deriveRollbackView(doc, stepsOf(checklistOf(doc)), facts);
    } catch {
      view = undefined;
    }
    if (view?.ended || facts.some((f) => f.kind === 'finished' || f.kind === 'aborted'))
      return { free: true, epoch: lock.epoch };
    if (view && (view.status === 'waiting' || view.status === 'failed')) return held(doc, view);
  }
  if (await deps.hasLiveJob(lock.rollbackId)) return held(doc ?? undefined, view);
  const lastActivity = Math.max(lock.at.getTime(), ...facts.map((f) => f.at.getTime()));
  if (deps.now().getTime() - lastActivity < (deps.staleAfterMs ?? STALE_AFTER_MS))
    return held(doc ?? undefined, view);
  return { free: true, epoch: lock.epoch, abandoned: lock.rollbackId };
}

/** Who holds the service now, or that it is free (and at which epoch). Reads only. */
export async function lockState(deps: LockDeps, tenant: Tenant, service: string): Promise<LockState> {
  const latest = await deps.store.latestLock(tenant, service);
  if (!latest) return { free: true, epoch: 0 };
  return inspect(deps, tenant, latest);
}

export type Acquired = { ok: true; epoch: number; abandoned?: string } | Extract<LockState, { free: false }>;

/**
 * Takes the service for a rollback: exactly one of any number of concurrent callers gets the next
 * epoch; the others are told who holds it. An abandoned holder is recorded as aborted first.
 */
export async function acquireLock(
  deps: LockDeps,
  tenant: Tenant,
  service: string,
  rollbackId: string,
  by: string,
): Promise<Acquired> {
  for (let tries = 0; tries < 3; tries++) {
    const state = await lockState(deps, tenant, service);
    if (!state.free) return state;
    if (state.abandoned) {
      await deps.store.fact(tenant, state.abandoned, 'aborted', 'deploy-check', {
        reason: `abandoned: no worker job and no activity for ${Math.round((deps.staleAfterMs ?? STALE_AFTER_MS) / 1000)} s; superseded by ${rollbackId}`,
      });
    }
    const epoch = state.epoch + 1;
    const took = await deps.store.insertLock(tenant, { service, epoch, rollbackId, by, at: deps.now() });
    if (took) return { ok: true, epoch, ...(state.abandoned ? { abandoned: state.abandoned } : {}) };
    // Someone took this epoch first: look again (they hold it now, unless they already ended).
  }
  const state = await lockState(deps, tenant, service);
  if (!state.free) return state;
  throw new Error(`could not take the rollback lock of ${service}: it keeps changing hands`);
}

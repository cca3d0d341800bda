import path from 'node:path';
import { parseChecklist } from '../checklist/load.js';
import type { Checklist } from '../checklist/model.js';
import type { RollbackStepSpec } from '../checklist/schema.js';
import { DeployCheckError, ErrorCode } from '../errors.js';
import type { RollbackDoc, RollbackStore } from '../store/rollback-store.js';
import type { Tenant } from '../store/run-store.js';
import { deriveRollbackView, type RollbackView } from './view.js';

/** The checklist exactly as the rollback was confirmed (its stored text and variables). */
export function checklistOf(doc: RollbackDoc): Checklist {
  const checklist = parseChecklist(doc.source, { file: doc.file, vars: doc.vars });
  return { ...checklist, baseDir: path.dirname(path.resolve(doc.file)) };
}

export function stepsOf(checklist: Checklist): RollbackStepSpec[] {
  return checklist.spec.rollback?.steps ?? [];
}

/** Loads a rollback's facts and derives its view; undefined when there is no such rollback here. */
export async function loadRollbackView(
  store: RollbackStore,
  tenant: Tenant,
  rollbackId: string,
): Promise<{ view: RollbackView; checklist: Checklist } | undefined> {
  const doc = await store.get(tenant, rollbackId);
  if (!doc) return undefined;
  const checklist = checklistOf(doc);
  const facts = await store.factsFor(tenant, rollbackId);
  return { view: deriveRollbackView(doc, stepsOf(checklist), facts), checklist };
}

export async function requireRollbackView(
  store: RollbackStore,
  tenant: Tenant,
  rollbackId: string,
): Promise<{ view: RollbackView; checklist: Checklist }> {
  const loaded = await loadRollbackView(store, tenant, rollbackId);
  if (!loaded) throw new DeployCheckError(ErrorCode.NotFound, `no rollback ${rollbackId} in this workspace`);
  return loaded;
}

import type { RollbackJob } from './contracts.js';
import type { WorkerDeps } from './deps.js';

/** Runs (or resumes) a rollback playbook (stub: replaced by the rollback feature). */
export async function processRollback(_data: RollbackJob, _deps: WorkerDeps): Promise<void> {}

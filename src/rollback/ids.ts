import { createHash } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/**
 * A rollback id derived from what identifies the confirmation (the workspace and the modal's view
 * id), so a double-submitted modal maps to the same rollback. Never all digits, never ':' (BullMQ).
 */
export function deriveRollbackId(teamId: string, key: string): string {
  const bytes = createHash('sha256')
    .update(JSON.stringify(['rollback', teamId, key]))
    .digest();
  let out = '';
  for (let i = 0; i < 12; i++) out += ALPHABET[bytes[i]! % ALPHABET.length];
  return `rb-${out}`;
}

export const ROLLBACK_ID = /^rb-[a-z0-9]{4,32}$/;

/**
 * The BullMQ job id of one (re)start of a playbook. The first job is named after the rollback;
 * each resume after a person acted is named after the fact that caused it (`retry-revert-1`,
 * `confirm-restore-db`, `abort`), so a double click enqueues one job, and a job knows its own id.
 */
export function rollbackJobId(rollbackId: string, cause: string): string {
  return cause === 'start' ? rollbackId : `${rollbackId}-${cause}`;
}

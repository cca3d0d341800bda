import type { Principal } from '../checklist/schema.js';
import { defineStep, stepFailed } from './types.js';

/** "user U0123, group S0456, role sre" — for a dry run's plain text. */
export function principalsPlain(ps: readonly Principal[]): string {
  return ps
    .map((p) => ('user' in p ? `user ${p.user}` : 'group' in p ? `group ${p.group}` : `role ${p.role}`))
    .join(', ');
}

/**
 * A person confirms it in the thread ("restore the database from backup"). The playbook pauses
 * here: the job ends, and the owner's click records the confirmation and resumes the playbook.
 */
export default defineStep({
  type: 'manual',
  defaultTimeoutMs: 0,
  readOnly: true,
  plan: (step) => [
    { label: 'confirmed by', value: principalsPlain(step.owner) },
    ...(step.instructions ? [{ label: 'instructions', value: step.instructions }] : []),
    { label: 'pauses', value: 'the playbook waits for the confirmation in the thread' },
  ],
  run: async () => stepFailed('a manual step is confirmed by a person in the thread, not run'),
});

import { formatDuration } from '../checks/duration.js';
import { describeError } from '../errors.js';
import { defineStep, stepFailed } from './types.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/** Posts a post-mortem stub (what happened, the timeline of the steps, open questions) for the team to fill in. */
export default defineStep({
  type: 'postmortem',
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  readOnly: false,
  plan: (step) => [
    { label: 'post to', value: step.channel ?? 'the rollback thread' },
    { label: 'content', value: 'summary stub with the timeline of the steps' },
    { label: 'timeout', value: formatDuration(step.timeout ?? DEFAULT_TIMEOUT_MS) },
  ],
  async run(step, ctx) {
    try {
      const where = await ctx.postSummary(step.channel);
      return { ok: true, observed: `summary posted to ${where}`, detail: '' };
    } catch (err) {
      return stepFailed(`could not post the summary: ${describeError(err)}`);
    }
  },
});

import { formatDuration } from '../checks/duration.js';
import { describeError } from '../errors.js';
import { defineStep, stepFailed } from './types.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Posts to a channel through the injected `notify` (the engine knows nothing of Slack). The
 * caller claims the message before posting and finds it again after a crash, so an interrupted
 * attempt does not post twice.
 */
export default defineStep({
  type: 'slack-notify',
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  readOnly: false,
  plan: (step) => [
    { label: 'channel', value: step.channel },
    { label: 'text', value: step.text },
    { label: 'timeout', value: formatDuration(step.timeout ?? DEFAULT_TIMEOUT_MS) },
  ],
  async run(step, ctx) {
    try {
      const where = await ctx.notify(step.channel, step.text);
      return { ok: true, observed: `posted to ${where}`, detail: '' };
    } catch (err) {
      return stepFailed(`could not post to ${step.channel}: ${describeError(err)}`);
    }
  },
});

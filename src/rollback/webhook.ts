import { planHttp, runHttp } from './http-step.js';
import { defineStep } from './types.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/** A generic HTTP call with secrets: a CI workflow dispatch, a platform's rollback or deploy API. */
export default defineStep({
  type: 'webhook',
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  readOnly: false,
  plan: (step) => planHttp(step, DEFAULT_TIMEOUT_MS),
  run: runHttp,
});

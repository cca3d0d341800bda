import { planHttp, runHttp } from './http-step.js';
import { defineStep } from './types.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * An incident on a status page (Statuspage.io, Instatus, a page of your own): an HTTP call like
 * `webhook`, kept as its own type so playbooks read as what they do and reports group it.
 */
export default defineStep({
  type: 'statuspage',
  defaultTimeoutMs: DEFAULT_TIMEOUT_MS,
  readOnly: false,
  plan: (step) => planHttp(step, DEFAULT_TIMEOUT_MS),
  run: runHttp,
});

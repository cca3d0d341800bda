import manual from './manual.js';
import postmortem from './postmortem.js';
import redisDelete from './redis-delete.js';
import slackNotify from './slack-notify.js';
import statuspage from './statuspage.js';
import type { StepExecutor, StepOf, StepType } from './types.js';
import waitFor from './wait-for.js';
import webhook from './webhook.js';

/** Every rollback step type. Adding one = a file here, a line below and its schema in checklist/schema.ts. */
const executors: { [T in StepType]: StepExecutor<T> } = {
  webhook,
  'wait-for': waitFor,
  'redis-delete': redisDelete,
  'slack-notify': slackNotify,
  statuspage,
  manual,
  postmortem,
};

export function executorFor<T extends StepType>(type: T): StepExecutor<T> {
  return executors[type];
}

/** A step's time limit: its own `timeout`, else its type's default (manual steps have none). */
export function stepTimeoutMs(step: StepOf<StepType>): number {
  return step.timeout ?? executors[step.type].defaultTimeoutMs;
}

import type { Logger } from 'pino';
import type { Config } from '../src/config.js';
import type { Metrics } from '../src/http/metrics.js';
import type { DispatcherPool } from '../src/run/engine.js';
import type { SlackClients } from '../src/slack/clients.js';
import type { RunStore } from '../src/store/run-store.js';
import type { Queues } from './queues.js';

/** What processors need, created once at the worker's entry point and passed in (no singletons). */
export interface WorkerDeps {
  config: Config;
  store: RunStore;
  slack: SlackClients;
  queues: Queues;
  log: Logger;
  metrics: Metrics;
  checklistsDir: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  /** Probe connection pools shared by every run this worker executes. */
  dispatchers?: DispatcherPool;
}

import type { RespondFn, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Queues } from '../jobs/queues.js';
import type { Config } from '../src/config.js';
import type { Metrics } from '../src/http/metrics.js';
import type { GroupResolver } from '../src/slack/groups.js';
import type { RunStore, Tenant } from '../src/store/run-store.js';

/** What listeners need, created once at the bot's entry point. Listeners ack, check, record, enqueue — no work. */
export interface BotDeps {
  config: Config;
  store: RunStore;
  queues: Queues;
  groups: GroupResolver;
  log: Logger;
  metrics: Metrics;
  checklistsDir: string;
  now: () => Date;
}

/** One slash-command invocation, as handlers see it. */
export interface Ctx {
  command: SlashCommand;
  ack: Ack;
  respond: RespondFn;
  client: WebClient;
  tenant: Tenant;
  deps: BotDeps;
}

export type Ack = (response?: {
  response_type: 'ephemeral';
  text: string;
  blocks?: unknown[];
}) => Promise<void>;

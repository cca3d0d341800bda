import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BotDeps } from '../commands/deps.js';
import { createQueues } from '../jobs/queues.js';
import { checklistFileByName, listChecklistNames } from './checklist/load.js';
import { loadConfig } from './config.js';
import { describeError, isCoded } from './errors.js';
import { createMetrics } from './http/metrics.js';
import { opsRoutes } from './http/routes.js';
import { configSecrets, createLogger } from './log.js';
import { createBotApp } from './slack/app.js';
import { GroupResolver } from './slack/groups.js';
import { MongoInstallationStore } from './store/installations.js';
import { connectMongo } from './store/mongo.js';
import { RunStore } from './store/run-store.js';

/** The bot process: receives Slack requests, acks, records facts and enqueues. Any number may run side by side. */
export async function startBot(env: NodeJS.ProcessEnv): Promise<{ port: number; stop: () => Promise<void> }> {
  const config = loadConfig(env);
  const log = createLogger({
    level: config.LOG_LEVEL,
    name: 'deploy-check-bot',
    secrets: configSecrets(config),
  });
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const store = new RunStore(mongo.db);
  await store.ensureIndexes();
  const queues = createQueues(config.REDIS_URL, config.QUEUE_PREFIX);
  const metrics = createMetrics(async () => {
    const out: Record<string, number> = {};
    for (const q of [queues.runs, queues.thread, queues.monitors, queues.rollback])
      out[q.name] = await q.count();
    return out;
  });
  const deps: BotDeps = {
    config,
    store,
    queues,
    groups: new GroupResolver(queues.connection, config.QUEUE_PREFIX),
    log,
    metrics,
    checklistsDir: path.resolve(config.CHECKLISTS_DIR),
    now: () => new Date(),
  };
  warmChecklists(deps);
  const checks = {
    redis: async () => {
      await queues.connection.ping();
    },
    mongodb: async () => {
      await mongo.db.command({ ping: 1 });
    },
  };
  const routes = opsRoutes(checks, metrics.registry);
  const installationStore = config.SLACK_BOT_TOKEN ? undefined : new MongoInstallationStore(mongo.db);
  const { app } = createBotApp(deps, { routes, ...(installationStore ? { installationStore } : {}) });

  let opsServer: http.Server | undefined;
  let port = config.PORT;
  if (config.SLACK_SOCKET_MODE) {
    await app.start();
    opsServer = http.createServer((req, res) => {
      const route = routes.find((r) => r.path === req.url?.split('?')[0] && r.method === req.method);
      if (route) route.handler(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => opsServer!.listen(config.PORT, resolve));
    port = (opsServer.address() as { port: number }).port;
  } else {
    const server = (await app.start(config.PORT)) as http.Server;
    port = (server.address() as { port: number }).port;
  }
  log.info({ port, mode: config.SLACK_SOCKET_MODE ? 'socket' : 'http' }, 'bot started');
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await Promise.allSettled([
        app.stop(),
        opsServer ? new Promise((r) => opsServer!.close(r)) : Promise.resolve(),
      ]);
      await Promise.allSettled([queues.close(), mongo.close()]);
    })();
    return stopping;
  };
  return { port, stop };
}

/**
 * Parses every checklist once at start: the first `/deploy-check run` of each then does not pay
 * the parse (tens of ms for a big one) before its ack, and one that does not load is logged now
 * rather than found at someone's first run.
 */
function warmChecklists(deps: BotDeps): void {
  for (const name of listChecklistNames(deps.checklistsDir)) {
    try {
      deps.store.parsed.load(checklistFileByName(name, deps.checklistsDir));
    } catch (err) {
      const why = isCoded(err) ? err.message.split('\n')[0] : describeError(err);
      deps.log.warn(
        { checklist: name, err: why },
        'checklist does not load: /deploy-check run will refuse it',
      );
    }
  }
}

async function main(): Promise<void> {
  try {
    const bot = await startBot(process.env);
    const shutdown = () => {
      void bot.stop().then(() => process.exit(0));
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    if (process.send) process.send({ ready: true, port: bot.port });
  } catch (err) {
    process.stderr.write(`deploy-check bot: ${isCoded(err) ? err.message : describeError(err)}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();

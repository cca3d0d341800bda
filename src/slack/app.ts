import { App, type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { InstallationStore } from '@slack/oauth';
import type { Logger } from 'pino';
import { register as registerActions } from '../../commands/actions.js';
import { register as registerCommand } from '../../commands/deploy-check.js';
import type { BotDeps } from '../../commands/deps.js';
import { registerPostDeployActions } from '../../commands/post-deploy.js';
import { registerRollbackActions } from '../../commands/rollback.js';
import type { OpsRoute } from '../http/routes.js';
import { Interactions } from './interactions.js';
import { SignedHTTPReceiver } from './receiver.js';

export const SCOPES = [
  'commands',
  'chat:write',
  'chat:write.public',
  'users:read',
  'usergroups:read',
  'channels:history',
  'groups:history',
];

/** Bolt's logger interface over pino, so every line goes through one redacting logger. */
export function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...m) => log.debug(m.map(String).join(' ')),
    info: (...m) => log.info(m.map(String).join(' ')),
    warn: (...m) => log.warn(m.map(String).join(' ')),
    error: (...m) => log.error(m.map(String).join(' ')),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

export interface BotApp {
  app: App;
  /** The action ids and view callback ids the app answers. */
  interactions: { actions: string[]; views: string[] };
  /** The HTTP receiver in production mode (absent in Socket Mode). */
  receiver?: SignedHTTPReceiver;
}

/** The Bolt app: HTTP receiver in production, Socket Mode for local development; every listener registered here. */
export function createBotApp(
  deps: BotDeps,
  opts: { routes: OpsRoute[]; installationStore?: InstallationStore },
): BotApp {
  const { config } = deps;
  const logger = boltLogger(deps.log);
  const clientOptions = config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {};
  const auth = config.SLACK_BOT_TOKEN
    ? { token: config.SLACK_BOT_TOKEN }
    : {
        clientId: config.SLACK_CLIENT_ID!,
        clientSecret: config.SLACK_CLIENT_SECRET!,
        stateSecret: config.SLACK_STATE_SECRET!,
        scopes: SCOPES,
        ...(opts.installationStore ? { installationStore: opts.installationStore } : {}),
        installerOptions: { directInstall: true },
      };
  // Bolt's default conversation store keeps state in this process's memory (which a second bot
  // process would not see) and, on every request, builds an Error for the conversation it never
  // held: a sixth of the ack path's CPU. The bot keeps its state in MongoDB and Redis.
  const common = { logger, clientOptions, convoStore: false as const };
  let app: App;
  let receiver: SignedHTTPReceiver | undefined;
  if (config.SLACK_SOCKET_MODE) {
    app = new App({
      ...auth,
      signingSecret: config.SLACK_SIGNING_SECRET!,
      appToken: config.SLACK_APP_TOKEN!,
      socketMode: true,
      ...common,
      // The socket-mode client calls apps.connections.open with installerOptions.clientOptions, so
      // SLACK_API_URL reaches it from here. A copy: that client writes its own retryConfig (100
      // retries) into the object, and Bolt would hand the shared one on to every listener's client.
      installerOptions: {
        ...('installerOptions' in auth ? auth.installerOptions : {}),
        clientOptions: { ...clientOptions },
      },
    });
  } else {
    receiver = new SignedHTTPReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET!,
      log: deps.log,
      onRefused: (reason) => deps.metrics.slackRefused.inc({ reason }),
      logger,
      customRoutes: opts.routes,
      ...('clientId' in auth
        ? {
            clientId: auth.clientId,
            clientSecret: auth.clientSecret,
            stateSecret: auth.stateSecret,
            scopes: auth.scopes,
            installationStore: opts.installationStore,
            installerOptions: auth.installerOptions,
          }
        : {}),
    });
    app = new App({ ...auth, receiver, ...common });
  }
  registerCommand(app, deps);
  const interactions = new Interactions();
  registerActions(interactions, deps);
  registerRollbackActions(interactions, deps);
  registerPostDeployActions(interactions, deps);
  interactions.mount(app);
  app.error(async (err) => {
    deps.log.error(
      { code: (err as { code?: string }).code, err: err.message },
      'unhandled error in a listener',
    );
  });
  return { app, interactions: interactions.ids(), ...(receiver ? { receiver } : {}) };
}

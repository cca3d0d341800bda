import type { InstallationStore } from '@slack/oauth';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import type { Config } from '../config.js';
import type { Tenant } from '../store/run-store.js';

export interface SlackClients {
  forTenant(tenant: Tenant): Promise<WebClient>;
}

export interface ClientCounters {
  onError?: (method: string, error: string) => void;
}

function webClient(token: string, config: Config, logger?: Logger): WebClient {
  return new WebClient(token, {
    ...(config.SLACK_API_URL ? { slackApiUrl: config.SLACK_API_URL } : {}),
    retryConfig: {
      retries: config.SLACK_RETRIES,
      factor: 1.6,
      minTimeout: 200,
      maxTimeout: 30_000,
      randomize: true,
    },
    rejectRateLimitedCalls: false,
    ...(logger ? { logger } : { logLevel: LogLevel.ERROR }),
  });
}

/** Single-workspace mode: one bot token for every tenant. */
export function tokenClients(token: string, config: Config, logger?: Logger): SlackClients {
  const client = webClient(token, config, logger);
  return { forTenant: async () => client };
}

/** Multi-workspace (OAuth) mode: each tenant's bot token from the installation store. */
export function installationClients(store: InstallationStore, config: Config, logger?: Logger): SlackClients {
  // Clients are cheap caches of a token; losing them loses nothing another process needs.
  const byToken = new Map<string, WebClient>();
  return {
    async forTenant(tenant) {
      const installation = await store.fetchInstallation({
        teamId: tenant.teamId,
        enterpriseId: tenant.enterpriseId,
        isEnterpriseInstall: Boolean(tenant.enterpriseId) && !tenant.teamId,
      });
      const token = installation.bot?.token;
      if (!token) throw new Error(`installation for ${tenant.teamId} has no bot token`);
      let client = byToken.get(token);
      if (!client) {
        client = webClient(token, config, logger);
        byToken.set(token, client);
      }
      return client;
    },
  };
}

export function slackClientsFor(
  config: Config,
  installationStore: InstallationStore | undefined,
  logger?: Logger,
): SlackClients {
  if (config.SLACK_BOT_TOKEN) return tokenClients(config.SLACK_BOT_TOKEN, config, logger);
  if (!installationStore) throw new Error('OAuth mode needs an installation store');
  return installationClients(installationStore, config, logger);
}

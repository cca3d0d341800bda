import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per process (created at the entry point and passed in; never a module global). */
export function createMetrics(queueDepth?: () => Promise<Record<string, number>>) {
  const registry = new Registry();
  const runsTotal = new Counter({
    name: 'deploy_check_runs_total',
    help: 'Runs finished, by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const probeSeconds = new Histogram({
    name: 'deploy_check_probe_duration_seconds',
    help: 'Probe duration, by type and status',
    labelNames: ['type', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const slackErrors = new Counter({
    name: 'deploy_check_slack_api_errors_total',
    help: 'Slack Web API errors, by method and error',
    labelNames: ['method', 'error'] as const,
    registers: [registry],
  });
  const commandsTotal = new Counter({
    name: 'deploy_check_commands_total',
    help: 'Slash commands, by subcommand and result',
    labelNames: ['subcommand', 'result'] as const,
    registers: [registry],
  });
  const slackRefused = new Counter({
    name: 'deploy_check_slack_requests_refused_total',
    help: 'Requests to the Slack endpoint refused before any listener ran (401), by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  if (queueDepth) {
    new Gauge({
      name: 'deploy_check_queue_depth',
      help: 'Jobs waiting, delayed or active, by queue',
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        try {
          const depths = await queueDepth();
          for (const [queue, n] of Object.entries(depths)) this.set({ queue }, n);
        } catch {
          // Redis down: /readyz says so; /metrics still answers with what it has.
        }
      },
    });
  }
  return { registry, runsTotal, probeSeconds, slackErrors, commandsTotal, slackRefused };
}

export type Metrics = ReturnType<typeof createMetrics>;

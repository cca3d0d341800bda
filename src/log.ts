import { type Logger, pino } from 'pino';

/** Field paths that may carry credentials anywhere in a log record. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.cookie',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'signingSecret',
  '*.signingSecret',
  'uri',
  '*.uri',
  'url',
  '*.url',
  'body.response_url',
  '*.response_url',
];

/** Values redaction by path cannot catch (e.g. inside messages): scrub these literal strings too. */
export function createLogger(opts: {
  level: string;
  secrets?: readonly string[];
  name: string;
  destination?: pino.DestinationStream;
}): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 8);
  const scrub = (s: string) => secrets.reduce((acc, secret) => acc.split(secret).join('[redacted]'), s);
  return pino(
    {
      name: opts.name,
      level: opts.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>,
          );
        },
      },
      formatters: {
        log(object) {
          return secrets.length
            ? (JSON.parse(scrub(JSON.stringify(object))) as Record<string, unknown>)
            : object;
        },
      },
    },
    opts.destination,
  );
}

/** The secrets of the service's own configuration, so no log line can carry them. */
export function configSecrets(config: Record<string, unknown>): string[] {
  return [
    'SLACK_SIGNING_SECRET',
    'SLACK_BOT_TOKEN',
    'SLACK_CLIENT_SECRET',
    'SLACK_STATE_SECRET',
    'SLACK_APP_TOKEN',
    'MONGODB_URI',
    'REDIS_URL',
  ]
    .map((k) => config[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}

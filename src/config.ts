import { z } from 'zod';
import { DeployCheckError, ErrorCode } from './errors.js';

/** Empty strings count as unset, so `FOO=` in a compose file does not pass as a value. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());
const requiredString = (what: string) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string({ error: `${what} is not set` }).min(1));
const port = z.coerce.number().int().min(0).max(65535);

const envShape = z.object({
  SLACK_SIGNING_SECRET: requiredString(
    'SLACK_SIGNING_SECRET (Basic Information → Signing Secret of the Slack app)',
  ),
  /** Single-workspace mode. */
  SLACK_BOT_TOKEN: optionalString,
  /** Multi-workspace (OAuth) mode. */
  SLACK_CLIENT_ID: optionalString,
  SLACK_CLIENT_SECRET: optionalString,
  SLACK_STATE_SECRET: optionalString,
  /** Socket Mode for local development. */
  SLACK_APP_TOKEN: optionalString,
  SLACK_SOCKET_MODE: z.stringbool().default(false),
  /** Only tests and self-hosted proxies set this. */
  SLACK_API_URL: optionalString,
  REDIS_URL: requiredString('REDIS_URL (e.g. redis://localhost:6379)'),
  MONGODB_URI: requiredString('MONGODB_URI (e.g. mongodb://localhost:27017/deploy-check)'),
  MONGODB_DB: z.string().default('deploy-check'),
  /** Braces allowed: Redis Cluster needs a hash tag such as `{deploy-check}` so a queue's keys share a slot. */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[{}A-Za-z0-9_-]+$/)
    .default('deploy-check'),
  CHECKLISTS_DIR: z.string().default('checklists'),
  PORT: port.default(3000),
  /** Workers serve /healthz, /readyz and /metrics here when set (they take no Slack traffic). */
  WORKER_METRICS_PORT: port.optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * How long a phase message waits for its phase to end before it is posted with partial results:
   * long enough that an ordinary phase costs one post, short enough that a long one shows progress.
   */
  SLACK_PHASE_FIRST_WRITE_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Least time between two updates of one phase message. Slack allows about one update per second
   * per message but ~50 chat.update calls per minute per workspace, shared by every running run.
   */
  SLACK_UPDATE_INTERVAL_MS: z.coerce.number().int().min(0).default(5000),
  /** Also post the sign-off as the thread's last reply (notifies the thread; one more write per run). */
  SLACK_SIGNOFF_REPLY: z.stringbool().default(false),
  /** Test knobs: monitors at compressed offsets; short Slack retries. */
  MONITOR_OFFSETS: optionalString,
  SLACK_RETRIES: z.coerce.number().int().min(0).max(20).default(10),
  /** Environment variables the worker exposes to checklists as ${secret:NAME} (NAME = the rest). */
  SECRETS_ENV_PREFIX: z.string().min(1).default('DC_SECRET_'),
  /** BullMQ job lock: a killed worker's job is taken over after about this long (tests shorten it). */
  JOB_LOCK_MS: z.coerce.number().int().min(500).default(15_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
});

type EnvShape = z.output<typeof envShape>;

/** Every environment variable the bot and workers read (docs and tests check against it). */
export const CONFIG_KEYS: readonly string[] = Object.keys(envShape.shape);

function checkSlackModes(env: Omit<EnvShape, 'SLACK_SIGNING_SECRET'>, ctx: z.RefinementCtx): void {
  const oauth = env.SLACK_CLIENT_ID || env.SLACK_CLIENT_SECRET;
  if (!env.SLACK_BOT_TOKEN && !oauth) {
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_BOT_TOKEN'],
      message:
        'set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET + SLACK_STATE_SECRET (OAuth, many workspaces)',
    });
  }
  if (oauth && !(env.SLACK_CLIENT_ID && env.SLACK_CLIENT_SECRET && env.SLACK_STATE_SECRET)) {
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_CLIENT_ID'],
      message: 'OAuth mode needs all of SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET',
    });
  }
  if (env.SLACK_SOCKET_MODE && !env.SLACK_APP_TOKEN?.startsWith('xapp-')) {
    // Slack refuses any other token with not_allowed_token_type, which the socket client retries forever.
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_APP_TOKEN'],
      message: env.SLACK_APP_TOKEN
        ? 'SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write, not a bot or user token'
        : 'SLACK_SOCKET_MODE=true needs SLACK_APP_TOKEN (an xapp- token with connections:write)',
    });
  }
}

const botSchema = envShape.superRefine(checkSlackModes);
/** Workers verify no Slack requests, so they need no signing secret. */
const workerSchema = envShape.omit({ SLACK_SIGNING_SECRET: true }).superRefine(checkSlackModes);

export type Config = Readonly<Omit<EnvShape, 'SLACK_SIGNING_SECRET'> & { SLACK_SIGNING_SECRET?: string }>;

function parseEnv(schema: z.ZodType<Config>, env: NodeJS.ProcessEnv): Config {
  // Empty strings count as unset everywhere (`FOO=` in a compose file must not become 0 or "").
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new DeployCheckError(ErrorCode.Config, `configuration error:\n${lines.join('\n')}`);
  }
  return Object.freeze(parsed.data);
}

/** Parses the bot's environment once at start-up; a missing or malformed variable stops start-up with a sentence naming it. */
export function loadConfig(env: NodeJS.ProcessEnv): Config & { SLACK_SIGNING_SECRET: string } {
  return parseEnv(botSchema as z.ZodType<Config>, env) as Config & { SLACK_SIGNING_SECRET: string };
}

export function loadWorkerConfig(env: NodeJS.ProcessEnv): Config {
  return parseEnv(workerSchema as z.ZodType<Config>, env);
}

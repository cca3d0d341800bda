/**
 * src/config.ts: the environment is parsed once at start-up; a missing or malformed variable stops
 * the process with a sentence naming it, never with a stack trace, and no secret has a default.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, loadConfig, loadWorkerConfig } from '../../src/config.js';
import { DeployCheckError, ErrorCode } from '../../src/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const TOKEN_MODE = {
  SLACK_SIGNING_SECRET: 'signing-secret-0123456789',
  SLACK_BOT_TOKEN: 'xoxb-config-test',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/deploy-check',
};
const OAUTH = {
  SLACK_CLIENT_ID: '1234.5678',
  SLACK_CLIENT_SECRET: 'client-secret-0123456789',
  SLACK_STATE_SECRET: 'state-secret-0123456789',
};
const REQUIRED = ['SLACK_SIGNING_SECRET', 'REDIS_URL', 'MONGODB_URI'] as const;

function configKeys(): string[] {
  return [...CONFIG_KEYS];
}

/** The error loadConfig throws, or a failure when it does not throw. */
function configError(load: () => unknown): DeployCheckError {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(DeployCheckError);
    expect((err as DeployCheckError).code).toBe(ErrorCode.Config);
    return err as DeployCheckError;
  }
  throw new Error('expected a configuration error');
}

/** The lines of the message that name `key`. */
const linesNaming = (err: Error, key: string) =>
  err.message.split('\n').filter((l) => new RegExp(`\\b${key}\\b`).test(l));

function without<T extends Record<string, string>>(env: T, key: string): Record<string, string> {
  const { [key]: _removed, ...rest } = env;
  return rest;
}

describe('loadConfig (the bot)', () => {
  it('parses a complete token-mode environment, with defaults for everything optional, frozen', () => {
    const config = loadConfig(TOKEN_MODE);
    expect(config).toMatchObject({
      ...TOKEN_MODE,
      SLACK_SOCKET_MODE: false,
      PORT: 3000,
      MONGODB_DB: 'deploy-check',
      QUEUE_PREFIX: 'deploy-check',
      CHECKLISTS_DIR: 'checklists',
      SECRETS_ENV_PREFIX: 'DC_SECRET_',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each(REQUIRED)('stops when %s is missing, with a sentence naming it', (key) => {
    const err = configError(() => loadConfig(without(TOKEN_MODE, key)));
    const lines = linesNaming(err, key);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/is not set/);
    // Only the missing variable is blamed.
    for (const other of REQUIRED.filter((k) => k !== key)) expect(linesNaming(err, other)).toEqual([]);
  });

  it('names every missing required variable at once', () => {
    const err = configError(() => loadConfig({}));
    for (const key of REQUIRED) expect(linesNaming(err, key)).toHaveLength(1);
  });

  it.each(REQUIRED)('treats an empty %s as unset', (key) => {
    const err = configError(() => loadConfig({ ...TOKEN_MODE, [key]: '' }));
    expect(linesNaming(err, key).join('\n')).toMatch(/is not set/);
  });

  it('treats an empty value of any variable as unset: the same config as leaving it out', () => {
    // `FOO=` in a compose or .env file must not change a default (PORT= must not mean port 0).
    const expected = loadConfig(TOKEN_MODE);
    const changed: Record<string, unknown> = {};
    for (const key of configKeys()) {
      if ((REQUIRED as readonly string[]).includes(key) || key === 'SLACK_BOT_TOKEN') continue;
      try {
        const got = loadConfig({ ...TOKEN_MODE, [key]: '' });
        if (JSON.stringify(got) !== JSON.stringify(expected))
          changed[key] = (got as Record<string, unknown>)[key];
      } catch (err) {
        changed[key] = (err as Error).message.split('\n').slice(1).join(' ').trim();
      }
    }
    expect(changed).toEqual({});
  });

  it('parses SLACK_SOCKET_MODE as a string boolean ("false" is false)', () => {
    const socket = { ...TOKEN_MODE, SLACK_APP_TOKEN: 'xapp-1-test' };
    expect(loadConfig({ ...socket, SLACK_SOCKET_MODE: 'false' }).SLACK_SOCKET_MODE).toBe(false);
    expect(loadConfig({ ...socket, SLACK_SOCKET_MODE: '0' }).SLACK_SOCKET_MODE).toBe(false);
    expect(loadConfig({ ...socket, SLACK_SOCKET_MODE: 'true' }).SLACK_SOCKET_MODE).toBe(true);
    expect(loadConfig(socket).SLACK_SOCKET_MODE).toBe(false);
    const err = configError(() => loadConfig({ ...socket, SLACK_SOCKET_MODE: 'maybe' }));
    expect(linesNaming(err, 'SLACK_SOCKET_MODE')).toHaveLength(1);
  });

  it('needs SLACK_APP_TOKEN for Socket Mode', () => {
    const err = configError(() => loadConfig({ ...TOKEN_MODE, SLACK_SOCKET_MODE: 'true' }));
    expect(linesNaming(err, 'SLACK_APP_TOKEN').join('\n')).toMatch(/SLACK_SOCKET_MODE=true needs/);
  });

  it('refuses a bot token as SLACK_APP_TOKEN (Slack would refuse it, and the socket client retries forever)', () => {
    const err = configError(() =>
      loadConfig({ ...TOKEN_MODE, SLACK_SOCKET_MODE: 'true', SLACK_APP_TOKEN: 'xoxb-not-an-app-token' }),
    );
    expect(linesNaming(err, 'SLACK_APP_TOKEN').join('\n')).toMatch(/app-level token \(xapp-…\)/);
    expect(String(err)).not.toContain('xoxb-not-an-app-token');
  });

  it('stops on malformed values, naming the variable', () => {
    for (const [key, value] of [
      ['PORT', 'http'],
      ['PORT', '70000'],
      ['WORKER_CONCURRENCY', '0'],
      ['LOG_LEVEL', 'loud'],
      ['QUEUE_PREFIX', 'has:colon'],
    ] as const) {
      const err = configError(() => loadConfig({ ...TOKEN_MODE, [key]: value }));
      expect(linesNaming(err, key), `${key}=${value}`).toHaveLength(1);
    }
  });

  describe('Slack modes', () => {
    it('needs a bot token or the OAuth trio', () => {
      const err = configError(() => loadConfig(without(TOKEN_MODE, 'SLACK_BOT_TOKEN')));
      const [line] = linesNaming(err, 'SLACK_BOT_TOKEN');
      expect(line).toMatch(/SLACK_CLIENT_ID/);
      expect(line).toMatch(/SLACK_STATE_SECRET/);
    });

    it('accepts OAuth mode without a bot token', () => {
      const config = loadConfig({ ...without(TOKEN_MODE, 'SLACK_BOT_TOKEN'), ...OAUTH });
      expect(config.SLACK_BOT_TOKEN).toBeUndefined();
      expect(config).toMatchObject(OAUTH);
    });

    it.each(Object.keys(OAUTH))('refuses OAuth mode without %s', (key) => {
      const env = { ...without(TOKEN_MODE, 'SLACK_BOT_TOKEN'), ...without(OAUTH, key) };
      const err = configError(() => loadConfig(env));
      expect(err.message).toMatch(
        /OAuth mode needs all of SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET/,
      );
    });

    it('treats empty OAuth variables as unset, so token mode stays token mode', () => {
      const config = loadConfig({
        ...TOKEN_MODE,
        SLACK_CLIENT_ID: '',
        SLACK_CLIENT_SECRET: '',
        SLACK_STATE_SECRET: '',
      });
      expect(config.SLACK_CLIENT_ID).toBeUndefined();
      expect(config.SLACK_BOT_TOKEN).toBe(TOKEN_MODE.SLACK_BOT_TOKEN);
    });
  });

  it('gives no secret a default', () => {
    const config = loadConfig(TOKEN_MODE) as Record<string, unknown>;
    for (const key of ['SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'SLACK_APP_TOKEN', 'SLACK_CLIENT_ID'])
      expect(config[key], key).toBeUndefined();
  });
});

describe('loadWorkerConfig (the worker)', () => {
  it('needs no signing secret: workers verify no Slack requests', () => {
    const config = loadWorkerConfig(without(TOKEN_MODE, 'SLACK_SIGNING_SECRET'));
    expect(config.REDIS_URL).toBe(TOKEN_MODE.REDIS_URL);
    expect(config.SLACK_SIGNING_SECRET).toBeUndefined();
  });

  it.each(['REDIS_URL', 'MONGODB_URI', 'SLACK_BOT_TOKEN'])('still needs %s', (key) => {
    const err = configError(() =>
      loadWorkerConfig(without(without(TOKEN_MODE, 'SLACK_SIGNING_SECRET'), key)),
    );
    expect(linesNaming(err, key).length).toBeGreaterThan(0);
  });
});

describe('start-up with a bad environment', () => {
  /** Runs an entry point as its own process with exactly `env` (plus PATH), as a container would. */
  function start(
    entry: string,
    env: Record<string, string>,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', entry], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${entry} did not exit within 20 s:\n${stderr}`));
      }, 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it.each([
    ['src/bot.ts', 'SLACK_SIGNING_SECRET', TOKEN_MODE],
    ['src/bot.ts', 'REDIS_URL', TOKEN_MODE],
    ['jobs/worker.ts', 'MONGODB_URI', without(TOKEN_MODE, 'SLACK_SIGNING_SECRET')],
  ])('%s without %s exits 1 with one line naming it, and no stack trace', async (entry, key, env) => {
    const { code, stdout, stderr } = await start(entry, without(env, key));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const naming = stderr.split('\n').filter((l) => l.includes(key));
    expect(naming, stderr).toHaveLength(1);
    expect(naming[0]).toMatch(/is not set/);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toMatch(/Error:|ZodError/);
    expect(stderr.trim().split('\n').length, stderr).toBeLessThanOrEqual(3);
  });
});

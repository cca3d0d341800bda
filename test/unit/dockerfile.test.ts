/**
 * The Dockerfile, read by a small parser (instructions per stage) and checked against the project
 * it packages: the entry points it runs are files `npm run build` emits, the image is Node 24 slim,
 * multi-stage, non-root, carries no secrets, and its HEALTHCHECK command — run here for real against
 * the bot's ops routes — passes on a live bot and fails otherwise.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_KEYS, loadConfig, loadWorkerConfig } from '../../src/config.js';
import { createMetrics } from '../../src/http/metrics.js';
import { opsRoutes } from '../../src/http/routes.js';
import { configSecrets } from '../../src/log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------------------------------------
// A Dockerfile parser: enough of the syntax for this file (continuations, comments, stages)
// ---------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i += 1;
      // Comment lines inside a continuation are dropped, as Docker does.
      if (!/^\s*#/.test(lines[i]!)) line += lines[i]!.trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile:${first}: cannot parse "${line}"`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile:${first}: cannot parse FROM ${args}`);
      stages.push({ image: from[1]!, ...(from[2] ? { name: from[2] } : {}), instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword === 'ARG') continue;
      throw new Error(`Dockerfile:${first}: ${keyword} before the first FROM`);
    }
    stage.instructions.push({ keyword, args, line: first });
  }
  return stages;
}

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const runs = (stage: Stage) => of(stage, 'RUN').map((i) => i.args);

/** `["a", "b"]` (exec form) or a shell string, as an argv. */
function argv(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return ['/bin/sh', '-c', args];
}

/** `KEY=value KEY2="v"` or the legacy `KEY value`. */
function envPairs(args: string): Array<[string, string]> {
  if (!args.includes('=')) {
    const [key, ...rest] = args.split(/\s+/);
    return [[key!, rest.join(' ')]];
  }
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)].map((m) => [m[1]!, m[3] ?? m[2]!]);
}

/** COPY sources, without flags; the last argument is the destination. */
function copy(args: string): { from?: string; sources: string[]; dest: string } {
  const parts = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = parts.filter((p) => p.startsWith('--'));
  const rest = parts.filter((p) => !p.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { ...(from ? { from } : {}), sources: rest.slice(0, -1), dest: rest.at(-1)! };
}

/** HEALTHCHECK [options] CMD <command>. */
function healthcheck(args: string): { options: Record<string, string>; command: string[] } {
  const at = args.search(/\bCMD\b/);
  const options = Object.fromEntries(
    [...args.slice(0, at).matchAll(/--([a-z-]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
  );
  return { options, command: argv(args.slice(at + 3).trim()) };
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(root, file), 'utf8')) as T;
}

// ---------------------------------------------------------------------------------------------

const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1)!;
const build = stages.find((s) =>
  s.instructions.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args)),
);

/**
 * The file `npm run build` (tsc -p tsconfig.build.json) emits for a source file, or why it emits none.
 * tsconfig.build.json extends tsconfig.json (outDir dist, rootDir .) and includes a list of directories.
 */
function emittedFrom(distFile: string): { source?: string; why?: string } {
  const base = readJson<{ compilerOptions: { outDir: string; rootDir: string } }>('tsconfig.json');
  const buildConfig = readJson<{ extends: string; include: string[]; compilerOptions?: { outDir?: string } }>(
    'tsconfig.build.json',
  );
  expect(buildConfig.extends).toBe('./tsconfig.json');
  const outDir = buildConfig.compilerOptions?.outDir ?? base.compilerOptions.outDir;
  const relative = path.posix.relative(outDir, distFile);
  if (relative.startsWith('..')) return { why: `${distFile} is not under outDir ${outDir}` };
  const source = path.posix.join(base.compilerOptions.rootDir, relative).replace(/\.js$/, '.ts');
  if (!existsSync(path.join(root, source))) return { why: `no source ${source} for ${distFile}` };
  const included = buildConfig.include.some((dir) => source === dir || source.startsWith(`${dir}/`));
  if (!included) return { why: `${source} is outside tsconfig.build.json's include` };
  return { source };
}

/** The CLI is also bundled by scripts/bundle-cli.mjs (entry src/cli.ts), which the build script runs. */
const CLI_BUNDLE = {
  file: 'dist/cli/deploy-check.js',
  source: 'src/cli.ts',
  script: 'scripts/bundle-cli.mjs',
};

function builtFrom(distFile: string): { source?: string; why?: string } {
  if (distFile !== CLI_BUNDLE.file) return emittedFrom(distFile);
  const build = readJson<{ scripts: Record<string, string> }>('package.json').scripts.build ?? '';
  if (!build.includes(`node ${CLI_BUNDLE.script}`))
    return { why: `npm run build does not run ${CLI_BUNDLE.script}` };
  const script = readFileSync(path.join(root, CLI_BUNDLE.script), 'utf8');
  if (!/entryPoints: \{ 'deploy-check': 'src\/cli\.ts' \}/.test(script))
    return { why: `${CLI_BUNDLE.script} does not bundle src/cli.ts as deploy-check` };
  return { source: CLI_BUNDLE.source };
}

describe('Dockerfile', () => {
  it('is multi-stage, every stage on Node 24 slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages)
      expect(s.image).toMatch(/^node:24(\.\d+){0,2}-(bookworm-|trixie-)?slim(@sha256:[0-9a-f]{64})?$/);
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(build).not.toBe(final);
  });

  it('builds from the lock file with everything tsconfig.build.json compiles', () => {
    expect(runs(build!).some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    const copied = of(build!, 'COPY').flatMap((i) => copy(i.args).sources);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    const include = readJson<{ include: string[] }>('tsconfig.build.json').include;
    for (const needed of ['tsconfig.json', 'tsconfig.build.json', CLI_BUNDLE.script, ...include])
      expect(copied).toContain(needed);
    const copyIndex = Math.max(...of(build!, 'COPY').map((i) => i.line));
    const buildLine = build!.instructions.find((i) => /npm run build/.test(i.args))!.line;
    expect(buildLine, 'npm run build runs after the sources are copied').toBeGreaterThan(copyIndex);
  });

  it('installs only production dependencies in the runtime stage and copies the build output', () => {
    expect(runs(final).some((r) => /\bnpm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(
      runs(final).some((r) => /npm (install|i)\b/.test(r)),
      'npm ci, not npm install',
    ).toBe(false);
    const fromBuild = of(final, 'COPY')
      .map((i) => copy(i.args))
      .filter((c) => c.from === build!.name);
    expect(fromBuild.map((c) => c.sources)).toContainEqual(['/app/dist']);
    const env = Object.fromEntries(of(final, 'ENV').flatMap((i) => envPairs(i.args)));
    expect(env.NODE_ENV).toBe('production');
  });

  it('ships the checklists where the default CHECKLISTS_DIR finds them', () => {
    const defaults = loadWorkerConfig({
      REDIS_URL: 'redis://x',
      MONGODB_URI: 'mongodb://x',
      SLACK_BOT_TOKEN: 'x',
    });
    const workdir = of(final, 'WORKDIR').at(-1)?.args;
    expect(workdir).toBe('/app');
    const copies = of(final, 'COPY').map((i) => copy(i.args));
    const checklists = copies.find((c) => c.sources.includes('checklists'));
    expect(checklists, 'COPY checklists').toBeDefined();
    expect(path.posix.resolve(workdir!, checklists!.dest)).toBe(
      path.posix.resolve(workdir!, defaults.CHECKLISTS_DIR),
    );
  });

  it('runs as a non-root user, set before the command', () => {
    const user = of(final, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user!.args.split(':')[0]).not.toMatch(/^(root|0)$/);
    const cmd = of(final, 'CMD').at(-1)!;
    expect(user!.line).toBeLessThan(cmd.line);
    // Installing after USER would fail without root; everything that needs root comes first.
    for (const r of of(final, 'RUN')) expect(r.line).toBeLessThan(user!.line);
  });

  it('runs the bot by default, a file that npm run build emits', () => {
    const cmd = argv(of(final, 'CMD').at(-1)!.args);
    expect(cmd[0]).toBe('node');
    expect(emittedFrom(cmd[1]!)).toEqual({ source: 'src/bot.ts' });
    expect(of(final, 'ENTRYPOINT')).toEqual([]);
  });

  it('documents a worker command and a CLI command that run emitted files too', () => {
    const commands = [...dockerfile.matchAll(/\bnode (?:--\S+ )*(dist\/\S+\.js)/g)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(['dist/jobs/worker.js', CLI_BUNDLE.file]));
    for (const file of new Set(commands)) expect(builtFrom(file), file).toHaveProperty('source');
    const bin = readJson<{ bin: Record<string, string> }>('package.json').bin;
    expect(Object.values(bin)).toEqual([CLI_BUNDLE.file]);
    for (const file of Object.values(bin)) expect(builtFrom(file), file).toHaveProperty('source');
  });

  it('exposes the port the bot listens on by default', () => {
    const config = loadWorkerConfig({
      REDIS_URL: 'redis://x',
      MONGODB_URI: 'mongodb://x',
      SLACK_BOT_TOKEN: 'x',
    });
    expect(of(final, 'EXPOSE').map((i) => i.args)).toContain(String(config.PORT));
  });

  it('sets no secret in ENV or ARG', () => {
    // The names configSecrets() scrubs from logs: a proxy config answers each key with its own name.
    const secretNames = configSecrets(new Proxy({}, { get: (_t, key) => String(key) }));
    expect(secretNames).toContain('SLACK_SIGNING_SECRET');
    for (const s of stages) {
      const keys = [
        ...of(s, 'ENV').flatMap((i) => envPairs(i.args).map(([k]) => k)),
        ...of(s, 'ARG').map((i) => i.args.split('=')[0]!),
      ];
      for (const key of keys) {
        expect(secretNames).not.toContain(key);
        expect(key).not.toMatch(/SECRET|TOKEN|PASSWORD|API_?KEY|CREDENTIAL|^DC_SECRET_/i);
      }
    }
  });

  describe('HEALTHCHECK', () => {
    const check = healthcheck(of(final, 'HEALTHCHECK').at(-1)?.args ?? '');
    let server: http.Server | undefined;

    afterEach(async () => {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      server = undefined;
    });

    async function serve(handler: http.RequestListener): Promise<number> {
      server = http.createServer(handler);
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    }

    /** Runs the HEALTHCHECK command as Docker would (exec form), with this Node as `node`. */
    function runCheck(env: Record<string, string>): Promise<number | null> {
      const [cmd, ...args] = check.command;
      expect(cmd).toBe('node');
      return new Promise((resolve) => {
        const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? '', ...env } });
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
    }

    it('probes /healthz with node (no curl or wget in the slim image), within bounds', () => {
      expect(check.command.join(' ')).toContain('/healthz');
      expect(check.command.join(' ')).not.toMatch(/\b(curl|wget)\b/);
      const seconds = (v: string | undefined) => Number(/^(\d+)s$/.exec(v ?? '')?.[1] ?? Number.NaN);
      expect(seconds(check.options.timeout)).toBeLessThan(seconds(check.options.interval));
    });

    it("passes against the bot's real /healthz route on $PORT", async () => {
      const routes = opsRoutes({}, createMetrics().registry);
      const port = await serve((req, res) => {
        const route = routes.find((r) => r.path === req.url && r.method === req.method);
        if (route) route.handler(req, res);
        else res.writeHead(404).end();
      });
      expect(await runCheck({ PORT: String(port) })).toBe(0);
    });

    it('fails when /healthz answers an error, and when nothing listens', async () => {
      const port = await serve((_req, res) => res.writeHead(503).end());
      expect(await runCheck({ PORT: String(port) })).toBe(1);
      await new Promise((resolve) => server!.close(resolve));
      server = undefined;
      expect(await runCheck({ PORT: String(port) })).toBe(1);
    });
  });
});

describe('.dockerignore', () => {
  const patterns = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const matches = (p: string, pattern: string) =>
    /[*?[]/.test(pattern)
      ? path.matchesGlob(p, pattern)
      : p === pattern.replace(/\/$/, '') || p.startsWith(`${pattern.replace(/\/$/, '')}/`);
  // As Docker reads it: the last pattern that matches decides, and `!pattern` lets a path back in.
  const ignored = (p: string) =>
    patterns.reduce(
      (out, pattern) =>
        pattern.startsWith('!') ? (matches(p, pattern.slice(1)) ? false : out) : out || matches(p, pattern),
      false,
    );

  it('keeps dependencies, build output, tests and tool caches out of the build context', () => {
    for (const p of ['node_modules', '.tools', '.git', 'dist', 'test', '.services', 'scripts/demo.sh'])
      expect(ignored(p), p).toBe(true);
  });

  it('keeps in everything the Dockerfile copies from the context', () => {
    const sources = stages.flatMap((s) =>
      of(s, 'COPY')
        .map((i) => copy(i.args))
        .filter((c) => !c.from)
        .flatMap((c) => c.sources),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(path.join(root, source)), `${source} exists`).toBe(true);
      expect(ignored(source), `${source} is excluded by .dockerignore`).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// examples/compose.yml: the same image, wired to Redis and MongoDB
// ---------------------------------------------------------------------------------------------

function configKeys(): string[] {
  return [...CONFIG_KEYS];
}

/** Compose's variable substitution: ${X}, ${X:-default}, ${X:?error}, and $$ for a literal $. */
function interpolate(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string')
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g,
      (whole, name, op, arg) => {
        if (whole === '$$') return '$';
        const set = vars[name] !== undefined && vars[name] !== '';
        if (set) return vars[name]!;
        if (op === '?') throw new Error(`compose would stop: ${arg}`);
        return op === '-' ? arg : '';
      },
    );
  if (Array.isArray(value)) return value.map((v) => interpolate(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, vars)]));
  return value;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] | string; disable?: boolean; timeout?: string; interval?: string };
  depends_on?: Record<string, { condition: string }>;
}

describe('examples/compose.yml', () => {
  const text = readFileSync(path.join(root, 'examples', 'compose.yml'), 'utf8');
  const raw = parseYaml(text, { merge: true }) as { services: Record<string, ComposeService> };
  const given = {
    SLACK_SIGNING_SECRET: 'signing-secret-from-env',
    SLACK_BOT_TOKEN: 'xoxb-from-env',
    REDIS_PASSWORD: 'redis-password-from-env',
    MONGO_PASSWORD: 'mongo-password-from-env',
  };
  const { services } = interpolate(raw, given) as typeof raw;
  const commandOf = (s: ComposeService) => (Array.isArray(s.command) ? s.command : argv(s.command ?? ''));

  it('runs the bot, workers, Redis 7 and MongoDB 7', () => {
    expect(Object.keys(services).sort()).toEqual(['bot', 'mongodb', 'redis', 'worker']);
    expect(services.redis!.image).toMatch(/^redis:7(\.|$)/);
    expect(services.mongodb!.image).toMatch(/^mongo:7(\.|$)/);
    expect(services.worker!.deploy?.replicas).toBe(2);
  });

  it('stops with a message when a required secret is not given, and has no secret written in', () => {
    // SLACK_BOT_TOKEN may be left out for OAuth mode, which the bot's own config check then enforces.
    for (const key of ['SLACK_SIGNING_SECRET', 'REDIS_PASSWORD', 'MONGO_PASSWORD'] as const) {
      const { [key]: _left, ...rest } = given;
      expect(() => interpolate(raw, rest), key).toThrow(new RegExp(key));
    }
    for (const value of Object.values(given)) expect(text).not.toContain(value);
  });

  it('gives the smaller young generation to workers only (it keeps their memory flat but slows the bot)', () => {
    const env = Object.fromEntries(of(final, 'ENV').flatMap((i) => envPairs(i.args)));
    expect(env.NODE_OPTIONS ?? '').not.toContain('semi-space');
    expect(commandOf(services.bot!).join(' ')).not.toContain('semi-space');
    expect(dockerfile).toMatch(/worker: .* node --max-semi-space-size=8 dist\/jobs\/worker\.js/);
  });

  it('runs the image’s entry points: the bot by default command, the worker by its own', () => {
    const cmd = argv(of(final, 'CMD').at(-1)!.args);
    expect(commandOf(services.bot!)).toEqual(cmd);
    expect(commandOf(services.worker!)).toEqual(['node', '--max-semi-space-size=8', 'dist/jobs/worker.js']);
    expect(emittedFrom('dist/jobs/worker.js')).toEqual({ source: 'jobs/worker.ts' });
  });

  it('configures bot and workers with variables src/config.ts knows, which it accepts', () => {
    const known = new Set(configKeys());
    expect(known).toContain('SLACK_SIGNING_SECRET');
    for (const name of ['bot', 'worker']) {
      const env = services[name]!.environment ?? {};
      for (const key of Object.keys(env)) {
        if (!key.startsWith('DC_SECRET_')) expect(known, `${name}: ${key}`).toContain(key);
      }
    }
    const bot = loadConfig(services.bot!.environment ?? {});
    expect(bot.SLACK_BOT_TOKEN).toBe(given.SLACK_BOT_TOKEN);
    expect(bot.SLACK_CLIENT_ID).toBeUndefined();
    expect(new URL(bot.REDIS_URL).hostname).toBe('redis');
    expect(new URL(bot.MONGODB_URI).hostname).toBe('mongodb');
    const worker = loadWorkerConfig(services.worker!.environment ?? {});
    expect(worker.REDIS_URL).toBe(bot.REDIS_URL);
    expect(worker.MONGODB_URI).toBe(bot.MONGODB_URI);
    expect(worker.MONGODB_DB).toBe(bot.MONGODB_DB);
    expect(worker.QUEUE_PREFIX).toBe(bot.QUEUE_PREFIX);
    // The port the bot listens on is the one published and health-checked.
    expect(JSON.stringify(services.bot).includes(`127.0.0.1:${bot.PORT}/healthz`)).toBe(true);
  });

  it('gives Redis the eviction policy BullMQ needs', () => {
    const cmd = commandOf(services.redis!);
    expect(cmd[cmd.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('health-checks every long-running service except the workers, which serve no HTTP', () => {
    for (const name of ['bot', 'redis', 'mongodb']) {
      const check = services[name]!.healthcheck;
      expect(check?.test, name).toBeDefined();
      expect(check?.disable, name).not.toBe(true);
    }
    expect(services.worker!.healthcheck?.disable).toBe(true);
    for (const name of ['bot', 'worker'])
      expect(services[name]!.depends_on).toMatchObject({
        redis: { condition: 'service_healthy' },
        mongodb: { condition: 'service_healthy' },
      });
  });
});

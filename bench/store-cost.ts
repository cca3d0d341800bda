/**
 * Store cost per run: MongoDB commands the worker issues for one run, counted by the driver's
 * command monitor (`monitorCommands: true`, 'commandStarted' / 'commandSucceeded'), around
 * `processRun` (jobs/run-processor.ts) executed in this process with WorkerDeps built as
 * jobs/worker.ts builds them: RunStore on the FerretDB test server, queues on Redis, Slack clients
 * pointed at the Slack fake, a silent logger. Goal: a small constant per item, no full-document
 * rewrites on update.
 *
 *   npx tsx bench/store-cost.ts
 *
 * Checklists: generated, N http probes against a local node:http target — 2 phases x {2, 8, 32}
 * items (the per-item slope) and 8 phases x 2 items (per-phase cost at 16 items, vs 2 x 8) — and
 * the shipped ClientsVia checklist against the demo target (healthy). The reference for "per item"
 * is the run's own item count: commands / items and the slope between sizes.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BSON, MongoClient } from 'mongodb';
import { DEMO_CONFIG_TOKEN, startDemoTarget } from '../examples/demo-target/server.js';
import type { WorkerDeps } from '../jobs/deps.js';
import { createQueues } from '../jobs/queues.js';
import { processRun } from '../jobs/run-processor.js';
import { parseChecklist } from '../src/checklist/load.js';
import { demoVars } from '../src/cli/demo.js';
import { loadWorkerConfig } from '../src/config.js';
import { createMetrics } from '../src/http/metrics.js';
import { createLogger } from '../src/log.js';
import { slackClientsFor } from '../src/slack/clients.js';
import { RunStore } from '../src/store/run-store.js';
import { startSlackFake } from '../test/helpers/slack-fake.js';
import {
  fmt,
  header,
  onExit,
  printTable,
  ROOT,
  runMain,
  startHttpTarget,
  startServices,
  verdict,
} from './lib/common.js';

const TOKEN = 'xoxb-bench-store';
const TEAM = 'T0STORE001';
/** Driver housekeeping, not store operations. */
const HOUSEKEEPING = new Set([
  'hello',
  'isMaster',
  'ismaster',
  'ping',
  'endSessions',
  'buildInfo',
  'saslStart',
  'saslContinue',
]);

interface Tally {
  commands: number;
  byName: Map<string, number>;
  byCollection: Map<string, number>;
  docsRead: number;
  bytesRead: number;
  runDocReads: number;
  replacements: number;
  updates: number;
}

function emptyTally(): Tally {
  return {
    commands: 0,
    byName: new Map(),
    byCollection: new Map(),
    docsRead: 0,
    bytesRead: 0,
    runDocReads: 0,
    replacements: 0,
    updates: 0,
  };
}

function checklistYaml(name: string, phases: number, perPhase: number): string {
  const lines = [`name: ${name}`, `service: ${name}`, 'vars:', '  baseUrl: http://127.0.0.1:9', 'phases:'];
  for (let p = 0; p < phases; p++) {
    lines.push(`  - id: ph${p}`, `    title: Phase ${p}`, '    items:');
    for (let i = 0; i < perPhase; i++)
      lines.push(
        `      - { id: i${i}, title: Item ${i}, check: { type: http, url: "{{baseUrl}}/p${p}/i${i}", expect: { status: 200 } } }`,
      );
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  header('store cost per run: MongoDB commands issued by processRun (FerretDB test server)');
  const services = await startServices({ redis: true, mongo: true });
  const fake = await startSlackFake({ tokens: [TOKEN], team: { id: TEAM, domain: 'bench' } });
  onExit(() => fake.close());
  const target = await startHttpTarget();
  const demo = await startDemoTarget({ profile: 'healthy' });
  onExit(() => demo.close());

  const dir = mkdtempSync(path.join(os.tmpdir(), 'dc-bench-store-'));
  const sizes: Array<[string, number, number]> = [
    ['gen-2x2', 2, 2],
    ['gen-2x8', 2, 8],
    ['gen-2x32', 2, 32],
    ['gen-8x2', 8, 2],
  ];
  for (const [name, phases, per] of sizes)
    writeFileSync(path.join(dir, `${name}.yml`), checklistYaml(name, phases, per));
  copyFileSync(path.join(ROOT, 'checklists/clientsvia.yml'), path.join(dir, 'clientsvia.yml'));
  const caFile = path.join(dir, 'demo-ca.pem');
  writeFileSync(caFile, demo.certPem);

  const env = {
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: fake.url,
    SLACK_RETRIES: '0',
    REDIS_URL: services.redisUrl!,
    MONGODB_URI: services.mongoUri!,
    MONGODB_DB: 'bench_store',
    QUEUE_PREFIX: 'bench-store',
    CHECKLISTS_DIR: dir,
    LOG_LEVEL: 'silent',
  };
  const config = loadWorkerConfig(env);
  const client = new MongoClient(services.mongoUri!, { monitorCommands: true, maxPoolSize: 20 });
  await client.connect();
  onExit(() => client.close());
  const store = new RunStore(client.db(config.MONGODB_DB));
  await store.ensureIndexes();
  const queues = createQueues(config.REDIS_URL, config.QUEUE_PREFIX);
  onExit(() => queues.close());
  const deps: WorkerDeps = {
    config,
    store,
    slack: slackClientsFor(config, undefined),
    queues,
    log: createLogger({ level: 'silent', name: 'bench-store' }),
    metrics: createMetrics(),
    checklistsDir: dir,
    env: { CONFIG_API_TOKEN: DEMO_CONFIG_TOKEN, DEMO_CONFIG_TOKEN },
    now: () => new Date(),
  };

  let tally: Tally | undefined;
  const pending = new Map<number, string>();
  client.on('commandStarted', (e) => {
    if (!tally || HOUSEKEEPING.has(e.commandName)) return;
    const t = tally;
    t.commands += 1;
    t.byName.set(e.commandName, (t.byName.get(e.commandName) ?? 0) + 1);
    const coll = String((e.command as Record<string, unknown>)[e.commandName] ?? '');
    t.byCollection.set(coll, (t.byCollection.get(coll) ?? 0) + 1);
    pending.set(e.requestId, `${e.commandName}:${coll}`);
    if (e.commandName === 'update') {
      for (const u of (e.command as { updates?: Array<{ u: unknown }> }).updates ?? []) {
        t.updates += 1;
        const doc = u.u as Record<string, unknown> | unknown[];
        // A replacement is a document without operators; a pipeline is an array.
        if (!Array.isArray(doc) && !Object.keys(doc).every((k) => k.startsWith('$'))) t.replacements += 1;
      }
    }
  });
  client.on('commandSucceeded', (e) => {
    const what = pending.get(e.requestId);
    pending.delete(e.requestId);
    if (!tally || !what) return;
    const cursor = (e.reply as { cursor?: { firstBatch?: unknown[]; nextBatch?: unknown[] } }).cursor;
    const docs = cursor?.firstBatch ?? cursor?.nextBatch;
    if (docs) {
      tally.docsRead += docs.length;
      tally.bytesRead += BSON.calculateObjectSize(e.reply as BSON.Document);
      if (what === 'find:runs') tally.runDocReads += docs.length;
    }
  });

  interface Row {
    name: string;
    phases: number;
    items: number;
    t: Tally;
    seconds: number;
  }
  const rows: Row[] = [];
  let n = 0;
  const runOne = async (name: string, vars: Record<string, string>) => {
    n += 1;
    const runId = `r-benchstore${n}`;
    tally = emptyTally();
    const t0 = performance.now();
    await processRun(
      {
        runId,
        tenant: { teamId: TEAM },
        checklist: name,
        vars,
        channel: 'C0STORE001',
        requester: 'U0STORE001',
      },
      deps,
    );
    const seconds = (performance.now() - t0) / 1000;
    const t = tally;
    tally = undefined;
    return { t, seconds };
  };
  for (const [name, phases, per] of sizes) {
    const { t, seconds } = await runOne(name, { baseUrl: target.url });
    rows.push({ name, phases, items: phases * per, t, seconds });
  }
  const cv = await runOne('clientsvia', demoVars(demo, caFile));
  rows.push({ name: 'clientsvia vs demo', phases: 9, items: 90, ...cv });

  const names = [...new Set(rows.flatMap((r) => [...r.t.byName.keys()]))].sort();
  printTable(
    [
      'checklist',
      'phases',
      'items',
      'commands',
      'per item',
      ...names,
      'docs read',
      'KiB read',
      'run doc reads',
      'replacements',
      's',
    ],
    rows.map((r) => [
      r.name,
      r.phases,
      r.items,
      r.t.commands,
      fmt(r.t.commands / r.items, 1),
      ...names.map((k) => String(r.t.byName.get(k) ?? 0)),
      r.t.docsRead,
      fmt(r.t.bytesRead / 1024, 0),
      r.t.runDocReads,
      `${r.t.replacements}/${r.t.updates}`,
      fmt(r.seconds, 1),
    ]),
  );
  const colls = [...new Set(rows.flatMap((r) => [...r.t.byCollection.keys()]))].sort();
  console.log('\ncommands by collection');
  printTable(
    ['checklist', ...colls],
    rows.map((r) => [r.name, ...colls.map((c) => String(r.t.byCollection.get(c) ?? 0))]),
  );
  const [small, , large, many] = rows;
  const slope = (large!.t.commands - small!.t.commands) / (large!.items - small!.items);
  const fixed = small!.t.commands - slope * small!.items;
  const perPhase = (many!.t.commands - rows[1]!.t.commands) / (many!.phases - rows[1]!.phases);
  const bytesSlope = (large!.t.bytesRead - small!.t.bytesRead) / (large!.items - small!.items);
  const replacements = rows.reduce((s, r) => s + r.t.replacements, 0);
  console.log(
    `\nper item: ${fmt(slope, 2)} commands (2x2 → 2x32); fixed per run ≈ ${fmt(fixed, 0)}; ` +
      `per extra phase (8x2 vs 2x8, same 16 items): ${fmt(perPhase, 1)} commands`,
  );
  console.log(
    `bytes read per extra item: ${fmt(bytesSlope / 1024, 1)} KiB (every phase write re-reads every result so far, ` +
      'and the run document with its checklist source)',
  );
  // What the repeated reads cost in CPU: every loadView re-parses the run's stored checklist source.
  const cvRun = await store.runs.findOne({ _id: `r-benchstore${n}` });
  if (cvRun) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) parseChecklist(cvRun.source, { file: cvRun.file, vars: cvRun.vars });
    const parseMs = (performance.now() - t0) / 5;
    const reads = rows.at(-1)!.t.runDocReads;
    console.log(
      `clientsvia: the run document (${fmt(cvRun.source.length / 1024, 0)} KiB of checklist source) was read ${reads} times ` +
        `and parsed each time: ${fmt(parseMs, 0)} ms per parse here → ~${fmt(reads * parseMs, 0)} ms of worker CPU per run`,
    );
  }
  console.log(
    `goal (small constant per item, no full-document rewrites): per item ${fmt(slope, 1)} commands, ` +
      `${replacements} replacement updates: ${verdict(slope <= 3 && replacements === 0)}`,
  );
  target.stop();
}

runMain(main);

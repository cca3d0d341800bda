/**
 * Summarises a V8 `.cpuprofile` (from `--cpu-prof` or bench/lib/prof-hook.mjs): where the CPU went,
 * as self time per area (package, Node internals, our files) and as inclusive time of named steps
 * of the request path (a sample counts for a step when the step's function is on its stack).
 *
 *   npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [per=REQUESTS] [top=N]
 *
 * With `per=`, times are also given per request (µs), which is what the ack-path bench compares.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A step of the request path: a sample is in it when any frame on its stack matches. */
export interface Step {
  name: string;
  fn?: RegExp;
  url?: RegExp;
}

/** The steps of the ack path and what follows it, outermost first. */
export const ACK_PATH_STEPS: Step[] = [
  {
    name: 'HTTP server: parse request, write response (node:_http_*)',
    url: /node:_http_(server|common|incoming)/,
  },
  {
    name: 'Bolt HTTPReceiver request listener (all of it)',
    fn: /^(unboundRequestListener|requestListener)$/,
    url: /HTTPReceiver/,
  },
  { name: '  read + buffer the body (raw-body)', fn: /bufferIncomingMessage|^getRawBody$|readStream/ },
  {
    name: '  signature check (verifySlackRequest, tsscmp)',
    fn: /verifySlackRequest|verifySlackAuthenticity|^timeSafeCompare$/,
  },
  { name: '  body parse (querystring / JSON)', fn: /^parseHTTPRequestBody$/ },
  {
    name: 'Bolt App.processEvent (authorize, middleware, listeners)',
    fn: /^processEvent$/,
    url: /bolt\/dist\/App\.js/,
  },
  { name: '  ack(): write the HTTP response', url: /HTTPResponseAck\.js/ },
  { name: '  our /deploy-check listener (commands/deploy-check.ts)', url: /commands\/deploy-check\.ts/ },
  { name: '    command text parse (parseCommandText)', fn: /^parseCommandText$/ },
  { name: '    checklist file lookup (resolveChecklistRef: fs calls)', fn: /^resolveChecklistRef$/ },
  {
    name: '    checklist cache lookup (ChecklistCache.load: stat + key)',
    fn: /^load$/,
    url: /checklist\/cache\.ts/,
  },
  { name: '    run id hash (deriveRunId)', fn: /^deriveRunId$/ },
  { name: '    render the ack text (renderNotice)', fn: /^renderNotice$/ },
  {
    name: '    enqueue (enqueueRun → BullMQ add, all client-side)',
    fn: /^enqueueRun$|^flushRunBatch$|^enqueueRunBatched$/,
  },
  { name: '      BullMQ Queue.add / addBulk', fn: /^(add|addBulk|addJob|create|createBulk)$/, url: /bullmq/ },
  { name: '      msgpack of the job options (msgpackr pack)', url: /msgpackr/ },
  {
    name: '      ioredis send (command encode + socket write)',
    fn: /^(sendCommand|write|writeCommand|exec|executeAutoPipeline)$/,
    url: /ioredis/,
  },
  { name: '  our button listeners (commands/actions.ts)', url: /commands\/actions\.ts/ },
  { name: '    run view (requireView: store reads + parse)', fn: /^requireView$|^loadView$/ },
  {
    name: 'ioredis reply parsing (redis-parser / DataHandler)',
    url: /redis-parser|ioredis\/built\/(DataHandler|resp)/,
  },
  { name: 'MongoDB driver (all)', url: /node_modules\/(mongodb|bson)\// },
  {
    name: 'response_url posts, Web API calls (fetch: undici, web streams; @slack/web-api)',
    url: /node:internal\/(deps\/undici|webstreams)|node_modules\/(@slack\/web-api|axios)\//,
  },
  { name: 'metrics (prom-client)', url: /prom-client/ },
  { name: 'logging (pino)', url: /node_modules\/pino/ },
  { name: 'crypto (createHash/createHmac, digest)', url: /node:internal\/crypto/ },
];

/** The area a frame belongs to: a package, Node's own code, one of our files, or a V8 pseudo-frame. */
export function areaOf(frame: CallFrame, root: string): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (idle), (program)
    return '';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) {
    const m = url.replace(/^node:(internal\/)?/, '');
    if (/^(_http|http)/.test(m)) return 'node: http';
    if (/^(net|stream|streams|stream_base)|internal\/stream|^streams\//.test(m)) return 'node: net/streams';
    if (/^crypto/.test(m)) return 'node: crypto';
    if (/^(timers|process\/task_queues|async_hooks|process\/promises)/.test(m))
      return 'node: timers/ticks/promises';
    if (/^(url|querystring)/.test(m)) return 'node: url/querystring';
    if (/^(deps\/undici|webstreams)/.test(m)) return 'node: fetch (undici, web streams)';
    if (/^(fs)/.test(m)) return 'node: fs';
    if (/^(modules|vm)/.test(m)) return 'node: module loader';
    return 'node: other';
  }
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = path.relative(root, file);
  if (!rel.startsWith('..')) return `ours: ${rel}`;
  return file;
}

export interface Summary {
  totalMs: number;
  idleMs: number;
  busyMs: number;
  areas: Array<{ area: string; ms: number }>;
  steps: Array<{ name: string; ms: number }>;
  functions: Array<{ fn: string; area: string; ms: number }>;
}

export function summarise(profile: CpuProfile, root: string, steps: Step[] = ACK_PATH_STEPS): Summary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Area of a node: its own, or for native frames without a URL, the nearest caller's.
  const area = new Map<number, string>();
  const areaFor = (id: number): string => {
    const known = area.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    let a = areaOf(node.callFrame, root);
    if (a === '') {
      const p = parent.get(id);
      a = p === undefined ? '(native)' : areaFor(p);
    }
    area.set(id, a);
    return a;
  };
  // Samples taken while the profiler itself was being driven (bench/lib/prof-hook.mjs, the
  // inspector session) are left out.
  const hookIds = new Set<number>();
  const inHook = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (hookIds.has(cur)) return true;
      const url = byId.get(cur)!.callFrame.url;
      if (url.endsWith('prof-hook.mjs') || url === 'node:inspector') {
        hookIds.add(cur);
        return true;
      }
    }
    return false;
  };
  // Steps on each node's stack, memoised per node.
  const stepSets = new Map<number, Set<number>>();
  const stepsOn = (id: number): Set<number> => {
    const known = stepSets.get(id);
    if (known) return known;
    const p = parent.get(id);
    const set = new Set(p === undefined ? [] : stepsOn(p));
    const f = byId.get(id)!.callFrame;
    for (const [k, s] of steps.entries())
      if ((!s.fn || s.fn.test(f.functionName)) && (!s.url || s.url.test(f.url))) set.add(k);
    stepSets.set(id, set);
    return set;
  };
  const areaMs = new Map<string, number>();
  const fnMs = new Map<string, { fn: string; area: string; ms: number }>();
  const stepMs = steps.map(() => 0);
  let total = 0;
  let idle = 0;
  for (const [i, id] of profile.samples.entries()) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (inHook(id)) continue;
    total += ms;
    const node = byId.get(id)!;
    const a = areaFor(id);
    if (a === '(idle)') {
      idle += ms;
      continue;
    }
    areaMs.set(a, (areaMs.get(a) ?? 0) + ms);
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url}:${f.lineNumber + 1}`;
    const entry = fnMs.get(key) ?? {
      fn: `${f.functionName || '(anonymous)'}:${f.lineNumber + 1}`,
      area: a,
      ms: 0,
    };
    entry.ms += ms;
    fnMs.set(key, entry);
    for (const k of stepsOn(id)) stepMs[k]! += ms;
  }
  return {
    totalMs: total,
    idleMs: idle,
    busyMs: total - idle,
    areas: [...areaMs].map(([area, ms]) => ({ area, ms })).sort((a, b) => b.ms - a.ms),
    steps: steps.map((s, k) => ({ name: s.name, ms: stepMs[k]! })),
    functions: [...fnMs.values()].sort((a, b) => b.ms - a.ms),
  };
}

/** Prints a summary; with `requests`, also µs per request. */
export function printSummary(title: string, s: Summary, requests?: number, top = 25): void {
  const per = (ms: number) => (requests ? `${((ms * 1000) / requests).toFixed(1).padStart(8)} µs/req` : '');
  const pct = (ms: number) => `${((100 * ms) / s.busyMs).toFixed(1).padStart(5)}%`;
  console.log(`\n${title}`);
  console.log(
    `profiled ${s.totalMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms (${((100 * s.busyMs) / s.totalMs).toFixed(0)}%)` +
      (requests ? `, ${requests} requests: ${per(s.busyMs).trim()} busy` : ''),
  );
  console.log('  self time by area (% of busy):');
  for (const a of s.areas.slice(0, top)) console.log(`    ${pct(a.ms)} ${per(a.ms)}  ${a.area}`);
  console.log('  inclusive time of request-path steps (% of busy):');
  for (const st of s.steps) console.log(`    ${pct(st.ms)} ${per(st.ms)}  ${st.name}`);
  console.log('  top functions by self time:');
  for (const f of s.functions.slice(0, top))
    console.log(`    ${pct(f.ms)} ${per(f.ms)}  ${f.fn}  [${f.area}]`);
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx bench/lib/cpuprofile.ts FILE.cpuprofile [per=REQUESTS] [top=N]');
    process.exit(2);
  }
  const opt = (k: string) => process.argv.find((a) => a.startsWith(`${k}=`))?.slice(k.length + 1);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  printSummary(
    file,
    summarise(profile, ROOT),
    opt('per') ? Number(opt('per')) : undefined,
    Number(opt('top') ?? 25),
  );
}

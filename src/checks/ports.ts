import net from 'node:net';
import { z } from 'zod';
import { guardedConnectOptions } from '../net/guard.js';
import { duration } from './duration.js';
import { abortDetail, describeNetError } from './stats.js';
import { type CheckContext, type CheckOutcome, defineCheck, fail, pass } from './types.js';

const COMMON_PORTS = [
  21, 22, 23, 25, 53, 80, 110, 143, 443, 445, 3000, 3306, 5432, 5672, 6379, 8000, 8080, 8443, 9200, 11211,
  27017,
];
const MAX_PORTS = 65_535;

const port = z.number().int().min(1).max(65535);

const params = z
  .object({
    host: z.string().min(1).meta({ description: 'Host name (or IP) to scan.' }),
    allowed: z.array(port).default([]).meta({
      description: 'Ports that may be open, e.g. [22, 80, 443]; any other open port fails the check.',
    }),
    scan: z
      .union([z.array(port).min(1), z.string()])
      .optional()
      .meta({
        description:
          'Ports to try: a list, or ranges like "1-1024" / "22,80,8000-8100". Default: common service ports plus `allowed`.',
      }),
    expectOpen: z
      .array(port)
      .default([])
      .meta({ description: 'Ports that must be open (always scanned, and allowed).' }),
    connectTimeout: duration.default(1000).meta({
      description: 'How long to wait for each connection; no answer counts as filtered (not open).',
    }),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(50)
      .meta({ description: 'Connections attempted at once.' }),
  })
  .strict()
  .superRefine((p, issue) => {
    if (typeof p.scan === 'string' && parsePortList(p.scan) === undefined) {
      issue.addIssue({
        code: 'custom',
        path: ['scan'],
        message: `expected ports or ranges like "1-1024" or "22,80,8000-8100", got ${JSON.stringify(p.scan)}`,
      });
    }
  });

type Params = z.infer<typeof params>;
type PortState = 'open' | 'closed' | 'filtered';

/** Parses "22,80,8000-8100" (spaces allowed) into ports, or undefined when malformed. */
export function parsePortList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 1 || to > MAX_PORTS || from > to) return undefined;
    for (let p = from; p <= to; p += 1) out.push(p);
  }
  return out;
}

function portsToScan(p: Params): number[] {
  const base =
    p.scan === undefined
      ? [...COMMON_PORTS, ...p.allowed]
      : typeof p.scan === 'string'
        ? (parsePortList(p.scan) ?? [])
        : p.scan;
  return [...new Set([...base, ...p.expectOpen])].sort((a, b) => a - b);
}

export default defineCheck({
  type: 'ports',
  summary:
    'TCP-connects to a list of ports and fails when a port outside `allowed` is open or an `expectOpen` port is not.',
  params,
  defaultTimeoutMs: 30_000,
  async run(p, ctx) {
    const ports = portsToScan(p);
    const expected = expectedText(p);
    let address: string;
    try {
      address = await resolve(p.host, ctx);
    } catch (err) {
      const detail = ctx.signal.aborted
        ? abortDetail(ctx.signal, ctx.timeoutMs)
        : describeNetError(err, p.host);
      return { status: 'error', observed: 'not scanned', expected, detail };
    }
    const states = await scan(address, ports, p, ctx);
    return judge(p, ports, states, ctx, expected);
  },
});

/** Resolves the host once, through the address policy, so every port is tried on the same address. */
function resolve(host: string, ctx: CheckContext): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '');
  const { lookup } = guardedConnectOptions(bare, ctx.policy);
  if (net.isIP(bare)) return Promise.resolve(bare);
  return new Promise((resolvePromise, reject) => {
    const onAbort = () => reject(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    lookup(bare, {}, (err, addr) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolvePromise(addr as string);
    });
  });
}

/** Tries every port, `concurrency` at a time; stops starting new attempts once ctx.signal fires. */
async function scan(
  address: string,
  ports: number[],
  p: Params,
  ctx: CheckContext,
): Promise<Map<number, PortState>> {
  const states = new Map<number, PortState>();
  let next = 0;
  const worker = async () => {
    while (next < ports.length && !ctx.signal.aborted) {
      const port = ports[next]!;
      next += 1;
      const state = await tryPort(address, port, p.connectTimeout, ctx.signal);
      if (state) states.set(port, state);
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, ports.length) }, worker));
  return states;
}

/** open = connected; closed = refused; filtered = no answer in time or unreachable; undefined = aborted. */
function tryPort(
  address: string,
  port: number,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PortState | undefined> {
  return new Promise((resolvePromise) => {
    const socket = net.connect({ host: address, port });
    const done = (state: PortState | undefined) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolvePromise(state);
    };
    const onAbort = () => done(undefined);
    const timer = setTimeout(() => done('filtered'), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done('open'));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? 'closed' : 'filtered'),
    );
  });
}

function judge(
  p: Params,
  ports: number[],
  states: Map<number, PortState>,
  ctx: CheckContext,
  expected: string,
): CheckOutcome {
  const open = ports.filter((x) => states.get(x) === 'open');
  const closed = ports.filter((x) => states.get(x) === 'closed').length;
  const filtered = ports.filter((x) => states.get(x) === 'filtered').length;
  const metrics = {
    openCount: open.length,
    closedCount: closed,
    filteredCount: filtered,
    scanned: states.size,
  };
  const openText = open.length > 0 ? `open: ${open.join(', ')}` : 'no open ports';
  const observed = `${openText} (${states.size} scanned, ${closed} closed, ${filtered} filtered)`;
  if (ctx.signal.aborted) {
    const detail = `${abortDetail(ctx.signal, ctx.timeoutMs)} after ${states.size} of ${ports.length} ports`;
    return { status: 'error', observed, expected, detail, metrics };
  }
  const allowed = new Set([...p.allowed, ...p.expectOpen]);
  const unexpected = open.filter((x) => !allowed.has(x));
  const missing = p.expectOpen.filter((x) => states.get(x) !== 'open');
  const problems: string[] = [];
  if (unexpected.length > 0) problems.push(`open but not allowed: ${unexpected.join(', ')}`);
  if (missing.length > 0)
    problems.push(`expected open but not: ${missing.map((x) => `${x} (${states.get(x)})`).join(', ')}`);
  if (problems.length > 0) return fail(observed, expected, problems.join('; '), metrics);
  return pass(observed, expected, '', metrics);
}

function expectedText(p: Params): string {
  const mayOpen = [...new Set([...p.allowed, ...p.expectOpen])].sort((a, b) => a - b);
  const allowed = mayOpen.length > 0 ? `only ${mayOpen.join(', ')} open` : 'no open ports';
  return p.expectOpen.length > 0 ? `${allowed}, ${p.expectOpen.join(', ')} must be` : allowed;
}

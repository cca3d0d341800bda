/**
 * A local HTTP target for rollback steps: fake CI / platform / status-page endpoints that count
 * calls per path, answer scripted statuses, and can hold a request until the test releases it
 * (to kill a worker at a known point) or never answer at all (a hang).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TargetCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  /** True once the response was sent; false for a request whose client went away first. */
  answered: boolean;
}

export type Reply = number | { status: number; body?: string } | 'hold' | 'hang';

export interface FakeTarget {
  url: string;
  /** Replies for a path, in order; the last one repeats. Default: 200 `{"ok":true}`. */
  script(path: string, ...replies: Reply[]): void;
  calls(path?: string): TargetCall[];
  /** Answers every held request of a path (with 200, or the given status) and stops holding. */
  release(path: string, status?: number): void;
  close(): Promise<void>;
}

export async function startFakeTarget(): Promise<FakeTarget> {
  const scripts = new Map<string, Reply[]>();
  const calls: TargetCall[] = [];
  const held = new Map<string, Array<(status: number) => void>>();
  const released = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const call: TargetCall = {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
        answered: false,
      };
      calls.push(call);
      res.on('finish', () => {
        call.answered = true;
      });
      const queue = scripts.get(path);
      const reply: Reply = queue && queue.length > 1 ? queue.shift()! : (queue?.[0] ?? 200);
      const send = (status: number, body = '{"ok":true}') => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      };
      if (reply === 'hang') return;
      if (reply === 'hold') {
        const after = released.get(path);
        if (after !== undefined) return send(after);
        const list = held.get(path) ?? [];
        list.push((status) => send(status));
        held.set(path, list);
        return;
      }
      if (typeof reply === 'number')
        return send(reply, reply >= 400 ? `{"error":"status ${reply}"}` : undefined);
      send(reply.status, reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    script(path, ...replies) {
      scripts.set(path, replies);
      released.delete(path);
    },
    calls: (path) => (path ? calls.filter((c) => c.path === path) : [...calls]),
    release(path, status = 200) {
      released.set(path, status);
      for (const answer of held.get(path) ?? []) answer(status);
      held.delete(path);
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface Readiness {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export type Check = () => Promise<void>;

/** Runs each dependency check with a deadline, so /readyz answers even when a dependency hangs. */
export async function readiness(checks: Record<string, Check>, timeoutMs = 1500): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
          ),
        ]);
        return [name, { ok: true }] as const;
      } catch (err) {
        return [name, { ok: false, detail: (err as Error).message.slice(0, 200) }] as const;
      }
    }),
  );
  return { ok: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export interface OpsRoute {
  path: string;
  method: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

/** /healthz (the process is alive), /readyz (Redis and MongoDB answer), /metrics (Prometheus). */
export function opsRoutes(checks: Record<string, Check>, registry: Registry): OpsRoute[] {
  return [
    { path: '/healthz', method: 'GET', handler: (_req, res) => json(res, 200, { ok: true }) },
    {
      path: '/readyz',
      method: 'GET',
      handler: (_req, res) => {
        readiness(checks).then(
          (r) => json(res, r.ok ? 200 : 503, r),
          (err: unknown) => json(res, 503, { ok: false, error: String(err) }),
        );
      },
    },
    {
      path: '/metrics',
      method: 'GET',
      handler: (_req, res) => {
        registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': registry.contentType });
            res.end(text);
          },
          (err: unknown) => json(res, 500, { error: String(err) }),
        );
      },
    },
  ];
}

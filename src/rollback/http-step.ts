import { formatDuration } from '../checks/duration.js';
import { httpCall } from '../checks/http-util.js';
import { describeError } from '../errors.js';
import { displayUrl, maskBody, maskHeaders, maskUrl } from './mask.js';
import { type PlanLine, type StepContext, type StepOf, type StepOutcome, stepFailed } from './types.js';

type HttpStep = StepOf<'webhook'> | StepOf<'statuspage'>;

const MAX_BODY_BYTES = 64 * 1024;
const SNIPPET_CHARS = 300;

function bodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

/** What a dry run shows of an HTTP step: the request as it would be sent, credentials masked. */
export function planHttp(step: HttpStep, defaultTimeoutMs: number): PlanLine[] {
  const lines: PlanLine[] = [
    { label: 'request', value: `${step.method.toUpperCase()} ${maskUrl(step.url)}` },
  ];
  const headers = maskHeaders(step.headers);
  if (Object.keys(headers).length > 0)
    lines.push({
      label: 'headers',
      value: Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join('\n'),
    });
  const body = bodyText(maskBody(step.body));
  if (body !== undefined) lines.push({ label: 'body', value: body });
  lines.push({ label: 'expect', value: `HTTP ${step.expectStatus.join(', ')}` });
  lines.push({ label: 'timeout', value: formatDuration(step.timeout ?? defaultTimeoutMs) });
  return lines;
}

function reasonOf(err: unknown, url: string, ctx: StepContext): string {
  const target = displayUrl(url);
  if (ctx.signal.aborted) {
    const reason = ctx.signal.reason as { name?: string } | undefined;
    return reason?.name === 'TimeoutError'
      ? `no answer from ${target} within ${formatDuration(ctx.timeoutMs)}`
      : `interrupted: ${describeError(ctx.signal.reason)}`;
  }
  const msg = describeError(err);
  if (/ECONNREFUSED/.test(msg)) return `cannot reach ${target}: connection refused`;
  if (/ENOTFOUND|EAI_AGAIN/.test(msg)) return `cannot reach ${target}: DNS lookup failed`;
  if (/ECONNRESET|socket hang up|other side closed/i.test(msg))
    return `${target} closed the connection without answering`;
  return `${target}: ${msg}`;
}

/**
 * One HTTP call with secrets resolved: a CI workflow dispatch, a platform's rollback API, a
 * status-page incident. Sends an `Idempotency-Key` (rollback + step) unless the checklist sets
 * one, so an API that honours it applies a repeated attempt once.
 */
export async function runHttp(step: HttpStep, ctx: StepContext): Promise<StepOutcome> {
  let url: string;
  let headers: Record<string, string>;
  let body: string | undefined;
  try {
    url = ctx.resolve(step.url);
    headers = { ...ctx.resolve(step.headers ?? {}) };
    body = bodyText(ctx.resolve(step.body));
  } catch (err) {
    return stepFailed(describeError(err));
  }
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url))
    return stepFailed(`url is not an http(s) URL: ${maskUrl(step.url)}`);
  if (body !== undefined && typeof step.body !== 'string' && !hasHeader(headers, 'content-type'))
    headers['content-type'] = 'application/json';
  if (!hasHeader(headers, 'idempotency-key')) headers['idempotency-key'] = `${ctx.rollbackId}-${step.id}`;
  if (!hasHeader(headers, 'user-agent')) headers['user-agent'] = 'deploy-check-rollback';
  const method = step.method.toUpperCase();
  try {
    const res = await httpCall(url, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      dispatcher: ctx.probe.dispatcher,
      signal: ctx.signal,
      maxBodyBytes: MAX_BODY_BYTES,
    });
    const observed = `${method} ${displayUrl(url)} → HTTP ${res.status}`;
    if (step.expectStatus.includes(res.status))
      return { ok: true, observed, detail: '', metrics: { status: res.status, ms: Math.round(res.totalMs) } };
    const snippet = res.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, SNIPPET_CHARS);
    return {
      ok: false,
      observed,
      detail: `answered HTTP ${res.status}, expected ${step.expectStatus.join(', ')}${snippet ? `: ${snippet}` : ''}`,
      metrics: { status: res.status },
    };
  } catch (err) {
    return stepFailed(reasonOf(err, url, ctx));
  }
}

import { DeployCheckError, ErrorCode } from '../errors.js';
import type { ItemResult } from '../run/types.js';
import { deriveRunView, type RunView } from '../state/run-view.js';
import { rollbackStore } from '../store/rollback-store.js';
import type { AuditDoc, RunStore, Tenant } from '../store/run-store.js';
import { statusIcon } from './icons.js';

export const EVIDENCE_SCHEMA = 'deploy-check/evidence@1';

/**
 * The record of one run for auditors: every item with what was measured, who ticked, approved,
 * rejected or waived what and when, monitor rounds and the audit trail. Built only from stored
 * facts, whose probe output was redacted before it was stored, so it carries no secret.
 */
export interface EvidencePack {
  schema: typeof EVIDENCE_SCHEMA;
  run: {
    id: string;
    checklist: string;
    title: string;
    service: string;
    env?: string;
    digest: string;
    vars: Record<string, string>;
    requester: string;
    createdAt: string;
    status: string;
    outcome: string;
    evidence: string;
  };
  phases: Array<{ id: string; title: string; status: string; items: ItemResult[] }>;
  approvals: Array<{
    gate: string;
    user: string;
    decision: string;
    at: string;
    roles: string[];
    evidence: string;
    counted: boolean;
    reason?: string;
  }>;
  waivers: Array<{
    key: string;
    by: string;
    reason: string;
    at: string;
    expiresAt: string;
    expired: boolean;
  }>;
  monitors: Array<{ offsetMs: number; at: string; breached: string[]; lines: unknown[] }>;
  deployed?: { by: string; at: string };
  rollbacks: Array<{
    id: string;
    service: string;
    requester: string;
    createdAt: string;
    steps: Array<{ kind: string; at: string; by?: string; data?: Record<string, unknown> }>;
  }>;
  audit: Array<{ at: string; actor: string; action: string; detail?: Record<string, unknown> }>;
  generatedAt: string;
}

export async function buildEvidence(
  store: RunStore,
  tenant: Tenant,
  runId: string,
  now: Date,
): Promise<EvidencePack> {
  const run = await store.getRun(tenant, runId);
  if (!run) throw new DeployCheckError(ErrorCode.NotFound, `no run ${runId} in this workspace`);
  const [results, ticks, votes, facts, audit] = await Promise.all([
    store.latestResults(tenant, runId),
    store.ticksFor(tenant, runId),
    store.votesFor(tenant, runId),
    store.factsFor(tenant, runId),
    store.auditFor(tenant, runId),
  ]);
  const checklist = store.parsed.parse(run.source, { file: run.file, vars: run.vars });
  const view = deriveRunView({ run, checklist, results, ticks, votes, facts, now });
  const rollbacks = await rollbacksOf(store, tenant, runId);
  return { ...evidenceFrom(view, votes, facts, audit, now), rollbacks };
}

/** Rollbacks that targeted this run, each with its step facts (claims, completions, failures, decisions). */
async function rollbacksOf(
  store: RunStore,
  tenant: Tenant,
  runId: string,
): Promise<EvidencePack['rollbacks']> {
  const rb = await rollbackStore(store.db);
  const docs = await rb.forRun(tenant, runId);
  return Promise.all(
    docs.map(async (d) => ({
      id: d._id,
      service: d.service,
      requester: d.requester,
      createdAt: d.createdAt.toISOString(),
      steps: (await rb.factsFor(tenant, d._id)).map((f) => ({
        kind: f.kind,
        at: f.at.toISOString(),
        ...(f.by ? { by: f.by } : {}),
        ...(f.data ? { data: f.data } : {}),
      })),
    })),
  );
}

export function evidenceFrom(
  view: RunView,
  votes: ReadonlyArray<{
    gate: string;
    user: string;
    decision: string;
    at: Date;
    roles: string[];
    evidence: string;
    reason?: string;
  }>,
  facts: ReadonlyArray<{ kind: string; at: Date; data?: Record<string, unknown> }>,
  audit: readonly AuditDoc[],
  now: Date,
): EvidencePack {
  const r = view.run;
  return {
    schema: EVIDENCE_SCHEMA,
    run: {
      id: r._id,
      checklist: r.checklist,
      title: r.title,
      service: r.service,
      ...(r.env ? { env: r.env } : {}),
      digest: r.digest,
      vars: r.vars,
      requester: r.requester,
      createdAt: r.createdAt.toISOString(),
      status: view.status,
      outcome: view.outcome,
      evidence: view.evidence,
    },
    phases: view.phases.map((p) => ({ id: p.id, title: p.title, status: p.status, items: p.items })),
    approvals: votes.map((v) => ({
      gate: v.gate,
      user: v.user,
      decision: v.decision,
      at: v.at.toISOString(),
      roles: v.roles,
      evidence: v.evidence,
      counted: v.evidence === view.evidence,
      ...(v.reason ? { reason: v.reason } : {}),
    })),
    waivers: [...view.waivers].map(([key, w]) => ({
      key,
      by: w.by,
      reason: w.reason,
      at: w.at.toISOString(),
      expiresAt: w.expiresAt.toISOString(),
      expired: w.expired,
    })),
    monitors: facts
      .filter((f) => f.kind.startsWith('monitor:'))
      .map((f) => ({
        offsetMs: Number(f.data?.offsetMs ?? 0),
        at: f.at.toISOString(),
        breached: (f.data?.breached as string[]) ?? [],
        lines: (f.data?.lines as unknown[]) ?? [],
      })),
    ...(view.deployed ? { deployed: { by: view.deployed.by, at: view.deployed.at.toISOString() } } : {}),
    rollbacks: [],
    audit: audit.map((a) => ({
      at: a.at.toISOString(),
      actor: a.actor,
      action: a.action,
      ...(a.detail ? { detail: a.detail } : {}),
    })),
    generatedAt: now.toISOString(),
  };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').slice(0, 300);

export function renderEvidenceMarkdown(pack: EvidencePack): string {
  const r = pack.run;
  const lines = [
    `# Evidence: ${cell(r.title)} — run \`${r.id}\``,
    '',
    `- Service \`${r.service}\`${r.env ? ` (${r.env})` : ''}; checklist \`${r.checklist}\` sha256 \`${r.digest.slice(0, 12)}\``,
    `- Requested by ${r.requester} at ${r.createdAt}; status **${r.status}**, outcome **${r.outcome}**; evidence hash \`${r.evidence}\``,
  ];
  if (pack.deployed) lines.push(`- Deployed by ${pack.deployed.by} at ${pack.deployed.at}`);
  for (const p of pack.phases) {
    lines.push(
      '',
      `## ${statusIcon[p.status as keyof typeof statusIcon] ?? ''} ${cell(p.title)}`,
      '',
      '| Status | Item | Observed | Expected | Detail / who |',
      '|---|---|---|---|---|',
    );
    for (const i of p.items) {
      const who = i.tick
        ? `ticked by ${i.tick.by} at ${i.tick.at}${i.tick.note ? `: ${i.tick.note}` : ''}`
        : i.detail;
      lines.push(
        `| ${i.status} | ${cell(i.title)} | ${cell(i.observed)} | ${cell(i.expected)} | ${cell(who)} |`,
      );
    }
  }
  lines.push('', '## Approvals', '');
  if (pack.approvals.length === 0) lines.push('_none_');
  for (const a of pack.approvals) {
    lines.push(
      `- ${a.decision} by ${a.user} (${a.roles.join(', ') || 'no role'}) at ${a.at} on evidence \`${a.evidence}\`${a.counted ? '' : ' — voided: results changed after it'}${a.reason ? ` — ${cell(a.reason)}` : ''}`,
    );
  }
  if (pack.waivers.length) {
    lines.push('', '## Waivers', '');
    for (const w of pack.waivers)
      lines.push(
        `- \`${w.key}\` waived by ${w.by} at ${w.at} until ${w.expiresAt}${w.expired ? ' (expired)' : ''}: ${cell(w.reason)}`,
      );
  }
  if (pack.monitors.length) {
    lines.push('', '## Monitors', '');
    for (const m of pack.monitors)
      lines.push(
        `- +${Math.round(m.offsetMs / 1000)}s at ${m.at}: ${m.breached.length ? `breached: ${m.breached.join(', ')}` : 'healthy'}`,
      );
  }
  for (const rb of pack.rollbacks) {
    lines.push(
      '',
      `## Rollback \`${rb.id}\` (${rb.service}), started by ${rb.requester} at ${rb.createdAt}`,
      '',
    );
    for (const f of rb.steps)
      lines.push(
        `- ${f.at} ${f.kind}${f.by ? ` by ${f.by}` : ''}${f.data ? ` ${cell(JSON.stringify(f.data))}` : ''}`,
      );
  }
  lines.push('', '## Audit trail', '');
  for (const a of pack.audit)
    lines.push(`- ${a.at} ${a.actor}: ${a.action}${a.detail ? ` ${cell(JSON.stringify(a.detail))}` : ''}`);
  return `${lines.join('\n')}\n`;
}

import type { Checklist, Item, ProbeItem } from '../src/checklist/model.js';
import { resolveMeasurement } from '../src/checklist/model.js';
import { parseDuration } from '../src/checks/duration.js';
import { judge } from '../src/monitors/criteria.js';
import { runChecklist } from '../src/run/engine.js';
import { type MonitorLine, renderMonitor } from '../src/slack/render/monitor.js';
import type { Tenant } from '../src/store/run-store.js';
import type { MonitorJob } from './contracts.js';
import type { WorkerDeps } from './deps.js';
import { writerFor } from './sync.js';
import { requireView } from './view.js';

export const monitorJobId = (runId: string, index: number) => `mon-${runId}-${index}`;

/** The deploy of this run was superseded when the same service was marked deployed again later. */
export async function isSuperseded(
  deps: WorkerDeps,
  tenant: Tenant,
  runId: string,
  service: string,
): Promise<boolean> {
  const mine = await deps.store.facts.findOne({ _id: `${runId}|deployed`, teamId: tenant.teamId });
  if (!mine) return true;
  const newer = await deps.store.facts.findOne({
    teamId: tenant.teamId,
    kind: 'deployed',
    'data.service': service,
    at: { $gt: mine.at },
  });
  return newer !== null;
}

function monitorItems(checklist: Checklist): Array<{
  id: string;
  item: ProbeItem;
  criteria: NonNullable<Checklist['spec']['monitors']>['checks'][number]['criteria'];
}> {
  const all = new Map<string, Item>(checklist.phases.flatMap((p) => p.items.map((i) => [i.key, i] as const)));
  return (checklist.spec.monitors?.checks ?? []).flatMap((m) => {
    const source = m.item ? all.get(m.item) : undefined;
    if (source?.kind === 'probe')
      return [
        {
          id: m.id,
          item: { ...source, key: `monitor/${m.id}`, phaseId: 'monitor', id: m.id },
          criteria: m.criteria,
        },
      ];
    if (!m.check) return [];
    const item: ProbeItem = {
      kind: 'probe',
      key: `monitor/${m.id}`,
      id: m.id,
      phaseId: 'monitor',
      title: m.id,
      severity: 'critical',
      line: 0,
      check: m.check as ProbeItem['check'],
      measurement: resolveMeasurement({}, checklist.spec.defaults),
    };
    return [{ id: m.id, item, criteria: m.criteria }];
  });
}

/**
 * Re-runs the checklist's monitor checks at one offset after the deploy, judges them against the
 * criteria (absolute, or relative to the pre-deploy run's own measurements) and posts the round
 * into the run's thread. The round's message is one part, so a retried job updates, never reposts.
 */
export async function processMonitor(data: MonitorJob, deps: WorkerDeps): Promise<void> {
  const { tenant, runId, offsetMs } = data;
  const { view, checklist } = await requireView(deps.store, tenant, runId, deps.now());
  const client = await deps.slack.forTenant(tenant);
  const writer = writerFor(deps, client, tenant, view);
  const parent = await deps.store.getMessage(tenant, runId, 'parent');
  const part = `monitor:${offsetMs}`;
  if (await isSuperseded(deps, tenant, runId, view.run.service)) {
    await writer.write(
      part,
      renderMonitor({ runId, service: view.run.service, offsetMs, lines: [], superseded: true }),
      parent?.ts,
    );
    return;
  }
  const checks = monitorItems(checklist);
  const probeChecklist: Checklist = {
    ...checklist,
    baseDir: deps.checklistsDir,
    phases: [{ id: 'monitor', title: 'Monitor', continueOnFailure: true, items: checks.map((c) => c.item) }],
  };
  const run = await runChecklist(probeChecklist, {
    env: deps.env,
    manualMode: 'skipped',
    ...(deps.dispatchers ? { dispatchers: deps.dispatchers } : {}),
  });
  const results = run.phases[0]?.items ?? [];
  const baselineOf = (m: (typeof checks)[number]) => {
    const ref = checklist.spec.monitors?.checks.find((c) => c.id === m.id)?.item;
    return ref ? view.phases.flatMap((p) => p.items).find((i) => i.key === ref)?.metrics : undefined;
  };
  const lines: MonitorLine[] = checks.map((m, i) => {
    const result = results[i]!;
    const verdict = judge(result, m.criteria, baselineOf(m));
    return { id: m.id, result, ok: verdict.ok, notes: verdict.notes };
  });
  const breached = lines.filter((l) => !l.ok).map((l) => l.id);
  await deps.store.fact(tenant, runId, part, undefined, {
    offsetMs,
    breached,
    lines: lines.map((l) => ({
      id: l.id,
      ok: l.ok,
      notes: l.notes,
      status: l.result.status,
      observed: l.result.observed,
      metrics: l.result.metrics ?? {},
    })),
  });
  await deps.store.record(
    tenant,
    runId,
    'deploy-check',
    breached.length ? 'monitor-breach' : 'monitor-ok',
    { offsetMs, breached },
    { once: part },
  );
  await writer.write(part, renderMonitor({ runId, service: view.run.service, offsetMs, lines }), parent?.ts);
}

export function offsetsFor(checklist: Checklist, override: string | undefined): number[] {
  const fromChecklist = checklist.spec.monitors?.at ?? [];
  if (!override) return [...fromChecklist];
  return override
    .split(',')
    .map((s) => parseDuration(s.trim()))
    .filter((n): n is number => n !== undefined);
}

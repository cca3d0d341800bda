import type { ChecklistSpec, CheckSpec, ItemSpec } from './schema.js';

/** How one item is measured, defaults resolved (durations in ms). */
export interface Measurement {
  timeoutMs?: number;
  retries: number;
  intervalMs: number;
  count: number;
  failureLimit: number;
  inconclusiveLimit: number;
}

interface ItemBase {
  /** "phase-id/item-id": unique in the checklist and stable across runs. */
  key: string;
  id: string;
  phaseId: string;
  title: string;
  severity: 'critical' | 'warning';
  /** Line of the item in its YAML file (for reports pointing back at the source). */
  line: number;
  measurement: Measurement;
}

export interface ProbeItem extends ItemBase {
  kind: 'probe';
  check: CheckSpec;
}

export interface ManualItem extends ItemBase {
  kind: 'manual';
  manual: NonNullable<ItemSpec['manual']>;
}

export type Item = ProbeItem | ManualItem;

export interface Phase {
  id: string;
  title: string;
  continueOnFailure: boolean;
  items: Item[];
}

/** A validated checklist: the spec as written plus its normalised phases. */
export interface Checklist {
  spec: ChecklistSpec;
  phases: Phase[];
  /** Variables after defaults and run-time overrides. */
  vars: Record<string, string>;
  file: string;
  /** Directory that relative paths in the checklist resolve from. */
  baseDir?: string;
  /** sha256 of the source text: runs record exactly which checklist they ran. */
  digest: string;
  source: string;
}

type MeasurementFields = Pick<
  ItemSpec,
  'timeout' | 'retries' | 'interval' | 'count' | 'failureLimit' | 'inconclusiveLimit'
>;

export function resolveMeasurement(
  item: MeasurementFields,
  defaults: ChecklistSpec['defaults'],
): Measurement {
  const timeoutMs = item.timeout ?? defaults.timeout;
  return {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    retries: item.retries ?? defaults.retries ?? 0,
    intervalMs: item.interval ?? defaults.interval ?? 1000,
    count: item.count ?? defaults.count ?? 1,
    failureLimit: item.failureLimit ?? defaults.failureLimit ?? 0,
    inconclusiveLimit: item.inconclusiveLimit ?? defaults.inconclusiveLimit ?? 0,
  };
}

import { z } from 'zod';

/** Every queue: its name and the zod schema of its payload. Processors re-parse `job.data` with it. */
const tenant = z.object({ teamId: z.string().min(1), enterpriseId: z.string().optional() });

export const runJob = {
  name: 'runs',
  payload: z.object({
    runId: z.string().regex(/^r-[a-z0-9]+$/),
    tenant,
    checklist: z.string().min(1),
    env: z.string().optional(),
    vars: z.record(z.string(), z.string()),
    channel: z.string().min(1),
    requester: z.string().min(1),
    /** Re-run of some phases (by button); absent for the first run. */
    rerun: z.object({ phases: z.array(z.string()).min(1), round: z.number().int().min(1) }).optional(),
  }),
} as const;
export type RunJob = z.infer<typeof runJob.payload>;

/** Re-render a run's thread after people acted (ticks, votes, cancel). Coalesced per run. */
export const threadJob = {
  name: 'thread',
  payload: z.object({ runId: z.string(), tenant, reason: z.string() }),
} as const;
export type ThreadJob = z.infer<typeof threadJob.payload>;

export const monitorJob = {
  name: 'monitors',
  payload: z.object({ runId: z.string(), tenant, offsetMs: z.number().int().min(0), deployId: z.string() }),
} as const;
export type MonitorJob = z.infer<typeof monitorJob.payload>;

export const rollbackJob = {
  name: 'rollback',
  payload: z.object({
    rollbackId: z.string().regex(/^rb-[a-z0-9]+$/),
    tenant,
    /**
     * What (re)started the playbook: `start`, or the fact that resumed it (`retry-<step>-<n>`,
     * `skip-<step>-<n>`, `confirm-<step>`, `abort`). It names the BullMQ job (rollbackJobId), so a
     * double click enqueues one job and the processor knows its own job id. Everything else
     * (service, checklist, channel, requester, target run) is in the rollback's document.
     */
    cause: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .default('start'),
  }),
} as const;
export type RollbackJob = z.infer<typeof rollbackJob.payload>;

export const queueNames = [runJob.name, threadJob.name, monitorJob.name, rollbackJob.name] as const;
export type QueueName = (typeof queueNames)[number];

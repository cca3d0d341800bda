import { z } from 'zod';
import { duration } from '../checks/duration.js';
import { checkDefinitions } from '../checks/registry.js';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case id of letters, digits and dashes (e.g. "jwt-secret")')
  .max(64);

/**
 * Who may act: Slack user ids (U…/W…), user-group ids (S…), or roles named in `roles:`.
 * A string shorthand is accepted: "U123", "S456", "role:security" or "@security" (a role).
 */
const principalObject = z
  .object({
    user: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, 'expected a Slack user id like U0123ABCD')
      .optional(),
    group: z
      .string()
      .regex(/^S[A-Z0-9]+$/, 'expected a Slack user-group id like S0123ABCD')
      .optional(),
    role: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (p) => [p.user, p.group, p.role].filter(Boolean).length === 1,
    'expected exactly one of user, group or role',
  );

export type Principal = { user: string } | { group: string } | { role: string };

export const principal = z
  .union([z.string().min(1), principalObject])
  .transform((v): Principal => {
    if (typeof v !== 'string')
      return (v.user ? { user: v.user } : v.group ? { group: v.group } : { role: v.role! }) as Principal;
    const s = v.trim();
    const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(s);
    if (mention) return { user: mention[1]! };
    const sub = /^<!subteam\^(S[A-Z0-9]+)(\|[^>]*)?>$/.exec(s);
    if (sub) return { group: sub[1]! };
    if (/^[UW][A-Z0-9]{6,}$/.test(s)) return { user: s };
    if (/^S[A-Z0-9]{6,}$/.test(s)) return { group: s };
    return { role: s.replace(/^role:/, '').replace(/^@/, '') };
  })
  .meta({
    description: 'A Slack user id (U…), user-group id (S…), or a role name ("@security" / "role:security").',
  });

const principals = z.union([principal, z.array(principal)]).transform((v) => (Array.isArray(v) ? v : [v]));

export const severity = z
  .enum(['critical', 'warning'])
  .meta({ description: 'critical blocks the run when it fails; warning does not.' });

/** How one item is measured and judged, after Argo Rollouts' analysis runs. */
const measurement = {
  timeout: duration
    .optional()
    .meta({ description: "Time allowed for one attempt (default: the probe type's own)." }),
  retries: z
    .number()
    .int()
    .min(0)
    .max(20)
    .optional()
    .meta({ description: 'Attempts repeated after an error (could not measure) before it counts.' }),
  interval: duration
    .optional()
    .meta({ description: 'Pause between retries and between measurements (default 1s).' }),
  count: z.number().int().min(1).max(100).optional().meta({ description: 'Measurements taken (default 1).' }),
  failureLimit: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Failed measurements tolerated before the item fails (default 0).' }),
  inconclusiveLimit: z
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: 'Errored measurements tolerated before the item is inconclusive (default 0).' }),
};

function checkVariants() {
  return checkDefinitions.map((d) =>
    d.params.extend({ type: z.literal(d.type).meta({ description: d.summary }) }),
  ) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]];
}

export const checkSpec = z.discriminatedUnion('type', checkVariants());

export const manualSpec = z
  .object({
    owner: principals.meta({ description: 'Who may tick this item done (one or several).' }),
    instructions: z
      .string()
      .optional()
      .meta({ description: 'What the owner must verify; shown next to the Done button.' }),
  })
  .strict();

export const itemSpec = z
  .object({
    id: id
      .optional()
      .meta({ description: 'Stable id, unique in its phase (default: derived from the title).' }),
    title: z.string().min(1).max(300),
    severity: severity.optional(),
    check: checkSpec.optional().meta({ description: 'An automated probe.' }),
    manual: manualSpec.optional().meta({ description: 'A manual item a person ticks.' }),
    ...measurement,
  })
  .strict()
  .superRefine((item, ctx) => {
    if (!item.check === !item.manual) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected exactly one of "check" (a probe) or "manual" (an owner ticks it)',
      });
    }
  });

export const phaseSpec = z
  .object({
    id: id,
    title: z.string().min(1).max(200),
    severity: severity.optional().meta({ description: 'Default severity of the items in this phase.' }),
    continueOnFailure: z
      .boolean()
      .optional()
      .meta({ description: 'Run later phases even when a critical item here fails.' }),
    items: z.array(itemSpec).min(1),
  })
  .strict();

const approvalGate = z
  .object({
    id: id.default('release'),
    title: z.string().optional(),
    required: z.number().int().min(1).max(20).default(1),
    roles: z
      .array(z.string())
      .default([])
      .meta({ description: 'Each role must be represented by at least one approver.' }),
    approvers: principals
      .optional()
      .meta({ description: 'Who may approve (default: members of the roles).' }),
    allowSelfApproval: z.boolean().default(false),
    expiresIn: duration.prefault('4h'),
  })
  .strict();

const roleSpec = z
  .object({
    users: z.array(z.string()).default([]),
    groups: z.array(z.string()).default([]),
    description: z.string().optional(),
  })
  .strict();

const monitorCheck = z
  .object({
    id: id,
    item: z.string().optional().meta({ description: 'Re-run an item of the checklist ("phase/item").' }),
    check: checkSpec.optional(),
    criteria: z
      .object({
        metric: z.string(),
        max: z.number().optional(),
        min: z.number().optional(),
        maxIncrease: z
          .number()
          .optional()
          .meta({ description: 'Relative to the baseline captured before the deploy: 0.1 = +10%.' }),
        maxDecrease: z.number().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const monitorsSpec = z
  .object({
    at: z.array(duration).prefault(['1h', '6h', '24h']),
    checks: z.array(monitorCheck).min(1),
  })
  .strict();

const stepBase = { id: id, title: z.string().optional(), timeout: duration.optional() };
/** An HTTP call a step makes (webhook, status page): only the default method differs. */
const httpStep = (method: string) => ({
  url: z.string(),
  method: z.string().default(method),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  expectStatus: z.array(z.number()).default([200, 201, 202, 204]),
});
const rollbackStep = z.discriminatedUnion('type', [
  z
    .object({
      ...stepBase,
      type: z.literal('webhook'),
      ...httpStep('POST'),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      type: z.literal('wait-for'),
      item: z.string().optional(),
      check: checkSpec.optional(),
      every: duration.prefault('10s'),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      type: z.literal('redis-delete'),
      url: z.string(),
      pattern: z.string().min(1),
      batch: z.number().int().min(1).max(10_000).default(500),
    })
    .strict(),
  z.object({ ...stepBase, type: z.literal('slack-notify'), channel: z.string(), text: z.string() }).strict(),
  z
    .object({
      ...stepBase,
      type: z.literal('statuspage'),
      ...httpStep('PATCH'),
    })
    .strict(),
  z
    .object({
      ...stepBase,
      type: z.literal('manual'),
      owner: principals,
      instructions: z.string().optional(),
    })
    .strict(),
  z.object({ ...stepBase, type: z.literal('postmortem'), channel: z.string().optional() }).strict(),
]);

const rollbackSpec = z
  .object({
    allowed: principals.meta({ description: 'Who may start the rollback.' }),
    steps: z.array(rollbackStep).min(1),
  })
  .strict();

const runSpec = z
  .object({
    allowed: principals,
  })
  .strict();

const varSpec = z.union([
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => ({
    default: String(v) as string | undefined,
    description: undefined as string | undefined,
  })),
  z
    .object({
      default: z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
      description: z.string().optional(),
    })
    .strict(),
]);

export const checklistSpec = z
  .object({
    version: z.literal(1).default(1),
    name: id.meta({ description: 'The name used in `/deploy-check run <name>`.' }),
    title: z.string().optional(),
    service: z
      .string()
      .min(1)
      .meta({ description: 'The service this checklist deploys (rollback and monitors are per service).' }),
    environments: z
      .array(z.string())
      .optional()
      .meta({ description: 'Environments this checklist accepts (e.g. staging, production).' }),
    channel: z.string().optional(),
    vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), varSpec).default({}),
    secrets: z
      .object({
        source: z.enum(['env', 'file']).default('env'),
        dir: z.string().optional(),
        prefix: z.string().default(''),
      })
      .strict()
      .default({ source: 'env', prefix: '' }),
    network: z
      .object({
        allowLinkLocal: z.boolean().default(false).meta({
          description:
            'Allow probes to reach 169.254.0.0/16 and fd00:ec2::254 (cloud metadata). Off by default.',
        }),
        caFile: z
          .string()
          .optional()
          .meta({ description: "An extra CA certificate (PEM file) to trust, e.g. a staging target's own." }),
        insecureTls: z.boolean().default(false),
      })
      .strict()
      .default({ allowLinkLocal: false, insecureTls: false }),
    defaults: z
      .object({ severity: severity.default('critical'), ...measurement })
      .strict()
      .default({ severity: 'critical' }),
    concurrency: z.number().int().min(1).max(64).default(4),
    stopOnCriticalFailure: z.boolean().default(true),
    roles: z.record(z.string(), roleSpec).default({}),
    run: runSpec.optional(),
    phases: z.array(phaseSpec).min(1),
    approvals: z.union([approvalGate, z.array(approvalGate)]).optional(),
    monitors: monitorsSpec.optional(),
    rollback: rollbackSpec.optional(),
  })
  .strict();

export type ChecklistSpec = z.output<typeof checklistSpec>;
export type PhaseSpec = z.output<typeof phaseSpec>;
export type ItemSpec = z.output<typeof itemSpec>;
/** A probe's params as written: validated by its own definition's schema, typed loosely here. */
export type CheckSpec = { type: string } & Record<string, unknown>;
export type RollbackStepSpec = z.output<typeof rollbackStep>;
export type ApprovalGateSpec = z.output<typeof approvalGate>;
export type MonitorsSpec = z.output<typeof monitorsSpec>;

/** JSON Schema of the checklist file (its input form), for editors' autocompletion. */
export function checklistJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(checklistSpec, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    title: 'deploy-check checklist',
    $id: 'https://deploy-check.dev/schema/checklist.json',
  };
}

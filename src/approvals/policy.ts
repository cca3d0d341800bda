import type { ApprovalGateSpec, ChecklistSpec, Principal } from '../checklist/schema.js';

/** What Slack told us about the person acting: their user id and user-group memberships. */
export interface Actor {
  userId: string;
  groups: ReadonlySet<string>;
}

export type Decision = { ok: true; roles: string[] } | { ok: false; rule: string };

/** Roles (from the checklist's `roles:`) the actor holds, directly or through a user group. */
export function rolesOf(actor: Actor, roles: ChecklistSpec['roles']): string[] {
  return Object.entries(roles)
    .filter(([, r]) => r.users.includes(actor.userId) || r.groups.some((g) => actor.groups.has(g)))
    .map(([name]) => name);
}

export function matchesPrincipal(actor: Actor, p: Principal, roles: ChecklistSpec['roles']): boolean {
  if ('user' in p) return p.user === actor.userId;
  if ('group' in p) return actor.groups.has(p.group);
  return rolesOf(actor, roles).includes(p.role);
}

export function describePrincipals(ps: readonly Principal[]): string {
  return ps
    .map((p) => ('user' in p ? `<@${p.user}>` : 'group' in p ? `<!subteam^${p.group}>` : `role ${p.role}`))
    .join(', ');
}

/** May this person tick a manual item with these owners? */
export function mayTick(actor: Actor, owners: readonly Principal[], roles: ChecklistSpec['roles']): Decision {
  if (owners.some((o) => matchesPrincipal(actor, o, roles)))
    return { ok: true, roles: rolesOf(actor, roles) };
  return { ok: false, rule: `only the item's owner may tick it (${describePrincipals(owners)})` };
}

/** May this person vote on the gate? Self-approval is refused unless the checklist allows it. */
export function mayApprove(
  actor: Actor,
  gate: ApprovalGateSpec,
  spec: Pick<ChecklistSpec, 'roles'>,
  requester: string,
): Decision {
  const roles = rolesOf(actor, spec.roles);
  if (!gate.allowSelfApproval && actor.userId === requester) {
    return {
      ok: false,
      rule: 'self-approval is off for this checklist: the requester cannot approve their own run',
    };
  }
  const listed = gate.approvers ?? [];
  const byList = listed.some((p) => matchesPrincipal(actor, p, spec.roles));
  const byRole = gate.roles.some((r) => roles.includes(r));
  if (listed.length === 0 && gate.roles.length === 0) return { ok: true, roles };
  if (byList || byRole) return { ok: true, roles };
  const who = [
    gate.roles.length ? `roles ${gate.roles.join(', ')}` : '',
    listed.length ? describePrincipals(listed) : '',
  ]
    .filter(Boolean)
    .join(' or ');
  return { ok: false, rule: `only ${who} may approve this run` };
}

export interface CountedVote {
  user: string;
  roles: string[];
}

export interface Quorum {
  met: boolean;
  approvals: number;
  required: number;
  /** Roles the gate requires that no approver holds yet. */
  missingRoles: string[];
}

/** Distinct approvers counted once each; every required role must be held by at least one of them. */
export function quorum(gate: ApprovalGateSpec, votes: readonly CountedVote[]): Quorum {
  const byUser = new Map<string, CountedVote>();
  for (const v of votes) if (!byUser.has(v.user)) byUser.set(v.user, v);
  const held = new Set([...byUser.values()].flatMap((v) => v.roles));
  const missingRoles = gate.roles.filter((r) => !held.has(r));
  return {
    met: byUser.size >= gate.required && missingRoles.length === 0,
    approvals: byUser.size,
    required: gate.required,
    missingRoles,
  };
}

export function gatesOf(spec: Pick<ChecklistSpec, 'approvals'>): ApprovalGateSpec[] {
  if (!spec.approvals) return [];
  return Array.isArray(spec.approvals) ? spec.approvals : [spec.approvals];
}

/**
 * Who may start a run and re-run its phases: the checklist's `run.allowed` when it sets one, else
 * anyone who can use the command where it is installed.
 */
export function mayRun(actor: Actor, spec: Pick<ChecklistSpec, 'roles' | 'run'>): Decision {
  const roles = rolesOf(actor, spec.roles);
  const allowed = spec.run?.allowed;
  if (!allowed || allowed.some((p) => matchesPrincipal(actor, p, spec.roles))) return { ok: true, roles };
  return { ok: false, rule: `only ${describePrincipals(allowed)} may start this checklist` };
}

/** The user groups `mayRun` needs to know the actor's membership of (none when only users are named). */
export function runGroups(spec: Pick<ChecklistSpec, 'roles' | 'run'>): string[] {
  return (spec.run?.allowed ?? []).flatMap((p) =>
    'group' in p ? [p.group] : 'role' in p ? (spec.roles[p.role]?.groups ?? []) : [],
  );
}

/** The requester, or anyone who may approve the checklist, may cancel it, mark it deployed or waive an item. */
export function mayManage(
  actor: Actor,
  spec: Pick<ChecklistSpec, 'roles' | 'approvals'>,
  requester: string,
): Decision {
  const roles = rolesOf(actor, spec.roles);
  if (actor.userId === requester) return { ok: true, roles };
  const gates = gatesOf(spec);
  if (gates.some((g) => mayApprove(actor, { ...g, allowSelfApproval: true }, spec, requester).ok))
    return { ok: true, roles };
  return { ok: false, rule: 'only the requester or an approver of this checklist may do that' };
}

/** Waivers lift a block, so only approvers may grant them (never the requester alone). */
export function mayWaive(
  actor: Actor,
  spec: Pick<ChecklistSpec, 'roles' | 'approvals'>,
  requester: string,
): Decision {
  const gates = gatesOf(spec);
  if (gates.length === 0)
    return { ok: false, rule: 'this checklist has no approvers, so nothing can be waived' };
  if (gates.some((g) => mayApprove(actor, g, spec, requester).ok))
    return { ok: true, roles: rolesOf(actor, spec.roles) };
  return { ok: false, rule: 'only an approver (not the requester) may waive an item' };
}

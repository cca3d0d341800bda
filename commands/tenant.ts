import type { Tenant } from '../src/store/run-store.js';

/** The workspace a signed request came from; every store query is scoped by it. */
export function tenantOf(body: {
  team_id?: string;
  enterprise_id?: string;
  team?: { id?: string } | null;
  enterprise?: { id?: string } | null;
  user?: { team_id?: string };
}): Tenant {
  const teamId = body.team_id ?? body.team?.id ?? body.user?.team_id;
  if (!teamId) throw new Error('request carries no team id');
  const enterpriseId = body.enterprise_id ?? body.enterprise?.id;
  return { teamId, ...(enterpriseId ? { enterpriseId } : {}) };
}

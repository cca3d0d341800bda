import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';

const CACHE_SECONDS = 60;

/**
 * Which user groups a person is in, for ownership and approval rules. usergroups.users.list is
 * Tier 2 (about 20/min), so members are cached in Redis for a minute, shared by every bot process.
 */
export class GroupResolver {
  constructor(
    private readonly redis: Redis | undefined,
    private readonly prefix: string,
  ) {}

  async groupsOf(
    client: WebClient,
    teamId: string,
    userId: string,
    candidates: readonly string[],
  ): Promise<Set<string>> {
    const member = new Set<string>();
    for (const group of new Set(candidates)) {
      const users = await this.members(client, teamId, group);
      if (users.includes(userId)) member.add(group);
    }
    return member;
  }

  private async members(client: WebClient, teamId: string, group: string): Promise<string[]> {
    const key = `${this.prefix}:usergroup:${teamId}:${group}`;
    const cached = await this.redis?.get(key).catch(() => null);
    if (cached) return JSON.parse(cached) as string[];
    let users: string[];
    try {
      const res = await client.usergroups.users.list({ usergroup: group });
      users = (res.users ?? []) as string[];
    } catch {
      // A group that no longer exists (or a missing scope) grants nothing; it must not break the click.
      return [];
    }
    await this.redis?.set(key, JSON.stringify(users), 'EX', CACHE_SECONDS).catch(() => undefined);
    return users;
  }
}

import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import type { Collection, Db } from 'mongodb';

interface InstallationDoc {
  _id: string;
  installation: Installation;
  updatedAt: Date;
}

/** Org-wide installs are keyed by enterprise, others by team (as Bolt's own stores do). */
function keyOf(q: {
  isEnterpriseInstall?: boolean;
  enterpriseId?: string | undefined;
  teamId?: string | undefined;
}): string {
  if (q.isEnterpriseInstall && q.enterpriseId) return `E:${q.enterpriseId}`;
  if (q.teamId) return `T:${q.teamId}`;
  throw new Error('installation query has neither a team nor an enterprise id');
}

/** Bolt's OAuth InstallationStore in MongoDB: multi-workspace mode. */
export class MongoInstallationStore implements InstallationStore {
  private readonly installations: Collection<InstallationDoc>;

  constructor(db: Db) {
    this.installations = db.collection('installations');
  }

  async storeInstallation<AuthVersion extends 'v1' | 'v2'>(
    installation: Installation<AuthVersion, boolean>,
  ): Promise<void> {
    const key = keyOf({
      isEnterpriseInstall: installation.isEnterpriseInstall,
      enterpriseId: installation.enterprise?.id,
      teamId: installation.team?.id,
    });
    // A re-install replaces the whole record (new token, new scopes): last writer wins by design.
    await this.installations.replaceOne(
      { _id: key },
      { installation: installation as Installation, updatedAt: new Date() },
      { upsert: true },
    );
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> {
    const doc = await this.installations.findOne({ _id: keyOf(query) });
    if (!doc) throw new Error(`no installation for ${keyOf(query)}`);
    return doc.installation;
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.installations.deleteOne({ _id: keyOf(query) });
  }
}

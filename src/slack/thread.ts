import { createHash } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { RunStore, Tenant } from '../store/run-store.js';

export interface Rendered {
  text: string;
  blocks: unknown[];
}

/** Every message we post carries this, so a worker that died between posting and recording can find its message again. */
const METADATA_EVENT = 'deploy_check_message';

function hashOf(r: Rendered): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 20);
}

/**
 * Writes one run's messages. A part (parent, phase:<id>, signoff) is posted once — claimed by a
 * unique insert first — and afterwards only updated, and only when its content changed.
 */
export class ThreadWriter {
  constructor(
    private readonly store: RunStore,
    private readonly client: WebClient,
    private readonly tenant: Tenant,
    private readonly runId: string,
    private readonly channel: string,
  ) {}

  /** Posts or updates a part; returns its ts. `threadTs` absent = the parent itself. */
  async write(part: string, rendered: Rendered, threadTs?: string): Promise<string> {
    const hash = hashOf(rendered);
    const existing = await this.store.getMessage(this.tenant, this.runId, part);
    if (existing?.ts) {
      if (existing.hash !== hash) {
        await this.client.chat.update({
          channel: existing.channel,
          ts: existing.ts,
          text: rendered.text,
          blocks: rendered.blocks as never,
        });
        await this.store.setMessageWritten(this.tenant, this.runId, part, { hash });
      }
      return existing.ts;
    }
    if (!existing) await this.store.claimMessage(this.tenant, this.runId, part, this.channel);
    // Claimed earlier but no ts recorded: that worker may have posted before dying. Look before posting.
    const found = existing ? await this.findPosted(part, threadTs) : undefined;
    if (found) {
      await this.client.chat.update({
        channel: this.channel,
        ts: found,
        text: rendered.text,
        blocks: rendered.blocks as never,
      });
      await this.store.setMessageWritten(this.tenant, this.runId, part, { ts: found, hash });
      return found;
    }
    const res = await this.client.chat.postMessage({
      channel: this.channel,
      text: rendered.text,
      blocks: rendered.blocks as never,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: METADATA_EVENT, event_payload: { run: this.runId, part } },
    });
    const ts = res.ts as string;
    await this.store.setMessageWritten(this.tenant, this.runId, part, { ts, hash });
    return ts;
  }

  /** Updates a part only if it was already posted (re-renders never create messages). */
  async updateIfPosted(part: string, rendered: Rendered): Promise<boolean> {
    const existing = await this.store.getMessage(this.tenant, this.runId, part);
    if (!existing?.ts) return false;
    await this.write(part, rendered);
    return true;
  }

  private async findPosted(part: string, threadTs?: string): Promise<string | undefined> {
    const res = threadTs
      ? await this.client.conversations.replies({
          channel: this.channel,
          ts: threadTs,
          include_all_metadata: true,
          limit: 200,
        })
      : await this.client.conversations.history({
          channel: this.channel,
          include_all_metadata: true,
          limit: 100,
        });
    const messages = (res.messages ?? []) as Array<{
      ts?: string;
      metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
    }>;
    const match = messages.find(
      (m) =>
        m.metadata?.event_type === METADATA_EVENT &&
        m.metadata.event_payload?.run === this.runId &&
        m.metadata.event_payload?.part === part,
    );
    return match?.ts;
  }
}

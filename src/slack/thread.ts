import { createHash } from 'node:crypto';
import { LogLevel, WebClient, ErrorCode as WebErrorCode } from '@slack/web-api';
import { DeployCheckError, ErrorCode } from '../errors.js';
import type { RunStore, Tenant } from '../store/run-store.js';

export interface Rendered {
  text: string;
  blocks: unknown[];
}

/** Every message we post carries this, so a worker that died between posting and recording can find its message again. */
const METADATA_EVENT = 'deploy_check_message';

/** Tries of one post (about 30 s of backoff, plus any Retry-After), before the job's own retry takes over. */
const POST_ATTEMPTS = 9;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

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

  private postClient: WebClient | undefined;

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
    // The claim is the right to post: a writer that lost it (another claimed between our read and
    // our insert, and is posting now) must not post too — that was a duplicate message. It fails
    // and is retried, by when the claimant has recorded the ts and this becomes an update.
    if (!existing && !(await this.store.claimMessage(this.tenant, this.runId, part, this.channel)))
      throw new DeployCheckError(
        ErrorCode.Conflict,
        `message ${part} of run ${this.runId} is being posted by another writer`,
      );
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
    const ts = await this.post(part, rendered, threadTs);
    await this.store.setMessageWritten(this.tenant, this.runId, part, { ts, hash });
    return ts;
  }

  /**
   * Posts a part, retrying without ever posting it twice. The WebClient's own retries re-send a
   * post after a 5xx or a dropped connection, but Slack may have posted it before the answer was
   * lost: that was a duplicate message per lost answer (the faults suites' `delivered` failures).
   * So posts go through a client that does not retry, and after an ambiguous failure this looks
   * for the message (by its metadata) before posting again. A 429 or an `ok: false` answer means
   * nothing was posted: wait and resend, or give up.
   */
  private async post(part: string, rendered: Rendered, threadTs?: string): Promise<string> {
    this.postClient ??= new WebClient(this.client.token, {
      slackApiUrl: this.client.slackApiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    });
    // Rate-limited sends are safe to repeat and have their own, larger budget.
    for (let attempt = 1, limited = 0; ; ) {
      try {
        const res = await this.postClient.chat.postMessage({
          channel: this.channel,
          text: rendered.text,
          blocks: rendered.blocks as never,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
          unfurl_media: false,
          metadata: { event_type: METADATA_EVENT, event_payload: { run: this.runId, part } },
        });
        return res.ts as string;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === WebErrorCode.RateLimitedError && limited++ < 60) {
          await sleep(1000 * ((err as { retryAfter?: number }).retryAfter ?? 1));
          continue;
        }
        if (code === WebErrorCode.PlatformError || attempt >= POST_ATTEMPTS) throw err;
        await sleep(Math.min(8000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
        attempt += 1;
        const found = await this.findPosted(part, threadTs);
        if (found) return found;
      }
    }
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

import { UnrecoverableError } from 'bullmq';
import { describeError, ErrorCode, isCoded } from '../src/errors.js';
import { type PlaybookHooks, runPlaybook } from '../src/rollback/engine.js';
import { rollbackJobId } from '../src/rollback/ids.js';
import type { RollbackView } from '../src/rollback/view.js';
import {
  renderPostmortem,
  renderRollbackNotice,
  renderRollbackParent,
  renderRollbackSteps,
} from '../src/slack/render/rollback.js';
import { ThreadWriter } from '../src/slack/thread.js';
import { rollbackStore } from '../src/store/rollback-store.js';
import type { RollbackJob } from './contracts.js';
import type { WorkerDeps } from './deps.js';

/**
 * Runs (or resumes) a rollback playbook and keeps its thread current: a parent message and one
 * steps message in its thread, each posted once and then updated in place (ThreadWriter).
 * Re-delivered after a worker died, it carries on from the first unfinished step (see
 * src/rollback/engine.ts for what is and is not repeated).
 */
export async function processRollback(data: RollbackJob, deps: WorkerDeps): Promise<void> {
  const { tenant, rollbackId } = data;
  const store = await rollbackStore(deps.store.db);
  const doc = await store.get(tenant, rollbackId);
  if (!doc) throw new UnrecoverableError(`no rollback ${rollbackId} in workspace ${tenant.teamId}`);
  const client = await deps.slack.forTenant(tenant);
  const thread = new ThreadWriter(deps.store, client, tenant, rollbackId, doc.channel);
  const writerFor = (channel: string) =>
    channel === doc.channel ? thread : new ThreadWriter(deps.store, client, tenant, rollbackId, channel);
  let parentTs: string | undefined;
  const writeParent = async (view: RollbackView) => {
    parentTs = await thread.write('parent', renderRollbackParent(view));
    return parentTs;
  };
  const hooks: PlaybookHooks = {
    async render(view) {
      const ts = await writeParent(view);
      await thread.write('steps', renderRollbackSteps(view), ts);
    },
    async notify(channel, text, stepId) {
      await writerFor(channel).write(`notify:${stepId}`, renderRollbackNotice(doc, text));
      return channel;
    },
    async postSummary(view, channel, stepId) {
      if (channel && channel !== doc.channel) {
        await writerFor(channel).write(`postmortem:${stepId}`, renderPostmortem(view));
        return channel;
      }
      await thread.write(
        `postmortem:${stepId}`,
        renderPostmortem(view),
        parentTs ?? (await writeParent(view)),
      );
      return 'the rollback thread';
    },
    audit: (actor, action, detail) =>
      deps.store.record(tenant, rollbackId, actor, action, { service: doc.service, ...detail }),
    warn: (message, err) => deps.log.warn({ rollbackId, err: describeError(err) }, message),
  };
  try {
    const { outcome, view } = await runPlaybook({
      store,
      tenant,
      rollbackId,
      jobId: rollbackJobId(rollbackId, data.cause),
      env: deps.env,
      hooks,
      now: deps.now,
    });
    deps.log.info({ rollbackId, cause: data.cause, outcome, status: view.status }, 'rollback job done');
  } catch (err) {
    // A playbook that no longer parses will not parse on retry either.
    if (
      isCoded(err, ErrorCode.ChecklistInvalid) ||
      isCoded(err, ErrorCode.ChecklistSyntax) ||
      isCoded(err, ErrorCode.NotFound)
    )
      throw new UnrecoverableError(err.message);
    throw err;
  }
}

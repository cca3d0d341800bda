/**
 * Issue 8, test 2: Redis stopped mid-run (SIGKILL) and started again on the same port over the
 * same append-only file. While it is down the bot still acks `/deploy-check run` at once and says
 * "queue unavailable, try again" (in the ack, or via response_url in the moment before the bot
 * has seen the connection drop) instead of hanging or pretending; afterwards
 * the interrupted run resumes and finishes, and the queue takes new runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/slack/render/actions.js';
import {
  driveRun,
  type FaultRig,
  keepLogsOnFailure,
  OWNER,
  REQUESTER,
  startRig,
  startRun,
  verifyRun,
} from '../helpers/fault-scenarios.js';
import { duplicateParts, ownRedis, partMessage, pause, type Restartable, textOf } from '../helpers/faults.js';
import { waitFor } from '../helpers/harness.js';
import { skipUnless } from '../helpers/services.js';

const skip = skipUnless('redis') || skipUnless('mongodb');

describe.skipIf(skip)('faults: Redis restarted mid-run', () => {
  let redis: Restartable;
  let rig: FaultRig;

  beforeAll(async () => {
    redis = await ownRedis();
    rig = await startRig({ workers: 1, env: { REDIS_URL: redis.url } });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
    await redis?.dispose();
  });

  it('refuses runs clearly while Redis is down, then the interrupted run resumes and finishes', async () => {
    const { h, db } = rig;
    keepLogsOnFailure(() => rig, 'redis-restart');
    const runId = await startRun(rig);
    await waitFor('the run to be mid-phase', async () =>
      (await db.collection('results').countDocuments({ runId })) > 0 ? true : undefined,
    );
    await redis.stop('SIGKILL');

    const sent = Date.now();
    const res = await h.slash(REQUESTER, `run faults-flow baseUrl=${rig.baseUrl}`);
    const ackMs = Date.now() - sent;
    expect(res.status).toBe(200);
    expect(ackMs).toBeLessThan(3000);
    // Once the bot has seen its Redis connection drop, the ack itself refuses; in the moment before,
    // it acks "Queued" and the refusal follows via response_url.
    const refusedInAck = /queue is unavailable.*try again/i.test(res.text);
    const refusedRun = /`(r-[a-z0-9]+)`/.exec(res.text)?.[1];
    if (!refusedInAck) {
      const refusal = await waitFor(
        'the "queue unavailable" answer',
        () =>
          h.slack.responses().find((r) => /queue is unavailable.*try again/i.test(JSON.stringify(r.body))),
        10_000,
      );
      expect(refusal.at - sent).toBeLessThan(3000);
    }
    // A second request, made when the bot surely knows, is refused in its ack.
    await waitFor('the bot to see Redis gone', async () => {
      const again = await h.slash(REQUESTER, `run faults-flow baseUrl=${rig.baseUrl}`);
      return /queue is unavailable.*try again/i.test(again.text) ? true : undefined;
    });

    // Down for longer than the job lock (JOB_LOCK_MS=2000), so the run's lock lapses meanwhile.
    await pause(3000);
    await redis.start();

    await driveRun(rig, runId, { timeoutMs: 90_000 });
    await verifyRun(rig, runId);
    // The refused request never turned into a run behind the user's back.
    if (refusedRun) expect(await db.collection('runs').countDocuments({ _id: refusedRun as never })).toBe(0);

    const after = await startRun(rig);
    await driveRun(rig, after, { timeoutMs: 60_000 });
    await verifyRun(rig, after);
    expect(duplicateParts(h.slack)).toEqual([]);
  }, 150_000);

  it('a tick refused with "queue unavailable" and made again once Redis is back is shown, and the run finishes', async () => {
    keepLogsOnFailure(() => rig, 'redis-restart-tick');
    const { h, db } = rig;
    const runId = await startRun(rig);
    // The run job is done; the run waits for the owner's tick.
    await waitFor('the run to await people', async () =>
      (await db.collection('facts').countDocuments({ runId, kind: 'probes-done' })) > 0 ? true : undefined,
    );
    const people = await waitFor('the Done button', () => {
      const m = partMessage(h.slack, runId, 'phase:people');
      return m && textOf(m).includes(ACTIONS.tick) ? m : undefined;
    });
    await redis.stop('SIGKILL');
    const before = h.slack.responses().length;
    expect((await h.click(OWNER, ACTIONS.tick, people)).status).toBe(200);
    await waitFor(
      'the "queue unavailable" answer to the tick',
      () =>
        h.slack
          .responses()
          .slice(before)
          .find((r) => /queue is unavailable.*try again/i.test(JSON.stringify(r.body))),
      10_000,
    );
    await redis.start();
    // As told, the owner tries again (in a moment, until the bot's queue connection is back): the
    // tick was recorded the first time, and now the thread must catch up with it.
    for (let answered = false; !answered; ) {
      const from = h.slack.responses().length;
      expect((await h.click(OWNER, ACTIONS.tick, people)).status).toBe(200);
      const answer = await waitFor('an answer to the retried tick', () => h.slack.responses()[from], 10_000);
      answered = !/queue is unavailable/.test(JSON.stringify(answer.body));
      if (!answered) await pause(1000);
    }
    await driveRun(rig, runId, { timeoutMs: 60_000 });
    await verifyRun(rig, runId);
    expect(duplicateParts(h.slack, [runId])).toEqual([]);
  }, 120_000);
});

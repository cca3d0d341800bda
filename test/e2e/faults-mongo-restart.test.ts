/**
 * Issue 8, test 4: the MongoDB-compatible server (FerretDB over SQLite, a data directory of the
 * suite's own) stopped mid-run and started again on the same port over the same data. Meanwhile
 * commands answer a clear error and change nothing; afterwards the interrupted run, and one
 * requested during the outage, finish — no run is left half-written.
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
import { duplicateParts, ownMongo, partMessage, type Restartable, textOf } from '../helpers/faults.js';
import { waitFor } from '../helpers/harness.js';
import { skipUnless } from '../helpers/services.js';

const skip = skipUnless('redis') || skipUnless('mongodb');
const UNAVAILABLE = /run store \(MongoDB\) is unavailable/;

describe.skipIf(skip)('faults: MongoDB-compatible server stopped mid-run', () => {
  let mongo: Restartable;
  let rig: FaultRig;

  beforeAll(async () => {
    mongo = await ownMongo();
    rig = await startRig({ workers: 1, env: { MONGODB_URI: mongo.url } });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
    await mongo?.dispose();
  });

  it('answers a clear error while it is down, changes nothing, and every run finishes once it is back', async () => {
    keepLogsOnFailure(() => rig, 'mongo-restart');
    const { h, db } = rig;
    const first = await startRun(rig);
    // Mid-run: the manual item is up, phase 3's probes are still running.
    const people = await waitFor('the Done button', () => {
      const m = partMessage(h.slack, first, 'phase:people');
      return m && textOf(m).includes(ACTIONS.tick) ? m : undefined;
    });
    // SIGKILL: a crash, so open connections die at once too (SIGTERM lets FerretDB drain them).
    await mongo.stop('SIGKILL');
    const outageStart = h.slack.responses().length;

    const sent = Date.now();
    const status = await h.slash(REQUESTER, 'status');
    expect(status.status).toBe(200);
    expect(Date.now() - sent).toBeLessThan(3000);
    // A tick while the store is down is refused with the same sentence, and records nothing.
    expect((await h.click(OWNER, ACTIONS.tick, people)).status).toBe(200);
    await waitFor(
      'two "store unavailable" answers',
      () =>
        h.slack
          .responses()
          .slice(outageStart)
          .filter((r) => UNAVAILABLE.test(JSON.stringify(r.body))).length >= 2 || undefined,
      20_000,
    );
    // A run requested meanwhile is accepted (the queue is up) and waits for the store.
    const second = await startRun(rig);

    await mongo.start();
    const restartedAt = new Date();
    expect(await db.collection('ticks').countDocuments({ runId: first })).toBe(0);
    await driveRun(rig, first, { timeoutMs: 90_000 });
    await driveRun(rig, second, { timeoutMs: 90_000 });
    for (const id of [first, second]) await verifyRun(rig, id);
    // The outage did cut the first run mid-phase: its probes finished only after the restart.
    const probesDone = await db.collection('facts').findOne({ _id: `${first}|probes-done` as never });
    expect(probesDone?.at.getTime()).toBeGreaterThan(restartedAt.getTime());
    expect(duplicateParts(h.slack)).toEqual([]);
    // Nothing else was half-created: exactly these two runs exist.
    expect((await db.collection('runs').find({}).toArray()).map((r) => r._id).sort()).toEqual(
      [first, second].sort(),
    );

    const after = h.slack.responses().length;
    await h.slash(REQUESTER, 'status');
    const answer = await waitFor('a status answer', () => h.slack.responses().slice(after)[0], 10_000);
    expect(JSON.stringify(answer.body)).not.toMatch(UNAVAILABLE);
    expect(JSON.stringify(answer.body)).toContain(second);
  }, 150_000);
});

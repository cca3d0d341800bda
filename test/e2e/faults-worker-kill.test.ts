/**
 * Issue 8, tests 1 (short version; the 20-kill version is test/soak/faults-worker-kill.test.ts):
 * worker processes SIGKILLed at random moments while runs go through probes, a manual tick,
 * approvals and the sign-off. Every run must finish, each message be posted once, and no tick or
 * vote be lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultRig,
  keepLogsOnFailure,
  startRig,
  verifyRun,
  workerKills,
} from '../helpers/fault-scenarios.js';
import { duplicateParts } from '../helpers/faults.js';
import { skipUnless } from '../helpers/services.js';

const skip = skipUnless('redis') || skipUnless('mongodb');
const SEED = Number(process.env.DC_FAULTS_SEED ?? Date.now() % 100_000);

describe.skipIf(skip)('faults: worker killed mid-run', () => {
  let rig: FaultRig;

  beforeAll(async () => {
    rig = await startRig({ workers: 2 });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it(`4 SIGKILLs at random points (seed ${SEED}): every run finishes, nothing duplicated or lost`, async () => {
    keepLogsOnFailure(() => rig, `worker-kill-${SEED}`);
    const { runIds, kills, killsDuringRuns } = await workerKills(rig, {
      kills: 4,
      inFlight: 2,
      seed: SEED,
      maxGapMs: 2500,
    });
    expect(kills).toBe(4);
    expect(killsDuringRuns).toBe(4);
    expect(duplicateParts(rig.h.slack)).toEqual([]);
    for (const id of runIds) await verifyRun(rig, id);
  }, 150_000);
});

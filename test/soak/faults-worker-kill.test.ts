/**
 * Issue 8, test 1 at full size: 20 SIGKILLs of worker processes at random points while runs go
 * through probes, a manual tick, approvals and the sign-off. Every run must finish, each message
 * be posted once, and no tick or vote be lost. (A 4-kill version runs in the normal suite.)
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

describe.skipIf(skip)('soak: worker killed mid-run, 20 times', () => {
  let rig: FaultRig;

  beforeAll(async () => {
    rig = await startRig({ workers: 2 });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it(`20 SIGKILLs at random points (seed ${SEED}): every run finishes, nothing duplicated or lost`, async () => {
    keepLogsOnFailure(() => rig, `worker-kill-${SEED}`);
    const { runIds, kills, killsDuringRuns } = await workerKills(rig, {
      kills: 20,
      inFlight: 3,
      seed: SEED,
      maxGapMs: 3000,
    });
    expect(kills).toBe(20);
    expect(killsDuringRuns).toBe(20);
    expect(duplicateParts(rig.h.slack)).toEqual([]);
    for (const id of runIds) await verifyRun(rig, id);
    console.log(`worker-kill soak: ${runIds.length} runs, ${kills} kills, seed ${SEED}`);
  }, 540_000);
});

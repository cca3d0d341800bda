/**
 * Issue 8, test 3 at full length: the Slack API answers every call with 429 (Retry-After 1) or 500
 * for 30 s while three runs go through probes, a tick, approvals and the sign-off. Afterwards every
 * message is there, none twice, and each shows its last state. (A 10 s version runs in the normal suite.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultRig,
  keepLogsOnFailure,
  runsThroughStorm,
  startRig,
  verifyRun,
} from '../helpers/fault-scenarios.js';
import { duplicateParts } from '../helpers/faults.js';
import { skipUnless } from '../helpers/services.js';

const skip = skipUnless('redis') || skipUnless('mongodb');

describe.skipIf(skip)('soak: Slack API storm, 30 s', () => {
  let rig: FaultRig;

  beforeAll(async () => {
    // The production retry policy (SLACK_RETRIES default 10), not the harness's short one.
    rig = await startRig({ workers: 2, env: { SLACK_RETRIES: '10' } });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('429 and 500 for 30 s: every message delivered afterwards, none duplicated, each in its last state', async () => {
    keepLogsOnFailure(() => rig, 'soak-slack-storm');
    const started = Date.now();
    const ids = await runsThroughStorm(rig, { runs: 3, stormMs: 30_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(30_000);
    expect(rig.h.slack.failures().length).toBeGreaterThan(0);
    expect(duplicateParts(rig.h.slack, ids)).toEqual([]);
    for (const id of ids) await verifyRun(rig, id);
  }, 300_000);
});

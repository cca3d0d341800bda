/**
 * Issue 8, test 3 (10 s here; 30 s in test/soak/faults-slack-storm.test.ts): the Slack API answers
 * every call with 429 (Retry-After 1) or 500 while runs go through probes, a tick, approvals and the
 * sign-off. Afterwards every message is there, none twice, and each shows its last state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  driveRun,
  type FaultRig,
  keepLogsOnFailure,
  runsThroughStorm,
  startRig,
  startRun,
  verifyRun,
} from '../helpers/fault-scenarios.js';
import { duplicateParts } from '../helpers/faults.js';
import { skipUnless } from '../helpers/services.js';

const skip = skipUnless('redis') || skipUnless('mongodb');

describe.skipIf(skip)('faults: Slack API storm', () => {
  let rig: FaultRig;

  beforeAll(async () => {
    // The production retry policy (SLACK_RETRIES default 10, about 30 s of backoff), not the harness's short one.
    rig = await startRig({ workers: 1, env: { SLACK_RETRIES: process.env.DC_FAULTS_SLACK_RETRIES ?? '10' } });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
  });

  it('429 and 500 for 10 s: every message delivered afterwards, none duplicated, each in its last state', async () => {
    keepLogsOnFailure(() => rig, 'slack-storm');
    const ids = await runsThroughStorm(rig, { runs: 2, stormMs: 10_000 });
    const failures = rig.h.slack.failures();
    expect(
      failures.filter((f) => f.method === 'chat.postMessage' || f.method === 'chat.update').length,
    ).toBeGreaterThan(0);
    expect(failures.some((f) => f.mode === 500)).toBe(true);
    expect(
      failures.some((f) => typeof f.mode === 'object' && 'status' in f.mode && f.mode.status === 429),
    ).toBe(true);
    expect(duplicateParts(rig.h.slack, ids)).toEqual([]);
    for (const id of ids) await verifyRun(rig, id);
  }, 150_000);

  it('lost responses (Slack posted the message, the client saw a 500): no message posted twice', async () => {
    keepLogsOnFailure(() => rig, 'slack-lost-responses');
    const { h } = rig;
    // The next 6 chat.postMessage and 6 chat.update calls are processed by Slack but answered with a
    // 500, as when Slack's edge fails after the write: the client cannot tell it was posted.
    for (let i = 0; i < 6; i++) {
      h.slack.failNext(1, { status: 500, delivered: true }, { method: 'chat.postMessage' });
      h.slack.failNext(1, { status: 500, delivered: true }, { method: 'chat.update' });
    }
    const ids = [await startRun(rig)];
    await driveRun(rig, ids[0]!, { timeoutMs: 90_000 });
    expect(h.slack.failures().filter((f) => f.delivered).length).toBeGreaterThan(0);
    expect(duplicateParts(h.slack, ids)).toEqual([]);
    for (const id of ids) await verifyRun(rig, id);
  }, 120_000);
});

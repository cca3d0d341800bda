/**
 * Issue 8, tests 1 (short version; the 20-kill version is test/soak/faults-worker-kill.test.ts):
 * worker processes SIGKILLed at random moments while runs go through probes, a manual tick,
 * approvals and the sign-off. Every run must finish, each message be posted once, and no tick or
 * vote be lost.
 */
import { describeWorkerKills } from '../helpers/fault-scenarios.js';

describeWorkerKills({
  title: 'faults: worker killed mid-run',
  kills: 4,
  inFlight: 2,
  maxGapMs: 2500,
  timeoutMs: 150_000,
});

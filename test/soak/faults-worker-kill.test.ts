/**
 * Issue 8, test 1 at full size: 20 SIGKILLs of worker processes at random points while runs go
 * through probes, a manual tick, approvals and the sign-off. Every run must finish, each message
 * be posted once, and no tick or vote be lost. (A 4-kill version runs in the normal suite.)
 */
import { describeWorkerKills } from '../helpers/fault-scenarios.js';

describeWorkerKills({
  title: 'soak: worker killed mid-run, 20 times',
  kills: 20,
  inFlight: 3,
  maxGapMs: 3000,
  timeoutMs: 540_000,
});

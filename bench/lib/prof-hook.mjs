// `node --import tsx --import ./bench/lib/prof-hook.mjs …` in a child forked by a benchmark:
// starts and stops V8's CPU profiler when the parent asks over IPC, so a profile covers one load
// phase only (not start-up, warm-up or the other phases).
//   parent → child  { prof: 'start' }               → child answers { profStarted: true }
//   parent → child  { prof: 'stop', file: '/x.cpuprofile' } → child writes it, answers { profWritten: file }
// Used only by bench/ack-path.ts --profile; the product never loads it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const session = new Session();
session.connect();
const interval = Number(process.env.BENCH_PROF_INTERVAL_US ?? 250);

process.on('message', (m) => {
  if (!m || typeof m !== 'object' || !('prof' in m)) return;
  void (async () => {
    if (m.prof === 'start') {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval });
      await session.post('Profiler.start');
      process.send?.({ profStarted: true });
    } else if (m.prof === 'stop') {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(m.file, JSON.stringify(profile));
      await session.post('Profiler.disable');
      process.send?.({ profWritten: m.file });
    }
  })();
});

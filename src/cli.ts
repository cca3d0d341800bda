#!/usr/bin/env node
import module from 'node:module';
import { createInterface } from 'node:readline/promises';

// Compiled modules are cached on disk between runs: start-up is most of a short CLI run.
module.enableCompileCache?.();
const { main } = await import('./cli/main.js');

const controller = new AbortController();
// The first Ctrl-C cancels the run (reports are still written); a second one exits at once.
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

const useColor = (stream: NodeJS.WriteStream) => Boolean(stream.isTTY) && !process.env.NO_COLOR;

process.exitCode = await main(process.argv.slice(2), {
  stdout: {
    write: (t) => process.stdout.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    color: useColor(process.stdout),
  },
  stderr: {
    write: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    color: useColor(process.stderr),
  },
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
  ...(process.stdin.isTTY ? { ask } : {}),
});

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

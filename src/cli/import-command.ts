import type { CliIO } from './shared.js';

export async function importCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('import: not wired yet\n');
  return 2;
}

export async function initCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('init: not wired yet\n');
  return 2;
}

import type { CommandModule } from 'yargs';
import type { Io } from '../cli.js';

/** `nestsim gsb`: placeholder until the codec lands (issue 2). */
export function gsbCommand(_io: Io, _setExit: (code: number) => void): CommandModule {
  return { command: 'gsb', describe: 'Inspect guest state buffers', handler: () => {} };
}

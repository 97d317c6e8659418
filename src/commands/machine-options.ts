/**
 * The options that say what machine a run is on, the same for `run`, `exec` and `stress`:
 * simulated cores, the deterministic mode, the nested API.
 */
import type { Argv } from 'yargs';

/** The flags, as yargs hands them over. */
export interface MachineArgs {
  cores?: number;
  deterministic?: boolean;
  api?: 'v1' | 'v2';
}

/** Adds --cores, --deterministic and --api; `from` names what gives the defaults when they are absent. */
export function machineOptions<T>(y: Argv<T>, from: string): Argv<T & MachineArgs> {
  return y
    .option('cores', {
      type: 'number',
      describe: `simulated cores, one worker thread each (default: ${from})`,
    })
    .option('deterministic', {
      type: 'boolean',
      describe: 'one thread, seeded interleaving: the reference mode, which replays a run exactly',
    })
    .option('api', {
      choices: ['v1', 'v2'] as const,
      describe:
        'the nested API L1 uses: v2 (H_GUEST_*, state kept by L0) or v1 (H_ENTER_NESTED, shadow tables)',
    }) as unknown as Argv<T & MachineArgs>;
}

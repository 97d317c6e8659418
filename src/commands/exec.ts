/**
 * `nestsim exec <elf>`: runs a static ppc64le ELF as an L2 guest (or several copies, each with
 * several vCPUs) under the L1 model on L0. The guest's console goes to stdout byte for byte, the
 * exit code is the guest's (guest 1's with --guests; 1 when a guest failed or was stopped), and a
 * summary goes to stderr, or everything as one JSON object on stdout with --json.
 */
import os from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { readElfFile } from '../../cores/elf.js';
import type { Paging } from '../../hypervisor/l1/address-space.js';
import type { L1Guest } from '../../hypervisor/l1/guest.js';
import { NestedApi } from '../../hypervisor/l1/loop-table.js';
import type { Io } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';
import { createSimulation } from '../multicore.js';
import { guestEndText, runStats, statsText } from '../report.js';
import {
  finishTrace,
  startTrace,
  type TraceArgs,
  type TraceWritten,
  traceNote,
  traceOptions,
} from '../trace/session.js';
import { parseCount, parseSize } from '../units.js';
import { type MachineArgs, machineOptions } from './machine-options.js';
import { progressBar } from './progress.js';

interface ExecArgs extends TraceArgs, MachineArgs {
  elf: string;
  vcpus: number;
  guests: number;
  memory: string;
  'guest-memory': string;
  seed?: number;
  'max-instructions': string;
  paging: Paging;
  json: boolean;
}

/** `nestsim exec`. */
export function execCommand(io: Io, setExit: (code: number) => void): CommandModule<object, ExecArgs> {
  return {
    command: 'exec <elf>',
    describe: 'Run a static ppc64le ELF as an L2 guest under the L1 model',
    builder: (y: Argv) =>
      machineOptions(traceOptions(y), "the host's")
        .positional('elf', {
          type: 'string',
          demandOption: true,
          describe: 'static ppc64le ELFv2 executable',
        })
        .option('vcpus', { type: 'number', default: 1, describe: 'vCPUs per guest (r3 = index, r4 = count)' })
        .option('guests', { type: 'number', default: 1, describe: 'copies of the guest' })
        .option('memory', { type: 'string', default: '512MiB', describe: 'L1 memory' })
        .option('guest-memory', {
          type: 'string',
          default: '64MiB',
          describe: 'most memory L1 gives each guest',
        })
        .option('seed', { type: 'number', describe: 'seed of the scheduler (default: round robin)' })
        .option('max-instructions', {
          type: 'string',
          default: '1e10',
          describe: 'stop unfinished guests after this many',
        })
        .option('paging', {
          choices: ['eager', 'demand'] as const,
          default: 'demand' as const,
          describe: 'how L1 maps guest memory',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print one JSON report on stdout',
        }) as unknown as Argv<ExecArgs>,
    handler: async (a) => {
      setExit(await runExec(io, a));
    },
  };
}

async function runExec(io: Io, a: ExecArgs): Promise<number> {
  const vcpus = parseCount('--vcpus', a.vcpus);
  const guests = parseCount('--guests', a.guests);
  if (vcpus > 256)
    throw new UserError('--vcpus', `${vcpus} is more than the 256 vCPUs L1 supports per guest`);
  if (guests > 1000) throw new UserError('--guests', `${guests} is more than 1000`);
  const cores = a.cores === undefined ? os.availableParallelism() : parseCount('--cores', a.cores);
  if (cores > 256) throw new UserError('--cores', `${cores} is more than 256`);
  const l1Memory = parseSize('--memory', a.memory);
  if (l1Memory > 4 * 1024 ** 3) throw new UserError('--memory', 'L1 memory is at most 4GiB');
  const guestMemory = parseSize('--guest-memory', a['guest-memory']);
  const maxInstructions = parseCount('--max-instructions', Number(a['max-instructions']));
  const image = readElfFile(a.elf);
  if (a.seed !== undefined && !Number.isSafeInteger(a.seed))
    throw new UserError('--seed', 'must be an integer');

  const sim = createSimulation(
    {
      l1MemoryBytes: l1Memory,
      seed: a.seed,
      maxInstructions,
      api: a.api === 'v1' ? NestedApi.V1 : NestedApi.V2,
    },
    { deterministic: a.deterministic ?? false, cores },
  );
  const session = startTrace(sim, a);
  const made: L1Guest[] = [];
  for (let k = 0; k < guests; k++) {
    const g = sim.addGuest({
      name: `guest${k + 1}`,
      image,
      vcpus,
      memoryBytes: guestMemory,
      paging: a.paging,
    });
    if (!a.json)
      g.onConsole = (fd, bytes) => (fd === 2 ? io.err : io.out)(Buffer.from(bytes).toString('latin1'));
    made.push(g);
  }
  const bar = a.json ? undefined : progressBar(io, maxInstructions);
  let summary: Awaited<ReturnType<typeof sim.run>>;
  let trace: TraceWritten | undefined;
  try {
    summary = await sim.run(bar?.update);
  } finally {
    bar?.stop();
    trace = finishTrace(session, sim);
  }
  const stats = runStats(sim, summary);
  const first = made[0]!;
  const failed = made.filter((g) => g.end.kind !== 'exited');
  // A crashed core or a broken invariant is a nestsim bug: never an exit code of 0.
  const broken = stats.crashes.length + stats.violations.length > 0;
  const guestCode = first.end.kind === 'exited' ? first.end.code : 1;
  const exitCode = failed.length > 0 || (broken && guestCode === 0) ? ExitCode.CHECK_FAILED : guestCode;
  if (a.json) {
    io.out(
      `${JSON.stringify({
        ok: failed.length === 0 && !broken,
        exitCode,
        guests: made.map((g) => ({
          id: g.id,
          name: g.name,
          vcpus: g.vcpus,
          end: g.end,
          stdout: g.stdoutBytes().toString('latin1'),
          stderr: Buffer.concat(g.stderr).toString('latin1'),
        })),
        stats,
        ...(trace ? { trace: trace.path, notes: [traceNote(trace)] } : {}),
      })}\n`,
    );
  } else {
    for (const g of failed) io.err(`nestsim: ${g.name}: ${guestEndText(g)}\n`);
    io.err(statsText(stats));
    if (trace) io.err(`${traceNote(trace)}\n`);
  }
  return exitCode;
}

/**
 * The `nestsim` command line. Each command lives in src/commands/ and registers itself here.
 * Invoked from: bin/nestsim.js (and tests, which call main() or spawn the binary).
 */
import yargs from 'yargs';
import { benchCommand } from './commands/bench.js';
import { execCommand } from './commands/exec.js';
import { gsbCommand } from './commands/gsb.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { stressCommand } from './commands/stress.js';
import { ExitCode, UserError } from './errors.js';

/** Output sinks, replaceable in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<Buffer>;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  },
};

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const parser = yargs(argv)
    .scriptName('nestsim')
    .usage('$0 <command> [options]\n\nSimulates PAPR nested virtualization (L0/L1/L2) on IBM POWER.')
    .command(gsbCommand(io, setExit))
    .command(execCommand(io, setExit))
    .command(runCommand(io, setExit))
    .command(stressCommand(io, setExit))
    .command(benchCommand(io, setExit))
    .command(reportCommand(io, setExit))
    .demandCommand(1, 'Name a command (see the list above).')
    .strict()
    .recommendCommands()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own parse errors (YError) are the user's mistakes too; anything else is a bug.
      if (err && err.name !== 'YError') throw err;
      throw new UserError('', msg ?? err?.message ?? 'bad arguments');
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`nestsim: ${e.message}\n`);
      return ExitCode.USAGE;
    }
    io.err(`nestsim: internal error (a bug in nestsim, please report it): ${(e as Error)?.stack ?? e}\n`);
    return ExitCode.INTERNAL;
  }
  return exitCode;
}

/** The nestsim CLI run in-process, as the tests drive it: what it printed and its exit code. */
import { main } from '../src/cli.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs `nestsim ...args` with `stdin` as its standard input. */
export async function runCli(args: readonly string[], stdin = ''): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main([...args], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    readStdin: async () => Buffer.from(stdin),
  });
  return { code, out, err };
}

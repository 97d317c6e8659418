/**
 * The committed guest programs (guests/bin/<prog>-<cpu>-<opt>.elf, built by guests/Makefile) and
 * what qemu-ppc64le printed for each when they were built (guests/expected/<prog>.out, .err, .exit;
 * the Makefile checks that all six variants of a program agree before it writes them).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Root of guests/. */
export const GUESTS_DIR = join(import.meta.dirname, '..', '..', 'guests');

/** One committed ELF. */
export interface GuestElf {
  /** File name without directory, e.g. "sort-power9-O2.elf". */
  readonly file: string;
  readonly path: string;
  /** Program name, e.g. "sort". */
  readonly prog: string;
  /** -mcpu it was built for ("power8" | "power9"), which is also the qemu -cpu to run it on. */
  readonly cpu: string;
  readonly opt: string;
}

/** What a program must print and return (identical for all its variants). */
export interface Expected {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Every committed ELF, sorted by file name. */
export function guestElfs(): GuestElf[] {
  const bin = join(GUESTS_DIR, 'bin');
  return readdirSync(bin)
    .filter((f) => f.endsWith('.elf'))
    .sort()
    .map((file) => {
      const m = /^(.+)-(power\d+)-(O\w+)\.elf$/.exec(file);
      if (!m) throw new Error(`guests/bin/${file}: name is not <prog>-<cpu>-<opt>.elf`);
      return { file, path: join(bin, file), prog: m[1]!, cpu: m[2]!, opt: m[3]! };
    });
}

/** The recorded qemu output of program `prog` (latin1 strings, like the harness's). */
export function expectedOf(prog: string): Expected {
  const base = join(GUESTS_DIR, 'expected', prog);
  const text = (ext: string) => (existsSync(base + ext) ? readFileSync(base + ext).toString('latin1') : '');
  return {
    stdout: text('.out'),
    stderr: text('.err'),
    exitCode: Number.parseInt(readFileSync(`${base}.exit`, 'utf8').trim(), 10),
  };
}

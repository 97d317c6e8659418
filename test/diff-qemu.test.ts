/**
 * Differential tests: every committed guest ELF (guests/bin) runs as an L2 under nestsim twice —
 * on a bare core through the guest firmware and the hcall path (test/support/l2-harness.ts), and
 * as a user runs it, `nestsim exec <elf> --json` (L1 model, L0 hcalls, demand paging) — and both
 * must print the same stdout and stderr bytes and exit with the same code as
 *   1. the output qemu-ppc64le gave when the ELFs were built (guests/expected; always runs), and
 *   2. qemu-ppc64le run now, with -cpu matching the ELF's -mcpu. Without qemu-ppc64le this part is
 *      skipped with a printed reason, unless NESTSIM_REQUIRE_TOOLS=1 (CI), where it fails.
 * ELFs in `knownFailing` are asserted to STILL differ, so that fixing one forces its removal.
 */

import { describe, expect, it } from 'vitest';
import { runCli } from './cli-harness.js';
import { type Expected, expectedOf, type GuestElf, guestElfs } from './support/guests.js';
import { type GuestResult, runGuestFile } from './support/l2-harness.js';
import { spawnSync } from './support/spawn.js';

/**
 * ELFs (file names in guests/bin) that nestsim does not yet run like qemu, each with the reason.
 * Empty: every variant of every program matches.
 */
const knownFailing: Readonly<Record<string, string>> = {};

const REQUIRE_TOOLS = process.env.NESTSIM_REQUIRE_TOOLS === '1';
/** The qemu user-mode binary; NESTSIM_QEMU may name another one. */
const QEMU = process.env.NESTSIM_QEMU ?? 'qemu-ppc64le';
const elfs = guestElfs();

/** nestsim's run of each ELF, shared by both comparisons (each ELF runs once per test file). */
const runs = new Map<string, GuestResult>();
function nestsim(elf: GuestElf): GuestResult {
  let r = runs.get(elf.file);
  if (!r) {
    r = runGuestFile(elf.path);
    runs.set(elf.file, r);
  }
  return r;
}

/** `nestsim exec <elf> --json` in-process: what a user sees (console bytes and exit code). */
async function viaExec(elf: GuestElf): Promise<Expected & { ended: string }> {
  const { code, out, err } = await runCli(['exec', elf.path, '--json']);
  if (err !== '') return { stdout: '', stderr: err, exitCode: code, ended: 'nestsim error' };
  const report = JSON.parse(out) as { guests: { stdout: string; stderr: string; end: { kind: string } }[] };
  const g = report.guests[0]!;
  return {
    stdout: g.stdout,
    stderr: g.stderr,
    exitCode: code,
    ended: g.end.kind === 'exited' ? 'exit' : JSON.stringify(g.end),
  };
}

/** The observable behaviour that must match, with how the run ended for readable failures. */
function observed(r: GuestResult): Expected & { ended: string } {
  return {
    stdout: r.stdout,
    stderr: r.stderr,
    exitCode: r.exitCode ?? -1,
    ended: r.crash ? `crash: ${r.crash.text}` : (r.failure ?? 'exit'),
  };
}

/** Asserts equality, or for a known-failing ELF that it still differs. */
function compare(elf: GuestElf, got: GuestResult, want: Expected): void {
  const o = observed(got);
  const same = o.stdout === want.stdout && o.stderr === want.stderr && o.exitCode === want.exitCode;
  if (elf.file in knownFailing) {
    expect(same, `${elf.file} now matches: remove it from knownFailing`).toBe(false);
    return;
  }
  expect(o).toEqual({ ...want, ended: 'exit' });
  expect(got.unknownSyscalls).toEqual([]);
}

describe('nestsim matches the qemu output recorded at build time', () => {
  it.each(elfs)('$file', (elf) => {
    compare(elf, nestsim(elf), expectedOf(elf.prog));
  });

  it.each(elfs)('nestsim exec $file', async (elf) => {
    expect(await viaExec(elf)).toEqual({ ...expectedOf(elf.prog), ended: 'exit' });
  });

  it('knownFailing names only committed ELFs', () => {
    const files = new Set(elfs.map((e) => e.file));
    for (const f of Object.keys(knownFailing)) expect(files.has(f), f).toBe(true);
  });

  it('covers every program in every variant', () => {
    const progs = new Set(elfs.map((e) => e.prog));
    expect(progs.size).toBeGreaterThanOrEqual(7);
    expect(elfs.length).toBe(progs.size * 6);
  });
});

const qemuVersion = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
const haveQemu = qemuVersion.status === 0;
if (!haveQemu && !REQUIRE_TOOLS)
  console.warn(
    `diff-qemu: ${QEMU} not found; comparison with a live qemu skipped (set up qemu-user to run it)`,
  );

describe.runIf(haveQemu)(`nestsim matches ${QEMU} run now`, () => {
  it.each(elfs)('$file', async (elf) => {
    const q = spawnSync(QEMU, ['-cpu', elf.cpu, elf.path], { timeout: 60_000 });
    expect(q.error, `${QEMU} did not run`).toBeUndefined();
    expect(q.signal, `${QEMU} was killed`).toBeNull();
    const want: Expected = {
      stdout: q.stdout.toString('latin1'),
      stderr: q.stderr.toString('latin1'),
      exitCode: q.status ?? -1,
    };
    compare(elf, nestsim(elf), want);
    expect(await viaExec(elf)).toEqual({ ...want, ended: 'exit' });
  });
});

describe.runIf(!haveQemu && REQUIRE_TOOLS)(`${QEMU} is required`, () => {
  it(`NESTSIM_REQUIRE_TOOLS=1 but ${QEMU} is missing`, () => {
    expect.fail(
      `${QEMU} not found (${qemuVersion.error?.message ?? `exit ${qemuVersion.status}`}); install qemu-user`,
    );
  });
});

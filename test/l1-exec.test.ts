/**
 * The L1 model end to end (deterministic mode): SMP guests with an exact shared counter under
 * seeded interleavings, demand paging vs eager loading, nothing of L1's memory leaked, and the
 * `nestsim exec` binary as a user runs it.
 */

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readElfFile } from '../cores/elf.js';
import { Simulation } from '../src/simulation.js';
import { GUESTS_DIR } from './support/guests.js';
import { spawnSync } from './support/spawn.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'nestsim.js');
const elf = (name: string) => join(GUESTS_DIR, 'bin', name);

function sim(seed: number | undefined, slice = 1_000_000) {
  return new Simulation({ l1MemoryBytes: 64 << 20, seed, maxInstructions: 1e9, sliceInstructions: slice });
}

describe('SMP guests', () => {
  // Slices of a few hundred instructions interleave the vCPUs' larx/stcx. loops on the one core:
  // a reservation that survived a vCPU switch would lose increments.
  it.each([1, 2, 3, 4, 5])(
    '4 vCPUs on one shared counter lose no increment (seed %i, short slices)',
    (seed) => {
      const s = sim(seed, 300 + seed * 37);
      const g = s.addGuest({
        name: 'smp',
        image: readElfFile(elf('smp-counter-power9-O2.elf')),
        vcpus: 4,
        memoryBytes: 16 << 20,
        paging: 'demand',
      });
      const r = s.run();
      expect(r.completed).toBe(true);
      expect(g.end).toEqual({ kind: 'exited', code: 0 });
      expect(g.stdoutBytes().toString()).toBe(
        'smp-counter: 4 vCPUs x 20000 increments = 80000 (expected 80000)\n',
      );
      expect(s.l0.stats.exits.get(0)! > 100).toBe(true); // the slices really interleaved the vCPUs
    },
  );

  it('the same seed gives the same run, instruction for instruction', () => {
    const run = (seed: number) => {
      const s = sim(seed, 500);
      s.addGuest({
        name: 'a',
        image: readElfFile(elf('smp-counter-power8-O0.elf')),
        vcpus: 3,
        memoryBytes: 16 << 20,
        paging: 'demand',
      });
      s.addGuest({
        name: 'b',
        image: readElfFile(elf('sort-power9-O2.elf')),
        vcpus: 1,
        memoryBytes: 16 << 20,
        paging: 'eager',
      });
      s.run();
      return JSON.stringify(s.l0.stats.toJSON());
    };
    expect(run(11)).toBe(run(11));
    expect(run(11)).not.toBe(run(12));
  });
});

describe('paging modes', () => {
  it.each(['sort-power9-O2.elf', 'hash-power8-O0.elf', 'strings-power9-Os.elf'])(
    '%s: demand paging and eager loading give identical results',
    (file) => {
      const out = (paging: 'eager' | 'demand') => {
        const s = sim(undefined);
        const g = s.addGuest({
          name: 'g',
          image: readElfFile(elf(file)),
          vcpus: 1,
          memoryBytes: 16 << 20,
          paging,
        });
        const r = s.run();
        const faults = (s.l0.stats.exits.get(0xe00) ?? 0) + (s.l0.stats.exits.get(0xe20) ?? 0);
        return {
          stdout: g.stdoutBytes().toString('latin1'),
          end: g.end,
          instructions: r.instructions,
          faults,
        };
      };
      const eager = out('eager');
      const demand = out('demand');
      expect(demand.stdout).toBe(eager.stdout);
      expect(demand.end).toEqual(eager.end);
      expect(demand.instructions).toBe(eager.instructions);
      expect(eager.faults).toBe(0);
      expect(demand.faults).toBeGreaterThan(2);
    },
  );

  it('a guest that runs out of its memory ends with a clear report', () => {
    const s = sim(undefined);
    const g = s.addGuest({
      name: 'small',
      image: readElfFile(elf('sieve-power9-O2.elf')),
      vcpus: 1,
      memoryBytes: 5 * 4096,
      paging: 'demand',
    });
    s.run();
    expect(g.end.kind).toBe('failed');
    expect(JSON.stringify(g.end)).toMatch(/guest memory limit reached/);
  });

  it('guests come and go without leaking L1 memory', () => {
    const s = sim(1);
    const before = s.l1.pages.inUse;
    for (let k = 0; k < 5; k++)
      s.addGuest({
        name: `g${k}`,
        image: readElfFile(elf('arith-power9-O2.elf')),
        vcpus: 2,
        memoryBytes: 16 << 20,
        paging: k % 2 ? 'eager' : 'demand',
      });
    expect(s.l1.pages.inUse).toBeGreaterThan(before);
    s.run();
    expect(s.l1.guests.every((g) => g.deleted)).toBe(true);
    expect(s.l1.pages.inUse).toBe(before);
  });
});

describe('nestsim exec, the built binary', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args], { encoding: 'latin1', timeout: 60_000 });

  it('prints the guest console on stdout, the summary on stderr, and exits with the guest code', () => {
    const r = run('exec', elf('switch-power9-O2.elf'));
    expect(r.status).toBe(42);
    expect(r.stdout.length).toBeGreaterThan(100);
    expect(r.stderr).toMatch(/instructions [\d,]+ in [\d.]+ s wall/);
    expect(r.stderr).toMatch(/exits: .*hcall/);
  });

  it('--json prints one object with the console as a field', () => {
    const r = run('exec', elf('smp-counter-power9-O2.elf'), '--vcpus', '3', '--seed', '9', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.guests[0].stdout).toBe('smp-counter: 3 vCPUs x 20000 increments = 60000 (expected 60000)\n');
    expect(j.stats.instructions).toBeGreaterThan(60_000);
    expect(j.stats.hcalls.H_GUEST_RUN_VCPU.H_SUCCESS).toBeGreaterThan(3);
  });

  it.each([
    [['exec', '/nonexistent.elf'], /nonexistent\.elf/],
    [['exec', BIN], /not an ELF/],
    [['exec', elf('sort-power9-O2.elf'), '--memory', 'lots'], /--memory: 'lots' is not a size/],
    [['exec', elf('sort-power9-O2.elf'), '--vcpus', '0'], /--vcpus/],
  ])('bad input %j: one clear line, exit code 2', (args, msg) => {
    const r = run(...(args as string[]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(msg as RegExp);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

/**
 * The committed guest programs under the v1 API, through the L1 model's own vCPU loop
 * (test/support/v1-l1.ts: AddressSpace, L1VcpuLoop over V1Vcpu, V1PartitionTable): every ELF gives
 * qemu-ppc64le's stdout and exit code, SMP programs their exact totals on 4 vCPUs, and a program
 * sees the same exits to L1 under v1 as under v2 (src/simulation.ts).
 */
import { describe, expect, it } from 'vitest';
import { readElfFile } from '../cores/elf.js';
import { Vector } from '../hypervisor/papr.js';
import { Simulation } from '../src/simulation.js';
import { expectedOf, guestElfs } from './support/guests.js';
import { runV1Guest } from './support/v1-l1.js';

describe('every committed ELF under v1 gives qemu’s output and exit code', () => {
  for (const g of guestElfs()) {
    it(g.file, () => {
      const { guest } = runV1Guest(readElfFile(g.path));
      const want = expectedOf(g.prog);
      expect(guest.end).toEqual({ kind: 'exited', code: want.exitCode });
      expect(guest.stdoutBytes().toString('latin1')).toBe(want.stdout);
    });
  }
});

describe('SMP programs on 4 vCPUs under v1, with short L0 slices interleaving them', () => {
  it.each([
    ['smp-counter-power9-O2.elf', 'smp-counter: 4 vCPUs x 20000 increments = 80000 (expected 80000)\n'],
    [
      'smp-spinlock-power8-O0.elf',
      'smp-spinlock: 4 vCPUs x 5000: locked 20000, pair 20000/20000, torn 0, lock-free 20000 (expected 20000)\n',
    ],
  ])('%s', (file, out) => {
    const elf = guestElfs().find((g) => g.file === file)!;
    const { guest, l0 } = runV1Guest(readElfFile(elf.path), { vcpus: 4, slice: 700 });
    expect(guest.end).toEqual({ kind: 'exited', code: 0 });
    expect(guest.stdoutBytes().toString('latin1')).toBe(out);
    expect(l0.stats.exits.get(Vector.STOPPED)! > 100).toBe(true); // the slices really interleaved them
  });
});

describe('v1 and v2 on the same program', () => {
  it.each(['demand', 'eager'] as const)('the same exits to L1 (%s paging)', (paging) => {
    const elf = guestElfs().find((g) => g.file === 'sort-power9-O2.elf')!;
    const image = readElfFile(elf.path);
    const v1 = runV1Guest(image, { paging });
    const s = new Simulation({ l1MemoryBytes: 64 << 20, maxInstructions: 1e9, sliceInstructions: 50_000 });
    const v2 = s.addGuest({ name: 'sort', image, vcpus: 1, memoryBytes: 32 << 20, paging });
    s.run();
    expect(v1.guest.stdoutBytes()).toEqual(v2.stdoutBytes());
    // Every exit but L0's slice ends (whose count depends on how long entries last).
    const real = (m: Map<number, number>) =>
      [...m].filter(([v]) => v !== Vector.STOPPED).sort(([a], [b]) => a - b);
    expect(real(v1.guest.exits)).toEqual(real(v2.exits));
    expect(v1.l0.stats.shadowFaults.fixed).toBeGreaterThan(0);
  });
});

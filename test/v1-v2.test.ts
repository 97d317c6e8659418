/**
 * The L1 model on either nested API (hypervisor/l1/l1.ts `api`): every committed guest ELF runs
 * under v1 on the multicore runtime with qemu's results, v1 and v2 give identical guest results
 * instruction for instruction, and a v1 L1 deletes guests without leaking L0's v1 state. The L0
 * side of v1 is tested in test/l0-v1-*.test.ts; the stale-translation check under v1 is in
 * test/multicore.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { readElfFile } from '../cores/elf.js';
import { NestedApi } from '../hypervisor/l1/loop-table.js';
import { MulticoreSimulation } from '../src/multicore.js';
import { Simulation, type SimulationBase } from '../src/simulation.js';
import { expectedOf, guestElfs } from './support/guests.js';

const elfs = guestElfs();

describe('the L1 model under nested v1', () => {
  it(`every committed ELF (${elfs.length}) matches qemu-ppc64le's output under v1 on 2 cores`, async () => {
    const sim = new MulticoreSimulation({
      l1MemoryBytes: 1 << 30,
      maxInstructions: 2e10,
      sliceInstructions: 200_000,
      seed: 2,
      cores: 2,
      api: NestedApi.V1,
    });
    const base = sim.l1.pages.inUse;
    const guests = elfs.map((e) => ({
      e,
      g: sim.addGuest({
        name: e.file,
        image: readElfFile(e.path),
        vcpus: 1,
        memoryBytes: 16 << 20,
        paging: 'demand',
      }),
    }));
    await sim.run();
    for (const { e, g } of guests) {
      const want = expectedOf(e.prog);
      expect(g.end, e.file).toEqual({ kind: 'exited', code: want.exitCode });
      expect(g.stdoutBytes().toString('latin1'), e.file).toBe(want.stdout);
    }
    expect(sim.crashes).toEqual([]);
    expect(sim.l1.pages.inUse).toBe(base);
    expect(sim.l0Holdings()).toEqual({ guests: 0, vcpus: 0, shadowBytes: 0 });
  });

  it('v1 and v2 give identical results, instruction for instruction (deterministic mode)', () => {
    const progs = [
      'sort-power9-O2',
      'hash-power8-Os',
      'switch-power9-O0',
      'smp-counter-power9-O2',
      'smp-spinlock-power8-O2',
    ];
    const run = (api: NestedApi) => {
      const sim: SimulationBase = new Simulation({
        l1MemoryBytes: 256 << 20,
        maxInstructions: 2e9,
        sliceInstructions: 10_000,
        seed: 9,
        api,
      });
      const gs = progs.map((p) =>
        sim.addGuest({
          name: p,
          image: readElfFile(elfs.find((e) => e.file === `${p}.elf`)!.path),
          vcpus: p.startsWith('smp') ? 3 : 1,
          memoryBytes: 16 << 20,
          paging: 'demand',
        }),
      );
      sim.run();
      const perGuest = gs.map((g) => ({
        name: g.name,
        end: g.end,
        stdout: g.stdoutBytes().toString('latin1'),
        exits: [...g.exits].sort((a, b) => a[0] - b[0]),
        l2hcalls: [...g.l2hcalls].sort((a, b) => a[0] - b[0]),
      }));
      return { perGuest, instructions: sim.l0.stats.instructions };
    };
    const v2 = run(NestedApi.V2);
    const v1 = run(NestedApi.V1);
    expect(v1).toEqual(v2);
    for (const r of v2.perGuest) expect(r.end.kind).toBe('exited');
  });
});

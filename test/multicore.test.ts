/**
 * The multicore runtime with real core worker threads (src/multicore.ts, cores/core-runtime.ts):
 * exact SMP counters and spinlocks on 2 and 4 cores, no stale translation after an invalidation
 * returned while vCPUs on several cores read the page, delete while running, a core that crashes
 * or dies, and the same results as the deterministic mode for race-free programs.
 *
 * Workers run the compiled dist/ (npm test builds first). Every test has a deadline (vitest's
 * testTimeout) so a hang fails instead of blocking CI.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ElfImage, readElfFile } from '../cores/elf.js';
import { Hdr } from '../hypervisor/l0/partitions.js';
import type { L1Guest } from '../hypervisor/l1/guest.js';
import { NestedApi } from '../hypervisor/l1/loop-table.js';
import { asL1RA } from '../mem/types.js';
import { type MulticoreOptions, MulticoreSimulation } from '../src/multicore.js';
import { foreverImage, watcherImage } from '../src/programs.js';
import { SHIPPED_GUESTS } from '../src/scenario/load.js';
import { Simulation, type SimulationBase } from '../src/simulation.js';

const elf = (name: string) => readElfFile(`${SHIPPED_GUESTS}/${name}.elf`);

function multicore(o: Partial<MulticoreOptions> & { cores: number }): MulticoreSimulation {
  return new MulticoreSimulation({
    l1MemoryBytes: 128 << 20,
    maxInstructions: 2e8,
    sliceInstructions: 5000,
    ...o,
  });
}

function add(
  sim: SimulationBase,
  name: string,
  image: ElfImage,
  vcpus = 1,
  paging: 'demand' | 'eager' = 'demand',
) {
  return sim.addGuest({ name, image, vcpus, memoryBytes: 16 << 20, paging });
}

const out = (g: L1Guest) => g.stdoutBytes().toString('latin1');

/** Nothing of a finished run is left: L1 frames, L0 guests and vCPU slots, worker threads. */
function expectNothingLeft(sim: MulticoreSimulation, baselinePages: number): void {
  expect(sim.l1.pages.inUse, 'L1 frames in use').toBe(baselinePages);
  expect(sim.l0.parts.w[Hdr.ACTIVE_GUESTS], 'L0 guests').toBe(0);
  expect(sim.l0.parts.w[Hdr.ACTIVE_VCPUS], 'L0 vCPU slots').toBe(0);
  expect(sim.l0Holdings(), 'L0 v1 state').toEqual({ guests: 0, vcpus: 0, shadowBytes: 0 });
  expect(sim.threadsAlive, 'worker threads alive').toBe(0);
}

describe('SMP guests on real cores', () => {
  for (const cores of [2, 4])
    it(`a 4-vCPU ldarx/stdcx. counter and a lwarx/stwcx. spinlock are exact on ${cores} cores`, async () => {
      for (const seed of [1, 2]) {
        const sim = multicore({ cores, seed, scheduleEvery: 50_000 });
        const base = sim.l1.pages.inUse;
        const counter = add(sim, 'counter', elf('smp-counter-power9-O2'), 4);
        const lock = add(sim, 'lock', elf('smp-spinlock-power8-O2'), 4);
        await sim.run();
        expect(counter.end).toEqual({ kind: 'exited', code: 0 });
        expect(out(counter)).toBe('smp-counter: 4 vCPUs x 20000 increments = 80000 (expected 80000)\n');
        expect(lock.end).toEqual({ kind: 'exited', code: 0 });
        expect(out(lock)).toBe(
          'smp-spinlock: 4 vCPUs x 5000: locked 20000, pair 20000/20000, torn 0, lock-free 20000 (expected 20000)\n',
        );
        // Really on every core at once, and moved between them.
        const busy = sim.coreActivity().filter((c) => c.instructions > 0);
        expect(busy.length).toBe(cores);
        expect(sim.migrations).toBeGreaterThan(0);
        expect(sim.crashes).toEqual([]);
        expectNothingLeft(sim, base);
      }
    });
});

/** The reader program's pages (real mode: EA = L2 real address). */
const WATCHED = 0x20_0000;
const FLAG = 0x20_1000;
/** What an old frame holds once the page has left it; a valid value is never this. */
const POISON = 0x0bad;
const STALE_EXIT = 99;

const readerImage = () =>
  watcherImage({ watched: WATCHED, flag: FLAG, poison: POISON, staleExit: STALE_EXIT });

describe('TLB invalidation broadcast', () => {
  // v2: H_RPT_INVALIDATE (NESTED); v1: H_TLB_INVALIDATE, and L0's shadow tables in between.
  it.each([
    ['v2', NestedApi.V2],
    ['v1', NestedApi.V1],
  ] as const)(
    '%s: once the invalidation returned, no core reads the frame a page left',
    async (_name, api) => {
      const sim = multicore({ cores: 2, seed: 7, scheduleEvery: 20_000, maxInstructions: 5e9, api });
      const base = sim.l1.pages.inUse;
      const g = add(sim, 'readers', readerImage(), 3, 'eager');
      const ram = sim.ram;
      const REMAPS = 150;
      let remaps = 0;
      let remapsWhileAllRan = 0;
      const old: number[] = [];
      const timer = setInterval(() => {
        // Start once the readers run on every core (starting the workers takes a while, longer on
        // a loaded host), so the page moves under all of them.
        if (g.finished || [0, 1].some((k) => sim.control.instructions(k) < 20_000)) return;
        if (remaps < REMAPS) {
          const { oldFrame } = sim.l1.remapPage(g, WATCHED);
          // The invalidation has returned: no core may reach the old frame any more.
          ram.write32le(asL1RA(oldFrame), POISON);
          old.push(oldFrame);
          remaps++;
          if (g.loops.every((l) => !l.done)) remapsWhileAllRan++;
        } else {
          ram.write32le(asL1RA(g.space.frameOf(FLAG)!), 1);
        }
      }, 1);
      try {
        await sim.run();
      } finally {
        clearInterval(timer);
      }
      // What the run did, in every failure message: a flaky failure must say which way it went.
      const run = JSON.stringify({
        end: g.end,
        codes: [...g.vcpuCodes],
        remaps,
        remapsWhileAllRan,
        perCore: sim.coreActivity().map((c) => c.instructions),
        migrations: sim.migrations,
        ackWaits: sim.l0.stats.ackWaits,
        crashes: sim.crashes,
      });
      expect(g.end, run).toEqual({ kind: 'exited', code: 0 });
      expect([...g.vcpuCodes.values()], run).toEqual([0, 0, 0]);
      expect(remapsWhileAllRan, run).toBeGreaterThanOrEqual(REMAPS - 1);
      // The readers were running on both cores while the page moved, and some moved cores.
      expect(
        sim.coreActivity().every((c) => c.instructions > 20_000),
        run,
      ).toBe(true);
      expect(sim.migrations, run).toBeGreaterThan(0);
      // The cores running the guest really had to acknowledge (not just the generation bump).
      expect(sim.l0.stats.ackWaits, run).toBeGreaterThan(0);
      expect(sim.l0.stats.violations, run).toEqual([]);
      expectNothingLeft(sim, base);
    },
  );
});

describe('guest lifecycle on cores', () => {
  it('delete while its vCPUs run: they stop, the guest is gone, the others go on, nothing is left', async () => {
    const sim = multicore({ cores: 2, seed: 3 });
    const base = sim.l1.pages.inUse;
    const forever = add(sim, 'forever', foreverImage(), 3);
    const sort = add(sim, 'sort', elf('sort-power9-O2'));
    let runningAtDelete = -1;
    const timer = setInterval(() => {
      // Once the cores run it, delete it while a core holds one of its vCPUs.
      if (forever.deleted || sim.instructions < 200_000) return;
      let running = 0;
      for (let v = 0; v < 3; v++)
        if (sim.l0.parts.holderOf(sim.l0.parts.slotOf(forever.id, v)) >= 0) running++;
      if (running === 0) return;
      runningAtDelete = running;
      sim.deleteGuest(forever);
    }, 1);
    await sim.run();
    clearInterval(timer);
    expect(runningAtDelete).toBeGreaterThan(0);
    expect(forever.end).toEqual({ kind: 'stopped', reason: 'deleted by L1 while running' });
    expect(forever.deleted).toBe(true);
    expect(sort.end).toEqual({ kind: 'exited', code: 0 });
    expect(out(sort)).toBe(readExpected('sort'));
    expect(sim.crashes).toEqual([]);
    expectNothingLeft(sim, base);
  });

  for (const how of ['throw', 'exit'] as const)
    it(`a core that crashes (${how}) fails the run it was in, names core, guest, vCPU and NIA; the rest completes`, async () => {
      const sim = multicore({ cores: 2, seed: 5, crash: { core: 1, afterSteps: 20, how } });
      const base = sim.l1.pages.inUse;
      const progs = ['sort-power9-O2', 'hash-power8-O2', 'sieve-power9-Os', 'strings-power9-O2'];
      const guests = progs.map((p) => add(sim, p, elf(p)));
      await sim.run();
      expect(sim.crashes.length).toBe(1);
      expect(sim.crashes[0]).toMatch(/core 1/);
      const failed = guests.filter((g) => g.end.kind === 'failed');
      expect(failed.length).toBe(1);
      const f = failed[0]!;
      const report = f.end.kind === 'failed' ? f.end.report : '';
      expect(report).toMatch(
        new RegExp(`core 1 crashed while running it: .*guest ${f.id} vCPU 0, NIA 0x[0-9a-f]{16}`),
      );
      if (how === 'throw') expect(report).toMatch(/injected crash/);
      // Every other guest ran to its end on the surviving core, with its exact output.
      for (const g of guests) {
        if (g === f) continue;
        expect(g.end.kind).toBe('exited');
        expect(out(g)).toBe(readExpected(g.name.split('-')[0]!));
      }
      expectNothingLeft(sim, base);
    });
});

/** What qemu-ppc64le printed for a program (guests/expected). */
function readExpected(prog: string): string {
  return readFileSync(`${SHIPPED_GUESTS}/../expected/${prog}.out`, 'latin1');
}

describe('deterministic mode vs multicore runtime', () => {
  it('race-free programs give identical output, exit codes and instruction counts', async () => {
    const progs = [
      'arith-power8-O2',
      'muldiv-power9-O0',
      'sort-power9-Os',
      'switch-power8-O2',
      'hash-power9-O2',
      'sieve-power8-Os',
      'strings-power9-O2',
    ];
    const results = [];
    for (const mode of ['deterministic', 'multicore'] as const) {
      const opts = { l1MemoryBytes: 256 << 20, maxInstructions: 2e9, sliceInstructions: 20_000, seed: 11 };
      const sim =
        mode === 'deterministic' ? new Simulation(opts) : new MulticoreSimulation({ ...opts, cores: 2 });
      const gs = progs.map((p) => add(sim, p, elf(p)));
      await sim.run();
      results.push(
        gs.map((g) => ({
          name: g.name,
          end: g.end,
          stdout: out(g),
          instructions: sim.l0.stats.vcpus.get(g.id * 4096)?.instructions,
        })),
      );
    }
    expect(results[1]).toEqual(results[0]);
    for (const r of results[0]!) expect(r.end.kind).toBe('exited');
  });
});

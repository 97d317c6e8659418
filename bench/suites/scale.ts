/**
 * How the multicore runtime scales: aggregate guest MIPS on 1..N cores (N = the host's cores, at
 * least 2) for independent vCPUs (single-vCPU guests running a compute loop with loads and stores,
 * src/programs.ts) and for contended ones (one guest whose vCPUs fight over a lwarx/stwcx.
 * spinlock and an ldarx/stdcx. counter), the scaling efficiency MIPS(n) / (n · MIPS(1)), and the
 * L2 exits per second per core
 * for an L2 that does nothing but hcalls L1 answers (the exit path must stay on the core: target
 * 200,000/s per core). Rates count wall time from the moment every core worker has started (their
 * start-up, reported apart, is a fixed cost of a run, not throughput).
 */
import os from 'node:os';
import type { ElfImage } from '../../cores/elf.js';
import { Vector } from '../../hypervisor/papr.js';
import { MulticoreSimulation } from '../../src/multicore.js';
import { computeLoopImage, contentionLoopImage } from '../../src/programs.js';
import { perRun, runsFor } from '../stats.js';
import { syscallLoop } from '../support/programs.js';
import type { BenchMetric, BenchSuite, SuiteContext } from '../types.js';

const SUITE = 'scale';

interface RunOutcome {
  /** Guest instructions per second over the run after start-up, in millions. */
  mips: number;
  /** Exits of `vector` per second and per core, after start-up. */
  exitsPerCore: number;
  startupSeconds: number;
}

async function runOnce(
  cores: number,
  guests: { image: ElfImage; vcpus: number }[],
  vector: number,
): Promise<RunOutcome> {
  const sim = new MulticoreSimulation({
    l1MemoryBytes: 512 << 20,
    maxInstructions: 1e12,
    sliceInstructions: 200_000,
    seed: 1,
    cores,
  });
  for (const [k, g] of guests.entries())
    sim.addGuest({ name: `g${k}`, image: g.image, vcpus: g.vcpus, memoryBytes: 32 << 20, paging: 'eager' });
  const t0 = performance.now();
  const r = await sim.run();
  const seconds = (performance.now() - t0) / 1000 - sim.startupSeconds;
  // The workloads exit with codes of their own (hash: 38); any end but an exit is a failure.
  for (const g of sim.l1.guests)
    if (g.end.kind !== 'exited') throw new Error(`bench scale: guest ${g.name} ${JSON.stringify(g.end)}`);
  const exits = sim.l0.stats.exits.get(vector) ?? 0;
  return {
    mips: r.instructions / seconds / 1e6,
    exitsPerCore: exits / seconds / cores,
    startupSeconds: sim.startupSeconds,
  };
}

/** Counted runs of `fn` after one warm-up run. */
async function measure(ctx: SuiteContext, fn: () => Promise<RunOutcome>): Promise<RunOutcome[]> {
  const runs = runsFor(ctx, 1, 3);
  await fn();
  const out: RunOutcome[] = [];
  for (let k = 0; k < runs; k++) out.push(await fn());
  return out;
}

export const suite: BenchSuite = {
  name: SUITE,
  describe:
    'multicore runtime: aggregate MIPS on 1..N cores (independent and contended vCPUs), scaling efficiency, hcall exits/s per core',
  async run(ctx) {
    const maxCores = Math.max(2, os.availableParallelism());
    const coreCounts = ctx.quick ? [1, 2] : Array.from({ length: maxCores }, (_, k) => k + 1);
    const perCoreGuests = 2;
    const trips = ctx.quick ? 100_000 : 2_000_000;
    const compute = computeLoopImage(trips);
    const lock = contentionLoopImage(ctx.quick ? 5_000 : 100_000);
    const out: BenchMetric[] = [];
    const cases = [
      {
        key: 'independent',
        note: `${perCoreGuests} single-vCPU guests per core, each ${trips} trips of a 12-instruction compute loop with a load and a store, eager paging, 200,000-instruction time slices`,
        guests: (c: number) =>
          Array.from({ length: perCoreGuests * c }, () => ({ image: compute, vcpus: 1 })),
      },
      {
        key: 'contended',
        note: 'one guest with 2 vCPUs per core in a contention loop (lwarx/stwcx. spinlock around a counter, ldarx/stdcx. counter; spinners cede after 64 tries)',
        guests: (c: number) => [{ image: lock, vcpus: 2 * c }],
      },
    ];
    const runs = runsFor(ctx, 1, 5);
    for (const cs of cases) {
      ctx.measuring(`${cs.key} vCPUs on ${coreCounts.join(', ')} cores`);
      // Round k runs every core count once, back to back, so that the host's noise in that
      // moment falls on every point alike; efficiency is taken within a round.
      const byCores = new Map<number, RunOutcome[]>(coreCounts.map((c) => [c, []]));
      for (const c of coreCounts) await runOnce(c, cs.guests(c), Vector.SYSTEM_CALL); // warm-up
      for (let k = 0; k < runs; k++)
        for (const c of coreCounts) byCores.get(c)!.push(await runOnce(c, cs.guests(c), Vector.SYSTEM_CALL));
      const one = byCores.get(1)!;
      for (const c of coreCounts) {
        const rs = byCores.get(c)!;
        out.push(
          perRun(
            {
              suite: SUITE,
              name: `${cs.key} vCPUs, ${c} core${c > 1 ? 's' : ''}: aggregate MIPS`,
              unit: 'MIPS',
              note: `${cs.note}; guest instructions over wall time after the core workers started`,
              series: { name: `${cs.key} vCPUs: aggregate MIPS vs cores`, xLabel: 'cores', x: c },
            },
            rs.map((r) => r.mips),
            1,
          ),
        );
        if (c > 1)
          out.push(
            perRun(
              {
                suite: SUITE,
                name: `${cs.key} vCPUs, ${c} cores: scaling efficiency`,
                unit: '%',
                note: `MIPS on ${c} cores / (${c} × MIPS on 1 core), each from the same round; 100% is linear (target for 2 independent cores: 90%, i.e. 1.8×)`,
                series: { name: `${cs.key} vCPUs: scaling efficiency vs cores`, xLabel: 'cores', x: c },
              },
              rs.map((r, k) => (100 * r.mips) / (c * one[k]!.mips)),
              1,
            ),
          );
        if (c === coreCounts[coreCounts.length - 1] && cs.key === 'independent')
          out.push(
            perRun(
              {
                suite: SUITE,
                name: `core worker start-up, ${c} cores`,
                unit: 's',
                note: 'wall time from the start of a run until every core worker is loaded and started (piscina + comlink)',
              },
              rs.map((r) => r.startupSeconds),
              1,
            ),
          );
      }
    }
    const exits = ctx.quick ? 5_000 : 200_000;
    for (const c of coreCounts) {
      const name = `hcall exits/s per core, ${c} core${c > 1 ? 's' : ''}`;
      ctx.measuring(name);
      const image = syscallLoop(exits);
      const rs = await measure(ctx, () =>
        runOnce(
          c,
          Array.from({ length: c }, () => ({ image, vcpus: 1 })),
          Vector.SYSTEM_CALL,
        ),
      );
      out.push(
        perRun(
          {
            suite: SUITE,
            name,
            unit: 'exits/s',
            note: `one guest per core looping on NS_SYSCALL getpid (${exits} exits each): L1 answers -ENOSYS and runs it again, L2 → L0 → L1 → L2 all on the core's thread (target 200,000/s per core)`,
            series: { name: 'hcall exits/s per core vs cores', xLabel: 'cores', x: c },
          },
          rs.map((r) => r.exitsPerCore),
          1,
        ),
      );
    }
    return out;
  },
};

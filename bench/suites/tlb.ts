/**
 * TLB invalidation on the multicore runtime: the latency of a partition-scoped invalidation
 * broadcast (H_RPT_INVALIDATE with NESTED, issued by L1 on the coordinator thread) while the
 * partition's vCPUs run on every core — from the call until every core running it acknowledged —
 * against the number of cores and the number of live partitions (LPIDs) the cores juggle; and the
 * cost of a partition-scoped TLB miss, as the time per access of a loop whose working set is larger
 * than the per-core TLB's reach against one that fits.
 */
import os from 'node:os';
import { encode as e } from '../../cores/encode.js';
import type { L1Guest } from '../../hypervisor/l1/guest.js';
import { asL1RA } from '../../mem/types.js';
import { MulticoreSimulation } from '../../src/multicore.js';
import { dataSegment, exitWith, imageOf, watcherImage } from '../../src/programs.js';
import { distribution, perRun, runsFor } from '../stats.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const SUITE = 'tlb';
const WATCHED = 0x20_0000;
const FLAG = 0x20_1000;

/**
 * Latencies (µs) of `count` invalidations of the first of `lpids` guests while `cores` cores run
 * their vCPUs (each guest gets enough vCPUs that every core has work from every guest).
 */
async function invalidations(
  cores: number,
  lpids: number,
  count: number,
): Promise<{ latencies: number[]; waited: number }> {
  const sim = new MulticoreSimulation({
    l1MemoryBytes: 256 << 20,
    maxInstructions: 1e12,
    sliceInstructions: 50_000,
    seed: 1,
    cores,
  });
  const image = watcherImage({ watched: WATCHED, flag: FLAG, poison: 0x0bad, staleExit: 99 });
  const guests: L1Guest[] = [];
  for (let k = 0; k < lpids; k++)
    guests.push(
      sim.addGuest({
        name: `g${k}`,
        image,
        vcpus: Math.max(1, Math.ceil(cores / lpids)),
        memoryBytes: 1 << 20,
        paging: 'eager',
      }),
    );
  const lat: number[] = [];
  const timer = setInterval(() => {
    if (sim.instructions < 100_000 * cores) return; // every core runs the readers by now
    for (let k = 0; k < 20 && lat.length < count; k++) {
      const t0 = performance.now();
      sim.l1.invalidate(guests[0]!);
      lat.push((performance.now() - t0) * 1000);
    }
    if (lat.length >= count) for (const g of guests) sim.ram.write32le(asL1RA(g.space.frameOf(FLAG)!), 1);
  }, 1);
  try {
    await sim.run();
  } finally {
    clearInterval(timer);
  }
  return { latencies: lat, waited: sim.l0.stats.ackWaits / Math.max(1, lat.length) };
}

/** ns per load of a loop over `pages` pages (one load per page, 1M loads), on one core. */
async function missLoop(pages: number, loads: number): Promise<number> {
  const DATA = 0x100_0000;
  const code = [
    e.lis!(31, loads >>> 16),
    e.ori!(31, 31, loads & 0xffff),
    e.mtspr!(9, 31),
    e.lis!(5, DATA >>> 16),
    e.li!(6, 0),
    // loop: r7 = DATA + (r6 mod pages)·4096; load; r6++
    e.rldicl!(7, 6, 12, 64 - 12 - Math.log2(pages)), // (r6 << 12) masked to pages·4096
    e.add!(7, 7, 5),
    e.ld!(8, 0, 7),
    e.addi!(6, 6, 1),
    e.bdnz!(-16),
    ...exitWith(0),
  ];
  const image = imageOf(code, [dataSegment(DATA, pages * 4096)]);
  const sim = new MulticoreSimulation({
    l1MemoryBytes: 256 << 20,
    maxInstructions: 1e12,
    sliceInstructions: 1e8,
    cores: 1,
  });
  sim.addGuest({ name: 'miss', image, vcpus: 1, memoryBytes: pages * 4096 + (2 << 20), paging: 'eager' });
  const t0 = performance.now();
  await sim.run();
  return (((performance.now() - t0) / 1000 - sim.startupSeconds) * 1e9) / loads;
}

export const suite: BenchSuite = {
  name: SUITE,
  describe:
    'invalidation broadcast latency vs cores and LPIDs (multicore runtime), and the cost of a TLB miss',
  async run(ctx) {
    const runs = runsFor(ctx, 1, 3);
    const count = ctx.quick ? 100 : 2_000;
    const maxCores = Math.max(2, os.availableParallelism());
    const out: BenchMetric[] = [];
    const coreCounts = ctx.quick ? [1, 2] : Array.from({ length: maxCores }, (_, k) => k + 1);
    for (const c of coreCounts) {
      const name = `invalidation latency, ${c} core${c > 1 ? 's' : ''}, 1 LPID`;
      ctx.measuring(name);
      const samples: number[] = [];
      const waited: number[] = [];
      for (let r = 0; r < runs; r++) {
        const x = await invalidations(c, 1, count);
        samples.push(...x.latencies);
        waited.push(x.waited);
      }
      out.push(
        distribution(
          {
            suite: SUITE,
            name,
            unit: 'µs',
            note: `H_RPT_INVALIDATE (NESTED) from L1 on the coordinator while ${c} core(s) run the partition's vCPUs (readers of one page): from the call until every core running it acked at a check point`,
            series: { name: 'invalidation latency vs cores (1 LPID)', xLabel: 'cores', x: c },
          },
          samples,
          runs,
          0,
        ),
        perRun(
          {
            suite: SUITE,
            name: `cores acknowledging per invalidation, ${c} core${c > 1 ? 's' : ''}`,
            unit: 'cores',
            // Not better either way: it says how much of the latency is a real broadcast.
            better: 'higher',
            note: 'cores an invalidation found running the partition and had to wait for (L0Stats.ackWaits per call): how much of the latency above is a real broadcast',
          },
          waited,
          0,
        ),
      );
    }
    // One LPID on every core is the last point of the series above.
    const lpidCounts = ctx.quick ? [4] : [4, 16];
    for (const l of lpidCounts) {
      const name = `invalidation latency, ${maxCores} cores, ${l} LPIDs`;
      ctx.measuring(name);
      const samples: number[] = [];
      for (let r = 0; r < runs; r++) samples.push(...(await invalidations(maxCores, l, count)).latencies);
      out.push(
        distribution(
          {
            suite: SUITE,
            name,
            unit: 'µs',
            note: `as above on ${maxCores} cores, with ${l} live partitions whose vCPUs share the cores; one of them is invalidated`,
            series: { name: `invalidation latency vs LPIDs (${maxCores} cores)`, xLabel: 'LPIDs', x: l },
          },
          samples,
          runs,
          0,
        ),
      );
    }
    const loads = ctx.quick ? 200_000 : 5_000_000;
    ctx.measuring('TLB miss cost');
    const fits: number[] = [];
    const misses: number[] = [];
    await missLoop(16, loads); // warm-up
    for (let r = 0; r < runs; r++) {
      fits.push(await missLoop(16, loads));
      misses.push(await missLoop(4096, loads));
    }
    out.push(
      perRun(
        {
          suite: SUITE,
          name: 'load loop, 16 pages (fits the TLBs)',
          unit: 'ns',
          note: 'ns per trip of a 5-instruction loop loading one doubleword per page over 16 pages: every access hits the core’s EA TLB',
        },
        fits,
        1,
      ),
      perRun(
        {
          suite: SUITE,
          name: 'load loop, 4096 pages (16 MiB: misses every TLB)',
          unit: 'ns',
          note: 'the same loop over 4096 pages, beyond the EA TLB and the 4 MiB reach of the partition-scoped TLB: every load walks the radix tree; the difference to the 16-page loop is the cost of a miss',
        },
        misses,
        1,
      ),
    );
    return out;
  },
};

/**
 * What tracing costs: the same runs with tracing off and on, side by side and alternating (so
 * that the host's noise falls on both alike): L2 exits per second for an L2 that does nothing but
 * hcalls L1 answers (the event-heaviest case: an L2 run slice, an L1→L0 hcall, an L2→L1 hcall and
 * a counter per exit), and guest MIPS of a compute loop (few events). Deterministic mode, one core,
 * so the ratio measures the recorder and not the host scheduler. With tracing off the recorder is
 * `null` and each hook is one comparison: the "off" numbers are the simulator's plain speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElfImage } from '../../cores/elf.js';
import { Vector } from '../../hypervisor/papr.js';
import { computeLoopImage } from '../../src/programs.js';
import { Simulation } from '../../src/simulation.js';
import { finishTrace, startTrace } from '../../src/trace/session.js';
import { perRun, runsFor } from '../stats.js';
import { syscallLoop } from '../support/programs.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const SUITE = 'trace';

/** Exits (vector) per second and MIPS of one deterministic run of `image`, traced into `path` if given. */
async function runOnce(
  image: ElfImage,
  vector: number,
  path?: string,
): Promise<{ rate: number; mips: number }> {
  const sim = new Simulation({ l1MemoryBytes: 64 << 20, maxInstructions: 1e12, sliceInstructions: 1e9 });
  const session = path ? startTrace(sim, { trace: path, 'trace-clock': 'virtual' }) : null;
  sim.addGuest({ name: 'bench', image, vcpus: 1, memoryBytes: 4 << 20, paging: 'eager' });
  const t0 = performance.now();
  const r = sim.run();
  const seconds = (performance.now() - t0) / 1000; // the run only: writing the file comes after
  finishTrace(session, sim);
  return { rate: (sim.l0.stats.exits.get(vector) ?? 0) / seconds, mips: r.instructions / seconds / 1e6 };
}

export const suite: BenchSuite = {
  name: SUITE,
  describe: 'the cost of tracing: exits/s and MIPS with tracing off and on, side by side',
  async run(ctx) {
    const runs = runsFor(ctx, 2, 5);
    const dir = mkdtempSync(join(tmpdir(), 'nestsim-bench-trace-'));
    const cases = [
      {
        key: 'hcall exits/s',
        unit: 'exits/s',
        image: syscallLoop(ctx.quick ? 5_000 : 100_000),
        vector: Vector.SYSTEM_CALL,
        pick: (x: { rate: number; mips: number }) => x.rate,
        note: 'an L2 looping on NS_SYSCALL getpid, answered by L1 (4 trace events per exit when traced)',
      },
      {
        key: 'compute loop MIPS',
        unit: 'MIPS',
        image: computeLoopImage(ctx.quick ? 50_000 : 1_000_000),
        vector: Vector.STOPPED,
        pick: (x: { rate: number; mips: number }) => x.mips,
        note: 'a 12-instruction compute loop with no exits (a handful of events in all)',
      },
    ];
    const out: BenchMetric[] = [];
    try {
      for (const c of cases) {
        ctx.measuring(c.key);
        await runOnce(c.image, c.vector); // warm-up, both paths
        await runOnce(c.image, c.vector, join(dir, 'warm.json'));
        const off: number[] = [];
        const on: number[] = [];
        for (let k = 0; k < runs; k++) {
          off.push(c.pick(await runOnce(c.image, c.vector)));
          on.push(c.pick(await runOnce(c.image, c.vector, join(dir, `t${k}.json`))));
        }
        const info = (what: string) => ({ suite: SUITE, unit: c.unit, note: `${c.note}; ${what}` });
        out.push(
          perRun({ ...info('tracing off'), name: `${c.key}, tracing off` }, off, 2),
          perRun(
            { ...info('tracing on (--trace), buffers drained at the end'), name: `${c.key}, tracing on` },
            on,
            2,
          ),
          perRun(
            {
              suite: SUITE,
              name: `${c.key}: traced / untraced`,
              unit: '%',
              note: 'run k traced over run k untraced, medians; 100% means tracing is free',
            },
            on.map((v, k) => (100 * v) / off[k]!),
            2,
          ),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};

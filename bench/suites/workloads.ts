/**
 * Compiled workloads: guest MIPS of the C programs in guests/bin through the L1 model and L0
 * hcalls as `nestsim exec` runs them, but in the deterministic mode (one core, demand paging), and
 * the wall-time ratio against qemu-ppc64le on the same ELF in the same run when QEMU is installed.
 *
 * The programs retire only a few million instructions each, so one sample runs REPS copies as
 * separate guests of one simulation, and QEMU runs the ELF REPS times; both figures include their
 * per-program start-up (for QEMU a process start, for nestsim a guest creation), not Node's.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readElfFile } from '../../cores/elf.js';
import { SHIPPED_GUESTS } from '../../src/scenario/load.js';
import { Simulation } from '../../src/simulation.js';
import { perRun, runsFor } from '../stats.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const WORKLOADS = [
  'sieve-power9-O2',
  'sort-power9-O2',
  'hash-power9-O2',
  'arith-power9-O2',
  'muldiv-power8-O0',
];

/** One sample: REPS copies of `file` as guests of one simulation; returns [instructions, seconds]. */
function runNestsim(file: string, reps: number): [number, number] {
  const image = readElfFile(file);
  const sim = new Simulation({
    l1MemoryBytes: 256 << 20,
    maxInstructions: 1e11,
    sliceInstructions: 10_000_000,
  });
  const t0 = performance.now();
  for (let k = 0; k < reps; k++)
    sim.addGuest({ name: `g${k}`, image, vcpus: 1, memoryBytes: 16 << 20, paging: 'demand' });
  const r = sim.run();
  const seconds = (performance.now() - t0) / 1000;
  for (const g of sim.l1.guests)
    if (g.end.kind !== 'exited') throw new Error(`${file}: ${JSON.stringify(g.end)}`);
  return [r.instructions, seconds];
}

/** Wall seconds of REPS runs of `file` under qemu-ppc64le, or why QEMU could not run it. */
function runQemu(file: string, cpu: string, reps: number): number | string {
  const t0 = performance.now();
  for (let k = 0; k < reps; k++) {
    const r = spawnSync('qemu-ppc64le', ['-cpu', cpu, file], { stdio: 'ignore' });
    // ENOMEM here is the fork refused: this process maps too much (earlier simulations' RAM).
    if (r.error)
      return `qemu-ppc64le could not be started (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
    // The workloads exit with codes of their own (a checksum); only a signal is a failure.
    if (r.signal) return `qemu-ppc64le ${cpu} was killed by ${r.signal}`;
  }
  return (performance.now() - t0) / 1000;
}

/** The suite `nestsim bench workloads` runs. */
export const suite: BenchSuite = {
  name: 'workloads',
  describe:
    'guest MIPS of the compiled C workloads through nestsim exec, and the wall-time ratio to qemu-ppc64le',
  async run(ctx) {
    const { quick, log } = ctx;
    const reps = quick ? 1 : 10;
    const runs = runsFor(ctx, 1, 5);
    const warmup = quick ? 0 : 1;
    const metrics: BenchMetric[] = [];
    const haveQemu = spawnSync('qemu-ppc64le', ['--version']).status === 0;
    if (!haveQemu) log('qemu-ppc64le not found: the QEMU ratios are skipped (apt-get install qemu-user)');
    /** Workloads QEMU failed on once: their ratio would mix runs with and without it. */
    const qemuFailed = new Set<string>();
    for (const w of WORKLOADS) {
      ctx.measuring(w);
      const file = join(SHIPPED_GUESTS, `${w}.elf`);
      const cpu = w.includes('power8') ? 'power8' : 'power9';
      const mips: number[] = [];
      const ratios: number[] = [];
      const qemuMs: number[] = [];
      for (let k = 0; k < warmup + runs; k++) {
        const [insns, secs] = runNestsim(file, reps);
        const q = haveQemu ? runQemu(file, cpu, reps) : undefined;
        if (typeof q === 'string' && !qemuFailed.has(w)) {
          qemuFailed.add(w);
          log(`${w}: ${q}: its QEMU ratio is left out`);
        }
        if (k < warmup) continue;
        mips.push(insns / secs / 1e6);
        if (typeof q === 'number') {
          ratios.push(secs / q);
          qemuMs.push((q / reps) * 1000);
        }
      }
      if (qemuFailed.has(w)) ratios.length = qemuMs.length = 0;
      const m = perRun(
        {
          suite: 'workloads',
          name: `${w} (MIPS)`,
          unit: 'MIPS',
          note: `${reps} copies as guests of one simulation per run, one core, demand paging; retired instructions over the wall time of Simulation.run`,
        },
        mips,
        warmup,
      );
      metrics.push(m);
      log(`${w}: ${m.median.toFixed(1)} MIPS`);
      if (ratios.length > 0) {
        const q = perRun(
          {
            suite: 'workloads',
            name: `${w} wall time nestsim / qemu`,
            unit: '×',
            note: `wall time of ${reps} runs each, same ELF, in the same run (nestsim: Simulation.run, QEMU: ${reps} process starts of qemu-ppc64le -cpu ${cpu}); > 1 means nestsim is slower`,
          },
          ratios,
          warmup,
        );
        metrics.push(
          q,
          perRun(
            {
              suite: 'workloads',
              name: `${w} qemu-ppc64le wall time`,
              unit: 'ms',
              note: `wall time of one qemu-ppc64le -cpu ${cpu} process running the ELF, process start included (mean of ${reps} per run)`,
            },
            qemuMs,
            warmup,
          ),
        );
        log(`${w}: nestsim takes ${q.median.toFixed(1)}× qemu's wall time`);
      }
    }
    return metrics;
  },
};

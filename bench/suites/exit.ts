/**
 * L2 exits handled per second, by exit reason, each the full round trip L2 → L0 → L1 → L2 in the
 * deterministic mode: Simulation.run steps the real L1VcpuLoop, which enters the vCPU with
 * H_GUEST_RUN_VCPU (run input buffer applied, L2 executed on the core, run output buffer written),
 * handles the exit the way L1 does, and runs again. The L2 programs (bench/support/programs.ts)
 * do nothing but cause the exit measured:
 *   hcall       `sc 1` with H_CEDE (answered H_SUCCESS, the vCPU yields), or with NS_SYSCALL getpid
 *               (answered -ENOSYS, run again at once: the firmware's syscall path without work);
 *   HDEC        a two-instruction loop under an L1 time slice (HDEC expiry set per entry);
 *   page fault  a store into a fresh page per exit: HDSI, L1 maps the page (demand paging).
 * Also the L1→L0 GET/SET_STATE hcalls per exit: under nested v2 the run buffers carry the state,
 * so L1 should need none (a rise means L1 started fetching registers on the hot path).
 *
 * Rates are exits of the measured reason over the wall time of Simulation.run, which also
 * includes the few other exits of a run (first-touch faults of the code page, the final exit) and
 * the deletion of the guest at the end; with thousands of exits per run they weigh < 1%.
 */
import type { ElfImage } from '../../cores/elf.js';
import { Hcall, Vector } from '../../hypervisor/papr.js';
import { Simulation } from '../../src/simulation.js';
import { perRun, runsFor } from '../stats.js';
import { cedeLoop, PAGE_BYTES, spinLoop, syscallLoop, touchPages } from '../support/programs.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const SUITE = 'exit';

/** Ticks of L1's time slice in the HDEC case (one tick per instruction: ~HDEC_TICKS instructions per exit). */
const HDEC_TICKS = 32;

interface ExitCase {
  /** Short name of the exit reason, used in the metric names. */
  name: string;
  vector: number;
  note: string;
  /** The program for `exits` exits of this reason, and the guest's memory. */
  program(exits: number): { image: ElfImage; memoryBytes: number };
  hdecTicks?: number;
  /** Exits per run, quick and full (page faults cost L1 memory: 4 KiB each). */
  exits: { quick: number; full: number };
}

const CASES: ExitCase[] = [
  {
    name: 'hcall (H_CEDE)',
    vector: Vector.SYSTEM_CALL,
    note: 'L2 loops on `li r3,H_CEDE; sc 1`; L1 answers H_SUCCESS in the next run input buffer and yields (Step.YIELD), the scheduler picks the vCPU again',
    program: (n) => ({ image: cedeLoop(n), memoryBytes: 1 << 20 }),
    exits: { quick: 2_000, full: 100_000 },
  },
  {
    name: 'hcall (NS_SYSCALL getpid)',
    vector: Vector.SYSTEM_CALL,
    note: 'L2 loops on NS_SYSCALL with syscall 20 (getpid), which L1 does not serve: it answers -ENOSYS and runs the vCPU again at once',
    program: (n) => ({ image: syscallLoop(n), memoryBytes: 1 << 20 }),
    exits: { quick: 2_000, full: 100_000 },
  },
  {
    name: `HDEC (L1 slice of ${HDEC_TICKS} ticks)`,
    vector: Vector.HV_DECREMENTER,
    note: `L2 spins in \`addi; bdnz\`; L1 sets HDEC_EXPIRY_TB = now + ${HDEC_TICKS} in the run input buffer of every entry, so each run executes ~${HDEC_TICKS} instructions before the HDEC exit`,
    program: (n) => ({ image: spinLoop(n * (HDEC_TICKS / 2)), memoryBytes: 1 << 20 }),
    hdecTicks: HDEC_TICKS,
    exits: { quick: 2_000, full: 100_000 },
  },
  {
    name: 'page fault (demand paging)',
    vector: Vector.HV_DATA_STORAGE,
    note: 'L2 stores once into each fresh 4 KiB page of a data segment; every store is an HDSI that L1 serves by allocating a frame, mapping it in the partition-scoped radix tree and running again',
    program: (n) => ({ image: touchPages(n), memoryBytes: n * PAGE_BYTES + (4 << 20) }),
    exits: { quick: 1_000, full: 20_000 },
  },
];

/** What one run of a case measured. */
interface RunResult {
  exitsPerSecond: number;
  /** L1→L0 GET_STATE and SET_STATE hcalls during the run, per exit of the reason. */
  stateCallsPerExit: number;
}

/** Opcode → calls so far, summed over return codes. */
function hcallCounts(sim: Simulation): Map<number, number> {
  const out = new Map<number, number>();
  for (const [op, byRc] of sim.l0.stats.hcalls) {
    let n = 0;
    for (const c of byRc.values()) n += c;
    out.set(op, n);
  }
  return out;
}

function runOnce(c: ExitCase, exits: number): RunResult {
  const { image, memoryBytes } = c.program(exits);
  const sim = new Simulation({
    l1MemoryBytes: memoryBytes + (32 << 20),
    maxInstructions: 1e12,
    sliceInstructions: 1e9, // no L0 time slices: only the measured exits stop the L2
  });
  const g = sim.addGuest({
    name: 'bench',
    image,
    vcpus: 1,
    memoryBytes,
    paging: 'demand',
    ...(c.hdecTicks ? { hdecTicks: c.hdecTicks } : {}),
  });
  const before = hcallCounts(sim);
  const r = sim.run();
  const after = hcallCounts(sim);
  if (g.end.kind !== 'exited' || g.end.code !== 0)
    throw new Error(`bench exit ${c.name}: ${JSON.stringify(g.end)}`);
  const n = g.exits.get(c.vector) ?? 0;
  if (n < exits * 0.9)
    throw new Error(`bench exit ${c.name}: ${n} exits of 0x${c.vector.toString(16)}, wanted ${exits}`);
  const delta = (op: number) => (after.get(op) ?? 0) - (before.get(op) ?? 0);
  return {
    exitsPerSecond: n / r.wallSeconds,
    stateCallsPerExit: (delta(Hcall.H_GUEST_GET_STATE) + delta(Hcall.H_GUEST_SET_STATE)) / n,
  };
}

/** The exit suite. */
export const suite: BenchSuite = {
  name: SUITE,
  describe:
    'L2 exits handled per second by reason (hcall, HDEC, page fault): L2 → L0 → L1 → L2 in the deterministic mode',
  async run(ctx) {
    const runs = runsFor(ctx, 2, 7);
    const warmup = 1;
    const out: BenchMetric[] = [];
    for (const c of CASES) {
      const exits = ctx.quick ? c.exits.quick : c.exits.full;
      const name = `${c.name} exits/s`;
      ctx.measuring(name);
      const results: RunResult[] = [];
      for (let k = 0; k < warmup + runs; k++) {
        const r = runOnce(c, exits);
        if (k >= warmup) results.push(r);
      }
      const rate = perRun(
        {
          suite: SUITE,
          name,
          unit: 'exits/s',
          note: `${c.note}; ${exits.toLocaleString('en-US')} exits per run, one guest with one vCPU, exits over the wall time of Simulation.run`,
        },
        results.map((r) => r.exitsPerSecond),
        warmup,
      );
      ctx.log(`${c.name}: ${Math.round(rate.median).toLocaleString('en-US')} exits/s`);
      out.push(
        rate,
        perRun(
          {
            suite: SUITE,
            name: `${c.name} GET/SET_STATE hcalls per exit`,
            unit: 'hcalls/exit',
            note: 'H_GUEST_GET_STATE + H_GUEST_SET_STATE calls L1 made to L0 during the run, over the exits of this reason (the run buffers should make them unnecessary)',
          },
          results.map((r) => r.stateCallsPerExit),
          warmup,
        ),
      );
    }
    return out;
  },
};

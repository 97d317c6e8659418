/**
 * The two nested APIs side by side on the same L2 programs, in the deterministic mode (one core,
 * so the comparison is of the APIs, not of the host's scheduler): v2 keeps the vCPU state in L0
 * and moves only what changed through the run buffers; v1 passes the whole hv_guest_state and
 * pt_regs on every H_ENTER_NESTED and makes L0 keep shadow partition-scoped tables. Per API:
 * bytes of vCPU state L0 read and wrote per exit, L1→L0 hcalls per exit, the exit round trip
 * (an L2 looping on an hcall L1 answers), and the cost of a first-touch page fault (L1 maps the
 * page; under v1 L0 then fills its shadow table too).
 */
import type { ElfImage } from '../../cores/elf.js';
import { NestedApi } from '../../hypervisor/l1/loop-table.js';
import { Vector } from '../../hypervisor/papr.js';
import { Simulation } from '../../src/simulation.js';
import { perRun, runsFor } from '../stats.js';
import { PAGE_BYTES, syscallLoop, touchPages } from '../support/programs.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const SUITE = 'nested';

interface Outcome {
  /** Exits of the measured reason per second. */
  rate: number;
  /** Bytes of vCPU state L0 read + wrote, per exit of any reason. */
  bytesPerExit: number;
  /** L1→L0 hcalls per exit of any reason. */
  hcallsPerExit: number;
}

function runOnce(api: NestedApi, image: ElfImage, memoryBytes: number, vector: number): Outcome {
  const sim = new Simulation({
    l1MemoryBytes: memoryBytes + (64 << 20),
    maxInstructions: 1e12,
    sliceInstructions: 1e9,
    api,
  });
  sim.addGuest({ name: 'bench', image, vcpus: 1, memoryBytes, paging: 'demand' });
  const st = sim.l0.stats;
  const hcalls0 = [...st.hcalls.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0);
  const t0 = performance.now();
  sim.run();
  const seconds = (performance.now() - t0) / 1000;
  const exits = [...st.exits.values()].reduce((a, b) => a + b, 0);
  const hcalls =
    [...st.hcalls.values()].reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0) - hcalls0;
  const traffic = api === NestedApi.V1 ? st.stateBytes.v1 : st.stateBytes.v2;
  return {
    rate: (st.exits.get(vector) ?? 0) / seconds,
    bytesPerExit: (traffic.read + traffic.written) / Math.max(1, exits),
    hcallsPerExit: hcalls / Math.max(1, exits),
  };
}

export const suite: BenchSuite = {
  name: SUITE,
  describe:
    'nested v1 vs v2 on the same programs: state bytes and hcalls per exit, exit round trip, page-fault cost',
  async run(ctx) {
    const runs = runsFor(ctx, 2, 5);
    const hcallExits = ctx.quick ? 5_000 : 100_000;
    const faults = ctx.quick ? 1_000 : 10_000;
    const cases = [
      {
        key: 'hcall exit',
        image: syscallLoop(hcallExits),
        memoryBytes: 1 << 20,
        vector: Vector.SYSTEM_CALL,
        what: 'an L2 looping on NS_SYSCALL getpid, which L1 answers -ENOSYS (L2 → L0 → L1 → L2)',
      },
      {
        key: 'page fault',
        image: touchPages(faults),
        memoryBytes: faults * PAGE_BYTES + (4 << 20),
        vector: Vector.HV_DATA_STORAGE,
        what: 'an L2 storing once into each fresh page: L1 maps it on the HDSI; under v1 L0 also fills its shadow table on the retry',
      },
    ];
    const out: BenchMetric[] = [];
    for (const c of cases) {
      ctx.measuring(`${c.key}, v1 and v2`);
      const results: Record<'v1' | 'v2', Outcome[]> = { v1: [], v2: [] };
      runOnce(NestedApi.V1, c.image, c.memoryBytes, c.vector); // warm-up, both
      runOnce(NestedApi.V2, c.image, c.memoryBytes, c.vector);
      for (let k = 0; k < runs; k++) {
        results.v2.push(runOnce(NestedApi.V2, c.image, c.memoryBytes, c.vector));
        results.v1.push(runOnce(NestedApi.V1, c.image, c.memoryBytes, c.vector));
      }
      for (const api of ['v2', 'v1'] as const) {
        const rs = results[api];
        const note = `${c.what}; nested ${api}`;
        out.push(
          perRun(
            { suite: SUITE, name: `${c.key}: µs per round trip, ${api}`, unit: 'µs', note },
            rs.map((r) => 1e6 / r.rate),
            1,
          ),
          perRun(
            {
              suite: SUITE,
              name: `${c.key}: state bytes per exit, ${api}`,
              unit: 'bytes',
              note: `${note}; bytes of vCPU state L0 read and wrote (v2: run input/output buffers and GET/SET_STATE buffers; v1: hv_guest_state and pt_regs), over every exit`,
            },
            rs.map((r) => r.bytesPerExit),
            1,
          ),
          perRun(
            {
              suite: SUITE,
              name: `${c.key}: L1→L0 hcalls per exit, ${api}`,
              unit: 'hcalls',
              note: `${note}; every L1→L0 hcall of the run (the entries themselves included) over every exit`,
            },
            rs.map((r) => r.hcallsPerExit),
            1,
          ),
        );
      }
      out.push(
        perRun(
          {
            suite: SUITE,
            name: `${c.key}: v1 round trip / v2 round trip`,
            unit: 'ratio',
            note: 'the v1 time per exit over the v2 time per exit, within each pair of runs',
          },
          results.v1.map((r, k) => results.v2[k]!.rate / r.rate),
          1,
        ),
      );
    }
    return out;
  },
};

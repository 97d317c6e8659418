/**
 * Latency of each nested-v2 hcall as L1 makes it (L0.hcall with registers and buffers in L1
 * memory, the path every L1→L0 call takes in the deterministic mode): GET/SET_CAPABILITIES,
 * CREATE, CREATE_VCPU, GET_STATE and SET_STATE against the number of elements, RUN_VCPU of an L2
 * that exits at once, DELETE, H_RPT_INVALIDATE, and an unknown hcall (the cost of dispatch alone).
 *
 * Each call is timed on its own with performance.now(), whose own cost (the median of an empty
 * pair, ~60 ns on this machine) is subtracted, so that a distribution with a p99 comes out: the
 * tail (GC, page faults of lazily backed memory, the host scheduler) is the point of measuring
 * calls one by one. Setup between calls (a guest to delete, a fresh vCPU id) is untimed and uses
 * registers of its own.
 */
import { encode as e } from '../../cores/encode.js';
import { invalidateCode } from '../../cores/isa/predecode.js';
import type { ElementDef } from '../../hypervisor/gsb/elements.js';
import { Hdr } from '../../hypervisor/l0/partitions.js';
import type { HcallRegs } from '../../hypervisor/l0/regs.js';
import { Cap, H, Hcall, RptTarget, RptType, Vector } from '../../hypervisor/papr.js';
import { Perm } from '../../mem/radix.js';
import { elementFromRoot } from '../../mem/radix-root.js';
import { bumpAllocator, RadixWriter } from '../../mem/radix-writer.js';
import { asL1RA, asL2RA } from '../../mem/types.js';
import { distribution, perRun, runsFor } from '../stats.js';
import {
  type CallTemplate,
  L0Caller,
  SETTABLE_THREAD_ELEMENTS,
  spread,
  THREAD_ELEMENTS,
  template,
} from '../support/l0-caller.js';
import type { BenchMetric, BenchSuite, SeriesPoint } from '../types.js';

const SUITE = 'hcall';

/** L1 memory layout of the rig (all inside the 64 MiB L1 RAM of L0Caller). */
const STATE_BUFFER = 0x10_0000;
const RUN_INPUT = 0x20_0000;
const RUN_OUTPUT = 0x20_1000;
const RUN_BUFFER_BYTES = 4096;
const TABLES = 0x30_0000;
const CODE_FRAME = 0x40_0000;

/** Element counts of the GET/SET_STATE series (then "all"). */
const ELEMENT_COUNTS = [1, 4, 16, 64];

/**
 * Guests, and vCPU slots, already in use in the CREATE and CREATE_VCPU series: L0 looks for the
 * lowest free guest id and the first free vCPU slot, so what they cost depends on how many are
 * taken.
 */
const IN_USE = [0, 64, 1024];

/** One measured call: a template, and untimed work around each call. */
interface Rig {
  caller: L0Caller;
  call: CallTemplate;
  expect: number;
  /** Untimed, after the template was copied into `r`: setup for call `i`, may patch `r`. */
  before?(i: number, r: HcallRegs): void;
  /** Untimed, after call `i`: check outputs, undo what the call did. */
  after?(i: number, r: HcallRegs): void;
}

interface Case {
  name: string;
  note: string;
  series?: SeriesPoint;
  rig(): Rig;
}

/** A negotiated L0 with guest 1 and its vCPU 0, run buffers registered. */
function guestRig(config: ConstructorParameters<typeof L0Caller>[0] = {}): { c: L0Caller; guest: number } {
  const c = new L0Caller(config);
  c.negotiate();
  const guest = c.createGuest();
  c.createVcpus(guest, 1);
  c.setState(guest, 0, {
    RUN_INPUT: { address: BigInt(RUN_INPUT), bytes: BigInt(RUN_BUFFER_BYTES) },
    RUN_OUTPUT: { address: BigInt(RUN_OUTPUT), bytes: BigInt(RUN_BUFFER_BYTES) },
  });
  return { c, guest };
}

function stateCases(kind: 'GET' | 'SET'): Case[] {
  const pool = kind === 'GET' ? THREAD_ELEMENTS : SETTABLE_THREAD_ELEMENTS;
  const opcode = kind === 'GET' ? Hcall.H_GUEST_GET_STATE : Hcall.H_GUEST_SET_STATE;
  const seriesName = `H_GUEST_${kind}_STATE latency vs elements`;
  const counts = [...ELEMENT_COUNTS.filter((n) => n < pool.length), pool.length];
  return counts.map((n) => {
    const all = n === pool.length;
    const elements: ElementDef[] = spread(pool, n);
    return {
      name: all
        ? `H_GUEST_${kind}_STATE, all thread-wide elements`
        : `H_GUEST_${kind}_STATE, ${n} element${n > 1 ? 's' : ''}`,
      note: `${kind} of ${n} thread-wide element${n > 1 ? 's' : ''} of one vCPU${all ? (kind === 'GET' ? ' (every one of the table)' : ' (every one L1 may set)') : ', spread evenly over the table (dwords, words, vectors)'}, buffer in L1 memory parsed and validated by L0${kind === 'SET' ? '; the values are the current ones (read with a GET first)' : ''}`,
      series: { name: seriesName, xLabel: 'elements', x: n },
      rig() {
        const { c, guest } = guestRig();
        const bytes = c.writeRequest(STATE_BUFFER, elements);
        c.must(Hcall.H_GUEST_GET_STATE, 0, guest, 0, STATE_BUFFER, bytes); // the current values, for SET
        return { caller: c, call: template(opcode, 0, guest, 0, STATE_BUFFER, bytes), expect: H.SUCCESS };
      },
    };
  });
}

/** Guest 1 with one vCPU whose L2 program is `sc 1; b .-4` at L2 real address 0. */
function runRig(): Rig {
  const { c, guest } = guestRig();
  const ram = c.l0.ram;
  const w = RadixWriter.create(ram, bumpAllocator(TABLES, TABLES + 0x10_0000))!;
  w.map(asL2RA(0), asL1RA(CODE_FRAME), 12, Perm.Read | Perm.Exec);
  ram.dv.setUint32(CODE_FRAME, e.sc!(1), true);
  ram.dv.setUint32(CODE_FRAME + 4, e.b!(-4), true);
  invalidateCode(c.l0.codeGen);
  c.setState(guest, 0, { PARTITION_TABLE: elementFromRoot(w.root) }, true);
  c.setState(guest, 0, { NIA: 0n, MSR: 0x8000_0000_0000_0001n, LPCR: 0x0200_0000n });
  ram.dv.setUint32(RUN_INPUT, 0, false); // an empty run input buffer: nothing dirty
  return {
    caller: c,
    call: template(Hcall.H_GUEST_RUN_VCPU, 0, guest, 0),
    expect: H.SUCCESS,
    after(_i, r) {
      if (r.num(4) !== Vector.SYSTEM_CALL) throw new Error(`RUN_VCPU exit 0x${r.num(4).toString(16)}`);
    },
  };
}

/** A guest with `vcpus` vCPUs is made before each DELETE (untimed). */
function deleteRig(vcpus: number): Rig {
  const c = new L0Caller({ maxVcpus: 256 });
  c.negotiate();
  return {
    caller: c,
    call: template(Hcall.H_GUEST_DELETE, 0, 0),
    expect: H.SUCCESS,
    before(_i, r) {
      const g = c.createGuest();
      c.createVcpus(g, vcpus);
      r.setInt(5, g);
    },
  };
}

/** H_GUEST_CREATE with `n` other guests alive; each new guest is deleted after the call (untimed). */
function createCases(): Case[] {
  return IN_USE.map((n) => ({
    name: `H_GUEST_CREATE, ${n} guests in use`,
    note: `a fresh guest (continue token -1) on a negotiated L0 where ${n} other guests exist; it is deleted after each call (untimed), so the same id is found again`,
    series: { name: 'H_GUEST_CREATE latency vs guests in use', xLabel: 'guests in use', x: n },
    rig() {
      const c = new L0Caller();
      c.negotiate();
      for (let k = 0; k < n; k++) c.createGuest();
      return {
        caller: c,
        call: template(Hcall.H_GUEST_CREATE, 0, -1),
        expect: H.SUCCESS,
        after: (_i, r) => c.deleteGuest(r.num(4)),
      };
    },
  }));
}

/**
 * H_GUEST_CREATE_VCPU of vCPU 0 of a fresh guest while `n` vCPU slots are taken by another guest;
 * the fresh guest is made before and deleted after each call (untimed), so the same slot is found.
 */
function createVcpuCases(): Case[] {
  return IN_USE.map((n) => ({
    name: `H_GUEST_CREATE_VCPU, ${n} vCPUs in use`,
    note: `vCPU 0 of a fresh guest while another guest holds ${n} vCPU slots; the guest is created before and deleted after each call (untimed)`,
    series: { name: 'H_GUEST_CREATE_VCPU latency vs vCPUs in use', xLabel: 'vCPUs in use', x: n },
    rig() {
      const c = new L0Caller({ maxVcpus: n + 8 });
      c.negotiate();
      if (n > 0) c.createVcpus(c.createGuest(), n);
      let guest = 0;
      return {
        caller: c,
        call: template(Hcall.H_GUEST_CREATE_VCPU, 0, 0, 0),
        expect: H.SUCCESS,
        before(_i, r) {
          guest = c.createGuest();
          r.setInt(5, guest);
        },
        after: () => c.deleteGuest(guest),
      };
    },
  }));
}

function cases(): Case[] {
  return [
    {
      name: 'unknown hcall → H_FUNCTION',
      note: 'an opcode L0 does not offer: register unpacking, handler lookup and statistics only (the floor under every hcall)',
      rig: () => ({ caller: new L0Caller(), call: template(0x1234), expect: H.FUNCTION }),
    },
    {
      name: 'H_GUEST_GET_CAPABILITIES',
      note: 'flags 0; the capability bitmap comes back in r4',
      rig: () => ({
        caller: new L0Caller(),
        call: template(Hcall.H_GUEST_GET_CAPABILITIES, 0),
        expect: H.SUCCESS,
      }),
    },
    {
      name: 'H_GUEST_SET_CAPABILITIES',
      note: "POWER10 on an L0 with no guests; L0's capabilities-set word is cleared between calls (untimed) so that every call takes the success path",
      rig() {
        const c = new L0Caller();
        return {
          caller: c,
          call: template(Hcall.H_GUEST_SET_CAPABILITIES, 0, Cap.POWER10),
          expect: H.SUCCESS,
          before: () => Atomics.store(c.l0.parts.w, Hdr.CAPS_SET, 0),
        };
      },
    },
    ...createCases(),
    ...createVcpuCases(),
    ...stateCases('GET'),
    ...stateCases('SET'),
    {
      name: 'H_GUEST_RUN_VCPU, L2 exits at once',
      note: 'an L2 whose code is `sc 1; b .-4` (1–2 instructions per run), empty run input buffer; includes taking the vCPU, the run, the exit and writing the run output buffer',
      rig: runRig,
    },
    {
      name: 'H_GUEST_DELETE, guest with 1 vCPU',
      note: 'a guest with one idle vCPU, created before each call (untimed)',
      rig: () => deleteRig(1),
    },
    {
      name: 'H_GUEST_DELETE, guest with 64 vCPUs',
      note: 'a guest with 64 idle vCPUs, created before each call (untimed)',
      rig: () => deleteRig(64),
    },
    {
      name: 'H_RPT_INVALIDATE, NESTED, whole LPID',
      note: "type NESTED|TLB, target CMMU, every page size, range 0..all ones, for an active guest: the partition's TLB generation is bumped (no core runs in the deterministic mode, so no ack is awaited)",
      rig() {
        const { c, guest } = guestRig();
        return {
          caller: c,
          call: template(
            Hcall.H_RPT_INVALIDATE,
            guest,
            RptTarget.CMMU,
            RptType.NESTED | RptType.TLB,
            -1,
            0,
            -1,
          ),
          expect: H.SUCCESS,
        };
      },
    },
  ];
}

/** Median cost, in µs, of an empty pair of performance.now() calls. */
function timerCost(n: number): number {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const t1 = performance.now();
    d[i] = t1 - t0;
  }
  return d.sort()[n >> 1]! * 1000;
}

/** Times `perRun` calls per run, `warmup` + `runs` runs; returns the counted latencies in µs. */
function measure(rig: Rig, runs: number, warmup: number, perRun: number, timer: number): Float64Array {
  const { caller, call, expect, before, after } = rig;
  const { l0, r } = caller;
  const out = new Float64Array(runs * perRun);
  for (let k = 0; k < warmup + runs; k++) {
    for (let i = 0; i < perRun; i++) {
      r.words.set(call);
      before?.(i, r);
      const t0 = performance.now();
      const rc = l0.hcall(r);
      const t1 = performance.now();
      if (rc !== expect) throw new Error(`bench hcall: rc ${rc}, expected ${expect} (${l0.lastReason})`);
      after?.(i, r);
      if (k >= warmup) out[(k - warmup) * perRun + i] = Math.max(0, (t1 - t0) * 1000 - timer);
    }
  }
  return out;
}

/** The hcall suite. */
export const suite: BenchSuite = {
  name: SUITE,
  describe:
    'latency of each nested-v2 hcall L1 makes to L0 (per call, with p99), GET/SET_STATE against elements',
  async run(ctx) {
    const runs = runsFor(ctx, 2, 7);
    const warmup = 1;
    const perRunCalls = ctx.quick ? 200 : 2000;
    ctx.measuring('timer cost');
    const timerRuns = [timerCost(20_000), timerCost(20_000), timerCost(20_000)];
    const timer = [...timerRuns].sort((a, b) => a - b)[1]!;
    const out: BenchMetric[] = [
      perRun(
        {
          suite: SUITE,
          name: 'timer: empty performance.now() pair',
          unit: 'µs',
          note: 'median of 20,000 back-to-back performance.now() pairs per run; subtracted from every latency below',
        },
        timerRuns,
        0,
      ),
    ];
    for (const c of cases()) {
      ctx.measuring(c.name);
      const values = measure(c.rig(), runs, warmup, perRunCalls, timer);
      out.push(
        distribution(
          {
            suite: SUITE,
            name: c.name,
            unit: 'µs',
            note: `${c.note}; ${perRunCalls.toLocaleString('en-US')} calls per run, each timed alone`,
            ...(c.series ? { series: c.series } : {}),
          },
          values,
          runs,
          warmup,
        ),
      );
    }
    return out;
  },
};

/**
 * One simulated hardware thread and its public entry point, `run(vcpu, ctx, budget)`: execute an
 * L2 vCPU from its canonical register area until a hypervisor interrupt (an exit for L1), a budget
 * of retired instructions, or a stop request. Invoked from: L0's H_GUEST_RUN_VCPU fast path
 * (hypervisor/l0/), benchmarks and tests.
 *
 * Contract (docs/architecture.md, "cores/ → hypervisor/"):
 * - the vCPU area is read and written in place; on return NIA is where the L2 resumes, MSR is the
 *   L2's MSR (cause bits never leak into it), and the registers that go with the exit are set:
 *   HDAR/HDSISR/ASDR (0xE00), ASDR (0xE20), HEIR (0xE40), HFSCR[IC] (0xF80), SRR0/SRR1 (0xC00 and
 *   0x200, as the hardware writes them), HSRR0/HSRR1 for every hypervisor exit;
 * - `ExitRecord.elements` lists the GSB elements of the run output buffer for that vector
 *   (spec §5.6, QEMU's choice); `srr1*` is HSRR1 (SRR1 for sc) with its cause bits, which is what
 *   the MSR element of an 0xE20 exit must carry (Linux reads the HISI cause from it);
 * - guest interrupts never leave the core; IC, PURR, SPURR and VTB advance with the run.
 */
import { Vector } from '../hypervisor/papr.js';
import { execute, RunEnd } from './interp.js';
import { Cpu } from './isa/cpu.js';
import { CodeCache, type CodeGeneration } from './isa/predecode.js';
import { type AccessKind, Mmu, type Partition, type RamViews } from './mmu.js';
import { TB_TICKS_PER_INSTRUCTION } from './timebase.js';
import { R, Vcpu } from './vcpu.js';

/** A word another thread sets to non-zero to stop a running core at its next check point. */
export interface StopWord {
  readonly words: Int32Array;
  readonly index: number;
}

/** What one run needs besides the vCPU. */
export interface RunContext {
  /** The core (hardware thread) to run on. */
  readonly core: Core;
  /** Partition-scoped translation of the L2 (its tree, LPID and this core's TLB behind it). */
  readonly partition: Partition;
  /** L1 timebase at which the run stops with exit 0x980; absent or Infinity for none. */
  readonly hdecExpiryTb?: number;
  /** Stop request word; absent means none. */
  readonly stop?: StopWord;
}

/** How a run ended. */
export type ExitReason = 'interrupt' | 'budget' | 'stop';

/** GSB elements that go with each exit vector (spec §5.6 output buffer table). */
export const EXIT_ELEMENTS: Readonly<Record<number, readonly number[]>> = {
  [Vector.SYSTEM_CALL]: [0x1003, 0x1004, 0x1005, 0x1006, 0x1007, 0x1008, 0x1009, 0x100a, 0x100b, 0x100c],
  [Vector.HV_DATA_STORAGE]: [0xf000, 0xf001, 0xf003, 0x1021, 0x1022],
  [Vector.HV_INSTRUCTION_STORAGE]: [0xf000, 0xf003, 0x1021, 0x1022],
  [Vector.HV_EMULATION_ASSIST]: [0xf002, 0x1021, 0x1022],
  [Vector.HV_FACILITY_UNAVAILABLE]: [0x102d, 0x1021, 0x1022],
};
const NONE: readonly number[] = [];

/** The result of a run; one object per core, overwritten by the next run. */
export class ExitRecord {
  reason: ExitReason = 'budget';
  /** The hypervisor interrupt vector (r4 of H_GUEST_RUN_VCPU); 0 for a budget or stop. */
  vector = 0;
  /** Where the L2 resumes (also in the vCPU's NIA). */
  niaHi = 0;
  niaLo = 0;
  /** HSRR1 (SRR1 for sc and machine check) as the interrupt set it, cause bits included. */
  srr1Hi = 0;
  srr1Lo = 0;
  /** Instructions retired in this run. */
  retired = 0;
  /** GSB element IDs of the run output buffer for this exit. */
  elements: readonly number[] = NONE;

  /** NIA as a bigint (tests and tools). */
  get nia(): bigint {
    return (BigInt(this.niaHi >>> 0) << 32n) | BigInt(this.niaLo >>> 0);
  }
}

/** A partition that maps nothing: every access faults (used before the first run). */
const NO_PARTITION: Partition = {
  cause: 0x4000_0000,
  translate: (_l2ra: number, _acc: AccessKind) => -1,
  sync: () => false,
};

/** Options of a core. */
export interface CoreOptions {
  /** L1 RAM (mem/ram.ts GuestRam satisfies this). */
  ram: RamViews;
  /** Code generation word shared by every core of the simulation (icbi, loaders). */
  codeGeneration?: CodeGeneration;
  /** Predecoded pages kept before a full flush. */
  codePages?: number;
}

const noStop: StopWord = { words: new Int32Array(1), index: 0 };

/** One simulated hardware thread: its interpreter state, memory path and predecoded code. */
export class Core {
  readonly cpu: Cpu;
  readonly mmu: Mmu;
  readonly code: CodeCache;
  /** This thread's L1 timebase (advances with retired instructions; L0 may add idle time). */
  tb = 0;
  /** Instructions retired in the current run (read by `execute` callers). */
  retired = 0;
  /** Stop word and HDEC expiry of the current run (read by the run loop). */
  stopWords: Int32Array = noStop.words;
  stopIndex = 0;
  hdecExpiry = Number.POSITIVE_INFINITY;
  /** The exit of the last run. */
  readonly exit = new ExitRecord();
  private lastVcpu: Vcpu | undefined;

  constructor(opts: CoreOptions) {
    this.code = new CodeCache(opts.ram.sab.byteLength, opts.codeGeneration, opts.codePages);
    this.mmu = new Mmu(opts.ram, NO_PARTITION, this.code);
    this.cpu = new Cpu(Vcpu.create(), this.mmu);
  }

  /** Runs `vcpu` on this core; see `run`. */
  run(vcpu: Vcpu, ctx: RunContext, budget: number): ExitRecord {
    const c = this.cpu;
    if (vcpu !== this.lastVcpu || ctx.partition !== this.mmu.partition) {
      // Cached EA translations belong to one vCPU (PID) of one partition; the reservation belongs
      // to the vCPU that made it (a hypervisor switching vCPUs clears it with a dummy stcx.).
      this.mmu.flush();
      c.resAddr = -1;
      this.mmu.partition = ctx.partition;
      this.lastVcpu = vcpu;
    }
    c.attach(vcpu);
    this.stopWords = ctx.stop?.words ?? noStop.words;
    this.stopIndex = ctx.stop?.index ?? 0;
    this.hdecExpiry = ctx.hdecExpiryTb ?? Number.POSITIVE_INFINITY;
    this.retired = 0;
    const tb0 = this.tb;
    const end = execute(this, budget);

    const r = vcpu.w;
    const e = this.exit;
    addTo(r, R.IC, this.retired);
    const ticks = this.tb - tb0;
    addTo(r, R.PURR, ticks);
    addTo(r, R.SPURR, ticks);
    addTo(r, R.VTB, ticks);
    e.retired = this.retired;
    e.niaHi = r[R.NIA];
    e.niaLo = r[R.NIA + 1];
    if (end === RunEnd.EXIT) {
      e.reason = 'interrupt';
      e.vector = c.exitVector;
      e.srr1Hi = c.exitSrr1Hi;
      e.srr1Lo = c.exitSrr1Lo;
      e.elements = EXIT_ELEMENTS[c.exitVector] ?? NONE;
    } else {
      e.reason = end === RunEnd.STOP ? 'stop' : 'budget';
      e.vector = Vector.STOPPED;
      e.srr1Hi = r[R.MSR];
      e.srr1Lo = r[R.MSR + 1];
      e.elements = NONE;
    }
    return e;
  }
}

/** Adds a non-negative count to a 64-bit register pair. */
function addTo(r: Int32Array, at: number, n: number): void {
  const s = (r[at + 1] >>> 0) + n;
  r[at] = (r[at] + Math.floor(s / 4294967296)) | 0;
  r[at + 1] = s | 0;
}

/**
 * Executes `vcpu` on `ctx.core` until an exit, `budget` retired instructions, or a stop request
 * (seen within CHECK_INTERVAL instructions). Returns the core's exit record.
 */
export function run(vcpu: Vcpu, ctx: RunContext, budget: number): ExitRecord {
  return ctx.core.run(vcpu, ctx, budget);
}

/** Timebase ticks per retired instruction (re-exported for callers that convert budgets). */
export { TB_TICKS_PER_INSTRUCTION };

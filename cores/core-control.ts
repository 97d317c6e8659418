/**
 * The words a core worker and the coordinator share about that core (one 64-byte line per core,
 * so cores never share a line): what the coordinator asks of the core, what the core is doing,
 * and its counters, readable at any time (progress, crash reports, the shared timebase).
 *
 * Layout of core c (Int32 words at c·16; Float64 fields at Int32 index 8 and 10, i.e. Float64
 * index c·8 + 4 and c·8 + 5):
 *   STOP         coordinator → core: 1 = stop after the current step
 *   ASSIGN_SEQ   coordinator bumps it (then notifies) whenever it changes the loops placed on the
 *                core, or wants the core to look again (stop); an idle core sleeps on it
 *   STATE        CoreState, written by the core
 *   ENTRY        loop table entry the core is stepping, or −1
 *   GUEST, VCPU  ids of that loop's vCPU (for crash reports)
 *   STEPS        steps done
 *   INSTRUCTIONS (Float64) L2 instructions retired on this core
 *   TB           (Float64) this core's L1 timebase, published after each turn
 * Every field has one writer; readers on other threads may see values one turn late.
 */

/** What a core is doing. */
export const CoreState = { STARTING: 0, IDLE: 1, STEPPING: 2, STOPPED: 3, CRASHED: 4 } as const;

const STRIDE = 16;
/** Int32 word offsets within a core's line. */
export const C = {
  STOP: 0,
  ASSIGN_SEQ: 1,
  STATE: 2,
  ENTRY: 3,
  GUEST: 4,
  VCPU: 5,
  STEPS: 6,
} as const;
/** Float64 offsets within a core's line (in Float64 units). */
const F_INSTRUCTIONS = 4;
const F_TB = 5;

/** The control words of every core. */
export class CoreControl {
  readonly w: Int32Array;
  private readonly f: Float64Array;
  readonly cores: number;

  private constructor(readonly sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
    this.f = new Float64Array(sab);
    this.cores = this.w.length / STRIDE;
  }

  /** Words for `cores` cores. */
  static create(cores: number): CoreControl {
    const c = new CoreControl(new SharedArrayBuffer(cores * STRIDE * 4));
    for (let k = 0; k < cores; k++) c.w[k * STRIDE + C.ENTRY] = -1;
    return c;
  }

  /** Views words created elsewhere. */
  static attach(sab: SharedArrayBuffer): CoreControl {
    return new CoreControl(sab);
  }

  /** Index of word `field` of core `core`. */
  at(core: number, field: number): number {
    return core * STRIDE + field;
  }

  /** Atomic read of a word. */
  get(core: number, field: number): number {
    return Atomics.load(this.w, core * STRIDE + field);
  }

  /** Atomic write of a word. */
  set(core: number, field: number, v: number): void {
    Atomics.store(this.w, core * STRIDE + field, v);
  }

  /** Coordinator: tells core `core` to look at its placement again (and wakes it if idle). */
  poke(core: number): void {
    const i = core * STRIDE + C.ASSIGN_SEQ;
    Atomics.add(this.w, i, 1);
    Atomics.notify(this.w, i);
  }

  /** Coordinator: asks core `core` to stop after its current step. */
  requestStop(core: number): void {
    Atomics.store(this.w, core * STRIDE + C.STOP, 1);
    this.poke(core);
  }

  /** L2 instructions retired on core `core`. */
  instructions(core: number): number {
    return this.f[core * (STRIDE / 2) + F_INSTRUCTIONS]!;
  }

  /** Core: publishes its retired-instruction count. */
  setInstructions(core: number, n: number): void {
    this.f[core * (STRIDE / 2) + F_INSTRUCTIONS] = n;
  }

  /** Timebase core `core` published last. */
  timebase(core: number): number {
    return this.f[core * (STRIDE / 2) + F_TB]!;
  }

  /** Core: publishes its timebase. */
  setTimebase(core: number, tb: number): void {
    this.f[core * (STRIDE / 2) + F_TB] = tb;
  }

  /** The latest timebase any core published (the machine's clock, as far as anyone knows). */
  latestTimebase(): number {
    let t = 0;
    for (let k = 0; k < this.cores; k++) {
      const v = this.f[k * (STRIDE / 2) + F_TB]!;
      if (v > t) t = v;
    }
    return t;
  }

  /** Sum of every core's retired instructions. */
  totalInstructions(): number {
    let n = 0;
    for (let k = 0; k < this.cores; k++) n += this.f[k * (STRIDE / 2) + F_INSTRUCTIONS]!;
    return n;
  }
}

/**
 * L1's table of vCPU loops, in shared memory: one entry per L2 vCPU that L1 runs (KVM's vCPU
 * threads), holding everything a core needs to rebuild the loop on its own thread (the vCPU's
 * ids, its run buffers, L1's time slice, the guest's radix root for reading L2 memory) and the
 * words that schedule it. L1's control part (main thread) writes entries; the multicore runtime's
 * coordinator moves HOME; cores take RUNNER while they step a loop. The deterministic mode uses the
 * same table, so both modes share one notion of "this vCPU is finished".
 *
 * Layout: `capacity` entries of ENTRY_WORDS Int32 words; word-pair LAST_TB is also seen through a
 * Float64Array view (8-byte aligned: ENTRY_WORDS and LAST_TB are even).
 *
 * Publish order: an entry's fields are written first and STATE (RUNNABLE) last with Atomics.store;
 * a core that reads STATE = RUNNABLE with Atomics.load sees the whole entry. RUNNER moves
 * FREE_RUNNER → core by compare-exchange and back by its holder only, so one loop is never stepped
 * by two threads at once (its run input buffer in L1 memory is written without locks).
 */

import type { RadixRoot } from '../../mem/radix.js';
import type { L1RA } from '../../mem/types.js';

/** Lifecycle of an entry. */
export const LoopState = { FREE: 0, RUNNABLE: 1, DONE: 2 } as const;

/** RUNNER value of a loop that no core is stepping. */
export const FREE_RUNNER = -1;

/** Words of one entry. */
export const L = {
  STATE: 0,
  /** Core the coordinator placed the loop on (−1: not placed). */
  HOME: 1,
  /** Core stepping the loop now, or FREE_RUNNER. */
  RUNNER: 2,
  /** Unique per loop ever created (statistics keys survive entry reuse). */
  LOOP_ID: 3,
  GUEST_ID: 4,
  VCPU_ID: 5,
  /** Run input / output buffers: L1 real address (unsigned) and bytes. */
  IN_ADDR: 6,
  IN_BYTES: 7,
  OUT_ADDR: 8,
  OUT_BYTES: 9,
  /** L1's time slice per entry in timebase ticks (0: none). */
  HDEC_TICKS: 10,
  /** The guest's partition-scoped tree (for reading L2 memory on a core): base, EA bits, root bits. */
  ROOT_ADDR: 11,
  ADDR_BITS: 12,
  ROOT_BITS: 13,
  /** Nested API the loop drives (NestedApi). */
  API: 14,
  /** Steps (entries into L2) so far. */
  STEPS: 15,
  /** L1 timebase when the loop last left a core (Float64 over words 16, 17). */
  LAST_TB: 16,
  /** Agents (API = AGENT): which agent, its seed and how many operations it does. */
  AGENT_KIND: 18,
  AGENT_SEED: 19,
  AGENT_ITERATIONS: 20,
  /**
   * vCPU loops: the owner's full-state refresh (GET every element, SET it back) every this many
   * entries (0: never), through a buffer of REFRESH_BYTES at REFRESH_ADDR; and an external
   * interrupt made pending (H_GUEST_RUN_VCPU flag) every PENDING_EVERY entries (0: never).
   */
  REFRESH_EVERY: 21,
  REFRESH_ADDR: 22,
  REFRESH_BYTES: 23,
  PENDING_EVERY: 24,
  /** Agents: one argument of the agent's own (e.g. how many vCPUs its target guest has). */
  AGENT_ARG: 25,
  /** Core that last stepped the loop (−1: none yet), written by its runner. */
  LAST_CORE: 26,
  /**
   * vCPU loops: L1's virtual interrupt source for the L2 vCPU (hypervisor/l1/virtual-irq.ts).
   * Policy: raise one every IRQ_EVERY entries (0: never), IRQ_FLAGS test-only L1 bugs (IrqBug).
   * State, by the loop's runner: interrupts raised, taken by L2 (H_XIRR found one), spurious
   * (H_XIRR found none), H_XIRR exits in a row with no other exit between; the MER bit L1 last
   * sent; L1's copy of the L2's LPCR (words LPCR_HI, LPCR_LO).
   */
  IRQ_EVERY: 27,
  IRQ_FLAGS: 28,
  IRQ_RAISED: 29,
  IRQ_TAKEN: 30,
  IRQ_SPURIOUS: 31,
  IRQ_RUN: 32,
  MER_SENT: 33,
  LPCR_HI: 34,
  LPCR_LO: 35,
  /**
   * vCPU loops: L1's emulation of msgsndp/msgclrp among SMT siblings (hypervisor/l1/doorbells.ts).
   * Policy: DB_THREADS threads per virtual core (0: none), DB_FLAGS test-only L1 bugs. State:
   * DB_REQUEST a doorbell is pending for this vCPU (set by a sibling's loop: Atomics), DPDES_SENT
   * the DPDES L1 last sent, DB_SENT doorbells this vCPU sent, DB_CLEARED its msgclrp.
   */
  DB_THREADS: 36,
  DB_FLAGS: 37,
  DB_REQUEST: 38,
  DPDES_SENT: 39,
  DB_SENT: 40,
  DB_CLEARED: 41,
  /**
   * vCPU loops: one-shot entry requests L1 made (RunRequest bits) that no entry has carried yet.
   * In the table, not in the NestedVcpu, so they survive H_BUSY and the loop moving cores.
   */
  RUN_REQUESTS: 42,
  /**
   * vCPU loops: the L2's registered VPA (H_REGISTER_VPA): VPA_ON 1 while one is, its L1 address
   * in VPA_HI/VPA_LO; VPA_FLAGS test-only L1 bugs (VpaBug, vcpu-loop.ts).
   */
  VPA_ON: 43,
  VPA_HI: 44,
  VPA_LO: 45,
  VPA_FLAGS: 46,
} as const;

/** L.RUN_REQUESTS bits. */
export const RunRequest = {
  /** An external interrupt made pending in L2 at the entry (v2's run flag). */
  EXTERNAL: 1,
} as const;
const ENTRY_WORDS = 48;

/**
 * Which nested API an L1 loop uses; AGENT: not a vCPU loop but an L1 vCPU doing hcalls of its own
 * (stress agents: hypervisor/l1/agents/).
 */
export const NestedApi = { V2: 2, V1: 1, AGENT: 3 } as const;
export type NestedApi = (typeof NestedApi)[keyof typeof NestedApi];

/** What L1 records for a new loop. */
export interface LoopSpec {
  guestId: number;
  vcpuId: number;
  inAddr: number;
  inBytes: number;
  outAddr: number;
  outBytes: number;
  hdecTicks: number;
  root: { base: number; addrBits: number; rootBits: number };
  api: NestedApi;
  /** Agents: kind, seed, operations, an argument of the agent's own. */
  agent?: { kind: number; seed: number; iterations: number; arg: number };
  /** vCPU loops: the owner-side stress policy (see L.REFRESH_EVERY). */
  policy?: LoopPolicy;
}

/** What a vCPU loop's L1 does besides running it (stress: state refresh, pending interrupts). */
export interface LoopPolicy {
  refreshEvery: number;
  refreshAddr: number;
  refreshBytes: number;
  pendingEvery: number;
  /** L1's virtual interrupts through LPCR[MER] (see L.IRQ_EVERY), and the L2's initial LPCR. */
  irqEvery: number;
  irqFlags: number;
  lpcrHi: number;
  lpcrLo: number;
  /** L1's doorbell emulation among SMT siblings (see L.DB_THREADS). */
  doorbellThreads: number;
  doorbellFlags: number;
  /** Test-only L1 bugs of the VPA path (see L.VPA_FLAGS). */
  vpaFlags: number;
}

/** The loop table: the same class on the main thread and on every core. */
export class LoopTable {
  readonly w: Int32Array;
  private readonly f: Float64Array;
  readonly capacity: number;
  private nextId = 1;

  private constructor(readonly sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
    this.f = new Float64Array(sab);
    this.capacity = this.w.length / ENTRY_WORDS;
  }

  /** A table for `capacity` loops. */
  static create(capacity: number): LoopTable {
    return new LoopTable(new SharedArrayBuffer(capacity * ENTRY_WORDS * 4));
  }

  /** Views a table created elsewhere. */
  static attach(sab: SharedArrayBuffer): LoopTable {
    return new LoopTable(sab);
  }

  /** Index of word `field` of entry `e`. */
  at(e: number, field: number): number {
    return e * ENTRY_WORDS + field;
  }

  /** Word `field` of entry `e` (plain read: fields other than STATE/HOME/RUNNER never change). */
  get(e: number, field: number): number {
    return this.w[e * ENTRY_WORDS + field]!;
  }

  /** Main thread: records a loop and publishes it RUNNABLE; returns its entry, or −1 when full. */
  add(s: LoopSpec): number {
    let e = 0;
    while (e < this.capacity && Atomics.load(this.w, this.at(e, L.STATE)) !== LoopState.FREE) e++;
    if (e === this.capacity) return -1;
    const w = this.w;
    const b = e * ENTRY_WORDS;
    w.fill(0, b, b + ENTRY_WORDS);
    w[b + L.HOME] = -1;
    w[b + L.RUNNER] = FREE_RUNNER;
    w[b + L.LAST_CORE] = -1;
    w[b + L.LOOP_ID] = this.nextId++;
    w[b + L.GUEST_ID] = s.guestId;
    w[b + L.VCPU_ID] = s.vcpuId;
    w[b + L.IN_ADDR] = s.inAddr;
    w[b + L.IN_BYTES] = s.inBytes;
    w[b + L.OUT_ADDR] = s.outAddr;
    w[b + L.OUT_BYTES] = s.outBytes;
    w[b + L.HDEC_TICKS] = s.hdecTicks;
    w[b + L.ROOT_ADDR] = s.root.base;
    w[b + L.ADDR_BITS] = s.root.addrBits;
    w[b + L.ROOT_BITS] = s.root.rootBits;
    w[b + L.API] = s.api;
    if (s.agent) {
      w[b + L.AGENT_KIND] = s.agent.kind;
      w[b + L.AGENT_SEED] = s.agent.seed;
      w[b + L.AGENT_ITERATIONS] = s.agent.iterations;
      w[b + L.AGENT_ARG] = s.agent.arg;
    }
    if (s.policy) {
      w[b + L.REFRESH_EVERY] = s.policy.refreshEvery;
      w[b + L.REFRESH_ADDR] = s.policy.refreshAddr;
      w[b + L.REFRESH_BYTES] = s.policy.refreshBytes;
      w[b + L.PENDING_EVERY] = s.policy.pendingEvery;
      w[b + L.IRQ_EVERY] = s.policy.irqEvery;
      w[b + L.IRQ_FLAGS] = s.policy.irqFlags;
      w[b + L.LPCR_HI] = s.policy.lpcrHi;
      w[b + L.LPCR_LO] = s.policy.lpcrLo;
      w[b + L.DB_THREADS] = s.policy.doorbellThreads;
      w[b + L.DB_FLAGS] = s.policy.doorbellFlags;
      w[b + L.VPA_FLAGS] = s.policy.vpaFlags;
    }
    Atomics.store(w, b + L.STATE, LoopState.RUNNABLE);
    return e;
  }

  /** The guest's partition-scoped tree, as the entry records it. */
  root(e: number): RadixRoot {
    const b = e * ENTRY_WORDS;
    return {
      base: (this.w[b + L.ROOT_ADDR]! >>> 0) as L1RA,
      addrBits: this.w[b + L.ADDR_BITS]!,
      rootBits: this.w[b + L.ROOT_BITS]!,
    };
  }

  /** The owner-side policy of a vCPU loop's entry (all zero: none). */
  policy(e: number): LoopPolicy {
    const b = e * ENTRY_WORDS;
    return {
      refreshEvery: this.w[b + L.REFRESH_EVERY]!,
      refreshAddr: this.w[b + L.REFRESH_ADDR]! >>> 0,
      refreshBytes: this.w[b + L.REFRESH_BYTES]!,
      pendingEvery: this.w[b + L.PENDING_EVERY]!,
      irqEvery: this.w[b + L.IRQ_EVERY]!,
      irqFlags: this.w[b + L.IRQ_FLAGS]!,
      lpcrHi: this.w[b + L.LPCR_HI]!,
      lpcrLo: this.w[b + L.LPCR_LO]!,
      doorbellThreads: this.w[b + L.DB_THREADS]!,
      doorbellFlags: this.w[b + L.DB_FLAGS]!,
      vpaFlags: this.w[b + L.VPA_FLAGS]!,
    };
  }

  /** The entry of vCPU `vcpuId` of guest `guestId` while it is runnable, or −1. */
  find(guestId: number, vcpuId: number): number {
    for (let e = 0; e < this.capacity; e++) {
      const b = e * ENTRY_WORDS;
      if (
        this.w[b + L.GUEST_ID] === guestId &&
        this.w[b + L.VCPU_ID] === vcpuId &&
        this.state(e) === LoopState.RUNNABLE &&
        this.w[b + L.API] !== NestedApi.AGENT
      )
        return e;
    }
    return -1;
  }

  /** Main thread: frees an entry (its guest was deleted; no core steps it any more). */
  free(e: number): void {
    Atomics.store(this.w, this.at(e, L.STATE), LoopState.FREE);
  }

  /** State of entry `e`. */
  state(e: number): number {
    return Atomics.load(this.w, this.at(e, L.STATE));
  }

  /** True once the loop is finished (exited, failed or stopped). */
  isDone(e: number): boolean {
    return Atomics.load(this.w, this.at(e, L.STATE)) !== LoopState.RUNNABLE;
  }

  /** Marks a loop finished; any thread. Returns false if it already was. */
  markDone(e: number): boolean {
    return (
      Atomics.compareExchange(this.w, this.at(e, L.STATE), LoopState.RUNNABLE, LoopState.DONE) ===
      LoopState.RUNNABLE
    );
  }

  /** Marks every loop of guest `guestId` finished (its exit_group, or a failure of one vCPU). */
  finishGuest(guestId: number): void {
    for (let e = 0; e < this.capacity; e++)
      if (this.w[e * ENTRY_WORDS + L.GUEST_ID] === guestId) this.markDone(e);
  }

  /** Core the loop is placed on. */
  home(e: number): number {
    return Atomics.load(this.w, this.at(e, L.HOME));
  }

  /** Coordinator: places the loop on `core`. */
  setHome(e: number, core: number): void {
    Atomics.store(this.w, this.at(e, L.HOME), core);
  }

  /** A core takes the loop to step it; false if another core is stepping it. */
  tryTake(e: number, core: number): boolean {
    return Atomics.compareExchange(this.w, this.at(e, L.RUNNER), FREE_RUNNER, core) === FREE_RUNNER;
  }

  /** The stepping core gives the loop back (after its last write for this step). */
  release(e: number, core: number): void {
    const prev = Atomics.compareExchange(this.w, this.at(e, L.RUNNER), core, FREE_RUNNER);
    if (prev !== core) throw new Error(`loop ${e} released by core ${core} but its runner is ${prev}`);
  }

  /** Coordinator: takes the loop back from a core that died while stepping it. */
  revoke(e: number): void {
    Atomics.store(this.w, this.at(e, L.RUNNER), FREE_RUNNER);
  }

  /** Core stepping the loop now, or FREE_RUNNER. */
  runner(e: number): number {
    return Atomics.load(this.w, this.at(e, L.RUNNER));
  }

  /** L1 timebase at which the loop last left a core. */
  lastTb(e: number): number {
    return this.f[(e * ENTRY_WORDS + L.LAST_TB) / 2]!;
  }

  /** Records the L1 timebase at which the loop leaves a core (by its runner). */
  setLastTb(e: number, tb: number): void {
    this.f[(e * ENTRY_WORDS + L.LAST_TB) / 2] = tb;
  }

  /**
   * Records that core `core` (the runner) steps the loop now; returns the core that stepped it
   * before (−1: none).
   */
  takeLastCore(e: number, core: number): number {
    const i = e * ENTRY_WORDS + L.LAST_CORE;
    const before = this.w[i]!;
    this.w[i] = core;
    return before;
  }

  /** Requests still to be carried by an entry of the loop (RunRequest bits; its runner only). */
  runRequests(e: number): number {
    return this.w[e * ENTRY_WORDS + L.RUN_REQUESTS]!;
  }

  /** Adds (`on`) or drops (`!on`) RunRequest bits `bits` (the loop's runner). */
  setRunRequests(e: number, bits: number, on: boolean): void {
    const i = e * ENTRY_WORDS + L.RUN_REQUESTS;
    this.w[i] = on ? this.w[i]! | bits : this.w[i]! & ~bits;
  }

  /** L1 address of the L2's registered VPA, or −1 (the loop's runner). */
  vpa(e: number): number {
    const b = e * ENTRY_WORDS;
    if (this.w[b + L.VPA_ON] === 0) return -1;
    return this.w[b + L.VPA_HI]! * 4294967296 + (this.w[b + L.VPA_LO]! >>> 0);
  }

  /** Records the L2's VPA at L1 address `l1ra` (−1: none). */
  setVpa(e: number, l1ra: number): void {
    const b = e * ENTRY_WORDS;
    this.w[b + L.VPA_ON] = l1ra < 0 ? 0 : 1;
    this.w[b + L.VPA_HI] = l1ra < 0 ? 0 : Math.floor(l1ra / 4294967296);
    this.w[b + L.VPA_LO] = l1ra < 0 ? 0 : l1ra | 0;
  }

  /** Counts one step of the loop (by its runner); returns the count. */
  countStep(e: number): number {
    return ++this.w[e * ENTRY_WORDS + L.STEPS]!;
  }
}

/**
 * The L0 hypervisor: answers every hcall an L1 makes, with PAPR register semantics
 * (`hcall(opcode, regs)`: r3 in, status back in r3, outputs in r4..). Buffers are addresses in L1
 * memory, read and written there as a real L0 would.
 *
 * One L0 object owns the partition state in the deterministic mode; in the multicore runtime the
 * coordinator's L0 does the global operations and each core serves the per-vCPU fast path on the
 * same shared state (docs/architecture.md, "L0 state").
 */

import type { CodeGeneration } from '../../cores/isa/predecode.js';
import { R, VCPU_BYTES, Vcpu } from '../../cores/vcpu.js';
import { GEN_ANY, Generations } from '../../mem/generations.js';
import { InvalidationAcks } from '../../mem/invalidation.js';
import { GUEST_ACCESS, type WalkOptions } from '../../mem/radix.js';
import { GuestRam } from '../../mem/ram.js';
import { HcallLevel, WaitFor } from '../../src/trace/layout.js';
import { type TraceRecorder, wallMicros } from '../../src/trace/recorder.js';
import { DefaultLimits, H, Hcall, type Limits } from '../papr.js';
import { SplitMix32 } from '../prng.js';
import { CoreSeat } from './core-seat.js';
import { HCALL_HANDLERS } from './hcalls/index.js';
import { COORDINATOR_CORE, G, Partitions } from './partitions.js';
import type { HcallRegs } from './regs.js';
import { makeGuestCheck, makeThreadCheck } from './state.js';
import { L0Stats } from './stats.js';

/** Hcalls whose r5 names a guest (for traces). */
const TRACED_GUEST_HCALLS = new Set<number>([Hcall.H_GUEST_CREATE_VCPU, Hcall.H_GUEST_DELETE]);

/** Hcalls whose r5/r6 name one vCPU (guest id, vCPU id). */
const PER_VCPU_HCALLS = new Set<number>([
  Hcall.H_GUEST_RUN_VCPU,
  Hcall.H_GUEST_GET_STATE,
  Hcall.H_GUEST_SET_STATE,
]);

/** The most recent CPU mode this L0 offers its L1 for L2s (capability bits, spec §6). */
export type CpuMode = 'power9' | 'power10' | 'power11';

/** Switches that make L0 misbehave on purpose, as real L0s may, to test L1 retry paths. */
export interface FaultInjection {
  /** H_GUEST_CREATE answers H_BUSY (with a continue token) this many times before succeeding. */
  createBusy: number;
  /** H_GUEST_DELETE answers H_BUSY this many times per guest before deleting. */
  deleteBusy: number;
  /** Cores never acknowledge invalidations (they still drop the entries): each invalidation times out. */
  dropAcks?: boolean;
  /** Cores acknowledge an invalidation only this many check points after they dropped the entries. */
  delayAcks?: number;
}

/**
 * Deliberately broken behaviours, for the stress tool's own tests: a stress check that never
 * caught a planted bug proves nothing. Test-only (`nestsim stress --mutant`); never on otherwise.
 */
export interface Mutants {
  /** Cores keep cached translations across invalidations (and acknowledge them anyway). */
  ignoreInvalidations?: boolean;
  /** stcx. succeeds without a valid reservation (it stores like a plain store). */
  stcxWithoutReservation?: boolean;
  /** H_GUEST_SET_STATE of a vCPU silently skips this element ID. */
  setStateDrops?: number;
  /**
   * H_GUEST_RUN_VCPU of a guest without a partition table answers H_NOT_AVAILABLE (QEMU's code,
   * spec §5.6) instead of H_PARTITION_PAGE_TABLE_NOT_DEFINED: a code the hcall may not give.
   */
  runWithoutTableNotAvailable?: boolean;
  /**
   * L1 model bugs (L0 ignores them; the stressors hand them to the L1 loops they set up, see
   * hypervisor/l1/virtual-irq.ts IrqBug): L1 sends its LPCR copy without masking MER off first
   * (the MER flood), or never sends the LPCR when MER changes (MER not passed to L0).
   */
  merUnmasked?: boolean;
  merNotPassed?: boolean;
  /** L1 model bug: L1's doorbell emulation never sends DPDES to L0 (doorbells.ts DoorbellBug). */
  dpdesNotPassed?: boolean;
  /** L1 model bug: a VPA deregistration answers H_SUCCESS but L1 forgets it (vcpu-loop.ts VpaBug). */
  vpaKeptAfterDeregister?: boolean;
}

/** Everything that configures an L0. */
export interface L0Config {
  limits: Limits;
  /** vCPU slots over all guests (the pool; exhausted → H_NOT_ENOUGH_RESOURCES). */
  maxVcpus: number;
  maxMode: CpuMode;
  /** The L1's own PVR; new guests start with it as their logical PVR. */
  l1Pvr: number;
  faults: FaultInjection;
  /**
   * Instructions an L2 vCPU runs per H_GUEST_RUN_VCPU before L0 takes the core back (exit reason
   * 0, "stopped": L1 runs it again). With a seed, each slice is drawn from [slice/2, 3·slice/2).
   */
  sliceInstructions: number;
  /** Seed of L0's own choices (slice lengths); undefined: fixed slices. */
  seed?: number;
  /** How partition-scoped walks treat R/C (spec §15.6): update them, or fault as POWER9 does. */
  walk: WalkOptions;
  /** Bytes of L1 memory when the caller does not hand L0 a RAM of its own (tests, tools). */
  l1MemoryBytes: number;
  /** Test-only broken behaviours (see Mutants); empty in every real run. */
  mutants: Mutants;
  /**
   * How long an invalidation waits for the cores running the partition to acknowledge; a core that
   * misses it is recorded as an invariant violation (L0Stats.violations), never waited on forever.
   */
  ackDeadlineMs: number;
}

/**
 * The shared memory of one L0 that every thread's view attaches to (docs/architecture.md, "L0
 * state"): plain data and SABs, so it travels to core workers as it is.
 */
export interface L0SharedState {
  config: L0Config;
  ram: SharedArrayBuffer;
  partitions: SharedArrayBuffer;
  vcpus: SharedArrayBuffer;
  generations: SharedArrayBuffer;
  codeGeneration: SharedArrayBuffer;
  /** Invalidation acknowledgement words of the cores (absent: no other core runs). */
  acks?: SharedArrayBuffer;
}

/** Defaults: QEMU's limits, a POWER10 L0. */
export function defaultL0Config(overrides: Partial<L0Config> = {}): L0Config {
  return {
    limits: { ...DefaultLimits },
    maxVcpus: 256,
    maxMode: 'power10',
    l1Pvr: 0x0080_0200, // a POWER10 DD2.0 PVR
    faults: { createBusy: 0, deleteBusy: 0 },
    l1MemoryBytes: 64 << 20,
    sliceInstructions: 2_000_000,
    walk: GUEST_ACCESS,
    ackDeadlineMs: 10_000,
    mutants: {},
    ...overrides,
  };
}

/** A handler: reads arguments from `r`, writes outputs to `r`, returns the status for r3. */
export type HcallHandler = (l0: L0, r: HcallRegs, core: number) => number;

/** The L0 hypervisor of one simulation. */
export class L0 {
  readonly parts: Partitions;
  /** The canonical register areas of every vCPU slot, VCPU_BYTES apart (cores/vcpu.ts). */
  readonly vcpuSab: SharedArrayBuffer;
  private readonly vcpuViews: Vcpu[] = [];
  readonly stats = new L0Stats();
  /** Why the last hcall failed, for logs and traces (empty after a success). */
  lastReason = '';
  /**
   * Pending H_GUEST_CREATE continuation (fault injection): the token L1 must pass back (0n: none),
   * the H_BUSY answers still to give, and the next token value to hand out.
   */
  createToken = { value: 0n, busyLeft: 0, next: 0x1000 };
  /** Guest id → H_BUSY answers still to give to H_GUEST_DELETE (fault injection). */
  readonly deleteBusyLeft = new Map<number, number>();
  private readonly seats: CoreSeat[] = [];
  /** Value checks of SET_STATE elements (state.ts), made once. */
  readonly threadValueCheck = makeThreadCheck(this);
  readonly guestValueCheck = makeGuestCheck(this);
  private readonly rng: SplitMix32 | undefined;
  /** The cores' invalidation acknowledgements, when other cores run (multicore runtime). */
  acks: InvalidationAcks | null = null;

  /**
   * `ram` is L1's memory: every buffer address an hcall names is a real address in it.
   * `gens` are the per-LPID TLB generations every core checks (mem/generations.ts).
   * `shared`: attach to the partition state of an L0 made elsewhere (a core worker's view).
   */
  constructor(
    readonly config: L0Config = defaultL0Config(),
    readonly ram: GuestRam = GuestRam.create(config.l1MemoryBytes),
    readonly gens: Generations = Generations.create(),
    /** Code-modification counter shared by every core (L1 writing L2 code bumps it). */
    readonly codeGen: CodeGeneration = { words: new Int32Array(new SharedArrayBuffer(4)), index: 0 },
    shared?: { partitions: SharedArrayBuffer; vcpus: SharedArrayBuffer },
    /** Seeds this view's own choices apart from other views' (a core's index). */
    seedSalt = 0,
  ) {
    this.rng = config.seed === undefined ? undefined : new SplitMix32(config.seed + seedSalt);
    const geometry = { limits: config.limits, maxVcpus: config.maxVcpus };
    this.parts = shared ? Partitions.attach(shared.partitions, geometry) : Partitions.create(geometry);
    this.vcpuSab = shared?.vcpus ?? new SharedArrayBuffer(config.maxVcpus * VCPU_BYTES);
    this.createToken.busyLeft = config.faults.createBusy;
  }

  /** A view of the L0 whose shared memory is `s`, for the thread of core `core` (or the coordinator). */
  static attach(s: L0SharedState, core: number): L0 {
    const l0 = new L0(
      s.config,
      GuestRam.attach(s.ram),
      Generations.attach(s.generations),
      { words: new Int32Array(s.codeGeneration), index: 0 },
      { partitions: s.partitions, vcpus: s.vcpus },
      core + 1,
    );
    if (s.acks) l0.acks = InvalidationAcks.attach(s.acks);
    return l0;
  }

  /** The shared memory of this L0, for attaching views on other threads. */
  shared(): L0SharedState {
    return {
      config: this.config,
      ram: this.ram.sab,
      partitions: this.parts.sab,
      vcpus: this.vcpuSab,
      generations: this.gens.sab,
      codeGeneration: this.codeGen.words.buffer as SharedArrayBuffer,
      ...(this.acks ? { acks: this.acks.sab } : {}),
    };
  }

  /**
   * Executes one hcall. `r` holds r3 (opcode) and the arguments; on return r3 holds the status
   * (also returned) and r4.. the outputs. Unknown opcodes get H_FUNCTION. Never throws for any
   * value a guest can choose.
   */
  hcall(r: HcallRegs, core = 0): number {
    const opcode = r.num(3);
    const handler = HCALL_HANDLERS.get(opcode);
    this.lastReason = '';
    // Per-vCPU hcalls are counted per vCPU too (GET/SET_STATE per exit is a number users watch).
    const perVcpu = PER_VCPU_HCALLS.has(opcode);
    const guestId = perVcpu || TRACED_GUEST_HCALLS.has(opcode) ? r.num(5) : -1;
    const vcpuId = perVcpu || opcode === Hcall.H_GUEST_CREATE_VCPU ? r.num(6) : -1;
    const tr = this.traces.size === 0 ? undefined : this.traces.get(core);
    const v0 = tr === undefined ? 0 : this.clockOf(core);
    const w0 = tr === undefined ? 0 : wallMicros();
    this.hcallCore = core;
    const rc = handler
      ? handler(this, r, core)
      : this.fail(H.FUNCTION, `hcall 0x${opcode.toString(16)} not offered`);
    this.hcallCore = COORDINATOR_CORE;
    r.setInt(3, rc);
    this.stats.hcall(opcode, rc);
    if (perVcpu && rc === H.SUCCESS) this.stats.vcpuHcall(guestId, vcpuId, opcode);
    if (tr !== undefined) {
      const guest = opcode === Hcall.H_GUEST_CREATE && rc === H.SUCCESS ? r.num(4) : guestId;
      tr.hcall(HcallLevel.L1_TO_L0, guest, vcpuId, opcode, rc, v0, this.clockOf(core), w0, wallMicros());
    }
    return rc;
  }

  /**
   * Trace recorders of the cores this view serves, by core (COORDINATOR_CORE: the coordinator's
   * own hcalls); empty when the run is not traced, so tracing off costs one size check per hcall
   * and per run.
   */
  readonly traces = new Map<number, TraceRecorder>();
  /** Virtual time of the coordinator's trace events (the machine's latest timebase). */
  coordinatorClock: () => number = () => 0;
  /** The core whose hcall is being served (invalidations are recorded on its track). */
  private hcallCore = COORDINATOR_CORE;

  /** Virtual time (L1 timebase) on `core`, for traces. */
  clockOf(core: number): number {
    return core === COORDINATOR_CORE ? this.coordinatorClock() : this.seat(core).core.tb;
  }

  /** The seat of core `core`: its interpreter and partition-scoped TLB (created on first use). */
  seat(core: number): CoreSeat {
    let s = this.seats[core];
    if (!s) {
      s = new CoreSeat(core, this.ram, this.gens, this.parts.w, this.config.walk, this.codeGen);
      if (this.acks) s.partition.joinBroadcasts(this.acks, core);
      const { faults, mutants } = this.config;
      s.partition.misbehave({
        ignoreInvalidations: mutants.ignoreInvalidations === true,
        dropAcks: faults.dropAcks === true,
        delayAcks: faults.delayAcks ?? 0,
      });
      s.core.cpu.stcxWithoutReservation = mutants.stcxWithoutReservation === true;
      this.seats[core] = s;
    }
    return s;
  }

  /** Instructions of the next time slice of vCPU slot `slot` (seeded when a seed is set). */
  sliceFor(_slot: number): number {
    const base = this.config.sliceInstructions;
    if (!this.rng) return base;
    return Math.floor(base / 2) + this.rng.below(Math.max(1, base));
  }

  /** The register area of vCPU slot `slot`. */
  vcpu(slot: number): Vcpu {
    let v = this.vcpuViews[slot];
    if (!v) {
      v = new Vcpu(this.vcpuSab, slot * VCPU_BYTES);
      this.vcpuViews[slot] = v;
    }
    return v;
  }

  /**
   * A slot is handed to a new vCPU: its registers start zeroed, with the guest's current TB offset
   * (decisions table: TB_OFFSET set before a vCPU exists applies to it too).
   */
  vcpuCreated(slot: number, guestId: number): void {
    const v = this.vcpu(slot);
    v.clear();
    v.w[R.TB_OFFSET] = this.parts.w[this.parts.guestWord(guestId, G.TB_OFFSET_HI)]!;
    v.w[R.TB_OFFSET + 1] = this.parts.w[this.parts.guestWord(guestId, G.TB_OFFSET_LO)]!;
  }

  /** Calls `fn(slot)` for every vCPU slot of guest `guestId`. */
  forEachVcpu(guestId: number, fn: (slot: number) => void): void {
    const n = this.parts.w[this.parts.guestWord(guestId, G.VCPUS)]!;
    for (let v = 0, seen = 0; v < this.config.limits.vcpusPerGuest && seen < n; v++) {
      const s = this.parts.slotOf(guestId, v);
      if (s >= 0) {
        seen++;
        fn(s);
      }
    }
  }

  /** Sets the TB offset a vCPU runs with (from guest-wide TB_OFFSET). */
  setTbOffset(slot: number, hi: number, lo: number): void {
    const v = this.vcpu(slot);
    v.w[R.TB_OFFSET] = hi;
    v.w[R.TB_OFFSET + 1] = lo;
  }

  /** Called once a guest is gone: its translations must go from every core. */
  guestDeleted(guestId: number): void {
    this.invalidatePartition(guestId);
  }

  /**
   * Makes every cached translation of partition `lpid` stale on every core, and returns once no
   * core can use one any more: each core drops them at its next check point, and a core that is
   * not running will check before its next access. In the deterministic mode no core runs during
   * an hcall, so the bump alone completes it; in the multicore runtime it also waits for the acks
   * of the cores running `lpid` (mem/invalidation.ts).
   */
  invalidatePartition(lpid: number): void {
    const core = this.hcallCore;
    const tr = this.traces.size === 0 ? null : (this.traces.get(core) ?? null);
    const v0 = tr === null ? 0 : this.clockOf(core);
    const w0 = tr === null ? 0 : wallMicros();
    this.gens.bump(lpid);
    this.stats.invalidations++;
    const acks = this.acks;
    if (acks === null) {
      tr?.invalidation(lpid, 0, 0, 0, v0, v0, w0, wallMicros());
      return;
    }
    const bumped = Atomics.load(this.gens.words, GEN_ANY);
    const w = acks.await(lpid, bumped, this.config.ackDeadlineMs);
    this.stats.ackWaits += w.waitedFor;
    if (tr !== null) {
      const w1 = wallMicros();
      if (w.waitedFor > 0) tr.wait(WaitFor.INVALIDATION_ACKS, v0, v0, w0, w1);
      tr.invalidation(lpid, w.ackedLo, w.ackedHi, w.waitedFor, v0, v0, w0, w1);
    }
    if (w.late >= 0)
      this.stats.violation(
        `core ${w.late} did not acknowledge the invalidation of LPID ${lpid} within ${this.config.ackDeadlineMs} ms`,
      );
  }

  /** Records why an hcall fails and returns its code (handlers: `return l0.fail(H.P2, '…')`). */
  fail(rc: number, reason: string): number {
    this.lastReason = reason;
    return rc;
  }
}

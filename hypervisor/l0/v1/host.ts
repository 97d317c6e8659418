/**
 * L0's state for the v1 API, in shared memory so that H_ENTER_NESTED can be served on whichever
 * core runs the L1 vCPU loop (docs/architecture.md, "L0 state"), the same way the v2 partition
 * state is (hypervisor/l0/partitions.ts). Three SharedArrayBuffers, all L0 memory that L1 never
 * sees:
 *   state   the words below;
 *   vcpus   one register area (cores/vcpu.ts layout, VCPU_BYTES) per vCPU slot;
 *   shadow  L0's own memory for the shadow partition-scoped tables (a GuestRam, 4 KiB frames).
 *
 * Layout of `state` (Int32 words):
 *   header   HEADER_WORDS                          V1Hdr
 *   guests   (maxLpid + 1) × GUEST_WORDS           VG, indexed by L1's LPID (0 unused)
 *   map      (maxLpid + 1) × vcpuTokens            slot + 1, MAP_CREATING, or 0 (lazily backed)
 *   slots    maxVcpus × SLOT_WORDS                 VS
 *   bitmap   frames / 32                           one bit per 4 KiB frame of `shadow`, 1 = used
 *   links    shadowBytes / 64 KiB                  next retired root after the 64 KiB root block
 *
 * Who writes what (every cross-thread word moves with Atomics):
 * - a guest record's STATE goes FREE → CREATING → ACTIVE → REMOVING → FREE by compare-exchange
 *   (creation on the first H_ENTER_NESTED for the LPID, on any core; removal under the record's
 *   LOCK); the other fields are written by the thread that moved STATE, before it publishes;
 * - a map entry goes 0 → MAP_CREATING → slot + 1 by compare-exchange (implicit vCPU creation) and
 *   back to 0 by compare-exchange by whoever frees the slot, so a slot is freed exactly once;
 * - a slot's OWNER moves FREE → core (claimed for a new vCPU), IDLE ⇄ core (runs) and → FREE, by
 *   compare-exchange, as in partitions.ts; only the holder writes the register area;
 * - EPOCH is bumped before any control operation edits or retires a guest's shadow tree; fills
 *   compare it before and after (shadow-table.ts);
 * - the frame bitmap is claimed bit by bit with compare-exchange and freed with Atomics.and.
 */
import { VCPU_BYTES, Vcpu } from '../../../cores/vcpu.js';
import { SHADOW_LPID_BASE } from '../../../mem/generations.js';
import { GuestRam } from '../../../mem/ram.js';
import { Owner } from '../partitions.js';
import { checkV1Config, type V1Config } from './config.js';

/** Header words. */
export const V1Hdr = {
  /** The registered PTCR as one word (table base | PATS; both fit: the table lies in L1 RAM); 0 = none. */
  PTCR: 0,
  /** Serialises H_SET_PARTITION_TABLE calls. */
  PTCR_LOCK: 1,
  ACTIVE_GUESTS: 2,
  ACTIVE_VCPUS: 3,
  SLOT_HINT: 4,
  FRAME_HINT: 5,
  /** 4 KiB frames of shadow memory in use (tables and roots). */
  FRAMES_IN_USE: 6,
} as const;
const HEADER_WORDS = 16;

/** Lifecycle of a guest record. */
export const V1GuestState = { FREE: 0, CREATING: 1, ACTIVE: 2, REMOVING: 3 } as const;

/** Words of a guest record (one per L1 LPID). */
export const VG = {
  STATE: 0,
  /** Bumped at every creation and removal, so a slot never outlives its guest unnoticed. */
  INCARNATION: 1,
  /** Control lock (invalidations, PATE refresh, removal); fills never take it. */
  LOCK: 2,
  /** L0 address of the current shadow root directory (64 KiB). */
  ROOT: 3,
  /** Fill epoch: bumped before the shadow tree is edited or replaced by a control operation. */
  EPOCH: 4,
  /** The PATE L1 wrote for this LPID, as read at creation or at the last RIC=2 flush. */
  PATE0_HI: 5,
  PATE0_LO: 6,
  PATE1_HI: 7,
  PATE1_LO: 8,
  VCPUS: 9,
  /** First retired shadow root waiting to be freed (its L0 address), or 0. */
  RETIRED: 10,
} as const;
const GUEST_WORDS = 16;

/** Map entry of a vCPU being created by some core. */
export const MAP_CREATING = -1;

/** Words of a vCPU slot. OWNER uses partitions.ts's Owner values. */
export const VS = {
  OWNER: 0,
  LPID: 1,
  TOKEN: 2,
  /** Incarnation of the guest the slot was created for. */
  INCARNATION: 3,
  /** Set by a removal to stop the holder at its next check point. */
  STOP: 4,
} as const;
const SLOT_WORDS = 8;

/** Sizes of shadow memory. */
export const FRAME = 4096;
/** A root directory: 2^13 entries of 8 bytes (spec §15.2). */
export const ROOT_BYTES = 0x1_0000;
const FRAMES_PER_ROOT = ROOT_BYTES / FRAME;

/** The shared memory of a V1Host: plain data and SABs, so it travels to core workers as it is. */
export interface V1Shared {
  config: V1Config;
  state: SharedArrayBuffer;
  vcpus: SharedArrayBuffer;
  shadow: SharedArrayBuffer;
}

/** A view of L0's v1 state; the same class on every thread. */
export class V1Host {
  readonly w: Int32Array;
  /** L0's own memory holding the shadow tables. */
  readonly shadow: GuestRam;
  private readonly guestBase: number;
  private readonly mapBase: number;
  private readonly slotBase: number;
  private readonly bitmapBase: number;
  private readonly bitmapWords: number;
  private readonly linkBase: number;
  private readonly views: Vcpu[] = [];
  /** Per-thread objects of other modules, keyed by module (core seats); never shared. */
  readonly local = new Map<string, unknown>();

  private constructor(
    readonly config: V1Config,
    readonly stateSab: SharedArrayBuffer,
    readonly vcpuSab: SharedArrayBuffer,
    shadowSab: SharedArrayBuffer,
  ) {
    this.w = new Int32Array(stateSab);
    this.shadow = GuestRam.attach(shadowSab);
    const lpids = config.maxLpid + 1;
    this.guestBase = HEADER_WORDS;
    this.mapBase = this.guestBase + lpids * GUEST_WORDS;
    this.slotBase = this.mapBase + lpids * config.vcpuTokens;
    this.bitmapBase = this.slotBase + config.maxVcpus * SLOT_WORDS;
    this.bitmapWords = config.shadowMemoryBytes / FRAME / 32;
    this.linkBase = this.bitmapBase + this.bitmapWords;
    if (this.linkBase + config.shadowMemoryBytes / ROOT_BYTES > this.w.length)
      throw new Error('v1 state SAB too small for its configuration');
  }

  /** Words of `state` a configuration needs. */
  private static words(c: V1Config): number {
    const lpids = c.maxLpid + 1;
    return (
      HEADER_WORDS +
      lpids * GUEST_WORDS +
      lpids * c.vcpuTokens +
      c.maxVcpus * SLOT_WORDS +
      c.shadowMemoryBytes / FRAME / 32 +
      c.shadowMemoryBytes / ROOT_BYTES
    );
  }

  /** Fresh, empty v1 state (throws a UserError for a configuration that cannot work). */
  static create(config: V1Config): V1Host {
    checkV1Config(config);
    const h = new V1Host(
      config,
      new SharedArrayBuffer(V1Host.words(config) * 4),
      new SharedArrayBuffer(config.maxVcpus * VCPU_BYTES),
      new SharedArrayBuffer(config.shadowMemoryBytes),
    );
    // Frames 0..15 are never handed out, so that address 0 can mean "none" in every word.
    h.w[h.bitmapBase] = 0xffff;
    h.w[V1Hdr.FRAMES_IN_USE] = 0;
    return h;
  }

  /** Views v1 state created on another thread. */
  static attach(s: V1Shared): V1Host {
    return new V1Host(s.config, s.state, s.vcpus, s.shadow);
  }

  /** What another thread needs to attach. */
  get shared(): V1Shared {
    return { config: this.config, state: this.stateSab, vcpus: this.vcpuSab, shadow: this.shadow.sab };
  }

  /** The shadow LPID of L1's LPID `lpid`: its TLB tag and generation word (mem/generations.ts). */
  static shadowLpid(lpid: number): number {
    return SHADOW_LPID_BASE + lpid;
  }

  /** The registered PTCR word (base | PATS), 0 when none. */
  ptcr(): number {
    return Atomics.load(this.w, V1Hdr.PTCR) >>> 0;
  }

  /** Index of word `field` of the guest record of LPID `lpid`. */
  guestWord(lpid: number, field: number): number {
    return this.guestBase + lpid * GUEST_WORDS + field;
  }

  /** Index of the map entry of (lpid, token). */
  mapIndex(lpid: number, token: number): number {
    return this.mapBase + lpid * this.config.vcpuTokens + token;
  }

  /** Index of word `field` of slot `slot`. */
  slotWord(slot: number, field: number): number {
    return this.slotBase + slot * SLOT_WORDS + field;
  }

  /** The register area of slot `slot`. */
  vcpu(slot: number): Vcpu {
    let v = this.views[slot];
    if (!v) {
      v = new Vcpu(this.vcpuSab, slot * VCPU_BYTES);
      this.views[slot] = v;
    }
    return v;
  }

  /** True when guest `lpid` is ACTIVE. */
  active(lpid: number): boolean {
    if (!Number.isInteger(lpid) || lpid < 1 || lpid > this.config.maxLpid) return false;
    return Atomics.load(this.w, this.guestWord(lpid, VG.STATE)) === V1GuestState.ACTIVE;
  }

  /** Takes a free slot for `holder` (held, not yet published); -1 when the pool is exhausted. */
  claimSlot(holder: number): number {
    const w = this.w;
    const n = this.config.maxVcpus;
    const start = Atomics.load(w, V1Hdr.SLOT_HINT);
    for (let k = 0; k < n; k++) {
      const s = (start + k) % n;
      const at = this.slotWord(s, VS.OWNER);
      if (Atomics.load(w, at) !== Owner.FREE) continue;
      if (Atomics.compareExchange(w, at, Owner.FREE, Owner.OWNER_CORE0 + holder) === Owner.FREE) {
        Atomics.store(w, V1Hdr.SLOT_HINT, (s + 1) % n);
        Atomics.add(w, V1Hdr.ACTIVE_VCPUS, 1);
        return s;
      }
    }
    return -1;
  }

  /** Takes an idle slot for `holder`; false when another core holds it (the caller answers H_BUSY). */
  acquire(slot: number, holder: number): boolean {
    const at = this.slotWord(slot, VS.OWNER);
    return Atomics.compareExchange(this.w, at, Owner.IDLE, Owner.OWNER_CORE0 + holder) === Owner.IDLE;
  }

  /** Gives a held slot back (IDLE). */
  release(slot: number, holder: number): void {
    const at = this.slotWord(slot, VS.OWNER);
    const prev = Atomics.compareExchange(this.w, at, Owner.OWNER_CORE0 + holder, Owner.IDLE);
    if (prev !== Owner.OWNER_CORE0 + holder)
      throw new Error(`v1 vCPU slot ${slot} released by core ${holder} but its owner word is ${prev}`);
    Atomics.notify(this.w, at);
  }

  /** The core holding `slot`, or -1. */
  holderOf(slot: number): number {
    const o = Atomics.load(this.w, this.slotWord(slot, VS.OWNER));
    return o >= Owner.OWNER_CORE0 ? o - Owner.OWNER_CORE0 : -1;
  }

  /** Takes guest `lpid`'s control lock (short critical sections; waits if another thread has it). */
  lock(lpid: number): void {
    const at = this.guestWord(lpid, VG.LOCK);
    while (Atomics.compareExchange(this.w, at, 0, 1) !== 0) Atomics.wait(this.w, at, 1, 5);
  }

  /**
   * Takes guest `lpid`'s control lock if it is free; false at once otherwise (a fill on a core must
   * never wait for a control operation, which may itself be waiting for that core's ack).
   */
  tryLock(lpid: number): boolean {
    return Atomics.compareExchange(this.w, this.guestWord(lpid, VG.LOCK), 0, 1) === 0;
  }

  /** Gives guest `lpid`'s control lock back. */
  unlock(lpid: number): void {
    const at = this.guestWord(lpid, VG.LOCK);
    Atomics.store(this.w, at, 0);
    Atomics.notify(this.w, at, 1);
  }

  // ---- shadow memory ------------------------------------------------------------------------

  /** A zeroed 4 KiB table of shadow memory (its L0 address), or -1 when shadow memory is full. */
  allocTable(): number {
    const w = this.w;
    const n = this.bitmapWords;
    const start = Atomics.load(w, V1Hdr.FRAME_HINT);
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const at = this.bitmapBase + i;
      for (;;) {
        const v = Atomics.load(w, at);
        if (v === -1) break;
        const bit = ~v & (v + 1); // lowest clear bit
        if (Atomics.compareExchange(w, at, v, v | bit) !== v) continue;
        Atomics.store(w, V1Hdr.FRAME_HINT, i);
        Atomics.add(w, V1Hdr.FRAMES_IN_USE, 1);
        const addr = (i * 32 + 31 - Math.clz32(bit)) * FRAME;
        this.shadow.u8.fill(0, addr, addr + FRAME);
        return addr;
      }
    }
    return -1;
  }

  /** A zeroed 64 KiB root directory aligned to its size, or -1. */
  allocRoot(): number {
    const w = this.w;
    for (let i = 0; i < this.bitmapWords; i++) {
      const at = this.bitmapBase + i;
      for (;;) {
        const v = Atomics.load(w, at);
        const half = (v & 0xffff) === 0 ? 0 : v >>> 16 === 0 ? 16 : -1;
        if (half < 0) break;
        if (Atomics.compareExchange(w, at, v, v | (0xffff << half)) !== v) continue;
        Atomics.add(w, V1Hdr.FRAMES_IN_USE, FRAMES_PER_ROOT);
        const addr = (i * 32 + half) * FRAME;
        this.shadow.u8.fill(0, addr, addr + ROOT_BYTES);
        return addr;
      }
    }
    return -1;
  }

  /** Frees a table (4 KiB) or a root (64 KiB) from allocTable / allocRoot. */
  free(addr: number, bytes: number): void {
    const first = addr / FRAME;
    const n = bytes / FRAME;
    const i = first >>> 5;
    const bits = n === 32 ? -1 : ((1 << n) - 1) << (first & 31);
    const prev = Atomics.and(this.w, this.bitmapBase + i, ~bits);
    if ((prev & bits) !== bits) throw new Error(`shadow memory at 0x${addr.toString(16)} freed twice`);
    Atomics.sub(this.w, V1Hdr.FRAMES_IN_USE, n);
  }

  /** Index of the retired-list link word of the root at `root`. */
  linkWord(root: number): number {
    return this.linkBase + root / ROOT_BYTES;
  }

  /** Bytes of shadow memory in use now. */
  shadowBytesInUse(): number {
    return Atomics.load(this.w, V1Hdr.FRAMES_IN_USE) * FRAME;
  }
}

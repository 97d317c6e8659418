/**
 * L0's partition state in shared memory: the negotiated capabilities, the guest table and the
 * pool of vCPU slots. It lives in a SharedArrayBuffer of its own (L0 memory, never visible to L1)
 * so that the per-vCPU fast path (H_GUEST_RUN_VCPU, GET/SET_STATE of a vCPU) can run on any core
 * thread while the coordinator alone creates and deletes (docs/architecture.md, "L0 state").
 *
 * Writers: only the coordinator writes the header, guest records and the vCPU map; a vCPU slot's
 * OWNER word moves by compare-exchange (idle → held by core k → idle), and only its holder writes
 * the slot's register area. Readers on other threads see a guest as ACTIVE only after every other
 * field of its record was written (the state word is published last, with Atomics.store).
 *
 * Layout (Int32 words):
 *   header      HEADER_WORDS
 *   guests      (maxGuestId + 1) × GUEST_WORDS       indexed by guest id (slot 0 unused)
 *   vcpuMap     (maxGuestId + 1) × vcpusPerGuest     slot index + 1, or 0 (lazily backed pages)
 *   slots       maxVcpus × SLOT_WORDS                control words of each vCPU slot
 */
import type { Limits } from '../papr.js';

/** Header words. */
export const Hdr = {
  CAPS_SET: 0,
  /** Capability bitmap chosen by SET_CAPABILITIES, high word (the mode bits live there). */
  CAPS_HI: 1,
  ACTIVE_GUESTS: 2,
  ACTIVE_VCPUS: 3,
} as const;
const HEADER_WORDS = 16;

/** Lifecycle of a guest record. */
export const GuestState = { FREE: 0, ACTIVE: 1, DELETING: 2 } as const;

/** Words of one guest record. */
export const G = {
  STATE: 0,
  /** Incarnation: bumped at every create and delete, so a reused id is never mistaken for the old guest. */
  INCARNATION: 1,
  LOGICAL_PVR: 2,
  VCPUS: 3,
  /** Partition table element 0x0005: root address hi/lo, EA bits, root directory bytes. */
  PT_ADDR_HI: 4,
  PT_ADDR_LO: 5,
  PT_EA_BITS: 6,
  PT_ROOT_BYTES: 7,
  /** Process table element 0x0006: address hi/lo, bytes hi/lo. */
  PRT_ADDR_HI: 8,
  PRT_ADDR_LO: 9,
  PRT_BYTES_HI: 10,
  PRT_BYTES_LO: 11,
  /** Guest-wide TB_OFFSET 0x0004; applies to vCPUs created later too (decisions table). */
  TB_OFFSET_HI: 12,
  TB_OFFSET_LO: 13,
} as const;
const GUEST_WORDS = 16;

/**
 * The holder number of the coordinator's own hcalls (L1's control path): never a core that runs
 * vCPUs, so a slot it takes for a GET/SET_STATE is told apart from one a core runs.
 */
export const COORDINATOR_CORE = 255;

/** Who holds a vCPU slot. Values ≥ OWNER_CORE0 mean "held by core (value − OWNER_CORE0)". */
export const Owner = { FREE: 0, IDLE: 1, OWNER_CORE0: 16 } as const;

/** Control words of one vCPU slot (the registers live in the vCPU register area, cores/vcpu.ts). */
export const S = {
  OWNER: 0,
  GUEST_ID: 1,
  VCPU_ID: 2,
  /** Incarnation of the guest this slot was created for. */
  GUEST_INCARNATION: 3,
  /** Set by the coordinator to make the holder stop at its next check point (delete, preempt). */
  STOP: 4,
} as const;
/** One 64-byte line per slot: the OWNER word is compare-exchanged on every run by the core that runs
 * the vCPU, and two slots on one line would make cores running different vCPUs contend. */
const SLOT_WORDS = 16;

/** Word index of the first slot: after the map, rounded up to a 64-byte line. */
function slotBaseOf(g: PartitionGeometry): number {
  const end = HEADER_WORDS + (g.limits.maxGuestId + 1) * (GUEST_WORDS + g.limits.vcpusPerGuest);
  return Math.ceil(end / SLOT_WORDS) * SLOT_WORDS;
}

/** Sizes that fix the layout. */
export interface PartitionGeometry {
  limits: Limits;
  /** vCPU slots in the pool, over all guests. */
  maxVcpus: number;
}

/** A view of the partition state SAB; the same class on the coordinator and on every core. */
export class Partitions {
  readonly w: Int32Array;
  private readonly guestBase: number;
  private readonly mapBase: number;
  private readonly slotBase: number;

  private constructor(
    readonly sab: SharedArrayBuffer,
    readonly geometry: PartitionGeometry,
  ) {
    const { limits, maxVcpus } = geometry;
    this.w = new Int32Array(sab);
    this.guestBase = HEADER_WORDS;
    this.mapBase = this.guestBase + (limits.maxGuestId + 1) * GUEST_WORDS;
    this.slotBase = slotBaseOf(geometry);
    if (this.slotBase + maxVcpus * SLOT_WORDS > this.w.length) throw new Error('partition SAB too small');
  }

  /** Bytes of shared memory the geometry needs. */
  static bytesFor(g: PartitionGeometry): number {
    return (slotBaseOf(g) + g.maxVcpus * SLOT_WORDS) * 4;
  }

  /** Allocates a fresh, empty partition state. */
  static create(g: PartitionGeometry): Partitions {
    return new Partitions(new SharedArrayBuffer(Partitions.bytesFor(g)), g);
  }

  /** Attaches to a partition state created elsewhere (a core worker). */
  static attach(sab: SharedArrayBuffer, g: PartitionGeometry): Partitions {
    return new Partitions(sab, g);
  }

  /** Index of word `field` of guest `id`'s record. */
  guestWord(id: number, field: number): number {
    return this.guestBase + id * GUEST_WORDS + field;
  }

  /** Index of word `field` of vCPU slot `slot`. */
  slotWord(slot: number, field: number): number {
    return this.slotBase + slot * SLOT_WORDS + field;
  }

  /** True when `id` names a live guest (not free, not being deleted). */
  guestActive(id: number): boolean {
    if (!Number.isInteger(id) || id < 1 || id > this.geometry.limits.maxGuestId) return false;
    return Atomics.load(this.w, this.guestWord(id, G.STATE)) === GuestState.ACTIVE;
  }

  /** The slot of vCPU `vcpuId` of guest `guestId`, or -1. */
  slotOf(guestId: number, vcpuId: number): number {
    const { maxGuestId, vcpusPerGuest } = this.geometry.limits;
    if (guestId < 1 || guestId > maxGuestId || vcpuId < 0 || vcpuId >= vcpusPerGuest) return -1;
    return Atomics.load(this.w, this.mapBase + guestId * vcpusPerGuest + vcpuId) - 1;
  }

  /** Coordinator only: records (or with slot = -1, clears) the map entry of a vCPU. */
  setSlotOf(guestId: number, vcpuId: number, slot: number): void {
    Atomics.store(this.w, this.mapBase + guestId * this.geometry.limits.vcpusPerGuest + vcpuId, slot + 1);
  }

  /** Coordinator only: lowest free guest id ≥ 1, or -1 when every id is taken. */
  lowestFreeGuestId(): number {
    for (let id = 1; id <= this.geometry.limits.maxGuestId; id++) {
      if (this.w[this.guestWord(id, G.STATE)] === GuestState.FREE) return id;
    }
    return -1;
  }

  /** Coordinator only: a free vCPU slot, or -1 when the pool is exhausted. */
  freeSlot(): number {
    for (let s = 0; s < this.geometry.maxVcpus; s++) {
      if (Atomics.load(this.w, this.slotWord(s, S.OWNER)) === Owner.FREE) return s;
    }
    return -1;
  }

  /**
   * Takes a vCPU slot for `holder` (a core number, or the coordinator's pseudo-core) if it is idle.
   * Returns true on success; false means another core holds it (the caller answers H_BUSY).
   */
  acquire(slot: number, holder: number): boolean {
    const idx = this.slotWord(slot, S.OWNER);
    return Atomics.compareExchange(this.w, idx, Owner.IDLE, Owner.OWNER_CORE0 + holder) === Owner.IDLE;
  }

  /** Gives a held slot back. */
  release(slot: number, holder: number): void {
    const idx = this.slotWord(slot, S.OWNER);
    const prev = Atomics.compareExchange(this.w, idx, Owner.OWNER_CORE0 + holder, Owner.IDLE);
    if (prev !== Owner.OWNER_CORE0 + holder) {
      throw new Error(`vCPU slot ${slot} released by core ${holder} but owner word is ${prev}`);
    }
    Atomics.notify(this.w, idx);
  }

  /**
   * Coordinator only: takes a held slot back from a core that died holding it (the run it was in
   * ends with the core). Returns false if the slot was not held by `holder`.
   */
  revoke(slot: number, holder: number): boolean {
    const idx = this.slotWord(slot, S.OWNER);
    if (
      Atomics.compareExchange(this.w, idx, Owner.OWNER_CORE0 + holder, Owner.IDLE) !==
      Owner.OWNER_CORE0 + holder
    )
      return false;
    Atomics.store(this.w, this.slotWord(slot, S.STOP), 0);
    Atomics.notify(this.w, idx);
    return true;
  }

  /** The core currently holding `slot`, or -1 when it is idle or free. */
  holderOf(slot: number): number {
    const o = Atomics.load(this.w, this.slotWord(slot, S.OWNER));
    return o >= Owner.OWNER_CORE0 ? o - Owner.OWNER_CORE0 : -1;
  }
}

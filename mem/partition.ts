/**
 * Partition-scoped translation as a core uses it: the per-core Tlb in front of the radix walk,
 * for the partition the core is running. This is the `Partition` seam of cores/mmu.ts
 * (`translate`, `cause`, `sync`). Invoked from: the core's memory path on an EA-TLB miss, and its
 * check point (`sync`).
 *
 * `translate` fills the TLB only for the access kind the walk granted (so a write hit means C is
 * set, spec §15.6) and only when the walk succeeded: faults are never cached, so a later fix by L1
 * (map, or setting R/C in ATOMIC_RC mode) takes effect without an invalidation.
 */
import type { InvalidationAcks } from './invalidation.js';
import { GUEST_ACCESS, partitionScopedWalk, type RadixRoot, Translation, type WalkOptions } from './radix.js';
import type { GuestRam } from './ram.js';
import type { Tlb } from './tlb.js';
import type { Access, L1RA, L2RA } from './types.js';

/** Translates L2RAs of one partition at a time through a Tlb and the radix walk. */
export class PartitionMmu {
  /** HDSISR bits of the last failed translate (HSRR1 bits for a fetch); 0 for a machine check. */
  cause = 0;
  /** The last failed translate touched memory outside L1 RAM: a machine check, not an HDSI/HISI. */
  machineCheck = false;
  /** The walk's record; after a miss that failed, it holds the level and entry for diagnostics. */
  readonly last = new Translation();
  private lpid = -1;
  private root: RadixRoot | null = null;
  /** Where this core acknowledges invalidation broadcasts (multicore runtime), else null. */
  private acks: InvalidationAcks | null = null;
  private core = 0;
  private acked = Number.NaN;

  constructor(
    private readonly ram: GuestRam,
    /** The core's TLB. */
    readonly tlb: Tlb,
    private readonly opts: WalkOptions = GUEST_ACCESS,
  ) {}

  /** Test-only misbehaviour (L0Config mutants and faults): what the stress checks must catch. */
  misbehave(m: { ignoreInvalidations: boolean; dropAcks: boolean; delayAcks: number }): void {
    this.ignoreInvalidations = m.ignoreInvalidations;
    this.dropAcks = m.dropAcks;
    this.delayAcks = m.delayAcks;
  }

  private ignoreInvalidations = false;
  private dropAcks = false;
  private delayAcks = 0;
  /** Check points left before a delayed ack is published. */
  private ackIn = 0;

  /** Makes this MMU take part in invalidation broadcasts as core `core` (mem/invalidation.ts). */
  joinBroadcasts(acks: InvalidationAcks, core: number): void {
    this.acks = acks;
    this.core = core;
  }

  /**
   * Selects the partition: its LPID (TLB tag) and tree root. No flush: entries are LPID-tagged.
   * Announces the LPID to invalidators before the run's first translation (its first check point
   * syncs the generations).
   */
  enter(lpid: number, root: RadixRoot): void {
    this.lpid = lpid;
    this.root = root;
    this.acks?.enter(this.core, lpid);
  }

  /** The run is over: this core uses none of the partition's translations until the next enter. */
  leave(): void {
    this.acks?.leave(this.core);
  }

  /** L1RA of `l2ra` for `access`, or −1 with `cause` / `machineCheck` set. */
  translate(l2ra: number, access: Access): number {
    const root = this.root;
    if (root === null) throw new Error('PartitionMmu.translate before enter()');
    const hit = this.tlb.lookup(this.lpid, l2ra as L2RA, access);
    if (hit >= 0) return hit;
    const t = this.last;
    if (!partitionScopedWalk(this.ram, root, l2ra as L2RA, access, this.opts, t)) {
      this.cause = t.cause;
      this.machineCheck = t.machineCheck;
      return -1;
    }
    this.tlb.fill(this.lpid, l2ra as L2RA, t.l1ra, access);
    return t.l1ra as L1RA;
  }

  /** Check point: applies generation bumps; true if cached translations were dropped. */
  sync(): boolean {
    const dropped = this.ignoreInvalidations ? this.tlb.skipGenerations() : this.tlb.syncGenerations();
    const acks = this.acks;
    if (acks !== null) {
      const applied = this.tlb.appliedGeneration;
      if (applied !== this.acked) {
        if (this.dropAcks) return dropped;
        if (this.delayAcks > 0 && this.ackIn === 0) this.ackIn = this.delayAcks + 1;
        if (this.ackIn > 0 && --this.ackIn > 0) return dropped;
        this.acked = applied;
        acks.ack(this.core, applied);
      }
    }
    return dropped;
  }
}

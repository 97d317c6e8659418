/**
 * Partition-scoped translation of a v1 L2 as a core does it (the `Partition` seam of cores/mmu.ts):
 * the core's TLB, tagged with the L2's shadow LPID, in front of a walk of the shadow tree L0 keeps
 * in its own memory (shadow-table.ts), which yields L1 real addresses. A shadow miss is L0's nested
 * page fault (spec §14.7), handled right here on the core, inside the access, with no exit:
 *
 *   1. translate the L2 real address through L1's partition-scoped tree for this L2 (its root from
 *      the PATE L1 registered), as the hardware would walk it (R/C set, or ATOMIC_RC faults, per
 *      L0Config.walk), then through L0's mapping of L1 (identity: an L1 real address is an offset
 *      in L1 RAM);
 *   2. if L1's tree lacks the translation, the fault goes to L1: `translate` fails with the cause
 *      L1's tree gives (NOPTE, PROTFAULT, R_BADCONFIG, ATOMIC_RC; PRTABLE_FAULT when a table of
 *      L1's could not be read), and the core raises HDSI 0xE00 / HISI 0xE20 with HDAR, HDSISR and
 *      ASDR as for any partition-scoped fault — the exit L1 sees;
 *   3. otherwise a shadow leaf goes in with the rights of L1's PTE (∩ L0's: all), L1's ATT, R, and
 *      C only when L1's PTE has C and this access is a store (so the first store after a read
 *      comes back to L0, which sees it in L1's PTE first); the access then completes.
 * Faults are never cached in the shadow tree, so L1 mapping a page needs no invalidation; any
 * change L1 makes to an existing mapping needs H_TLB_INVALIDATE (or H_RPT_INVALIDATE NESTED).
 *
 * Invoked from: the core's memory path (cores/mmu.ts) on an EA-TLB miss, for the v1 L2 the core
 * runs; `sync` at its check points.
 */
import type { AccessKind, Partition } from '../../../cores/mmu.js';
import type { PartitionMmu } from '../../../mem/partition.js';
import { Pte, partitionScopedWalk, type RadixRoot, Translation } from '../../../mem/radix.js';
import { bswap32 } from '../../../mem/ram.js';
import { Access, type L1RA, type L2RA } from '../../../mem/types.js';
import { StorageFault } from '../../papr.js';
import type { L0 } from '../l0.js';
import { V1Host, VG } from './host.js';
import { Install, installLeaf, ShadowHit, shadowShift, shadowWalk, Walk } from './shadow-table.js';

/** Fills that keep racing control operations give up after this many walks (then: an uncached answer). */
const MAX_FILL_ATTEMPTS = 64;

/** One core's translation of the v1 L2 it runs. */
export class ShadowPartition implements Partition {
  cause = 0;
  machineCheck = false;
  /**
   * After a forwarded PRTABLE_FAULT: the L2 address that faulted and the L1 address of the table
   * entry L0 could not read (ASDR must carry the latter, spec §14.7; the core writes the former).
   */
  prtableL2ra = -1;
  prtableAddr = -1;
  private lpid = 0;
  private shadowLpid = 0;
  private rootAt = 0;
  private epochAt = 0;
  private readonly hit = new ShadowHit();
  private readonly t = new Translation();
  private readonly l1Root: RadixRoot = { base: 0 as L1RA, addrBits: 52, rootBits: 13 };
  /** The partition MMU of the seat, entered for its invalidation acknowledgements only. */
  private static readonly NO_ROOT: RadixRoot = { base: 0 as L1RA, addrBits: 0, rootBits: 0 };

  constructor(
    private readonly host: V1Host,
    private readonly l0: L0,
    /** The core's partition MMU: its TLB caches our translations, its `sync` acknowledges invalidations. */
    readonly mmu: PartitionMmu,
  ) {}

  /** Selects v1 L2 `lpid` and announces its shadow LPID to invalidators (before the first access). */
  enter(lpid: number): void {
    this.lpid = lpid;
    this.shadowLpid = V1Host.shadowLpid(lpid);
    this.rootAt = this.host.guestWord(lpid, VG.ROOT);
    this.epochAt = this.host.guestWord(lpid, VG.EPOCH);
    this.prtableL2ra = -1;
    this.mmu.enter(this.shadowLpid, ShadowPartition.NO_ROOT);
  }

  /** The run is over (invalidators stop waiting for this core). */
  leave(): void {
    this.mmu.leave();
  }

  translate(l2ra: number, access: AccessKind): number {
    const tlb = this.mmu.tlb;
    const cached = tlb.lookup(this.shadowLpid, l2ra as L2RA, access);
    if (cached >= 0) return cached;
    const host = this.host;
    const r = shadowWalk(
      host.shadow.i32,
      Atomics.load(host.w, this.rootAt),
      l2ra,
      access,
      this.l0.ram.size,
      this.hit,
    );
    if (r === Walk.HIT) {
      tlb.fill(this.shadowLpid, l2ra as L2RA, this.hit.l1ra as L1RA, access);
      return this.hit.l1ra;
    }
    if (r === Walk.MACHINE_CHECK) return this.machineCheckFault();
    return this.nestedFault(l2ra, access);
  }

  sync(): boolean {
    return this.mmu.sync();
  }

  /** L0's nested page fault (header, steps 1–3). */
  private nestedFault(l2ra: number, access: AccessKind): number {
    const host = this.host;
    const hw = host.w;
    const ram = this.l0.ram;
    const t = this.t;
    const opts = this.l0.config.walk;
    const store = access === Access.Write ? StorageFault.ISSTORE : 0;
    const counters = this.l0.stats.shadowFaults;
    for (let attempt = 0; attempt < MAX_FILL_ATTEMPTS; attempt++) {
      const epoch0 = Atomics.load(hw, this.epochAt);
      this.loadL1Root();
      const ok = partitionScopedWalk(ram, this.l1Root, l2ra as L2RA, access, opts, t);
      // A control operation (flush, new PATE) ran during the walk: what it read may be stale.
      if (Atomics.load(hw, this.epochAt) !== epoch0) continue;
      if (!ok) {
        if (t.machineCheck && t.entry + 8 <= ram.size) return this.machineCheckFault();
        counters.forwarded++;
        this.machineCheck = false;
        if (t.machineCheck) {
          // A table of L1's is outside L1 RAM: L0 cannot read it.
          this.cause = StorageFault.PRTABLE_FAULT | store;
          this.prtableL2ra = l2ra;
          this.prtableAddr = t.entry;
        } else this.cause = t.cause;
        return -1;
      }
      const l1Lo = bswap32(Atomics.load(ram.i32, (t.entry >>> 2) + 1));
      let flags = (l1Lo & (Pte.ATT | Pte.READ | Pte.RW | Pte.EXEC)) | Pte.R;
      if (!opts.guestVisible)
        flags |= Pte.C; // no R/C tracking at all: never fault on it
      else if ((l1Lo & Pte.C) !== 0 && access === Access.Write) flags |= Pte.C;
      const shift = shadowShift(this.host.config.l0PageShift, t.pageShift);
      const root = Atomics.load(hw, this.rootAt);
      const got = installLeaf(host, this.lpid, root, l2ra, t.l1ra, shift, flags, epoch0);
      if (got === Install.RETRY) continue;
      if (got !== Install.OK) {
        counters.uncached++;
        if (got === Install.NO_MEMORY) counters.noMemory++;
        if (Atomics.load(hw, this.epochAt) !== epoch0) continue;
      }
      counters.fixed++;
      this.mmu.tlb.fill(this.shadowLpid, l2ra as L2RA, t.l1ra, access);
      return t.l1ra;
    }
    // Control operations kept landing mid-walk: let L1 see a fault; it finds the page mapped and
    // runs the vCPU again (the address space treats a mapped page's fault as stale).
    counters.forwarded++;
    this.machineCheck = false;
    this.cause = StorageFault.NOPTE | store;
    return -1;
  }

  /** The translation lands outside L1 RAM: a machine check (exit 0x200), as under v2. */
  private machineCheckFault(): number {
    this.machineCheck = true;
    this.cause = 0;
    return -1;
  }

  /**
   * L1's root for this L2 from the PATE dw0 cached in the guest record (spec §15.1). A PATE without
   * HR (an HPT guest: nested HPT is not supported, spec §14.7) or never written decodes to a
   * geometry the walker refuses with R_BADCONFIG, which goes to L1 as "unsupported MMU config".
   */
  private loadL1Root(): void {
    const hw = this.host.w;
    const hi = Atomics.load(hw, this.host.guestWord(this.lpid, VG.PATE0_HI));
    const lo = Atomics.load(hw, this.host.guestWord(this.lpid, VG.PATE0_LO));
    const root = this.l1Root;
    const radix = (hi & 0x8000_0000) !== 0;
    root.base = ((hi & 0x0fff_ffff) * 4294967296 + ((lo & 0xffff_ff00) >>> 0)) as L1RA;
    root.addrBits = radix ? ((((hi >>> 29) & 3) << 3) | ((lo >>> 5) & 7)) + 31 : 0;
    root.rootBits = lo & 0x1f;
  }
}

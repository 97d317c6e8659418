/**
 * The interpreter's memory path: effective address → L1 real address, then a typed-array access
 * into L1 RAM. Invoked from: every load/store semantic function (cores/isa/load-store.ts,
 * atomic.ts) and the run loop's instruction fetch (cores/interp.ts).
 *
 * Fast path: a small direct-mapped "EA TLB" per access kind (read / write / fetch), 256 entries
 * each, tag = EA page (hi word + page number of the lo word), value = L1RA of the page. It sits in
 * front of mem/'s per-core Tlb (keyed by L2RA and LPID) because what the interpreter has is an EA:
 * in guest real mode EA → L2RA is a mask, but with process-scoped translation (MSR[IR/DR] = 1,
 * spec §15.5) it is a second walk, and caching the composite EA → L1RA keeps that out of the hot
 * path too. The EA TLB is flushed whenever what it was derived from may have changed: MSR[IR/DR]
 * or PIDR change, a new vCPU or partition, and a TLB generation change seen at a check point.
 *
 * Translation (spec §15.4, §15.5):
 * - relocation off (MSR[IR] for fetch, MSR[DR] for data): L2RA = EA & 0x3FFF_FFFF_FFFF_FFFF, then
 *   the partition-scoped walk; a fault there is a hypervisor storage interrupt (HDSI 0xE00 / HISI
 *   0xE20) with HDAR / HDSISR / ASDR — an exit to L1;
 * - relocation on: process-scoped translation is not implemented yet; such accesses fault with
 *   Fault.UNSUPPORTED, which the core reports as an HEAI exit (see `Partition` for the seam).
 * - an L1RA outside L1 RAM (L1 mapped memory it does not have) is a machine check (exit 0x200).
 *
 * Failed accesses never throw: they set `faulted` and the fault fields, and the semantic function
 * returns `storageFault(...)` (cores/interrupts.ts).
 */
import type { CodeCache } from './isa/predecode.js';

/** Access kinds; also the index of each EA-TLB bank. */
export const Access = { READ: 0, WRITE: 1, FETCH: 2 } as const;
/** An access kind. */
export type AccessKind = (typeof Access)[keyof typeof Access];

/** Why an access failed. */
export const Fault = {
  NONE: 0,
  /** Partition-scoped translation failed: HDSI / HISI with cause in HDSISR bits. */
  PARTITION: 1,
  /** Process-scoped translation failed: DSI / ISI (relocation on; not reachable yet). */
  PROCESS: 2,
  /** The access needs an alignment interrupt (larx/stcx., lmw/stmw in LE mode). */
  ALIGNMENT: 3,
  /** The L1 real address is outside L1 RAM. */
  MACHINE_CHECK: 4,
  /** Relocation on: process-scoped translation not implemented (HEAI exit). */
  UNSUPPORTED: 5,
} as const;

/** The L1 RAM views the core indexes after translation (mem/ram.ts GuestRam provides them). */
export interface RamViews {
  readonly sab: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

/**
 * Partition-scoped translation as the core needs it from mem/ (mem/partition.ts PartitionMmu:
 * radix walk + per-core Tlb). `translate` returns the L1RA (≥ 0) or -1 with `cause` holding
 * HDSISR bits (HSRR1 bits for a fetch), or `machineCheck` set when the walk or the page lies
 * outside L1 RAM. It sets R/C as a guest-visible walk does. `sync` is the check-point generation
 * sync; it returns true when cached translations were dropped (the core then flushes its EA TLB).
 */
export interface Partition {
  translate(l2ra: number, access: AccessKind): number;
  readonly cause: number;
  readonly machineCheck?: boolean;
  sync(): boolean;
}

const BANK = 256;
const PAGE = 4096;
/** L2RA bit 52 and up: beyond any partition-scoped tree (RTS gives at most 52 bits here). */
const L2RA_LIMIT = 2 ** 52;

/** One core's memory path. */
export class Mmu {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly i32: Int32Array;
  readonly i16: Int16Array;
  readonly i64: BigInt64Array;
  readonly ramBytes: number;

  /** Data byte order: MSR[LE]. */
  le = true;
  /** Relocation for data (MSR[DR]) and for fetch (MSR[IR]). */
  dr = false;
  ir = false;

  /** Non-zero after a failed access (a Fault value); cleared by whoever turns it into an interrupt. */
  faulted = 0;
  /** The failed access: kind, EA, L2RA (when partition-scoped) and cause bits. */
  fAccess = 0;
  fEaHi = 0;
  fEaLo = 0;
  fL2ra = 0;
  fCause = 0;

  /** High word of the last 64-bit load. */
  hi = 0;

  // EA TLB: three banks of BANK entries, bank = access kind.
  private readonly tagLo = new Int32Array(3 * BANK).fill(-1);
  private readonly tagHi = new Int32Array(3 * BANK);
  private readonly base = new Float64Array(3 * BANK);

  constructor(
    ram: RamViews,
    public partition: Partition,
    /** Predecoded pages, so that a store into one invalidates it. */
    readonly code: CodeCache,
  ) {
    this.u8 = ram.u8;
    this.dv = ram.dv;
    this.i32 = new Int32Array(ram.sab, 0, ram.sab.byteLength >>> 2);
    this.i16 = new Int16Array(ram.sab, 0, ram.sab.byteLength >>> 1);
    this.i64 = new BigInt64Array(ram.sab, 0, ram.sab.byteLength >>> 3);
    this.ramBytes = ram.sab.byteLength;
  }

  /** Drops every cached EA translation. */
  flush(): void {
    this.tagLo.fill(-1);
  }

  /** EA → L1RA for one access of at most one page; -1 with the fault recorded. */
  xlate(hi: number, lo: number, acc: AccessKind): number {
    const pg = lo >>> 12;
    const k = (pg & (BANK - 1)) + acc * BANK;
    if (this.tagLo[k] === pg && this.tagHi[k] === hi) return this.base[k] + (lo & 0xfff);
    return this.miss(hi, lo, acc);
  }

  /** Slow path of `xlate`: translate, check RAM bounds, fill the EA TLB. */
  private miss(hi: number, lo: number, acc: AccessKind): number {
    const relocate = acc === Access.FETCH ? this.ir : this.dr;
    if (relocate) return this.fail(Fault.UNSUPPORTED, acc, hi, lo, 0, 0);
    // Real mode: the top two EA bits are ignored (spec §15.5).
    const rhi = hi & 0x3fff_ffff;
    const l2ra = rhi * 2 ** 32 + (lo >>> 0);
    if (l2ra >= L2RA_LIMIT) return this.fail(Fault.PARTITION, acc, hi, lo, l2ra, 0x4000_0000);
    const p = this.partition;
    const l1ra = p.translate(l2ra, acc);
    if (l1ra < 0)
      return this.fail(p.machineCheck ? Fault.MACHINE_CHECK : Fault.PARTITION, acc, hi, lo, l2ra, p.cause);
    const page = l1ra - (l1ra % PAGE);
    if (page + PAGE > this.ramBytes) return this.fail(Fault.MACHINE_CHECK, acc, hi, lo, l2ra, 0);
    const pg = lo >>> 12;
    const k = (pg & (BANK - 1)) + acc * BANK;
    this.tagLo[k] = pg;
    this.tagHi[k] = hi;
    this.base[k] = page;
    return l1ra;
  }

  /** Records a fault; returns -1 for `xlate`. */
  fail(kind: number, acc: number, hi: number, lo: number, l2ra: number, cause: number): number {
    this.faulted = kind;
    this.fAccess = acc;
    this.fEaHi = hi;
    this.fEaLo = lo;
    this.fL2ra = l2ra;
    this.fCause = cause;
    return -1;
  }

  /** Zero-extended byte. */
  load8(hi: number, lo: number): number {
    const a = this.xlate(hi, lo, Access.READ);
    return a < 0 ? 0 : this.u8[a];
  }

  /** Zero-extended halfword in byte order `le`. */
  load16(hi: number, lo: number, le: boolean): number {
    if ((lo & 0xfff) > PAGE - 2) return this.loadCross(hi, lo, 2, le);
    const a = this.xlate(hi, lo, Access.READ);
    return a < 0 ? 0 : this.dv.getUint16(a, le);
  }

  /** Word (as int32) in byte order `le`. */
  load32(hi: number, lo: number, le: boolean): number {
    if ((lo & 0xfff) > PAGE - 4) return this.loadCross(hi, lo, 4, le);
    const a = this.xlate(hi, lo, Access.READ);
    return a < 0 ? 0 : this.dv.getInt32(a, le);
  }

  /** Doubleword: returns the low word, leaves the high word in `this.hi`. */
  load64(hi: number, lo: number, le: boolean): number {
    if ((lo & 0xfff) > PAGE - 8) return this.loadCross(hi, lo, 8, le);
    const a = this.xlate(hi, lo, Access.READ);
    if (a < 0) return 0;
    const dv = this.dv;
    if (le) {
      this.hi = dv.getInt32(a + 4, true);
      return dv.getInt32(a, true);
    }
    this.hi = dv.getInt32(a, false);
    return dv.getInt32(a + 4, false);
  }

  /** Byte store. */
  store8(hi: number, lo: number, v: number): void {
    const a = this.xlate(hi, lo, Access.WRITE);
    if (a < 0) return;
    if (this.code.pageOf[a >>> 12] !== 0) this.code.written(a >>> 12);
    this.u8[a] = v;
  }

  /** Halfword store in byte order `le`. */
  store16(hi: number, lo: number, v: number, le: boolean): void {
    if ((lo & 0xfff) > PAGE - 2) {
      this.storeCross(hi, lo, 2, v, 0, le);
      return;
    }
    const a = this.xlate(hi, lo, Access.WRITE);
    if (a < 0) return;
    if (this.code.pageOf[a >>> 12] !== 0) this.code.written(a >>> 12);
    this.dv.setUint16(a, v, le);
  }

  /** Word store in byte order `le`. */
  store32(hi: number, lo: number, v: number, le: boolean): void {
    if ((lo & 0xfff) > PAGE - 4) {
      this.storeCross(hi, lo, 4, v, 0, le);
      return;
    }
    const a = this.xlate(hi, lo, Access.WRITE);
    if (a < 0) return;
    if (this.code.pageOf[a >>> 12] !== 0) this.code.written(a >>> 12);
    this.dv.setInt32(a, v, le);
  }

  /** Doubleword store of vHi:vLo in byte order `le`. */
  store64(hi: number, lo: number, vHi: number, vLo: number, le: boolean): void {
    if ((lo & 0xfff) > PAGE - 8) {
      this.storeCross(hi, lo, 8, vLo, vHi, le);
      return;
    }
    const a = this.xlate(hi, lo, Access.WRITE);
    if (a < 0) return;
    if (this.code.pageOf[a >>> 12] !== 0) this.code.written(a >>> 12);
    const dv = this.dv;
    if (le) {
      dv.setInt32(a, vLo, true);
      dv.setInt32(a + 4, vHi, true);
    } else {
      dv.setInt32(a, vHi, false);
      dv.setInt32(a + 4, vLo, false);
    }
  }

  /**
   * A load that crosses a page boundary: both pages are translated before any byte is read, so a
   * fault on the second page leaves no partial effect (slow but rare: compilers align data).
   */
  private loadCross(hi: number, lo: number, size: number, le: boolean): number {
    const a0 = this.xlate(hi, lo, Access.READ);
    if (a0 < 0) return 0;
    const lo1 = (lo + size - 1) | 0;
    const hi1 = lo1 >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
    if (this.xlate(hi1, lo1 & ~0xfff, Access.READ) < 0) return 0;
    let vlo = 0;
    let vhi = 0;
    for (let k = 0; k < size; k++) {
      const l = (lo + k) | 0;
      const h = l >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
      const b = this.u8[this.xlate(h, l, Access.READ)];
      const pos = le ? k : size - 1 - k; // byte significance
      if (pos < 4) vlo |= b << (8 * pos);
      else vhi |= b << (8 * (pos - 4));
    }
    this.hi = vhi;
    return size === 2 ? vlo & 0xffff : vlo;
  }

  /** A store that crosses a page boundary; both pages are checked before any byte is written. */
  private storeCross(hi: number, lo: number, size: number, vLo: number, vHi: number, le: boolean): void {
    if (this.xlate(hi, lo, Access.WRITE) < 0) return;
    const lo1 = (lo + size - 1) | 0;
    const hi1 = lo1 >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
    if (this.xlate(hi1, lo1 & ~0xfff, Access.WRITE) < 0) return;
    for (let k = 0; k < size; k++) {
      const l = (lo + k) | 0;
      const h = l >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
      const a = this.xlate(h, l, Access.WRITE);
      if (this.code.pageOf[a >>> 12] !== 0) this.code.written(a >>> 12);
      const pos = le ? k : size - 1 - k;
      this.u8[a] = pos < 4 ? vLo >>> (8 * pos) : vHi >>> (8 * (pos - 4));
    }
  }
}

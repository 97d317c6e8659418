/**
 * The writer side of partition-scoped radix trees: map, unmap and protect pages in a tree held in
 * L1 RAM, in exactly the layout mem/radix.ts walks (spec §15.1, §15.2). Invoked from: the L1
 * model's control part (hypervisor/l1/) when it builds an L2's memory, and tests.
 *
 * Geometry (Linux's, spec §15.2): root 2^13 entries (64 KiB), levels 1 and 2 2^9 entries (4 KiB),
 * level 3 2^9 entries (4 KiB, 4K pages) or 2^5 entries (256 B, 64K pages). Leaves: 1 GiB at level 1,
 * 2 MiB at level 2, 4K or 64K at level 3. Every table is aligned to its size, as the walker
 * requires, and zeroed before it is linked. A level-3 table holds one base page size: mapping a 4K
 * page where a 64K table hangs (or a page where a larger leaf or a smaller table is) is a
 * `Conflict`, never a silent replacement. Tables are not freed on unmap (L1 reuses them).
 *
 * Publication order (see mem/radix.ts header for the walker's side): a new entry is stored low
 * half first, then the high half holding V; a valid entry is replaced by clearing the high half,
 * then storing low, then high; unmap clears the high half only. Permission changes compare-exchange the
 * low half so that concurrent R/C updates by walkers survive. One writer per tree.
 */

import { ADDR_BITS, Pte, type RadixRoot, ROOT_BITS } from './radix.js';
import { bswap32, type GuestRam } from './ram.js';
import type { L1RA, L2RA } from './types.js';

/** Gives table memory: `bytes` (a power of two) aligned to `bytes`, or -1 when exhausted. */
export interface TableAllocator {
  alloc(bytes: number): L1RA | -1;
}

/** A bump allocator over [start, end) of L1 RAM; alignment padding is not reused. */
export function bumpAllocator(start: number, end: number): TableAllocator {
  let next = start;
  return {
    alloc(bytes: number) {
      const at = Math.ceil(next / bytes) * bytes;
      if (at + bytes > end) return -1;
      next = at + bytes;
      return at as L1RA;
    },
  };
}

/** Outcome of `map`. */
export const MapStatus = {
  Ok: 0,
  /** The allocator had no memory for a table. */
  NoMemory: 1,
  /** Another page size already covers part of the range (unmap it first). */
  Conflict: 2,
  /** Page size not 4K/64K/2M/1G, address not aligned to it, or beyond the tree's 52 bits. */
  BadArgument: 3,
} as const;
/** One MapStatus value. */
export type MapStatus = (typeof MapStatus)[keyof typeof MapStatus];

/** Leaf attributes beyond the rights. */
export interface MapAttrs {
  /** Att value (spec §15.1); default normal memory. */
  att?: number;
  /** Pre-set R and C (what L1 does for memory it does not want faults for in ATOMIC_RC mode). */
  referenced?: boolean;
  changed?: boolean;
}

/** Level of the leaf and entry count of the level-3 table for each page size. */
const LEAF = new Map<number, { level: number; nls3: number }>([
  [30, { level: 1, nls3: 0 }],
  [21, { level: 2, nls3: 0 }],
  [16, { level: 3, nls3: 5 }],
  [12, { level: 3, nls3: 9 }],
]);

/** Builds and edits one partition-scoped radix tree in L1 RAM. */
export class RadixWriter {
  private constructor(
    private readonly ram: GuestRam,
    /** The tree's root, for the walker, a PATE or GSB element 0x0005. */
    readonly root: RadixRoot,
    private readonly tables: TableAllocator,
  ) {}

  /** Allocates a zeroed 64 KiB root directory; returns undefined when the allocator is exhausted. */
  static create(ram: GuestRam, tables: TableAllocator): RadixWriter | undefined {
    const bytes = 8 << ROOT_BITS;
    const base = tables.alloc(bytes);
    if (base < 0 || base % bytes !== 0 || base + bytes > ram.size) return undefined;
    ram.u8.fill(0, base, base + bytes);
    return new RadixWriter(ram, { base: base as L1RA, addrBits: ADDR_BITS, rootBits: ROOT_BITS }, tables);
  }

  /** Edits the existing tree at `root` (built by another writer or by hand). */
  static attach(ram: GuestRam, root: RadixRoot, tables: TableAllocator): RadixWriter {
    return new RadixWriter(ram, root, tables);
  }

  /**
   * Maps the 2^pageShift page at `l2ra` to `l1ra` with rights `perms` (Perm/EAA bits), replacing a
   * leaf of the same size (L1 must then invalidate the old translation).
   */
  map(l2ra: L2RA, l1ra: L1RA, pageShift: number, perms: number, attrs: MapAttrs = {}): MapStatus {
    const size = 2 ** pageShift;
    if (!LEAF.has(pageShift) || l1ra % size !== 0 || !(l1ra >= 0 && l1ra < 2 ** 57))
      return MapStatus.BadArgument;
    const slot = this.slot(l2ra, pageShift, true);
    if (slot < 0) return -slot as MapStatus;
    const hi = Pte.V | Pte.L | (Math.floor(l1ra / 2 ** 32) & Pte.RPN_HI);
    let lo = (l1ra >>> 0) & Pte.RPN_LO;
    lo |= (attrs.att ?? 0) & Pte.ATT;
    lo |= perms & (Pte.READ | Pte.RW | Pte.EXEC | Pte.PRIV);
    if (attrs.referenced) lo |= Pte.R;
    if (attrs.changed) lo |= Pte.C;
    this.publish(slot, hi, lo);
    return MapStatus.Ok;
  }

  /** Removes the 2^pageShift leaf at `l2ra`; false if there was none of that size. */
  unmap(l2ra: L2RA, pageShift: number): boolean {
    const slot = this.slot(l2ra, pageShift, false);
    if (slot < 0) return false;
    const w = slot >>> 2;
    const hi = bswap32(Atomics.load(this.ram.i32, w));
    if ((hi & (Pte.V | Pte.L)) !== (Pte.V | Pte.L)) return false;
    // The high half only: the low half keeps the old entry's value (ignored while V is clear), so
    // every value it ever holds belongs to some published entry (mem/radix.ts header).
    Atomics.store(this.ram.i32, w, 0);
    return true;
  }

  /** Replaces the rights of the 2^pageShift leaf at `l2ra`, keeping R/C; false if there is none. */
  protect(l2ra: L2RA, pageShift: number, perms: number): boolean {
    const slot = this.slot(l2ra, pageShift, false);
    if (slot < 0) return false;
    const i32 = this.ram.i32;
    const w = slot >>> 2;
    const eaa = Pte.READ | Pte.RW | Pte.EXEC | Pte.PRIV;
    for (;;) {
      const hi = bswap32(Atomics.load(i32, w));
      if ((hi & (Pte.V | Pte.L)) !== (Pte.V | Pte.L)) return false;
      const raw = Atomics.load(i32, w + 1);
      const lo = bswap32(raw);
      const next = bswap32((lo & ~eaa) | (perms & eaa));
      if (Atomics.compareExchange(i32, w + 1, raw, next) === raw) return true;
    }
  }

  /**
   * L1RA of the leaf entry for (l2ra, pageShift), creating directories when `create`; or a
   * negated MapStatus.
   */
  private slot(l2ra: number, pageShift: number, create: boolean): number {
    const leaf = LEAF.get(pageShift);
    if (!leaf || !(l2ra >= 0 && l2ra < 2 ** ADDR_BITS) || l2ra % 2 ** pageShift !== 0)
      return -MapStatus.BadArgument;
    const i32 = this.ram.i32;
    const aHi = Math.floor(l2ra / 2 ** 32);
    const aLo = l2ra >>> 0;
    let base: number = this.root.base;
    let nls = this.root.rootBits;
    let psize = this.root.addrBits;
    for (let level = 0; ; level++) {
      const shift = psize - nls;
      const mask = (1 << nls) - 1;
      const index =
        shift >= 32 ? (aHi >>> (shift - 32)) & mask : ((aLo >>> shift) | (aHi << (32 - shift))) & mask;
      const entry = base + 8 * index;
      if (entry + 8 > this.ram.size) return -MapStatus.BadArgument;
      if (level === leaf.level) {
        // A directory here means smaller pages are mapped inside this one.
        const hi = bswap32(Atomics.load(i32, entry >>> 2));
        if ((hi & Pte.V) !== 0 && (hi & Pte.L) === 0) return -MapStatus.Conflict;
        return entry;
      }
      psize = shift;
      const hi = bswap32(Atomics.load(i32, entry >>> 2));
      const lo = bswap32(Atomics.load(i32, (entry >>> 2) + 1));
      const wantNls = level + 1 === 3 ? leaf.nls3 : 9;
      if (hi & Pte.V) {
        if (hi & Pte.L) return -MapStatus.Conflict;
        if ((lo & Pte.NLS) !== wantNls) return -MapStatus.Conflict;
        base = (hi & Pte.NLB_HI) * 2 ** 32 + ((lo & Pte.NLB_LO) >>> 0);
        nls = wantNls;
        continue;
      }
      if (!create) return -MapStatus.Conflict;
      const bytes = 8 << wantNls;
      const table = this.tables.alloc(bytes);
      if (table < 0 || table + bytes > this.ram.size) return -MapStatus.NoMemory;
      if (table % bytes !== 0)
        throw new Error(`table allocator gave 0x${table.toString(16)} for ${bytes} bytes`);
      this.ram.u8.fill(0, table, table + bytes);
      this.publish(
        entry,
        Pte.V | (Math.floor(table / 2 ** 32) & Pte.NLB_HI),
        ((table >>> 0) & Pte.NLB_LO) | wantNls,
      );
      base = table;
      nls = wantNls;
    }
  }

  /** Stores an entry in the order the walker relies on (header). */
  private publish(entry: number, hi: number, lo: number): void {
    const i32 = this.ram.i32;
    const w = entry >>> 2;
    if (bswap32(Atomics.load(i32, w)) & Pte.V) Atomics.store(i32, w, 0);
    Atomics.store(i32, w + 1, bswap32(lo));
    Atomics.store(i32, w, bswap32(hi));
  }
}

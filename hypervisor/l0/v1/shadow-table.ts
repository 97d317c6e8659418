/**
 * Shadow partition-scoped tables (spec §14.7): for each v1 L2, L0 keeps a radix tree of its own,
 * in its own memory (V1Host.shadow), that maps L2 real addresses straight to L1 real addresses:
 * the composition of L1's partition-scoped tree for that L2 and L0's mapping of L1 (identity here).
 * The cores run a v1 L2 through this tree (shadow-partition.ts); it is filled on demand, entry by
 * entry, when the L2 takes a partition-scoped fault that L1's tree can satisfy.
 *
 * Format: the hardware's (spec §15.1, big-endian doublewords, Linux's geometry 13/9/9/9, leaves of
 * 1 GiB at level 1, 2 MiB at level 2, 4 KiB at level 3). L0 memory and L1 memory both lie below
 * 4 GiB, so the high half of every entry is one of three constants: 0 (invalid), V (directory) or
 * V|L (leaf); all else (next-level base, real page number, rights, R/C) is in the low half. That
 * makes every change a 32-bit compare-exchange of the low half plus a store of the high half.
 *
 * Concurrency (fills from the cores running the L2's vCPUs, lock-free; control operations under
 * the guest's lock, host.ts):
 * - a directory entry goes (0, 0) → (0, pde) by compare-exchange of the low half (the loser frees
 *   its table), then (V, pde); directories are never cleared in a live tree;
 * - a leaf is written only while the fill holds the guest's control lock, taken with a try-lock
 *   (never waited for: the control operation holding it may be waiting for this core's ack; a
 *   fill that finds it taken answers uncached): under it, the fill checks that the guest's EPOCH
 *   did not move since the fill started, then writes (0, 0) → (0, leaf) → (V|L, leaf), or
 *   upgrades a valid leaf's low half (more rights, C) by compare-exchange. A control operation
 *   holds the same lock while it bumps EPOCH and then clears leaves (high half 0, then low half 0)
 *   or replaces the root, so a fill either lands wholly before the operation (and is cleared) or
 *   sees its new EPOCH: no translation older than the operation stays in the tree once it has
 *   cleared it. (Without the lock a fill could pass the EPOCH check, the operation clear the entry
 *   it had not yet published, and the fill then publish a stale leaf: test/l0-v1-race.test.ts saw
 *   that under load.) The TLB generation bump that follows (L0.invalidatePartition) drops what
 *   cores cached meanwhile;
 * - a walker reads high, low, high and retries when the high halves differ; since the high half
 *   is a constant per kind, a low half read is always one whole published value, or the 0 of a
 *   leaf cleared and filled again between the walker's loads, which has no rights: a miss;
 * - tables of a replaced tree are freed only when no core can still be inside it (guests.ts).
 */

import { Att, Pte } from '../../../mem/radix.js';
import { bswap32 } from '../../../mem/ram.js';
import { Access } from '../../../mem/types.js';
import { FRAME, ROOT_BYTES, type V1Host, VG } from './host.js';

/** High halves of the three kinds of entry, as stored (byte-swapped: entries are big-endian). */
const RAW_DIR = bswap32(Pte.V);
const RAW_LEAF = bswap32(Pte.V | Pte.L);

/** Index shift and width of each level (root 13 bits, then 9, 9, 9). */
const SHIFT = [39, 30, 21, 12] as const;
const NLS = [13, 9, 9, 9] as const;
/** Level of the leaf of each shadow page size. */
const LEAF_LEVEL: Readonly<Record<number, number>> = { 30: 1, 21: 2, 12: 3 };

/** Index of `l2ra` (as hi:lo) at `level`. */
function index(hi: number, lo: number, level: number): number {
  const shift = SHIFT[level]!;
  const mask = (1 << NLS[level]!) - 1;
  return shift >= 32 ? (hi >>> (shift - 32)) & mask : ((lo >>> shift) | (hi << (32 - shift))) & mask;
}

/**
 * Shadow leaf size for an L1 mapping of 2^l1Shift (spec §14.7, Linux's rule): L0's own mapping size
 * when it is no larger; otherwise 2 MiB if the L1 page is larger than 2 MiB, else the base page.
 */
export function shadowShift(l0Shift: number, l1Shift: number): number {
  if (l0Shift <= l1Shift) return l0Shift;
  return l1Shift > 21 ? 21 : 12;
}

/** Result of a shadow walk. */
export const Walk = { HIT: 0, MISS: 1, MACHINE_CHECK: 2 } as const;

/** The result fields of a walk, reused (no allocation on a TLB miss). */
export class ShadowHit {
  l1ra = 0;
}

/**
 * Translates `l2ra` for `access` through the shadow tree at `root` (pure: reads only). HIT with
 * out.l1ra; MISS when there is no entry, or it does not grant the access (rights, R, or C for a
 * store — the shadow tree is walked the POWER9 way, so L0 sees every R/C change, spec §14.7); or
 * MACHINE_CHECK when the result lies outside L1 RAM (`l1Size` bytes). Invoked from: the core's
 * partition-scoped TLB miss (shadow-partition.ts).
 */
export function shadowWalk(
  i32: Int32Array,
  root: number,
  l2ra: number,
  access: number,
  l1Size: number,
  out: ShadowHit,
): number {
  const aHi = Math.floor(l2ra / 4294967296);
  const aLo = l2ra >>> 0;
  let base = root;
  for (let level = 0; level < 4; level++) {
    const w = (base + 8 * index(aHi, aLo, level)) >>> 2;
    let rawHi: number;
    let lo: number;
    do {
      rawHi = Atomics.load(i32, w);
      lo = bswap32(Atomics.load(i32, w + 1));
    } while (Atomics.load(i32, w) !== rawHi);
    if (rawHi === RAW_DIR) {
      if (level === 3) throw new Error(`shadow tree: directory at level 3 (entry 0x${(w * 4).toString(16)})`);
      base = (lo & Pte.NLB_LO) >>> 0;
      continue;
    }
    if (rawHi !== RAW_LEAF) {
      if (rawHi === 0) return Walk.MISS;
      throw new Error(`shadow tree: corrupt entry 0x${(w * 4).toString(16)}`);
    }
    if (access === Access.Fetch) {
      if ((lo & Pte.EXEC) === 0 || (lo & Pte.ATT) === Att.NonIdempotentIO) return Walk.MISS;
    } else if ((lo & (access === Access.Write ? Pte.RW : Pte.READ | Pte.RW)) === 0) return Walk.MISS;
    if ((lo & Pte.R) === 0 || (access === Access.Write && (lo & Pte.C) === 0)) return Walk.MISS;
    const shift = SHIFT[level]!;
    const size = 2 ** shift;
    const real = ((lo & Pte.RPN_LO) >>> 0) + (l2ra % size); // the installer aligned the RPN
    if (real >= l1Size) return Walk.MACHINE_CHECK;
    out.l1ra = real;
    return Walk.HIT;
  }
  throw new Error('shadow tree: no leaf below level 3');
}

/** Outcome of `installLeaf`. */
export const Install = {
  /** The leaf is in the tree. */
  OK: 0,
  /** A control operation ran meanwhile: walk L1's tree again. */
  RETRY: 1,
  /** Not cached (a larger leaf or a transient entry is in the way, or shadow memory is full). */
  UNCACHED: 2,
  /** Like UNCACHED, because shadow memory is full. */
  NO_MEMORY: 3,
} as const;

/**
 * Writes `leaf` (its low half, as stored) into the entry at word `w`, under the guest's control
 * lock: a free entry becomes (0, leaf) then (V|L, leaf) for the lock-free walkers; a valid leaf's
 * low half is replaced (more rights, C). A directory that appeared meanwhile: UNCACHED.
 */
function publishLeaf(i32: Int32Array, w: number, leaf: number): number {
  const rawHi = Atomics.load(i32, w);
  if (rawHi === 0) {
    if (Atomics.compareExchange(i32, w + 1, 0, leaf) !== 0) return Install.UNCACHED;
    Atomics.store(i32, w, RAW_LEAF);
    return Install.OK;
  }
  if (rawHi !== RAW_LEAF) return Install.UNCACHED;
  Atomics.store(i32, w + 1, leaf);
  return Install.OK;
}

/**
 * Puts the leaf for `l2ra` into guest `lpid`'s tree at `root`: a page of 2^shift at L1 address
 * `l1ra` − (l2ra mod 2^shift), with `flags` (rights, ATT, R, C) in the low half. If a directory
 * already hangs where a leaf of that size would go (L1 mapped smaller pages there earlier), a
 * leaf of the next smaller size goes below it. `epoch0` is the guest's EPOCH when the fill began.
 */
export function installLeaf(
  host: V1Host,
  lpid: number,
  root: number,
  l2ra: number,
  l1ra: number,
  shiftIn: number,
  flags: number,
  epoch0: number,
): number {
  const i32 = host.shadow.i32;
  const epochAt = host.guestWord(lpid, VG.EPOCH);
  const aHi = Math.floor(l2ra / 4294967296);
  const aLo = l2ra >>> 0;
  let shift = shiftIn;
  let target = LEAF_LEVEL[shift]!;
  let base = root;
  for (let level = 0; ; level++) {
    const w = (base + 8 * index(aHi, aLo, level)) >>> 2;
    if (level < target) {
      // A directory entry on the way down.
      for (;;) {
        const rawHi = Atomics.load(i32, w);
        const rawLo = Atomics.load(i32, w + 1);
        if (rawHi === RAW_DIR) {
          base = (bswap32(rawLo) & Pte.NLB_LO) >>> 0;
          break;
        }
        if (rawHi === RAW_LEAF || rawLo !== 0) return Install.UNCACHED; // a larger page, or in flux
        const table = host.allocTable();
        if (table < 0) return Install.NO_MEMORY;
        const pde = bswap32(((table & Pte.NLB_LO) | 9) >>> 0);
        if (Atomics.compareExchange(i32, w + 1, 0, pde) !== 0) {
          host.free(table, FRAME);
          continue;
        }
        Atomics.store(i32, w, RAW_DIR);
        base = table;
        break;
      }
      continue;
    }
    // The leaf's own entry.
    const size = 2 ** shift;
    // shift ≤ the L1 page size (shadowShift), so this is aligned to the shadow page.
    const page = l1ra - (l2ra % size);
    const leaf = bswap32((((page >>> 0) & Pte.RPN_LO) | flags) >>> 0);
    const rawHi = Atomics.load(i32, w);
    if (rawHi !== RAW_DIR) {
      if (rawHi !== 0 && rawHi !== RAW_LEAF)
        throw new Error(`shadow tree: corrupt entry 0x${(w * 4).toString(16)}`);
      if (!host.tryLock(lpid)) return Install.UNCACHED; // a control operation is running
      try {
        if (Atomics.load(host.w, epochAt) !== epoch0) return Install.RETRY;
        return publishLeaf(i32, w, leaf);
      } finally {
        host.unlock(lpid);
      }
    }
    // A directory where the leaf would go: use the next smaller page size below it.
    if (target === 3) throw new Error('shadow tree: directory at level 3');
    base = (bswap32(Atomics.load(i32, w + 1)) & Pte.NLB_LO) >>> 0;
    shift = shift === 30 ? 21 : 12;
    target++;
  }
}

/**
 * Clears every leaf of the tree at `root` that overlaps L2 real addresses [start, end) (a leaf
 * partly inside goes whole). Directories stay. Control operations only, after EPOCH was bumped.
 */
export function clearRange(host: V1Host, root: number, start: number, end: number): number {
  return clearLevel(host.shadow.i32, root, 0, 0, start, end);
}

function clearLevel(
  i32: Int32Array,
  base: number,
  level: number,
  from: number,
  start: number,
  end: number,
): number {
  const span = 2 ** SHIFT[level]!;
  const entries = 1 << NLS[level]!;
  const first = Math.max(0, Math.floor((start - from) / span));
  const last = Math.min(entries - 1, Math.floor((end - 1 - from) / span));
  let cleared = 0;
  for (let k = first; k <= last; k++) {
    const w = (base + 8 * k) >>> 2;
    const rawHi = Atomics.load(i32, w);
    if (rawHi === RAW_LEAF) {
      Atomics.store(i32, w, 0);
      Atomics.store(i32, w + 1, 0);
      cleared++;
    } else if (rawHi === RAW_DIR && level < 3) {
      const child = (bswap32(Atomics.load(i32, w + 1)) & Pte.NLB_LO) >>> 0;
      cleared += clearLevel(i32, child, level + 1, from + k * span, start, end);
    }
  }
  return cleared;
}

/** Frees every table of the (unreachable, quiescent) tree at `root`, the root last. */
export function freeTree(host: V1Host, root: number): void {
  freeLevel(host, root, 0);
  host.free(root, ROOT_BYTES);
}

function freeLevel(host: V1Host, base: number, level: number): void {
  const i32 = host.shadow.i32;
  const entries = 1 << NLS[level]!;
  for (let k = 0; k < entries; k++) {
    const w = (base + 8 * k) >>> 2;
    // Quiescent: every fill that linked a directory also stored its high half.
    if (Atomics.load(i32, w) !== RAW_DIR) continue;
    const child = (bswap32(Atomics.load(i32, w + 1)) & Pte.NLB_LO) >>> 0;
    if (level < 2) freeLevel(host, child, level + 1);
    host.free(child, FRAME);
  }
}

/** Statistics of a tree: tables and valid leaves (tests and the no-leaks check). */
export function treeCensus(host: V1Host, root: number): { tables: number; leaves: number } {
  const c = { tables: 1, leaves: 0 };
  censusLevel(host.shadow.i32, root, 0, c);
  return c;
}

function censusLevel(
  i32: Int32Array,
  base: number,
  level: number,
  c: { tables: number; leaves: number },
): void {
  const entries = 1 << NLS[level]!;
  for (let k = 0; k < entries; k++) {
    const w = (base + 8 * k) >>> 2;
    const rawHi = Atomics.load(i32, w);
    if (rawHi === RAW_LEAF) c.leaves++;
    else if (rawHi === RAW_DIR && level < 3) {
      c.tables++;
      censusLevel(i32, (bswap32(Atomics.load(i32, w + 1)) & Pte.NLB_LO) >>> 0, level + 1, c);
    }
  }
}

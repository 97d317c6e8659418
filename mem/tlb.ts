/**
 * Per-core software TLB: L2RA → L1RA for partition-scoped translations, tagged by LPID.
 *
 * Why it exists: a partition-scoped walk reads four big-endian entries with Atomics and checks
 * rights (bench `mem`: "radix walk 4-level", 170 ns); a hit here is two typed-array reads and a
 * compare ("TLB hit, inlined", 3 ns), and the interpreter needs one per load, store
 * and fetch block. It caches only what a guest-visible walk granted for that access kind, so a
 * write hit implies C was already set (spec §15.6) and no hit ever skips a fault.
 *
 * Geometry (TinyEMU's): direct-mapped, ENTRIES slots of one 4 KiB granule each, whatever the page
 * size (a 2M or 1G leaf fills the granule that missed; invalidating a large page drops every
 * granule of it). Three tag arrays, one per access kind, and one delta per slot:
 *   pn    = floor(l2ra / 4096)                       (< 2^40: L2RA < 2^52)
 *   slot  = (pn ^ (lpid << 4)) & (ENTRIES − 1)       (lpid mixed in: every guest starts at L2RA 0)
 *   tag   = lpid · 2^40 + pn                         (< 2^52, exact in a Float64; −1 = empty)
 *   hit   ⇔ tagR/tagW/tagX[slot] === tag, then l1ra = l2ra + delta[slot]
 * The three kinds of a slot share its delta, so a fill that changes the delta drops the other
 * kinds' tags unless they name the same granule with the same delta. The context field (lpid,
 * 12 bits) leaves room for process-scoped entries: those will tag with a context number that a
 * small table maps from (LPID, PID), so that flushing a PID flushes one context.
 *
 * Size: 1024 slots (4 MiB of reach, 32 KiB of arrays). The interpreter's EA TLB (cores/mmu.ts,
 * 256 entries per kind) sits in front and takes most hits, so this one mostly serves its misses;
 * 1024 covers a 4 MiB working set of an L2 while a full scan (flush of one LPID, or of a 1G
 * page) stays about 3 µs (bench "TLB flush LPID"); a hit costs 3 ns inlined, 5 ns through
 * lookup(), against 170 ns for a 4-level walk (bench, this machine).
 *
 * Invalidation: by page, by LPID, everything, or lazily through the per-LPID generations in
 * shared memory (mem/generations.ts) at the core's check points (`syncGenerations`).
 */
import { GEN_ALL, GEN_ANY, type Generations, LPIDS } from './generations.js';
import { Access, type L1RA, type L2RA } from './types.js';

/** Default slot count (see header). */
export const TLB_ENTRIES = 1024;
/** Granule of one slot: 4 KiB. */
export const TLB_PAGE_SHIFT = 12;
/** Multiplier of the LPID in a tag (2^40 page numbers per context). */
export const TLB_CTX = 2 ** 40;
/** Tag of an empty slot. */
export const TLB_EMPTY = -1;

/** What a flush covered, for the probe. */
export type TlbFlushScope = 'page' | 'lpid' | 'all';

/** Observer of the cold paths; null probe costs one comparison per fill or flush. */
export interface TlbProbe {
  onFill(lpid: number, l2ra: L2RA, l1ra: L1RA, access: Access): void;
  onFlush(scope: TlbFlushScope, lpid: number, dropped: number): void;
}

/** What `invalidate` drops: one page of an LPID, one LPID, or (no field) everything. */
export interface TlbScope {
  lpid?: number;
  /** With lpid: the page at this L2RA only. */
  l2ra?: L2RA;
  /** Size of that page (default 12: 4 KiB). */
  pageShift?: number;
}

/** A direct-mapped software TLB for one core (see header). */
export class Tlb {
  /** Slot count, a power of two. */
  readonly entries: number;
  /** entries − 1. */
  readonly mask: number;
  /** Read tags by slot. Raw array for the interpreter's inlined lookup (header formula). */
  readonly tagR: Float64Array;
  /** Write tags by slot. */
  readonly tagW: Float64Array;
  /** Fetch tags by slot. */
  readonly tagX: Float64Array;
  /** Tag arrays indexed by Access value. */
  readonly tags: readonly [Float64Array, Float64Array, Float64Array];
  /** L1RA − L2RA of each slot's granule. */
  readonly delta: Float64Array;
  /** Cold-path observer, or null. */
  probe: TlbProbe | null = null;
  /** Fills since creation. */
  fills = 0;
  /** Flushes since creation (any scope). */
  flushes = 0;

  /** Generation of each LPID as seen at the last check point. */
  private readonly seen = new Int32Array(LPIDS);
  private seenAny: number;

  /** The GEN_ANY value this TLB applied at its last sync (what a core acknowledges). */
  get appliedGeneration(): number {
    return this.seenAny;
  }
  private seenAll: number;
  /** LPIDs that may have entries: a list and each one's position in it (−1 = absent). */
  private readonly present = new Int32Array(LPIDS);
  private readonly presentAt = new Int32Array(LPIDS).fill(-1);
  private presentCount = 0;

  constructor(
    private readonly gens: Generations,
    entries = TLB_ENTRIES,
  ) {
    if (!(entries >= 1 && (entries & (entries - 1)) === 0)) throw new RangeError(`TLB entries ${entries}`);
    this.entries = entries;
    this.mask = entries - 1;
    this.tagR = new Float64Array(entries).fill(TLB_EMPTY);
    this.tagW = new Float64Array(entries).fill(TLB_EMPTY);
    this.tagX = new Float64Array(entries).fill(TLB_EMPTY);
    this.tags = [this.tagR, this.tagW, this.tagX];
    this.delta = new Float64Array(entries);
    for (let l = 0; l < LPIDS; l++) this.seen[l] = gens.read(l);
    this.seenAny = Atomics.load(gens.words, GEN_ANY);
    this.seenAll = Atomics.load(gens.words, GEN_ALL);
  }

  /** L1RA for `l2ra` if a translation for `access` is cached, else −1. */
  lookup(lpid: number, l2ra: L2RA, access: Access): L1RA | -1 {
    const pn = Math.floor(l2ra / 4096);
    const i = (pn ^ (lpid << 4)) & this.mask;
    const tags = access === Access.Read ? this.tagR : access === Access.Write ? this.tagW : this.tagX;
    if (tags[i] === lpid * TLB_CTX + pn) return (l2ra + this.delta[i]!) as L1RA;
    return -1;
  }

  /** Caches the granule of l2ra → l1ra for `access` (after a walk that granted it). */
  fill(lpid: number, l2ra: L2RA, l1ra: L1RA, access: Access): void {
    if (!(lpid >= 0 && lpid < LPIDS)) throw new RangeError(`TLB fill for LPID ${lpid}`);
    const pn = Math.floor(l2ra / 4096);
    const i = (pn ^ (lpid << 4)) & this.mask;
    const tag = lpid * TLB_CTX + pn;
    const d = l1ra - l2ra;
    if (this.delta[i] !== d) {
      for (const t of this.tags) t[i] = TLB_EMPTY;
      this.delta[i] = d;
    } else {
      for (const t of this.tags) if (t[i] !== tag) t[i] = TLB_EMPTY;
    }
    this.tags[access][i] = tag;
    if (this.presentAt[lpid] === -1) {
      this.presentAt[lpid] = this.presentCount;
      this.present[this.presentCount++] = lpid;
    }
    this.fills++;
    if (this.probe !== null) this.probe.onFill(lpid, l2ra, l1ra, access);
  }

  /** Drops what `scope` names (STYLE example 7's one flush with filters); returns entries dropped. */
  invalidate(scope: TlbScope): number {
    if (scope.lpid === undefined) return this.invalidateAll();
    if (scope.l2ra === undefined) return this.invalidateLpid(scope.lpid);
    return this.invalidatePage(scope.lpid, scope.l2ra, scope.pageShift ?? TLB_PAGE_SHIFT);
  }

  /** Drops every granule of the 2^pageShift page at `l2ra` (any alignment inside it) for `lpid`. */
  invalidatePage(lpid: number, l2ra: L2RA, pageShift: number = TLB_PAGE_SHIFT): number {
    if (!(pageShift >= TLB_PAGE_SHIFT)) throw new RangeError(`TLB page shift ${pageShift}`);
    const granules = 2 ** (pageShift - TLB_PAGE_SHIFT);
    const first = Math.floor(l2ra / 2 ** pageShift) * granules;
    let dropped = 0;
    if (granules >= this.entries) {
      const lo = lpid * TLB_CTX + first;
      const hi = lo + granules;
      for (const t of this.tags)
        for (let i = 0; i < this.entries; i++) {
          const tag = t[i]!;
          if (tag >= lo && tag < hi) {
            t[i] = TLB_EMPTY;
            dropped++;
          }
        }
    } else {
      for (let g = 0; g < granules; g++) {
        const pn = first + g;
        const i = (pn ^ (lpid << 4)) & this.mask;
        const tag = lpid * TLB_CTX + pn;
        for (const t of this.tags)
          if (t[i] === tag) {
            t[i] = TLB_EMPTY;
            dropped++;
          }
      }
    }
    this.flushed('page', lpid, dropped);
    return dropped;
  }

  /** Drops every entry of `lpid`. */
  invalidateLpid(lpid: number): number {
    let dropped = 0;
    const lo = lpid * TLB_CTX;
    const hi = lo + TLB_CTX;
    for (const t of this.tags)
      for (let i = 0; i < this.entries; i++) {
        const tag = t[i]!;
        if (tag >= lo && tag < hi) {
          t[i] = TLB_EMPTY;
          dropped++;
        }
      }
    const at = this.presentAt[lpid]!;
    if (at !== -1) {
      const last = this.present[--this.presentCount]!;
      this.present[at] = last;
      this.presentAt[last] = at;
      this.presentAt[lpid] = -1;
    }
    this.flushed('lpid', lpid, dropped);
    return dropped;
  }

  /** Drops everything. */
  invalidateAll(): number {
    let dropped = 0;
    for (const t of this.tags)
      for (let i = 0; i < this.entries; i++)
        if (t[i] !== TLB_EMPTY) {
          t[i] = TLB_EMPTY;
          dropped++;
        }
    for (let k = 0; k < this.presentCount; k++) this.presentAt[this.present[k]!] = -1;
    this.presentCount = 0;
    this.flushed('all', -1, dropped);
    return dropped;
  }

  /**
   * Check point (invoked from the core's per-block poll): drops the entries of every LPID whose
   * generation moved since the last call; true if any LPID (or everything) was dropped. Costs one
   * Atomics.load when no generation moved.
   *
   * Why this is safe: `seen[lpid]` is written only here, so an entry filled after this point was
   * walked after the generation read here; if the coordinator bumps later, the next call sees the
   * difference. An LPID with no entries keeps an old `seen`, which can only cause one extra drop.
   */
  syncGenerations(): boolean {
    const words = this.gens.words;
    const any = Atomics.load(words, GEN_ANY);
    if (any === this.seenAny) return false;
    this.seenAny = any;
    const all = Atomics.load(words, GEN_ALL);
    if (all !== this.seenAll) {
      this.seenAll = all;
      for (let k = 0; k < this.presentCount; k++) {
        const lpid = this.present[k]!;
        this.seen[lpid] = Atomics.load(words, lpid);
      }
      this.invalidateAll();
      return true;
    }
    let dropped = false;
    // Backwards: invalidateLpid moves the last present LPID into the freed position.
    for (let k = this.presentCount - 1; k >= 0; k--) {
      const lpid = this.present[k]!;
      const g = Atomics.load(words, lpid);
      if (g !== this.seen[lpid]) {
        this.seen[lpid] = g;
        this.invalidateLpid(lpid);
        dropped = true;
      }
    }
    return dropped;
  }

  /**
   * Test-only (the ignore-invalidations mutant): takes the current generations as seen without
   * dropping anything, so stale entries survive. Returns false (nothing dropped).
   */
  skipGenerations(): boolean {
    const words = this.gens.words;
    this.seenAny = Atomics.load(words, GEN_ANY);
    this.seenAll = Atomics.load(words, GEN_ALL);
    for (let k = 0; k < this.presentCount; k++) {
      const lpid = this.present[k]!;
      this.seen[lpid] = Atomics.load(words, lpid);
    }
    return false;
  }

  private flushed(scope: TlbFlushScope, lpid: number, dropped: number): void {
    this.flushes++;
    if (this.probe !== null) this.probe.onFlush(scope, lpid, dropped);
  }
}

/**
 * A Tlb that also counts hits and misses of `lookup`. A separate class so that the plain Tlb's
 * lookup carries no counter (the statistics cost nothing when not asked for).
 */
export class CountingTlb extends Tlb {
  /** Lookups that hit. */
  hits = 0;
  /** Lookups that missed. */
  misses = 0;

  override lookup(lpid: number, l2ra: L2RA, access: Access): L1RA | -1 {
    const r = super.lookup(lpid, l2ra, access);
    if (r < 0) this.misses++;
    else this.hits++;
    return r;
  }
}

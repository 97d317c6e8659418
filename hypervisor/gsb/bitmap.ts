/**
 * A set of element IDs as one bit per defined ID (spec §9.3), for dirty tracking: which elements
 * L1 changed since the last run, which ones an exit must report. The flat bit index concatenates
 * the seven ID ranges of ELEMENT_RANGES in ID order (182 bits), so iterating bits in order visits
 * IDs in order. As in Linux, ID 0 (BLANK) is bit 0 and is never iterated: `fill` leaves it clear and
 * iteration starts after it. IDs outside every range map to bit 0 too, so a reserved ID chosen by
 * a guest can neither crash nor set a real element's bit.
 *
 * Six 32-bit words: small enough to live in a vCPU record or to copy into shared memory.
 */
import { ELEMENT_RANGES } from './elements.js';

/** Bits of the flat index (7 + 5 + 3 + 84 + 15 + 64 + 4 with the current ranges). */
export const BITMAP_BITS: number = ELEMENT_RANGES.reduce((n, r) => n + r.last - r.first + 1, 0);
/** 32-bit words needed for BITMAP_BITS. */
export const BITMAP_WORDS: number = Math.ceil(BITMAP_BITS / 32);

/** First flat bit of each range, parallel to ELEMENT_RANGES. */
const rangeBase: number[] = [];
/** Flat bit → element ID. */
const idOfBitTable = new Uint16Array(BITMAP_BITS);
{
  let bit = 0;
  for (const r of ELEMENT_RANGES) {
    rangeBase.push(bit);
    for (let id = r.first; id <= r.last; id++) idOfBitTable[bit++] = id;
  }
}

/** Flat bit index of `id`; 0 (BLANK's bit) for IDs outside every range. */
export function bitOfId(id: number): number {
  for (let i = 0; i < ELEMENT_RANGES.length; i++) {
    const r = ELEMENT_RANGES[i]!;
    if (id < r.first) return 0;
    if (id <= r.last) return rangeBase[i]! + (id - r.first);
  }
  return 0;
}

/** Element ID of flat bit `bit` (0 ≤ bit < BITMAP_BITS). */
export function idOfBit(bit: number): number {
  return idOfBitTable[bit] ?? 0;
}

/** Mask of the valid bits in the last word. */
const LAST_WORD_MASK = BITMAP_BITS % 32 === 0 ? 0xffff_ffff : (1 << (BITMAP_BITS % 32)) - 1;

/** A set of element IDs, one bit each. */
export class GsbBitmap {
  /** The bits: bit b is `words[b >>> 5] & (1 << (b & 31))`. */
  readonly words: Uint32Array;

  /** An empty set, or a view on `words` (BITMAP_WORDS long) when given, e.g. in shared memory. */
  constructor(words?: Uint32Array) {
    if (words && words.length !== BITMAP_WORDS) throw new RangeError(`bitmap needs ${BITMAP_WORDS} words`);
    this.words = words ?? new Uint32Array(BITMAP_WORDS);
  }

  /** Adds `id`. */
  set(id: number): void {
    const b = bitOfId(id);
    this.words[b >>> 5]! |= 1 << (b & 31);
  }

  /** Removes `id`. */
  clear(id: number): void {
    const b = bitOfId(id);
    this.words[b >>> 5]! &= ~(1 << (b & 31));
  }

  /** True when `id` is in the set. */
  test(id: number): boolean {
    const b = bitOfId(id);
    return (this.words[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  /** Empties the set. */
  zero(): void {
    this.words.fill(0);
  }

  /** Adds every defined ID except BLANK (bit 0 stays clear, spec §9.3). */
  fill(): void {
    this.words.fill(0xffff_ffff);
    this.words[BITMAP_WORDS - 1] = LAST_WORD_MASK >>> 0;
    this.words[0]! &= ~1;
  }

  /** True when no ID (other than possibly BLANK) is in the set. */
  isEmpty(): boolean {
    return this.next(0) === 0;
  }

  /**
   * The next ID in the set after `prev` in ID order, or 0 when none. `prev` = 0 starts from the
   * beginning; bit 0 is never returned, since 0 is the terminator (spec §9.3).
   */
  next(prev: number): number {
    let b = prev === 0 ? 1 : bitOfId(prev) + 1;
    if (prev !== 0 && b === 1) return 0; // prev outside every range: nothing follows it sensibly
    const words = this.words;
    while (b < BITMAP_BITS) {
      const w = words[b >>> 5]! & (0xffff_ffff << (b & 31));
      if (w !== 0) {
        const found = (b & ~31) + (31 - Math.clz32(w & -w));
        return found < BITMAP_BITS ? idOfBitTable[found]! : 0;
      }
      b = (b & ~31) + 32;
    }
    return 0;
  }

  /** Calls `visit` for every ID in the set, in ID order (never BLANK). */
  forEach(visit: (id: number) => void): void {
    for (let id = this.next(0); id !== 0; id = this.next(id)) visit(id);
  }

  /** Number of IDs in the set (BLANK not counted). */
  size(): number {
    let n = 0;
    for (let i = 0; i < BITMAP_WORDS; i++) {
      let w = this.words[i]!;
      if (i === 0) w &= ~1;
      while (w !== 0) {
        w &= w - 1;
        n++;
      }
    }
    return n;
  }

  /** Makes this set equal to `other`. */
  copyFrom(other: GsbBitmap): void {
    this.words.set(other.words);
  }

  /** Adds every ID of `other`. */
  union(other: GsbBitmap): void {
    for (let i = 0; i < BITMAP_WORDS; i++) this.words[i]! |= other.words[i]!;
  }

  /** True when both sets hold the same bits. */
  equals(other: GsbBitmap): boolean {
    for (let i = 0; i < BITMAP_WORDS; i++) if (this.words[i] !== other.words[i]) return false;
    return true;
  }
}

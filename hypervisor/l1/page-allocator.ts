/**
 * L1's allocator of its own memory: 4 KiB frames for L2 pages, radix tables (4 KiB, or the 64 KiB
 * root aligned to its size) and run buffers, from one region of L1 RAM. A bitmap of frames with a
 * moving hint: 4 KiB requests are O(1) in the common case, aligned multi-frame runs scan. Every
 * byte handed out is zeroed first, and `inUse` lets tests prove that destroying a guest gives
 * everything back.
 */

import type { GuestRam } from '../../mem/ram.js';
import type { L1RA } from '../../mem/types.js';

export const FRAME = 4096;

/** Thrown when L1's memory cannot satisfy a request (the caller reports it as a user error). */
export class OutOfL1Memory extends Error {}

/** Frames of [base, base + bytes) of L1 RAM. */
export class PageAllocator {
  private readonly used: Uint8Array;
  private hint = 0;
  /** Frames handed out and not freed. */
  inUse = 0;

  constructor(
    private readonly ram: GuestRam,
    readonly base: number,
    readonly bytes: number,
  ) {
    if (base % FRAME !== 0 || bytes % FRAME !== 0 || base + bytes > ram.size)
      throw new RangeError(
        `page region [0x${base.toString(16)}, +0x${bytes.toString(16)}) is not frames of L1 RAM`,
      );
    this.used = new Uint8Array(bytes / FRAME);
  }

  /** Frames in the region. */
  get frames(): number {
    return this.used.length;
  }

  /** A zeroed block of `bytes` (a multiple of 4 KiB) aligned to `align`, or -1. */
  tryAlloc(bytes: number, align = FRAME): number {
    const n = Math.max(1, Math.ceil(bytes / FRAME));
    const step = Math.max(1, align / FRAME);
    let i = this.scan(this.hint, n, step);
    if (i < 0) i = this.scan(0, n, step);
    if (i < 0) return -1;
    this.used.fill(1, i, i + n);
    this.inUse += n;
    this.hint = i + n;
    const addr = this.base + i * FRAME;
    this.ram.u8.fill(0, addr, addr + n * FRAME);
    return addr;
  }

  /** First index ≥ from of n free frames whose address is aligned to `step` frames, or -1. */
  private scan(from: number, n: number, step: number): number {
    const baseFrame = this.base / FRAME;
    const total = this.used.length;
    for (let i = from + ((step - ((baseFrame + from) % step)) % step); i + n <= total; i += step) {
      let k = 0;
      while (k < n && this.used[i + k] === 0) k++;
      if (k === n) return i;
    }
    return -1;
  }

  /** Like tryAlloc, but throws OutOfL1Memory. */
  alloc(bytes: number, align = FRAME): L1RA {
    const a = this.tryAlloc(bytes, align);
    if (a < 0)
      throw new OutOfL1Memory(
        `L1 memory exhausted: no ${bytes}-byte block free (${this.inUse} of ${this.frames} frames in use)`,
      );
    return a as L1RA;
  }

  /** Gives back a block from alloc. */
  free(addr: number, bytes: number): void {
    const i = (addr - this.base) / FRAME;
    const n = Math.ceil(bytes / FRAME);
    for (let k = i; k < i + n; k++) {
      if (this.used[k] !== 1)
        throw new Error(`L1 page allocator: frame 0x${(this.base + k * FRAME).toString(16)} freed twice`);
      this.used[k] = 0;
    }
    this.inUse -= n;
    if (i < this.hint) this.hint = i;
  }
}

/**
 * L2 memory as the L1 stand-in builds it: L1 RAM (mem/ram.ts) holding a partition-scoped radix
 * tree written with mem/radix-writer.ts, and page frames handed out on demand. Every byte the
 * harness puts into or takes out of L2 memory goes through the tree (a walk with side effects
 * off), exactly the path a real L1 loader would take, so a wrong mapping shows up in the tests.
 *
 * L1 RAM layout: [0, TABLE_BYTES) radix tables (bump allocator); [TABLE_BYTES, size) 4 KiB page
 * frames (bump allocator). The frames are deliberately not at L1RA = L2RA.
 */

import { INSPECT, Perm, partitionScopedWalk, Translation } from '../../mem/radix.js';
import { bumpAllocator, MapStatus, RadixWriter } from '../../mem/radix-writer.js';
import { GuestRam, RAM_GRANULE } from '../../mem/ram.js';
import { Access, asL1RA, asL2RA } from '../../mem/types.js';

/** Page size the harness maps with. */
export const PAGE = 4096;
/** L1 RAM reserved for radix tables (a root of 64 KiB plus 4 KiB tables). */
export const TABLE_BYTES = 0x10_0000;

/** ELF-style segment rights (PF_X = 1, PF_W = 2, PF_R = 4) → radix leaf rights. */
export function permsOf(pf: number): number {
  return (pf & 4 ? Perm.Read : 0) | (pf & 2 ? Perm.Write : 0) | (pf & 1 ? Perm.Exec : 0);
}

/** One L2's memory inside an L1 RAM of its own. */
export class L2Memory {
  readonly ram: GuestRam;
  readonly writer: RadixWriter;
  /** Rights of every mapped page, by L2 page number. */
  private readonly pages = new Map<number, number>();
  private nextFrame = TABLE_BYTES;
  private readonly t = new Translation();

  /** L1 RAM with room for `dataPages` page frames. */
  constructor(dataPages: number) {
    const bytes = Math.ceil((TABLE_BYTES + dataPages * PAGE) / RAM_GRANULE) * RAM_GRANULE;
    this.ram = GuestRam.create(bytes);
    const w = RadixWriter.create(this.ram, bumpAllocator(0, TABLE_BYTES));
    if (!w) throw new Error('l2-memory: no room for the radix root');
    this.writer = w;
  }

  /**
   * Maps [l2ra, l2ra + bytes) with `perms` (Perm bits), page by page; a page already mapped keeps
   * its frame and gets the union of the rights (two segments may share a page).
   */
  map(l2ra: number, bytes: number, perms: number): void {
    const first = Math.floor(l2ra / PAGE);
    const last = Math.floor((l2ra + bytes - 1) / PAGE);
    for (let pn = first; pn <= last; pn++) {
      const had = this.pages.get(pn);
      if (had !== undefined) {
        if ((had | perms) !== had) this.writer.protect(asL2RA(pn * PAGE), 12, had | perms);
        this.pages.set(pn, had | perms);
        continue;
      }
      const frame = this.nextFrame;
      if (frame + PAGE > this.ram.size) throw new Error('l2-memory: out of page frames');
      this.nextFrame += PAGE;
      const st = this.writer.map(asL2RA(pn * PAGE), asL1RA(frame), 12, perms);
      if (st !== MapStatus.Ok)
        throw new Error(`l2-memory: map of page 0x${(pn * PAGE).toString(16)}: status ${st}`);
      this.pages.set(pn, perms);
    }
  }

  /** L1RA of `l2ra` through the tree, or -1 when it is not mapped. */
  translate(l2ra: number): number {
    if (!partitionScopedWalk(this.ram, this.writer.root, asL2RA(l2ra), Access.Read, INSPECT, this.t))
      return -1;
    return this.t.l1ra;
  }

  /** Copies `data` to L2 memory at `l2ra`; false (nothing more copied) at the first unmapped page. */
  write(l2ra: number, data: Uint8Array): boolean {
    for (let done = 0; done < data.length; ) {
      const a = l2ra + done;
      const n = Math.min(PAGE - (a % PAGE), data.length - done);
      const l1 = this.translate(a);
      if (l1 < 0) return false;
      this.ram.u8.set(data.subarray(done, done + n), l1);
      done += n;
    }
    return true;
  }

  /** Bytes of L2 memory at `l2ra`: as many as are mapped, up to `len`. */
  read(l2ra: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = l2ra + done;
      const n = Math.min(PAGE - (a % PAGE), len - done);
      const l1 = this.translate(a);
      if (l1 < 0) break;
      out.set(this.ram.u8.subarray(l1, l1 + n), done);
      done += n;
    }
    return out.subarray(0, done);
  }
}

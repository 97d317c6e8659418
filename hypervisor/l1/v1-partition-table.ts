/**
 * L1's partition table for the v1 API (spec §14.2), as Linux's L1 keeps one: a table in L1 memory
 * of one 16-byte entry per L2 LPID (big-endian PATE: dw0 names the L2's partition-scoped tree,
 * dw1 its process table), registered with H_SET_PARTITION_TABLE once. L1 writes entries itself and
 * tells L0 with H_TLB_INVALIDATE: RIC=2 for the LPID after an entry changed (L0 re-reads it; a
 * cleared entry makes L0 drop the L2), RIC=0 for one page or the whole LPID after L1 changed a
 * mapping in the L2's tree. Entry 0 is L1 itself and never handed out.
 */
import type { RadixRoot } from '../../mem/radix.js';
import { pateDw0FromRoot } from '../../mem/radix-root.js';
import type { GuestRam } from '../../mem/ram.js';
import { HcallRegs } from '../l0/regs.js';
import { H, Hcall } from '../papr.js';
import type { PageAllocator } from './page-allocator.js';
import type { L0Port } from './vcpu-loop.js';

/** tlbie images (spec §14.4): r4 = RIC | PRS = 0 | R = 1; r6 = IS (and AP, EPN). */
const tlbie = (ric: number) => (ric << 18) | (1 << 16);
const IS_PAGE = 0;
const IS_LPID = 2 << 10;
/** AP encodings of the page sizes (spec §15.7). */
const AP: Readonly<Record<number, number>> = { 12: 0, 16: 5, 21: 1, 30: 2 };

/** A refused hcall on L1's v1 control path. */
export class V1TableError extends Error {}

/** L1's v1 partition table. */
export class V1PartitionTable {
  /** L1 address and entries of the table. */
  readonly base: number;
  readonly entries: number;
  private readonly used: Uint8Array;
  private readonly r = new HcallRegs();
  private registered = false;

  /**
   * Allocates a table of `entries` entries (a power of two, 256..4096: PATS 0..4) from L1 memory,
   * aligned to its size, and registers it with L0 on core `core`.
   */
  constructor(
    private readonly port: L0Port,
    private readonly ram: GuestRam,
    private readonly pages: PageAllocator,
    core: number,
    entries = 4096,
  ) {
    if (!(entries >= 256 && entries <= 4096 && (entries & (entries - 1)) === 0))
      throw new RangeError(`v1 partition table of ${entries} entries (a power of two, 256..4096)`);
    this.entries = entries;
    const bytes = entries * 16;
    this.base = pages.alloc(bytes, bytes);
    this.used = new Uint8Array(entries);
    this.used[0] = 1;
    const pats = Math.log2(bytes) - 12;
    const rc = this.call(core, Hcall.H_SET_PARTITION_TABLE, this.base + pats);
    if (rc !== H.SUCCESS) {
      pages.free(this.base, bytes);
      throw new V1TableError(`H_SET_PARTITION_TABLE failed (${rc}): L0 offers no nested v1`);
    }
    this.registered = true;
  }

  /** The lowest free LPID ≥ 1, now taken; -1 when every entry is in use. */
  allocLpid(): number {
    const k = this.used.indexOf(0);
    if (k < 0) return -1;
    this.used[k] = 1;
    return k;
  }

  /**
   * Writes the entry of `lpid`: the L2's partition-scoped tree at `root`, its process table (PATE
   * dw1, 0 for none: nestsim's L2s run in real mode), then flushes the LPID with RIC=2.
   */
  set(lpid: number, root: RadixRoot, core: number, processTable = 0n): void {
    this.checkLpid(lpid);
    const at = this.base + 16 * lpid;
    this.ram.dv.setBigUint64(at, pateDw0FromRoot(root), false);
    this.ram.dv.setBigUint64(at + 8, processTable, false);
    this.flush(lpid, 2, core);
  }

  /** Clears the entry of `lpid` and flushes it (L0 drops the L2); the LPID is free again. */
  clear(lpid: number, core: number): void {
    this.checkLpid(lpid);
    const at = this.base + 16 * lpid;
    this.ram.dv.setBigUint64(at, 0n, false);
    this.ram.dv.setBigUint64(at + 8, 0n, false);
    this.flush(lpid, 2, core);
    this.used[lpid] = 0;
  }

  /** After L1 changed the mapping of the 2^pageShift page at `l2ra` of L2 `lpid`: tlbie IS=0. */
  flushPage(lpid: number, l2ra: number, pageShift: number, core: number): void {
    const ap = AP[pageShift];
    if (ap === undefined) throw new RangeError(`page shift ${pageShift}`);
    const page = l2ra - (l2ra % 2 ** pageShift);
    const rb = BigInt(page) | BigInt(IS_PAGE | (ap << 5));
    this.check(this.callBig(core, Hcall.H_TLB_INVALIDATE, BigInt(tlbie(0)), BigInt(lpid), rb), 'tlbie page');
  }

  /** After L1 changed many mappings of L2 `lpid`: tlbie IS=2 RIC=0 (every translation of the LPID). */
  flushAll(lpid: number, core: number): void {
    this.flush(lpid, 0, core);
  }

  /** Unregisters the table and frees it (every L2 must be finished). */
  destroy(core: number): void {
    if (!this.registered) return;
    this.check(this.call(core, Hcall.H_SET_PARTITION_TABLE, 0), 'H_SET_PARTITION_TABLE 0');
    this.registered = false;
    this.pages.free(this.base, this.entries * 16);
  }

  private flush(lpid: number, ric: number, core: number): void {
    this.check(this.call(core, Hcall.H_TLB_INVALIDATE, tlbie(ric), lpid, IS_LPID), `tlbie RIC=${ric}`);
  }

  private checkLpid(lpid: number): void {
    if (!(Number.isInteger(lpid) && lpid >= 1 && lpid < this.entries))
      throw new RangeError(`LPID ${lpid} outside 1..${this.entries - 1}`);
  }

  private check(rc: number, what: string): void {
    if (rc !== H.SUCCESS) throw new V1TableError(`${what} failed (${rc})`);
  }

  private call(core: number, opcode: number, ...args: number[]): number {
    return this.callBig(core, opcode, ...args.map(BigInt));
  }

  private callBig(core: number, opcode: number, ...args: bigint[]): number {
    const r = this.r;
    r.clear();
    r.setInt(3, opcode);
    args.forEach((a, i) => {
      r.setBig(4 + i, a);
    });
    return this.port.hcall(r, core);
  }
}

/**
 * H_COPY_TOFROM_GUEST (0xF80C), spec §14.5: L1 reads or writes an L2's memory by effective
 * address. r4 = L1's LPID of the L2, r5 = PID, r6 = L2 effective address, r7 = L1 address to load
 * into (non-zero: a load from L2), r8 = L1 address to store from (non-zero: a store into L2),
 * r9 = bytes.
 *
 * Checks (Linux's L0; QEMU answers H_FUNCTION): v1 disabled → H_FUNCTION; r7 and r8 both non-zero
 * → H_PARAMETER; EA bits 0xFFF << 52 set → H_PARAMETER; more bytes than L0's bounce buffer →
 * H_NO_MEM; an LPID with no L2 (never entered) → H_PARAMETER; a translation that fails, or an L1
 * buffer outside L1 memory → H_NOT_FOUND (nothing copied: every page is translated first).
 *
 * Translation is the L2's own, as a quadrant access from the hypervisor does it (spec §15.4,
 * §15.5): the process table from the L2's PATE doubleword 1, the entry of `pid`, its radix tree
 * (every table address an L2 real address, itself translated partition-scoped), the leaf's rights
 * (read, or read/write for a store); then partition-scoped to an L1 address. nestsim walks L1's
 * tree for the partition-scoped steps directly (pure: no R/C updates) where Linux's L0 uses the
 * shadow tree through the hardware: Linux fails where the shadow tree has no entry yet, nestsim
 * succeeds wherever L1 maps the page (docs/v1.md).
 */
import { INSPECT, Pte, partitionScopedWalk, type RadixRoot, Translation } from '../../../mem/radix.js';
import type { GuestRam } from '../../../mem/ram.js';
import { Access, type L1RA, type L2RA } from '../../../mem/types.js';
import { H } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { type V1Host, VG } from './host.js';
import { v1Of } from './registry.js';

const PAGE = 4096;

export const hCopyTofromGuest: HcallHandler = (l0, r) => {
  const host = v1Of(l0);
  if (!host.config.enabled) return l0.fail(H.FUNCTION, 'the v1 nested API is disabled');
  const lpid = r.lo(4);
  const pid = r.lo(5);
  const to = r.num(7);
  const from = r.num(8);
  const n = r.num(9);
  if (!r.isZero(7) && !r.isZero(8)) return l0.fail(H.PARAMETER, 'both a load and a store buffer given');
  if ((r.hi(6) & 0xfff0_0000) !== 0) return l0.fail(H.PARAMETER, 'EA bits 0:11 must be zero');
  if (n > host.config.copyBufferBytes)
    return l0.fail(H.NO_MEM, `${n} bytes exceed L0's ${host.config.copyBufferBytes}-byte copy buffer`);
  if (!host.active(lpid)) return l0.fail(H.PARAMETER, `no L2 with lpid ${lpid}`);
  const load = !r.isZero(7);
  const buf = load ? to : from;
  const ram = l0.ram;
  if (!ram.inBounds(buf, n)) return l0.fail(H.NOT_FOUND, 'L1 buffer is not in L1 memory');
  const ea = r.num(6);
  const w = new L2Walker(host, ram, lpid);
  // Translate every page first, so a failure copies nothing.
  const pieces: [number, number, number][] = [];
  for (let done = 0; done < n; ) {
    const at = ea + done;
    const len = Math.min(PAGE - (at % PAGE), n - done);
    const l1ra = w.translate(at, pid, !load);
    if (l1ra < 0) return l0.fail(H.NOT_FOUND, `L2 EA 0x${at.toString(16)} (PID ${pid}) does not translate`);
    pieces.push([l1ra, buf + done, len]);
    done += len;
  }
  for (const [l2At, l1At, len] of pieces) {
    if (load) ram.u8.copyWithin(l1At, l2At, l2At + len);
    else ram.u8.copyWithin(l2At, l1At, l1At + len);
  }
  return H.SUCCESS;
};

/** Walks an L2's process-scoped tree and L1's partition-scoped tree (pure reads). */
class L2Walker {
  private readonly t = new Translation();
  private readonly l1Root: RadixRoot;
  private readonly prtb: number;
  private readonly prtBytes: number;

  constructor(
    host: V1Host,
    private readonly ram: GuestRam,
    lpid: number,
  ) {
    const g = (f: number) => Atomics.load(host.w, host.guestWord(lpid, f));
    this.l1Root = rootOf(g(VG.PATE0_HI), g(VG.PATE0_LO));
    const hi1 = g(VG.PATE1_HI);
    const lo1 = g(VG.PATE1_LO);
    this.prtb = (hi1 & 0x0fff_ffff) * 4294967296 + ((lo1 & 0xffff_f000) >>> 0);
    this.prtBytes = this.prtb === 0 ? 0 : 2 ** ((lo1 & 0x1f) + 12);
  }

  /** L1 address of L2 EA `ea` for PID `pid` (`write`: the leaf must allow stores), or -1. */
  translate(ea: number, pid: number, write: boolean): number {
    if (16 * pid + 16 > this.prtBytes) return -1;
    const prte = this.entry(this.prtb + 16 * pid);
    if (prte === undefined) return -1;
    const root = rootOf(prte[0], prte[1], true);
    if (root.addrBits !== 52 || root.rootBits !== 13) return -1;
    let base: number = root.base;
    let nls = root.rootBits;
    let psize = root.addrBits;
    for (let level = 0; level < 4; level++) {
      const shift = psize - nls;
      const e = this.entry(base + 8 * (Math.floor(ea / 2 ** shift) % 2 ** nls));
      if (e === undefined) return -1;
      const [hi, lo] = e;
      if ((hi & Pte.V) === 0) return -1;
      psize = shift;
      if ((hi & Pte.L) !== 0) {
        if (level === 0) return -1;
        if ((lo & (write ? Pte.RW : Pte.READ | Pte.RW)) === 0) return -1;
        const size = 2 ** psize;
        const page = (hi & Pte.RPN_HI) * 4294967296 + ((lo & Pte.RPN_LO) >>> 0);
        const l2ra = page - (page % size) + (ea % size);
        const ok = partitionScopedWalk(
          this.ram,
          this.l1Root,
          l2ra as L2RA,
          write ? Access.Write : Access.Read,
          INSPECT,
          this.t,
        );
        return ok ? this.t.l1ra : -1;
      }
      base = (hi & Pte.NLB_HI) * 4294967296 + ((lo & Pte.NLB_LO) >>> 0);
      nls = lo & Pte.NLS;
      // POWER9/10 geometry (spec §15.2): 9-bit levels, the last one 9 or 5 bits, tables aligned.
      if (!(nls === 9 || (level === 2 && nls === 5)) || base % (8 << nls) !== 0) return -1;
    }
    return -1;
  }

  /** The big-endian doubleword at L2 real address `l2ra` as (hi, lo), or undefined. */
  private entry(l2ra: number): [number, number] | undefined {
    if (!partitionScopedWalk(this.ram, this.l1Root, l2ra as L2RA, Access.Read, INSPECT, this.t))
      return undefined;
    const a = this.t.l1ra;
    if (!this.ram.inBounds(a, 8)) return undefined;
    return [this.ram.dv.getInt32(a, false), this.ram.dv.getInt32(a + 4, false)];
  }
}

/** A radix root from a PATE dw0 / process-table dw0 as halves (HR is required unless `anyHr`). */
function rootOf(hi: number, lo: number, anyHr = false): RadixRoot {
  const radix = anyHr || (hi & 0x8000_0000) !== 0;
  return {
    base: ((hi & 0x0fff_ffff) * 4294967296 + ((lo & 0xffff_ff00) >>> 0)) as L1RA,
    addrBits: radix ? ((((hi >>> 29) & 3) << 3) | ((lo >>> 5) & 7)) + 31 : 0,
    rootBits: lo & 0x1f,
  };
}

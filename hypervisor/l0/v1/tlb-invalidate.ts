/**
 * H_TLB_INVALIDATE (0xF808), spec §14.4 and §15.7: L1's tlbie for its L2s, which L0 emulates on
 * the shadow tables. r4 = the tlbie instruction image (RIC bits 18:19, PRS bit 17, R bit 16 of the
 * low word), r5 = RS (LPID in the low 32 bits), r6 = RB (IS bits 10:11, AP bits 5:7, EPN from
 * bit 12 up).
 *
 * Checks (Linux's L0): v1 disabled → H_FUNCTION; R ≠ 1 (radix only), PRS = 1 (process-scoped
 * entries are not the hypervisor's), RIC = 3, IS = 1, or IS = 0 with RIC 1 or 2 → H_PARAMETER;
 * IS = 0 with an AP that names no page size → H_PARAMETER. An LPID L0 has no L2 for succeeds
 * without doing anything (Linux's L1 flushes an LPID before its first entry).
 *
 * Forms: IS = 0, RIC = 0: the shadow leaves covering that page of that LPID; IS = 2: the LPID —
 * RIC 0 drops its shadow tree, RIC 1 nothing (L0 caches no page-walk entries), RIC 2 drops the
 * tree and re-reads the PATE (the L2 is removed if L1 cleared it); IS = 3: IS = 2 for every LPID.
 * Each drop bumps the shadow LPID's TLB generation, and the call returns only when no core can use
 * a dropped translation (L0.invalidatePartition).
 */
import { H } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { flushLpid, flushRange, forEachGuest } from './guests.js';
import { v1Of } from './registry.js';

/** tlbie AP field → page shift (Linux's radix encodings, spec §15.7). */
const AP_SHIFT: Readonly<Record<number, number>> = { 0: 12, 5: 16, 1: 21, 2: 30 };

export const hTlbInvalidate: HcallHandler = (l0, r) => {
  const host = v1Of(l0);
  if (!host.config.enabled) return l0.fail(H.FUNCTION, 'the v1 nested API is disabled');
  const insn = r.lo(4);
  const ric = (insn >>> 18) & 3;
  const prs = (insn >>> 17) & 1;
  const radix = (insn >>> 16) & 1;
  const lpid = r.lo(5);
  const rb = r.lo(6);
  const is = (rb >>> 10) & 3;
  if (radix !== 1) return l0.fail(H.PARAMETER, 'tlbie R = 0: only radix is supported');
  if (prs === 1) return l0.fail(H.PARAMETER, 'tlbie PRS = 1: process-scoped entries are not L0’s');
  if (ric === 3) return l0.fail(H.PARAMETER, 'tlbie RIC = 3 is reserved for radix');
  if (is === 1) return l0.fail(H.PARAMETER, 'tlbie IS = 1: partition-scoped entries have no PID');
  if (is === 0 && ric !== 0) return l0.fail(H.PARAMETER, `tlbie IS = 0 with RIC = ${ric}`);
  switch (is) {
    case 0: {
      const shift = AP_SHIFT[(rb >>> 5) & 7];
      if (shift === undefined) return l0.fail(H.PARAMETER, `tlbie AP = ${(rb >>> 5) & 7} names no page size`);
      const hi = r.hi(6) >>> 0;
      if (hi >= 0x10_0000) return H.SUCCESS; // beyond 52 bits: no shadow entry maps it
      const ea = hi * 4294967296 + ((rb & ~0xfff) >>> 0); // EPN << 12
      const size = 2 ** shift;
      const start = ea - (ea % size);
      flushRange(host, l0, lpid, start, start + size);
      return H.SUCCESS;
    }
    case 2:
      flushLpid(host, l0, lpid, ric);
      return H.SUCCESS;
    default:
      forEachGuest(host, (g) => flushLpid(host, l0, g, ric));
      return H.SUCCESS;
  }
};

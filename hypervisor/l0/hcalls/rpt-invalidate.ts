/**
 * H_RPT_INVALIDATE (0x448), spec §14.6: the partition-scoped invalidation an L1 uses under the v2
 * API (type NESTED, r4 = the L2's guest id), and process-scoped invalidation of L1's own
 * translations.
 *
 * Check order: end < start → H_P5; undefined target bits → H_P2; undefined type bits → H_P3;
 * NESTED with a target other than CMMU → H_P2; NESTED for a guest L0 does not know → H_SUCCESS
 * (L1 flushes before its first entry, as Linux's L0 accepts). nestsim drops every translation of
 * the LPID whatever the page-size mask and range say: invalidating more than asked is always
 * correct, and a whole-LPID generation bump costs the same as one page. The call returns only when
 * no core can use a dropped translation any more (L0.invalidatePartition).
 *
 * Without NESTED the call targets L1's own process-scoped translations; L1 is modelled in
 * TypeScript and caches none, so there is nothing to drop: H_SUCCESS.
 */
import { H, RptTarget, RptType } from '../../papr.js';
import type { HcallHandler } from '../l0.js';

const TARGETS = RptTarget.CMMU | RptTarget.CMMU_LOCAL | RptTarget.NMMU;
const TYPES = RptType.NESTED | RptType.TLB | RptType.PWC | RptType.PRT;

export const hRptInvalidate: HcallHandler = (l0, r) => {
  const sHi = r.hi(8) >>> 0;
  const eHi = r.hi(9) >>> 0;
  if (eHi < sHi || (eHi === sHi && r.lo(9) >>> 0 < r.lo(8) >>> 0))
    return l0.fail(H.P5, 'end address below start address');
  if (r.hi(5) !== 0 || (r.lo(5) & ~TARGETS) !== 0) return l0.fail(H.P2, 'undefined target bits');
  if (r.hi(6) !== 0 || (r.lo(6) & ~TYPES) !== 0) return l0.fail(H.P3, 'undefined type bits');
  if ((r.lo(6) & RptType.NESTED) === 0) return H.SUCCESS;
  if (r.lo(5) !== RptTarget.CMMU) return l0.fail(H.P2, 'NESTED invalidation needs target CMMU');
  const lpid = r.num(4);
  if (!l0.parts.guestActive(lpid)) return H.SUCCESS;
  l0.invalidatePartition(lpid);
  return H.SUCCESS;
};

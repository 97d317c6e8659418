/**
 * H_RPT_INVALIDATE (0x448) with type NESTED for a v1 L2 (spec §14.6, Linux's L0): the LPID is
 * L1's LPID of the L2, and what goes is the L2's shadow entries. It runs after the v2 handler
 * (hypervisor/l0/hcalls/rpt-invalidate.ts), which checks the arguments in the spec's order and
 * invalidates a v2 guest of that number if there is one; then:
 *   TLB | PWC | PAT (NESTED_ALL) → as tlbie RIC=2 for the LPID (drop the tree, re-read the PATE);
 *   TLB, start 0 and end all ones, or a range of more than 33 pages of the smallest size asked
 *       for → drop the tree (Linux's tlb_range_flush_page_ceiling);
 *   TLB over a smaller range → the shadow leaves covering [start, end);
 *   PWC or PAT alone → nothing (L0 caches neither).
 * An LPID with no v1 L2 is ignored (H_SUCCESS), as Linux's L1 flushes before its first entry.
 */
import { H, RptType } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { flushLpid, flushRange } from './guests.js';
import { v1IfAny } from './registry.js';

/** Linux's tlb_range_flush_page_ceiling: more pages than this flush the whole LPID. */
const RANGE_PAGES = 33;
/** Page sizes of the r7 mask bits: 4K, 64K, 2M, 1G. */
const SIZE_SHIFTS = [12, 16, 21, 30] as const;
const NESTED_ALL = RptType.TLB | RptType.PWC | RptType.PRT;

/** Wraps the v2 H_RPT_INVALIDATE handler so that NESTED also reaches v1 L2s. */
export function withV1Nested(inner: HcallHandler): HcallHandler {
  return (l0, r, core) => {
    const rc = inner(l0, r, core);
    const type = r.lo(6);
    if (rc !== H.SUCCESS || (type & RptType.NESTED) === 0) return rc;
    const host = v1IfAny(l0);
    const lpid = r.num(4);
    if (!host?.config.enabled || !host.active(lpid)) return rc;
    if ((type & NESTED_ALL) === NESTED_ALL) {
      flushLpid(host, l0, lpid, 2);
      return rc;
    }
    if ((type & RptType.TLB) === 0) return rc;
    const start = r.num(8);
    const end = r.num(9);
    const mask = r.lo(7);
    let smallest = 30;
    for (let k = 0; k < SIZE_SHIFTS.length; k++)
      if (mask & (1 << k)) smallest = Math.min(smallest, SIZE_SHIFTS[k]!);
    if (r.isAllOnes(9) || !Number.isFinite(end) || (end - start) / 2 ** smallest > RANGE_PAGES)
      flushLpid(host, l0, lpid, 0);
    else if (end > start) flushRange(host, l0, lpid, start, end);
    return rc;
  };
}

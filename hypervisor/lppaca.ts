/**
 * The facts of the VPA (PAPR's virtual processor area, Linux's struct lppaca) that nestsim uses:
 * the size field, the dispatch (yield) count, and PAPR's smallest VPA. Fields are big-endian.
 * Whoever keeps an L2's dispatch count (L0 under v2, L1 under v1) bumps it with `bumpDispatch`.
 */
import type { GuestRam } from '../mem/ram.js';

/** Byte offset of the size field (u16). */
export const LPPACA_SIZE = 4;
/** Byte offset of the dispatch count (u32): odd while the processor is not running. */
export const LPPACA_YIELD_COUNT = 0x100;
/** PAPR's smallest VPA, in bytes. */
export const VPA_MIN_BYTES = 640;

/** yield_count += 1 in the VPA at L1 address `vpa`. */
export function bumpDispatch(ram: GuestRam, vpa: number): void {
  const at = vpa + LPPACA_YIELD_COUNT;
  ram.dv.setUint32(at, (ram.dv.getUint32(at, false) + 1) >>> 0, false);
}

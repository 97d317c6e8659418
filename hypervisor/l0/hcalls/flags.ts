/** Flag-word helpers shared by the hcall handlers (flags use IBM bit numbering, spec §1). */
import type { HcallRegs } from '../regs.js';

/**
 * True when rN has a bit set outside `definedHi` (a mask of the high word; every flag nestsim
 * knows lives in IBM bits 0..31, so any low-word bit is reserved).
 */
export function hasReservedFlags(r: HcallRegs, n: number, definedHi: number): boolean {
  return ((r.hi(n) & ~definedHi) | r.lo(n)) !== 0;
}

/** High-word masks of the flag bits (IBM bit k ↔ 0x8000_0000 >>> k). */
export const FlagHi = {
  BIT0: 0x8000_0000 | 0,
  BIT1: 0x4000_0000,
  BIT2: 0x2000_0000,
  BIT3: 0x1000_0000,
} as const;

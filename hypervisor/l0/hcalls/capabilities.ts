/**
 * H_GUEST_GET_CAPABILITIES (0x460) and H_GUEST_SET_CAPABILITIES (0x464), spec §5.1, §5.2, §6 and
 * the decisions table. Capability bits live in the high word of the bitmap: COPY_MEM (IBM bit 0),
 * POWER9/10/11 (bits 1..3); BITMAP2 (bit 63) is never offered.
 */
import { H } from '../../papr.js';
import type { CpuMode, HcallHandler, L0 } from '../l0.js';
import { Hdr } from '../partitions.js';
import { FlagHi } from './flags.js';

const MODE_BITS: Record<CpuMode, number> = {
  power9: FlagHi.BIT1,
  power10: FlagHi.BIT1 | FlagHi.BIT2,
  power11: FlagHi.BIT1 | FlagHi.BIT2 | FlagHi.BIT3,
};

/** Mode bits (high word) this L0 offers: every mode up to its own. */
export function offeredModes(l0: L0): number {
  return MODE_BITS[l0.config.maxMode];
}

/** GET_CAPABILITIES(flags) → r4 = capability bitmap 1. */
export const hGuestGetCapabilities: HcallHandler = (l0, r) => {
  if (!r.isZero(4)) return l0.fail(H.PARAMETER, 'GET_CAPABILITIES defines no flags');
  r.set(4, offeredModes(l0), 0);
  return H.SUCCESS;
};

/** IBM index of the most significant set bit of a non-zero 64-bit value given as halves. */
function firstIbmBit(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

/**
 * SET_CAPABILITIES(flags, bitmap). Checks in the spec's order: flags; COPY_MEM (never offered);
 * empty request; bits that are not an offered mode; already set. On H_P2, r4 = 1 (one bad bitmap)
 * and r5 = the IBM bit index of the first (most significant) invalid bit, or, for an empty
 * request, the bit of the newest offered mode (as QEMU reports it).
 */
export const hGuestSetCapabilities: HcallHandler = (l0, r) => {
  const flagsZero = r.isZero(4);
  const hi = r.hi(5);
  const lo = r.lo(5);
  r.set(4, 0, 0);
  if (!flagsZero) return l0.fail(H.PARAMETER, 'SET_CAPABILITIES defines no flags');
  const badBitmap = (bit: number, reason: string) => {
    r.setInt(4, 1);
    r.setInt(5, bit);
    return l0.fail(H.P2, reason);
  };
  if (hi & FlagHi.BIT0)
    return badBitmap(0, 'COPY_MEM is not offered (H_GUEST_COPY_MEMORY has no published layout)');
  const offered = offeredModes(l0);
  if ((hi | lo) === 0) return badBitmap(Math.clz32(offered & -offered), 'no mode requested'); // least significant = newest mode
  const invalidHi = hi & ~offered;
  if ((invalidHi | lo) !== 0) {
    return badBitmap(firstIbmBit(invalidHi, lo), 'requested a mode this L0 does not offer');
  }
  if (Atomics.load(l0.parts.w, Hdr.CAPS_SET) !== 0) return l0.fail(H.STATE, 'capabilities already set');
  Atomics.store(l0.parts.w, Hdr.CAPS_HI, hi);
  Atomics.store(l0.parts.w, Hdr.CAPS_SET, 1);
  return H.SUCCESS;
};

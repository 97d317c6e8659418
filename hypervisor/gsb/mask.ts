/**
 * Silent masking of the bits an L1 may not set (decisions table: reserved LPCR / MSR bits are
 * masked, not rejected, because the Linux client pre-masks and a rejection would break it).
 * The masks live in the element table (`settableMask`); this file applies them.
 *
 * L0 never writes L1's buffer, so masking copies: `copyMaskedValue` moves one value from the
 * buffer in L1 RAM into a scratch or the vCPU area with the mask applied, with no BigInt.
 * Invoked from: L0's SET_STATE and RUN_VCPU input handling, after validate.ts accepted the buffer.
 */
import { ELEMENTS, type ElementDef } from './elements.js';

/** Per element ID with a mask: [high word, low word] of the settable bits. */
const maskHalves = new Map<number, readonly [number, number]>();
for (const e of ELEMENTS) {
  if (e.settableMask !== undefined) {
    maskHalves.set(e.id, [Number(e.settableMask >> 32n) >>> 0, Number(e.settableMask & 0xffff_ffffn) >>> 0]);
  }
}

/** `v` with the bits L1 may not set cleared (unchanged for elements without a mask). */
export function maskSettable(def: ElementDef, v: bigint): bigint {
  return def.settableMask === undefined ? v : v & def.settableMask;
}

/** High half of an 8-byte value with the reserved bits cleared. */
export function maskSettableHi(def: ElementDef, hi: number): number {
  const m = maskHalves.get(def.id);
  return m === undefined ? hi >>> 0 : (hi & m[0]) >>> 0;
}

/** Low half of an 8-byte value with the reserved bits cleared. */
export function maskSettableLo(def: ElementDef, lo: number): number {
  const m = maskHalves.get(def.id);
  return m === undefined ? lo >>> 0 : (lo & m[1]) >>> 0;
}

/**
 * Copies the value of element `def` (def.size bytes, big-endian) from `src[srcOff]` to
 * `dst[dstOff]`, clearing the bits L1 may not set. Returns the bytes copied. BLANK copies nothing.
 */
export function copyMaskedValue(
  def: ElementDef,
  src: DataView,
  srcOff: number,
  dst: DataView,
  dstOff: number,
): number {
  const size = def.size;
  if (size <= 0) return 0;
  const m = maskHalves.get(def.id);
  if (m !== undefined && size === 8) {
    dst.setUint32(dstOff, src.getUint32(srcOff) & m[0]);
    dst.setUint32(dstOff + 4, src.getUint32(srcOff + 4) & m[1]);
    return 8;
  }
  for (let k = 0; k < size; k += 4) dst.setUint32(dstOff + k, src.getUint32(srcOff + k));
  return size;
}

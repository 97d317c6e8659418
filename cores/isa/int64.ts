/**
 * 64- and 128-bit integer helpers on pairs of 32-bit halves, shared by the fixed-point families.
 * Registers are (hi, lo) int32 pairs; BigInt stays off the hot path (docs/architecture.md,
 * "Memory"): products use 16-bit limbs, whose partial sums stay exact in doubles.
 *
 * Results that do not fit one return value land in `P` (a module scratch, read right after the
 * call, never kept).
 */

/** Scratch result words: P[0] = most significant … P[3] = least significant (128-bit results), or P[2], P[3] for 64-bit. */
export const P = new Int32Array(4);

/** Signed value of (hi, lo) as a JS number; exact when |value| < 2^53 (checked by `safeS`). */
export const toNumS = (hi: number, lo: number): number => hi * 4294967296 + (lo >>> 0);
/** Unsigned value of (hi, lo) as a JS number; exact when below 2^53 (checked by `safeU`). */
export const toNumU = (hi: number, lo: number): number => (hi >>> 0) * 4294967296 + (lo >>> 0);
/** True when the signed 64-bit (hi, lo) is exactly representable as a double with room for division. */
export const safeS = (hi: number): boolean => hi >= -0x20_0000 && hi < 0x20_0000;
/** True when the unsigned 64-bit (hi, lo) is below 2^53. */
export const safeU = (hi: number): boolean => hi >>> 0 < 0x20_0000;

/** (hi, lo) as an unsigned bigint. Slow path only (divde, divwe and huge 64-bit divisions). */
export const toBigU = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
/** (hi, lo) as a signed bigint. Slow path only. */
export const toBigS = (hi: number, lo: number): bigint => BigInt.asIntN(64, toBigU(hi, lo));

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
export function umulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) | 0;
}

/** High 32 bits of the signed 64-bit product of two int32 values. */
export function smulhi32(a: number, b: number): number {
  return (umulhi32(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** Low 64 bits of (ahi, alo) × (bhi, blo) (sign does not matter) into P[2], P[3]. */
export function mul64(ahi: number, alo: number, bhi: number, blo: number): void {
  P[3] = Math.imul(alo, blo);
  P[2] = (umulhi32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

const LA = new Float64Array(4);
const LB = new Float64Array(4);
const LC = new Float64Array(8);
const LO = new Float64Array(8);

/**
 * Unsigned 128-bit product into P[0..3], plus an optional 128-bit addend: (chi, clo) with high
 * 64 bits `cExt` (0, or -1 to sign-extend). Limbs are 16 bits: a column sum is at most
 * 4 × (2^16 − 1)^2 + carry < 2^35, exact in a double. No allocation: mulhdu is what gcc emits for
 * 64-bit division by a constant, so this can be hot.
 */
export function mul128(ahi: number, alo: number, bhi: number, blo: number, chi = 0, clo = 0, cExt = 0): void {
  LA[0] = alo & 0xffff;
  LA[1] = alo >>> 16;
  LA[2] = ahi & 0xffff;
  LA[3] = ahi >>> 16;
  LB[0] = blo & 0xffff;
  LB[1] = blo >>> 16;
  LB[2] = bhi & 0xffff;
  LB[3] = bhi >>> 16;
  LC[0] = clo & 0xffff;
  LC[1] = clo >>> 16;
  LC[2] = chi & 0xffff;
  LC[3] = chi >>> 16;
  LC[4] = LC[6] = cExt & 0xffff;
  LC[5] = LC[7] = cExt >>> 16;
  let carry = 0;
  for (let col = 0; col < 8; col++) {
    let s = carry + LC[col]!;
    const k0 = col > 3 ? col - 3 : 0;
    const k1 = Math.min(col, 3);
    for (let k = k0; k <= k1; k++) s += LA[k]! * LB[col - k]!;
    const low = s % 65536;
    LO[col] = low;
    carry = (s - low) / 65536;
  }
  P[0] = (LO[7]! << 16) | LO[6]!;
  P[1] = (LO[5]! << 16) | LO[4]!;
  P[2] = (LO[3]! << 16) | LO[2]!;
  P[3] = (LO[1]! << 16) | LO[0]!;
}

/**
 * Signed 128-bit product of two int64 values (+ optional signed addend) into P: the unsigned
 * product corrected by subtracting each operand from the high half when the other is negative.
 */
export function smul128(ahi: number, alo: number, bhi: number, blo: number, chi = 0, clo = 0): void {
  mul128(ahi, alo, bhi, blo, chi, clo, chi < 0 ? -1 : 0);
  if (ahi < 0) sub64hi(bhi, blo);
  if (bhi < 0) sub64hi(ahi, alo);
}

/** P[0..1] −= (hi, lo). */
function sub64hi(hi: number, lo: number): void {
  const l = (P[1]! >>> 0) - (lo >>> 0);
  P[1] = l;
  P[0] = (P[0]! - hi - (l < 0 ? 1 : 0)) | 0;
}

/** Number of one bits in a 32-bit word. */
export function popcnt32(x: number): number {
  let v = x - ((x >>> 1) & 0x5555_5555);
  v = (v & 0x3333_3333) + ((v >>> 2) & 0x3333_3333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f_0f0f, 0x0101_0101) >>> 24) & 0xff;
}

/** Count of trailing zero bits of a 32-bit word (32 for zero). */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Mask with ones from bit `mb` to bit `me` of a 32-bit word (IBM numbering; wraps when mb > me). */
export function mask32(mb: number, me: number): number {
  const m1 = 0xffff_ffff >>> mb;
  const m2 = me === 31 ? 0 : 0xffff_ffff >>> (me + 1);
  return mb <= me ? (m1 & ~m2) | 0 : m1 | ~m2 | 0;
}

/** Rotate a 32-bit word left by n (0..31). */
export function rotl32(x: number, n: number): number {
  return n === 0 ? x | 0 : (x << n) | (x >>> (32 - n));
}

/**
 * 64-bit mask from bit `mb` to bit `me` (IBM numbering, 0..63; wraps when mb > me) into P[2] (high)
 * and P[3] (low).
 */
export function mask64(mb: number, me: number): void {
  // ones from mb to 63
  const aHi = mb >= 32 ? 0 : 0xffff_ffff >>> mb;
  const aLo = mb >= 32 ? 0xffff_ffff >>> (mb - 32) : -1;
  // ones from me+1 to 63
  const e = me + 1;
  const bHi = e >= 64 ? 0 : e >= 32 ? 0 : 0xffff_ffff >>> e;
  const bLo = e >= 64 ? 0 : e >= 32 ? 0xffff_ffff >>> (e - 32) : -1;
  if (mb <= me) {
    P[2] = aHi & ~bHi;
    P[3] = aLo & ~bLo;
  } else {
    P[2] = aHi | ~bHi;
    P[3] = aLo | ~bLo;
  }
}

/** Rotate (hi, lo) left by n (0..63) into P[2], P[3]. */
export function rotl64(hi: number, lo: number, n: number): void {
  let h = hi;
  let l = lo;
  if (n >= 32) {
    h = lo;
    l = hi;
    n -= 32;
  }
  if (n === 0) {
    P[2] = h;
    P[3] = l;
  } else {
    P[2] = (h << n) | (l >>> (32 - n));
    P[3] = (l << n) | (h >>> (32 - n));
  }
}

/**
 * Fixed-point arithmetic and logical instructions (Power ISA Book I §3.3.9–3.3.13).
 * One function per instruction, named after the mnemonic, the book's RTL as its doc line.
 * Every add and subtract form goes through `addFull` (subtracts add ¬RA with carry-in 1, as the
 * book defines them), so carry and overflow are computed in exactly one place.
 *
 * Results the book leaves undefined (division by zero, quotient overflow, the high word of 32-bit
 * multiplies and divides) are fixed by nestsim so runs are repeatable: a quotient or remainder that
 * is undefined is 0; 32-bit results are sign-extended for signed forms and zero-extended for
 * unsigned ones (what QEMU does, so differential runs agree).
 */
import { R } from '../vcpu.js';
import { type Exec, Step } from './cpu.js';
import { bit31, oe, ra, rb, rc5, rt, si, ui } from './forms.js';
import {
  ctz32,
  mul64,
  mul128,
  P,
  popcnt32,
  safeS,
  safeU,
  smul128,
  smulhi32,
  toBigS,
  toBigU,
  toNumS,
  toNumU,
  umulhi32,
} from './int64.js';
import { setCr0, setOv } from './regs.js';

/**
 * GPR[t] ← (ahi, alo) + (bhi, blo) + cin; records CA/CA32 when `ca`, OV/OV32/SO when `o`,
 * CR0 when `rc`. Returns Step.NEXT so callers can tail-return it.
 */
export function addFull(
  r: Int32Array,
  t: number,
  ahi: number,
  alo: number,
  bhi: number,
  blo: number,
  cin: number,
  ca: boolean,
  o: number,
  rc: number,
): number {
  // Carries in int32 arithmetic (V8 keeps it out of doubles): x + y (+ 1) wrapped carries out
  // iff the result is below x (at most x with a carry-in), compared unsigned.
  const lo = (alo + blo + cin) | 0;
  const c32 = cin === 0 ? (lo >>> 0 < alo >>> 0 ? 1 : 0) : lo >>> 0 <= alo >>> 0 ? 1 : 0;
  const hi = (ahi + bhi + c32) | 0;
  r[2 * t] = hi;
  r[2 * t + 1] = lo;
  if (ca) {
    r[R.CA] = c32 === 0 ? (hi >>> 0 < ahi >>> 0 ? 1 : 0) : hi >>> 0 <= ahi >>> 0 ? 1 : 0;
    r[R.CA32] = c32;
  }
  if (o !== 0) setOv(r, ((ahi ^ hi) & (bhi ^ hi)) < 0 ? 1 : 0, ((alo ^ lo) & (blo ^ lo)) < 0 ? 1 : 0);
  if (rc !== 0) setCr0(r, hi, lo);
  return Step.NEXT;
}

/** addi RT,RA,SI — RT ← (RA|0) + EXTS(SI) */
export const addi: Exec = (c, i) => {
  const r = c.r;
  const a = ra(i);
  const d = si(i);
  const t = rt(i) << 1;
  if (a === 0) {
    r[t] = d >> 31;
    r[t + 1] = d;
    return Step.NEXT;
  }
  const alo = r[2 * a + 1];
  const lo = (alo + d) | 0;
  r[t] = (r[2 * a] + (d >> 31) + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  r[t + 1] = lo;
  return Step.NEXT;
};

/** addis RT,RA,SI — RT ← (RA|0) + EXTS(SI || 0x0000) */
export const addis: Exec = (c, i) => {
  const r = c.r;
  const a = ra(i);
  const d = i << 16;
  const t = rt(i) << 1;
  if (a === 0) {
    r[t] = d >> 31;
    r[t + 1] = d;
    return Step.NEXT;
  }
  const alo = r[2 * a + 1];
  const lo = (alo + d) | 0;
  r[t] = (r[2 * a] + (d >> 31) + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  r[t + 1] = lo;
  return Step.NEXT;
};

/** addpcis RT,D — RT ← NIA + EXTS(D || 0x0000) */
export const addpcis: Exec = (c, i, ciaHi, ciaLo) => {
  const d = (((i >>> 6) & 0x3ff) << 6) | (((i >>> 16) & 31) << 1) | (i & 1); // d0 || d1 || d2
  const off = (d << 16) | 0;
  const nlo = (ciaLo + 4) | 0;
  const nhi = nlo >>> 0 < ciaLo >>> 0 ? (ciaHi + 1) | 0 : ciaHi;
  return addFull(c.r, rt(i), nhi, nlo, off >> 31, off, 0, false, 0, 0);
};

/** addic RT,RA,SI — RT ← (RA) + EXTS(SI); CA */
export const addic: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const d = si(i);
  return addFull(r, rt(i), r[a], r[a + 1], d >> 31, d, 0, true, 0, 0);
};

/** addic. RT,RA,SI — RT ← (RA) + EXTS(SI); CA, CR0 */
export const addic_: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const d = si(i);
  return addFull(r, rt(i), r[a], r[a + 1], d >> 31, d, 0, true, 0, 1);
};

/** subfic RT,RA,SI — RT ← ¬(RA) + EXTS(SI) + 1; CA */
export const subfic: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const d = si(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], d >> 31, d, 1, true, 0, 0);
};

/** add RT,RA,RB (OE, Rc) — RT ← (RA) + (RB) */
export const add: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return addFull(r, rt(i), r[a], r[a + 1], r[b], r[b + 1], 0, false, oe(i), bit31(i));
};

/** addc RT,RA,RB (OE, Rc) — RT ← (RA) + (RB); CA */
export const addc: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return addFull(r, rt(i), r[a], r[a + 1], r[b], r[b + 1], 0, true, oe(i), bit31(i));
};

/** adde RT,RA,RB (OE, Rc) — RT ← (RA) + (RB) + CA; CA */
export const adde: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return addFull(r, rt(i), r[a], r[a + 1], r[b], r[b + 1], r[R.CA], true, oe(i), bit31(i));
};

/** addze RT,RA (OE, Rc) — RT ← (RA) + CA; CA */
export const addze: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  return addFull(r, rt(i), r[a], r[a + 1], 0, 0, r[R.CA], true, oe(i), bit31(i));
};

/** addme RT,RA (OE, Rc) — RT ← (RA) + CA − 1; CA */
export const addme: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  return addFull(r, rt(i), r[a], r[a + 1], -1, -1, r[R.CA], true, oe(i), bit31(i));
};

/** addex RT,RA,RB,CY (CY = 0) — RT ← (RA) + (RB) + OV; OV ← carry out, OV32 ← carry out of bit 32 */
export const addex: Exec = (c, i) => {
  const r = c.r;
  if (((i >>> 9) & 3) !== 0) return Step.NEXT; // CY = 1..3 reserved; treated as no-op (boundedly undefined)
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const s0 = (r[a + 1] >>> 0) + (r[b + 1] >>> 0) + r[R.OV];
  const c32 = s0 > 0xffff_ffff ? 1 : 0;
  const s1 = (r[a] >>> 0) + (r[b] >>> 0) + c32;
  const t = 2 * rt(i);
  r[t] = s1 | 0;
  r[t + 1] = s0 | 0;
  r[R.OV] = s1 > 0xffff_ffff ? 1 : 0;
  r[R.OV32] = c32;
  return Step.NEXT;
};

/** subf RT,RA,RB (OE, Rc) — RT ← ¬(RA) + (RB) + 1 */
export const subf: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], r[b], r[b + 1], 1, false, oe(i), bit31(i));
};

/** subfc RT,RA,RB (OE, Rc) — RT ← ¬(RA) + (RB) + 1; CA */
export const subfc: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], r[b], r[b + 1], 1, true, oe(i), bit31(i));
};

/** subfe RT,RA,RB (OE, Rc) — RT ← ¬(RA) + (RB) + CA; CA */
export const subfe: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], r[b], r[b + 1], r[R.CA], true, oe(i), bit31(i));
};

/** subfze RT,RA (OE, Rc) — RT ← ¬(RA) + CA; CA */
export const subfze: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], 0, 0, r[R.CA], true, oe(i), bit31(i));
};

/** subfme RT,RA (OE, Rc) — RT ← ¬(RA) + CA − 1; CA */
export const subfme: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], -1, -1, r[R.CA], true, oe(i), bit31(i));
};

/** neg RT,RA (OE, Rc) — RT ← ¬(RA) + 1 */
export const neg: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  return addFull(r, rt(i), ~r[a], ~r[a + 1], 0, 0, 1, false, oe(i), bit31(i));
};

/** mulli RT,RA,SI — prod0:127 ← (RA) × EXTS(SI); RT ← prod64:127 */
export const mulli: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const d = si(i);
  mul64(r[a], r[a + 1], d >> 31, d);
  const t = 2 * rt(i);
  r[t] = P[2];
  r[t + 1] = P[3];
  return Step.NEXT;
};

/** mullw RT,RA,RB (OE, Rc) — RT ← (RA)32:63 × (RB)32:63 (64-bit product) */
export const mullw: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1];
  const y = r[2 * rb(i) + 1];
  const lo = Math.imul(x, y);
  const hi = smulhi32(x, y);
  const t = 2 * rt(i);
  r[t] = hi;
  r[t + 1] = lo;
  if (oe(i) !== 0) {
    const ov = hi !== lo >> 31 ? 1 : 0;
    setOv(r, ov, ov);
  }
  if (bit31(i) !== 0) setCr0(r, hi, lo);
  return Step.NEXT;
};

/** mulhw RT,RA,RB (Rc) — RT32:63 ← ((RA)32:63 × (RB)32:63)0:31, signed */
export const mulhw: Exec = (c, i) => {
  const r = c.r;
  const hi = smulhi32(r[2 * ra(i) + 1], r[2 * rb(i) + 1]);
  const t = 2 * rt(i);
  r[t] = 0;
  r[t + 1] = hi;
  if (bit31(i) !== 0) setCr0(r, 0, hi);
  return Step.NEXT;
};

/** mulhwu RT,RA,RB (Rc) — RT32:63 ← ((RA)32:63 × (RB)32:63)0:31, unsigned */
export const mulhwu: Exec = (c, i) => {
  const r = c.r;
  const hi = umulhi32(r[2 * ra(i) + 1], r[2 * rb(i) + 1]);
  const t = 2 * rt(i);
  r[t] = 0;
  r[t + 1] = hi;
  if (bit31(i) !== 0) setCr0(r, 0, hi);
  return Step.NEXT;
};

/** mulld RT,RA,RB (OE, Rc) — prod0:127 ← (RA) × (RB); RT ← prod64:127 */
export const mulld: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const t = 2 * rt(i);
  if (oe(i) !== 0) {
    smul128(r[a], r[a + 1], r[b], r[b + 1]);
    const ext = P[2] >> 31;
    const ov = P[0] !== ext || P[1] !== ext ? 1 : 0;
    setOv(r, ov, ov);
  } else {
    mul64(r[a], r[a + 1], r[b], r[b + 1]);
  }
  r[t] = P[2];
  r[t + 1] = P[3];
  if (bit31(i) !== 0) setCr0(r, P[2], P[3]);
  return Step.NEXT;
};

/** mulhd RT,RA,RB (Rc) — RT ← ((RA) × (RB))0:63, signed */
export const mulhd: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  smul128(r[a], r[a + 1], r[b], r[b + 1]);
  const t = 2 * rt(i);
  r[t] = P[0];
  r[t + 1] = P[1];
  if (bit31(i) !== 0) setCr0(r, P[0], P[1]);
  return Step.NEXT;
};

/** mulhdu RT,RA,RB (Rc) — RT ← ((RA) × (RB))0:63, unsigned */
export const mulhdu: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  mul128(r[a], r[a + 1], r[b], r[b + 1]);
  const t = 2 * rt(i);
  r[t] = P[0];
  r[t + 1] = P[1];
  if (bit31(i) !== 0) setCr0(r, P[0], P[1]);
  return Step.NEXT;
};

/** maddld RT,RA,RB,RC — RT ← ((RA) × (RB) + (RC))64:127 */
export const maddld: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const cc = 2 * rc5(i);
  mul64(r[a], r[a + 1], r[b], r[b + 1]);
  return addFull(r, rt(i), P[2], P[3], r[cc], r[cc + 1], 0, false, 0, 0);
};

/** maddhd RT,RA,RB,RC — RT ← ((RA) × (RB) + EXTS(RC))0:63, signed */
export const maddhd: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const cc = 2 * rc5(i);
  smul128(r[a], r[a + 1], r[b], r[b + 1], r[cc], r[cc + 1]);
  const t = 2 * rt(i);
  r[t] = P[0];
  r[t + 1] = P[1];
  return Step.NEXT;
};

/** maddhdu RT,RA,RB,RC — RT ← ((RA) × (RB) + (RC))0:63, unsigned */
export const maddhdu: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const cc = 2 * rc5(i);
  mul128(r[a], r[a + 1], r[b], r[b + 1], r[cc], r[cc + 1], 0);
  const t = 2 * rt(i);
  r[t] = P[0];
  r[t + 1] = P[1];
  return Step.NEXT;
};

/** Writes a 32-bit quotient/remainder result, OV and CR0 for the word divide and modulo forms. */
function wordResult(r: Int32Array, i: number, hi: number, lo: number, bad: boolean, withOe: boolean): number {
  const t = 2 * rt(i);
  r[t] = hi;
  r[t + 1] = lo;
  if (withOe && oe(i) !== 0) setOv(r, bad ? 1 : 0, bad ? 1 : 0);
  if (bit31(i) !== 0) setCr0(r, hi, lo);
  return Step.NEXT;
}

/** divw RT,RA,RB (OE, Rc) — RT32:63 ← (RA)32:63 ÷ (RB)32:63, signed */
export const divw: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1];
  const y = r[2 * rb(i) + 1];
  const bad = y === 0 || (x === -0x8000_0000 && y === -1);
  const q = bad ? 0 : (x / y) | 0;
  return wordResult(r, i, q >> 31, q, bad, true);
};

/** divwu RT,RA,RB (OE, Rc) — RT32:63 ← (RA)32:63 ÷ (RB)32:63, unsigned */
export const divwu: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1] >>> 0;
  const y = r[2 * rb(i) + 1] >>> 0;
  const bad = y === 0;
  const q = bad ? 0 : Math.floor(x / y) | 0;
  return wordResult(r, i, 0, q, bad, true);
};

/**
 * divwe RT,RA,RB (OE, Rc) — RT32:63 ← ((RA)32:63 || 0^32) ÷ EXTS((RB)32:63), signed; undefined
 * (here 0, OV) unless the quotient fits in 32 bits. BigInt: the dividend needs 64 exact bits and
 * gcc never emits this for C, so it is a slow, rare path.
 */
export const divwe: Exec = (c, i) => {
  const r = c.r;
  const x = BigInt(r[2 * ra(i) + 1]) << 32n;
  const y = BigInt(r[2 * rb(i) + 1]);
  const q = y === 0n ? 0n : x / y;
  const bad = y === 0n || q < -0x8000_0000n || q > 0x7fff_ffffn;
  const v = bad ? 0 : Number(q);
  return wordResult(r, i, v >> 31, v, bad, true);
};

/** divweu RT,RA,RB (OE, Rc) — RT32:63 ← ((RA)32:63 || 0^32) ÷ (RB)32:63, unsigned (BigInt: slow, rare) */
export const divweu: Exec = (c, i) => {
  const r = c.r;
  const x = BigInt(r[2 * ra(i) + 1] >>> 0) << 32n;
  const y = BigInt(r[2 * rb(i) + 1] >>> 0);
  const q = y === 0n ? 0n : x / y;
  const bad = y === 0n || q > 0xffff_ffffn;
  const v = bad ? 0 : Number(q) | 0;
  return wordResult(r, i, 0, v, bad, true);
};

/** Writes a 64-bit quotient/remainder, OV and CR0 for the doubleword divide and modulo forms. */
function dwordResult(
  r: Int32Array,
  i: number,
  hi: number,
  lo: number,
  bad: boolean,
  withOe: boolean,
): number {
  const t = 2 * rt(i);
  r[t] = hi;
  r[t + 1] = lo;
  if (withOe && oe(i) !== 0) setOv(r, bad ? 1 : 0, bad ? 1 : 0);
  if (bit31(i) !== 0) setCr0(r, hi, lo);
  return Step.NEXT;
}

/** Splits a bigint (taken modulo 2^64) into P[2], P[3]. */
function bigToP(v: bigint): void {
  const u = BigInt.asUintN(64, v);
  P[2] = Number(u >> 32n) | 0;
  P[3] = Number(u & 0xffff_ffffn) | 0;
}

/** Splits a safe integer into P[2], P[3]. */
function numToP(v: number): void {
  P[2] = Math.floor(v / 4294967296) | 0;
  P[3] = v | 0;
}

/**
 * Signed 64-bit divide or remainder into P[2..3]; returns true when undefined (divisor 0 or
 * −2^63 ÷ −1). Doubles when both operands are below 2^53 in magnitude (then the truncated double
 * quotient is exact: its rounding error is below 1/|divisor|, the distance to the next integer);
 * BigInt otherwise (slow, rare).
 */
function sdiv64(ahi: number, alo: number, bhi: number, blo: number, rem: boolean): boolean {
  if ((bhi | blo) === 0 || (ahi === -0x8000_0000 && alo === 0 && (bhi & blo) === -1)) {
    P[2] = P[3] = 0;
    return true;
  }
  if (safeS(ahi) && safeS(bhi)) {
    const x = toNumS(ahi, alo);
    const y = toNumS(bhi, blo);
    numToP(rem ? x % y : Math.trunc(x / y));
    return false;
  }
  const x = toBigS(ahi, alo);
  const y = toBigS(bhi, blo);
  bigToP(rem ? x % y : x / y);
  return false;
}

/** Unsigned 64-bit divide or remainder into P[2..3]; true when the divisor is 0. */
function udiv64(ahi: number, alo: number, bhi: number, blo: number, rem: boolean): boolean {
  if ((bhi | blo) === 0) {
    P[2] = P[3] = 0;
    return true;
  }
  if (safeU(ahi) && safeU(bhi)) {
    const x = toNumU(ahi, alo);
    const y = toNumU(bhi, blo);
    numToP(rem ? x % y : Math.floor(x / y));
    return false;
  }
  const x = toBigU(ahi, alo);
  const y = toBigU(bhi, blo);
  bigToP(rem ? x % y : x / y);
  return false;
}

/** divd RT,RA,RB (OE, Rc) — RT ← (RA) ÷ (RB), signed */
export const divd: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const bad = sdiv64(r[a], r[a + 1], r[b], r[b + 1], false);
  return dwordResult(r, i, P[2], P[3], bad, true);
};

/** divdu RT,RA,RB (OE, Rc) — RT ← (RA) ÷ (RB), unsigned */
export const divdu: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const bad = udiv64(r[a], r[a + 1], r[b], r[b + 1], false);
  return dwordResult(r, i, P[2], P[3], bad, true);
};

/** divde RT,RA,RB (OE, Rc) — RT ← ((RA) || 0^64) ÷ (RB), signed; 0 and OV unless it fits (BigInt: slow, rare) */
export const divde: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const x = toBigS(r[a], r[a + 1]) << 64n;
  const y = toBigS(r[b], r[b + 1]);
  const q = y === 0n ? 0n : x / y;
  const bad = y === 0n || q !== BigInt.asIntN(64, q);
  bigToP(bad ? 0n : q);
  return dwordResult(r, i, P[2], P[3], bad, true);
};

/** divdeu RT,RA,RB (OE, Rc) — RT ← ((RA) || 0^64) ÷ (RB), unsigned (BigInt: slow, rare) */
export const divdeu: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const x = toBigU(r[a], r[a + 1]) << 64n;
  const y = toBigU(r[b], r[b + 1]);
  const q = y === 0n ? 0n : x / y;
  const bad = y === 0n || q !== BigInt.asUintN(64, q);
  bigToP(bad ? 0n : q);
  return dwordResult(r, i, P[2], P[3], bad, true);
};

/** modsw RT,RA,RB — RT ← EXTS((RA)32:63 % (RB)32:63), signed */
export const modsw: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1];
  const y = r[2 * rb(i) + 1];
  const bad = y === 0 || (x === -0x8000_0000 && y === -1);
  const m = bad ? 0 : (x % y) | 0;
  return wordResult(r, i & ~1, m >> 31, m, bad, false);
};

/** moduw RT,RA,RB — RT ← (RA)32:63 % (RB)32:63, unsigned */
export const moduw: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1] >>> 0;
  const y = r[2 * rb(i) + 1] >>> 0;
  const m = y === 0 ? 0 : (x % y) | 0;
  return wordResult(r, i & ~1, 0, m, y === 0, false);
};

/** modsd RT,RA,RB — RT ← (RA) % (RB), signed */
export const modsd: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  sdiv64(r[a], r[a + 1], r[b], r[b + 1], true);
  return dwordResult(r, i & ~1, P[2], P[3], false, false);
};

/** modud RT,RA,RB — RT ← (RA) % (RB), unsigned */
export const modud: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  udiv64(r[a], r[a + 1], r[b], r[b + 1], true);
  return dwordResult(r, i & ~1, P[2], P[3], false, false);
};

// Logical (§3.3.13). RA is the target, RS (bits 6:10) the source.

/** Writes RA ← (hi, lo), and CR0 when Rc. */
function logical(r: Int32Array, i: number, hi: number, lo: number): number {
  const a = 2 * ra(i);
  r[a] = hi;
  r[a + 1] = lo;
  if ((i & 1) !== 0) setCr0(r, hi, lo);
  return Step.NEXT;
}

/** andi. RA,RS,UI — RA ← (RS) & (48)0 || UI; CR0 */
export const andi_: Exec = (c, i) => {
  const r = c.r;
  const lo = r[2 * rt(i) + 1] & ui(i);
  const a = 2 * ra(i);
  r[a] = 0;
  r[a + 1] = lo;
  setCr0(r, 0, lo);
  return Step.NEXT;
};

/** andis. RA,RS,UI — RA ← (RS) & (32)0 || UI || (16)0; CR0 */
export const andis_: Exec = (c, i) => {
  const r = c.r;
  const lo = r[2 * rt(i) + 1] & (i << 16);
  const a = 2 * ra(i);
  r[a] = 0;
  r[a + 1] = lo;
  setCr0(r, 0, lo);
  return Step.NEXT;
};

/** ori RA,RS,UI — RA ← (RS) | (48)0 || UI */
export const ori: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const a = 2 * ra(i);
  r[a] = r[s];
  r[a + 1] = r[s + 1] | ui(i);
  return Step.NEXT;
};

/** oris RA,RS,UI — RA ← (RS) | (32)0 || UI || (16)0 */
export const oris: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const a = 2 * ra(i);
  r[a] = r[s];
  r[a + 1] = r[s + 1] | (i << 16);
  return Step.NEXT;
};

/** xori RA,RS,UI — RA ← (RS) ⊕ (48)0 || UI */
export const xori: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const a = 2 * ra(i);
  r[a] = r[s];
  r[a + 1] = r[s + 1] ^ ui(i);
  return Step.NEXT;
};

/** xoris RA,RS,UI — RA ← (RS) ⊕ (32)0 || UI || (16)0 */
export const xoris: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const a = 2 * ra(i);
  r[a] = r[s];
  r[a + 1] = r[s + 1] ^ (i << 16);
  return Step.NEXT;
};

/** and RA,RS,RB (Rc) — RA ← (RS) & (RB) */
export const and: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, r[s] & r[b], r[s + 1] & r[b + 1]);
};

/** andc RA,RS,RB (Rc) — RA ← (RS) & ¬(RB) */
export const andc: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, r[s] & ~r[b], r[s + 1] & ~r[b + 1]);
};

/** or RA,RS,RB (Rc) — RA ← (RS) | (RB) */
export const or: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, r[s] | r[b], r[s + 1] | r[b + 1]);
};

/** orc RA,RS,RB (Rc) — RA ← (RS) | ¬(RB) */
export const orc: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, r[s] | ~r[b], r[s + 1] | ~r[b + 1]);
};

/** xor RA,RS,RB (Rc) — RA ← (RS) ⊕ (RB) */
export const xor: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, r[s] ^ r[b], r[s + 1] ^ r[b + 1]);
};

/** nand RA,RS,RB (Rc) — RA ← ¬((RS) & (RB)) */
export const nand: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, ~(r[s] & r[b]), ~(r[s + 1] & r[b + 1]));
};

/** nor RA,RS,RB (Rc) — RA ← ¬((RS) | (RB)) */
export const nor: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, ~(r[s] | r[b]), ~(r[s + 1] | r[b + 1]));
};

/** eqv RA,RS,RB (Rc) — RA ← (RS) ≡ (RB) */
export const eqv: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i, ~(r[s] ^ r[b]), ~(r[s + 1] ^ r[b + 1]));
};

/** extsb RA,RS (Rc) — RA ← EXTS((RS)56:63) */
export const extsb: Exec = (c, i) => {
  const lo = (c.r[2 * rt(i) + 1] << 24) >> 24;
  return logical(c.r, i, lo >> 31, lo);
};

/** extsh RA,RS (Rc) — RA ← EXTS((RS)48:63) */
export const extsh: Exec = (c, i) => {
  const lo = (c.r[2 * rt(i) + 1] << 16) >> 16;
  return logical(c.r, i, lo >> 31, lo);
};

/** extsw RA,RS (Rc) — RA ← EXTS((RS)32:63) */
export const extsw: Exec = (c, i) => {
  const lo = c.r[2 * rt(i) + 1];
  return logical(c.r, i, lo >> 31, lo);
};

/** cntlzw RA,RS (Rc) — RA ← count of leading zeros of (RS)32:63 */
export const cntlzw: Exec = (c, i) => logical(c.r, i, 0, Math.clz32(c.r[2 * rt(i) + 1]));

/** cntlzd RA,RS (Rc) — RA ← count of leading zeros of (RS) */
export const cntlzd: Exec = (c, i) => {
  const s = 2 * rt(i);
  const hi = c.r[s];
  return logical(c.r, i, 0, hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(c.r[s + 1]));
};

/** cnttzw RA,RS (Rc) — RA ← count of trailing zeros of (RS)32:63 */
export const cnttzw: Exec = (c, i) => logical(c.r, i, 0, ctz32(c.r[2 * rt(i) + 1]));

/** cnttzd RA,RS (Rc) — RA ← count of trailing zeros of (RS) */
export const cnttzd: Exec = (c, i) => {
  const s = 2 * rt(i);
  const lo = c.r[s + 1];
  return logical(c.r, i, 0, lo !== 0 ? ctz32(lo) : 32 + ctz32(c.r[s]));
};

/** Per-byte population counts of a word. */
function popcntBytes(x: number): number {
  const v = x - ((x >>> 1) & 0x5555_5555);
  const w = (v & 0x3333_3333) + ((v >>> 2) & 0x3333_3333);
  return (w + (w >>> 4)) & 0x0f0f_0f0f;
}

/** popcntb RA,RS — each byte of RA ← number of ones in that byte of (RS) */
export const popcntb: Exec = (c, i) => {
  const s = 2 * rt(i);
  return logical(c.r, i & ~1, popcntBytes(c.r[s]), popcntBytes(c.r[s + 1]));
};

/** popcntw RA,RS — each word of RA ← number of ones in that word of (RS) */
export const popcntw: Exec = (c, i) => {
  const s = 2 * rt(i);
  return logical(c.r, i & ~1, popcnt32(c.r[s]), popcnt32(c.r[s + 1]));
};

/** popcntd RA,RS — RA ← number of ones in (RS) */
export const popcntd: Exec = (c, i) => {
  const s = 2 * rt(i);
  return logical(c.r, i & ~1, 0, popcnt32(c.r[s]) + popcnt32(c.r[s + 1]));
};

/** Byte-equality mask of two words. */
function cmpbWord(x: number, y: number): number {
  let m = 0;
  for (let k = 0; k < 32; k += 8) if (((x >>> k) & 0xff) === ((y >>> k) & 0xff)) m |= 0xff << k;
  return m;
}

/** cmpb RA,RS,RB — each byte of RA ← 0xFF if the bytes of (RS) and (RB) are equal, else 0x00 */
export const cmpb: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  return logical(r, i & ~1, cmpbWord(r[s], r[b]), cmpbWord(r[s + 1], r[b + 1]));
};

/** Parity of the low bit of each byte of a word. */
const prty32 = (x: number): number => (x ^ (x >>> 8) ^ (x >>> 16) ^ (x >>> 24)) & 1;

/** prtyw RA,RS — each word of RA ← parity of bit 7 of each byte of that word of (RS) */
export const prtyw: Exec = (c, i) => {
  const s = 2 * rt(i);
  return logical(c.r, i & ~1, prty32(c.r[s]), prty32(c.r[s + 1]));
};

/** prtyd RA,RS — RA ← parity of bit 7 of each byte of (RS) */
export const prtyd: Exec = (c, i) => {
  const s = 2 * rt(i);
  return logical(c.r, i & ~1, 0, prty32(c.r[s]) ^ prty32(c.r[s + 1]));
};

/** bpermd RA,RS,RB — for each byte k of (RS): index ← byte; RA56+k ← index < 64 ? (RB)index : 0 */
export const bpermd: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  const b = 2 * rb(i);
  let v = 0;
  for (let k = 0; k < 8; k++) {
    const idx = (k < 4 ? r[s] >>> (24 - 8 * k) : r[s + 1] >>> (56 - 8 * k)) & 0xff;
    let bit = 0;
    if (idx < 64) bit = idx < 32 ? (r[b] >>> (31 - idx)) & 1 : (r[b + 1] >>> (63 - idx)) & 1;
    v |= bit << (7 - k);
  }
  return logical(r, i & ~1, 0, v);
};

/**
 * Rotate and shift instructions (Book I §3.3.14). ROTL32(x) in the book rotates x || x, so a
 * 32-bit rotate with a wrapping mask (MB > ME) also fills the high word; the functions below keep
 * that. Shift amounts come from RB bits 58:63 (words) or 57:63 (doublewords): an amount with its
 * top bit set shifts everything out.
 */
import { R } from '../vcpu.js';
import { type Exec, Step } from './cpu.js';
import { mb5, mb6, me5, ra, rb, rt, sh6 } from './forms.js';
import { mask32, mask64, P, rotl32, rotl64 } from './int64.js';
import { setCr0 } from './regs.js';

/** RA ← (hi, lo); CR0 when Rc. */
function result(r: Int32Array, i: number, hi: number, lo: number): number {
  const a = 2 * ra(i);
  r[a] = hi;
  r[a + 1] = lo;
  if ((i & 1) !== 0) setCr0(r, hi, lo);
  return Step.NEXT;
}

/** rlwinm RA,RS,SH,MB,ME (Rc) — r ← ROTL32((RS)32:63, SH); m ← MASK(MB+32, ME+32); RA ← r & m */
export const rlwinm: Exec = (c, i) => {
  const mb = mb5(i);
  const me = me5(i);
  const rot = rotl32(c.r[2 * rt(i) + 1], rb(i));
  return result(c.r, i, mb > me ? rot : 0, rot & mask32(mb, me));
};

/** rlwnm RA,RS,RB,MB,ME (Rc) — r ← ROTL32((RS)32:63, (RB)59:63); m ← MASK(MB+32, ME+32); RA ← r & m */
export const rlwnm: Exec = (c, i) => {
  const mb = mb5(i);
  const me = me5(i);
  const rot = rotl32(c.r[2 * rt(i) + 1], c.r[2 * rb(i) + 1] & 31);
  return result(c.r, i, mb > me ? rot : 0, rot & mask32(mb, me));
};

/** rlwimi RA,RS,SH,MB,ME (Rc) — r ← ROTL32((RS)32:63, SH); m ← MASK(MB+32, ME+32); RA ← r&m | (RA)&¬m */
export const rlwimi: Exec = (c, i) => {
  const r = c.r;
  const mb = mb5(i);
  const me = me5(i);
  const rot = rotl32(r[2 * rt(i) + 1], rb(i));
  const m = mask32(mb, me);
  const a = 2 * ra(i);
  return result(r, i, mb > me ? rot : r[a], (rot & m) | (r[a + 1] & ~m));
};

/** RA ← ROTL64((RS), n) & MASK(mb, me) (the rld* family). */
function rotateMask(c: { r: Int32Array }, i: number, n: number, mb: number, me: number): number {
  const s = 2 * rt(i);
  rotl64(c.r[s], c.r[s + 1], n);
  const hi = P[2];
  const lo = P[3];
  mask64(mb, me);
  return result(c.r, i, hi & P[2], lo & P[3]);
}

/** rldicl RA,RS,SH,MB (Rc) — r ← ROTL64((RS), sh); m ← MASK(mb, 63); RA ← r & m */
export const rldicl: Exec = (c, i) => rotateMask(c, i, sh6(i), mb6(i), 63);

/** rldicr RA,RS,SH,ME (Rc) — r ← ROTL64((RS), sh); m ← MASK(0, me); RA ← r & m */
export const rldicr: Exec = (c, i) => rotateMask(c, i, sh6(i), 0, mb6(i));

/** rldic RA,RS,SH,MB (Rc) — r ← ROTL64((RS), sh); m ← MASK(mb, ¬sh); RA ← r & m */
export const rldic: Exec = (c, i) => rotateMask(c, i, sh6(i), mb6(i), 63 - sh6(i));

/** rldcl RA,RS,RB,MB (Rc) — r ← ROTL64((RS), (RB)58:63); m ← MASK(mb, 63); RA ← r & m */
export const rldcl: Exec = (c, i) => rotateMask(c, i, c.r[2 * rb(i) + 1] & 63, mb6(i), 63);

/** rldcr RA,RS,RB,ME (Rc) — r ← ROTL64((RS), (RB)58:63); m ← MASK(0, me); RA ← r & m */
export const rldcr: Exec = (c, i) => rotateMask(c, i, c.r[2 * rb(i) + 1] & 63, 0, mb6(i));

/** rldimi RA,RS,SH,MB (Rc) — r ← ROTL64((RS), sh); m ← MASK(mb, ¬sh); RA ← r&m | (RA)&¬m */
export const rldimi: Exec = (c, i) => {
  const r = c.r;
  const sh = sh6(i);
  const s = 2 * rt(i);
  rotl64(r[s], r[s + 1], sh);
  const hi = P[2];
  const lo = P[3];
  mask64(mb6(i), 63 - sh);
  const a = 2 * ra(i);
  return result(r, i, (hi & P[2]) | (r[a] & ~P[2]), (lo & P[3]) | (r[a + 1] & ~P[3]));
};

/** slw RA,RS,RB (Rc) — n ← (RB)59:63; RA ← (RB)58 = 0 ? ((RS)32:63 << n) zero-extended : 0 */
export const slw: Exec = (c, i) => {
  const r = c.r;
  const n = r[2 * rb(i) + 1] & 63;
  return result(r, i, 0, n < 32 ? r[2 * rt(i) + 1] << n : 0);
};

/** srw RA,RS,RB (Rc) — n ← (RB)59:63; RA ← (RB)58 = 0 ? (RS)32:63 >> n (logical) : 0 */
export const srw: Exec = (c, i) => {
  const r = c.r;
  const n = r[2 * rb(i) + 1] & 63;
  return result(r, i, 0, n < 32 ? r[2 * rt(i) + 1] >>> n : 0);
};

/** Shared by sraw and srawi: RA ← EXTS((RS)32:63) >> n (n ≤ 63); CA, CA32 ← negative and ones shifted out. */
function shiftRightWord(r: Int32Array, i: number, n: number): number {
  const x = r[2 * rt(i) + 1];
  const v = n < 32 ? x >> n : x >> 31;
  const lost = n === 0 ? 0 : n < 32 ? x & ((1 << n) - 1) : x;
  const ca = x < 0 && lost !== 0 ? 1 : 0;
  r[R.CA] = ca;
  r[R.CA32] = ca;
  return result(r, i, v >> 31, v);
}

/** sraw RA,RS,RB (Rc) — n ← (RB)58:63; RA ← EXTS((RS)32:63) >>a n; CA */
export const sraw: Exec = (c, i) => shiftRightWord(c.r, i, c.r[2 * rb(i) + 1] & 63);

/** srawi RA,RS,SH (Rc) — RA ← EXTS((RS)32:63) >>a SH; CA */
export const srawi: Exec = (c, i) => shiftRightWord(c.r, i, rb(i));

/** (hi, lo) << n for n in 0..63, into P[2], P[3]. */
export function shl64(hi: number, lo: number, n: number): void {
  if (n === 0) {
    P[2] = hi;
    P[3] = lo;
  } else if (n < 32) {
    P[2] = (hi << n) | (lo >>> (32 - n));
    P[3] = lo << n;
  } else {
    P[2] = lo << (n - 32);
    P[3] = 0;
  }
}

/** sld RA,RS,RB (Rc) — n ← (RB)57:63; RA ← n < 64 ? (RS) << n : 0 */
export const sld: Exec = (c, i) => {
  const r = c.r;
  const n = r[2 * rb(i) + 1] & 127;
  if (n >= 64) return result(r, i, 0, 0);
  const s = 2 * rt(i);
  shl64(r[s], r[s + 1], n);
  return result(r, i, P[2], P[3]);
};

/** srd RA,RS,RB (Rc) — n ← (RB)57:63; RA ← n < 64 ? (RS) >> n (logical) : 0 */
export const srd: Exec = (c, i) => {
  const r = c.r;
  const n = r[2 * rb(i) + 1] & 127;
  if (n >= 64) return result(r, i, 0, 0);
  const s = 2 * rt(i);
  const hi = r[s];
  const lo = r[s + 1];
  if (n === 0) return result(r, i, hi, lo);
  if (n < 32) return result(r, i, hi >>> n, (lo >>> n) | (hi << (32 - n)));
  return result(r, i, 0, hi >>> (n - 32));
};

/** Shared by srad and sradi: RA ← (RS) >>a n (n ≤ 64 means all); CA, CA32 ← negative and ones shifted out. */
function shiftRightDword(r: Int32Array, i: number, n: number): number {
  const s = 2 * rt(i);
  const hi = r[s];
  const lo = r[s + 1];
  let vhi: number;
  let vlo: number;
  let lost: number;
  if (n === 0) {
    vhi = hi;
    vlo = lo;
    lost = 0;
  } else if (n < 32) {
    vhi = hi >> n;
    vlo = (lo >>> n) | (hi << (32 - n));
    lost = lo & ((1 << n) - 1);
  } else if (n < 64) {
    vhi = hi >> 31;
    vlo = hi >> (n - 32);
    lost = lo | (n === 32 ? 0 : hi & ((1 << (n - 32)) - 1));
  } else {
    vhi = vlo = hi >> 31;
    lost = hi | lo;
  }
  const ca = hi < 0 && lost !== 0 ? 1 : 0;
  r[R.CA] = ca;
  r[R.CA32] = ca;
  return result(r, i, vhi, vlo);
}

/** srad RA,RS,RB (Rc) — n ← (RB)57:63; RA ← (RS) >>a n; CA */
export const srad: Exec = (c, i) => shiftRightDword(c.r, i, Math.min(c.r[2 * rb(i) + 1] & 127, 64));

/** sradi RA,RS,SH (Rc) — RA ← (RS) >>a sh; CA */
export const sradi: Exec = (c, i) => shiftRightDword(c.r, i, sh6(i));

/** extswsli RA,RS,SH (Rc) — RA ← EXTS((RS)32:63) << sh */
export const extswsli: Exec = (c, i) => {
  const lo = c.r[2 * rt(i) + 1];
  shl64(lo >> 31, lo, sh6(i));
  return result(c.r, i, P[2], P[3]);
};

/**
 * Compare, condition register and select instructions (Book I §2.5 CR instructions, §3.3.10
 * compares, §3.3.12 isel, setb, mcrxrx).
 */
import { R } from '../vcpu.js';
import { type Exec, Step } from './cpu.js';
import { bf, bfa, fxm, lcmp, ra, rb, rc5, rt, si, ui } from './forms.js';
import { Cr, crBit, setCrBit, setCrField } from './regs.js';

/** Signed 64-bit comparison of (ahi, alo) with (bhi, blo) as a CR field value without SO. */
export function cmpS64(ahi: number, alo: number, bhi: number, blo: number): number {
  if (ahi !== bhi) return ahi < bhi ? Cr.LT : Cr.GT;
  if (alo === blo) return Cr.EQ;
  return alo >>> 0 < blo >>> 0 ? Cr.LT : Cr.GT;
}

/** Unsigned 64-bit comparison as a CR field value without SO. */
export function cmpU64(ahi: number, alo: number, bhi: number, blo: number): number {
  if (ahi !== bhi) return ahi >>> 0 < bhi >>> 0 ? Cr.LT : Cr.GT;
  if (alo === blo) return Cr.EQ;
  return alo >>> 0 < blo >>> 0 ? Cr.LT : Cr.GT;
}

/** Signed 32-bit comparison. */
const cmpS32 = (a: number, b: number): number => (a < b ? Cr.LT : a > b ? Cr.GT : Cr.EQ);
/** Unsigned 32-bit comparison. */
const cmpU32 = (a: number, b: number): number => {
  const x = a >>> 0;
  const y = b >>> 0;
  return x < y ? Cr.LT : x > y ? Cr.GT : Cr.EQ;
};

/** cmp BF,L,RA,RB — CR[BF] ← signed compare of (RA) and (RB) (L = 0: low words) || SO */
export const cmp: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const v = lcmp(i) ? cmpS64(r[a], r[a + 1], r[b], r[b + 1]) : cmpS32(r[a + 1], r[b + 1]);
  setCrField(r, bf(i), v | r[R.SO]);
  return Step.NEXT;
};

/** cmpl BF,L,RA,RB — CR[BF] ← unsigned compare of (RA) and (RB) (L = 0: low words) || SO */
export const cmpl: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  const v = lcmp(i) ? cmpU64(r[a], r[a + 1], r[b], r[b + 1]) : cmpU32(r[a + 1], r[b + 1]);
  setCrField(r, bf(i), v | r[R.SO]);
  return Step.NEXT;
};

/** cmpi BF,L,RA,SI — CR[BF] ← signed compare of (RA) and EXTS(SI) || SO */
export const cmpi: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const d = si(i);
  const v = lcmp(i) ? cmpS64(r[a], r[a + 1], d >> 31, d) : cmpS32(r[a + 1], d);
  setCrField(r, bf(i), v | r[R.SO]);
  return Step.NEXT;
};

/** cmpli BF,L,RA,UI — CR[BF] ← unsigned compare of (RA) and (48)0 || UI || SO */
export const cmpli: Exec = (c, i) => {
  const r = c.r;
  const a = 2 * ra(i);
  const d = ui(i);
  const v = lcmp(i) ? cmpU64(r[a], r[a + 1], 0, d) : cmpU32(r[a + 1], d);
  setCrField(r, bf(i), v | r[R.SO]);
  return Step.NEXT;
};

/** cmprb BF,L,RA,RB — CR[BF] ← 0 || (byte (RA)56:63 within the range(s) in (RB)) || 00 */
export const cmprb: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1] & 0xff;
  const b = r[2 * rb(i) + 1];
  const inRange = (lo: number, hi: number) => lo <= x && x <= hi;
  let hit = inRange(b & 0xff, (b >>> 8) & 0xff);
  if (lcmp(i)) hit ||= inRange((b >>> 16) & 0xff, b >>> 24);
  setCrField(r, bf(i), hit ? Cr.GT : 0);
  return Step.NEXT;
};

/** cmpeqb BF,RA,RB — CR[BF] ← 0 || ((RA)56:63 equals some byte of (RB)) || 00 */
export const cmpeqb: Exec = (c, i) => {
  const r = c.r;
  const x = r[2 * ra(i) + 1] & 0xff;
  const b = 2 * rb(i);
  let hit = false;
  for (let k = 0; k < 32; k += 8) hit ||= ((r[b] >>> k) & 0xff) === x || ((r[b + 1] >>> k) & 0xff) === x;
  setCrField(r, bf(i), hit ? Cr.GT : 0);
  return Step.NEXT;
};

/** A CR logical instruction: CR[BT] ← op(CR[BA], CR[BB]). */
const crLogical =
  (op: (x: number, y: number) => number): Exec =>
  (c, i) => {
    const r = c.r;
    setCrBit(r, rt(i), op(crBit(r, ra(i)), crBit(r, rb(i))) & 1);
    return Step.NEXT;
  };

/** crand BT,BA,BB — CR[BT] ← CR[BA] & CR[BB] */
export const crand = crLogical((x, y) => x & y);
/** crnand BT,BA,BB — CR[BT] ← ¬(CR[BA] & CR[BB]) */
export const crnand = crLogical((x, y) => ~(x & y));
/** cror BT,BA,BB — CR[BT] ← CR[BA] | CR[BB] */
export const cror = crLogical((x, y) => x | y);
/** crnor BT,BA,BB — CR[BT] ← ¬(CR[BA] | CR[BB]) */
export const crnor = crLogical((x, y) => ~(x | y));
/** crxor BT,BA,BB — CR[BT] ← CR[BA] ⊕ CR[BB] */
export const crxor = crLogical((x, y) => x ^ y);
/** creqv BT,BA,BB — CR[BT] ← CR[BA] ≡ CR[BB] */
export const creqv = crLogical((x, y) => ~(x ^ y));
/** crandc BT,BA,BB — CR[BT] ← CR[BA] & ¬CR[BB] */
export const crandc = crLogical((x, y) => x & ~y);
/** crorc BT,BA,BB — CR[BT] ← CR[BA] | ¬CR[BB] */
export const crorc = crLogical((x, y) => x | ~y);

/** mcrf BF,BFA — CR[BF] ← CR[BFA] */
export const mcrf: Exec = (c, i) => {
  const r = c.r;
  setCrField(r, bf(i), (r[R.CR] >>> (28 - 4 * bfa(i))) & 0xf);
  return Step.NEXT;
};

/** mcrxrx BF — CR[BF] ← OV || OV32 || CA || CA32 */
export const mcrxrx: Exec = (c, i) => {
  const r = c.r;
  setCrField(r, bf(i), (r[R.OV] << 3) | (r[R.OV32] << 2) | (r[R.CA] << 1) | r[R.CA32]);
  return Step.NEXT;
};

/** CR mask selecting the fields named by an FXM byte. */
function fieldMask(f: number): number {
  let m = 0;
  for (let k = 0; k < 8; k++) if (f & (0x80 >>> k)) m |= 0xf << (28 - 4 * k);
  return m;
}

/** mfcr RT — RT ← (32)0 || CR */
export const mfcr: Exec = (c, i) => {
  const r = c.r;
  const t = 2 * rt(i);
  r[t] = 0;
  r[t + 1] = r[R.CR];
  return Step.NEXT;
};

/** mfocrf RT,FXM — RT ← the CR field(s) FXM selects, other bits 0 */
export const mfocrf: Exec = (c, i) => {
  const r = c.r;
  const t = 2 * rt(i);
  r[t] = 0;
  r[t + 1] = r[R.CR] & fieldMask(fxm(i));
  return Step.NEXT;
};

/** mtcrf FXM,RS — CR fields FXM selects ← the same fields of (RS)32:63 */
export const mtcrf: Exec = (c, i) => {
  const r = c.r;
  const m = fieldMask(fxm(i));
  r[R.CR] = (r[2 * rt(i) + 1] & m) | (r[R.CR] & ~m);
  return Step.NEXT;
};

/** isel RT,RA,RB,BC — RT ← CR[BC] ? (RA|0) : (RB) */
export const isel: Exec = (c, i) => {
  const r = c.r;
  const t = 2 * rt(i);
  if (crBit(r, rc5(i))) {
    const a = ra(i);
    r[t] = a === 0 ? 0 : r[2 * a];
    r[t + 1] = a === 0 ? 0 : r[2 * a + 1];
  } else {
    const b = 2 * rb(i);
    r[t] = r[b];
    r[t + 1] = r[b + 1];
  }
  return Step.NEXT;
};

/** setb RT,BFA — RT ← CR[BFA].LT ? −1 : CR[BFA].GT ? 1 : 0 */
export const setb: Exec = (c, i) => {
  const r = c.r;
  const f = (r[R.CR] >>> (28 - 4 * bfa(i))) & 0xf;
  const v = f & Cr.LT ? -1 : f & Cr.GT ? 1 : 0;
  const t = 2 * rt(i);
  r[t] = v >> 31;
  r[t + 1] = v;
  return Step.NEXT;
};

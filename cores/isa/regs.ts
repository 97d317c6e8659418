/**
 * Condition register and XER updates shared by every family (Book I §2.3 CR, §3.2.2 XER).
 * CR is one word of the vCPU area (field n at bits 4n..4n+3, IBM numbering); XER's SO, OV, CA,
 * OV32 and CA32 are one word each (cores/vcpu.ts).
 */
import { R } from '../vcpu.js';

/** CR field values. */
export const Cr = { LT: 8, GT: 4, EQ: 2, SO: 1 } as const;

/** CR field `n` ← `v` (4 bits). */
export function setCrField(r: Int32Array, n: number, v: number): void {
  const sh = 28 - 4 * n;
  r[R.CR] = (r[R.CR] & ~(0xf << sh)) | (v << sh);
}

/** CR0 ← LT/GT/EQ of the 64-bit result (hi, lo) compared with 0, || XER[SO] (the Rc = 1 rule). */
export function setCr0(r: Int32Array, hi: number, lo: number): void {
  const v = hi < 0 ? Cr.LT : (hi | lo) !== 0 ? Cr.GT : Cr.EQ;
  r[R.CR] = (r[R.CR] & 0x0fff_ffff) | ((v | r[R.SO]) << 28);
}

/** XER[OV, OV32] ← ov, ov32; XER[SO] is sticky (the OE = 1 rule). */
export function setOv(r: Int32Array, ov: number, ov32: number): void {
  r[R.OV] = ov;
  r[R.OV32] = ov32;
  if (ov !== 0) r[R.SO] = 1;
}

/** Writes the 64-bit result (hi, lo) to GPR `n`. */
export function setGpr(r: Int32Array, n: number, hi: number, lo: number): void {
  r[2 * n] = hi;
  r[2 * n + 1] = lo;
}

/** Bit `b` (0..31, IBM numbering) of CR. */
export function crBit(r: Int32Array, b: number): number {
  return (r[R.CR] >>> (31 - b)) & 1;
}

/** CR bit `b` ← v (0 or 1). */
export function setCrBit(r: Int32Array, b: number, v: number): void {
  const m = 1 << (31 - b);
  r[R.CR] = v ? r[R.CR] | m : r[R.CR] & ~m;
}

/**
 * Virtual time of a core (docs/architecture.md, "Time"). The L1 timebase advances by
 * TB_TICKS_PER_INSTRUCTION for every retired L2 instruction, so a run is repeatable: a 512 MHz
 * timebase against a virtual core that retires 512 million instructions per second. Nothing
 * advances while L1 (modelled in TypeScript) runs; L0 may add time of its own between runs.
 *
 * - L2 TB = L1 TB + TB_OFFSET (vCPU word pair R.TB_OFFSET, from guest-wide element 0x0004).
 * - DEC is held as DEC_EXPIRY_TB (L1 timebase at which DEC reaches 0): DEC = expiry − now. With
 *   LPCR[LD] = 0 it is 32 bits wide, with LD = 1 56 bits; reads are sign-extended from that width.
 *   A decrementer interrupt is pending while DEC is negative (now > expiry), level-triggered
 *   (kvm-unit-tests timebase.c: it stays pending until software writes a non-negative DEC).
 * - HDEC expiry is an L1 timebase value: the run stops with exit 0x980 once now ≥ expiry.
 *
 * Time inside a run: `Cpu.tbBase` is the L1 TB at the start of the current chunk; a slow-path
 * instruction reads now = tbBase + instructions retired in the chunk so far.
 */
import { type Cpu, Lpcr } from './isa/cpu.js';
import { P, toNumS } from './isa/int64.js';
import { R } from './vcpu.js';

/** Timebase ticks per retired instruction. */
export const TB_TICKS_PER_INSTRUCTION = 1;

/** L1 timebase now, inside a run (a safe integer). */
export function l1Now(c: Cpu): number {
  return c.tbBase + c.retiredInChunk() * TB_TICKS_PER_INSTRUCTION;
}

/** Splits a signed safe integer into P[2], P[3]. */
function split(v: number): void {
  P[2] = Math.floor(v / 4294967296) | 0;
  P[3] = v | 0;
}

/** L2 timebase now (L1 TB + TB_OFFSET, modulo 2^64) into P[2], P[3]. */
export function l2Tb(c: Cpu): void {
  const r = c.r;
  split(l1Now(c));
  const s = (P[3] >>> 0) + (r[R.TB_OFFSET + 1] >>> 0);
  P[2] = (P[2] + r[R.TB_OFFSET] + (s > 0xffff_ffff ? 1 : 0)) | 0;
  P[3] = s | 0;
}

/** DEC_EXPIRY_TB as a number (a signed 64-bit value; exact below 2^53, ordered above). */
export function decExpiry(r: Int32Array): number {
  return toNumS(r[R.DEC_EXPIRY_TB], r[R.DEC_EXPIRY_TB + 1]);
}

/** mfspr DEC: DEC = expiry − now, sign-extended from 32 bits (or 56 with LPCR[LD]) into P[2], P[3]. */
export function readDec(c: Cpu): void {
  const r = c.r;
  let d = decExpiry(r) - l1Now(c);
  const large = (r[R.LPCR + 1] & Lpcr.LD) !== 0;
  const width = large ? 2 ** 56 : 2 ** 32;
  if (!Number.isSafeInteger(d)) d = d > 0 ? width / 2 - 1 : -width / 2;
  d %= width; // JS % keeps the sign: d in (−width, width)
  if (d >= width / 2) d -= width;
  if (d < -width / 2) d += width;
  split(d);
}

/** mtspr DEC: expiry ← now + value sign-extended from 32 bits (or 56 with LPCR[LD]). */
export function writeDec(c: Cpu, hi: number, lo: number): void {
  const r = c.r;
  const large = (r[R.LPCR + 1] & Lpcr.LD) !== 0;
  const v = large ? ((hi << 8) >> 8) * 4294967296 + (lo >>> 0) : lo;
  split(l1Now(c) + v);
  r[R.DEC_EXPIRY_TB] = P[2];
  r[R.DEC_EXPIRY_TB + 1] = P[3];
}

/**
 * Branch instructions (Book I §2.4). A taken branch leaves its target in `c.tHi/c.tLo` and returns
 * Step.BRANCH; the run loop keeps the fetch page when the target stays on it. LR ← CIA + 4 happens
 * whether or not the branch is taken, after the target was read (so `bclrl` branches to the old LR).
 */
import { facilityUnavailable, hvFacility } from '../interrupts.js';
import { R } from '../vcpu.js';
import { type Cpu, type Exec, Facility, Step } from './cpu.js';
import { aa, bd, bit31, li, ra, rt } from './forms.js';

/** c.t ← (hi, lo) + EXTS(off), the 64-bit sum. */
function setTarget(c: Cpu, hi: number, lo: number, off: number): void {
  const t = (lo + off) | 0;
  c.tLo = t;
  // Adding EXTS(off): carry out when the result is below lo, plus the sign extension of off.
  c.tHi = (hi + (off >> 31) + (t >>> 0 < lo >>> 0 ? 1 : 0)) | 0;
}

/** LR ← CIA + 4. */
function link(r: Int32Array, ciaHi: number, ciaLo: number): void {
  const lo = (ciaLo + 4) | 0;
  r[R.LR] = lo === 0 ? (ciaHi + 1) | 0 : ciaHi;
  r[R.LR + 1] = lo;
}

/**
 * The BO test of bc, bclr and bctar (BO0 = 16 … BO4 = 1): decrements CTR unless BO2, then returns
 * ctr_ok & cond_ok.
 */
function boTest(r: Int32Array, bo: number, bi: number): boolean {
  if ((bo & 4) === 0) {
    const lo = (r[R.CTR + 1] - 1) | 0;
    if (lo === -1) r[R.CTR] = (r[R.CTR] - 1) | 0;
    r[R.CTR + 1] = lo;
    const nonZero = (r[R.CTR] | lo) !== 0;
    if (nonZero === ((bo & 2) !== 0)) return false;
  }
  if ((bo & 16) !== 0) return true;
  return ((r[R.CR] >>> (31 - bi)) & 1) === (bo & 8) >>> 3;
}

/** b / ba / bl / bla target — NIA ← (AA ? 0 : CIA) + EXTS(LI || 0b00); if LK then LR ← CIA + 4 */
export const b: Exec = (c, i, ciaHi, ciaLo) => {
  if (aa(i)) {
    const off = li(i);
    c.tHi = off >> 31;
    c.tLo = off;
  } else {
    setTarget(c, ciaHi, ciaLo, li(i));
  }
  if (bit31(i)) link(c.r, ciaHi, ciaLo);
  return Step.BRANCH;
};

/** bc / bca / bcl / bcla BO,BI,target — if ctr_ok & cond_ok then NIA ← (AA ? 0 : CIA) + EXTS(BD || 0b00) */
export const bc: Exec = (c, i, ciaHi, ciaLo) => {
  const r = c.r;
  const taken = boTest(r, rt(i), ra(i));
  if (bit31(i)) link(r, ciaHi, ciaLo);
  if (!taken) return Step.NEXT;
  if (aa(i)) {
    const off = bd(i);
    c.tHi = off >> 31;
    c.tLo = off;
  } else {
    setTarget(c, ciaHi, ciaLo, bd(i));
  }
  return Step.BRANCH;
};

/** bclr / bclrl BO,BI,BH — if ctr_ok & cond_ok then NIA ← LR0:61 || 0b00 */
export const bclr: Exec = (c, i, ciaHi, ciaLo) => {
  const r = c.r;
  const hi = r[R.LR];
  const lo = r[R.LR + 1] & ~3;
  const taken = boTest(r, rt(i), ra(i));
  if (bit31(i)) link(r, ciaHi, ciaLo);
  if (!taken) return Step.NEXT;
  c.tHi = hi;
  c.tLo = lo;
  return Step.BRANCH;
};

/**
 * bcctr / bcctrl BO,BI,BH — if cond_ok then NIA ← CTR0:61 || 0b00. With BO2 = 0 the form is
 * invalid (it would decrement the CTR it branches to); nestsim then ignores BO2 and tests only
 * the condition (its choice for the book's "invalid form").
 */
export const bcctr: Exec = (c, i, ciaHi, ciaLo) => {
  const r = c.r;
  const bo = rt(i) | 4;
  const taken = boTest(r, bo, ra(i));
  if (bit31(i)) link(r, ciaHi, ciaLo);
  if (!taken) return Step.NEXT;
  c.tHi = r[R.CTR];
  c.tLo = r[R.CTR + 1] & ~3;
  return Step.BRANCH;
};

/**
 * bctar / bctarl BO,BI,BH — if ctr_ok & cond_ok then NIA ← TAR0:61 || 0b00. TAR is a facility:
 * HFSCR[TAR] = 0 exits to L1 (0xF80); in problem state FSCR[TAR] = 0 is a facility unavailable
 * interrupt in the guest (0xF60).
 */
export const bctar: Exec = (c, i, ciaHi, ciaLo) => {
  const r = c.r;
  if ((r[R.HFSCR + 1] & (1 << Facility.TAR)) === 0) return hvFacility(c, Facility.TAR, ciaHi, ciaLo);
  if (c.problemState() && (r[R.FSCR + 1] & (1 << Facility.TAR)) === 0)
    return facilityUnavailable(c, Facility.TAR, ciaHi, ciaLo);
  const hi = r[R.TAR];
  const lo = r[R.TAR + 1] & ~3;
  const taken = boTest(r, rt(i), ra(i));
  if (bit31(i)) link(r, ciaHi, ciaLo);
  if (!taken) return Step.NEXT;
  c.tHi = hi;
  c.tLo = lo;
  return Step.BRANCH;
};

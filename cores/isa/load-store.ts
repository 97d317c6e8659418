/**
 * Fixed-point loads and stores (Book I §3.3.2–3.3.7): 1/2/4/8 bytes in D, DS, X, update and
 * byte-reversed forms, lmw/stmw, and dcbz (a store of zeros). Data byte order is MSR[LE]
 * (`c.m.le`); the byte-reversed forms use the other one.
 *
 * A faulting access has no effect (no register written, update forms leave RA alone) and returns
 * the interrupt from `storageFault`. Update forms with RA = 0, or RA = RT for loads, are invalid
 * forms; nestsim executes them with (RA) and writes RT before RA (its choice for "boundedly
 * undefined").
 */
import { storageFault } from '../interrupts.js';
import { Access, Fault } from '../mmu.js';
import { type Cpu, type Exec, Step } from './cpu.js';
import { ds, ra, rb, rt, si } from './forms.js';

/** High word of the effective address computed by the last `eaD` / `eaX`. */
let eh = 0;

/** EA ← (RA|0) + EXTS(d): returns the low word, leaves the high word in `eh`. */
function eaD(r: Int32Array, a: number, d: number): number {
  if (a === 0) {
    eh = d >> 31;
    return d;
  }
  const alo = r[2 * a + 1];
  const lo = (alo + d) | 0;
  eh = (r[2 * a] + (d >> 31) + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  return lo;
}

/** EA ← (RA|0) + (RB): returns the low word, leaves the high word in `eh`. */
function eaX(r: Int32Array, a: number, b: number): number {
  const blo = r[2 * b + 1];
  const bhi = r[2 * b];
  if (a === 0) {
    eh = bhi;
    return blo;
  }
  const alo = r[2 * a + 1];
  const lo = (alo + blo) | 0;
  eh = (r[2 * a] + bhi + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  return lo;
}

/** EA of an update form: (RA) + EXTS(d), RA = 0 read as a register. */
function eaDu(r: Int32Array, a: number, d: number): number {
  const alo = r[2 * a + 1];
  const lo = (alo + d) | 0;
  eh = (r[2 * a] + (d >> 31) + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  return lo;
}

/** EA of an indexed update form: (RA) + (RB). */
function eaXu(r: Int32Array, a: number, b: number): number {
  const alo = r[2 * a + 1];
  const lo = (alo + r[2 * b + 1]) | 0;
  eh = (r[2 * a] + r[2 * b] + (lo >>> 0 < alo >>> 0 ? 1 : 0)) | 0;
  return lo;
}

/** RA ← EA (update forms). */
function update(r: Int32Array, a: number, hi: number, lo: number): void {
  r[2 * a] = hi;
  r[2 * a + 1] = lo;
}

/** Loads of one size and extension at EA (eh, lo) into RT; the shared body of every load form. */
function lbzAt(c: Cpu, i: number, ch: number, cl: number, lo: number): number {
  const hi = eh;
  const v = c.m.load8(hi, lo);
  if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
  const t = 2 * rt(i);
  c.r[t] = 0;
  c.r[t + 1] = v;
  return Step.NEXT;
}
function lhzAt(c: Cpu, i: number, ch: number, cl: number, lo: number, le: boolean): number {
  const v = c.m.load16(eh, lo, le);
  if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
  const t = 2 * rt(i);
  c.r[t] = 0;
  c.r[t + 1] = v;
  return Step.NEXT;
}
function lhaAt(c: Cpu, i: number, ch: number, cl: number, lo: number): number {
  const v = (c.m.load16(eh, lo, c.m.le) << 16) >> 16;
  if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
  const t = 2 * rt(i);
  c.r[t] = v >> 31;
  c.r[t + 1] = v;
  return Step.NEXT;
}
function lwzAt(c: Cpu, i: number, ch: number, cl: number, lo: number, le: boolean): number {
  const v = c.m.load32(eh, lo, le);
  if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
  const t = 2 * rt(i);
  c.r[t] = 0;
  c.r[t + 1] = v;
  return Step.NEXT;
}
function lwaAt(c: Cpu, i: number, ch: number, cl: number, lo: number): number {
  const v = c.m.load32(eh, lo, c.m.le);
  if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
  const t = 2 * rt(i);
  c.r[t] = v >> 31;
  c.r[t + 1] = v;
  return Step.NEXT;
}
function ldAt(c: Cpu, i: number, ch: number, cl: number, lo: number, le: boolean): number {
  const m = c.m;
  const v = m.load64(eh, lo, le);
  if (m.faulted !== 0) return storageFault(c, ch, cl, i);
  const t = 2 * rt(i);
  c.r[t] = m.hi;
  c.r[t + 1] = v;
  return Step.NEXT;
}

/** Runs a load at the update-form EA, then RA ← EA if it did not fault. */
function withUpdate(c: Cpu, i: number, lo: number, step: number): number {
  if (step === Step.NEXT) update(c.r, ra(i), eh, lo);
  return step;
}

/** lbz RT,D(RA) — RT ← (56)0 || MEM(EA, 1) */
export const lbz: Exec = (c, i, ch, cl) => lbzAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)));
/** lbzx RT,RA,RB — RT ← (56)0 || MEM(EA, 1) */
export const lbzx: Exec = (c, i, ch, cl) => lbzAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)));
/** lbzu RT,D(RA) — RT ← (56)0 || MEM(EA, 1); RA ← EA */
export const lbzu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = lbzAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** lbzux RT,RA,RB — RT ← (56)0 || MEM(EA, 1); RA ← EA */
export const lbzux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = lbzAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};

/** lhz RT,D(RA) — RT ← (48)0 || MEM(EA, 2) */
export const lhz: Exec = (c, i, ch, cl) => lhzAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)), c.m.le);
/** lhzx RT,RA,RB — RT ← (48)0 || MEM(EA, 2) */
export const lhzx: Exec = (c, i, ch, cl) => lhzAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), c.m.le);
/** lhzu RT,D(RA) — RT ← (48)0 || MEM(EA, 2); RA ← EA */
export const lhzu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = lhzAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** lhzux RT,RA,RB — RT ← (48)0 || MEM(EA, 2); RA ← EA */
export const lhzux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = lhzAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** lhbrx RT,RA,RB — RT ← (48)0 || MEM(EA, 2) byte-reversed */
export const lhbrx: Exec = (c, i, ch, cl) => lhzAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), !c.m.le);

/** lha RT,D(RA) — RT ← EXTS(MEM(EA, 2)) */
export const lha: Exec = (c, i, ch, cl) => lhaAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)));
/** lhax RT,RA,RB — RT ← EXTS(MEM(EA, 2)) */
export const lhax: Exec = (c, i, ch, cl) => lhaAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)));
/** lhau RT,D(RA) — RT ← EXTS(MEM(EA, 2)); RA ← EA */
export const lhau: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = lhaAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** lhaux RT,RA,RB — RT ← EXTS(MEM(EA, 2)); RA ← EA */
export const lhaux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = lhaAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};

/** lwz RT,D(RA) — RT ← (32)0 || MEM(EA, 4) */
export const lwz: Exec = (c, i, ch, cl) => lwzAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)), c.m.le);
/** lwzx RT,RA,RB — RT ← (32)0 || MEM(EA, 4) */
export const lwzx: Exec = (c, i, ch, cl) => lwzAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), c.m.le);
/** lwzu RT,D(RA) — RT ← (32)0 || MEM(EA, 4); RA ← EA */
export const lwzu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = lwzAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** lwzux RT,RA,RB — RT ← (32)0 || MEM(EA, 4); RA ← EA */
export const lwzux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = lwzAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** lwbrx RT,RA,RB — RT ← (32)0 || MEM(EA, 4) byte-reversed */
export const lwbrx: Exec = (c, i, ch, cl) => lwzAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), !c.m.le);

/** lwa RT,DS(RA) — RT ← EXTS(MEM(EA, 4)) */
export const lwa: Exec = (c, i, ch, cl) => lwaAt(c, i, ch, cl, eaD(c.r, ra(i), ds(i)));
/** lwax RT,RA,RB — RT ← EXTS(MEM(EA, 4)) */
export const lwax: Exec = (c, i, ch, cl) => lwaAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)));
/** lwaux RT,RA,RB — RT ← EXTS(MEM(EA, 4)); RA ← EA */
export const lwaux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = lwaAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};

/** ld RT,DS(RA) — RT ← MEM(EA, 8) */
export const ld: Exec = (c, i, ch, cl) => ldAt(c, i, ch, cl, eaD(c.r, ra(i), ds(i)), c.m.le);
/** ldx RT,RA,RB — RT ← MEM(EA, 8) */
export const ldx: Exec = (c, i, ch, cl) => ldAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), c.m.le);
/** ldu RT,DS(RA) — RT ← MEM(EA, 8); RA ← EA */
export const ldu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), ds(i));
  const hi = eh;
  const s = ldAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** ldux RT,RA,RB — RT ← MEM(EA, 8); RA ← EA */
export const ldux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = ldAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** ldbrx RT,RA,RB — RT ← MEM(EA, 8) byte-reversed */
export const ldbrx: Exec = (c, i, ch, cl) => ldAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), !c.m.le);

// Stores. The value is read before the store so that update forms with RS = RA store the old RA.

function stbAt(c: Cpu, i: number, ch: number, cl: number, lo: number): number {
  c.m.store8(eh, lo, c.r[2 * rt(i) + 1]);
  return c.m.faulted !== 0 ? storageFault(c, ch, cl, i) : Step.NEXT;
}
function sthAt(c: Cpu, i: number, ch: number, cl: number, lo: number, le: boolean): number {
  c.m.store16(eh, lo, c.r[2 * rt(i) + 1], le);
  return c.m.faulted !== 0 ? storageFault(c, ch, cl, i) : Step.NEXT;
}
function stwAt(c: Cpu, i: number, ch: number, cl: number, lo: number, le: boolean): number {
  c.m.store32(eh, lo, c.r[2 * rt(i) + 1], le);
  return c.m.faulted !== 0 ? storageFault(c, ch, cl, i) : Step.NEXT;
}
function stdAt(c: Cpu, i: number, ch: number, cl: number, lo: number, le: boolean): number {
  const s = 2 * rt(i);
  c.m.store64(eh, lo, c.r[s], c.r[s + 1], le);
  return c.m.faulted !== 0 ? storageFault(c, ch, cl, i) : Step.NEXT;
}

/** stb RS,D(RA) — MEM(EA, 1) ← (RS)56:63 */
export const stb: Exec = (c, i, ch, cl) => stbAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)));
/** stbx RS,RA,RB — MEM(EA, 1) ← (RS)56:63 */
export const stbx: Exec = (c, i, ch, cl) => stbAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)));
/** stbu RS,D(RA) — MEM(EA, 1) ← (RS)56:63; RA ← EA */
export const stbu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = stbAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** stbux RS,RA,RB — MEM(EA, 1) ← (RS)56:63; RA ← EA */
export const stbux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = stbAt(c, i, ch, cl, lo);
  eh = hi;
  return withUpdate(c, i, lo, s);
};

/** sth RS,D(RA) — MEM(EA, 2) ← (RS)48:63 */
export const sth: Exec = (c, i, ch, cl) => sthAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)), c.m.le);
/** sthx RS,RA,RB — MEM(EA, 2) ← (RS)48:63 */
export const sthx: Exec = (c, i, ch, cl) => sthAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), c.m.le);
/** sthu RS,D(RA) — MEM(EA, 2) ← (RS)48:63; RA ← EA */
export const sthu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = sthAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** sthux RS,RA,RB — MEM(EA, 2) ← (RS)48:63; RA ← EA */
export const sthux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = sthAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** sthbrx RS,RA,RB — MEM(EA, 2) ← (RS)48:63 byte-reversed */
export const sthbrx: Exec = (c, i, ch, cl) => sthAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), !c.m.le);

/** stw RS,D(RA) — MEM(EA, 4) ← (RS)32:63 */
export const stw: Exec = (c, i, ch, cl) => stwAt(c, i, ch, cl, eaD(c.r, ra(i), si(i)), c.m.le);
/** stwx RS,RA,RB — MEM(EA, 4) ← (RS)32:63 */
export const stwx: Exec = (c, i, ch, cl) => stwAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), c.m.le);
/** stwu RS,D(RA) — MEM(EA, 4) ← (RS)32:63; RA ← EA */
export const stwu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), si(i));
  const hi = eh;
  const s = stwAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** stwux RS,RA,RB — MEM(EA, 4) ← (RS)32:63; RA ← EA */
export const stwux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = stwAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** stwbrx RS,RA,RB — MEM(EA, 4) ← (RS)32:63 byte-reversed */
export const stwbrx: Exec = (c, i, ch, cl) => stwAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), !c.m.le);

/** std RS,DS(RA) — MEM(EA, 8) ← (RS) */
export const std: Exec = (c, i, ch, cl) => stdAt(c, i, ch, cl, eaD(c.r, ra(i), ds(i)), c.m.le);
/** stdx RS,RA,RB — MEM(EA, 8) ← (RS) */
export const stdx: Exec = (c, i, ch, cl) => stdAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), c.m.le);
/** stdu RS,DS(RA) — MEM(EA, 8) ← (RS); RA ← EA */
export const stdu: Exec = (c, i, ch, cl) => {
  const lo = eaDu(c.r, ra(i), ds(i));
  const hi = eh;
  const s = stdAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** stdux RS,RA,RB — MEM(EA, 8) ← (RS); RA ← EA */
export const stdux: Exec = (c, i, ch, cl) => {
  const lo = eaXu(c.r, ra(i), rb(i));
  const hi = eh;
  const s = stdAt(c, i, ch, cl, lo, c.m.le);
  eh = hi;
  return withUpdate(c, i, lo, s);
};
/** stdbrx RS,RA,RB — MEM(EA, 8) ← (RS) byte-reversed */
export const stdbrx: Exec = (c, i, ch, cl) => stdAt(c, i, ch, cl, eaX(c.r, ra(i), rb(i)), !c.m.le);

/**
 * Alignment interrupt for the multiple-word forms: they are defined only in big-endian mode and
 * for word-aligned EAs (Book I §3.3.6: in little-endian mode "the system alignment error handler
 * is invoked").
 */
function multipleAligned(c: Cpu, hi: number, lo: number): boolean {
  if (!c.m.le && (lo & 3) === 0) return true;
  c.m.fail(Fault.ALIGNMENT, Access.READ, hi, lo, 0, 0);
  return false;
}

/** lmw RT,D(RA) — r ← RT; do while r ≤ 31: GPR(r) ← (32)0 || MEM(EA, 4); r ← r + 1; EA ← EA + 4 */
export const lmw: Exec = (c, i, ch, cl) => {
  const r = c.r;
  let lo = eaD(r, ra(i), si(i));
  const hi = eh;
  if (!multipleAligned(c, hi, lo)) return storageFault(c, ch, cl, i);
  for (let n = rt(i); n < 32; n++) {
    const v = c.m.load32(hi, lo, false);
    if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
    r[2 * n] = 0;
    r[2 * n + 1] = v;
    lo = (lo + 4) | 0;
  }
  return Step.NEXT;
};

/** stmw RS,D(RA) — r ← RS; do while r ≤ 31: MEM(EA, 4) ← GPR(r)32:63; r ← r + 1; EA ← EA + 4 */
export const stmw: Exec = (c, i, ch, cl) => {
  const r = c.r;
  let lo = eaD(r, ra(i), si(i));
  const hi = eh;
  if (!multipleAligned(c, hi, lo)) return storageFault(c, ch, cl, i);
  for (let n = rt(i); n < 32; n++) {
    c.m.store32(hi, lo, r[2 * n + 1], false);
    if (c.m.faulted !== 0) return storageFault(c, ch, cl, i);
    lo = (lo + 4) | 0;
  }
  return Step.NEXT;
};

/** dcbz RA,RB — the 128-byte block containing EA ← 0 (one translation: a block never crosses a page) */
export const dcbz: Exec = (c, i, ch, cl) => {
  const lo = eaX(c.r, ra(i), rb(i)) & ~127;
  const m = c.m;
  const a = m.xlate(eh, lo, Access.WRITE);
  if (a < 0) return storageFault(c, ch, cl, i);
  if (m.code.pageOf[a >>> 12] !== 0) m.code.written(a >>> 12);
  m.u8.fill(0, a, a + 128);
  return Step.NEXT;
};

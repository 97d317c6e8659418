/**
 * Load-and-reserve / store-conditional, barriers and cache management (Book II §4.4–4.6).
 *
 * Reservations. Each core keeps one reservation {L1RA, size, value loaded} (`Cpu.res*`). A
 * store-conditional succeeds only if the reservation exists, names the same L1 real address and
 * size, and an `Atomics.compareExchange` of the reserved bytes from the loaded value to the new one
 * succeeds. Memory-model argument: the compare-exchange is a single atomic read-modify-write, so
 * between a successful larx and stcx. no other core's store to those bytes can be lost — any store
 * that changed them makes the stcx. fail, exactly the case in which Power's reservation would have
 * been lost. A store that wrote back the same value (A→B→A) does not make it fail; the outcome is
 * then the one where that store happened before the larx, which Power also allows (a reservation
 * only guarantees the atomicity of the reserved location, and every other load in between may
 * already have been satisfied before it). The reservation is cleared by every stcx. and when a
 * different vCPU runs on the core (as a real hypervisor clears it with a dummy stcx. when it
 * switches); a vCPU that exits and resumes on the same core keeps it, which the value check
 * makes safe whatever happened in between.
 *
 * Barriers. Plain guest accesses are plain typed-array accesses; `sync`, `lwsync`, `ptesync` and
 * `eieio` perform one `Atomics.add(fence, 0, 0)` on a private shared word: V8 does not move memory
 * accesses across an Atomics operation, and on x86 hosts a locked read-modify-write orders every
 * earlier access before every later one (a full fence). That is stronger than each of them needs.
 */
import { ProgramCause, program, storageFault } from '../interrupts.js';
import { Access, Fault } from '../mmu.js';
import { R } from '../vcpu.js';
import { type Cpu, type Exec, Step } from './cpu.js';
import { ra, rb, rt } from './forms.js';
import { toBigU } from './int64.js';
import { Cr } from './regs.js';

const fence = new Int32Array(new SharedArrayBuffer(4));

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  // Reservations compare raw host-order words; nestsim runs on little-endian hosts only.
  throw new Error('nestsim needs a little-endian host');
}

/** Byte-swaps a 32-bit word. */
const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
/** Byte-swaps a 16-bit value. */
const bswap16 = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);

/** EA ← (RA|0) + (RB) as [hi, lo] in the scratch. */
const ea = new Int32Array(2);
function eaX(r: Int32Array, i: number): void {
  const a = ra(i);
  const b = 2 * rb(i);
  if (a === 0) {
    ea[0] = r[b];
    ea[1] = r[b + 1];
    return;
  }
  const s = (r[2 * a + 1] >>> 0) + (r[b + 1] >>> 0);
  ea[0] = (r[2 * a] + r[b] + (s > 0xffff_ffff ? 1 : 0)) | 0;
  ea[1] = s | 0;
}

/**
 * Translates the larx/stcx. EA of `size` bytes for `acc`: -1 after recording an alignment fault
 * (these forms must be naturally aligned) or a translation fault.
 */
function reservedAddress(c: Cpu, size: number, acc: 0 | 1): number {
  const hi = ea[0];
  const lo = ea[1];
  if ((lo & (size - 1)) !== 0) return c.m.fail(Fault.ALIGNMENT, acc, hi, lo, 0, 0);
  return c.m.xlate(hi, lo, acc);
}

/** The body of lbarx / lharx / lwarx / ldarx. */
function larx(c: Cpu, i: number, ch: number, cl: number, size: number): number {
  const r = c.r;
  eaX(r, i);
  const a = reservedAddress(c, size, Access.READ);
  if (a < 0) return storageFault(c, ch, cl, i);
  const m = c.m;
  const t = 2 * rt(i);
  let hi = 0;
  let lo: number;
  c.resHi = 0;
  switch (size) {
    case 1:
      lo = c.resLo = m.u8[a];
      break;
    case 2:
      c.resLo = m.i16[a >>> 1];
      lo = m.le ? c.resLo & 0xffff : bswap16(c.resLo);
      break;
    case 4:
      c.resLo = m.i32[a >>> 2];
      lo = m.le ? c.resLo : bswap32(c.resLo);
      break;
    default:
      c.resLo = m.i32[a >>> 2];
      c.resHi = m.i32[(a >>> 2) + 1];
      hi = m.le ? c.resHi : bswap32(c.resLo);
      lo = m.le ? c.resLo : bswap32(c.resHi);
  }
  c.resAddr = a;
  c.resSize = size;
  r[t] = hi;
  r[t + 1] = lo;
  return Step.NEXT;
}

/** The body of stbcx. / sthcx. / stwcx. / stdcx.: CR0 ← 0b00 || stored || XER[SO]. */
function stcx(c: Cpu, i: number, ch: number, cl: number, size: number): number {
  const r = c.r;
  eaX(r, i);
  const a = reservedAddress(c, size, Access.WRITE);
  if (a < 0) return storageFault(c, ch, cl, i);
  const m = c.m;
  const s = 2 * rt(i);
  let ok = false;
  if (c.resAddr === a && c.resSize === size) {
    const vlo = r[s + 1];
    switch (size) {
      case 1:
        ok = Atomics.compareExchange(m.u8, a, c.resLo, vlo & 0xff) === c.resLo;
        break;
      case 2: {
        const raw = (((m.le ? vlo : bswap16(vlo)) & 0xffff) << 16) >> 16;
        ok = Atomics.compareExchange(m.i16, a >>> 1, c.resLo, raw) === c.resLo;
        break;
      }
      case 4:
        ok = Atomics.compareExchange(m.i32, a >>> 2, c.resLo, m.le ? vlo : bswap32(vlo)) === c.resLo;
        break;
      default: {
        // 8-byte compare-exchange needs BigInt64Array: a slow path (≈100 ns), taken once per stdcx.
        const rawLo = m.le ? vlo : bswap32(r[s]);
        const rawHi = m.le ? r[s] : bswap32(vlo);
        const expected = BigInt.asIntN(64, toBigU(c.resHi, c.resLo));
        const next = BigInt.asIntN(64, toBigU(rawHi, rawLo));
        ok = Atomics.compareExchange(m.i64, a >>> 3, expected, next) === expected;
      }
    }
    if (ok && m.code.pageOf[a >>> 12] !== 0) m.code.written(a >>> 12);
  }
  // The mutant (test-only): a lost reservation — no larx, or another core's store since — stores anyway.
  if (!ok && c.stcxWithoutReservation) ok = mutantStore(c, a, s, size);
  c.resAddr = -1;
  r[R.CR] = (r[R.CR] & 0x0fff_ffff) | (((ok ? Cr.EQ : 0) | r[R.SO]) << 28);
  return Step.NEXT;
}

/**
 * The stcx-without-reservation mutant (test-only): store as a plain store would and report
 * success, as a broken implementation that forgot the reservation check would.
 */
function mutantStore(c: Cpu, a: number, s: number, size: number): boolean {
  const m = c.m;
  const r = c.r;
  const vlo = r[s + 1];
  if (size === 1) m.u8[a] = vlo & 0xff;
  else if (size === 2) m.dv.setUint16(a, vlo & 0xffff, m.le);
  else if (size === 4) m.dv.setInt32(a, vlo, m.le);
  else {
    m.dv.setInt32(a + (m.le ? 0 : 4), vlo, m.le);
    m.dv.setInt32(a + (m.le ? 4 : 0), r[s], m.le);
  }
  return true;
}

/** lbarx RT,RA,RB,EH — RESERVE ← 1; RT ← (56)0 || MEM(EA, 1) */
export const lbarx: Exec = (c, i, ch, cl) => larx(c, i, ch, cl, 1);
/** lharx RT,RA,RB,EH — RESERVE ← 1; RT ← (48)0 || MEM(EA, 2) */
export const lharx: Exec = (c, i, ch, cl) => larx(c, i, ch, cl, 2);
/** lwarx RT,RA,RB,EH — RESERVE ← 1; RT ← (32)0 || MEM(EA, 4) */
export const lwarx: Exec = (c, i, ch, cl) => larx(c, i, ch, cl, 4);
/** ldarx RT,RA,RB,EH — RESERVE ← 1; RT ← MEM(EA, 8) */
export const ldarx: Exec = (c, i, ch, cl) => larx(c, i, ch, cl, 8);
/** stbcx. RS,RA,RB — if RESERVE then MEM(EA, 1) ← (RS)56:63; CR0 ← 0b00 || stored || SO */
export const stbcx_: Exec = (c, i, ch, cl) => stcx(c, i, ch, cl, 1);
/** sthcx. RS,RA,RB — if RESERVE then MEM(EA, 2) ← (RS)48:63; CR0 ← 0b00 || stored || SO */
export const sthcx_: Exec = (c, i, ch, cl) => stcx(c, i, ch, cl, 2);
/** stwcx. RS,RA,RB — if RESERVE then MEM(EA, 4) ← (RS)32:63; CR0 ← 0b00 || stored || SO */
export const stwcx_: Exec = (c, i, ch, cl) => stcx(c, i, ch, cl, 4);
/** stdcx. RS,RA,RB — if RESERVE then MEM(EA, 8) ← (RS); CR0 ← 0b00 || stored || SO */
export const stdcx_: Exec = (c, i, ch, cl) => stcx(c, i, ch, cl, 8);

/** sync L — orders storage accesses (L = 0 hwsync, 1 lwsync, 2 ptesync; all are a full fence here) */
export const sync: Exec = () => {
  Atomics.add(fence, 0, 0);
  return Step.NEXT;
};

/** eieio — orders stores to caching-inhibited storage (a full fence here) */
export const eieio: Exec = sync;

/** isync — context synchronization: the run loop re-reads MSR state and picks up foreign icbi */
export const isync: Exec = () => Step.SYNC;

/** icbi RA,RB — invalidate the instruction block in every processor (bumps the shared code generation) */
export const icbi: Exec = (c) => {
  c.m.code.announce();
  return Step.NEXT;
};

/** dcbt, dcbtst, dcbf, dcbst, icbt — cache hints and flushes: no architected effect on a coherent model */
export const cacheHint: Exec = () => Step.NEXT;

/**
 * dcbi RA,RB — privileged cache invalidate; treated as a hint in privileged state (memory is always
 * coherent here), a privileged-instruction program interrupt in problem state.
 */
export const dcbi: Exec = (c, _i, ch, cl) =>
  c.problemState() ? program(c, ProgramCause.PRIVILEGED, ch, cl) : Step.NEXT;

/**
 * The run loop: executes the L2 instruction stream of one vCPU on one core until an exit, the
 * budget, or a stop request. Invoked from: `Core.run` (cores/core.ts).
 *
 * Shape (TinyEMU's `code_ptr` loop, libriscv's slots):
 * - the outer loop is the check point: stop word, TLB generation sync, foreign code changes,
 *   budget, HDEC, pending guest interrupts; then it picks a chunk of at most CHECK_INTERVAL
 *   instructions that also ends exactly where HDEC expires or DEC turns negative (MSR[EE] = 1), so
 *   timed events need no per-instruction test;
 * - the inner loop keeps NIA as (fetch page, offset) in locals, dispatches on the predecoded
 *   handler id — the hottest rows through a switch of direct calls V8 can inline, the rest through
 *   the table — and leaves only for a status other than "next" or "branch".
 *
 * Stop requests are therefore honoured within CHECK_INTERVAL instructions.
 */
import { Vector } from '../hypervisor/papr.js';
import type { Core } from './core.js';
import { fetchFault, hvExit, pendingInterrupt } from './interrupts.js';
import * as br from './isa/branch.js';
import * as cr from './isa/condition.js';
import { Msr, Step } from './isa/cpu.js';
import { decode } from './isa/decode.js';
import * as fx from './isa/fixed-point.js';
import * as ls from './isa/load-store.js';
import * as rot from './isa/rotate.js';
import * as sys from './isa/system.js';
import { EXEC_BY_ID } from './isa/table.js';
import { Access } from './mmu.js';
import { decExpiry, TB_TICKS_PER_INSTRUCTION } from './timebase.js';
import { R } from './vcpu.js';

/**
 * Instructions between check points at most. 512: a check point costs about as much as 20 simple
 * instructions (an Atomics.load, the TLB generation compare, a fetch-page lookup), so this keeps
 * it under 5% while a stop request waits at most ~5 µs.
 */
export const CHECK_INTERVAL = 512;

/** Why `execute` returned. */
export const RunEnd = { EXIT: 1, BUDGET: 2, STOP: 3 } as const;

/** Re-reads the MSR bits the memory path caches; flushes the EA TLB when relocation changed. */
function syncMsr(k: Core): void {
  const lo = k.cpu.r[R.MSR + 1];
  const m = k.mmu;
  m.le = (lo & Msr.LE) !== 0;
  const ir = (lo & Msr.IR) !== 0;
  const dr = (lo & Msr.DR) !== 0;
  if (ir !== m.ir || dr !== m.dr) {
    m.ir = ir;
    m.dr = dr;
    m.flush();
  }
}

/**
 * Runs until an exit (hypervisor interrupt), `budget` retired instructions, or a stop request.
 * Leaves NIA in the vCPU and the retired count in `k.retired`; returns a RunEnd.
 */
export function execute(k: Core, budget: number): number {
  const c = k.cpu;
  const m = k.mmu;
  const code = k.code;
  const slots = code.slots;
  const r = c.r;
  const stop = k.stopWords;
  const stopAt = k.stopIndex;
  const hdec = k.hdecExpiry;
  let left = budget;
  let tHi = r[R.NIA];
  let tLo = r[R.NIA + 1] & ~3;
  let end = 0;
  c.runStartTb = k.tb;
  syncMsr(k);

  for (;;) {
    // ---- check point: NIA is (tHi, tLo) ----
    if (Atomics.load(stop, stopAt) !== 0) {
      end = RunEnd.STOP;
      break;
    }
    if (m.partition.sync()) m.flush();
    code.sync();
    if (left <= 0) {
      end = RunEnd.BUDGET;
      break;
    }
    const now = k.tb;
    if (now >= hdec) {
      hvExit(c, Vector.HV_DECREMENTER, tHi, tLo, 0);
      end = RunEnd.EXIT;
      break;
    }
    if (pendingInterrupt(c, now, tHi, tLo)) {
      tHi = c.tHi;
      tLo = c.tLo;
      syncMsr(k);
    }
    let n = Math.min(left, CHECK_INTERVAL);
    if (hdec - now < n * TB_TICKS_PER_INSTRUCTION) n = Math.ceil((hdec - now) / TB_TICKS_PER_INSTRUCTION);
    if ((r[R.MSR + 1] & Msr.EE) !== 0) {
      // DEC turns negative once now > expiry: stop the chunk right there.
      const d = Math.ceil((decExpiry(r) - now + 1) / TB_TICKS_PER_INSTRUCTION);
      if (d < n) n = d;
    }
    c.tbBase = now;
    c.chunk = n;

    // ---- the chunk ----
    let pHi = 0;
    let pLo = 0;
    let pa = 0;
    let off = 4096;
    let sBase = 0;
    let jumped = true;
    c.tHi = tHi;
    c.tLo = tLo;
    let st: number = Step.NEXT;
    for (;;) {
      if (off >= 4096) {
        // Entering a page: after a jump, or falling through the end of the previous one.
        let hi: number;
        let lo: number;
        if (jumped) {
          hi = c.tHi;
          lo = c.tLo;
          jumped = false;
        } else {
          lo = (pLo + 4096) | 0;
          hi = lo === 0 ? (pHi + 1) | 0 : pHi;
        }
        pHi = hi;
        pLo = lo & ~0xfff;
        off = lo & 0xfff;
        pa = m.xlate(hi, pLo, Access.FETCH);
        if (pa < 0) {
          st = fetchFault(c, hi, lo);
          break;
        }
        sBase = code.base(pa >>> 12, m.le);
      }
      const s = sBase + (off >> 1);
      let id = slots[s];
      let i: number;
      if (id === 0) {
        i = m.dv.getInt32(pa + off, m.le);
        id = decode(i);
        slots[s] = id;
        slots[s + 1] = i;
      } else {
        i = slots[s + 1];
      }
      const cia = pLo + off;
      // biome-ignore format: one line per hot handler id (ids are cores/isa/table.ts HOT positions)
      switch (id) {
        case 1: st = fx.addi(c, i, pHi, cia); break;
        case 2: st = fx.addis(c, i, pHi, cia); break;
        case 3: st = fx.add(c, i, pHi, cia); break;
        case 4: st = fx.subf(c, i, pHi, cia); break;
        case 5: st = fx.neg(c, i, pHi, cia); break;
        case 6: st = fx.mullw(c, i, pHi, cia); break;
        case 7: st = fx.mulld(c, i, pHi, cia); break;
        case 8: st = fx.and(c, i, pHi, cia); break;
        case 9: st = fx.andi_(c, i, pHi, cia); break;
        case 10: st = fx.or(c, i, pHi, cia); break;
        case 11: st = fx.ori(c, i, pHi, cia); break;
        case 12: st = fx.xor(c, i, pHi, cia); break;
        case 13: st = fx.extsw(c, i, pHi, cia); break;
        case 14: st = rot.rlwinm(c, i, pHi, cia); break;
        case 15: st = rot.rldicl(c, i, pHi, cia); break;
        case 16: st = rot.rldicr(c, i, pHi, cia); break;
        case 17: st = rot.rldic(c, i, pHi, cia); break;
        case 18: st = rot.rlwimi(c, i, pHi, cia); break;
        case 19: st = rot.slw(c, i, pHi, cia); break;
        case 20: st = rot.srw(c, i, pHi, cia); break;
        case 21: st = rot.srawi(c, i, pHi, cia); break;
        case 22: st = rot.sradi(c, i, pHi, cia); break;
        case 23: st = rot.sld(c, i, pHi, cia); break;
        case 24: st = rot.srd(c, i, pHi, cia); break;
        case 25: st = cr.cmp(c, i, pHi, cia); break;
        case 26: st = cr.cmpi(c, i, pHi, cia); break;
        case 27: st = cr.cmpl(c, i, pHi, cia); break;
        case 28: st = cr.cmpli(c, i, pHi, cia); break;
        case 29: st = br.b(c, i, pHi, cia); break;
        case 30: st = br.b(c, i, pHi, cia); break;
        case 31: st = br.bc(c, i, pHi, cia); break;
        case 32: st = br.bclr(c, i, pHi, cia); break;
        case 33: st = br.bcctr(c, i, pHi, cia); break;
        case 34: st = sys.mflr(c, i, pHi, cia); break;
        case 35: st = sys.mtlr(c, i, pHi, cia); break;
        case 36: st = sys.mtctr(c, i, pHi, cia); break;
        case 37: st = sys.mfctr(c, i, pHi, cia); break;
        case 38: st = ls.lbz(c, i, pHi, cia); break;
        case 39: st = ls.lhz(c, i, pHi, cia); break;
        case 40: st = ls.lha(c, i, pHi, cia); break;
        case 41: st = ls.lwz(c, i, pHi, cia); break;
        case 42: st = ls.lwa(c, i, pHi, cia); break;
        case 43: st = ls.ld(c, i, pHi, cia); break;
        case 44: st = ls.stb(c, i, pHi, cia); break;
        case 45: st = ls.sth(c, i, pHi, cia); break;
        case 46: st = ls.stw(c, i, pHi, cia); break;
        case 47: st = ls.std(c, i, pHi, cia); break;
        case 48: st = ls.lbzx(c, i, pHi, cia); break;
        case 49: st = ls.lwzx(c, i, pHi, cia); break;
        case 50: st = ls.ldx(c, i, pHi, cia); break;
        case 51: st = ls.stwx(c, i, pHi, cia); break;
        case 52: st = ls.stdx(c, i, pHi, cia); break;
        case 53: st = ls.stdu(c, i, pHi, cia); break;
        case 54: st = ls.ldu(c, i, pHi, cia); break;
        case 55: st = cr.isel(c, i, pHi, cia); break;
        case 56: st = fx.extsb(c, i, pHi, cia); break;
        case 57: st = fx.extsh(c, i, pHi, cia); break;
        case 58: st = fx.xori(c, i, pHi, cia); break;
        case 59: st = fx.subfic(c, i, pHi, cia); break;
        case 60: st = fx.adde(c, i, pHi, cia); break;
        case 61: st = fx.addze(c, i, pHi, cia); break;
        case 62: st = fx.addc(c, i, pHi, cia); break;
        case 63: st = fx.subfc(c, i, pHi, cia); break;
        case 64: st = fx.subfe(c, i, pHi, cia); break;
        case 65: st = fx.mulhdu(c, i, pHi, cia); break;
        case 66: st = fx.divd(c, i, pHi, cia); break;
        case 67: st = fx.divdu(c, i, pHi, cia); break;
        case 68: st = fx.divw(c, i, pHi, cia); break;
        case 69: st = fx.divwu(c, i, pHi, cia); break;
        case 70: st = ls.stbx(c, i, pHi, cia); break;
        default:
          c.left = n;
          st = EXEC_BY_ID[id](c, i, pHi, cia);
      }
      if (st === Step.NEXT) {
        off += 4;
        if (--n === 0) break;
        continue;
      }
      if (st === Step.BRANCH) {
        const tl = c.tLo;
        if (c.tHi === pHi && ((tl ^ pLo) & ~0xfff) === 0) {
          off = tl & 0xfff;
        } else {
          jumped = true;
          off = 4096;
        }
        if (--n === 0) break;
        continue;
      }
      if (st === Step.SYNC) off += 4;
      if (st === Step.SYNC || st === Step.JUMP || st === Step.EXIT_RETIRED) n--;
      break;
    }

    // ---- after the chunk: account time, find NIA, handle the status ----
    const done = c.chunk - n;
    k.tb += done * TB_TICKS_PER_INSTRUCTION;
    k.retired += done;
    left -= done;
    if (st === Step.JUMP || st === Step.INTERRUPT || st === Step.EXIT || st === Step.EXIT_RETIRED) {
      tHi = c.tHi;
      tLo = c.tLo;
    } else if (off < 4096) {
      tHi = pHi;
      tLo = (pLo + off) | 0;
    } else if (jumped) {
      tHi = c.tHi;
      tLo = c.tLo;
    } else {
      tLo = (pLo + 4096) | 0;
      tHi = tLo === 0 ? (pHi + 1) | 0 : pHi;
    }
    if (st === Step.EXIT || st === Step.EXIT_RETIRED) {
      end = RunEnd.EXIT;
      break;
    }
    if (st === Step.SYNC) code.sync();
    if (st !== Step.NEXT && st !== Step.BRANCH) syncMsr(k);
  }

  r[R.NIA] = tHi;
  r[R.NIA + 1] = tLo;
  return end;
}

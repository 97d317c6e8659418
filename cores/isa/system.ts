/**
 * System instructions (Book I §3.3.11 traps, §3.3.17 SPR moves; Book III §4.3 sc, rfid, MSR
 * moves, §6.5 interrupts) and the catch-all handlers for instructions nestsim does not execute.
 *
 * Privilege (the L2 runs with MSR[HV] = 0): a privileged instruction in problem state is a program
 * interrupt (privileged instruction); a hypervisor-privileged instruction in privileged state is an
 * HEAI exit to L1 with HSRR1 bit 45 set (POWER9 with LPCR[EVIRT] = 1, what nested KVM relies on).
 */
import { Vector } from '../../hypervisor/papr.js';
import {
  facilityUnavailable,
  HEAI_PRIVILEGED,
  hvEmulation,
  hvFacility,
  ProgramCause,
  program,
  systemCall,
  unitUnavailable,
} from '../interrupts.js';
import { l1Now, l2Tb, readDec, writeDec } from '../timebase.js';
import { R } from '../vcpu.js';
import { type Cpu, type Exec, Facility, Msr, Step } from './cpu.js';
import { ra, rb, rt, si, spr } from './forms.js';
import { P } from './int64.js';
import { Kind, Level, SPRS } from './spr.js';

/** XER bits mtspr may set: SO, OV, CA (32:34), OV32, CA32 (44:45), the byte count (57:63). */
const XER_DEFINED = 0xe00c_007f | 0;
/** LPCR[GTSE]: the guest may use tlbie for its own (process-scoped) translations. */
const LPCR_GTSE = 0x400;

/** The facilities FSCR also controls in problem state. */
const FSCR_FACILITIES = (1 << Facility.TAR) | (1 << Facility.DSCR) | (1 << Facility.EBB);

/**
 * Checks an SPR's facility: HFSCR bit clear → exit 0xF80; in problem state, FSCR bit clear →
 * facility unavailable in the guest. Returns the Step of the interrupt, or -1 when available.
 */
function facilityCheck(c: Cpu, fac: number, ciaHi: number, ciaLo: number): number {
  const r = c.r;
  const bit = 1 << fac;
  if ((r[R.HFSCR + 1] & bit) === 0) return hvFacility(c, fac, ciaHi, ciaLo);
  if ((bit & FSCR_FACILITIES) !== 0 && c.problemState() && (r[R.FSCR + 1] & bit) === 0)
    return facilityUnavailable(c, fac, ciaHi, ciaLo);
  return -1;
}

/** sc LEV — system call (LEV 0, in the guest) or hypervisor call (LEV 1, exit 0xC00) */
export const sc: Exec = (c, i, ch, cl) => systemCall(c, (i >>> 5) & 0x7f, i, ch, cl);

/**
 * rfid — MSR ← SRR1 (HV, ME, S, TS, TM unchanged from a non-hypervisor state; EE, IR, DR forced to 1
 * when PR = 1); NIA ← SRR0 0:61 || 0b00
 */
export const rfid: Exec = (c, _i, ch, cl) => {
  const r = c.r;
  if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  const keepHi = Msr.HV | Msr.TM_BITS;
  const keepLo = Msr.ME | Msr.S;
  const hi = (r[R.SRR1] & ~keepHi) | (r[R.MSR] & keepHi);
  let lo = (r[R.SRR1 + 1] & ~keepLo) | (r[R.MSR + 1] & keepLo);
  if ((lo & Msr.PR) !== 0) lo |= Msr.EE | Msr.IR | Msr.DR;
  c.tHi = (hi & Msr.SF) !== 0 ? r[R.SRR0] : 0;
  c.tLo = r[R.SRR0 + 1] & ~3;
  r[R.MSR] = hi;
  r[R.MSR + 1] = lo;
  return Step.JUMP;
};

/** hrfid — hypervisor-privileged: program interrupt in problem state, HEAI otherwise */
export const hrfid: Exec = (c, i, ch, cl) =>
  c.problemState() ? program(c, ProgramCause.PRIVILEGED, ch, cl) : hvEmulation(c, i, ch, cl, HEAI_PRIVILEGED);

/** mfmsr RT — RT ← MSR */
export const mfmsr: Exec = (c, i, ch, cl) => {
  const r = c.r;
  if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  const t = 2 * rt(i);
  r[t] = r[R.MSR];
  r[t + 1] = r[R.MSR + 1];
  return Step.NEXT;
};

/** The low MSR word mtmsr/mtmsrd L = 0 produce: ME and S kept, PR = 1 forces EE, IR, DR. */
function msrLowFrom(r: Int32Array, v: number): number {
  const keep = Msr.ME | Msr.S;
  let lo = (v & ~keep) | (r[R.MSR + 1] & keep);
  if ((lo & Msr.PR) !== 0) lo |= Msr.EE | Msr.IR | Msr.DR;
  return lo;
}

/** mtmsrd RS,L — L = 0: MSR ← (RS) but HV, ME, S, TS, TM; L = 1: MSR[EE, RI] ← (RS)[EE, RI] */
export const mtmsrd: Exec = (c, i, ch, cl) => {
  const r = c.r;
  if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  const s = 2 * rt(i);
  if ((i >>> 16) & 1) {
    const m = Msr.EE | Msr.RI;
    r[R.MSR + 1] = (r[R.MSR + 1] & ~m) | (r[s + 1] & m);
  } else {
    const keepHi = Msr.HV | Msr.TM_BITS;
    r[R.MSR] = (r[s] & ~keepHi) | (r[R.MSR] & keepHi);
    r[R.MSR + 1] = msrLowFrom(r, r[s + 1]);
  }
  return Step.SYNC;
};

/** mtmsr RS,L — L = 0: MSR32:63 ← (RS)32:63 but ME, S; L = 1: MSR[EE, RI] ← (RS)[EE, RI] */
export const mtmsr: Exec = (c, i, ch, cl) => {
  const r = c.r;
  if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  const s = 2 * rt(i);
  if ((i >>> 16) & 1) {
    const m = Msr.EE | Msr.RI;
    r[R.MSR + 1] = (r[R.MSR + 1] & ~m) | (r[s + 1] & m);
  } else {
    r[R.MSR + 1] = msrLowFrom(r, r[s + 1]);
  }
  return Step.SYNC;
};

/** Live value of a counter SPR: the stored value plus what the current run added so far. */
function counterNow(c: Cpu, at: number): void {
  const add = l1Now(c) - c.runStartTb;
  const s = (c.r[at + 1] >>> 0) + add;
  P[2] = (c.r[at] + Math.floor(s / 4294967296)) | 0;
  P[3] = s | 0;
}

/** mfspr RT,SPR — RT ← SPR(n), n = spr5:9 || spr0:4 */
export const mfspr: Exec = (c, i, ch, cl) => {
  const r = c.r;
  const n = spr(i);
  const pr = c.problemState();
  if (pr && (n & 0x10) !== 0) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  const d = SPRS[n];
  if (d === undefined || d.read === Level.NONE) return hvEmulation(c, i, ch, cl);
  if (d.read === Level.HV) return hvEmulation(c, i, ch, cl, HEAI_PRIVILEGED);
  if (d.facility >= 0) {
    const st = facilityCheck(c, d.facility, ch, cl);
    if (st >= 0) return st;
  }
  let hi = 0;
  let lo = 0;
  switch (d.kind) {
    case Kind.DWORD:
      hi = r[d.at];
      lo = r[d.at + 1];
      break;
    case Kind.WORD:
      lo = r[d.at];
      break;
    case Kind.HIGH:
      lo = r[d.at];
      break;
    case Kind.XER:
      hi = r[R.XER];
      lo = c.vcpu.xerLow();
      break;
    case Kind.DEC:
      readDec(c);
      hi = P[2];
      lo = P[3];
      break;
    case Kind.TB:
      l2Tb(c);
      hi = P[2];
      lo = P[3];
      break;
    case Kind.TBU:
      l2Tb(c);
      lo = P[2];
      break;
    case Kind.COUNTER:
      counterNow(c, d.at);
      hi = P[2];
      lo = P[3];
      break;
  }
  const t = 2 * rt(i);
  r[t] = hi;
  r[t + 1] = lo;
  return Step.NEXT;
};

/** mtspr SPR,RS — SPR(n) ← (RS) (a 32-bit SPR takes (RS)32:63) */
export const mtspr: Exec = (c, i, ch, cl) => {
  const r = c.r;
  const n = spr(i);
  const pr = c.problemState();
  if (pr && (n & 0x10) !== 0) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  const d = SPRS[n];
  if (d === undefined || d.write === Level.NONE) return hvEmulation(c, i, ch, cl);
  if (d.write === Level.HV) return hvEmulation(c, i, ch, cl, HEAI_PRIVILEGED);
  if (d.facility >= 0) {
    const st = facilityCheck(c, d.facility, ch, cl);
    if (st >= 0) return st;
  }
  const s = 2 * rt(i);
  const hi = r[s];
  const lo = r[s + 1];
  switch (d.kind) {
    case Kind.DWORD:
      if (n === 13 && pr) {
        // Problem-state AMR writes change only the bits UAMOR allows (Book III §5.7.13.2).
        r[d.at] = (r[d.at] & ~r[R.UAMOR]) | (hi & r[R.UAMOR]);
        r[d.at + 1] = (r[d.at + 1] & ~r[R.UAMOR + 1]) | (lo & r[R.UAMOR + 1]);
      } else {
        r[d.at] = hi;
        r[d.at + 1] = lo;
      }
      break;
    case Kind.WORD:
      r[d.at] = lo;
      if (d.at === R.PIDR) c.m.flush(); // cached EA translations depend on the PID
      break;
    case Kind.HIGH:
      r[d.at] = lo;
      break;
    case Kind.XER: {
      const v = lo & XER_DEFINED;
      r[R.XER] = 0;
      c.vcpu.setXerLow(v);
      break;
    }
    case Kind.DEC:
      writeDec(c, hi, lo);
      return Step.SYNC; // the decrementer deadline moved
  }
  return Step.NEXT;
};

/** mflr RT — RT ← LR (mfspr RT,8) */
export const mflr: Exec = (c, i) => {
  const r = c.r;
  const t = 2 * rt(i);
  r[t] = r[R.LR];
  r[t + 1] = r[R.LR + 1];
  return Step.NEXT;
};

/** mtlr RS — LR ← (RS) (mtspr 8,RS) */
export const mtlr: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  r[R.LR] = r[s];
  r[R.LR + 1] = r[s + 1];
  return Step.NEXT;
};

/** mfctr RT — RT ← CTR (mfspr RT,9) */
export const mfctr: Exec = (c, i) => {
  const r = c.r;
  const t = 2 * rt(i);
  r[t] = r[R.CTR];
  r[t + 1] = r[R.CTR + 1];
  return Step.NEXT;
};

/** mtctr RS — CTR ← (RS) (mtspr 9,RS) */
export const mtctr: Exec = (c, i) => {
  const r = c.r;
  const s = 2 * rt(i);
  r[R.CTR] = r[s];
  r[R.CTR + 1] = r[s + 1];
  return Step.NEXT;
};

/** mftb RT,TBR — RT ← TB (TBR 268) or (32)0 || TBU (TBR 269) */
export const mftb: Exec = (c, i, ch, cl) => {
  const n = spr(i);
  if (n !== 268 && n !== 269) return hvEmulation(c, i, ch, cl);
  l2Tb(c);
  const t = 2 * rt(i);
  c.r[t] = n === 268 ? P[2] : 0;
  c.r[t + 1] = n === 268 ? P[3] : P[2];
  return Step.NEXT;
};

/** The TO test of the traps: bits 16 (<s), 8 (>s), 4 (=), 2 (<u), 1 (>u). */
function trapWhen(to: number, ahi: number, alo: number, bhi: number, blo: number): boolean {
  const eq = ahi === bhi && alo === blo;
  const ltS = ahi < bhi || (ahi === bhi && alo >>> 0 < blo >>> 0);
  const ltU = ahi >>> 0 < bhi >>> 0 || (ahi === bhi && alo >>> 0 < blo >>> 0);
  return (
    ((to & 16) !== 0 && ltS) ||
    ((to & 8) !== 0 && !ltS && !eq) ||
    ((to & 4) !== 0 && eq) ||
    ((to & 2) !== 0 && ltU) ||
    ((to & 1) !== 0 && !ltU && !eq)
  );
}

/** tw TO,RA,RB — if (RA)32:63 TO (RB)32:63 then program interrupt (trap) */
export const tw: Exec = (c, i, ch, cl) => {
  const x = c.r[2 * ra(i) + 1];
  const y = c.r[2 * rb(i) + 1];
  return trapWhen(rt(i), x >> 31, x, y >> 31, y) ? program(c, ProgramCause.TRAP, ch, cl) : Step.NEXT;
};

/** twi TO,RA,SI — if (RA)32:63 TO EXTS(SI) then program interrupt (trap) */
export const twi: Exec = (c, i, ch, cl) => {
  const x = c.r[2 * ra(i) + 1];
  const y = si(i);
  return trapWhen(rt(i), x >> 31, x, y >> 31, y) ? program(c, ProgramCause.TRAP, ch, cl) : Step.NEXT;
};

/** td TO,RA,RB — if (RA) TO (RB) then program interrupt (trap) */
export const td: Exec = (c, i, ch, cl) => {
  const r = c.r;
  const a = 2 * ra(i);
  const b = 2 * rb(i);
  return trapWhen(rt(i), r[a], r[a + 1], r[b], r[b + 1]) ? program(c, ProgramCause.TRAP, ch, cl) : Step.NEXT;
};

/** tdi TO,RA,SI — if (RA) TO EXTS(SI) then program interrupt (trap) */
export const tdi: Exec = (c, i, ch, cl) => {
  const r = c.r;
  const a = 2 * ra(i);
  const y = si(i);
  return trapWhen(rt(i), r[a], r[a + 1], y >> 31, y) ? program(c, ProgramCause.TRAP, ch, cl) : Step.NEXT;
};

/**
 * tlbie RB,RS,RIC,PRS,R / tlbiel — invalidate translations. Process-scoped (PRS = 1) invalidation
 * is the guest's own business (tlbie needs LPCR[GTSE]); nestsim drops every cached EA translation.
 * Partition-scoped invalidation is hypervisor-privileged: HEAI.
 */
const tlbInvalidate =
  (global: boolean): Exec =>
  (c, i, ch, cl) => {
    if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
    const prs = (i >>> 17) & 1;
    if (prs === 0 || (global && (c.r[R.LPCR + 1] & LPCR_GTSE) === 0))
      return hvEmulation(c, i, ch, cl, HEAI_PRIVILEGED);
    c.m.flush();
    return Step.NEXT;
  };

/** tlbie RB,RS,RIC,PRS,R — invalidate a TLB entry in every processor */
export const tlbie = tlbInvalidate(true);
/** tlbiel RB,RS,RIC,PRS,R — invalidate a TLB entry in this processor */
export const tlbiel = tlbInvalidate(false);

/** attn — support-processor attention: hypervisor level, HEAI from a guest */
export const attn: Exec = (c, i, ch, cl) => hvEmulation(c, i, ch, cl, HEAI_PRIVILEGED);

/** Any instruction nestsim does not execute: HEAI exit with the image in HEIR (L1 emulates or refuses). */
export const illegal: Exec = (c, i, ch, cl) => hvEmulation(c, i, ch, cl);

/**
 * Floating-point instructions (not executed): MSR[FP] = 0 → FP unavailable in the guest (0x800),
 * HFSCR[FP] = 0 → exit 0xF80, otherwise HEAI.
 */
export const fpInsn: Exec = (c, i, ch, cl) => {
  if ((c.r[R.MSR + 1] & Msr.FP) === 0) return unitUnavailable(c, Vector.FP_UNAVAILABLE, ch, cl);
  if ((c.r[R.HFSCR + 1] & (1 << Facility.FP)) === 0) return hvFacility(c, Facility.FP, ch, cl);
  return hvEmulation(c, i, ch, cl);
};

/** Vector (VMX) instructions (not executed): MSR[VEC] = 0 → 0xF20, HFSCR[VECVSX] = 0 → 0xF80, else HEAI. */
export const vmxInsn: Exec = (c, i, ch, cl) => {
  if ((c.r[R.MSR + 1] & Msr.VEC) === 0) return unitUnavailable(c, Vector.VMX_UNAVAILABLE, ch, cl);
  if ((c.r[R.HFSCR + 1] & (1 << Facility.VECVSX)) === 0) return hvFacility(c, Facility.VECVSX, ch, cl);
  return hvEmulation(c, i, ch, cl);
};

/** VSX instructions (not executed): MSR[VSX] = 0 → 0xF40, HFSCR[VECVSX] = 0 → 0xF80, else HEAI. */
export const vsxInsn: Exec = (c, i, ch, cl) => {
  if ((c.r[R.MSR + 1] & Msr.VSX) === 0) return unitUnavailable(c, Vector.VSX_UNAVAILABLE, ch, cl);
  if ((c.r[R.HFSCR + 1] & (1 << Facility.VECVSX)) === 0) return hvFacility(c, Facility.VECVSX, ch, cl);
  return hvEmulation(c, i, ch, cl);
};

/** Message type of a directed privileged doorbell (RB 32:36) and the thread field (RB 57:63). */
const MSG_DPDES = 5;

/**
 * The thread a msgsndp/msgclrp names, when it is a privileged doorbell for a thread of this
 * vCPU's (one-thread) core: 0, or −1 (another type, or a thread the core does not have: no-op).
 */
function doorbellThread(r: Int32Array, i: number): number {
  const lo = r[2 * rb(i) + 1]!;
  if (((lo >>> 27) & 0x1f) !== MSG_DPDES) return -1;
  return (lo & 0x7f) === 0 ? 0 : -1;
}

/**
 * msgsndp RB — directed privileged doorbell to a thread of this core: DPDES[thread] ← 1.
 * Privileged; with HFSCR[MSGP] = 0 the hypervisor emulates it (exit 0xF80), which is how an L1
 * gives SMT siblings doorbells when they run as separate vCPUs.
 */
export const msgsndp: Exec = (c, i, ch, cl) => {
  const r = c.r;
  if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  if ((r[R.HFSCR + 1] & (1 << Facility.MSGP)) === 0) return hvFacility(c, Facility.MSGP, ch, cl);
  if (doorbellThread(r, i) === 0) r[R.DPDES + 1] |= 1;
  return Step.SYNC; // the doorbell may be taken at once
};

/** msgclrp RB — DPDES[thread] ← 0 (privileged; HFSCR[MSGP] = 0: emulated, exit 0xF80). */
export const msgclrp: Exec = (c, i, ch, cl) => {
  const r = c.r;
  if (c.problemState()) return program(c, ProgramCause.PRIVILEGED, ch, cl);
  if ((r[R.HFSCR + 1] & (1 << Facility.MSGP)) === 0) return hvFacility(c, Facility.MSGP, ch, cl);
  if (doorbellThread(r, i) === 0) r[R.DPDES + 1] &= ~1;
  return Step.NEXT;
};

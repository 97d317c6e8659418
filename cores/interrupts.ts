/**
 * Interrupts of the L2 guest (Book III §6.5, spec §11.6 and §16). The core always runs an L2
 * (MSR[HV] = 0), so every interrupt falls in one of two groups:
 *
 * - guest interrupts (new MSR[HV] = 0: system call LEV 0, DSI/ISI, alignment, program, FP/VMX/VSX/
 *   facility unavailable, decrementer, external): delivered inside L2 — SRR0 ← address,
 *   SRR1 ← MSR with bits 33:36 and 42:47 replaced by the interrupt's cause bits, new MSR with SF = 1,
 *   HV, ME and S unchanged, LE = LPCR[ILE], everything else 0, and NIA ← vector; with LPCR[AIL] = 2/3
 *   and the old MSR[IR] = MSR[DR] = 1 the vector moves to 0x18000 + v / 0xC000_0000_0000_4000 + v
 *   and relocation stays on (never for system reset and machine check);
 * - hypervisor interrupts (new MSR[HV] = 1: `sc 1`, HDSI, HISI, HEAI, HDEC, hypervisor facility
 *   unavailable, machine check): the run stops and L1 gets an exit. The vCPU keeps the state L0
 *   needs (spec §5.6, §10.5): NIA and MSR as the interrupt saved them (HSRR0/HSRR1, or SRR0/SRR1
 *   for `sc` and machine check — those registers of the L2 are written, as on hardware), and the
 *   registers that go with the vector (HDAR/HDSISR/ASDR, HEIR, HFSCR[IC]).
 *
 * Each function returns the Step the semantic function must return.
 */
import { Vector } from '../hypervisor/papr.js';
import { type Cpu, Lpcr, Msr, Step } from './isa/cpu.js';
import { Access, Fault } from './mmu.js';
import { decExpiry } from './timebase.js';
import { Pending, R } from './vcpu.js';

/** SRR1 bits 33:36 and 42:47: replaced by cause bits, never copied from the MSR. */
const SRR1_CAUSE_MASK = 0x783f_0000;

/** Program interrupt causes in SRR1 (Book III §6.5.9). */
export const ProgramCause = {
  FP: 0x0010_0000,
  ILLEGAL: 0x0008_0000,
  PRIVILEGED: 0x0004_0000,
  TRAP: 0x0002_0000,
} as const;

/** HSRR1 bit 45 on an HEAI caused by a hypervisor-privileged instruction or register. */
export const HEAI_PRIVILEGED = 0x0004_0000;

/**
 * Delivers a guest interrupt: SRR0/SRR1, new MSR, NIA ← vector (in `c.tHi/c.tLo`).
 * `srr0` is the address the interrupt saves (the instruction, or the next one).
 */
export function deliver(c: Cpu, vector: number, srr0Hi: number, srr0Lo: number, cause: number): void {
  const r = c.r;
  const msrHi = r[R.MSR];
  const msrLo = r[R.MSR + 1];
  r[R.SRR0] = srr0Hi;
  r[R.SRR0 + 1] = srr0Lo;
  r[R.SRR1] = msrHi;
  r[R.SRR1 + 1] = (msrLo & ~SRR1_CAUSE_MASK) | (cause & SRR1_CAUSE_MASK);
  let newLo = (msrLo & (Msr.ME | Msr.S)) | ((r[R.LPCR + 1] & Lpcr.ILE) !== 0 ? Msr.LE : 0);
  r[R.MSR] = (msrHi & Msr.HV) | Msr.SF;
  const ail = (r[R.LPCR + 1] & Lpcr.AIL_MASK) >>> Lpcr.AIL_SHIFT;
  const relocated = (msrLo & (Msr.IR | Msr.DR)) === (Msr.IR | Msr.DR);
  if (ail >= 2 && relocated && vector !== Vector.SYSTEM_RESET && vector !== Vector.MACHINE_CHECK) {
    newLo |= Msr.IR | Msr.DR;
    if (ail === 2) {
      c.tHi = 0;
      c.tLo = 0x1_8000 + vector;
    } else {
      c.tHi = 0xc000_0000 | 0;
      c.tLo = 0x4000 + vector;
    }
  } else {
    c.tHi = 0;
    c.tLo = vector;
  }
  r[R.MSR + 1] = newLo;
}

/** Program interrupt (0x700) for the instruction at CIA with `cause` in SRR1. */
export function program(c: Cpu, cause: number, ciaHi: number, ciaLo: number): number {
  deliver(c, Vector.PROGRAM, ciaHi, ciaLo, cause);
  return Step.INTERRUPT;
}

/**
 * Ends the run with hypervisor interrupt `vector`. NIA to resume at goes to `c.t` (the run loop
 * stores it in the vCPU), HSRR0/HSRR1 are written as the interrupt would, and the exit record gets
 * HSRR1 with its cause bits. `retired` is Step.EXIT or Step.EXIT_RETIRED.
 */
export function hvExit(
  c: Cpu,
  vector: number,
  niaHi: number,
  niaLo: number,
  cause: number,
  step: number = Step.EXIT,
): number {
  const r = c.r;
  c.tHi = niaHi;
  c.tLo = niaLo;
  c.exitVector = vector;
  c.exitSrr1Hi = r[R.MSR];
  c.exitSrr1Lo = (r[R.MSR + 1] & ~SRR1_CAUSE_MASK) | (cause & SRR1_CAUSE_MASK);
  r[R.HSRR0] = niaHi;
  r[R.HSRR0 + 1] = niaLo;
  r[R.HSRR1] = c.exitSrr1Hi;
  r[R.HSRR1 + 1] = c.exitSrr1Lo;
  return step;
}

/**
 * Hypervisor emulation assistance (0xE40): an instruction the L2 may not execute, or one nestsim
 * does not implement. HEIR ← the instruction image (bits 32:63), NIA ← the instruction.
 */
export function hvEmulation(c: Cpu, insn: number, ciaHi: number, ciaLo: number, cause = 0): number {
  const r = c.r;
  r[R.HEIR] = 0;
  r[R.HEIR + 1] = insn;
  return hvExit(c, Vector.HV_EMULATION_ASSIST, ciaHi, ciaLo, cause);
}

/** Hypervisor facility unavailable (0xF80): HFSCR[IC] (bits 0:7) ← facility, NIA ← the instruction. */
export function hvFacility(c: Cpu, facility: number, ciaHi: number, ciaLo: number): number {
  const r = c.r;
  r[R.HFSCR] = (r[R.HFSCR] & 0x00ff_ffff) | (facility << 24);
  return hvExit(c, Vector.HV_FACILITY_UNAVAILABLE, ciaHi, ciaLo, 0);
}

/** Facility unavailable in the guest (0xF60): FSCR[IC] ← facility, SRR0 ← the instruction. */
export function facilityUnavailable(c: Cpu, facility: number, ciaHi: number, ciaLo: number): number {
  const r = c.r;
  r[R.FSCR] = (r[R.FSCR] & 0x00ff_ffff) | (facility << 24);
  deliver(c, Vector.FACILITY_UNAVAILABLE, ciaHi, ciaLo, 0);
  return Step.INTERRUPT;
}

/** FP / VMX / VSX unavailable in the guest (0x800 / 0xF20 / 0xF40), SRR0 ← the instruction. */
export function unitUnavailable(c: Cpu, vector: number, ciaHi: number, ciaLo: number): number {
  deliver(c, vector, ciaHi, ciaLo, 0);
  return Step.INTERRUPT;
}

/**
 * System call. LEV 0 is the guest's own (0xC00 in L2, SRR0 ← CIA + 4, retired); LEV 1 is an hcall:
 * exit 0xC00 with SRR0/SRR1 written as the hardware does and NIA ← CIA + 4. Other levels are
 * reserved (LEV 2 is the ultravisor): an HEAI exit lets L1 decide.
 */
export function systemCall(c: Cpu, lev: number, insn: number, ciaHi: number, ciaLo: number): number {
  const nlo = (ciaLo + 4) | 0;
  const nhi = nlo === 0 ? (ciaHi + 1) | 0 : ciaHi;
  if (lev === 0) {
    deliver(c, Vector.SYSTEM_CALL, nhi, nlo, 0);
    return Step.JUMP;
  }
  if (lev !== 1) return hvEmulation(c, insn, ciaHi, ciaLo);
  const r = c.r;
  r[R.SRR0] = nhi;
  r[R.SRR0 + 1] = nlo;
  r[R.SRR1] = r[R.MSR];
  r[R.SRR1 + 1] = r[R.MSR + 1] & ~SRR1_CAUSE_MASK;
  return hvExit(c, Vector.SYSTEM_CALL, nhi, nlo, 0, Step.EXIT_RETIRED);
}

/**
 * Turns the data-access fault recorded in `c.m` into its interrupt (the instruction at CIA does not
 * retire) and clears it.
 */
export function storageFault(c: Cpu, ciaHi: number, ciaLo: number, insn: number): number {
  const m = c.m;
  const r = c.r;
  const kind = m.faulted;
  m.faulted = Fault.NONE;
  const store = m.fAccess === Access.WRITE ? 0x0200_0000 : 0;
  switch (kind) {
    case Fault.PARTITION:
      r[R.HDAR] = m.fEaHi;
      r[R.HDAR + 1] = m.fEaLo;
      r[R.HDSISR] = m.fCause | store;
      setAsdr(r, m.fL2ra);
      return hvExit(c, Vector.HV_DATA_STORAGE, ciaHi, ciaLo, 0);
    case Fault.PROCESS:
      r[R.DAR] = m.fEaHi;
      r[R.DAR + 1] = m.fEaLo;
      r[R.DSISR] = m.fCause | store;
      deliver(c, Vector.DATA_STORAGE, ciaHi, ciaLo, 0);
      return Step.INTERRUPT;
    case Fault.ALIGNMENT:
      r[R.DAR] = m.fEaHi;
      r[R.DAR + 1] = m.fEaLo;
      deliver(c, Vector.ALIGNMENT, ciaHi, ciaLo, 0);
      return Step.INTERRUPT;
    case Fault.MACHINE_CHECK:
      return machineCheck(c, ciaHi, ciaLo);
    default:
      return hvEmulation(c, insn, ciaHi, ciaLo);
  }
}

/**
 * Turns an instruction-fetch fault recorded in `c.m` into its interrupt: HISI (0xE20, ASDR, cause
 * bits in HSRR1), ISI (0x400, cause bits in SRR1), or a machine check. `insn` is 0: nothing was
 * fetched, so an unsupported-translation fetch reports HEIR = 0.
 */
export function fetchFault(c: Cpu, niaHi: number, niaLo: number): number {
  const m = c.m;
  const kind = m.faulted;
  m.faulted = Fault.NONE;
  switch (kind) {
    case Fault.PARTITION:
      setAsdr(c.r, m.fL2ra);
      return hvExit(c, Vector.HV_INSTRUCTION_STORAGE, niaHi, niaLo, m.fCause);
    case Fault.PROCESS:
      deliver(c, Vector.INSTRUCTION_STORAGE, niaHi, niaLo, m.fCause);
      return Step.INTERRUPT;
    case Fault.MACHINE_CHECK:
      return machineCheck(c, niaHi, niaLo);
    default:
      return hvEmulation(c, 0, niaHi, niaLo);
  }
}

/**
 * Machine check (0x200) for an access to L1 real memory that does not exist: a hypervisor
 * interrupt (spec §11.6) that saves NIA/MSR in SRR0/SRR1.
 */
function machineCheck(c: Cpu, hi: number, lo: number): number {
  const r = c.r;
  r[R.SRR0] = hi;
  r[R.SRR0 + 1] = lo;
  r[R.SRR1] = r[R.MSR];
  r[R.SRR1 + 1] = r[R.MSR + 1] & ~SRR1_CAUSE_MASK;
  return hvExit(c, Vector.MACHINE_CHECK, hi, lo, 0);
}

/** ASDR ← the guest real address that failed (a safe integer below 2^53). */
function setAsdr(r: Int32Array, l2ra: number): void {
  r[R.ASDR] = Math.floor(l2ra / 4294967296) | 0;
  r[R.ASDR + 1] = l2ra | 0;
}

/**
 * Delivers the highest-priority pending asynchronous guest interrupt at a check point, before the
 * instruction at (hi, lo): a system reset L0 made pending (not maskable), then, with MSR[EE] = 1,
 * an external interrupt (L0's RUN_VCPU flag, or LPCR[MER]), the decrementer (DEC negative), a
 * privileged doorbell (L0's RUN_VCPU flag, or DPDES bit 0). Returns true when one was delivered (NIA is then in `c.tHi/c.tLo`).
 */
export function pendingInterrupt(c: Cpu, now: number, hi: number, lo: number): boolean {
  const r = c.r;
  const pend = r[R.PENDING];
  if ((pend & Pending.SYSTEM_RESET) !== 0) {
    r[R.PENDING] = pend & ~Pending.SYSTEM_RESET;
    deliver(c, Vector.SYSTEM_RESET, hi, lo, 0);
    return true;
  }
  if ((r[R.MSR + 1] & Msr.EE) === 0) return false;
  if ((pend & Pending.EXTERNAL) !== 0 || (r[R.LPCR + 1] & Lpcr.MER) !== 0) {
    r[R.PENDING] = pend & ~Pending.EXTERNAL;
    deliver(c, Vector.EXTERNAL, hi, lo, 0);
    return true;
  }
  if (now > decExpiry(r)) {
    deliver(c, Vector.DECREMENTER, hi, lo, 0);
    return true;
  }
  // A doorbell L0 made pending (run flag, one shot), or DPDES[0] set: pending until msgclrp.
  if ((pend & Pending.DOORBELL) !== 0 || (r[R.DPDES + 1] & 1) !== 0) {
    r[R.PENDING] = pend & ~Pending.DOORBELL;
    deliver(c, Vector.DOORBELL, hi, lo, 0);
    return true;
  }
  return false;
}

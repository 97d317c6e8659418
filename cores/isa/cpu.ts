/**
 * What instruction semantics see: the vCPU's register words (the canonical area in shared memory,
 * cores/vcpu.ts), the memory path (cores/mmu.ts) and a few per-core scratch fields through which a
 * semantic function hands a branch target, a time query or an exit back to the run loop.
 *
 * Every semantic function is an `Exec`: it gets the raw instruction word and the address it was
 * fetched from (CIA, as a hi/lo pair), does its work on `c`, and returns a `Step` telling the run
 * loop what happens next. Architected outcomes (interrupts, exits) are return values, never throws.
 */
import type { Mmu } from '../mmu.js';
import { R, type Vcpu } from '../vcpu.js';

/** What the run loop does after an instruction. */
export const Step = {
  /** Retired; continue at CIA + 4. */
  NEXT: 0,
  /** Retired; continue at the target in `c.tHi/c.tLo`. */
  BRANCH: 1,
  /** Retired; continue at CIA + 4 after re-reading MSR-derived state, time and code caches. */
  SYNC: 2,
  /** Retired; continue at `c.tHi/c.tLo` after re-reading MSR-derived state (rfid, sc 0). */
  JUMP: 3,
  /** Not retired: a guest interrupt was delivered; continue at its vector in `c.tHi/c.tLo`. */
  INTERRUPT: 4,
  /** Not retired: the run ends with a hypervisor exit; the vCPU state is saved. */
  EXIT: 5,
  /** Retired, then the run ends with a hypervisor exit (sc 1). */
  EXIT_RETIRED: 6,
} as const;

/** A semantic function: one per instruction (or per family of identical forms). */
export type Exec = (c: Cpu, i: number, ciaHi: number, ciaLo: number) => number;

/** MSR bits, by word of the 64-bit MSR (Book III §4.2.1; IBM bit n is LSB bit 63 − n). */
export const Msr = {
  /** High word. */
  SF: 0x8000_0000 | 0,
  HV: 0x1000_0000,
  /** TS (bits 29:30) and TM (bit 31). */
  TM_BITS: 0x7,
  /** Low word. */
  VEC: 0x0200_0000,
  VSX: 0x0080_0000,
  S: 0x0040_0000,
  EE: 0x8000,
  PR: 0x4000,
  FP: 0x2000,
  ME: 0x1000,
  FE0: 0x800,
  SE: 0x400,
  BE: 0x200,
  FE1: 0x100,
  IR: 0x20,
  DR: 0x10,
  PMM: 0x4,
  RI: 0x2,
  LE: 0x1,
} as const;

/** LPCR bits used by the core (low word; spec §10.3). */
export const Lpcr = {
  ILE: 0x0200_0000,
  /** AIL field, bits 39:40. */
  AIL_MASK: 0x0180_0000,
  AIL_SHIFT: 23,
  LD: 0x0002_0000,
  MER: 0x0800,
} as const;

/** HFSCR / FSCR facility numbers (bit 63 − n; the interrupt cause goes to bits 0:7). */
export const Facility = {
  FP: 0,
  VECVSX: 1,
  DSCR: 2,
  PM: 3,
  BHRB: 4,
  TM: 5,
  EBB: 7,
  TAR: 8,
  MSGP: 10,
} as const;

/** One core's execution state, shared by every semantic function. */
export class Cpu {
  /** The running vCPU's register words (cores/vcpu.ts layout). */
  r: Int32Array;
  vcpu: Vcpu;
  /** Branch / jump / interrupt target. */
  tHi = 0;
  tLo = 0;

  /** L1 timebase at the start of the current chunk of instructions (see cores/timebase.ts). */
  tbBase = 0;
  /** Instructions the current chunk was allowed to run. */
  chunk = 0;
  /** Instructions left in the chunk when the current slow-path instruction started. */
  left = 0;
  /** L1 timebase when the current run started (counter SPRs add what the run retired so far). */
  runStartTb = 0;

  /** Load reservation: L1 real address (-1 = none), size in bytes, and the value loaded. */
  resAddr = -1;
  /** Test-only mutant (L0Config.mutants): stcx. succeeds without a valid reservation. */
  stcxWithoutReservation = false;
  resSize = 0;
  resHi = 0;
  resLo = 0;

  /** The exit being taken (valid after Step.EXIT / EXIT_RETIRED). */
  exitVector = 0;
  /** HSRR1 (or SRR1) as the hypervisor interrupt would have set it, with its cause bits. */
  exitSrr1Hi = 0;
  exitSrr1Lo = 0;

  /** Set by instructions that invalidate cached code (icbi, isync after a foreign icbi). */
  codeSyncRequested = false;

  constructor(
    vcpu: Vcpu,
    readonly m: Mmu,
  ) {
    this.vcpu = vcpu;
    this.r = vcpu.w;
  }

  /** Switches to another vCPU's register area. */
  attach(vcpu: Vcpu): void {
    this.vcpu = vcpu;
    this.r = vcpu.w;
  }

  /** True in problem state (MSR[PR] = 1). */
  problemState(): boolean {
    return (this.r[R.MSR + 1] & Msr.PR) !== 0;
  }

  /** Instructions retired so far in the current chunk (valid inside slow-path semantics). */
  retiredInChunk(): number {
    return this.chunk - this.left;
  }
}

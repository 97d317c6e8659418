/**
 * L1's virtual interrupt source for one L2 vCPU, delivered the way Linux's nestedv2 L1 does it:
 * no injection by L0, but LPCR[MER] (mediated external exception request) in the L2's LPCR, set
 * while an interrupt is pending and cleared once none is. With MER set and MSR[EE] = 1 the core
 * gives the L2 an external interrupt (0x500) at once; the L2's handler asks L1 which one with
 * H_XIRR (a one-source XICS), which takes it. L0 holds the canonical LPCR: L1 sends a new value
 * (v2: the LPCR element of the next run input; v1: the hv_guest_state field) only when MER must
 * change, and builds it from its own copy of the LPCR with MER masked off first.
 *
 * Two real L1 bugs are test-only switches (IrqBug): the MER flood (a refresh copied the LPCR it
 * read back from L0, MER included, and L1 sent that copy unmasked: MER stays set with nothing
 * pending, so the L2 takes interrupt after interrupt; Linux "Mask off LPCR_MER for a vCPU before
 * running it") and MER never passed to L0 (L1 changed its copy but did not send it: pending
 * interrupts are never taken; Linux "nestedv2: Ensure LPCR_MER bit is passed to the L0").
 *
 * State lives in the loop's words of the loop table (it moves with the loop between cores);
 * only the loop's runner touches it.
 */
import type { LoopTable } from './loop-table.js';
import { L } from './loop-table.js';
import type { NestedVcpu } from './nested-vcpu.js';

/** LPCR[MER] (low word). */
export const LPCR_MER = 0x800;

/** XISR of L1's one virtual source (any non-zero 24-bit value; 0 means "none pending"). */
export const VIRQ_SOURCE = 0x1000;

/** Test-only L1 bugs (L.IRQ_FLAGS bits). */
export const IrqBug = {
  /** The LPCR sent is L1's copy with MER or-ed in, not masked off first (the MER flood). */
  MER_UNMASKED: 1,
  /** L1 updates its idea of MER but never sends the LPCR (the interrupt is never seen). */
  MER_NOT_PASSED: 2,
} as const;

/**
 * H_XIRR exits in a row, with no other exit between, after which L1 calls the vCPU flooded and
 * stops it: the L2 only takes interrupts (its time slices never end), it makes no progress.
 */
export const FLOOD_LIMIT = 256;

/** What `accept` answers the L2's H_XIRR with, and what it says about the flood. */
export interface XirrAnswer {
  xirr: number;
  /** Set once FLOOD_LIMIT interrupts came in a row with no other exit: no progress. */
  flooded: boolean;
}

/** The virtual interrupt words of loop-table entry `e`. */
export class VirtualIrq {
  private readonly w: Int32Array;
  private readonly b: number;

  constructor(table: LoopTable, e: number) {
    this.w = table.w;
    this.b = table.at(e, 0);
  }

  private get(f: number): number {
    return this.w[this.b + f]!;
  }

  private set(f: number, v: number): void {
    this.w[this.b + f] = v;
  }

  get raised(): number {
    return this.get(L.IRQ_RAISED);
  }
  get taken(): number {
    return this.get(L.IRQ_TAKEN);
  }
  get spurious(): number {
    return this.get(L.IRQ_SPURIOUS);
  }
  get pending(): number {
    return this.raised - this.taken;
  }

  /** A device of L1's raises the interrupt for this vCPU once more. */
  raise(): void {
    this.set(L.IRQ_RAISED, this.raised + 1);
  }

  /** L2's H_XIRR: takes the pending interrupt (XIRR = CPPR 0xff, the source) or answers none. */
  accept(): XirrAnswer {
    const run = this.get(L.IRQ_RUN) + 1;
    this.set(L.IRQ_RUN, run);
    const flooded = run >= FLOOD_LIMIT;
    if (this.pending > 0) {
      this.set(L.IRQ_TAKEN, this.taken + 1);
      return { xirr: (0xff00_0000 | VIRQ_SOURCE) >>> 0, flooded };
    }
    this.set(L.IRQ_SPURIOUS, this.spurious + 1);
    return { xirr: 0, flooded };
  }

  /** The vCPU exited for anything but H_XIRR: it ran, the run of interrupts is over. */
  progress(): void {
    this.set(L.IRQ_RUN, 0);
  }

  /** L1's copy of the LPCR after a refresh read it back from L0 (MER as L0 had it). */
  copyLpcr(hi: number, lo: number): void {
    this.set(L.LPCR_HI, hi);
    this.set(L.LPCR_LO, lo);
  }

  /** Before an entry: sends the LPCR when MER must change (pending ⇔ MER). */
  sync(vcpu: NestedVcpu): void {
    const want = this.pending > 0 ? LPCR_MER : 0;
    if (want === this.get(L.MER_SENT)) return;
    this.set(L.MER_SENT, want);
    const bugs = this.get(L.IRQ_FLAGS);
    if (bugs & IrqBug.MER_NOT_PASSED) return;
    const copy = this.get(L.LPCR_LO);
    const lo = bugs & IrqBug.MER_UNMASKED ? copy | want : (copy & ~LPCR_MER) | want;
    vcpu.setLpcr(this.get(L.LPCR_HI), lo);
  }
}

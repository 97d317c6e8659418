/**
 * L1's emulation of directed privileged doorbells among the SMT siblings of an L2 virtual core,
 * as KVM does it when the siblings run as separate vCPUs: L1 withholds HFSCR[MSGP], so the L2's
 * msgsndp and msgclrp exit to L1 (0xF80, facility MSGP); for msgsndp L1 marks a doorbell pending
 * for the sibling the instruction names, for msgclrp it clears the sender's own. A pending doorbell
 * reaches the sibling through its DPDES (bit 0), which L0 holds: L1 sends DPDES (v2: the element
 * in the next run input; v1: hv_guest_state's field) whenever what is pending differs from what it
 * last sent, and the core delivers 0xA00 while DPDES is set and MSR[EE] = 1.
 *
 * The real L1 bug is a test-only switch (DoorbellBug): DPDES never carried in the guest state
 * (Linux "KVM: PPC: Book3S HV nestedv2: Fix doorbell emulation"): doorbells are silently lost.
 *
 * A vCPU's words are in its loop-table entry; DB_REQUEST is written by its siblings' loops on other
 * cores too, so it is read and written with Atomics.
 */
import { L, type LoopTable } from './loop-table.js';
import type { NestedVcpu } from './nested-vcpu.js';

/** Test-only L1 bugs (L.DB_FLAGS bits). */
export const DoorbellBug = {
  /** L1 never sends DPDES to L0 (the doorbell is pending in L1 only). */
  DPDES_NOT_PASSED: 1,
} as const;

/** XO of the two instructions (primary opcode 31). */
export const MSGSNDP_XO = 142;
export const MSGCLRP_XO = 174;
/** RB 32:36 of a directed privileged doorbell. */
const MSG_TYPE_DPDES = 5;

/** One vCPU's doorbell state, in loop-table entry `e` of guest `guestId`'s vCPU `vcpuId`. */
export class Doorbells {
  private readonly w: Int32Array;
  private readonly b: number;

  constructor(
    private readonly table: LoopTable,
    e: number,
    private readonly guestId: number,
    private readonly vcpuId: number,
  ) {
    this.w = table.w;
    this.b = table.at(e, 0);
  }

  get threads(): number {
    return this.w[this.b + L.DB_THREADS]!;
  }
  get sent(): number {
    return this.w[this.b + L.DB_SENT]!;
  }
  get cleared(): number {
    return this.w[this.b + L.DB_CLEARED]!;
  }

  /**
   * Emulates msgsndp (xo MSGSNDP_XO) or msgclrp with RB's low word `rb`. Returns false when the
   * target sibling is gone (its loop finished): the doorbell has nowhere to go, as on hardware.
   */
  emulate(xo: number, rb: number): boolean {
    if (((rb >>> 27) & 0x1f) !== MSG_TYPE_DPDES) return true; // another message type: no-op
    if (xo === MSGCLRP_XO) {
      Atomics.store(this.w, this.b + L.DB_REQUEST, 0);
      this.w[this.b + L.DB_CLEARED]!++;
      return true;
    }
    const tid = rb & 0x7f;
    const threads = this.threads;
    if (tid >= threads) return true; // no such thread in the core: no-op
    const target = this.table.find(this.guestId, this.vcpuId - (this.vcpuId % threads) + tid);
    this.w[this.b + L.DB_SENT]!++;
    if (target < 0) return false;
    Atomics.store(this.table.w, this.table.at(target, L.DB_REQUEST), 1);
    return true;
  }

  /** Before an entry: sends DPDES when what is pending differs from what L0 was last told. */
  sync(vcpu: NestedVcpu): void {
    const want = Atomics.load(this.w, this.b + L.DB_REQUEST);
    if (want === this.w[this.b + L.DPDES_SENT]) return;
    this.w[this.b + L.DPDES_SENT] = want;
    if (this.w[this.b + L.DB_FLAGS]! & DoorbellBug.DPDES_NOT_PASSED) return;
    vcpu.setDpdes(want);
  }
}

/**
 * The seam between the L1 vCPU loop and the nested API that runs its L2 vCPU. The loop handles
 * exits the same way whichever API it drives; what differs is how an entry is made and where exit
 * data comes from:
 * - v2 (hypervisor/l1/v2-vcpu.ts): H_GUEST_RUN_VCPU; L0 keeps the state, the exit's registers come
 *   in the run output buffer and results for L2 go in the next run input buffer;
 * - v1: H_ENTER_NESTED with the whole vCPU state in L1 memory on every entry.
 * Implementations keep every piece of state that must survive between steps in L1 memory, so a
 * loop can be rebuilt on another core thread between two steps (multicore runtime).
 */

/** Exit data of the last entry, as fixed fields (values a given exit did not carry are stale). */
export interface ExitView {
  /** GPR3..GPR12 as (hi, lo) pairs: gpr[2·(n−3)], gpr[2·(n−3)+1] (hcall and syscall exits). */
  readonly gpr: Int32Array;
  readonly niaHi: number;
  readonly niaLo: number;
  readonly hdsisr: number;
  readonly asdrHi: number;
  readonly asdrLo: number;
  readonly heirLo: number;
  /** HFSCR's high word: its top byte is the facility of a 0xF80 exit. */
  readonly hfscrHi: number;
  /** GPRn (3..12) as a number (low 53 bits; exact for what programs pass). */
  gprNumber(n: number): number;
  /** GPRn's low word, unsigned. */
  gprLo(n: number): number;
}

/** GPR3..GPR12 of an exit as (hi, lo) int32 pairs, and their reading (both ExitViews share it). */
export abstract class ExitGprs {
  /** GPR3..GPR12 as (hi, lo) pairs: gpr[2·(n−3)], gpr[2·(n−3)+1]. */
  readonly gpr = new Int32Array(20);

  /** GPRn (3..12) as a number (low 53 bits; exact for what programs pass). */
  gprNumber(n: number): number {
    const hi = this.gpr[2 * (n - 3)]!;
    const lo = this.gpr[2 * (n - 3) + 1]! >>> 0;
    return hi * 4294967296 + lo;
  }

  /** GPRn's low word, unsigned. */
  gprLo(n: number): number {
    return this.gpr[2 * (n - 3) + 1]! >>> 0;
  }
}

/** One L2 vCPU as its L1 loop drives it. */
export interface NestedVcpu {
  /** The exit of the last successful entry. */
  readonly exit: ExitView;
  /** Why the last exit's data could not be read ('' when it could). */
  readonly exitError: string;
  /**
   * Enters the L2 vCPU on core `core` until it exits to L1. Returns the hcall's status; on
   * H_SUCCESS, `vector` is the exit vector (0: L0 stopped the run) and `exit` its data. On H_BUSY
   * (another core holds the vCPU) whatever was queued for the entry stays queued for the retry.
   */
  enter(core: number): number;
  /** Exit vector of the last successful entry. */
  readonly vector: number;
  /** Queues GPRn = (hi, lo) for the next entry (results of an hcall L1 served). */
  setGpr(n: number, hi: number, lo: number): void;
  /** L1's time slice for the next entry: exit 0x980 at L1 timebase `tb`. */
  setHdecExpiry(tb: number): void;
  /** The L2's LPCR from the next entry on = (hi, lo) (L1 changing MER; L0 masks what L1 may not set). */
  setLpcr(hi: number, lo: number): void;
  /** The L2's DPDES from the next entry on (L1's doorbell emulation). */
  setDpdes(lo: number): void;
  /** The L2's NIA for the next entry (L1 emulated the instruction at the exit's NIA). */
  setNia(hi: number, lo: number): void;
  /**
   * GPRn of the L2 as it is now, on core `core` (v2: H_GUEST_GET_STATE; v1: the structures), or
   * undefined when L0 would not give it. Between an exit and the next entry only.
   */
  readGpr(n: number, core: number): { hi: number; lo: number } | undefined;
  /**
   * Who keeps the L2's VPA dispatch count: L0 (v2, told the VPA's L1 address with setVpa) or L1
   * itself around each entry (v1).
   */
  readonly l0KeepsDispatchCount: boolean;
  /** v2: registers (L1 address) or deregisters (−1) the L2's VPA with L0; returns the H code. */
  setVpa(l1ra: number, core: number): number;
  /** Makes an external interrupt pending in L2 at the next entry (v2's run flag), if the API can. */
  requestExternal?(): void;
}

/**
 * An L2 vCPU driven through the v1 (nested-HV) API: each entry is one H_ENTER_NESTED with the
 * vCPU's whole state in two structures in L1 memory (hv_guest_state version 2 and pt_regs,
 * hypervisor/l0/v1/structs.ts), which L0 reads at entry and writes back at exit. The structures
 * are the vCPU's only home between entries, so a V1Vcpu rebuilt on another core thread from the
 * same two addresses (`attach`) carries on where the last one stopped.
 *
 * What L1 queues for the next entry (an hcall's results, its time slice) is written straight into
 * the structures. L0's answers: r3 = the exit vector; H_INTERRUPT when L0 took the core back (the
 * state is written back: the loop just enters again, reported as vector 0 like v2's "stopped");
 * H_BUSY when another core runs the vCPU (nothing changed); anything else is an error.
 */
import type { GuestRam } from '../../mem/ram.js';
import { HcallRegs } from '../l0/regs.js';
import { get64, Hv, Regs, set64 } from '../l0/v1/structs.js';
import { H, Hcall } from '../papr.js';
import { ExitGprs, type ExitView, type NestedVcpu } from './nested-vcpu.js';
import type { L0Port } from './vcpu-loop.js';

/** Bytes of the structures a V1Vcpu needs at its two addresses (hv_guest_state v2, pt_regs). */
export const V1_HV_BYTES = 248;
export const V1_REGS_BYTES = 352;

/** The first state of an L2 vCPU (everything not named starts 0). */
export interface V1InitialState {
  nia: bigint;
  msr: bigint;
  lpcr: bigint;
  hfscr: bigint;
  /** GPR number → value. */
  gprs?: Readonly<Record<number, bigint>>;
}

/** Exit data read from the structures (GPR3..12 copied at each exit, the rest read in place). */
class StructExitView extends ExitGprs implements ExitView {
  constructor(
    private readonly dv: DataView,
    private readonly hv: number,
    private readonly regs: number,
  ) {
    super();
  }

  /** Copies GPR3..GPR12 out of pt_regs (after an exit). */
  capture(): void {
    for (let n = 3; n <= 12; n++) {
      const at = this.regs + 8 * n;
      this.gpr[2 * (n - 3)] = this.dv.getInt32(at + 4, true);
      this.gpr[2 * (n - 3) + 1] = this.dv.getInt32(at, true);
    }
  }

  get niaHi(): number {
    return this.dv.getInt32(this.regs + Regs.NIP + 4, true);
  }
  get niaLo(): number {
    return this.dv.getInt32(this.regs + Regs.NIP, true);
  }
  get hdsisr(): number {
    return this.dv.getInt32(this.hv + Hv.HDSISR, true);
  }
  get asdrHi(): number {
    return this.dv.getInt32(this.hv + Hv.ASDR + 4, true);
  }
  get asdrLo(): number {
    return this.dv.getInt32(this.hv + Hv.ASDR, true);
  }
  get heirLo(): number {
    return this.dv.getInt32(this.hv + Hv.HEIR, true);
  }
  get hfscrHi(): number {
    return this.dv.getInt32(this.hv + Hv.HFSCR + 4, true);
  }
}

/** One L2 vCPU on the v1 API. */
export class V1Vcpu implements NestedVcpu {
  vector = 0;
  exitError = '';
  private readonly r = new HcallRegs();
  private readonly view: StructExitView;
  private readonly dv: DataView;

  private constructor(
    private readonly port: L0Port,
    ram: GuestRam,
    /** L1 addresses of the vCPU's hv_guest_state (248 bytes) and pt_regs (352 bytes). */
    readonly hvAddr: number,
    readonly regsAddr: number,
  ) {
    if (!ram.inBounds(hvAddr, V1_HV_BYTES) || !ram.inBounds(regsAddr, V1_REGS_BYTES))
      throw new RangeError('V1Vcpu: structures outside L1 memory');
    this.dv = ram.dv;
    this.view = new StructExitView(ram.dv, hvAddr, regsAddr);
  }

  /**
   * Writes fresh structures for vCPU `vcpuToken` of L2 `lpid` at the two addresses (allocated by
   * the caller in L1 memory): version 2, the ids, `init`, no L1 time slice (HDEC expiry all ones).
   */
  static create(
    port: L0Port,
    ram: GuestRam,
    hvAddr: number,
    regsAddr: number,
    lpid: number,
    vcpuToken: number,
    init: V1InitialState,
  ): V1Vcpu {
    const v = new V1Vcpu(port, ram, hvAddr, regsAddr);
    ram.u8.fill(0, hvAddr, hvAddr + V1_HV_BYTES);
    ram.u8.fill(0, regsAddr, regsAddr + V1_REGS_BYTES);
    const dv = ram.dv;
    set64(dv, hvAddr + Hv.VERSION, 2n);
    dv.setUint32(hvAddr + Hv.LPID, lpid, true);
    dv.setUint32(hvAddr + Hv.VCPU_TOKEN, vcpuToken, true);
    set64(dv, hvAddr + Hv.LPCR, init.lpcr);
    set64(dv, hvAddr + Hv.HFSCR, init.hfscr);
    set64(dv, hvAddr + Hv.HDEC_EXPIRY, -1n);
    set64(dv, regsAddr + Regs.NIP, init.nia);
    set64(dv, regsAddr + Regs.MSR, init.msr);
    for (const [n, value] of Object.entries(init.gprs ?? {})) set64(dv, regsAddr + 8 * Number(n), value);
    return v;
  }

  /** A V1Vcpu over structures written earlier (the loop moved to this thread). */
  static attach(port: L0Port, ram: GuestRam, hvAddr: number, regsAddr: number): V1Vcpu {
    return new V1Vcpu(port, ram, hvAddr, regsAddr);
  }

  /** L1's LPID of the L2 and the vCPU token, from the structure. */
  get lpid(): number {
    return this.dv.getUint32(this.hvAddr + Hv.LPID, true);
  }
  get vcpuToken(): number {
    return this.dv.getUint32(this.hvAddr + Hv.VCPU_TOKEN, true);
  }

  get exit(): ExitView {
    return this.view;
  }

  enter(core: number): number {
    const r = this.r;
    r.clear();
    r.setInt(3, Hcall.H_ENTER_NESTED);
    r.setInt(4, this.hvAddr);
    r.setInt(5, this.regsAddr);
    const rc = this.port.hcall(r, core);
    if (rc === H.INTERRUPT || rc === 0) {
      this.vector = 0;
      this.exitError = '';
      return H.SUCCESS;
    }
    if (rc < 0x100) return rc; // H_BUSY (retry), or an error code
    this.vector = rc;
    this.view.capture();
    this.exitError = '';
    return H.SUCCESS;
  }

  setGpr(n: number, hi: number, lo: number): void {
    const at = this.regsAddr + 8 * n;
    this.dv.setInt32(at, lo, true);
    this.dv.setInt32(at + 4, hi, true);
  }

  setHdecExpiry(tb: number): void {
    // Every entry: two words, no BigInt (tb is a safe non-negative integer).
    const at = this.hvAddr + Hv.HDEC_EXPIRY;
    this.dv.setUint32(at, tb >>> 0, true);
    this.dv.setUint32(at + 4, Math.floor(tb / 4294967296), true);
  }

  setLpcr(hi: number, lo: number): void {
    this.put(this.hvAddr + Hv.LPCR, hi, lo);
  }

  setDpdes(lo: number): void {
    this.put(this.hvAddr + Hv.DPDES, 0, lo);
  }

  setNia(hi: number, lo: number): void {
    this.put(this.regsAddr + Regs.NIP, hi, lo);
  }

  /** Under v1 L0 knows nothing of the L2's VPA: L1 counts its dispatches (vcpu-loop.ts). */
  readonly l0KeepsDispatchCount = false;

  setVpa(): number {
    return H.SUCCESS;
  }

  readGpr(n: number): { hi: number; lo: number } {
    const at = this.regsAddr + 8 * n;
    return { hi: this.dv.getInt32(at + 4, true), lo: this.dv.getInt32(at, true) };
  }

  /** A doubleword of the structures (little-endian, as L1 keeps them). */
  private put(at: number, hi: number, lo: number): void {
    this.dv.setInt32(at, lo, true);
    this.dv.setInt32(at + 4, hi, true);
  }

  /** A pt_regs field by byte offset (tests and tools). */
  reg(offset: number): bigint {
    return get64(this.dv, this.regsAddr + offset);
  }

  /** An hv_guest_state field by byte offset (tests and tools). */
  hv(offset: number): bigint {
    return get64(this.dv, this.hvAddr + offset);
  }
}

/**
 * An L2 vCPU driven through the nested-v2 API: each entry is one H_GUEST_RUN_VCPU; what L1 wants
 * changed goes in the run input buffer (dirty registers only, as Linux's client does), the exit's
 * registers come back in the run output buffer. Both buffers are in L1 memory, so the pending input
 * survives the loop moving to another core (RunInput keeps its state in the buffer).
 */

import { elementByName } from '../gsb/elements.js';
import { HcallRegs } from '../l0/regs.js';
import { H, Hcall, RunFlags } from '../papr.js';
import type { ExitView, NestedVcpu } from './nested-vcpu.js';
import type { RunInput, RunOutput } from './run-buffers.js';
import type { L0Port } from './vcpu-loop.js';

/** GSB element IDs an entry may carry. */
const GPR0 = 0x1000;
const HDEC_EXPIRY_TB = 0x1020;
const LPCR = 0x102c;
const NIA = 0x1021;
const VPA = 0x0c02;
const DPDES = elementByName('DPDES')!.id;

export class V2Vcpu implements NestedVcpu {
  vector = 0;
  exitError = '';
  private readonly r = new HcallRegs();

  constructor(
    private readonly port: L0Port,
    readonly guestId: number,
    readonly vcpuId: number,
    private readonly input: RunInput,
    private readonly output: RunOutput,
  ) {}

  get exit(): ExitView {
    return this.output;
  }

  /** Run flags of the next entry (one shot: the loop asks again for a retry, loop-table.ts RUN_REQUESTS). */
  private flags = 0n;

  requestExternal(): void {
    this.flags |= RunFlags.EXTERNAL_INTERRUPT;
  }

  enter(core: number): number {
    const r = this.r;
    r.clear();
    r.setInt(3, Hcall.H_GUEST_RUN_VCPU);
    if (this.flags !== 0n) r.setBig(4, this.flags);
    r.setInt(5, this.guestId);
    r.setInt(6, this.vcpuId);
    const rc = this.port.hcall(r, core);
    this.flags = 0n;
    if (rc === H.BUSY) return rc; // the input buffer stays for the retry
    this.input.reset();
    if (rc !== H.SUCCESS) return rc;
    this.vector = r.num(4);
    this.exitError = this.output.parse() ? '' : this.output.error;
    return rc;
  }

  setGpr(n: number, hi: number, lo: number): void {
    this.input.putU64(GPR0 + n, hi, lo);
  }

  setHdecExpiry(tb: number): void {
    this.input.putNumber(HDEC_EXPIRY_TB, tb);
  }

  setLpcr(hi: number, lo: number): void {
    this.input.putU64(LPCR, hi, lo);
  }

  setDpdes(lo: number): void {
    this.input.putU64(DPDES, 0, lo);
  }

  setNia(hi: number, lo: number): void {
    this.input.putU64(NIA, hi, lo);
  }

  readonly l0KeepsDispatchCount = true;

  /** SET_STATE of VPA (0x0C02): the VPA's L1 address, or all ones for none. */
  setVpa(l1ra: number, core: number): number {
    return this.oneElement(
      Hcall.H_GUEST_SET_STATE,
      VPA,
      l1ra < 0 ? -1 : Math.floor(l1ra / 4294967296),
      l1ra < 0 ? -1 : l1ra | 0,
      core,
    );
  }

  readGpr(n: number, core: number): { hi: number; lo: number } | undefined {
    if (this.oneElement(Hcall.H_GUEST_GET_STATE, GPR0 + n, 0, 0, core) !== H.SUCCESS) return undefined;
    const dv = this.output.ram.dv;
    return { hi: dv.getInt32(this.output.addr + 8, false), lo: dv.getInt32(this.output.addr + 12, false) };
  }

  /**
   * A GET or SET_STATE of one 8-byte element `id` (value (hi, lo) for a SET) of this vCPU between
   * runs. The GSB goes in the run output buffer: its exit data was parsed already, and nothing reads
   * the buffer again before the next H_GUEST_RUN_VCPU fills it.
   */
  private oneElement(opcode: number, id: number, hi: number, lo: number, core: number): number {
    const at = this.output.addr;
    const dv = this.output.ram.dv;
    dv.setUint32(at, 1, false);
    dv.setUint16(at + 4, id, false);
    dv.setUint16(at + 6, 8, false);
    dv.setInt32(at + 8, hi, false);
    dv.setInt32(at + 12, lo, false);
    const r = this.r;
    r.clear();
    r.setInt(3, opcode);
    r.setInt(5, this.guestId);
    r.setInt(6, this.vcpuId);
    r.setInt(7, at);
    r.setInt(8, 16);
    return this.port.hcall(r, core);
  }
}

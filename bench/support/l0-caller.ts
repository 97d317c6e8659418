/**
 * Drives an L0 the way an L1 does, through the hcall ABI only: registers in an HcallRegs, buffers
 * in L1 memory passed by address. Arguments are JS numbers (ids, addresses, sizes; -1 for all
 * ones), so that building a call costs no BigInt and a timed call measures L0, not the caller.
 */
import { ELEMENTS, type ElementDef, elementByName } from '../../hypervisor/gsb/elements.js';
import { type ElementValue, encodeGsb } from '../../hypervisor/gsb/values.js';
import { defaultL0Config, L0, type L0Config } from '../../hypervisor/l0/l0.js';
import { HcallRegs } from '../../hypervisor/l0/regs.js';
import { Cap, H, Hcall, StateFlags } from '../../hypervisor/papr.js';

/** A prepared call: the register words to copy into HcallRegs before each call. */
export type CallTemplate = Int32Array;

/** Register words of `opcode` with r4.. = `args` (a bigint is taken modulo 2^64; -1: all ones). */
export function template(opcode: number, ...args: (number | bigint)[]): CallTemplate {
  const r = new HcallRegs();
  r.setInt(3, opcode);
  args.forEach((a, i) => {
    r.setBig(4 + i, BigInt(a));
  });
  return Int32Array.from(r.words);
}

/** Where setup calls put their state buffers in L1 memory. */
const SETUP_BUFFER = 0x1_0000;
const SETUP_BUFFER_BYTES = 0x1_0000;

/** An L0 and the registers to call it with. */
export class L0Caller {
  readonly l0: L0;
  /** The registers of the measured calls. */
  readonly r = new HcallRegs();
  /** The registers of setup calls, so that setup between measured calls never disturbs `r`. */
  private readonly ctl = new HcallRegs();

  constructor(config: Partial<L0Config> = {}) {
    this.l0 = new L0(defaultL0Config({ l1MemoryBytes: 64 << 20, ...config }));
  }

  /** A setup call of `opcode` with `args`; returns r3 (outputs in the returned registers' r4..). */
  call(opcode: number, ...args: (number | bigint)[]): number {
    this.ctl.words.set(template(opcode, ...args));
    return this.l0.hcall(this.ctl);
  }

  /** A setup call that must succeed; returns its registers. */
  must(opcode: number, ...args: (number | bigint)[]): HcallRegs {
    const rc = this.call(opcode, ...args);
    if (rc !== H.SUCCESS)
      throw new Error(`bench setup: hcall 0x${opcode.toString(16)} → ${rc} (${this.l0.lastReason})`);
    return this.ctl;
  }

  /** SET_CAPABILITIES(POWER10) once; later calls are harmless. */
  negotiate(): void {
    const rc = this.call(Hcall.H_GUEST_SET_CAPABILITIES, 0, Cap.POWER10);
    if (rc !== H.SUCCESS && rc !== H.STATE) throw new Error(`bench setup: SET_CAPABILITIES → ${rc}`);
  }

  /** SET_STATE of named elements (thread-wide of `vcpu`, or guest-wide), which must succeed. */
  setState(guest: number, vcpu: number, values: Record<string, ElementValue>, guestWide = false): void {
    const e = encodeGsb(
      Object.entries(values).map(([name, value]) => ({ id: elementByName(name)!.id, value })),
    );
    if (!e.ok || e.bytes.length > SETUP_BUFFER_BYTES) throw new Error('bench setup: state buffer');
    this.l0.ram.u8.set(e.bytes, SETUP_BUFFER);
    this.must(
      Hcall.H_GUEST_SET_STATE,
      guestWide ? StateFlags.GUEST_WIDE : 0,
      guest,
      vcpu,
      SETUP_BUFFER,
      e.bytes.length,
    );
  }

  /** H_GUEST_CREATE; returns the new guest's id. */
  createGuest(): number {
    return this.must(Hcall.H_GUEST_CREATE, 0, -1).num(4);
  }

  /** H_GUEST_CREATE_VCPU of ids 0..n-1. */
  createVcpus(guest: number, n: number): void {
    for (let v = 0; v < n; v++) this.must(Hcall.H_GUEST_CREATE_VCPU, 0, guest, v);
  }

  deleteGuest(guest: number): void {
    this.must(Hcall.H_GUEST_DELETE, 0, guest);
  }

  /**
   * Writes a GSB naming `elements` at `addr` with zeroed values (a GET_STATE request; after a GET
   * it holds the current values, ready for a SET). Returns its bytes.
   */
  writeRequest(addr: number, elements: readonly ElementDef[]): number {
    const dv = this.l0.ram.dv;
    dv.setUint32(addr, elements.length, false);
    let at = addr + 4;
    for (const el of elements) {
      dv.setUint16(at, el.id, false);
      dv.setUint16(at + 2, el.size, false);
      for (let k = 0; k < el.size; k++) dv.setUint8(at + 4 + k, 0);
      at += 4 + el.size;
    }
    return at - addr;
  }
}

/** Every thread-wide element (GET_STATE may name all of them). */
export const THREAD_ELEMENTS: readonly ElementDef[] = ELEMENTS.filter(
  (e) => e.scope === 'thread' && e.id !== 0,
);

/** The thread-wide elements SET_STATE accepts. */
export const SETTABLE_THREAD_ELEMENTS: readonly ElementDef[] = THREAD_ELEMENTS.filter((e) => e.l1Settable);

/** `n` elements of `from` spread evenly over it (so that a count mixes dwords, words and vectors). */
export function spread(from: readonly ElementDef[], n: number): ElementDef[] {
  if (n >= from.length) return [...from];
  const out: ElementDef[] = [];
  for (let k = 0; k < n; k++) out.push(from[Math.floor((k * from.length) / n)]!);
  return out;
}

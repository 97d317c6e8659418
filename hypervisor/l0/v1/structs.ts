/**
 * The two structures of H_ENTER_NESTED (spec §14.3), in the exact layouts Linux and QEMU use:
 * `struct hv_guest_state` (versions 1 and 2) and `struct pt_regs`, every field a 64-bit value in
 * L1's native byte order (L1 is little-endian here) except lpid and vcpu_token (32-bit). L0 reads
 * both from L1 memory at entry and writes both back at exit; the L1 side (hypervisor/l1/v1-vcpu.ts)
 * keeps an L2 vCPU's whole state in them between entries. One table of offsets for both sides.
 */

/** Offsets in `struct hv_guest_state` (spec §14.3). */
export const Hv = {
  VERSION: 0,
  /** u32 */
  LPID: 8,
  /** u32 */
  VCPU_TOKEN: 12,
  LPCR: 16,
  PCR: 24,
  AMOR: 32,
  DPDES: 40,
  HFSCR: 48,
  /** signed: L2 timebase = L1 timebase + offset */
  TB_OFFSET: 56,
  DAWR0: 64,
  DAWRX0: 72,
  CIABR: 80,
  /** L1 timebase at which the entry ends with exit 0x980 */
  HDEC_EXPIRY: 88,
  PURR: 96,
  SPURR: 104,
  IC: 112,
  VTB: 120,
  HDAR: 128,
  HDSISR: 136,
  HEIR: 144,
  ASDR: 152,
  SRR0: 160,
  SRR1: 168,
  SPRG0: 176,
  SPRG1: 184,
  SPRG2: 192,
  SPRG3: 200,
  PIDR: 208,
  CFAR: 216,
  PPR: 224,
  /** version 2 only */
  DAWR1: 232,
  /** version 2 only */
  DAWRX1: 240,
} as const;

/** Bytes of hv_guest_state by version: v1 ends after PPR, v2 after DAWRX1. */
export const HV_BYTES: Readonly<Record<number, number>> = { 1: 232, 2: 248 };
/** The largest hv_guest_state (version 2). */
export const HV_MAX_BYTES = 248;
/** The newest version L0 understands. */
export const HV_VERSION = 2;

/** Offsets in `struct pt_regs` (spec §14.3). GPRn is at 8·n. */
export const Regs = {
  GPR0: 0,
  NIP: 256,
  MSR: 264,
  ORIG_GPR3: 272,
  CTR: 280,
  LINK: 288,
  XER: 296,
  CCR: 304,
  SOFTE: 312,
  TRAP: 320,
  DAR: 328,
  DSISR: 336,
  RESULT: 344,
} as const;

/** Bytes of pt_regs as QEMU maps it (44 doublewords). */
export const REGS_BYTES = 352;

/** Every hv_guest_state field with its size in bytes, in layout order (tools and tests). */
export const HV_FIELDS: readonly { name: keyof typeof Hv; offset: number; bytes: 4 | 8 }[] = (
  Object.entries(Hv) as [keyof typeof Hv, number][]
).map(([name, offset]) => ({ name, offset, bytes: name === 'LPID' || name === 'VCPU_TOKEN' ? 4 : 8 }));

/** Every pt_regs field (GPRs one by one) in layout order (tools and tests). */
export const REGS_FIELDS: readonly { name: string; offset: number }[] = [
  ...Array.from({ length: 32 }, (_, n) => ({ name: `GPR${n}`, offset: 8 * n })),
  ...Object.entries(Regs)
    .filter(([name]) => name !== 'GPR0')
    .map(([name, offset]) => ({ name, offset })),
];

/** Reads the 64-bit little-endian field at `off` of `dv` into out[at] (high) and out[at + 1] (low). */
export function getPair(dv: DataView, off: number, out: Int32Array, at: number): void {
  out[at + 1] = dv.getInt32(off, true);
  out[at] = dv.getInt32(off + 4, true);
}

/** Writes out[at] (high), out[at + 1] (low) as the 64-bit little-endian field at `off`. */
export function putPair(dv: DataView, off: number, src: Int32Array, at: number): void {
  dv.setInt32(off, src[at + 1]!, true);
  dv.setInt32(off + 4, src[at]!, true);
}

/** Writes a 64-bit little-endian field from halves. */
export function put64(dv: DataView, off: number, hi: number, lo: number): void {
  dv.setInt32(off, lo, true);
  dv.setInt32(off + 4, hi, true);
}

/** The 64-bit little-endian field at `off` as a bigint (control path and tests). */
export function get64(dv: DataView, off: number): bigint {
  return dv.getBigUint64(off, true);
}

/** Sets the 64-bit little-endian field at `off` from a bigint modulo 2^64 (control path and tests). */
export function set64(dv: DataView, off: number, v: bigint): void {
  dv.setBigUint64(off, BigInt.asUintN(64, v), true);
}

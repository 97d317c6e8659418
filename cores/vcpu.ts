/**
 * The canonical register state of one vCPU, a view on shared memory: L0's GET/SET_STATE, the run
 * buffers and the interpreter all read and write the same words, with no copy (docs/architecture.md,
 * "cores/ → hypervisor/"). Several vCPUs share one SharedArrayBuffer, VCPU_BYTES apart.
 *
 * Layout (Int32 word index inside one vCPU area; 64-bit registers are a pair, high word first, at
 * an even index so the pair is 8-byte aligned):
 *
 *   words     contents
 *   0..63     GPR0..GPR31 (GSB 0x1000..0x101F): GPRn = [2n, 2n+1]
 *   64..167   the doubleword registers of GSB 0x1020..0x1053 in element order: element 0x1020+k =
 *             [64+2k, 65+2k] (HDEC_EXPIRY_TB 64, NIA 66, MSR 68, LR 70, XER 72, CTR 74, … DPDES 166)
 *   168..423  VSR0..VSR63 (GSB 0x3000..0x303F), 4 words each in wire order: dw0 hi, dw0 lo, dw1 hi, dw1 lo
 *   424..431  HDAR 424, HEIR 426, ASDR 428 (pairs), HDSISR 430 (GSB 0xF000..0xF003)
 *   432..441  RUN_INPUT 432 (addr pair, size pair), RUN_OUTPUT 436 (same), VPA 440 (GSB 0x0C00..0x0C02)
 *   442..447  not in the GSB: HSRR0 442, HSRR1 444, TB_OFFSET 446 (L2 TB = L1 TB + offset)
 *   448..462  the word registers of GSB 0x2000..0x200E in element order (CR 448, PIDR 449, DSISR 450, …)
 *   463..467  XER fields SO, OV, CA, OV32, CA32, one word each holding 0 or 1
 *   468..471  not in the GSB: PIR, PVR, PENDING (interrupt requests, see Pending), spare
 *   472..511  spare (the area is 2 KiB so that two vCPUs never share a 128-byte line)
 *
 * Split registers. XER lives as five flag words (the interpreter reads and writes CA on every
 * adde/addze, so it must be one load) plus the XER doubleword slot holding every other bit; the
 * element accessors compose and split it, so all 64 bits round-trip. CR is one word (a CR field
 * update is one mask-and-or; a split CR would make mfcr/mtcrf eight operations).
 *
 * The decrementer is held as DEC_EXPIRY_TB (L1 timebase at which DEC reaches 0), the form the GSB
 * uses: DEC = DEC_EXPIRY_TB − L1 TB, so nothing needs updating while time passes.
 */
import { ELEMENTS, type ElementDef } from '../hypervisor/gsb/elements.js';

/** Bytes of one vCPU area. */
export const VCPU_BYTES = 2048;
/** Int32 words of one vCPU area. */
export const VCPU_WORDS = VCPU_BYTES / 4;

/** First word of the doubleword-register block (GSB 0x1020). */
const DWORD_BASE = 64;
/** First word of the VSR block. */
const VSR_BASE = 168;
/** First word of the word-register block (GSB 0x2000). */
const WORD_BASE = 448;

/** Word index of element 0x1020 + k. */
const dw = (id: number) => DWORD_BASE + 2 * (id - 0x1020);

/**
 * Word indices of the registers the interpreter uses directly (high word for 64-bit registers,
 * low word at index + 1). Literal numbers so that the hot path indexes with constants.
 */
export const R = {
  GPR0: 0,
  HDEC_EXPIRY_TB: 64,
  NIA: 66,
  MSR: 68,
  LR: 70,
  /** XER bits other than SO, OV, CA, OV32, CA32. */
  XER: 72,
  CTR: 74,
  CFAR: 76,
  SRR0: 78,
  SRR1: 80,
  DAR: 82,
  DEC_EXPIRY_TB: 84,
  VTB: 86,
  LPCR: 88,
  HFSCR: 90,
  FSCR: 92,
  PURR: 102,
  SPURR: 104,
  IC: 106,
  SPRG0: 108,
  PPR: 116,
  MMCR0: 118,
  MMCR1: 120,
  MMCR2: 122,
  MMCRA: 126,
  SIER: 128,
  BESCR: 134,
  EBBHR: 136,
  EBBRR: 138,
  AMR: 140,
  IAMR: 142,
  AMOR: 144,
  UAMOR: 146,
  SDAR: 148,
  SIAR: 150,
  DSCR: 152,
  TAR: 154,
  CTRL: 164,
  DPDES: 166,
  VSR0: VSR_BASE,
  HDAR: 424,
  HEIR: 426,
  ASDR: 428,
  HDSISR: 430,
  RUN_INPUT: 432,
  RUN_OUTPUT: 436,
  VPA: 440,
  HSRR0: 442,
  HSRR1: 444,
  TB_OFFSET: 446,
  CR: 448,
  PIDR: 449,
  DSISR: 450,
  VRSAVE: 452,
  PMC1: 455,
  PSPB: 462,
  SO: 463,
  OV: 464,
  CA: 465,
  OV32: 466,
  CA32: 467,
  PIR: 468,
  PVR: 469,
  PENDING: 470,
} as const;

/** Bits of the PENDING word: interrupts L0 made pending before a run (H_GUEST_RUN_VCPU flags, spec §5.6). */
export const Pending = {
  EXTERNAL: 1,
  DOORBELL: 2,
  SYSTEM_RESET: 4,
} as const;

/** XER bit masks in the low word of the 64-bit XER (IBM bits 32, 33, 34, 44, 45). */
export const XerBit = {
  SO: 0x8000_0000,
  OV: 0x4000_0000,
  CA: 0x2000_0000,
  OV32: 0x0008_0000,
  CA32: 0x0004_0000,
} as const;
const XER_FLAG_BITS = XerBit.SO | XerBit.OV | XerBit.CA | XerBit.OV32 | XerBit.CA32;

/** How one element maps onto the area: `words` consecutive words from `at`, or the split XER. */
interface Slot {
  at: number;
  words: number;
  xer: boolean;
}

/** Element ID → slot, for every thread-wide element except BLANK. */
const slots: (Slot | undefined)[] = new Array(0x10000);

function slotFor(e: ElementDef): Slot | undefined {
  const id = e.id;
  if (id >= 0x1000 && id < 0x1020) return { at: 2 * (id - 0x1000), words: 2, xer: false };
  if (id >= 0x1020 && id <= 0x1053) return { at: dw(id), words: 2, xer: id === 0x1024 };
  if (id >= 0x2000 && id <= 0x200e) return { at: WORD_BASE + (id - 0x2000), words: 1, xer: false };
  if (id >= 0x3000 && id <= 0x303f) return { at: VSR_BASE + 4 * (id - 0x3000), words: 4, xer: false };
  switch (id) {
    case 0xf000:
      return { at: R.HDAR, words: 2, xer: false };
    case 0xf001:
      return { at: R.HDSISR, words: 1, xer: false };
    case 0xf002:
      return { at: R.HEIR, words: 2, xer: false };
    case 0xf003:
      return { at: R.ASDR, words: 2, xer: false };
    case 0x0c00:
      return { at: R.RUN_INPUT, words: 4, xer: false };
    case 0x0c01:
      return { at: R.RUN_OUTPUT, words: 4, xer: false };
    case 0x0c02:
      return { at: R.VPA, words: 2, xer: false };
  }
  return undefined;
}

for (const e of ELEMENTS) {
  if (e.scope !== 'thread' || e.id === 0) continue;
  const s = slotFor(e);
  // A thread-wide element without a slot is a layout bug; fail at load, not on some GET_STATE.
  if (!s || s.words * 4 !== e.size) throw new Error(`vcpu layout: no slot for element ${e.name}`);
  slots[e.id] = s;
}

/** True when `id` is a thread-wide element with storage in the vCPU area. */
export function hasElement(id: number): boolean {
  return slots[id] !== undefined;
}

function getWordBE(src: Uint8Array | DataView, off: number): number {
  if (src instanceof DataView) return src.getInt32(off, false);
  return (src[off]! << 24) | (src[off + 1]! << 16) | (src[off + 2]! << 8) | src[off + 3]!;
}

function putWordBE(dst: Uint8Array | DataView, off: number, v: number): void {
  if (dst instanceof DataView) {
    dst.setInt32(off, v, false);
    return;
  }
  dst[off] = v >>> 24;
  dst[off + 1] = v >>> 16;
  dst[off + 2] = v >>> 8;
  dst[off + 3] = v;
}

/** A view on one vCPU's register area. */
export class Vcpu {
  /** The area as Int32 words; the interpreter indexes it with the `R` constants. */
  readonly w: Int32Array;

  /** Views the area at `byteOffset` of `sab` (a multiple of VCPU_BYTES from a VCPU_BYTES-aligned base). */
  constructor(
    readonly sab: SharedArrayBuffer,
    readonly byteOffset = 0,
  ) {
    if (byteOffset % 8 !== 0) throw new Error('vcpu area must be 8-byte aligned');
    this.w = new Int32Array(sab, byteOffset, VCPU_WORDS);
  }

  /** A fresh vCPU in a SharedArrayBuffer of its own (tests and tools). */
  static create(): Vcpu {
    return new Vcpu(new SharedArrayBuffer(VCPU_BYTES));
  }

  /**
   * Copies element `id` out as wire-format (big-endian) bytes at `dst[off]`. Returns the number of
   * bytes written, or -1 when `id` is not a thread-wide element (nothing written).
   */
  readElement(id: number, dst: Uint8Array | DataView, off: number): number {
    const s = slots[id];
    if (!s) return -1;
    const w = this.w;
    if (s.xer) {
      putWordBE(dst, off, w[R.XER]!);
      putWordBE(dst, off + 4, this.xerLow());
      return 8;
    }
    for (let k = 0; k < s.words; k++) putWordBE(dst, off + 4 * k, w[s.at + k]!);
    return s.words * 4;
  }

  /**
   * Copies element `id` in from wire-format bytes at `src[off]`. Returns the number of bytes read,
   * or -1 when `id` is not a thread-wide element (nothing changed). No masking: L0 validates values
   * against the element table before it calls this.
   */
  writeElement(id: number, src: Uint8Array | DataView, off: number): number {
    const s = slots[id];
    if (!s) return -1;
    const w = this.w;
    if (s.xer) {
      w[R.XER] = getWordBE(src, off);
      this.setXerLow(getWordBE(src, off + 4));
      return 8;
    }
    for (let k = 0; k < s.words; k++) w[s.at + k] = getWordBE(src, off + 4 * k);
    return s.words * 4;
  }

  /** The low word of XER, composed from the flag words and the other bits. */
  xerLow(): number {
    const w = this.w;
    return (
      (w[R.XER + 1]! & ~XER_FLAG_BITS) |
      (w[R.SO]! ? XerBit.SO : 0) |
      (w[R.OV]! ? XerBit.OV : 0) |
      (w[R.CA]! ? XerBit.CA : 0) |
      (w[R.OV32]! ? XerBit.OV32 : 0) |
      (w[R.CA32]! ? XerBit.CA32 : 0)
    );
  }

  /** Sets the low word of XER, splitting out the flag words. */
  setXerLow(v: number): void {
    const w = this.w;
    w[R.XER + 1] = v & ~XER_FLAG_BITS;
    w[R.SO] = (v & XerBit.SO) !== 0 ? 1 : 0;
    w[R.OV] = (v & XerBit.OV) !== 0 ? 1 : 0;
    w[R.CA] = (v & XerBit.CA) !== 0 ? 1 : 0;
    w[R.OV32] = (v & XerBit.OV32) !== 0 ? 1 : 0;
    w[R.CA32] = (v & XerBit.CA32) !== 0 ? 1 : 0;
  }

  /** A 64-bit register at word index `at` (an `R` constant) as an unsigned bigint. Tests and tools only. */
  get64(at: number): bigint {
    return (BigInt(this.w[at]! >>> 0) << 32n) | BigInt(this.w[at + 1]! >>> 0);
  }

  /** Sets the 64-bit register at word index `at`, modulo 2^64. Tests and tools only. */
  set64(at: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.w[at] = Number(u >> 32n) | 0;
    this.w[at + 1] = Number(u & 0xffff_ffffn) | 0;
  }

  /** GPRn as an unsigned bigint. */
  gpr(n: number): bigint {
    return this.get64(2 * n);
  }

  /** Sets GPRn. */
  setGpr(n: number, v: bigint): void {
    this.set64(2 * n, v);
  }

  /** Element `id` as an unsigned bigint (up to 8 bytes), through the wire format. Tests and tools only. */
  get(id: number): bigint {
    const b = new Uint8Array(16);
    const n = this.readElement(id, b, 0);
    if (n < 0 || n > 8) throw new Error(`vcpu.get: element 0x${id.toString(16)} is not a register`);
    let v = 0n;
    for (let k = 0; k < n; k++) v = (v << 8n) | BigInt(b[k]!);
    return v;
  }

  /** Sets element `id` (up to 8 bytes) from a bigint, through the wire format. Tests and tools only. */
  set(id: number, v: bigint): void {
    const s = slots[id];
    if (!s || s.words > 2) throw new Error(`vcpu.set: element 0x${id.toString(16)} is not a register`);
    const n = s.words * 4;
    const b = new Uint8Array(n);
    let u = BigInt.asUintN(n * 8, v);
    for (let k = n - 1; k >= 0; k--) {
      b[k] = Number(u & 0xffn);
      u >>= 8n;
    }
    this.writeElement(id, b, 0);
  }

  /** Zeroes the whole area. */
  clear(): void {
    this.w.fill(0);
  }
}

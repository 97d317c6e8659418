/**
 * Instruction fields, named and placed as in the Power ISA book (Book I §1.6, bit 0 = most
 * significant bit of the 32-bit word). Two views of the same facts:
 *
 * - `FIELDS`: every field as a list of bit ranges, for the decoder generator, the encoder, the
 *   disassembler and the table checks (slow paths, run once per row or per test);
 * - the small accessor functions (`rt`, `ra`, `si`, …): what instruction semantics call on the raw
 *   instruction word at run time. They are one or two shifts each, so V8 inlines them.
 */

/** One field: bit ranges [first, width] concatenated MSB first; optionally signed and scaled. */
export interface FieldDef {
  readonly parts: readonly (readonly [number, number])[];
  /** Sign-extend the concatenated value. */
  readonly signed?: boolean;
  /** The value is the field shifted left by this much (DS, BD, LI are word or doubleword offsets). */
  readonly shift?: number;
}

const f = (first: number, width: number, extra: Omit<FieldDef, 'parts'> = {}): FieldDef => ({
  parts: [[first, width]],
  ...extra,
});

/**
 * Every operand field, by the name the book's instruction descriptions use. Names that mean the
 * same bits in several forms (RT, RS, BO, TO, BT …) are listed once per name.
 */
const fieldDefs = {
  RT: f(6, 5),
  RS: f(6, 5),
  BO: f(6, 5),
  BT: f(6, 5),
  TO: f(6, 5),
  TH: f(6, 5),
  BF: f(6, 3),
  /** cmp/cmpi/cmpl/cmpli: 0 = 32-bit compare, 1 = 64-bit. */
  L: f(10, 1),
  RA: f(11, 5),
  BI: f(11, 5),
  BA: f(11, 5),
  BFA: f(11, 3),
  /** mtmsr/mtmsrd: 1 = update EE and RI only. */
  LM: f(15, 1),
  /** sync: 0 = hwsync, 1 = lwsync, 2 = ptesync (bits 8:10 in ISA 3.1). */
  LS: f(8, 3),
  RB: f(16, 5),
  BB: f(16, 5),
  SH: f(16, 5),
  NB: f(16, 5),
  SI: f(16, 16, { signed: true }),
  UI: f(16, 16),
  D: f(16, 16, { signed: true }),
  DS: f(16, 14, { signed: true, shift: 2 }),
  BD: f(16, 14, { signed: true, shift: 2 }),
  LI: f(6, 24, { signed: true, shift: 2 }),
  /** addpcis: d0 (16:25) || d1 (11:15) || d2 (31). */
  DX: {
    parts: [
      [16, 10],
      [11, 5],
      [31, 1],
    ],
    signed: true,
  },
  AA: f(30, 1),
  LK: f(31, 1),
  Rc: f(31, 1),
  OE: f(21, 1),
  /** bclr/bcctr/bctar branch hint. */
  BH: f(19, 2),
  /** M-form mask begin / end. */
  MB: f(21, 5),
  ME: f(26, 5),
  /** MD/XS-form 6-bit shift: sh0:4 at 16:20, sh5 at 30. */
  SH6: {
    parts: [
      [30, 1],
      [16, 5],
    ],
  },
  /** MD/MDS-form 6-bit mask begin/end: the field holds mb0:4 || mb5, the value is mb5 || mb0:4. */
  MB6: {
    parts: [
      [26, 1],
      [21, 5],
    ],
  },
  ME6: {
    parts: [
      [26, 1],
      [21, 5],
    ],
  },
  /** mfspr/mtspr: the SPR number is spr5:9 || spr0:4. */
  SPR: {
    parts: [
      [16, 5],
      [11, 5],
    ],
  },
  TBR: {
    parts: [
      [16, 5],
      [11, 5],
    ],
  },
  FXM: f(12, 8),
  /** isel condition bit; maddld third source. */
  BC: f(21, 5),
  RC: f(21, 5),
  LEV: f(20, 7),
  /** addex carry select. */
  CY: f(21, 2),
  /** tlbie/tlbiel. */
  RIC: f(12, 2),
  PRS: f(14, 1),
  R: f(15, 1),
  /** Load-and-reserve exclusive-access hint. */
  EH: f(31, 1),
} as const satisfies Record<string, FieldDef>;

/** A field name. */
export type FieldName = keyof typeof fieldDefs;
/** Every operand field by name. */
export const FIELDS: Readonly<Record<FieldName, FieldDef>> = fieldDefs;

/** Reads field `def` from instruction word `insn` (slow path: decoder checks, disassembler, tests). */
export function fieldValue(def: FieldDef, insn: number): number {
  let v = 0;
  let bits = 0;
  for (const [first, width] of def.parts) {
    v = v * 2 ** width + ((insn >>> (32 - first - width)) & (2 ** width - 1));
    bits += width;
  }
  if (def.signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
  return v * 2 ** (def.shift ?? 0);
}

/**
 * Places `value` into field `def` (encoder). Returns the bits to OR into the word, or throws when
 * the value does not fit or is not a multiple of the field's scale: an encoder bug in a test is a
 * simulator bug, never a guest outcome.
 */
export function fieldBits(name: string, def: FieldDef, value: number): number {
  const shift = def.shift ?? 0;
  if (value % 2 ** shift !== 0) throw new Error(`${name}: ${value} is not a multiple of ${2 ** shift}`);
  let v = value / 2 ** shift;
  const bits = def.parts.reduce((s, [, w]) => s + w, 0);
  const lo = def.signed ? -(2 ** (bits - 1)) : 0;
  const hi = def.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new Error(`${name}: ${value} does not fit in ${bits} bits`);
  if (v < 0) v += 2 ** bits;
  let out = 0;
  let left = bits;
  for (const [first, width] of def.parts) {
    left -= width;
    const part = Math.floor(v / 2 ** left) & (2 ** width - 1);
    out |= part << (32 - first - width);
  }
  return out >>> 0;
}

// Run-time accessors on the raw word. `i` is the instruction as an int32.

/** RT / RS / BO / BT / TO (bits 6:10). */
export const rt = (i: number): number => (i >>> 21) & 31;
/** RA / BI / BA (bits 11:15). */
export const ra = (i: number): number => (i >>> 16) & 31;
/** RB / BB / SH (bits 16:20). */
export const rb = (i: number): number => (i >>> 11) & 31;
/** RC / BC (bits 21:25). */
export const rc5 = (i: number): number => (i >>> 6) & 31;
/** SI / D (bits 16:31), sign-extended. */
export const si = (i: number): number => (i << 16) >> 16;
/** UI (bits 16:31). */
export const ui = (i: number): number => i & 0xffff;
/** DS (bits 16:29) || 0b00, sign-extended. */
export const ds = (i: number): number => ((i << 16) >> 16) & ~3;
/** BD (bits 16:29) || 0b00, sign-extended. */
export const bd = (i: number): number => ((i << 16) >> 16) & ~3;
/** LI (bits 6:29) || 0b00, sign-extended. */
export const li = (i: number): number => ((i << 6) >> 6) & ~3;
/** Rc / LK / EH (bit 31). */
export const bit31 = (i: number): number => i & 1;
/** AA (bit 30). */
export const aa = (i: number): number => (i >>> 1) & 1;
/** OE (bit 21). */
export const oe = (i: number): number => (i >>> 10) & 1;
/** BF (bits 6:8). */
export const bf = (i: number): number => (i >>> 23) & 7;
/** BFA (bits 11:13). */
export const bfa = (i: number): number => (i >>> 18) & 7;
/** L of the compares (bit 10). */
export const lcmp = (i: number): number => (i >>> 21) & 1;
/** M-form MB (bits 21:25). */
export const mb5 = (i: number): number => (i >>> 6) & 31;
/** M-form ME (bits 26:30). */
export const me5 = (i: number): number => (i >>> 1) & 31;
/** MD/XS-form sh5 || sh0:4 (6-bit shift). */
export const sh6 = (i: number): number => ((i >>> 11) & 31) | ((i & 2) << 4);
/** MD/MDS-form mb5 || mb0:4 (6-bit mask begin or end). */
export const mb6 = (i: number): number => ((i >>> 6) & 31) | (i & 32);
/** SPR / TBR number spr5:9 || spr0:4. */
export const spr = (i: number): number => (((i >>> 11) & 31) << 5) | ((i >>> 16) & 31);
/** FXM (bits 12:19). */
export const fxm = (i: number): number => (i >>> 12) & 0xff;
/** Primary opcode (bits 0:5). */
export const opcd = (i: number): number => i >>> 26;

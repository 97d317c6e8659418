/**
 * A tiny assembler for tests and benchmarks, generated from the instruction table: `encode.addi(3,
 * 0, 1)` is the word of `addi 3,0,1`. Operands come in assembly order (`encode.lwz(rt, d, ra)` for
 * `lwz RT,D(RA)`); branch displacements are in bytes. Variants: a trailing `_` is the book's `.`
 * (Rc = 1: `encode.add_`, `encode.stwcx_`), `o` sets OE (`encode.addo`, `encode.addo_`).
 * A handful of extended mnemonics (li, mr, blr, beq …) are spelled out below.
 *
 * Throws on operands that do not fit their fields: a wrong test is a simulator-side bug.
 */
import { FIELDS, fieldBits } from './isa/forms.js';
import { ROWS, type Row } from './isa/table.js';

/** Encodes one instruction from its operands (assembly order). */
export type Encoder = (...operands: number[]) => number;

function encoderFor(row: Row, oe: boolean, rc: boolean): Encoder {
  const key = row.mnemonic;
  return (...ops: number[]) => {
    if (ops.length !== row.syntax.length)
      throw new Error(
        `${key}: expects ${row.syntax.join(',')} (${row.syntax.length} operands), got ${ops.length}`,
      );
    let w = row.value;
    for (let k = 0; k < ops.length; k++) {
      const name = row.syntax[k]!;
      w |= fieldBits(`${key} ${name}`, FIELDS[name], ops[k]!);
    }
    if (oe) w |= 1 << 10;
    if (rc) w |= 1;
    return w >>> 0;
  };
}

const table: Record<string, Encoder> = {};
for (const row of ROWS) {
  if (row.unit !== 'fixed') continue;
  const base = row.mnemonic.replace('.', '_');
  table[base] = encoderFor(row, false, false);
  if (row.hasRc) table[`${base}_`] = encoderFor(row, false, true);
  if (row.hasOE) {
    table[`${base}o`] = encoderFor(row, true, false);
    if (row.hasRc) table[`${base}o_`] = encoderFor(row, true, true);
  }
}

/** CR bit numbers within a field. */
const LT = 0;
const GT = 1;
const EQ = 2;

/** BO values: branch if the CR bit is true / false, always, decrement CTR and branch if ≠ 0. */
const BO_TRUE = 12;
const BO_FALSE = 4;
const BO_ALWAYS = 20;
const BO_DNZ = 16;

const t = table;
const ext: Record<string, Encoder> = {
  /** li RT,SI = addi RT,0,SI */
  li: (rt, v) => t.addi!(rt, 0, v),
  /** lis RT,SI = addis RT,0,SI */
  lis: (rt, v) => t.addis!(rt, 0, v),
  /** subi RT,RA,SI = addi RT,RA,−SI */
  subi: (rt, ra, v) => t.addi!(rt, ra, -v),
  /** mr RA,RS = or RA,RS,RS */
  mr: (ra, rs) => t.or!(ra, rs, rs),
  /** not RA,RS = nor RA,RS,RS */
  not: (ra, rs) => t.nor!(ra, rs, rs),
  /** nop = ori 0,0,0 */
  nop: () => t.ori!(0, 0, 0),
  /** blr = bclr 20,0,0 */
  blr: () => t.bclr!(BO_ALWAYS, 0, 0),
  /** blrl = bclrl 20,0,0 */
  blrl: () => t.bclrl!(BO_ALWAYS, 0, 0),
  /** bctr = bcctr 20,0,0 */
  bctr: () => t.bcctr!(BO_ALWAYS, 0, 0),
  /** bctrl = bcctrl 20,0,0 */
  bctrl: () => t.bcctrl!(BO_ALWAYS, 0, 0),
  /** bdnz target = bc 16,0,target */
  bdnz: (off) => t.bc!(BO_DNZ, 0, off),
  /** beq [crN,]target: with one operand, cr0 */
  beq: (a, b) => (b === undefined ? t.bc!(BO_TRUE, EQ, a) : t.bc!(BO_TRUE, 4 * a + EQ, b)),
  /** bne [crN,]target */
  bne: (a, b) => (b === undefined ? t.bc!(BO_FALSE, EQ, a) : t.bc!(BO_FALSE, 4 * a + EQ, b)),
  /** blt [crN,]target */
  blt: (a, b) => (b === undefined ? t.bc!(BO_TRUE, LT, a) : t.bc!(BO_TRUE, 4 * a + LT, b)),
  /** bge [crN,]target */
  bge: (a, b) => (b === undefined ? t.bc!(BO_FALSE, LT, a) : t.bc!(BO_FALSE, 4 * a + LT, b)),
  /** bgt [crN,]target */
  bgt: (a, b) => (b === undefined ? t.bc!(BO_TRUE, GT, a) : t.bc!(BO_TRUE, 4 * a + GT, b)),
  /** ble [crN,]target */
  ble: (a, b) => (b === undefined ? t.bc!(BO_FALSE, GT, a) : t.bc!(BO_FALSE, 4 * a + GT, b)),
  /** cmpwi crN,RA,SI */
  cmpwi: (bf, ra, v) => t.cmpi!(bf, 0, ra, v),
  /** cmpdi crN,RA,SI */
  cmpdi: (bf, ra, v) => t.cmpi!(bf, 1, ra, v),
  /** cmplwi crN,RA,UI */
  cmplwi: (bf, ra, v) => t.cmpli!(bf, 0, ra, v),
  /** cmpldi crN,RA,UI */
  cmpldi: (bf, ra, v) => t.cmpli!(bf, 1, ra, v),
  /** cmpw crN,RA,RB */
  cmpw: (bf, ra, rb) => t.cmp!(bf, 0, ra, rb),
  /** cmpd crN,RA,RB */
  cmpd: (bf, ra, rb) => t.cmp!(bf, 1, ra, rb),
  /** cmplw crN,RA,RB */
  cmplw: (bf, ra, rb) => t.cmpl!(bf, 0, ra, rb),
  /** cmpld crN,RA,RB */
  cmpld: (bf, ra, rb) => t.cmpl!(bf, 1, ra, rb),
  /** sldi RA,RS,n = rldicr RA,RS,n,63−n */
  sldi: (ra, rs, n) => t.rldicr!(ra, rs, n, 63 - n),
  /** srdi RA,RS,n = rldicl RA,RS,64−n,n */
  srdi: (ra, rs, n) => t.rldicl!(ra, rs, (64 - n) & 63, n),
  /** clrldi RA,RS,n = rldicl RA,RS,0,n */
  clrldi: (ra, rs, n) => t.rldicl!(ra, rs, 0, n),
  /** slwi RA,RS,n = rlwinm RA,RS,n,0,31−n */
  slwi: (ra, rs, n) => t.rlwinm!(ra, rs, n, 0, 31 - n),
  /** srwi RA,RS,n = rlwinm RA,RS,32−n,n,31 */
  srwi: (ra, rs, n) => t.rlwinm!(ra, rs, (32 - n) & 31, n, 31),
  /** trap = tw 31,0,0 */
  trap: () => t.tw!(31, 0, 0),
  /** hwsync = sync 0 */
  hwsync: () => t.sync!(0),
  /** mfxer / mtxer, mfsrr0 … as mfspr/mtspr with the SPR number */
  mfxer: (rt) => t.mfspr!(rt, 1),
  mtxer: (rs) => t.mtspr!(1, rs),
  mfdec: (rt) => t.mfspr!(rt, 22),
  mtdec: (rs) => t.mtspr!(22, rs),
  mfsrr0: (rt) => t.mfspr!(rt, 26),
  mfsrr1: (rt) => t.mfspr!(rt, 27),
  mtsrr0: (rs) => t.mtspr!(26, rs),
  mtsrr1: (rs) => t.mtspr!(27, rs),
};

/** The assembler: every table mnemonic (and its `_`/`o` variants) plus the extended mnemonics above. */
export const encode: Readonly<Record<string, Encoder>> = { ...table, ...ext };

/** Little-endian bytes of a program (what a ppc64le loader writes to memory). */
export function assembleLE(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, k) => {
    dv.setUint32(4 * k, w >>> 0, true);
  });
  return out;
}

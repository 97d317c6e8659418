/**
 * The decoder and disassembler, generated from the instruction table at load. Invoked from: the
 * predecoder (cores/isa/predecode.ts) once per instruction slot, and tests.
 *
 * Per primary opcode, rows are bucketed by the bits every row of that opcode fixes (for opcode 31:
 * the 9 extended-opcode bits all its forms share); a bucket lists its rows most specific first, so
 * an extended mnemonic (mflr) wins over its general form (mfspr) and a catch-all (the FP rows) over
 * nothing. Decoding is a few array reads; it happens once per predecoded slot, not per execution.
 */
import { FIELDS, fieldValue } from './forms.js';
import { ILLEGAL_ID, ROW_BY_ID, ROWS, type Row } from './table.js';

interface Group {
  common: number;
  buckets: Map<number, Row[]>;
}

const PRIMARY = 0xfc00_0000 >>> 0;
const groups: (Group | undefined)[] = new Array(64);

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v >>>= 1) n += v & 1;
  return n;
}

{
  const byOp = new Map<number, Row[]>();
  for (const r of ROWS) {
    if ((r.mask & PRIMARY) >>> 0 !== PRIMARY) continue; // the catch-all
    const op = r.value >>> 26;
    const list = byOp.get(op) ?? [];
    list.push(r);
    byOp.set(op, list);
  }
  for (const [op, list] of byOp) {
    let common = ~PRIMARY >>> 0;
    for (const r of list) common = (common & r.mask) >>> 0;
    const buckets = new Map<number, Row[]>();
    for (const r of list) {
      const key = (r.value & common) >>> 0;
      const b = buckets.get(key) ?? [];
      b.push(r);
      buckets.set(key, b);
    }
    for (const b of buckets.values()) b.sort((x, y) => popcount(y.mask) - popcount(x.mask));
    groups[op] = { common, buckets };
  }
}

/** The table row that executes instruction word `w`. */
export function decodeRow(w: number): Row {
  return ROW_BY_ID[decode(w)]!;
}

/** Handler id of instruction word `w` (ILLEGAL_ID when no row matches). */
export function decode(w: number): number {
  const u = w >>> 0;
  const g = groups[u >>> 26];
  if (g === undefined) return ILLEGAL_ID;
  const b = g.buckets.get((u & g.common) >>> 0);
  if (b === undefined) return ILLEGAL_ID;
  for (const r of b) if ((u & r.mask) >>> 0 === r.value) return r.id;
  return ILLEGAL_ID;
}

/** "addi 3,0,1"-style text of `w`, for test messages and traces. */
export function disasm(w: number): string {
  const r = decodeRow(w);
  if (r.unit !== 'fixed') return `.long 0x${(w >>> 0).toString(16).padStart(8, '0')} (${r.mnemonic})`;
  let m = r.mnemonic;
  if (r.hasOE && (w >>> 10) & 1) m += 'o';
  if (r.hasRc && w & 1) m += '.';
  const ops = r.syntax.map((f) => String(fieldValue(FIELDS[f], w)));
  return ops.length ? `${m} ${ops.join(',')}` : m;
}

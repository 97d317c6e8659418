/**
 * The instruction table: one row per instruction (Power ISA v3.0B Book I/II/III, 64-bit server,
 * integer subset), its bit pattern as the book prints it (bit 0 first; 0/1 fixed, letters are
 * operand fields, '/' reserved), its operands in assembly order, and its semantic function.
 *
 * Everything else is generated from it: the decoder (decode.ts), the encoder (cores/encode.ts),
 * the coverage list (`coverage()`), the disassembler used in test messages. Rows are written with
 * helpers named after the book's instruction forms, which render the book's layout from the
 * opcode numbers the book prints ("31 / 266"); `pattern` keeps the rendered string.
 *
 * Handler ids: the rows named in HOT get ids 1..HOT.length in that order, so the run loop's switch
 * (cores/interp.ts) can use literal case labels; the other rows follow. Id 0 means "not decoded".
 */
import * as at from './atomic.js';
import * as br from './branch.js';
import * as cr from './condition.js';
import type { Exec } from './cpu.js';
import * as fx from './fixed-point.js';
import { FIELDS, type FieldName } from './forms.js';
import * as ls from './load-store.js';
import * as rot from './rotate.js';
import * as sys from './system.js';

/** One instruction. */
export interface Row {
  /** Mnemonic as in the book (with its '.' when Rc = 1 is part of the name). */
  readonly mnemonic: string;
  /** Instruction form (D, DS, X, XO, …). */
  readonly form: string;
  /** 32 pattern characters MSB first, spaces between fields. */
  readonly pattern: string;
  /** Fixed bits: the word matches when (word & mask) === value (unsigned 32-bit numbers). */
  readonly mask: number;
  readonly value: number;
  /** Operand fields in assembly order. */
  readonly syntax: readonly FieldName[];
  /** True when bit 21 is OE (the o-suffixed variants exist). */
  readonly hasOE: boolean;
  /** True when bit 31 is Rc (the '.'-suffixed variants exist). */
  readonly hasRc: boolean;
  /** What kind of instruction this is for the coverage list. */
  readonly unit: 'fixed' | 'fp' | 'vmx' | 'vsx' | 'illegal';
  readonly exec: Exec;
  /** Handler id stored in the predecoded slots. */
  id: number;
}

const bin = (v: number, width: number) => v.toString(2).padStart(width, '0');

/** Parses "RT,D(RA)" into ['RT', 'D', 'RA']. */
function parseSyntax(s: string): FieldName[] {
  if (s === '') return [];
  return s.split(/[,()]/).filter((x) => x !== '') as FieldName[];
}

const rows: Row[] = [];

/** Adds a row from a literal book pattern. */
function row(
  mnemonic: string,
  form: string,
  pattern: string,
  syntax: string,
  exec: Exec,
  unit: Row['unit'] = 'fixed',
) {
  const bits = pattern.replace(/ /g, '');
  if (bits.length !== 32) throw new Error(`${mnemonic}: pattern has ${bits.length} bits`);
  let mask = 0;
  let value = 0;
  for (let k = 0; k < 32; k++) {
    const ch = bits[k];
    if (ch === '0' || ch === '1') {
      mask |= 1 << (31 - k);
      if (ch === '1') value |= 1 << (31 - k);
    }
  }
  const syn = parseSyntax(syntax);
  for (const f of syn) if (!(f in FIELDS)) throw new Error(`${mnemonic}: unknown field ${f}`);
  rows.push({
    mnemonic,
    form,
    pattern,
    mask: mask >>> 0,
    value: value >>> 0,
    syntax: syn,
    hasOE: bits[21] === 'o',
    hasRc: bits[31] === 'r',
    unit,
    exec,
    id: 0,
  });
}

// Form helpers: render the book's layout for the common forms. `rc` is 'r' (Rc field), '/', '0' or '1'.
const P = (op: number) => bin(op, 6);
const D = (m: string, op: number, syntax: string, exec: Exec) =>
  row(m, 'D', `${P(op)} ttttt aaaaa iiiiiiiiiiiiiiii`, syntax, exec);
const DS = (m: string, op: number, xo: number, syntax: string, exec: Exec) =>
  row(m, 'DS', `${P(op)} ttttt aaaaa iiiiiiiiiiiiii ${bin(xo, 2)}`, syntax, exec);
const X = (m: string, xo: number, syntax: string, exec: Exec, rc = 'r', op = 31) =>
  row(m, 'X', `${P(op)} ttttt aaaaa bbbbb ${bin(xo, 10)} ${rc}`, syntax, exec);
const XL = (m: string, xo: number, syntax: string, exec: Exec, lk = '0') =>
  row(m, 'XL', `${P(19)} ttttt aaaaa bbbbb ${bin(xo, 10)} ${lk}`, syntax, exec);
const XO = (m: string, xo: number, syntax: string, exec: Exec, oe = 'o') =>
  row(m, 'XO', `${P(31)} ttttt aaaaa bbbbb ${oe} ${bin(xo, 9)} r`, syntax, exec);
const MD = (m: string, xo: number, syntax: string, exec: Exec) =>
  row(m, 'MD', `${P(30)} sssss aaaaa hhhhh mmmmmm ${bin(xo, 3)} h r`, syntax, exec);
const MDS = (m: string, xo: number, syntax: string, exec: Exec) =>
  row(m, 'MDS', `${P(30)} sssss aaaaa bbbbb mmmmmm ${bin(xo, 4)} r`, syntax, exec);
const XS = (m: string, xo: number, syntax: string, exec: Exec) =>
  row(m, 'XS', `${P(31)} sssss aaaaa hhhhh ${bin(xo, 9)} h r`, syntax, exec);

/**
 * Rows executed by the run loop's hot switch, in id order (ids 1..HOT.length). The switch in
 * cores/interp.ts names them by these ids; test/core-hot.test.ts checks that each case runs the
 * same semantics as the table row.
 */
// biome-ignore format: the comments give each row's id
export const HOT = [
  'addi', 'addis', 'add', 'subf', 'neg', 'mullw', 'mulld', 'and', 'andi.', 'or', // 1-10
  'ori', 'xor', 'extsw', 'rlwinm', 'rldicl', 'rldicr', 'rldic', 'rlwimi', 'slw', 'srw', // 11-20
  'srawi', 'sradi', 'sld', 'srd', 'cmp', 'cmpi', 'cmpl', 'cmpli', 'b', 'bl', // 21-30
  'bc', 'bclr', 'bcctr', 'mflr', 'mtlr', 'mtctr', 'mfctr', 'lbz', 'lhz', 'lha', // 31-40
  'lwz', 'lwa', 'ld', 'stb', 'sth', 'stw', 'std', 'lbzx', 'lwzx', 'ldx', // 41-50
  'stwx', 'stdx', 'stdu', 'ldu', 'isel', 'extsb', 'extsh', 'xori', 'subfic', 'adde', // 51-60
  'addze', 'addc', 'subfc', 'subfe', 'mulhdu', 'divd', 'divdu', 'divw', 'divwu', 'stbx', // 61-70
] as const;

// ---- Branch (Book I §2.4) ----
row('b', 'I', '010010 iiiiiiiiiiiiiiiiiiiiiiii 0 0', 'LI', br.b);
row('ba', 'I', '010010 iiiiiiiiiiiiiiiiiiiiiiii 1 0', 'LI', br.b);
row('bl', 'I', '010010 iiiiiiiiiiiiiiiiiiiiiiii 0 1', 'LI', br.b);
row('bla', 'I', '010010 iiiiiiiiiiiiiiiiiiiiiiii 1 1', 'LI', br.b);
row('bc', 'B', '010000 ooooo ccccc iiiiiiiiiiiiii 0 0', 'BO,BI,BD', br.bc);
row('bca', 'B', '010000 ooooo ccccc iiiiiiiiiiiiii 1 0', 'BO,BI,BD', br.bc);
row('bcl', 'B', '010000 ooooo ccccc iiiiiiiiiiiiii 0 1', 'BO,BI,BD', br.bc);
row('bcla', 'B', '010000 ooooo ccccc iiiiiiiiiiiiii 1 1', 'BO,BI,BD', br.bc);
row('bclr', 'XL', '010011 ooooo ccccc ///hh 0000010000 0', 'BO,BI,BH', br.bclr);
row('bclrl', 'XL', '010011 ooooo ccccc ///hh 0000010000 1', 'BO,BI,BH', br.bclr);
row('bcctr', 'XL', '010011 ooooo ccccc ///hh 1000010000 0', 'BO,BI,BH', br.bcctr);
row('bcctrl', 'XL', '010011 ooooo ccccc ///hh 1000010000 1', 'BO,BI,BH', br.bcctr);
row('bctar', 'XL', '010011 ooooo ccccc ///hh 1000110000 0', 'BO,BI,BH', br.bctar);
row('bctarl', 'XL', '010011 ooooo ccccc ///hh 1000110000 1', 'BO,BI,BH', br.bctar);

// ---- Condition register (Book I §2.5) and compares (§3.3.10) ----
row('cmp', 'X', '011111 fff / l aaaaa bbbbb 0000000000 /', 'BF,L,RA,RB', cr.cmp);
row('cmpl', 'X', '011111 fff / l aaaaa bbbbb 0000100000 /', 'BF,L,RA,RB', cr.cmpl);
row('cmpi', 'D', '001011 fff / l aaaaa iiiiiiiiiiiiiiii', 'BF,L,RA,SI', cr.cmpi);
row('cmpli', 'D', '001010 fff / l aaaaa iiiiiiiiiiiiiiii', 'BF,L,RA,UI', cr.cmpli);
row('cmprb', 'X', '011111 fff / l aaaaa bbbbb 0011000000 /', 'BF,L,RA,RB', cr.cmprb);
row('cmpeqb', 'X', '011111 fff // aaaaa bbbbb 0011100000 /', 'BF,RA,RB', cr.cmpeqb);
XL('crand', 257, 'BT,BA,BB', cr.crand, '/');
XL('crnand', 225, 'BT,BA,BB', cr.crnand, '/');
XL('cror', 449, 'BT,BA,BB', cr.cror, '/');
XL('crnor', 33, 'BT,BA,BB', cr.crnor, '/');
XL('crxor', 193, 'BT,BA,BB', cr.crxor, '/');
XL('creqv', 289, 'BT,BA,BB', cr.creqv, '/');
XL('crandc', 129, 'BT,BA,BB', cr.crandc, '/');
XL('crorc', 417, 'BT,BA,BB', cr.crorc, '/');
row('mcrf', 'XL', '010011 fff // ggg // ///// 0000000000 /', 'BF,BFA', cr.mcrf);
row('mcrxrx', 'X', '011111 fff // ///// ///// 1001000000 /', 'BF', cr.mcrxrx);
row('mfcr', 'XFX', '011111 ttttt 0 ///////// 0000010011 /', 'RT', cr.mfcr);
row('mfocrf', 'XFX', '011111 ttttt 1 xxxxxxxx / 0000010011 /', 'RT,FXM', cr.mfocrf);
row('mtcrf', 'XFX', '011111 sssss 0 xxxxxxxx / 0010010000 /', 'FXM,RS', cr.mtcrf);
row('mtocrf', 'XFX', '011111 sssss 1 xxxxxxxx / 0010010000 /', 'FXM,RS', cr.mtcrf);
row('isel', 'A', '011111 ttttt aaaaa bbbbb ccccc 01111 /', 'RT,RA,RB,BC', cr.isel);
row('setb', 'X', '011111 ttttt ggg // ///// 0010000000 /', 'RT,BFA', cr.setb);

// ---- Fixed-point arithmetic (§3.3.9) ----
D('addi', 14, 'RT,RA,SI', fx.addi);
D('addis', 15, 'RT,RA,SI', fx.addis);
D('addic', 12, 'RT,RA,SI', fx.addic);
D('addic.', 13, 'RT,RA,SI', fx.addic_);
D('subfic', 8, 'RT,RA,SI', fx.subfic);
D('mulli', 7, 'RT,RA,SI', fx.mulli);
row('addpcis', 'DX', '010011 ttttt ddddd dddddddddd 00010 d', 'RT,DX', fx.addpcis);
XO('add', 266, 'RT,RA,RB', fx.add);
XO('addc', 10, 'RT,RA,RB', fx.addc);
XO('adde', 138, 'RT,RA,RB', fx.adde);
XO('addze', 202, 'RT,RA', fx.addze);
XO('addme', 234, 'RT,RA', fx.addme);
XO('subf', 40, 'RT,RA,RB', fx.subf);
XO('subfc', 8, 'RT,RA,RB', fx.subfc);
XO('subfe', 136, 'RT,RA,RB', fx.subfe);
XO('subfze', 200, 'RT,RA', fx.subfze);
XO('subfme', 232, 'RT,RA', fx.subfme);
XO('neg', 104, 'RT,RA', fx.neg);
row('addex', 'Z23', '011111 ttttt aaaaa bbbbb yy 10101010 /', 'RT,RA,RB,CY', fx.addex);
XO('mullw', 235, 'RT,RA,RB', fx.mullw);
XO('mulld', 233, 'RT,RA,RB', fx.mulld);
XO('mulhw', 75, 'RT,RA,RB', fx.mulhw, '/');
XO('mulhwu', 11, 'RT,RA,RB', fx.mulhwu, '/');
XO('mulhd', 73, 'RT,RA,RB', fx.mulhd, '/');
XO('mulhdu', 9, 'RT,RA,RB', fx.mulhdu, '/');
row('maddhd', 'VA', '000100 ttttt aaaaa bbbbb ccccc 110000', 'RT,RA,RB,RC', fx.maddhd);
row('maddhdu', 'VA', '000100 ttttt aaaaa bbbbb ccccc 110001', 'RT,RA,RB,RC', fx.maddhdu);
row('maddld', 'VA', '000100 ttttt aaaaa bbbbb ccccc 110011', 'RT,RA,RB,RC', fx.maddld);
XO('divw', 491, 'RT,RA,RB', fx.divw);
XO('divwu', 459, 'RT,RA,RB', fx.divwu);
XO('divd', 489, 'RT,RA,RB', fx.divd);
XO('divdu', 457, 'RT,RA,RB', fx.divdu);
XO('divwe', 427, 'RT,RA,RB', fx.divwe);
XO('divweu', 395, 'RT,RA,RB', fx.divweu);
XO('divde', 425, 'RT,RA,RB', fx.divde);
XO('divdeu', 393, 'RT,RA,RB', fx.divdeu);
X('modsw', 779, 'RT,RA,RB', fx.modsw, '/');
X('moduw', 267, 'RT,RA,RB', fx.moduw, '/');
X('modsd', 777, 'RT,RA,RB', fx.modsd, '/');
X('modud', 265, 'RT,RA,RB', fx.modud, '/');

// ---- Logical (§3.3.13) ----
D('andi.', 28, 'RA,RS,UI', fx.andi_);
D('andis.', 29, 'RA,RS,UI', fx.andis_);
D('ori', 24, 'RA,RS,UI', fx.ori);
D('oris', 25, 'RA,RS,UI', fx.oris);
D('xori', 26, 'RA,RS,UI', fx.xori);
D('xoris', 27, 'RA,RS,UI', fx.xoris);
X('and', 28, 'RA,RS,RB', fx.and);
X('andc', 60, 'RA,RS,RB', fx.andc);
X('or', 444, 'RA,RS,RB', fx.or);
X('orc', 412, 'RA,RS,RB', fx.orc);
X('xor', 316, 'RA,RS,RB', fx.xor);
X('nand', 476, 'RA,RS,RB', fx.nand);
X('nor', 124, 'RA,RS,RB', fx.nor);
X('eqv', 284, 'RA,RS,RB', fx.eqv);
X('extsb', 954, 'RA,RS', fx.extsb);
X('extsh', 922, 'RA,RS', fx.extsh);
X('extsw', 986, 'RA,RS', fx.extsw);
X('cntlzw', 26, 'RA,RS', fx.cntlzw);
X('cntlzd', 58, 'RA,RS', fx.cntlzd);
X('cnttzw', 538, 'RA,RS', fx.cnttzw);
X('cnttzd', 570, 'RA,RS', fx.cnttzd);
X('popcntb', 122, 'RA,RS', fx.popcntb, '/');
X('popcntw', 378, 'RA,RS', fx.popcntw, '/');
X('popcntd', 506, 'RA,RS', fx.popcntd, '/');
X('prtyw', 154, 'RA,RS', fx.prtyw, '/');
X('prtyd', 186, 'RA,RS', fx.prtyd, '/');
X('cmpb', 508, 'RA,RS,RB', fx.cmpb, '/');
X('bpermd', 252, 'RA,RS,RB', fx.bpermd, '/');
XS('extswsli', 445, 'RA,RS,SH6', rot.extswsli);

// ---- Rotate and shift (§3.3.14) ----
row('rlwinm', 'M', '010101 sssss aaaaa hhhhh mmmmm eeeee r', 'RA,RS,SH,MB,ME', rot.rlwinm);
row('rlwnm', 'M', '010111 sssss aaaaa bbbbb mmmmm eeeee r', 'RA,RS,RB,MB,ME', rot.rlwnm);
row('rlwimi', 'M', '010100 sssss aaaaa hhhhh mmmmm eeeee r', 'RA,RS,SH,MB,ME', rot.rlwimi);
MD('rldicl', 0, 'RA,RS,SH6,MB6', rot.rldicl);
MD('rldicr', 1, 'RA,RS,SH6,ME6', rot.rldicr);
MD('rldic', 2, 'RA,RS,SH6,MB6', rot.rldic);
MD('rldimi', 3, 'RA,RS,SH6,MB6', rot.rldimi);
MDS('rldcl', 8, 'RA,RS,RB,MB6', rot.rldcl);
MDS('rldcr', 9, 'RA,RS,RB,ME6', rot.rldcr);
X('slw', 24, 'RA,RS,RB', rot.slw);
X('srw', 536, 'RA,RS,RB', rot.srw);
X('sraw', 792, 'RA,RS,RB', rot.sraw);
X('srawi', 824, 'RA,RS,SH', rot.srawi);
X('sld', 27, 'RA,RS,RB', rot.sld);
X('srd', 539, 'RA,RS,RB', rot.srd);
X('srad', 794, 'RA,RS,RB', rot.srad);
XS('sradi', 413, 'RA,RS,SH6', rot.sradi);

// ---- Loads and stores (§3.3.2–3.3.7) ----
D('lbz', 34, 'RT,D(RA)', ls.lbz);
D('lbzu', 35, 'RT,D(RA)', ls.lbzu);
D('lhz', 40, 'RT,D(RA)', ls.lhz);
D('lhzu', 41, 'RT,D(RA)', ls.lhzu);
D('lha', 42, 'RT,D(RA)', ls.lha);
D('lhau', 43, 'RT,D(RA)', ls.lhau);
D('lwz', 32, 'RT,D(RA)', ls.lwz);
D('lwzu', 33, 'RT,D(RA)', ls.lwzu);
DS('ld', 58, 0, 'RT,DS(RA)', ls.ld);
DS('ldu', 58, 1, 'RT,DS(RA)', ls.ldu);
DS('lwa', 58, 2, 'RT,DS(RA)', ls.lwa);
X('lbzx', 87, 'RT,RA,RB', ls.lbzx, '/');
X('lbzux', 119, 'RT,RA,RB', ls.lbzux, '/');
X('lhzx', 279, 'RT,RA,RB', ls.lhzx, '/');
X('lhzux', 311, 'RT,RA,RB', ls.lhzux, '/');
X('lhax', 343, 'RT,RA,RB', ls.lhax, '/');
X('lhaux', 375, 'RT,RA,RB', ls.lhaux, '/');
X('lwzx', 23, 'RT,RA,RB', ls.lwzx, '/');
X('lwzux', 55, 'RT,RA,RB', ls.lwzux, '/');
X('lwax', 341, 'RT,RA,RB', ls.lwax, '/');
X('lwaux', 373, 'RT,RA,RB', ls.lwaux, '/');
X('ldx', 21, 'RT,RA,RB', ls.ldx, '/');
X('ldux', 53, 'RT,RA,RB', ls.ldux, '/');
X('lhbrx', 790, 'RT,RA,RB', ls.lhbrx, '/');
X('lwbrx', 534, 'RT,RA,RB', ls.lwbrx, '/');
X('ldbrx', 532, 'RT,RA,RB', ls.ldbrx, '/');
D('stb', 38, 'RS,D(RA)', ls.stb);
D('stbu', 39, 'RS,D(RA)', ls.stbu);
D('sth', 44, 'RS,D(RA)', ls.sth);
D('sthu', 45, 'RS,D(RA)', ls.sthu);
D('stw', 36, 'RS,D(RA)', ls.stw);
D('stwu', 37, 'RS,D(RA)', ls.stwu);
DS('std', 62, 0, 'RS,DS(RA)', ls.std);
DS('stdu', 62, 1, 'RS,DS(RA)', ls.stdu);
X('stbx', 215, 'RS,RA,RB', ls.stbx, '/');
X('stbux', 247, 'RS,RA,RB', ls.stbux, '/');
X('sthx', 407, 'RS,RA,RB', ls.sthx, '/');
X('sthux', 439, 'RS,RA,RB', ls.sthux, '/');
X('stwx', 151, 'RS,RA,RB', ls.stwx, '/');
X('stwux', 183, 'RS,RA,RB', ls.stwux, '/');
X('stdx', 149, 'RS,RA,RB', ls.stdx, '/');
X('stdux', 181, 'RS,RA,RB', ls.stdux, '/');
X('sthbrx', 918, 'RS,RA,RB', ls.sthbrx, '/');
X('stwbrx', 662, 'RS,RA,RB', ls.stwbrx, '/');
X('stdbrx', 660, 'RS,RA,RB', ls.stdbrx, '/');
D('lmw', 46, 'RT,D(RA)', ls.lmw);
D('stmw', 47, 'RS,D(RA)', ls.stmw);

// ---- Reservations, barriers, cache management (Book II §4) ----
X('lbarx', 52, 'RT,RA,RB,EH', at.lbarx, 'e');
X('lharx', 116, 'RT,RA,RB,EH', at.lharx, 'e');
X('lwarx', 20, 'RT,RA,RB,EH', at.lwarx, 'e');
X('ldarx', 84, 'RT,RA,RB,EH', at.ldarx, 'e');
X('stbcx.', 694, 'RS,RA,RB', at.stbcx_, '1');
X('sthcx.', 726, 'RS,RA,RB', at.sthcx_, '1');
X('stwcx.', 150, 'RS,RA,RB', at.stwcx_, '1');
X('stdcx.', 214, 'RS,RA,RB', at.stdcx_, '1');
row('sync', 'X', '011111 //lll ///// ///// 1001010110 /', 'LS', at.sync);
row('lwsync', 'X', '011111 //001 ///// ///// 1001010110 /', '', at.sync);
row('ptesync', 'X', '011111 //010 ///// ///// 1001010110 /', '', at.sync);
row('eieio', 'X', '011111 ///// ///// ///// 1101010110 /', '', at.eieio);
row('isync', 'XL', '010011 ///// ///// ///// 0010010110 /', '', at.isync);
X('dcbt', 278, 'RA,RB', at.cacheHint, '/');
X('dcbtst', 246, 'RA,RB', at.cacheHint, '/');
X('dcbf', 86, 'RA,RB', at.cacheHint, '/');
X('dcbst', 54, 'RA,RB', at.cacheHint, '/');
X('icbt', 22, 'RA,RB', at.cacheHint, '/');
X('icbi', 982, 'RA,RB', at.icbi, '/');
X('dcbz', 1014, 'RA,RB', ls.dcbz, '/');
X('dcbi', 470, 'RA,RB', at.dcbi, '/');

// ---- System (Book III) ----
row('sc', 'SC', '010001 ///// ///// //// lllllll /// 1 /', 'LEV', sys.sc);
row('rfid', 'XL', '010011 ///// ///// ///// 0000010010 /', '', sys.rfid);
row('hrfid', 'XL', '010011 ///// ///// ///// 0100010010 /', '', sys.hrfid);
row('mfmsr', 'X', '011111 ttttt ///// ///// 0001010011 /', 'RT', sys.mfmsr);
row('mtmsr', 'X', '011111 sssss ////l ///// 0010010010 /', 'RS,LM', sys.mtmsr);
row('mtmsrd', 'X', '011111 sssss ////l ///// 0010110010 /', 'RS,LM', sys.mtmsrd);
row('mfspr', 'XFX', '011111 ttttt pppppppppp 0101010011 /', 'RT,SPR', sys.mfspr);
row('mtspr', 'XFX', '011111 sssss pppppppppp 0111010011 /', 'SPR,RS', sys.mtspr);
row('mftb', 'XFX', '011111 ttttt pppppppppp 0101110011 /', 'RT,TBR', sys.mftb);
// Extended mnemonics of mfspr/mtspr with their own fast handlers (SPR 8 = LR, 9 = CTR).
row('mflr', 'XFX', '011111 ttttt 01000 00000 0101010011 /', 'RT', sys.mflr);
row('mtlr', 'XFX', '011111 sssss 01000 00000 0111010011 /', 'RS', sys.mtlr);
row('mfctr', 'XFX', '011111 ttttt 01001 00000 0101010011 /', 'RT', sys.mfctr);
row('mtctr', 'XFX', '011111 sssss 01001 00000 0111010011 /', 'RS', sys.mtctr);
X('tw', 4, 'TO,RA,RB', sys.tw, '/');
X('td', 68, 'TO,RA,RB', sys.td, '/');
D('twi', 3, 'TO,RA,SI', sys.twi);
D('tdi', 2, 'TO,RA,SI', sys.tdi);
row('tlbie', 'X', '011111 sssss / kk p R bbbbb 0100110010 /', 'RB,RS,RIC,PRS,R', sys.tlbie);
row('tlbiel', 'X', '011111 sssss / kk p R bbbbb 0100010010 /', 'RB,RS,RIC,PRS,R', sys.tlbiel);
row('attn', 'X', '000000 ///// ///// ///// 0100000000 /', '', sys.attn);
row('msgsndp', 'X', '011111 ///// ///// bbbbb 0010001110 /', 'RB', sys.msgsndp);
row('msgclrp', 'X', '011111 ///// ///// bbbbb 0010101110 /', 'RB', sys.msgclrp);

// ---- Facilities nestsim does not execute: the interrupt their enable bits call for ----
for (const [op, name] of [
  [48, 'lfs'],
  [49, 'lfsu'],
  [50, 'lfd'],
  [51, 'lfdu'],
  [52, 'stfs'],
  [53, 'stfsu'],
  [54, 'stfd'],
  [55, 'stfdu'],
  [59, 'fp-arith-single'],
  [63, 'fp-arith-double'],
] as const) {
  row(name, 'D', `${P(op)} ${'/'.repeat(26)}`, '', sys.fpInsn, 'fp');
}
for (const [xo, name] of [
  [535, 'lfsx'],
  [567, 'lfsux'],
  [599, 'lfdx'],
  [631, 'lfdux'],
  [855, 'lfiwax'],
  [887, 'lfiwzx'],
  [663, 'stfsx'],
  [695, 'stfsux'],
  [727, 'stfdx'],
  [759, 'stfdux'],
  [983, 'stfiwx'],
] as const) {
  row(name, 'X', `011111 ///// ///// ///// ${bin(xo, 10)} /`, '', sys.fpInsn, 'fp');
}
row('vmx', 'VA', `${P(4)} ${'/'.repeat(26)}`, '', sys.vmxInsn, 'vmx');
for (const [xo, name] of [
  [7, 'lvebx'],
  [39, 'lvehx'],
  [71, 'lvewx'],
  [103, 'lvx'],
  [359, 'lvxl'],
  [135, 'stvebx'],
  [167, 'stvehx'],
  [199, 'stvewx'],
  [231, 'stvx'],
  [487, 'stvxl'],
  [6, 'lvsl'],
  [38, 'lvsr'],
] as const) {
  row(name, 'X', `011111 ///// ///// ///// ${bin(xo, 10)} /`, '', sys.vmxInsn, 'vmx');
}
row('vsx', 'XX', `${P(60)} ${'/'.repeat(26)}`, '', sys.vsxInsn, 'vsx');
row('vsx-ds-load', 'DQ', `${P(57)} ${'/'.repeat(26)}`, '', sys.vsxInsn, 'vsx');
row('vsx-ds-store', 'DQ', `${P(61)} ${'/'.repeat(26)}`, '', sys.vsxInsn, 'vsx');
for (const [xo, name] of [
  [844, 'lxvd2x'],
  [780, 'lxvw4x'],
  [972, 'stxvd2x'],
  [908, 'stxvw4x'],
  [588, 'lxsdx'],
  [716, 'stxsdx'],
  [268, 'lxvx'],
  [396, 'stxvx'],
  [51, 'mfvsrd'],
  [179, 'mtvsrd'],
  [115, 'mfvsrwz'],
  [211, 'mtvsrwa'],
  [243, 'mtvsrwz'],
] as const) {
  row(name, 'XX1', `011111 ///// ///// ///// ${bin(xo, 10)} /`, '', sys.vsxInsn, 'vsx');
}

// Anything that matches no other row.
row('illegal', '-', '/'.repeat(32), '', sys.illegal, 'illegal');

// Assign handler ids: HOT first, in order, then the rest in table order.
{
  const byName = new Map(rows.map((r) => [r.mnemonic, r]));
  let next = 1;
  for (const m of HOT) {
    const r = byName.get(m);
    if (!r) throw new Error(`HOT names unknown row ${m}`);
    r.id = next++;
  }
  for (const r of rows) if (r.id === 0) r.id = next++;
}

/** Every row, in table order. */
export const ROWS: readonly Row[] = rows;

/** Rows by handler id (index 0 unused). */
export const ROW_BY_ID: readonly Row[] = (() => {
  const a: Row[] = new Array(rows.length + 1);
  for (const r of rows) a[r.id] = r;
  return a;
})();

/** Semantic functions by handler id, for the generic dispatch path. */
export const EXEC_BY_ID: readonly Exec[] = ROW_BY_ID.map((r) => r.exec);

/** The id of the catch-all row. */
export const ILLEGAL_ID = rows.find((r) => r.mnemonic === 'illegal')!.id;

/** The coverage list: every mnemonic the core executes (unit 'fixed'), one per line with its form. */
export function coverage(): string[] {
  return rows
    .filter((r) => r.unit === 'fixed')
    .map((r) => `${r.mnemonic.padEnd(10)} ${r.form.padEnd(4)} ${r.pattern}`);
}

import { describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { decode, decodeRow, disasm } from '../cores/isa/decode.js';
import { FIELDS } from '../cores/isa/forms.js';
import { coverage, HOT, ILLEGAL_ID, ROW_BY_ID, ROWS } from '../cores/isa/table.js';

/**
 * Instruction words as the GNU assembler encodes them (objdump -d listings of binutils' own
 * test suite and of ppc64 binaries), with the encoder call that must produce them. They pin the
 * table's bit patterns to an outside reference.
 */
const known: [string, number, number][] = [
  ['nop', 0x6000_0000, e.nop!()],
  ['blr', 0x4e80_0020, e.blr!()],
  ['bctr', 0x4e80_0420, e.bctr!()],
  ['bctrl', 0x4e80_0421, e.bctrl!()],
  ['mflr 0', 0x7c08_02a6, e.mflr!(0)],
  ['mtlr 0', 0x7c08_03a6, e.mtlr!(0)],
  ['mtctr 12', 0x7d89_03a6, e.mtctr!(12)],
  ['sc', 0x4400_0002, e.sc!(0)],
  ['sc 1', 0x4400_0022, e.sc!(1)],
  ['li 3,0', 0x3860_0000, e.li!(3, 0)],
  ['addi 1,1,-32', 0x3821_ffe0, e.addi!(1, 1, -32)],
  ['addis 2,12,2', 0x3c4c_0002, e.addis!(2, 12, 2)],
  ['stdu 1,-32(1)', 0xf821_ffe1, e.stdu!(1, -32, 1)],
  ['std 0,16(1)', 0xf801_0010, e.std!(0, 16, 1)],
  ['ld 0,16(1)', 0xe801_0010, e.ld!(0, 16, 1)],
  ['lwa 3,4(4)', 0xe864_0006, e.lwa!(3, 4, 4)],
  ['lwz 9,0(3)', 0x8123_0000, e.lwz!(9, 0, 3)],
  ['stw 9,0(3)', 0x9123_0000, e.stw!(9, 0, 3)],
  ['mr 31,1', 0x7c3f_0b78, e.mr!(31, 1)],
  ['cmpwi 7,9,0', 0x2f89_0000, e.cmpwi!(7, 9, 0)],
  ['cmpdi 3,0', 0x2c23_0000, e.cmpdi!(0, 3, 0)],
  ['cmpld 7,9,10', 0x7fa9_5040, e.cmpld!(7, 9, 10)],
  ['beq 7,+8', 0x419e_0008, e.beq!(7, 8)],
  ['bne +12', 0x4082_000c, e.bne!(12)],
  ['bdnz -8', 0x4200_fff8, e.bdnz!(-8)],
  ['bl +0x100', 0x4800_0101, e.bl!(0x100)],
  ['ba 0x100', 0x4800_0102, e.ba!(0x100)],
  ['clrldi 9,9,32', 0x7929_0020, e.clrldi!(9, 9, 32)],
  ['srdi 9,9,32', 0x7929_0022, e.srdi!(9, 9, 32)],
  ['sldi 3,3,3', 0x7863_1f24, e.sldi!(3, 3, 3)],
  ['slwi 9,9,2', 0x5529_103a, e.slwi!(9, 9, 2)],
  ['extsw 9,9', 0x7d29_07b4, e.extsw!(9, 9)],
  ['lwarx 9,0,3', 0x7d20_1828, e.lwarx!(9, 0, 3, 0)],
  ['stwcx. 10,0,3', 0x7d40_192d, e.stwcx_!(10, 0, 3)],
  ['ldarx 9,0,3', 0x7d20_18a8, e.ldarx!(9, 0, 3, 0)],
  ['stdcx. 10,0,3', 0x7d40_19ad, e.stdcx_!(10, 0, 3)],
  ['sync', 0x7c00_04ac, e.sync!(0)],
  ['lwsync', 0x7c20_04ac, e.lwsync!()],
  ['isync', 0x4c00_012c, e.isync!()],
  ['eieio', 0x7c00_06ac, e.eieio!()],
  ['mfcr 12', 0x7d80_0026, e.mfcr!(12)],
  ['mtcrf 255,12', 0x7d8f_f120, e.mtcrf!(0xff, 12)],
  ['mfocrf 3,128', 0x7c78_0026, e.mfocrf!(3, 128)],
  ['mfocrf 12,8', 0x7d90_8026, e.mfocrf!(12, 8)],
  ['mtocrf 128,3', 0x7c78_0120, e.mtocrf!(128, 3)],
  ['isel 3,4,5,2', 0x7c64_289e, e.isel!(3, 4, 5, 2)],
  ['mulld 3,3,4', 0x7c63_21d2, e.mulld!(3, 3, 4)],
  ['mullw 3,3,4', 0x7c63_21d6, e.mullw!(3, 3, 4)],
  ['divd 3,3,4', 0x7c63_23d2, e.divd!(3, 3, 4)],
  ['divdu 3,3,4', 0x7c63_2392, e.divdu!(3, 3, 4)],
  ['divw 3,3,4', 0x7c63_23d6, e.divw!(3, 3, 4)],
  ['divwu 3,3,4', 0x7c63_2396, e.divwu!(3, 3, 4)],
  ['mulhdu 3,3,4', 0x7c63_2012, e.mulhdu!(3, 3, 4)],
  ['subf 3,4,3', 0x7c64_1850, e.subf!(3, 4, 3)],
  ['neg 3,3', 0x7c63_00d0, e.neg!(3, 3)],
  ['add. 3,3,4', 0x7c63_2215, e.add_!(3, 3, 4)],
  ['addo 3,3,4', 0x7c63_2614, e.addo!(3, 3, 4)],
  ['srawi 3,3,2', 0x7c63_1670, e.srawi!(3, 3, 2)],
  ['sradi 3,3,2', 0x7c63_1674, e.sradi!(3, 3, 2)],
  ['sradi 3,3,33', 0x7c63_0e76, e.sradi!(3, 3, 33)],
  ['cntlzd 3,3', 0x7c63_0074, e.cntlzd!(3, 3)],
  ['cntlzw 3,3', 0x7c63_0034, e.cntlzw!(3, 3)],
  ['popcntd 3,3', 0x7c63_03f4, e.popcntd!(3, 3)],
  ['ldbrx 3,0,4', 0x7c60_2428, e.ldbrx!(3, 0, 4)],
  ['lwbrx 3,0,4', 0x7c60_242c, e.lwbrx!(3, 0, 4)],
  ['lhbrx 3,0,4', 0x7c60_262c, e.lhbrx!(3, 0, 4)],
  ['stdbrx 3,0,4', 0x7c60_2528, e.stdbrx!(3, 0, 4)],
  ['ldx 3,4,5', 0x7c64_282a, e.ldx!(3, 4, 5)],
  ['stdx 3,4,5', 0x7c64_292a, e.stdx!(3, 4, 5)],
  ['lbzx 3,4,5', 0x7c64_28ae, e.lbzx!(3, 4, 5)],
  ['mftb 3', 0x7c6c_42e6, e.mftb!(3, 268)],
  ['mfpvr 3', 0x7c7f_42a6, e.mfspr!(3, 287)],
  ['mtdec 3', 0x7c76_03a6, e.mtdec!(3)],
  ['mfmsr 3', 0x7c60_00a6, e.mfmsr!(3)],
  ['mtmsrd 3,1', 0x7c61_0164, e.mtmsrd!(3, 1)],
  ['mtmsrd 3', 0x7c60_0164, e.mtmsrd!(3, 0)],
  ['rfid', 0x4c00_0024, e.rfid!()],
  ['hrfid', 0x4c00_0224, e.hrfid!()],
  ['trap', 0x7fe0_0008, e.trap!()],
  ['dcbz 0,3', 0x7c00_1fec, e.dcbz!(0, 3)],
  ['dcbt 0,3', 0x7c00_1a2c, e.dcbt!(0, 3)],
  ['icbi 0,3', 0x7c00_1fac, e.icbi!(0, 3)],
  ['attn', 0x0000_0200, e.attn!()],
  ['lnia 3', 0x4c60_0004, e.addpcis!(3, 0)],
  ['maddld 3,4,5,6', 0x1064_29b3, e.maddld!(3, 4, 5, 6)],
  ['maddhd 3,4,5,6', 0x1064_29b0, e.maddhd!(3, 4, 5, 6)],
  ['maddhdu 3,4,5,6', 0x1064_29b1, e.maddhdu!(3, 4, 5, 6)],
  ['cnttzd 3,3', 0x7c63_0474, e.cnttzd!(3, 3)],
  ['setb 3,0', 0x7c60_0100, e.setb!(3, 0)],
  ['modsw 3,4,5', 0x7c64_2e16, e.modsw!(3, 4, 5)],
  ['modud 3,4,5', 0x7c64_2a12, e.modud!(3, 4, 5)],
  ['cmpb 3,4,5', 0x7c83_2bf8, e.cmpb!(3, 4, 5)],
  ['sradi 3,3,6', 0x7c63_3674, e.sradi!(3, 3, 6)],
  ['mfcr 3', 0x7c60_0026, e.mfcr!(3)],
  ['crxor 6,6,6', 0x4cc6_3182, e.crxor!(6, 6, 6)],
  ['mcrf 7,0', 0x4f80_0000, e.mcrf!(7, 0)],
  ['lmw 29,-12(1)', 0xbba1_fff4, e.lmw!(29, -12, 1)],
  ['stmw 29,-12(1)', 0xbfa1_fff4, e.stmw!(29, -12, 1)],
  ['bctar', 0x4e80_0460, e.bctar!(20, 0, 0)],
];

describe('instruction table', () => {
  it.each(known)('%s encodes and decodes as the GNU assembler does', (_text, word, encoded) => {
    expect(encoded.toString(16)).toBe(word.toString(16));
    expect(decode(word)).not.toBe(ILLEGAL_ID);
  });

  it('decodes each row fixed pattern to that row (or a more specific extended mnemonic)', () => {
    for (const row of ROWS) {
      if (row.mnemonic === 'illegal') continue;
      const got = decodeRow(row.value | 0);
      const ok = got === row || ((got.mask & row.mask) >>> 0 === row.mask && got.mask !== row.mask);
      expect(ok, `${row.mnemonic} decoded as ${got.mnemonic}`).toBe(true);
    }
  });

  it('has no two rows that match the same word with the same specificity', () => {
    for (const a of ROWS) {
      for (const b of ROWS) {
        if (a === b || a.mask !== b.mask) continue;
        expect(a.value === b.value, `${a.mnemonic} and ${b.mnemonic}`).toBe(false);
      }
    }
  });

  it('keeps operand fields off the fixed bits of every row', () => {
    for (const row of ROWS) {
      for (const name of row.syntax) {
        for (const [first, width] of FIELDS[name].parts) {
          const bits = ((2 ** width - 1) * 2 ** (32 - first - width)) >>> 0;
          expect((bits & row.mask) >>> 0, `${row.mnemonic} ${name}`).toBe(0);
        }
      }
    }
  });

  it('round-trips random operands through encoder, decoder and disassembler', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (const row of ROWS.filter((r) => r.unit === 'fixed')) {
      for (let k = 0; k < 20; k++) {
        const ops = row.syntax.map((name) => {
          const f = FIELDS[name];
          const bits = f.parts.reduce((s, [, w]) => s + w, 0);
          let v = rnd() % 2 ** bits;
          if (f.signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
          return v * 2 ** (f.shift ?? 0);
        });
        const w = e[row.mnemonic.replace('.', '_')]!(...ops);
        const got = decodeRow(w);
        // An extended mnemonic may claim the word (mflr for mfspr 8), with identical fields.
        if (got !== row)
          expect((got.mask & row.mask) >>> 0, `${row.mnemonic} → ${got.mnemonic}`).toBe(row.mask);
        else expect(disasm(w)).toBe(ops.length ? `${row.mnemonic} ${ops.join(',')}` : row.mnemonic);
      }
    }
  });

  it('gives the hot rows ids 1..HOT.length in order', () => {
    HOT.forEach((m, k) => {
      expect(ROW_BY_ID[k + 1]!.mnemonic).toBe(m);
    });
  });

  it('lists what it covers', () => {
    const list = coverage().map((l) => l.split(' ')[0]);
    for (const m of ['add', 'lwarx', 'stdcx.', 'rldimi', 'mtmsrd', 'divdeu', 'maddhdu', 'bctar', 'setb']) {
      expect(list).toContain(m);
    }
  });

  it('sends unknown words to the illegal row', () => {
    expect(decode(0)).toBe(ILLEGAL_ID);
    expect(decode(0x0400_0000)).toBe(ILLEGAL_ID); // primary opcode 1: prefixed instructions (ISA 3.1)
    expect(decodeRow(0xffff_ffff | 0).unit).toBe('fp'); // primary 63 is FP whatever the rest says
  });
});

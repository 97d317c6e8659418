/**
 * Compares, condition-register instructions, isel/setb, and branches (every BO form, CTR
 * decrement, link, the register-target forms), with exact retired counts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { R } from '../cores/vcpu.js';
import { CODE, crOf, type Machine, machine, step, u64 } from './core-harness.js';

let m: Machine;
beforeAll(() => {
  m = machine();
});

const LT = 8;
const GT = 4;
const EQ = 2;

describe('compares', () => {
  // [assembly, word, ra, rb, CR field value expected in cr7]
  const cases: [string, number, bigint, bigint, number][] = [
    // cmpw 7,4,5: low words signed: 0x80000000 < 1
    ['cmpw 7,4,5', e.cmpw!(7, 4, 5), 0x8000_0000n, 1n, LT],
    // cmplw 7,4,5: low words unsigned: 0x80000000 > 1
    ['cmplw 7,4,5', e.cmplw!(7, 4, 5), 0x8000_0000n, 1n, GT],
    // cmpw ignores the high words: 0xFFFF_FFFF_0000_0005 vs 5
    ['cmpw 7,4,5 (high words ignored)', e.cmpw!(7, 4, 5), 0xffff_ffff_0000_0005n, 5n, EQ],
    // cmpd 7,4,5: 64-bit signed: −2^32 < 5
    ['cmpd 7,4,5', e.cmpd!(7, 4, 5), 0xffff_ffff_0000_0005n, 5n, LT],
    // cmpld 7,4,5: 64-bit unsigned
    ['cmpld 7,4,5', e.cmpld!(7, 4, 5), 0xffff_ffff_0000_0005n, 5n, GT],
    // cmpd with equal high words, low words decide unsigned: 0x1_8000_0000 > 0x1_0000_0001
    ['cmpd 7,4,5 (low words unsigned)', e.cmpd!(7, 4, 5), 0x1_8000_0000n, 0x1_0000_0001n, GT],
    // cmpwi 7,4,-1: −1 == −1 (sign-extended immediate)
    ['cmpwi 7,4,-1', e.cmpwi!(7, 4, -1), 0xffff_ffffn, 0n, EQ],
    // cmpdi 7,4,-1: 0xFFFF_FFFF (positive 64-bit) > −1
    ['cmpdi 7,4,-1', e.cmpdi!(7, 4, -1), 0xffff_ffffn, 0n, GT],
    // cmplwi 7,4,0xFFFF: 0xFFFF == 0xFFFF (zero-extended immediate)
    ['cmplwi 7,4,0xffff', e.cmplwi!(7, 4, 0xffff), 0xffffn, 0n, EQ],
    // cmpldi 7,4,1: 2^63 > 1 unsigned
    ['cmpldi 7,4,1', e.cmpldi!(7, 4, 1), 0x8000_0000_0000_0000n, 0n, GT],
  ];
  it.each(cases)('%s', (_asm, w, a, b, want) => {
    step(m, [w], { gpr: { 4: a, 5: b }, cr: 0xffff_fff0 | 0 });
    expect(crOf(m) & 0xf).toBe(want);
    expect(crOf(m) >>> 4).toBe(0x0fff_ffff); // other fields untouched
  });

  it('copies XER[SO] into the compare result', () => {
    // cmpwi 0,4,0 with SO set → EQ | SO
    step(m, [e.cmpwi!(0, 4, 0)], { xer: 0x8000_0000n });
    expect(crOf(m) >>> 28).toBe(EQ | 1);
  });

  it('cmprb and cmpeqb', () => {
    // cmprb 1,0,4,5: is 'q' in 'a'..'z'
    step(m, [e.cmprb!(1, 0, 4, 5), e.cmprb!(2, 1, 6, 5), e.cmpeqb!(3, 4, 7)], {
      gpr: {
        4: 0x71n,
        5: 0x4130_7a61n /* [0x30,0x41] and [0x61,0x7a] */,
        6: 0x35n,
        7: 0x0102_0304_0506_0771n,
      },
    });
    expect((crOf(m) >>> 24) & 0xf).toBe(GT); // cr1: in range
    expect((crOf(m) >>> 20) & 0xf).toBe(GT); // cr2: '5' in the second range with L = 1
    expect((crOf(m) >>> 16) & 0xf).toBe(GT); // cr3: 0x71 is a byte of r7
  });
});

describe('condition register', () => {
  it('CR logical ops on single bits', () => {
    // bits 0..3 = 1,0,1,0 ; crand 4,0,2 ; cror 5,1,3 ; crxor 6,0,2 ; crnor 7,1,3 ; creqv 8,0,1 ; crandc 9,0,1 ; crorc 10,1,0 ; crnand 11,0,2
    step(
      m,
      [
        e.crand!(4, 0, 2),
        e.cror!(5, 1, 3),
        e.crxor!(6, 0, 2),
        e.crnor!(7, 1, 3),
        e.creqv!(8, 0, 1),
        e.crandc!(9, 0, 1),
        e.crorc!(10, 1, 0),
        e.crnand!(11, 0, 2),
      ],
      { cr: 0xa000_0000 | 0 },
    );
    // bit 4..11 = 1,0,0,1,0,1,0,0
    expect((crOf(m) >>> 20) & 0xff).toBe(0b1001_0100);
  });

  it('mcrf, mfcr, mtcrf, mfocrf, mtocrf, mcrxrx', () => {
    // mcrf 7,0 ; mfcr 3 ; mtcrf 0x81,4 ; mfocrf 5,0x40 ; mcrxrx 6
    step(m, [e.mcrf!(7, 0), e.mfcr!(3), e.mtcrf!(0x81, 4), e.mfocrf!(5, 0x40), e.mcrxrx!(6)], {
      cr: 0x9234_5670 | 0,
      gpr: { 4: 0xffff_ffff_abcd_ef12n },
      xer: 0x6004_0000n, // OV, CA, CA32
    });
    expect(m.vcpu.gpr(3)).toBe(0x9234_5679n); // after mcrf, before mtcrf
    expect(m.vcpu.gpr(5)).toBe(0x0200_0000n); // field 1 of the CR after mtcrf (unchanged 2)
    expect(crOf(m)).toBe(0xa234_56b2 >>> 0); // fields 0 and 7 from r4, field 6 = OV OV32 CA CA32 = 1011
  });

  it('isel picks (RA|0) or RB on a CR bit', () => {
    // isel 3,4,5,2 with CR0.EQ = 1 ; isel 6,0,5,2 (RA = 0 means 0) ; isel 7,4,5,3 (SO = 0 → RB)
    step(m, [e.isel!(3, 4, 5, 2), e.isel!(6, 0, 5, 2), e.isel!(7, 4, 5, 3)], {
      cr: 0x2000_0000,
      gpr: { 0: 77n, 4: 11n, 5: 22n },
    });
    expect([m.vcpu.gpr(3), m.vcpu.gpr(6), m.vcpu.gpr(7)]).toEqual([11n, 0n, 22n]);
  });

  it('setb', () => {
    step(m, [e.setb!(3, 0), e.setb!(4, 1), e.setb!(5, 2)], { cr: 0x8420_0000 | 0 });
    expect([m.vcpu.gpr(3), m.vcpu.gpr(4), m.vcpu.gpr(5)]).toEqual([u64(-1n), 1n, 0n]);
  });
});

/** Runs a program from CODE to its `sc 1`; returns the exit. */
function runTo(words: number[], regs: { cr?: number; ctr?: bigint; lr?: bigint } = {}) {
  m.load(CODE, words);
  for (let n = 0; n < 32; n++) m.vcpu.setGpr(n, 0n);
  m.vcpu.w[R.CR] = regs.cr ?? 0;
  m.vcpu.set64(R.CTR, regs.ctr ?? 0n);
  m.vcpu.set64(R.LR, regs.lr ?? 0n);
  m.vcpu.set(0x1021, BigInt(CODE));
  const x = m.run(1000);
  expect(x.vector).toBe(0xc00);
  return x;
}

describe('branches', () => {
  /** The book's rule for every BO (ignoring the hint bits). */
  function model(bo: number, crBit: number, ctr: bigint): { taken: boolean; ctr: bigint } {
    let c = ctr;
    if (!(bo & 4)) c = (c - 1n) & ((1n << 64n) - 1n);
    const ctrOk = (bo & 4) !== 0 || (c !== 0n) !== ((bo & 2) !== 0);
    const condOk = (bo & 16) !== 0 || crBit === (bo & 8) >> 3;
    return { taken: ctrOk && condOk, ctr: c };
  }

  it('bc: every BO value × CR bit × CTR in {0, 1, 2}', () => {
    for (let bo = 0; bo < 32; bo++) {
      for (const bit of [0, 1]) {
        for (const ctr of [0n, 1n, 2n]) {
          // 0: bc BO,2,+12 ; 4: li 3,1 ; 8: b +8 ; 12: li 3,2 ; 16: sc 1
          const x = runTo([e.bc!(bo, 2, 12), e.li!(3, 1), e.b!(8), e.li!(3, 2), e.sc!(1)], {
            cr: bit ? 0x2000_0000 : 0,
            ctr,
          });
          const want = model(bo, bit, ctr);
          const where = `BO=${bo} bit=${bit} ctr=${ctr}`;
          expect(m.vcpu.gpr(3), where).toBe(want.taken ? 2n : 1n);
          expect(x.retired, where).toBe(want.taken ? 3 : 4);
          expect(m.vcpu.get64(R.CTR), where).toBe(want.ctr);
        }
      }
    }
  });

  it('bcl links even when not taken; bl and b go backwards and forwards', () => {
    // 0: bcl 4,2,+8 (not taken: CR0.EQ = 1 and BO = branch if false) ; 4: mflr 4 ; 8: bl +8 ; 12: sc 1 ; 16: mflr 5 ; 20: b -8
    const x = runTo([e.bcl!(4, 2, 8), e.mflr!(4), e.bl!(8), e.sc!(1), e.mflr!(5), e.b!(-8)], {
      cr: 0x2000_0000,
    });
    expect(m.vcpu.gpr(4)).toBe(BigInt(CODE + 4));
    expect(m.vcpu.gpr(5)).toBe(BigInt(CODE + 12));
    expect(x.retired).toBe(6);
  });

  it('bdnz counts a loop exactly', () => {
    // li 3,0 ; mtctr 4 ; loop: addi 3,3,1 ; bdnz loop ; sc 1   with r4 = 100 set by the first li
    const x = runTo([e.li!(4, 100), e.li!(3, 0), e.mtctr!(4), e.addi!(3, 3, 1), e.bdnz!(-4), e.sc!(1)]);
    expect(m.vcpu.gpr(3)).toBe(100n);
    expect(x.retired).toBe(3 + 2 * 100 + 1);
  });

  it('bclr branches to the old LR and bclrl links after reading it; bcctr uses CTR', () => {
    const target = CODE + 16;
    // 0: blrl (to LR = target, LR ← 4) ; 4: sc 1 ; 8: nop ; 12: nop ; 16: mflr 3 ; 20: bctr (CTR = CODE + 4)
    const x = runTo([e.blrl!(), e.sc!(1), e.nop!(), e.nop!(), e.mflr!(3), e.bctr!()], {
      lr: BigInt(target) | 3n, // the low two bits are ignored
      ctr: BigInt(CODE + 4),
    });
    expect(m.vcpu.gpr(3)).toBe(BigInt(CODE + 4));
    expect(x.retired).toBe(4);
  });

  it('ba jumps to an absolute address', () => {
    // ba CODE+8 ; li 3,1 ; sc 1
    const x = runTo([e.ba!(CODE + 8), e.li!(3, 1), e.sc!(1)]);
    expect([m.vcpu.gpr(3), x.retired]).toEqual([0n, 2]);
  });

  it('bctar branches to TAR when HFSCR allows it', () => {
    m.vcpu.set64(R.TAR, BigInt(CODE + 8));
    // bctar 20,0,0 ; li 3,1 ; sc 1
    const x = runTo([e.bctar!(20, 0, 0), e.li!(3, 1), e.sc!(1)]);
    expect([m.vcpu.gpr(3), x.retired]).toEqual([0n, 2]);
  });

  it('crosses page boundaries by falling through and by branching', () => {
    // Code from CODE + 0xff8 runs into the next page, then branches back a page.
    const at = CODE + 0xff8;
    m.load(at, [e.li!(3, 1), e.li!(4, 2), e.li!(5, 3), e.b!(-0x1000 - 12 + 0x10)]);
    m.load(CODE + 4, [e.sc!(1)]);
    m.vcpu.set(0x1021, BigInt(at));
    const x = m.run(100);
    expect(x.vector).toBe(0xc00);
    expect([m.vcpu.gpr(3), m.vcpu.gpr(4), m.vcpu.gpr(5), x.retired]).toEqual([1n, 2n, 3n, 5]);
  });
});

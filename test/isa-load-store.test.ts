/**
 * Loads and stores of 1/2/4/8 bytes in D, DS, X, update and byte-reversed forms, in both data
 * byte orders; lmw/stmw; dcbz; accesses that cross a page. Memory is checked byte by byte in L1
 * RAM, so the L2RA → L1RA translation is part of what is tested.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { R } from '../cores/vcpu.js';
import { CODE, DATA, interrupted, L2_BASE, type Machine, machine, step, u64 } from './core-harness.js';

let m: Machine;
beforeAll(() => {
  m = machine();
});

/** The bytes of L2 memory at `l2ra`. */
const bytes = (l2ra: number, n: number) => [...m.ram.u8.subarray(L2_BASE + l2ra, L2_BASE + l2ra + n)];
/** Writes bytes into L2 memory. */
const poke = (l2ra: number, b: number[]) => m.ram.u8.set(b, L2_BASE + l2ra);

const PATTERN = [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11];

describe('little-endian loads', () => {
  // [assembly, word, expected r3] with r4 = DATA, r5 = 0, memory at DATA = PATTERN
  const cases: [string, number, bigint][] = [
    ['lbz 3,1(4)', e.lbz!(3, 1, 4), 0x77n],
    ['lhz 3,0(4)', e.lhz!(3, 0, 4), 0x7788n],
    ['lha 3,0(4) (positive)', e.lha!(3, 0, 4), 0x7788n],
    ['lwz 3,0(4)', e.lwz!(3, 0, 4), 0x5566_7788n],
    ['lwa 3,4(4)', e.lwa!(3, 4, 4), 0x1122_3344n],
    ['ld 3,0(4)', e.ld!(3, 0, 4), 0x1122_3344_5566_7788n],
    ['lbzx 3,4,5', e.lbzx!(3, 4, 5), 0x88n],
    ['lhzx 3,4,5', e.lhzx!(3, 4, 5), 0x7788n],
    ['lhax 3,4,5', e.lhax!(3, 4, 5), 0x7788n],
    ['lwzx 3,4,5', e.lwzx!(3, 4, 5), 0x5566_7788n],
    ['lwax 3,4,5', e.lwax!(3, 4, 5), 0x5566_7788n],
    ['ldx 3,4,5', e.ldx!(3, 4, 5), 0x1122_3344_5566_7788n],
    ['lhbrx 3,4,5', e.lhbrx!(3, 4, 5), 0x8877n],
    ['lwbrx 3,4,5', e.lwbrx!(3, 4, 5), 0x8877_6655n],
    ['ldbrx 3,4,5', e.ldbrx!(3, 4, 5), 0x8877_6655_4433_2211n],
    // unaligned, within a page
    ['lwz 3,1(4) (unaligned)', e.lwz!(3, 1, 4), 0x4455_6677n],
    ['ld 3,-8(6) → DATA+... via negative displacement', e.ld!(3, -8, 6), 0x1122_3344_5566_7788n],
  ];
  it.each(cases)('%s', (_asm, w, want) => {
    poke(DATA, PATTERN);
    step(m, [w], { gpr: { 4: BigInt(DATA), 5: 0n, 6: BigInt(DATA + 8) } });
    expect(m.vcpu.gpr(3)).toBe(want);
  });

  it('sign-extends lha / lwa / lhax / lwax of negative values', () => {
    poke(DATA, [0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff]);
    step(m, [e.lha!(3, 0, 4), e.lwa!(5, 0, 4), e.lhax!(6, 4, 7), e.lwax!(8, 4, 9)], {
      gpr: { 4: BigInt(DATA), 7: 6n, 9: 4n },
    });
    // halfword 0x8000 → −0x8000; word 0x0000_8000 is positive; halfword 0xFFFF → −1; word 0xFFFF_8000
    expect([m.vcpu.gpr(3), m.vcpu.gpr(5), m.vcpu.gpr(6), m.vcpu.gpr(8)]).toEqual([
      u64(-0x8000n),
      0x8000n,
      u64(-1n),
      0xffff_ffff_ffff_8000n,
    ]);
  });

  it('updates RA with the EA in the update forms', () => {
    poke(DATA + 16, PATTERN);
    // lbzu 3,16(4) ; lhzu 5,1(4) ; lwzux 6,4,7 ; ldu 8,-8(9) ; lhau 10,0(11) ; lbzux 12,13,14 ; lhzux 15,16,17 ; lwaux 18,19,20 ; ldux 21,22,23
    step(
      m,
      [
        e.lbzu!(3, 16, 4),
        e.lhzu!(5, 1, 4),
        e.lwzux!(6, 4, 7),
        e.ldu!(8, -8, 9),
        e.lhau!(10, 0, 11),
        e.lbzux!(12, 13, 14),
        e.lhzux!(15, 16, 17),
        e.lwaux!(18, 19, 20),
        e.ldux!(21, 22, 23),
      ],
      {
        gpr: {
          4: BigInt(DATA),
          7: 1n,
          9: BigInt(DATA + 24),
          11: BigInt(DATA + 16),
          13: BigInt(DATA),
          14: 17n,
          16: BigInt(DATA + 16),
          17: 0n,
          19: BigInt(DATA + 12),
          20: 4n,
          22: BigInt(DATA),
          23: 16n,
        },
      },
    );
    const g = (n: number) => m.vcpu.gpr(n);
    // r4 moves DATA → DATA+16 (lbzu) → DATA+17 (lhzu) → DATA+18 (lwzux)
    expect([g(3), g(4)]).toEqual([0x88n, BigInt(DATA + 18)]);
    expect(g(5)).toBe(0x6677n);
    expect(g(6)).toBe(0x3344_5566n);
    expect([g(8), g(9)]).toEqual([0x1122_3344_5566_7788n, BigInt(DATA + 16)]);
    expect([g(10), g(11)]).toEqual([0x7788n, BigInt(DATA + 16)]);
    expect([g(12), g(13)]).toEqual([0x77n, BigInt(DATA + 17)]);
    expect([g(15), g(16)]).toEqual([0x7788n, BigInt(DATA + 16)]);
    expect([g(18), g(19)]).toEqual([0x5566_7788n, BigInt(DATA + 16)]);
    expect([g(21), g(22)]).toEqual([0x1122_3344_5566_7788n, BigInt(DATA + 16)]);
  });

  it('reads (RA|0): RA = 0 means zero, not r0', () => {
    poke(0x7ff0, PATTERN);
    // lbz 3,0x7ff2(0) ; lbzx 5,0,4 — with r0 = 0x1000, which must not be added
    step(m, [e.lbz!(3, 0x7ff2, 0), e.lbzx!(5, 0, 4)], { gpr: { 0: 0x1000n, 4: 0x7ff3n } });
    expect([m.vcpu.gpr(3), m.vcpu.gpr(5)]).toEqual([0x66n, 0x55n]);
  });
});

describe('little-endian stores', () => {
  it('stores 1/2/4/8 bytes in every form', () => {
    m.ram.u8.fill(0, L2_BASE + DATA, L2_BASE + DATA + 128);
    const v = 0x1122_3344_5566_7788n;
    // stb 3,0(4) ; sth 3,8(4) ; stw 3,16(4) ; std 3,24(4) ; stbx 3,4,5 (DATA+32) ; sthx 3,4,6 (40) ;
    // stwx 3,4,7 (48) ; stdx 3,4,8 (56) ; sthbrx 3,4,9 (64) ; stwbrx 3,4,10 (72) ; stdbrx 3,4,11 (80)
    step(
      m,
      [
        e.stb!(3, 0, 4),
        e.sth!(3, 8, 4),
        e.stw!(3, 16, 4),
        e.std!(3, 24, 4),
        e.stbx!(3, 4, 5),
        e.sthx!(3, 4, 6),
        e.stwx!(3, 4, 7),
        e.stdx!(3, 4, 8),
        e.sthbrx!(3, 4, 9),
        e.stwbrx!(3, 4, 10),
        e.stdbrx!(3, 4, 11),
      ],
      { gpr: { 3: v, 4: BigInt(DATA), 5: 32n, 6: 40n, 7: 48n, 8: 56n, 9: 64n, 10: 72n, 11: 80n } },
    );
    expect(bytes(DATA, 8)).toEqual([0x88, 0, 0, 0, 0, 0, 0, 0]);
    expect(bytes(DATA + 8, 8)).toEqual([0x88, 0x77, 0, 0, 0, 0, 0, 0]);
    expect(bytes(DATA + 16, 8)).toEqual([0x88, 0x77, 0x66, 0x55, 0, 0, 0, 0]);
    expect(bytes(DATA + 24, 8)).toEqual(PATTERN);
    expect(bytes(DATA + 32, 1)).toEqual([0x88]);
    expect(bytes(DATA + 40, 2)).toEqual([0x88, 0x77]);
    expect(bytes(DATA + 48, 4)).toEqual([0x88, 0x77, 0x66, 0x55]);
    expect(bytes(DATA + 56, 8)).toEqual(PATTERN);
    expect(bytes(DATA + 64, 2)).toEqual([0x77, 0x88]);
    expect(bytes(DATA + 72, 4)).toEqual([0x55, 0x66, 0x77, 0x88]);
    expect(bytes(DATA + 80, 8)).toEqual([...PATTERN].reverse());
  });

  it('update forms store at the EA and write it to RA (storing the old RA when RS = RA)', () => {
    // stdu 1,-16(1): the stack push
    step(
      m,
      [
        e.stdu!(1, -16, 1),
        e.stwu!(3, 4, 5),
        e.stbux!(3, 6, 7),
        e.sthu!(3, 2, 8),
        e.stwux!(3, 9, 10),
        e.stdux!(3, 11, 12),
      ],
      {
        gpr: {
          1: BigInt(DATA + 0x100),
          3: 0x0102_0304_0506_0708n,
          5: BigInt(DATA + 0x200),
          6: BigInt(DATA + 0x300),
          7: 3n,
          8: BigInt(DATA + 0x400),
          9: BigInt(DATA + 0x500),
          10: 8n,
          11: BigInt(DATA + 0x600),
          12: 16n,
        },
      },
    );
    const g = (n: number) => m.vcpu.gpr(n);
    expect(g(1)).toBe(BigInt(DATA + 0xf0));
    expect(bytes(DATA + 0xf0, 8)).toEqual([0x00, 0x81, 0, 0, 0, 0, 0, 0]); // the old r1, DATA + 0x100 = 0x8100
    expect([g(5), bytes(DATA + 0x204, 4)]).toEqual([BigInt(DATA + 0x204), [8, 7, 6, 5]]);
    expect([g(6), bytes(DATA + 0x303, 1)]).toEqual([BigInt(DATA + 0x303), [8]]);
    expect([g(8), bytes(DATA + 0x402, 2)]).toEqual([BigInt(DATA + 0x402), [8, 7]]);
    expect([g(9), bytes(DATA + 0x508, 4)]).toEqual([BigInt(DATA + 0x508), [8, 7, 6, 5]]);
    expect([g(11), bytes(DATA + 0x610, 8)]).toEqual([BigInt(DATA + 0x610), [8, 7, 6, 5, 4, 3, 2, 1]]);
  });

  it('crosses a page boundary in both directions', () => {
    const at = DATA + 0x1000 - 3;
    poke(at, PATTERN);
    step(m, [e.ld!(3, 0, 4), e.lwz!(5, 2, 4), e.std!(6, 0, 7)], {
      gpr: { 4: BigInt(at), 6: 0x0102_0304_0506_0708n, 7: BigInt(DATA + 0x2000 - 5) },
    });
    expect(m.vcpu.gpr(3)).toBe(0x1122_3344_5566_7788n);
    expect(m.vcpu.gpr(5)).toBe(0x3344_5566n);
    expect(bytes(DATA + 0x2000 - 5, 8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('dcbz zeroes the aligned 128-byte block', () => {
    m.ram.u8.fill(0xaa, L2_BASE + DATA, L2_BASE + DATA + 512);
    step(m, [e.dcbz!(4, 5)], { gpr: { 4: BigInt(DATA + 0x100), 5: 0x45n } });
    expect(bytes(DATA + 0xff, 1)).toEqual([0xaa]);
    expect(bytes(DATA + 0x100, 128).every((b) => b === 0)).toBe(true);
    expect(bytes(DATA + 0x180, 1)).toEqual([0xaa]);
  });
});

describe('big-endian data (MSR[LE] = 0)', () => {
  it('loads and stores big-endian, and the byte-reversed forms little-endian', () => {
    const be = machine();
    be.vcpu.set(0x1022, 0x8000_0000_0000_0000n); // MSR: SF only, big-endian
    be.ram.u8.set(PATTERN, L2_BASE + DATA);
    be.loadBE(CODE, [
      e.lhz!(3, 0, 4),
      e.lwz!(5, 0, 4),
      e.ld!(6, 0, 4),
      e.ldbrx!(7, 0, 4),
      e.std!(6, 8, 4),
      e.stw!(5, 16, 4),
      e.stwbrx!(5, 8, 9),
      e.lmw!(29, 0, 4),
      e.stmw!(29, 32, 4),
      e.sc!(1),
    ]);
    be.vcpu.setGpr(4, BigInt(DATA));
    be.vcpu.setGpr(9, BigInt(DATA + 16));
    const x = be.run(100);
    expect([x.vector, x.retired]).toEqual([0xc00, 10]);
    const g = (n: number) => be.vcpu.gpr(n);
    expect(g(3)).toBe(0x8877n);
    expect(g(5)).toBe(0x8877_6655n);
    expect(g(6)).toBe(0x8877_6655_4433_2211n);
    expect(g(7)).toBe(0x1122_3344_5566_7788n);
    const b = (a: number, n: number) => [...be.ram.u8.subarray(L2_BASE + a, L2_BASE + a + n)];
    expect(b(DATA + 8, 8)).toEqual(PATTERN);
    // stw 5,16(4) then stwbrx 5,8,9 (r8 = 0, r9 = DATA + 16) overwrote that word byte-reversed
    expect(b(DATA + 16, 4)).toEqual([0x55, 0x66, 0x77, 0x88]);
    // lmw 29..31 read the three words at DATA; stmw wrote them back at DATA + 32
    expect([g(29), g(30), g(31)]).toEqual([0x8877_6655n, 0x4433_2211n, 0x8877_6655n]);
    expect(b(DATA + 32, 12)).toEqual([...PATTERN, ...PATTERN.slice(0, 4)]);
  });

  it('lmw/stmw in little-endian mode take an alignment interrupt (SRR0 = the instruction, DAR = EA)', () => {
    const x = m;
    x.load(CODE, [e.lmw!(29, 0, 4)]);
    x.vcpu.setGpr(4, BigInt(DATA));
    x.vcpu.set(0x1021, BigInt(CODE));
    const r = x.run(1);
    expect([interrupted(r), r.retired]).toEqual([0x600, 0]); // the interrupted lmw retires nothing
    expect(x.vcpu.get64(R.SRR0)).toBe(BigInt(CODE));
    expect(x.vcpu.get64(R.DAR)).toBe(BigInt(DATA));
  });
});

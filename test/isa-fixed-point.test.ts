/**
 * Fixed-point arithmetic: hand-written edge cases (assembly in the comment, expected values from the
 * book's RTL), then every add/subtract/multiply/divide form checked against a BigInt model of the
 * book's RTL over edge operands, in all four OE/Rc variants.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { type Machine, machine, step, u64, xerOf } from './core-harness.js';

const XER_CA = 0x2000_0000n;
const XER_SO = 0x8000_0000n;

let m: Machine;
beforeAll(() => {
  m = machine();
});

/** CR0 field (0..15) of the machine. */
const cr0 = () => m.vcpu.w[448]! >>> 28;

describe('hand-checked edge cases', () => {
  // [assembly, words, inputs, expected r3, expected XER flags "SO OV CA OV32 CA32", expected CR0]
  const cases: [string, number[], Record<number, bigint>, bigint, string, number][] = [
    // addi 3,0,-1 → r3 = -1 (RA = 0 means the value 0, not r0)
    ['addi 3,0,-1', [e.addi!(3, 0, -1)], { 0: 99n }, u64(-1n), '00000', 0],
    // addis 3,4,0x8000 → r4 + 0xFFFF_FFFF_8000_0000 (sign-extended)
    ['addis 3,4,-32768', [e.addis!(3, 4, -0x8000)], { 4: 0x1_0000_0000n }, 0x8000_0000n, '00000', 0],
    // add. 3,4,5: 0x7FFF..F + 1 → 0x8000..0, CR0 LT, no XER change without OE
    [
      'add. 3,4,5',
      [e.add_!(3, 4, 5)],
      { 4: 0x7fff_ffff_ffff_ffffn, 5: 1n },
      0x8000_0000_0000_0000n,
      '00000',
      0b1000,
    ],
    // addo. 3,4,5: the same with OE: OV, SO; OV32 from the low words: 0xFFFFFFFF + 1 does not overflow signed 32
    [
      'addo. 3,4,5',
      [e.addo_!(3, 4, 5)],
      { 4: 0x7fff_ffff_ffff_ffffn, 5: 1n },
      0x8000_0000_0000_0000n,
      '11000',
      0b1001,
    ],
    // addo 3,4,5: 0x7FFFFFFF + 1 in the low word: OV32 only
    ['addo 3,4,5 (OV32)', [e.addo!(3, 4, 5)], { 4: 0x7fff_ffffn, 5: 1n }, 0x8000_0000n, '00010', 0],
    // addc 3,4,5: -1 + 1 → 0, CA and CA32
    ['addc 3,4,5', [e.addc!(3, 4, 5)], { 4: u64(-1n), 5: 1n }, 0n, '00101', 0],
    // addc 3,4,5: 0xFFFFFFFF + 1: CA32 only
    ['addc 3,4,5 (CA32)', [e.addc!(3, 4, 5)], { 4: 0xffff_ffffn, 5: 1n }, 0x1_0000_0000n, '00001', 0],
    // subf 3,4,5: 5 − 7 = −2
    ['subf 3,4,5', [e.subf!(3, 4, 5)], { 4: 7n, 5: 5n }, u64(-2n), '00000', 0],
    // subfc 3,4,5: 7 − 5: CA = 1 (no borrow)
    ['subfc 3,4,5', [e.subfc!(3, 4, 5)], { 4: 5n, 5: 7n }, 2n, '00101', 0],
    // subfc 3,4,5: 5 − 7: CA = 0 (borrow)
    ['subfc 3,4,5 borrow', [e.subfc!(3, 4, 5)], { 4: 7n, 5: 5n }, u64(-2n), '00000', 0],
    // neg 3,4 of the most negative value: itself; nego sets OV
    ['nego 3,4', [e.nego!(3, 4)], { 4: 0x8000_0000_0000_0000n }, 0x8000_0000_0000_0000n, '11000', 0],
    // subfic 3,4,0: 0 − 0 = 0 with CA = 1
    ['subfic 3,4,0', [e.subfic!(3, 4, 0)], { 4: 0n }, 0n, '00101', 0],
    // addic. 3,4,-1: 0 + (−1) = −1, CA = 0, CR0 LT
    ['addic. 3,4,-1', [e.addic_!(3, 4, -1)], { 4: 0n }, u64(-1n), '00000', 0b1000],
    // mullw 3,4,5: 0x10000 × 0x10000 = 2^32 (a 64-bit product)
    ['mullw 3,4,5', [e.mullw!(3, 4, 5)], { 4: 0x1_0000n, 5: 0x1_0000n }, 0x1_0000_0000n, '00000', 0],
    // mullwo 3,4,5: −1 × −1 = 1, no overflow
    ['mullwo 3,4,5', [e.mullwo!(3, 4, 5)], { 4: 0xffff_ffffn, 5: 0xffff_ffffn }, 1n, '00000', 0],
    // mulld 3,4,5: 2^32 × 2^32 = 2^64 → 0 (mulldo would overflow)
    ['mulldo 3,4,5', [e.mulldo!(3, 4, 5)], { 4: 0x1_0000_0000n, 5: 0x1_0000_0000n }, 0n, '11010', 0],
    // mulhdu 3,4,5: (2^64−1)^2 >> 64 = 2^64 − 2
    ['mulhdu 3,4,5', [e.mulhdu!(3, 4, 5)], { 4: u64(-1n), 5: u64(-1n) }, u64(-2n), '00000', 0],
    // mulhd 3,4,5: −1 × −1 high = 0
    ['mulhd 3,4,5', [e.mulhd!(3, 4, 5)], { 4: u64(-1n), 5: u64(-1n) }, 0n, '00000', 0],
    // divw 3,4,5: −7 / 2 = −3 (truncates), sign-extended
    ['divw 3,4,5', [e.divw!(3, 4, 5)], { 4: u64(-7n), 5: 2n }, u64(-3n), '00000', 0],
    // divwo 3,4,5: x / 0 → undefined (nestsim: 0) with OV, OV32, SO
    ['divwo 3,4,5 by 0', [e.divwo!(3, 4, 5)], { 4: 5n, 5: 0n }, 0n, '11010', 0],
    // divwo 3,4,5: −2^31 / −1 overflows
    ['divwo 3,4,5 overflow', [e.divwo!(3, 4, 5)], { 4: 0x8000_0000n, 5: 0xffff_ffffn }, 0n, '11010', 0],
    // divdu 3,4,5: (2^64 − 1) / 3, beyond 2^53 (the BigInt path)
    ['divdu 3,4,5 big', [e.divdu!(3, 4, 5)], { 4: u64(-1n), 5: 3n }, 0x5555_5555_5555_5555n, '00000', 0],
    // divd 3,4,5: −2^63 / −1 overflows
    ['divdo 3,4,5 overflow', [e.divdo!(3, 4, 5)], { 4: 0x8000_0000_0000_0000n, 5: u64(-1n) }, 0n, '11010', 0],
    // divwe 3,4,5: (1 << 32) / 2 = 2^31 does not fit a signed word → undefined, OV
    ['divweo 3,4,5', [e.divweo!(3, 4, 5)], { 4: 1n, 5: 2n }, 0n, '11010', 0],
    // divweu 3,4,5: (1 << 32) / 2 = 2^31 fits unsigned
    ['divweu 3,4,5', [e.divweu!(3, 4, 5)], { 4: 1n, 5: 2n }, 0x8000_0000n, '00000', 0],
    // divde 3,4,5: (1 << 64) / 4 = 2^62
    ['divde 3,4,5', [e.divde!(3, 4, 5)], { 4: 1n, 5: 4n }, 0x4000_0000_0000_0000n, '00000', 0],
    // modsw 3,4,5: −7 % 2 = −1 (sign of the dividend)
    ['modsw 3,4,5', [e.modsw!(3, 4, 5)], { 4: u64(-7n), 5: 2n }, u64(-1n), '00000', 0],
    // modud 3,4,5: (2^64 − 1) % 10 = 5
    ['modud 3,4,5', [e.modud!(3, 4, 5)], { 4: u64(-1n), 5: 10n }, 5n, '00000', 0],
    // maddld 3,4,5,6: 3 × 4 + (−1) = 11
    ['maddld 3,4,5,6', [e.maddld!(3, 4, 5, 6)], { 4: 3n, 5: 4n, 6: u64(-1n) }, 11n, '00000', 0],
    // maddhdu 3,4,5,6: high of (2^64−1)^2 + (2^64−1) = 2^64 − 1
    [
      'maddhdu 3,4,5,6',
      [e.maddhdu!(3, 4, 5, 6)],
      { 4: u64(-1n), 5: u64(-1n), 6: u64(-1n) },
      u64(-1n),
      '00000',
      0,
    ],
    // addpcis 3,1 (lnia + 0x10000): NIA of the next instruction + 0x10000
    ['addpcis 3,1', [e.addpcis!(3, 1)], {}, 0x1004n + 0x1_0000n, '00000', 0],
  ];

  it.each(cases)('%s', (_asm, words, gpr, r3, xer, cr) => {
    step(m, words, { gpr });
    expect(m.vcpu.gpr(3)).toBe(r3);
    expect(xerOf(m)).toBe(xer);
    expect(cr0()).toBe(cr);
  });

  it('adde and addze chain a carry through 128 bits', () => {
    // addc 3,5,7 ; adde 4,6,8 — (r6:r5) + (r8:r7) = (2^64 − 1) + 1 in the low half
    step(m, [e.addc!(3, 5, 7), e.adde!(4, 6, 8)], { gpr: { 5: u64(-1n), 6: 1n, 7: 1n, 8: 2n } });
    expect([m.vcpu.gpr(3), m.vcpu.gpr(4)]).toEqual([0n, 4n]);
    // addze 3,4 with CA = 1
    step(m, [e.addze!(3, 4)], { gpr: { 4: 41n }, xer: XER_CA });
    expect(m.vcpu.gpr(3)).toBe(42n);
  });

  it('keeps SO sticky: a later OE = 1 instruction without overflow leaves it set', () => {
    // addo 3,4,5 (overflows) ; addo 6,7,8 (does not)
    step(m, [e.addo!(3, 4, 5), e.addo!(6, 7, 8)], {
      gpr: { 4: 0x7fff_ffff_ffff_ffffn, 5: 1n, 7: 1n, 8: 1n },
    });
    expect(xerOf(m)).toBe('10000');
    // add. with SO already set copies it into CR0
    step(m, [e.add_!(3, 4, 5)], { gpr: { 4: 1n, 5: 1n }, xer: XER_SO });
    expect(cr0()).toBe(0b0101);
  });
});

// ---- reference models (BigInt, straight from the RTL) ----

const M64 = (1n << 64n) - 1n;
const s64 = (x: bigint) => BigInt.asIntN(64, x);
const s32 = (x: bigint) => BigInt.asIntN(32, x);
const lo32 = (x: bigint) => x & 0xffff_ffffn;

const EDGE: bigint[] = [
  0n,
  1n,
  2n,
  3n,
  10n,
  0x7fn,
  0x80n,
  0xffn,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fff_ffffn,
  0x8000_0000n,
  0xffff_ffffn,
  0x1_0000_0000n,
  0x1_7fff_ffffn,
  0x20_0000_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n,
  0x8000_0000_0000_0001n,
  0xffff_ffff_8000_0000n,
  0xffff_ffff_ffff_fff6n,
  0xffff_ffff_ffff_fffen,
  M64,
  0x1234_5678_9abc_def0n,
  0xfedc_ba98_7654_3210n,
];

interface Out {
  rt: bigint;
  ca?: boolean;
  ca32?: boolean;
  ov?: boolean;
  ov32?: boolean;
}

/** a + b + cin with the book's carry and overflow definitions. */
function addRef(a: bigint, b: bigint, cin: bigint): Out {
  const sum = a + b + cin;
  const sum32 = lo32(a) + lo32(b) + cin;
  const ssum = s64(a) + s64(b) + cin;
  const ssum32 = s32(a) + s32(b) + cin;
  return {
    rt: sum & M64,
    ca: sum > M64,
    ca32: sum32 > 0xffff_ffffn,
    ov: ssum !== s64(ssum),
    ov32: ssum32 !== s32(ssum32),
  };
}

type Model = (a: bigint, b: bigint, ca: bigint) => Out | 'undefined';

const not = (x: bigint) => ~x & M64;
const divOv = (rt: bigint, bad: boolean): Out | 'undefined' =>
  bad ? 'undefined' : { rt, ov: false, ov32: false };

/** [mnemonic, sets CA, model] for the XO-form instructions (RT=3, RA=4, RB=5). */
const XO_MODELS: [string, boolean, Model][] = [
  ['add', false, (a, b) => addRef(a, b, 0n)],
  ['addc', true, (a, b) => addRef(a, b, 0n)],
  ['adde', true, (a, b, c) => addRef(a, b, c)],
  ['addze', true, (a, _b, c) => addRef(a, 0n, c)],
  ['addme', true, (a, _b, c) => addRef(a, M64, c)],
  ['subf', false, (a, b) => addRef(not(a), b, 1n)],
  ['subfc', true, (a, b) => addRef(not(a), b, 1n)],
  ['subfe', true, (a, b, c) => addRef(not(a), b, c)],
  ['subfze', true, (a, _b, c) => addRef(not(a), 0n, c)],
  ['subfme', true, (a, _b, c) => addRef(not(a), M64, c)],
  ['neg', false, (a) => addRef(not(a), 0n, 1n)],
  [
    'mullw',
    false,
    (a, b) => {
      const p = s32(a) * s32(b);
      const ov = p !== s32(p);
      return { rt: p & M64, ov, ov32: ov };
    },
  ],
  [
    'mulld',
    false,
    (a, b) => {
      const p = s64(a) * s64(b);
      const ov = p !== s64(p);
      return { rt: p & M64, ov, ov32: ov };
    },
  ],
  [
    'divw',
    false,
    (a, b) => {
      const x = s32(a);
      const y = s32(b);
      return divOv((x / (y || 1n)) & M64, y === 0n || (x === -(2n ** 31n) && y === -1n));
    },
  ],
  ['divwu', false, (a, b) => divOv(lo32(a) / (lo32(b) || 1n), lo32(b) === 0n)],
  [
    'divd',
    false,
    (a, b) => {
      const x = s64(a);
      const y = s64(b);
      return divOv((x / (y || 1n)) & M64, y === 0n || (x === -(2n ** 63n) && y === -1n));
    },
  ],
  ['divdu', false, (a, b) => divOv(a / (b || 1n), b === 0n)],
  [
    'divwe',
    false,
    (a, b) => {
      const q = (s32(a) << 32n) / (s32(b) || 1n);
      return divOv(q & M64, s32(b) === 0n || q !== s32(q));
    },
  ],
  [
    'divweu',
    false,
    (a, b) => {
      const q = (lo32(a) << 32n) / (lo32(b) || 1n);
      return divOv(q, lo32(b) === 0n || q > 0xffff_ffffn);
    },
  ],
  [
    'divde',
    false,
    (a, b) => {
      const q = (s64(a) << 64n) / (s64(b) || 1n);
      return divOv(q & M64, b === 0n || q !== s64(q));
    },
  ],
  [
    'divdeu',
    false,
    (a, b) => {
      const q = (a << 64n) / (b || 1n);
      return divOv(q, b === 0n || q > M64);
    },
  ],
];

/** [mnemonic, model] for forms without OE (mulh*, mod*); RT=3, RA=4, RB=5. */
const PLAIN_MODELS: [string, (a: bigint, b: bigint) => bigint | 'undefined'][] = [
  ['mulhw', (a, b) => ((s32(a) * s32(b)) >> 32n) & 0xffff_ffffn],
  ['mulhwu', (a, b) => (lo32(a) * lo32(b)) >> 32n],
  ['mulhd', (a, b) => ((s64(a) * s64(b)) >> 64n) & M64],
  ['mulhdu', (a, b) => (a * b) >> 64n],
  [
    'modsw',
    (a, b) =>
      s32(b) === 0n || (s32(a) === -(2n ** 31n) && s32(b) === -1n) ? 'undefined' : (s32(a) % s32(b)) & M64,
  ],
  ['moduw', (a, b) => (lo32(b) === 0n ? 'undefined' : lo32(a) % lo32(b))],
  [
    'modsd',
    (a, b) =>
      b === 0n || (s64(a) === -(2n ** 63n) && s64(b) === -1n) ? 'undefined' : (s64(a) % s64(b)) & M64,
  ],
  ['modud', (a, b) => (b === 0n ? 'undefined' : a % b)],
];

/** Expected CR0 (LT GT EQ SO) of a 64-bit result. */
const cr0Of = (rt: bigint, so: boolean) => (s64(rt) < 0n ? 8 : s64(rt) > 0n ? 4 : 2) | (so ? 1 : 0);

describe('against the RTL model, every edge operand pair', () => {
  it.each(XO_MODELS)('%s in its four OE/Rc variants', (name, setsCa, model) => {
    let n = 0;
    for (const a of EDGE) {
      for (const b of EDGE) {
        const cin = BigInt(n++ & 1);
        const want = model(a, b, cin);
        for (const [suffix, oe, rc] of [
          ['', false, false],
          ['_', false, true],
          ['o', true, false],
          ['o_', true, true],
        ] as const) {
          step(m, [e[name + suffix]!(...(name.match(/ze|me|neg/) ? [3, 4] : [3, 4, 5]))], {
            gpr: { 4: a, 5: b },
            xer: cin ? XER_CA : 0n,
          });
          const v = m.vcpu;
          const where = `${name}${suffix} ${a.toString(16)} ${b.toString(16)} ca=${cin}`;
          if (want === 'undefined') {
            // Result undefined by the book; OV must still report the overflow.
            if (oe) expect(xerOf(m).slice(0, 2), where).toBe('11');
            continue;
          }
          expect(v.gpr(3), where).toBe(want.rt);
          const x = xerOf(m);
          const so = oe && want.ov === true;
          expect(x[0], `${where} SO`).toBe(so ? '1' : '0');
          if (oe) expect(x[1] + x[3], `${where} OV OV32`).toBe(`${want.ov ? 1 : 0}${want.ov32 ? 1 : 0}`);
          else expect(x[1] + x[3], `${where} OV untouched`).toBe('00');
          const caWant = setsCa ? `${want.ca ? 1 : 0}${want.ca32 ? 1 : 0}` : `${cin}0`;
          expect(x[2] + x[4], `${where} CA CA32`).toBe(caWant);
          if (rc) expect(cr0(), `${where} CR0`).toBe(cr0Of(want.rt, so));
        }
      }
    }
  });

  it.each(PLAIN_MODELS)('%s', (name, model) => {
    for (const a of EDGE) {
      for (const b of EDGE) {
        const want = model(a, b);
        step(m, [e[name]!(3, 4, 5)], { gpr: { 4: a, 5: b } });
        if (want !== 'undefined')
          expect(m.vcpu.gpr(3), `${name} ${a.toString(16)} ${b.toString(16)}`).toBe(want);
      }
    }
  });

  it('maddld / maddhd / maddhdu', () => {
    for (const a of EDGE) {
      for (const b of EDGE.slice(0, 12)) {
        for (const c of [0n, 1n, M64, 0x8000_0000_0000_0000n]) {
          step(m, [e.maddld!(3, 4, 5, 6), e.maddhd!(7, 4, 5, 6), e.maddhdu!(8, 4, 5, 6)], {
            gpr: { 4: a, 5: b, 6: c },
          });
          const where = `${a.toString(16)} ${b.toString(16)} ${c.toString(16)}`;
          expect(m.vcpu.gpr(3), where).toBe((a * b + c) & M64);
          expect(m.vcpu.gpr(7), where).toBe(((s64(a) * s64(b) + s64(c)) >> 64n) & M64);
          expect(m.vcpu.gpr(8), where).toBe((a * b + c) >> 64n);
        }
      }
    }
  });

  it('mulli, addic, subfic with every immediate edge', () => {
    for (const a of EDGE) {
      for (const imm of [0, 1, -1, 0x7fff, -0x8000, 1234]) {
        step(m, [e.mulli!(3, 4, imm), e.addic!(6, 4, imm), e.subfic!(7, 4, imm)], { gpr: { 4: a } });
        const where = `${a.toString(16)} ${imm}`;
        const x = BigInt(imm);
        expect(m.vcpu.gpr(3), where).toBe((s64(a) * x) & M64);
        expect(m.vcpu.gpr(6), where).toBe((a + x) & M64);
        const sub = addRef(not(a), x & M64, 1n);
        expect(m.vcpu.gpr(7), where).toBe(sub.rt);
        expect(xerOf(m)[2], `${where} CA of subfic`).toBe(sub.ca ? '1' : '0');
      }
    }
  });
});

/**
 * Logical, rotate and shift instructions against BigInt models of the book's RTL, with the shift
 * amounts the book singles out (0, 31, 32, 63, 64 and the amounts with the "shift everything out"
 * bit set), plus hand-checked cases.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { type Machine, machine, step, u64, xerOf } from './core-harness.js';

let m: Machine;
beforeAll(() => {
  m = machine();
});

const M64 = (1n << 64n) - 1n;
const s64 = (x: bigint) => BigInt.asIntN(64, x);
const s32 = (x: bigint) => BigInt.asIntN(32, x);
const lo32 = (x: bigint) => x & 0xffff_ffffn;
const cr0 = () => m.vcpu.w[448]! >>> 28;
const cr0Of = (rt: bigint) => (s64(rt) < 0n ? 8 : s64(rt) > 0n ? 4 : 2);

const VALUES: bigint[] = [
  0n,
  1n,
  0x80n,
  0xffn,
  0x8000n,
  0x7fff_ffffn,
  0x8000_0000n,
  0xffff_ffffn,
  0x1_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n,
  0xffff_ffff_8000_0001n,
  M64,
  0x1234_5678_9abc_def0n,
  0xfedc_ba98_7654_3210n,
  0x00ff_00ff_ff00_0100n,
];
const SHIFTS = [0, 1, 5, 31, 32, 33, 63, 64, 65, 95, 127];

const rotl64 = (x: bigint, n: number) => ((x << BigInt(n)) | (x >> BigInt((64 - n) % 64))) & M64;
const rotl32 = (x: bigint, n: number) => rotl64(lo32(x) | (lo32(x) << 32n), n);
/** MASK(mb, me) of the book (64-bit, IBM numbering, wrapping). */
function mask(mb: number, me: number): bigint {
  let v = 0n;
  for (let b = 0; b < 64; b++) {
    const inside = mb <= me ? b >= mb && b <= me : b >= mb || b <= me;
    if (inside) v |= 1n << BigInt(63 - b);
  }
  return v;
}

describe('logical', () => {
  const two: [string, (a: bigint, b: bigint) => bigint][] = [
    ['and', (a, b) => a & b],
    ['andc', (a, b) => a & ~b & M64],
    ['or', (a, b) => a | b],
    ['orc', (a, b) => (a | ~b) & M64],
    ['xor', (a, b) => a ^ b],
    ['nand', (a, b) => ~(a & b) & M64],
    ['nor', (a, b) => ~(a | b) & M64],
    ['eqv', (a, b) => ~(a ^ b) & M64],
  ];
  it.each(two)('%s and %s. (RA ← op(RS, RB), CR0)', (name, f) => {
    for (const a of VALUES) {
      for (const b of VALUES) {
        step(m, [e[name]!(3, 4, 5), e[`${name}_`]!(6, 4, 5)], { gpr: { 4: a, 5: b } });
        const want = f(a, b);
        expect([m.vcpu.gpr(3), m.vcpu.gpr(6)], `${name} ${a} ${b}`).toEqual([want, want]);
        expect(cr0()).toBe(cr0Of(want));
      }
    }
  });

  const one: [string, (a: bigint) => bigint, boolean][] = [
    ['extsb', (a) => BigInt.asIntN(8, a) & M64, true],
    ['extsh', (a) => BigInt.asIntN(16, a) & M64, true],
    ['extsw', (a) => s32(a) & M64, true],
    ['cntlzw', (a) => BigInt(Math.clz32(Number(lo32(a)))), true],
    ['cntlzd', (a) => BigInt(64 - a.toString(2).length + (a === 0n ? 1 : 0)), true],
    [
      'cnttzw',
      (a) =>
        lo32(a) === 0n ? 32n : BigInt(lo32(a).toString(2).length - lo32(a).toString(2).lastIndexOf('1') - 1),
      true,
    ],
    [
      'cnttzd',
      (a) => (a === 0n ? 64n : BigInt(a.toString(2).length - a.toString(2).lastIndexOf('1') - 1)),
      true,
    ],
    ['popcntd', (a) => BigInt([...a.toString(2)].filter((x) => x === '1').length), false],
    [
      'popcntw',
      (a) => {
        const c = (x: bigint) => BigInt([...x.toString(2)].filter((y) => y === '1').length);
        return (c(a >> 32n) << 32n) | c(lo32(a));
      },
      false,
    ],
    [
      'popcntb',
      (a) => {
        let v = 0n;
        for (let k = 0n; k < 8n; k++) {
          const byte = (a >> (8n * k)) & 0xffn;
          v |= BigInt([...byte.toString(2)].filter((y) => y === '1').length) << (8n * k);
        }
        return v;
      },
      false,
    ],
    [
      'prtyd',
      (a) => {
        let p = 0n;
        for (let k = 0n; k < 8n; k++) p ^= (a >> (8n * k)) & 1n;
        return p;
      },
      false,
    ],
    [
      'prtyw',
      (a) => {
        const p = (w: bigint) => (w ^ (w >> 8n) ^ (w >> 16n) ^ (w >> 24n)) & 1n;
        return (p(a >> 32n) << 32n) | p(lo32(a));
      },
      false,
    ],
  ];
  it.each(one)('%s', (name, f, hasRc) => {
    for (const a of VALUES) {
      step(m, [e[name]!(3, 4)], { gpr: { 4: a } });
      expect(m.vcpu.gpr(3), `${name} ${a.toString(16)}`).toBe(f(a));
      if (hasRc) {
        step(m, [e[`${name}_`]!(3, 4)], { gpr: { 4: a } });
        expect(cr0()).toBe(cr0Of(f(a)));
      }
    }
  });

  it('the immediate forms', () => {
    for (const a of VALUES) {
      for (const u of [0, 1, 0x7fff, 0x8000, 0xffff]) {
        step(
          m,
          [
            e.andi_!(3, 4, u),
            e.andis_!(5, 4, u),
            e.ori!(6, 4, u),
            e.oris!(7, 4, u),
            e.xori!(8, 4, u),
            e.xoris!(9, 4, u),
          ],
          {
            gpr: { 4: a },
          },
        );
        const U = BigInt(u);
        expect(
          [3, 5, 6, 7, 8, 9].map((n) => m.vcpu.gpr(n)),
          `${a.toString(16)} ${u}`,
        ).toEqual([a & U, a & (U << 16n), a | U, a | (U << 16n), a ^ U, a ^ (U << 16n)]);
      }
      // andis. sets CR0 from its own result
      step(m, [e.andis_!(3, 4, 0x8000)], { gpr: { 4: a } });
      expect(cr0()).toBe(cr0Of(a & 0x8000_0000n));
    }
  });

  it('cmpb and bpermd', () => {
    // cmpb 3,4,5: bytes equal → 0xFF
    step(m, [e.cmpb!(3, 4, 5)], { gpr: { 4: 0x1122_3344_5566_7788n, 5: 0x1100_3300_5500_7700n } });
    expect(m.vcpu.gpr(3)).toBe(0xff00_ff00_ff00_ff00n);
    // bpermd 3,4,5: indexes 0 (MSB of RB), 63 (LSB), 64 (out of range → 0), 1
    step(m, [e.bpermd!(3, 4, 5)], { gpr: { 4: 0x00_3f_40_01_00_00_00_00n, 5: 0x8000_0000_0000_0001n } });
    // indexes 0 → 1, 63 → 1, 64 → 0, 1 → 0, then four 0s → RB bit 0 = 1 each: 0b1100_1111
    expect(m.vcpu.gpr(3)).toBe(0xcfn);
  });
});

describe('rotates', () => {
  it('rlwinm / rlwnm / rlwimi, every MB/ME pair at a few shifts, including the wrapping masks', () => {
    for (const s of [0x8000_0001n, 0x1234_5678_9abc_def0n, M64]) {
      for (const sh of [0, 1, 16, 31]) {
        for (let mb = 0; mb < 32; mb += 3) {
          for (let me = 0; me < 32; me += 5) {
            const r = rotl32(s, sh);
            const mk = mask(mb + 32, me + 32);
            const old = 0x5555_5555_5555_5555n;
            step(m, [e.rlwinm!(3, 4, sh, mb, me), e.rlwnm!(6, 4, 5, mb, me), e.rlwimi!(7, 4, sh, mb, me)], {
              gpr: { 4: s, 5: BigInt(sh) | 0x20n /* bits above 5 ignored */, 7: old },
            });
            const where = `${s.toString(16)} sh=${sh} mb=${mb} me=${me}`;
            expect(m.vcpu.gpr(3), where).toBe(r & mk);
            expect(m.vcpu.gpr(6), where).toBe(r & mk);
            expect(m.vcpu.gpr(7), where).toBe((r & mk) | (old & ~mk & M64));
          }
        }
      }
    }
  });

  it('rldicl / rldicr / rldic / rldimi / rldcl / rldcr over shifts and masks', () => {
    for (const s of [0x8000_0000_0000_0001n, 0x1234_5678_9abc_def0n]) {
      for (const sh of [0, 1, 31, 32, 33, 63]) {
        for (const mb of [0, 1, 31, 32, 33, 62, 63]) {
          const old = 0xaaaa_5555_aaaa_5555n;
          step(
            m,
            [
              e.rldicl!(3, 4, sh, mb),
              e.rldicr!(6, 4, sh, mb),
              e.rldic!(7, 4, sh, mb),
              e.rldimi!(8, 4, sh, mb),
              e.rldcl!(9, 4, 5, mb),
              e.rldcr!(10, 4, 5, mb),
            ],
            { gpr: { 4: s, 5: BigInt(sh) | 0x40n, 8: old } },
          );
          const r = rotl64(s, sh);
          const where = `${s.toString(16)} sh=${sh} mb=${mb}`;
          expect(m.vcpu.gpr(3), where).toBe(r & mask(mb, 63));
          expect(m.vcpu.gpr(6), where).toBe(r & mask(0, mb));
          expect(m.vcpu.gpr(7), where).toBe(r & mask(mb, 63 - sh));
          expect(m.vcpu.gpr(8), where).toBe((r & mask(mb, 63 - sh)) | (old & ~mask(mb, 63 - sh) & M64));
          expect(m.vcpu.gpr(9), where).toBe(r & mask(mb, 63));
          expect(m.vcpu.gpr(10), where).toBe(r & mask(0, mb));
        }
      }
    }
  });
});

describe('shifts', () => {
  it('slw / srw / sld / srd by 0, 1, 31, 32, 33, 63, 64, 65, 127', () => {
    for (const s of VALUES) {
      for (const n of SHIFTS) {
        step(m, [e.slw!(3, 4, 5), e.srw!(6, 4, 5), e.sld!(7, 4, 5), e.srd!(8, 4, 5)], {
          gpr: { 4: s, 5: BigInt(n) | 0xff00n /* only the low 6/7 bits count */ },
        });
        const w = n & 63;
        const d = n & 127;
        const where = `${s.toString(16)} n=${n}`;
        expect(m.vcpu.gpr(3), where).toBe(w < 32 ? (lo32(s) << BigInt(w)) & 0xffff_ffffn : 0n);
        expect(m.vcpu.gpr(6), where).toBe(w < 32 ? lo32(s) >> BigInt(w) : 0n);
        expect(m.vcpu.gpr(7), where).toBe(d < 64 ? (s << BigInt(d)) & M64 : 0n);
        expect(m.vcpu.gpr(8), where).toBe(d < 64 ? s >> BigInt(d) : 0n);
      }
    }
  });

  it('sraw / srawi / srad / sradi with CA set only when a negative value loses one bits', () => {
    for (const s of VALUES) {
      for (const n of SHIFTS) {
        const w = n & 63;
        const x32 = s32(s);
        const want32 = w < 32 ? x32 >> BigInt(w) : x32 >> 31n;
        const lost32 = w === 0 ? 0n : w < 32 ? x32 & ((1n << BigInt(w)) - 1n) : x32;
        const ca32 = x32 < 0n && lost32 !== 0n ? '1' : '0';
        step(m, [e.sraw!(3, 4, 5)], { gpr: { 4: s, 5: BigInt(n) } });
        expect(m.vcpu.gpr(3), `sraw ${s.toString(16)} ${n}`).toBe(want32 & M64);
        expect(xerOf(m).slice(2), `sraw CA ${s.toString(16)} ${n}`).toBe(`${ca32}0${ca32}`);
        if (n < 32) {
          step(m, [e.srawi!(3, 4, n)], { gpr: { 4: s } });
          expect(m.vcpu.gpr(3)).toBe(want32 & M64);
          expect(xerOf(m)[2]).toBe(ca32);
        }
        const d = Math.min(n & 127, 64);
        const x = s64(s);
        const want = d < 64 ? x >> BigInt(d) : x >> 63n;
        const lost = x & ((1n << BigInt(d)) - 1n);
        const ca = x < 0n && lost !== 0n ? '1' : '0';
        step(m, [e.srad!(3, 4, 5)], { gpr: { 4: s, 5: BigInt(n) } });
        expect(m.vcpu.gpr(3), `srad ${s.toString(16)} ${n}`).toBe(want & M64);
        expect(xerOf(m)[2], `srad CA ${s.toString(16)} ${n}`).toBe(ca);
        if (n < 64) {
          step(m, [e.sradi_!(3, 4, n)], { gpr: { 4: s } });
          expect(m.vcpu.gpr(3), `sradi ${n}`).toBe(want & M64);
          expect(xerOf(m)[2]).toBe(ca);
          expect(cr0()).toBe(cr0Of(want & M64));
        }
      }
    }
  });

  it('extswsli', () => {
    for (const s of VALUES) {
      for (const n of [0, 1, 31, 32, 63]) {
        step(m, [e.extswsli!(3, 4, n)], { gpr: { 4: s } });
        expect(m.vcpu.gpr(3)).toBe((s32(s) << BigInt(n)) & M64);
      }
    }
  });

  it('hand-checked: srawi 3,4,1 of −1 gives −1 with CA; slw by 32 gives 0', () => {
    // srawi 3,4,1
    step(m, [e.srawi!(3, 4, 1)], { gpr: { 4: u64(-1n) } });
    expect([m.vcpu.gpr(3), xerOf(m)]).toEqual([u64(-1n), '00101']);
    // slw 3,4,5 with r5 = 32
    step(m, [e.slw!(3, 4, 5)], { gpr: { 4: 1n, 5: 32n } });
    expect(m.vcpu.gpr(3)).toBe(0n);
    // sld 3,4,5 with r5 = 63: bit 0 moves to the sign bit
    step(m, [e.sld!(3, 4, 5)], { gpr: { 4: 1n, 5: 63n } });
    expect(m.vcpu.gpr(3)).toBe(0x8000_0000_0000_0000n);
  });
});

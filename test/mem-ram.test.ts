import { describe, expect, it } from 'vitest';
import { bswap32, GuestRam, RamFault } from '../mem/ram.js';
import { asL1RA, type L1RA } from '../mem/types.js';

const KIB64 = 0x1_0000;

/** A seeded xorshift32, so a failure names the values that broke it. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function randomRam(seed: number): { ram: GuestRam; dv: DataView } {
  const ram = GuestRam.create(KIB64);
  const rnd = prng(seed);
  for (let i = 0; i < ram.size; i++) ram.u8[i] = rnd() & 0xff;
  // An independent DataView on the same bytes is the reference.
  return { ram, dv: new DataView(ram.sab) };
}

/** Offsets at every alignment, including the last valid byte positions. */
function offsets(size: number, n: number): L1RA[] {
  const out: L1RA[] = [];
  for (let a = 0; a < 64; a++) out.push(asL1RA(a));
  for (let a = 4000; a < 4200; a += 7) out.push(asL1RA(a));
  for (let a = size - n - 16; a <= size - n; a++) out.push(asL1RA(a));
  return out;
}

const big64 = (hi: number, lo: number) => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

describe('GuestRam sizes', () => {
  it('rejects sizes that are not a multiple of 64 KiB or exceed 4 GiB', () => {
    expect(() => GuestRam.create(0)).toThrow(RangeError);
    expect(() => GuestRam.create(KIB64 + 4096)).toThrow(/multiple of 64 KiB/);
    expect(() => GuestRam.create(2 ** 32 + KIB64)).toThrow(RangeError);
  });

  it('attaches to an existing buffer and sees the same bytes', () => {
    const a = GuestRam.create(KIB64);
    const b = GuestRam.attach(a.sab);
    a.write32be(asL1RA(8), 0xcafef00d);
    expect(b.read32be(asL1RA(8))).toBe(0xcafef00d);
    expect(b.size).toBe(KIB64);
  });

  it('allocates a 4 GiB RAM whose last doubleword is addressable', () => {
    const ram = GuestRam.create(2 ** 32);
    const last = asL1RA(2 ** 32 - 8);
    expect(ram.write64be(last, 0x01234567, 0x89abcdef | 0)).toBe(RamFault.Ok);
    const out = new Int32Array(2);
    expect(ram.read64be(last, out, 0)).toBe(RamFault.Ok);
    expect(big64(out[0]!, out[1]!)).toBe(0x0123_4567_89ab_cdefn);
    expect(ram.read8(asL1RA(2 ** 32))).toBe(RamFault.OutOfBounds);
    expect(ram.cas64be(last, 0x01234567, 0x89abcdef | 0, 0, 1, out, 0)).toBe(1);
    expect(ram.read32be(asL1RA(2 ** 32 - 4))).toBe(1);
  });
});

describe('GuestRam accessors against DataView', () => {
  it('reads 1/2/4/8/16 bytes in both byte orders', () => {
    const { ram, dv } = randomRam(0x1234);
    const out = new Int32Array(6);
    for (const a of offsets(ram.size, 1)) expect(ram.read8(a)).toBe(dv.getUint8(a));
    for (const a of offsets(ram.size, 2)) {
      expect(ram.read16le(a), `16le @${a}`).toBe(dv.getUint16(a, true));
      expect(ram.read16be(a), `16be @${a}`).toBe(dv.getUint16(a, false));
    }
    for (const a of offsets(ram.size, 4)) {
      expect(ram.read32le(a), `32le @${a}`).toBe(dv.getUint32(a, true));
      expect(ram.read32be(a), `32be @${a}`).toBe(dv.getUint32(a, false));
    }
    for (const a of offsets(ram.size, 8)) {
      expect(ram.read64le(a, out, 1)).toBe(RamFault.Ok);
      expect(big64(out[1]!, out[2]!), `64le @${a}`).toBe(dv.getBigUint64(a, true));
      expect(ram.read64be(a, out, 3)).toBe(RamFault.Ok);
      expect(big64(out[3]!, out[4]!), `64be @${a}`).toBe(dv.getBigUint64(a, false));
    }
    for (const a of offsets(ram.size, 16)) {
      expect(ram.read128be(a, out, 2)).toBe(RamFault.Ok);
      const be = (big64(out[2]!, out[3]!) << 64n) | big64(out[4]!, out[5]!);
      expect(be, `128be @${a}`).toBe((dv.getBigUint64(a, false) << 64n) | dv.getBigUint64(a + 8, false));
      expect(ram.read128le(a, out, 0)).toBe(RamFault.Ok);
      const le = (big64(out[0]!, out[1]!) << 64n) | big64(out[2]!, out[3]!);
      expect(le, `128le @${a}`).toBe((dv.getBigUint64(a + 8, true) << 64n) | dv.getBigUint64(a, true));
    }
  });

  it('writes 1/2/4/8/16 bytes in both byte orders, touching nothing else', () => {
    const rnd = prng(77);
    const q = new Int32Array(4);
    for (const n of [1, 2, 4, 8, 16]) {
      for (const le of [true, false]) {
        const { ram, dv } = randomRam(n * 10 + (le ? 1 : 0));
        const copy = new Uint8Array(ram.u8);
        for (const a of offsets(ram.size, n)) {
          const hi = rnd() | 0;
          const lo = rnd() | 0;
          let st: number;
          if (n === 1) st = ram.write8(a, lo);
          else if (n === 2) st = le ? ram.write16le(a, lo) : ram.write16be(a, lo);
          else if (n === 4) st = le ? ram.write32le(a, lo) : ram.write32be(a, lo);
          else if (n === 8) st = le ? ram.write64le(a, hi, lo) : ram.write64be(a, hi, lo);
          else {
            q.set([hi, lo, rnd() | 0, rnd() | 0]);
            st = le ? ram.write128le(a, q, 0) : ram.write128be(a, q, 0);
          }
          expect(st).toBe(RamFault.Ok);
          // Reference: apply the same store to a plain copy through DataView.
          const ref = new DataView(copy.buffer);
          if (n === 1) ref.setUint8(a, lo & 0xff);
          else if (n === 2) ref.setUint16(a, lo & 0xffff, le);
          else if (n === 4) ref.setInt32(a, lo, le);
          else if (n === 8) ref.setBigUint64(a, big64(hi, lo), le);
          else {
            const v = (big64(q[0]!, q[1]!) << 64n) | big64(q[2]!, q[3]!);
            const hi64 = v >> 64n;
            const lo64 = v & 0xffff_ffff_ffff_ffffn;
            ref.setBigUint64(le ? a + 8 : a, hi64, le);
            ref.setBigUint64(le ? a : a + 8, lo64, le);
          }
          expect(new Uint8Array(dv.buffer, a, n)).toEqual(new Uint8Array(copy.buffer, a, n));
        }
        expect(ram.u8).toEqual(copy);
      }
    }
  });
});

describe('GuestRam bounds', () => {
  const ram = GuestRam.create(KIB64);
  const out = new Int32Array(4);
  const end = KIB64;
  const bad = (a: number) => asL1RA(a);

  it('returns OutOfBounds for every access that reaches past the end or starts below 0', () => {
    for (const [n, a] of [
      [1, end],
      [2, end - 1],
      [4, end - 3],
      [8, end - 7],
      [16, end - 15],
      [4, -4],
      [4, Number.NaN],
    ] as const) {
      const at = bad(a);
      if (n === 1) {
        expect(ram.read8(at)).toBe(RamFault.OutOfBounds);
        expect(ram.write8(at, 1)).toBe(RamFault.OutOfBounds);
        expect(ram.cas8(at, 0, 1)).toBe(RamFault.OutOfBounds);
      } else if (n === 2) {
        expect(ram.read16le(at)).toBe(RamFault.OutOfBounds);
        expect(ram.read16be(at)).toBe(RamFault.OutOfBounds);
        expect(ram.write16le(at, 1)).toBe(RamFault.OutOfBounds);
        expect(ram.write16be(at, 1)).toBe(RamFault.OutOfBounds);
      } else if (n === 4) {
        expect(ram.read32le(at)).toBe(RamFault.OutOfBounds);
        expect(ram.read32be(at)).toBe(RamFault.OutOfBounds);
        expect(ram.write32le(at, 1)).toBe(RamFault.OutOfBounds);
        expect(ram.write32be(at, 1)).toBe(RamFault.OutOfBounds);
        expect(ram.cas32le(at, 0, 1)).toBe(RamFault.OutOfBounds);
      } else if (n === 8) {
        expect(ram.read64le(at, out, 0)).toBe(RamFault.OutOfBounds);
        expect(ram.read64be(at, out, 0)).toBe(RamFault.OutOfBounds);
        expect(ram.write64le(at, 1, 1)).toBe(RamFault.OutOfBounds);
        expect(ram.write64be(at, 1, 1)).toBe(RamFault.OutOfBounds);
      } else {
        expect(ram.read128le(at, out, 0)).toBe(RamFault.OutOfBounds);
        expect(ram.read128be(at, out, 0)).toBe(RamFault.OutOfBounds);
        expect(ram.write128le(at, out, 0)).toBe(RamFault.OutOfBounds);
        expect(ram.write128be(at, out, 0)).toBe(RamFault.OutOfBounds);
      }
    }
    expect(ram.cas64le(bad(end), 0, 0, 0, 0, out, 0)).toBe(RamFault.OutOfBounds);
    // The last in-bounds position of each size still works.
    expect(ram.read8(bad(end - 1))).toBe(0);
    expect(ram.read128be(bad(end - 16), out, 0)).toBe(RamFault.Ok);
  });

  it('returns Misaligned for compare-exchange that is not naturally aligned', () => {
    expect(ram.cas16le(bad(1), 0, 1)).toBe(RamFault.Misaligned);
    expect(ram.cas16be(bad(3), 0, 1)).toBe(RamFault.Misaligned);
    expect(ram.cas32le(bad(2), 0, 1)).toBe(RamFault.Misaligned);
    expect(ram.cas32be(bad(6), 0, 1)).toBe(RamFault.Misaligned);
    expect(ram.cas64le(bad(4), 0, 0, 0, 1, out, 0)).toBe(RamFault.Misaligned);
    expect(ram.cas64be(bad(12), 0, 0, 0, 1, out, 0)).toBe(RamFault.Misaligned);
    expect(ram.u8.every((b) => b === 0)).toBe(true);
  });
});

describe('GuestRam compare-exchange (single thread)', () => {
  it('swaps only on a match, in both byte orders, leaving neighbours alone', () => {
    const ram = GuestRam.create(KIB64);
    const a = asL1RA(0x100);
    ram.write32be(a, 0x11223344);
    // Byte 2 (0x33) of the word: a mismatch returns the value and changes nothing.
    expect(ram.cas8(asL1RA(0x102), 0x99, 0xaa)).toBe(0x33);
    expect(ram.read32be(a)).toBe(0x11223344);
    expect(ram.cas8(asL1RA(0x102), 0x33, 0xaa)).toBe(0x33);
    expect(ram.read32be(a)).toBe(0x1122aa44);
    expect(ram.cas16be(asL1RA(0x102), 0xaa44, 0xbeef)).toBe(0xaa44);
    expect(ram.read32be(a)).toBe(0x1122beef);
    expect(ram.cas16le(asL1RA(0x100), 0x2211, 0x5566)).toBe(0x2211);
    expect(ram.read32be(a)).toBe(0x6655beef);
    expect(ram.cas32be(a, 0x6655beef, 0x01020304)).toBe(0x6655beef);
    expect(ram.cas32le(a, 0x04030201, 0xfffffffe)).toBe(0x04030201);
    expect(ram.read32be(a)).toBe(0xfeffffff);
    expect(ram.cas32le(a, 0, 1)).toBe(0xfffffffe);
    expect(ram.read32be(a)).toBe(0xfeffffff);
  });

  it('swaps a doubleword as one value in both byte orders and reports what it found', () => {
    const ram = GuestRam.create(KIB64);
    const out = new Int32Array(2);
    const a = asL1RA(0x208);
    ram.write64be(a, 0x8000_0000 | 0, 0x0000_0100);
    expect(ram.cas64be(a, 0x8000_0000 | 0, 0x0000_0100, 0x8000_0000 | 0, 0x0000_0180, out, 0)).toBe(1);
    expect(big64(out[0]!, out[1]!)).toBe(0x8000_0000_0000_0100n);
    expect(ram.dv.getBigUint64(a, false)).toBe(0x8000_0000_0000_0180n);
    expect(ram.cas64be(a, 0, 0, 1, 1, out, 0)).toBe(0);
    expect(big64(out[0]!, out[1]!)).toBe(0x8000_0000_0000_0180n);
    expect(ram.cas64le(a, 0x8001_0000 | 0, 0x0000_0080, 7, 9, out, 0)).toBe(1);
    expect(ram.dv.getBigUint64(a, true)).toBe(0x0000_0007_0000_0009n);
  });

  it('bswap32 reverses bytes', () => {
    expect(bswap32(0x11223344) >>> 0).toBe(0x44332211);
    expect(bswap32(0x80000001) >>> 0).toBe(0x01000080);
  });
});

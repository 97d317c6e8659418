/** The ID bitmap of spec §9.3: T3 of §12, flat positions, fill/zero, ordered iteration. */
import { describe, expect, it } from 'vitest';
import { BITMAP_BITS, BITMAP_WORDS, bitOfId, GsbBitmap, idOfBit } from '../hypervisor/gsb/bitmap.js';
import { ELEMENT_RANGES, ELEMENTS } from '../hypervisor/gsb/elements.js';

/** Every ID of the seven ranges except BLANK, as T3 lists them. */
function t3Ids(): number[] {
  const ids: number[] = [];
  for (const r of ELEMENT_RANGES) for (let id = Math.max(r.first, 1); id <= r.last; id++) ids.push(id);
  return ids;
}

describe('T3 bitmap', () => {
  it('set/test/clear every ID, then for_each visits exactly 181 IDs and copies B bit for bit', () => {
    const a = new GsbBitmap();
    const b = new GsbBitmap();
    let i = 0;
    for (const id of t3Ids()) {
      a.set(id);
      b.set(id);
      expect(a.test(id)).toBe(true);
      a.clear(id);
      expect(a.test(id)).toBe(false);
      i++;
    }
    expect(i).toBe(181);
    expect(a.isEmpty()).toBe(true);
    const c = new GsbBitmap();
    let j = 0;
    b.forEach((id) => {
      c.set(id);
      j++;
    });
    expect(j).toBe(i);
    expect(c.equals(b)).toBe(true);
    expect([...c.words]).toEqual([...b.words]);
  });
});

describe('layout', () => {
  it('182 bits in 6 words, ranges at the spec positions', () => {
    expect(BITMAP_BITS).toBe(182);
    expect(BITMAP_WORDS).toBe(6);
    const anchors: [number, number][] = [
      [0x0000, 0],
      [0x0006, 6],
      [0x0800, 7],
      [0x0804, 11],
      [0x0c00, 12],
      [0x0c02, 14],
      [0x1000, 15],
      [0x1053, 98],
      [0x2000, 99],
      [0x200e, 113],
      [0x3000, 114],
      [0x303f, 177],
      [0xf000, 178],
      [0xf003, 181],
    ];
    for (const [id, bit] of anchors) {
      expect(bitOfId(id)).toBe(bit);
      expect(idOfBit(bit)).toBe(id);
    }
  });

  it('every defined element has its own bit, and the bits round-trip', () => {
    const bits = new Set(ELEMENTS.map((e) => bitOfId(e.id)));
    expect(bits.size).toBe(ELEMENTS.length);
    for (const e of ELEMENTS) expect(idOfBit(bitOfId(e.id))).toBe(e.id);
  });

  it('reserved IDs map to bit 0, which is never iterated', () => {
    for (const id of [0x0007, 0x0805, 0x0c03, 0x1054, 0x200f, 0x3040, 0xf004, 0xffff])
      expect(bitOfId(id)).toBe(0);
    const m = new GsbBitmap();
    m.set(0x0007);
    expect(m.test(0x0000)).toBe(true);
    expect(m.isEmpty()).toBe(true);
    expect(m.size()).toBe(0);
    expect(m.next(0)).toBe(0);
  });
});

describe('fill, zero, iteration order', () => {
  it('fill sets the 181 IDs but not BLANK; zero clears all', () => {
    const m = new GsbBitmap();
    m.fill();
    expect(m.test(0x0000)).toBe(false);
    expect(m.size()).toBe(181);
    const ids: number[] = [];
    m.forEach((id) => {
      ids.push(id);
    });
    expect(ids).toEqual(t3Ids());
    expect(ids[0]).toBe(0x0001);
    expect(ids.at(-1)).toBe(0xf003);
    expect(m.words[5]).toBe((1 << (182 - 160)) - 1);
    m.zero();
    expect(m.isEmpty()).toBe(true);
    expect([...m.words]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('next() walks a sparse set in ID order across word boundaries', () => {
    const m = new GsbBitmap();
    const ids = [0xf003, 0x0c02, 0x1053, 0x2000, 0x0003, 0x303f, 0x3000, 0x101f, 0x1020];
    for (const id of ids) m.set(id);
    const seen: number[] = [];
    for (let id = m.next(0); id !== 0; id = m.next(id)) seen.push(id);
    expect(seen).toEqual([...ids].sort((x, y) => x - y));
    expect(m.next(0xf003)).toBe(0);
    expect(m.next(0x0007)).toBe(0);
  });

  it('union, copyFrom and a view on caller words (e.g. shared memory)', () => {
    const words = new Uint32Array(new SharedArrayBuffer(4 * BITMAP_WORDS));
    const shared = new GsbBitmap(words);
    const a = new GsbBitmap();
    a.set(0x1000);
    const b = new GsbBitmap();
    b.set(0x2000);
    shared.copyFrom(a);
    shared.union(b);
    expect(shared.size()).toBe(2);
    expect(words[0]).toBe(1 << 15);
    expect(() => new GsbBitmap(new Uint32Array(5))).toThrow(RangeError);
  });
});

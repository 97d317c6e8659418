/**
 * GSB codec: the Linux kunit vectors of spec §12 (T1, T2, T4, T5, T6), the builder rules of §9.2,
 * golden bytes per value size class (hand-checked against §7), and the zero-allocation readers.
 */
import { describe, expect, it } from 'vitest';
import { findElement, forEachElement, GsbBuilder, GsbCursor, Put } from '../hypervisor/gsb/codec.js';
import { formatHex, parseHex } from '../hypervisor/gsb/text.js';
import { decodeGsb, encodedSize, encodeGsb, linuxCapacity } from '../hypervisor/gsb/values.js';
import {
  readBufferDescriptor,
  readPartitionTable,
  readProcessTable,
  readU32,
  readU64,
  readU64Hi,
  readU64Lo,
  readVec128,
  roundUpPow2,
  viewOf,
} from '../hypervisor/gsb/wire.js';

/** Bytes from spaced hex as the spec prints it. */
function hex(text: string): Uint8Array {
  const r = parseHex(text);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

describe('T1 creating a buffer', () => {
  it('capacity 0x100 stays 0x100, length 4, count 0', () => {
    const b = GsbBuilder.alloc(0x100);
    expect(b.capacity).toBe(0x100);
    expect(b.length).toBe(4);
    expect(b.count).toBe(0);
    expect(formatHex(b.bytes())).toBe('00000000');
  });

  it('rounds other sizes up to a power of two', () => {
    expect(GsbBuilder.alloc(92).capacity).toBe(128);
    expect(GsbBuilder.alloc(65).capacity).toBe(128);
    expect(GsbBuilder.alloc(64).capacity).toBe(64);
    expect(GsbBuilder.alloc(0).capacity).toBe(4);
    expect([1, 2, 3, 4, 5, 1023, 1024, 1025].map(roundUpPow2)).toEqual([1, 2, 4, 4, 8, 1024, 1024, 2048]);
  });
});

describe('T2 adding elements', () => {
  it('raw, u64 and vector puts, iteration, length 48, reset', () => {
    const b = GsbBuilder.alloc(0x1000);
    // Step 1: raw bytes in host (little-endian) order go in untouched.
    const raw = new Uint8Array(8);
    new DataView(raw.buffer).setBigUint64(0, 0xdeadbeefn, true);
    expect(b.put(0x1000, raw)).toBe(Put.OK);
    // Step 2: put_u64 is big-endian on the wire.
    expect(b.putU64(0x1001, 0xcafef00dn)).toBe(Put.OK);
    expect(formatHex(b.bytes().subarray(16 + 4, 16 + 12))).toBe('00000000cafef00d');
    // Step 3: a 128-bit vector, dw0 first.
    expect(b.putVec128(0x3000, { dw0: 1n, dw1: 2n })).toBe(Put.OK);
    expect(b.length).toBe(4 + 12 + 12 + 20);
    expect(b.count).toBe(3);

    const seen: [number, number, number][] = [];
    const view = viewOf(b.region());
    expect(
      forEachElement(view, 0, b.capacity, (id, off, len) => {
        seen.push([id, off, len]);
        return undefined;
      }),
    ).toBe(true);
    expect(seen.map(([id, , len]) => [id, len])).toEqual([
      [0x1000, 8],
      [0x1001, 8],
      [0x3000, 16],
    ]);
    expect(b.region().subarray(seen[0]![1], seen[0]![1] + 8)).toEqual(raw);
    expect(readU64(view, seen[1]![1])).toBe(0xcafef00dn);
    expect(readVec128(view, seen[2]![1])).toEqual({ dw0: 1n, dw1: 2n });

    b.reset();
    expect(b.count).toBe(0);
    expect(b.length).toBe(4);
    expect(view.getUint32(0)).toBe(0);
  });
});

describe('builder rules (spec §9.2 additional vectors)', () => {
  it('a length that differs from the table fails and writes nothing', () => {
    const b = GsbBuilder.alloc(64);
    expect(b.put(0x1000, new Uint8Array(4))).toBe(Put.BAD_SIZE);
    expect(b.reserve(0x2000, 8)).toBe(Put.BAD_SIZE);
    expect(b.putU32(0x1000, 1)).toBe(Put.BAD_SIZE);
    expect(b.putU64(0x2000, 1n)).toBe(Put.BAD_SIZE);
    expect(b.length).toBe(4);
    expect(b.count).toBe(0);
  });

  it('capacity 16: GPR0 fills it, GPR1 fails with nothing written', () => {
    const b = GsbBuilder.alloc(16);
    expect(b.putU64(0x1000, 0xdeadbeefn)).toBe(Put.OK);
    expect(b.length).toBe(16);
    const before = formatHex(b.region());
    expect(b.putU64(0x1001, 1n)).toBe(Put.NO_SPACE);
    expect(formatHex(b.region())).toBe(before);
    expect(b.count).toBe(1);
  });

  it('refuses reserved IDs and values wider than the element', () => {
    const b = GsbBuilder.alloc(256);
    expect(b.put(0x0007, new Uint8Array(0))).toBe(Put.UNKNOWN_ID);
    expect(b.putU32(0x2000, 0x1_0000_0000)).toBe(Put.BAD_VALUE);
    expect(b.putU32(0x2000, -1)).toBe(Put.BAD_VALUE);
    expect(b.putU32(0x2000, 1.5)).toBe(Put.BAD_VALUE);
    expect(b.putU64(0x1000, 1n << 64n)).toBe(Put.BAD_VALUE);
    expect(b.putU64(0x1000, -1n)).toBe(Put.BAD_VALUE);
    expect(b.putVec128(0x3000, { dw0: 1n << 64n, dw1: 0n })).toBe(Put.BAD_VALUE);
    expect(b.putPartitionTable({ address: -1n, eaBits: 52n, rootBytes: 0n })).toBe(Put.BAD_VALUE);
    expect(b.putAddressBytes(0x0c00, { address: 0n, bytes: 1n << 64n })).toBe(Put.BAD_VALUE);
    expect(b.count).toBe(0);
  });

  it('BLANK takes any length; putRaw skips the table for buffers L0 must reject', () => {
    const b = GsbBuilder.alloc(64);
    expect(b.put(0x0000, new Uint8Array(7))).toBe(Put.OK);
    expect(b.reserve(0x0000)).toBe(4 + 11 + 4);
    expect(b.putRaw(0x2000, new Uint8Array(8))).toBe(Put.OK);
    expect(formatHex(b.bytes())).toBe(
      `00000003 0000 0007 ${'00'.repeat(7)} 0000 0000 2000 0008 ${'00'.repeat(8)}`.replaceAll(' ', ''),
    );
  });

  it('writes into a region of a larger array (a run output buffer in L1 RAM)', () => {
    const ram = new Uint8Array(256).fill(0xaa);
    const b = GsbBuilder.over(ram, 100, 32);
    expect(ram.subarray(100, 104)).toEqual(new Uint8Array(4));
    const at = b.reserve(0x1021);
    expect(at).toBe(108);
    new DataView(ram.buffer).setBigUint64(at, 0x1234n);
    expect(formatHex(b.bytes())).toBe('00000001102100080000000000001234');
    expect(ram[99]).toBe(0xaa);
    expect(ram[116]).toBe(0xaa);
    expect(b.putVec128(0x3000, { dw0: 0n, dw1: 0n })).toBe(Put.NO_SPACE);
    expect(() => GsbBuilder.over(ram, 250, 32)).toThrow(RangeError);
  });
});

describe('T4 parsing', () => {
  it('finds GPR0 = 0xdeadbeef', () => {
    const b = GsbBuilder.alloc(64);
    b.putU64(0x1000, 0xdeadbeefn);
    const view = viewOf(b.region());
    const off = findElement(view, 0, b.capacity, 0x1000);
    expect(off).toBe(8);
    expect(readU64(view, off)).toBe(0xdeadbeefn);
    expect(findElement(view, 0, b.capacity, 0x1001)).toBe(-1);
  });

  it('a later duplicate wins', () => {
    const b = GsbBuilder.alloc(64);
    b.putU64(0x102c, 1n);
    b.putU64(0x102c, 2n);
    const view = viewOf(b.region());
    expect(readU64(view, findElement(view, 0, b.capacity, 0x102c))).toBe(2n);
  });
});

/** The T5 message, filled in code order (spec §12). */
const T5_HEX =
  '00000005' +
  '1000 0008 00000000deadbeef' +
  '2000 0004 00000001' +
  `0005 0018 ${'00'.repeat(24)}` +
  `0006 0010 ${'00'.repeat(16)}` +
  `0c00 0010 ${'00'.repeat(16)}`;

describe('T5 message', () => {
  const elements = [
    { id: 0x1000, value: 0xdeadbeefn },
    { id: 0x2000, value: 1 },
    { id: 0x0005, value: { address: 0n, eaBits: 0n, rootBytes: 0n } },
    { id: 0x0006, value: { address: 0n, bytes: 0n } },
    { id: 0x0c00, value: { address: 0n, bytes: 0n } },
  ];

  it('needs 88 bytes of elements, capacity 128, and encodes to the 92 bytes of the spec', () => {
    expect(encodedSize(elements) - 4).toBe(28 + 20 + 20 + 12 + 8);
    expect(linuxCapacity(elements)).toBe(128);
    const r = encodeGsb(elements, 88);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.region.length).toBe(128);
    expect(r.bytes.length).toBe(92);
    expect(r.bytes).toEqual(hex(T5_HEX));
    expect(r.region.subarray(92)).toEqual(new Uint8Array(36));
  });

  it('refresh: GPR0 and CR come back from the bytes', () => {
    const d = decodeGsb(hex(T5_HEX));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.used).toBe(92);
    expect(d.elements.map((e) => [e.name, e.value])).toEqual([
      ['GPR0', 0xdeadbeefn],
      ['CR', 1],
      ['PARTITION_TABLE', { address: 0n, eaBits: 0n, rootBytes: 0n }],
      ['PROCESS_TABLE', { address: 0n, bytes: 0n }],
      ['RUN_INPUT', { address: 0n, bytes: 0n }],
    ]);
  });
});

describe('T6 host-wide message', () => {
  const values = [0xdeadbeefn, 0xffff_ffff_ffff_ffffn, 0xffn, 0xff_ffffn, 0xdeadbeefn];

  it('five 12-byte elements exactly fill 64 bytes; the last put succeeds', () => {
    const b = GsbBuilder.alloc(4 + 5 * 12);
    expect(b.capacity).toBe(64);
    for (const [i, v] of values.entries()) expect(b.putU64(0x0800 + i, v)).toBe(Put.OK);
    expect(b.length).toBe(64);
    expect(b.putU32(0x0003, 0)).toBe(Put.NO_SPACE);
    const d = decodeGsb(b.region());
    expect(d.ok && d.elements.map((e) => e.value)).toEqual(values);
    expect(d.ok && d.used).toBe(64);
  });
});

describe('golden bytes, one per size class (hand-checked against spec §7)', () => {
  const cases: [string, { id: number; value: never }, string][] = [
    ['4-byte CR', v(0x2000, 0x12345678), '00000001 2000 0004 12345678'],
    ['8-byte GPR1 (the spec §7 example)', v(0x1001, 0xcafef00dn), '00000001 1001 0008 00000000cafef00d'],
    [
      '8-byte GPR31 with bit 63 set',
      v(0x101f, 0x8000_0000_0000_0001n),
      '00000001 101f 0008 8000000000000001',
    ],
    [
      '16-byte vector VSR63, dw0 first',
      v(0x303f, { dw0: 0x0123_4567_89ab_cdefn, dw1: 0xfedc_ba98_7654_3210n }),
      '00000001 303f 0010 0123456789abcdef fedcba9876543210',
    ],
    [
      '16-byte buffer descriptor RUN_OUTPUT',
      v(0x0c01, { address: 0x1_0000n, bytes: 128n }),
      '00000001 0c01 0010 0000000000010000 0000000000000080',
    ],
    [
      '16-byte process table',
      v(0x0006, { address: 0x200_0000n, bytes: 4096n }),
      '00000001 0006 0010 0000000002000000 0000000000001000',
    ],
    [
      '24-byte partition table',
      v(0x0005, { address: 0x123_0000n, eaBits: 52n, rootBytes: 65536n }),
      '00000001 0005 0018 0000000001230000 0000000000000034 0000000000010000',
    ],
  ];
  function v(id: number, value: unknown) {
    return { id, value: value as never };
  }

  it.each(cases)('%s', (_, element, expected) => {
    const r = encodeGsb([element]);
    expect(r.ok && formatHex(r.bytes)).toBe(expected.replaceAll(' ', ''));
    const d = decodeGsb(hex(expected));
    expect(d.ok && d.elements[0]!.value).toEqual(element.value);
  });

  it('typed readers see the same fields', () => {
    const view = viewOf(hex('0000000000000001 0000000000000034 0000000000010000 00000000ffffffff'));
    expect(readPartitionTable(view, 0)).toEqual({ address: 1n, eaBits: 52n, rootBytes: 65536n });
    expect(readProcessTable(view, 8)).toEqual({ address: 52n, bytes: 65536n });
    expect(readBufferDescriptor(view, 16)).toEqual({ address: 65536n, bytes: 0xffff_ffffn });
    expect(readU32(view, 28)).toBe(0xffff_ffff);
  });

  it('hi/lo halves are unsigned and lose no bits', () => {
    const view = viewOf(hex('fedcba9876543210'));
    expect(readU64Hi(view, 0)).toBe(0xfedcba98);
    expect(readU64Lo(view, 0)).toBe(0x76543210);
    const b = GsbBuilder.alloc(16);
    expect(b.putU64Halves(0x1000, 0xfedcba98 | 0, 0x76543210)).toBe(Put.OK);
    expect(formatHex(b.bytes())).toBe('0000000110000008fedcba9876543210');
  });
});

describe('walking: capacity, not used length', () => {
  it('a buffer with spare capacity walks by header count', () => {
    const b = GsbBuilder.alloc(4096);
    b.putU32(0x2000, 7);
    const c = new GsbCursor();
    expect(c.start(viewOf(b.region()), 0, 4096)).toBe(true);
    expect(c.next()).toBe(true);
    expect([c.id, c.length, c.valueOffset, c.byteOffset, c.index]).toEqual([0x2000, 4, 8, 4, 0]);
    expect(c.next()).toBe(false);
    expect(c.overrun).toBe(false);
    expect(c.used).toBe(12);
  });

  it('an element past capacity is an overrun that names it', () => {
    const bytes = hex('00000002 1001 0008 00000000cafef00d 1002 0008 0000');
    const c = new GsbCursor();
    c.start(viewOf(bytes), 0, bytes.length);
    expect(c.next()).toBe(true);
    expect(c.next()).toBe(false);
    expect([c.overrun, c.index, c.byteOffset, c.id, c.length]).toEqual([true, 1, 16, 0x1002, 8]);
    expect(forEachElement(viewOf(bytes), 0, bytes.length, () => undefined)).toBe(false);
  });

  it('capacity beyond the view is clipped to it, never a throw', () => {
    const bytes = hex('00000001 1001 0008 00000000cafef00d');
    expect(forEachElement(viewOf(bytes), 0, 1 << 20, () => undefined)).toBe(true);
    expect(forEachElement(viewOf(bytes), 0, 15, () => undefined)).toBe(false);
    expect(forEachElement(viewOf(bytes), 14, 100, () => undefined)).toBe(false);
    expect(findElement(viewOf(bytes), 0, 15, 0x1001)).toBe(-1);
  });

  it('the visitor can stop early', () => {
    const bytes = hex('00000003 2000 0004 00000001 2001 0004 00000002 2002 0004 00000003');
    const ids: number[] = [];
    forEachElement(viewOf(bytes), 0, bytes.length, (id) => {
      ids.push(id);
      return ids.length < 2;
    });
    expect(ids).toEqual([0x2000, 0x2001]);
  });
});

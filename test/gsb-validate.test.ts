/**
 * The L0 validator: every rejected case with its PAPR code and R4 (spec §5.5, §5.6, §9.2, §12 and
 * the decisions table), the scope matrix of every request kind, buffer-level codes, and the silent
 * LPCR/MSR masking.
 */
import { describe, expect, it } from 'vitest';
import { GsbBuilder } from '../hypervisor/gsb/codec.js';
import { elementById } from '../hypervisor/gsb/elements.js';
import { copyMaskedValue, maskSettable, maskSettableHi, maskSettableLo } from '../hypervisor/gsb/mask.js';
import { parseHex } from '../hypervisor/gsb/text.js';
import {
  checkGsb,
  describeFailure,
  newGsbCheck,
  REQUEST_KINDS,
  type RequestKind,
  validateGsb,
} from '../hypervisor/gsb/validate.js';
import { viewOf } from '../hypervisor/gsb/wire.js';
import { DefaultLimits, H } from '../hypervisor/papr.js';

function hex(text: string): Uint8Array {
  const r = parseHex(text);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** A buffer holding one zero-valued element of `id` with its table size. */
function one(id: number): Uint8Array {
  const b = GsbBuilder.alloc(64);
  expect(b.reserve(id)).toBeGreaterThan(0);
  return b.bytes().slice();
}

describe('scope and access matrix', () => {
  // One element of every (scope, access) kind; ✓ = accepted by that request.
  const probes: [string, number][] = [
    ['LOGICAL_PVR (guest, RW)', 0x0003],
    ['RUN_OUTPUT_MIN_SIZE (guest, RO)', 0x0002],
    ['L0_GUEST_HEAP (host, RO)', 0x0800],
    ['GPR0 (thread, RW)', 0x1000],
    ['RUN_INPUT (thread meta, RW)', 0x0c00],
    ['HDAR (thread, RO)', 0xf000],
  ];
  const accepted: Record<RequestKind, number[]> = {
    'get-guest': [0x0003, 0x0002],
    'get-host': [0x0800],
    'get-thread': [0x1000, 0x0c00, 0xf000],
    'set-guest': [0x0003],
    'set-thread': [0x1000, 0x0c00],
    'run-input': [0x1000, 0x0c00],
    any: [0x0003, 0x0002, 0x0800, 0x1000, 0x0c00, 0xf000],
  };
  for (const kind of REQUEST_KINDS) {
    for (const [label, id] of probes) {
      const ok = accepted[kind].includes(id);
      it(`${kind}: ${label} → ${ok ? 'H_SUCCESS' : 'H_INVALID_ELEMENT_VALUE'}`, () => {
        const v = validateGsb(one(id), kind);
        if (ok) expect(v).toEqual({ ok: true, count: 1, used: 4 + 4 + elementById(id)!.size });
        else expect(v).toMatchObject({ ok: false, rc: H.INVALID_ELEMENT_VALUE, index: 0, byteOffset: 4, id });
      });
    }
  }
});

describe('rejected elements (spec §12 additional vectors)', () => {
  it('SET_STATE guest-wide holding GPR0 → H_INVALID_ELEMENT_VALUE, R4 = 0', () => {
    const v = validateGsb(one(0x1000), 'set-guest');
    expect(v).toMatchObject({ ok: false, rc: H.INVALID_ELEMENT_VALUE, r4: 0, index: 0 });
    if (!v.ok)
      expect(describeFailure(v)).toBe(
        'element 0 (0x1000 GPR0) at byte 4: thread-wide element in a guest-wide SET_STATE',
      );
  });

  it('SET_STATE thread-wide holding TB_OFFSET → H_INVALID_ELEMENT_VALUE', () => {
    expect(validateGsb(one(0x0004), 'set-thread')).toMatchObject({
      ok: false,
      rc: H.INVALID_ELEMENT_VALUE,
      r4: 0,
    });
  });

  it('SET_STATE of HDAR (read-only) → H_INVALID_ELEMENT_VALUE; GET of it is fine', () => {
    const v = validateGsb(one(0xf000), 'set-thread');
    expect(v).toMatchObject({
      ok: false,
      rc: H.INVALID_ELEMENT_VALUE,
      reason: 'HDAR is read-only (only L0 sets it)',
    });
    expect(validateGsb(one(0xf000), 'get-thread').ok).toBe(true);
  });

  it('SET of every read-only element is refused, in both guest-wide and thread requests', () => {
    for (const id of [0x0001, 0x0002]) expect(validateGsb(one(id), 'set-guest').ok).toBe(false);
    for (const id of [0xf000, 0xf001, 0xf002, 0xf003]) {
      expect(validateGsb(one(id), 'set-thread').ok).toBe(false);
      expect(validateGsb(one(id), 'run-input').ok).toBe(false);
    }
  });

  it('host-wide IDs only in a host-wide GET, never in a SET', () => {
    for (const id of [0x0800, 0x0801, 0x0802, 0x0803, 0x0804]) {
      expect(validateGsb(one(id), 'get-host').ok).toBe(true);
      for (const k of ['get-guest', 'get-thread', 'set-guest', 'set-thread', 'run-input'] as const)
        expect(validateGsb(one(id), k)).toMatchObject({ rc: H.INVALID_ELEMENT_VALUE });
    }
  });

  it('BLANK with length 7 inside a SET is skipped and the call succeeds', () => {
    const bytes = hex(`00000002 0000 0007 ${'ff'.repeat(7)} 1000 0008 0000000000000001`);
    expect(validateGsb(bytes, 'set-thread')).toEqual({ ok: true, count: 2, used: 4 + 11 + 12 });
    expect(validateGsb(bytes, 'set-guest')).toMatchObject({ ok: false, index: 1 });
    expect(validateGsb(hex('00000001 0000 0000'), 'get-host').ok).toBe(true);
  });

  it('CR with length 8 → H_INVALID_ELEMENT_SIZE', () => {
    const v = validateGsb(hex('00000001 2000 0008 0000000000000001'), 'set-thread');
    expect(v).toMatchObject({
      ok: false,
      rc: H.INVALID_ELEMENT_SIZE,
      r4: 0,
      reason: 'length 8, CR is 4 bytes',
    });
  });

  it('a 4-byte HEIR is a wrong size (nestsim: 8 bytes, as the Linux client expects)', () => {
    expect(validateGsb(hex('00000001 f002 0004 7c0002a6'), 'get-thread')).toMatchObject({
      rc: H.INVALID_ELEMENT_SIZE,
    });
  });

  it('reserved IDs in every range gap → H_INVALID_ELEMENT_ID', () => {
    for (const id of [0x0007, 0x07ff, 0x0805, 0x0c03, 0x1054, 0x200f, 0x3040, 0xefff, 0xf004, 0xffff]) {
      const b = GsbBuilder.alloc(64);
      b.putRaw(id, new Uint8Array(8));
      expect(validateGsb(b.bytes(), 'any')).toMatchObject({
        ok: false,
        rc: H.INVALID_ELEMENT_ID,
        id,
        index: 0,
      });
    }
  });

  it('R4 is the index for GET/SET_STATE and the byte offset for the RUN_VCPU input buffer', () => {
    const b = GsbBuilder.alloc(64);
    b.putU64(0x1000, 1n); // bytes 4..15
    b.putU32(0x2000, 2); // bytes 16..23
    b.putU64(0xf000, 3n); // bytes 24..35: read-only
    expect(validateGsb(b.bytes(), 'set-thread')).toMatchObject({
      rc: H.INVALID_ELEMENT_VALUE,
      r4: 2,
      index: 2,
      byteOffset: 24,
    });
    expect(validateGsb(b.bytes(), 'run-input')).toMatchObject({
      rc: H.INVALID_ELEMENT_VALUE,
      r4: 24,
      index: 2,
      byteOffset: 24,
    });
  });

  it('the first failure in element order wins', () => {
    const b = GsbBuilder.alloc(64);
    b.putRaw(0x2000, new Uint8Array(8)); // wrong size at 0
    b.putRaw(0x0007, new Uint8Array(0)); // reserved at 1
    expect(validateGsb(b.bytes(), 'set-thread')).toMatchObject({ rc: H.INVALID_ELEMENT_SIZE, index: 0 });
    const c = GsbBuilder.alloc(64);
    c.putRaw(0x0007, new Uint8Array(0)); // reserved at 0, then a count that overruns
    const bytes = c.region().slice(0, 12);
    new DataView(bytes.buffer).setUint32(0, 9);
    expect(validateGsb(bytes, 'set-thread')).toMatchObject({ rc: H.INVALID_ELEMENT_ID, index: 0 });
  });

  it('duplicates are accepted (L0 applies them in order, last wins)', () => {
    const b = GsbBuilder.alloc(64);
    b.putU64(0x102c, 1n);
    b.putU64(0x102c, 2n);
    expect(validateGsb(b.bytes(), 'run-input')).toEqual({ ok: true, count: 2, used: 28 });
  });

  it('an empty buffer (count 0) is valid for every request', () => {
    for (const k of REQUEST_KINDS)
      expect(validateGsb(hex('00000000'), k)).toEqual({ ok: true, count: 0, used: 4 });
  });
});

describe('buffer-level failures', () => {
  it('capacity exactly filled by one GPR but header count 2 → H_P3 (SET/GET), −83 (RUN_VCPU input)', () => {
    const bytes = hex('00000002 1000 0008 00000000deadbeef');
    expect(bytes.length).toBe(16);
    expect(validateGsb(bytes, 'set-thread')).toMatchObject({
      ok: false,
      rc: H.P3,
      index: 1,
      byteOffset: 16,
      id: -1,
      r4: 1,
    });
    expect(validateGsb(bytes, 'run-input')).toMatchObject({
      ok: false,
      rc: H.INPUT_BUFFER_TOO_SMALL,
      r4: 16,
    });
    const v = validateGsb(bytes, 'any');
    expect(!v.ok && describeFailure(v)).toBe(
      'element 1 at byte 16: header count 2 runs past the 16-byte buffer (this element needs 4 bytes, 0 remain)',
    );
  });

  it('an element whose value runs past capacity is an overrun, not a size error', () => {
    const bytes = hex('00000001 1000 0008 00000000');
    expect(validateGsb(bytes, 'get-thread')).toMatchObject({ rc: H.P3, index: 0, byteOffset: 4, id: 0x1000 });
    expect(validateGsb(hex('00000001 0000 0010 00'), 'set-thread')).toMatchObject({ rc: H.P3, index: 0 });
  });

  it('a huge header count stops at the first missing element', () => {
    const bytes = hex('ffffffff 2000 0004 00000001');
    expect(validateGsb(bytes, 'set-thread')).toMatchObject({ rc: H.P3, index: 1, byteOffset: 12 });
  });

  it('a buffer too short for the header', () => {
    for (const k of ['get-guest', 'set-thread'] as const)
      expect(validateGsb(hex('000000'), k)).toMatchObject({ ok: false, rc: H.P3, index: -1, r4: 0 });
    expect(validateGsb(hex(''), 'run-input')).toMatchObject({
      ok: false,
      rc: H.INPUT_BUFFER_TOO_SMALL,
      index: -1,
    });
  });

  it('capacity over the limit → H_P3; exactly the limit is fine', () => {
    const big = new Uint8Array(DefaultLimits.maxStateBufferBytes + 1);
    expect(validateGsb(big, 'set-guest')).toMatchObject({ ok: false, rc: H.P3, index: -1 });
    expect(validateGsb(big.subarray(0, DefaultLimits.maxStateBufferBytes), 'set-guest').ok).toBe(true);
    expect(validateGsb(new Uint8Array(16385), 'run-input')).toMatchObject({ rc: H.P3 });
    expect(validateGsb(new Uint8Array(64), 'set-guest', { maxBytes: 32 })).toMatchObject({ rc: H.P3 });
  });

  it('trailing capacity is ignored; a region inside a larger view is checked in place', () => {
    const ram = new Uint8Array(4096).fill(0xee);
    const b = GsbBuilder.over(ram, 1000, 256);
    b.putU64(0x1021, 0x100n);
    const out = newGsbCheck();
    expect(checkGsb(viewOf(ram), 1000, 256, 'run-input', out)).toBe(true);
    expect([out.count, out.used, out.rc]).toEqual([1, 16, H.SUCCESS]);
    // A region that runs off the end of RAM is clipped, not a RangeError.
    expect(checkGsb(viewOf(ram), 4090, 256, 'set-thread', out)).toBe(false);
    expect(out.rc).toBe(H.P3);
  });
});

describe('the result record', () => {
  it('is fully refilled after a failure followed by a success', () => {
    const out = newGsbCheck();
    const bad = one(0xf000);
    expect(checkGsb(viewOf(bad), 0, bad.length, 'set-thread', out)).toBe(false);
    expect(out).toMatchObject({ ok: false, rc: H.INVALID_ELEMENT_VALUE, index: 0, id: 0xf000 });
    const good = one(0x1000);
    expect(checkGsb(viewOf(good), 0, good.length, 'set-thread', out)).toBe(true);
    expect(out).toEqual({
      ok: true,
      rc: 0,
      r4: 0,
      index: -1,
      byteOffset: -1,
      id: -1,
      reason: '',
      count: 1,
      used: 16,
    });
  });

  it('a caller value check turns into H_INVALID_ELEMENT_VALUE at that element', () => {
    const b = GsbBuilder.alloc(128);
    b.putAddressBytes(0x0c00, { address: 0x10000n, bytes: 4096n });
    b.putAddressBytes(0x0c01, { address: 0x20000n, bytes: 64n });
    const v = validateGsb(b.bytes(), 'set-thread', {
      checkValue: (def, view, off) => {
        if (def.kind !== 'buffer') return undefined;
        const size = view.getBigUint64(off + 8);
        return size < 128n ? `run buffer of ${size} bytes is under 128` : undefined;
      },
    });
    expect(v).toMatchObject({
      ok: false,
      rc: H.INVALID_ELEMENT_VALUE,
      index: 1,
      reason: 'run buffer of 64 bytes is under 128',
    });
  });

  it('a value check may itself validate another buffer without disturbing the outer walk', () => {
    const outer = GsbBuilder.alloc(64);
    outer.putU64(0x1000, 1n);
    outer.putU64(0x1001, 2n);
    outer.putU64(0xf000, 3n); // read-only: the outer walk must still reach it
    const inner = one(0x2000);
    let calls = 0;
    const v = validateGsb(outer.bytes(), 'set-thread', {
      checkValue: () => {
        calls++;
        expect(validateGsb(inner, 'any')).toEqual({ ok: true, count: 1, used: 12 });
        return undefined;
      },
    });
    expect(calls).toBe(2);
    expect(v).toMatchObject({ ok: false, index: 2, id: 0xf000 });
  });
});

describe('reserved LPCR / MSR bits are masked, not rejected', () => {
  const lpcr = elementById(0x102c)!;
  const msr = elementById(0x1022)!;
  const gpr = elementById(0x1000)!;

  it('an all-ones LPCR or MSR passes validation', () => {
    const b = GsbBuilder.alloc(64);
    b.putU64(0x102c, (1n << 64n) - 1n);
    b.putU64(0x1022, (1n << 64n) - 1n);
    expect(validateGsb(b.bytes(), 'run-input').ok).toBe(true);
  });

  it('maskSettable keeps DPFD|ILE|AIL|LD|MER|GTSE of LPCR and all but HV|S|ME of MSR', () => {
    const ones = (1n << 64n) - 1n;
    expect(maskSettable(lpcr, ones)).toBe(0x0070_0000_0382_0c00n);
    expect(maskSettable(msr, ones)).toBe(0xefff_ffff_ffbf_efffn);
    expect(maskSettable(gpr, ones)).toBe(ones);
    expect([maskSettableHi(lpcr, -1), maskSettableLo(lpcr, -1)]).toEqual([0x0070_0000, 0x0382_0c00]);
    expect([maskSettableHi(gpr, -1), maskSettableLo(gpr, -1)]).toEqual([0xffff_ffff, 0xffff_ffff]);
  });

  it('copyMaskedValue copies out of the buffer with the mask, leaving the buffer alone', () => {
    const src = viewOf(hex('ffffffffffffffff 0123456789abcdef fedcba9876543210'));
    const dst = new DataView(new ArrayBuffer(16));
    expect(copyMaskedValue(msr, src, 0, dst, 0)).toBe(8);
    expect(dst.getBigUint64(0)).toBe(0xefff_ffff_ffbf_efffn);
    expect(src.getBigUint64(0)).toBe((1n << 64n) - 1n);
    expect(copyMaskedValue(elementById(0x3000)!, src, 8, dst, 0)).toBe(16);
    expect([dst.getBigUint64(0), dst.getBigUint64(8)]).toEqual([
      0x0123_4567_89ab_cdefn,
      0xfedc_ba98_7654_3210n,
    ]);
    expect(copyMaskedValue(elementById(0x0000)!, src, 0, dst, 0)).toBe(0);
  });
});

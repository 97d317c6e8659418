/**
 * Property tests (fast-check): encode∘decode is the identity on valid element lists, through the
 * typed values and through the JSON text form; decode and validation of arbitrary bytes never throw
 * and answer H_SUCCESS or one of the buffer codes nestsim uses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GsbBuilder } from '../hypervisor/gsb/codec.js';
import { ELEMENTS, type ElementDef, elementById } from '../hypervisor/gsb/elements.js';
import { formatHex, fromJsonElements, parseHex, toJsonElement } from '../hypervisor/gsb/text.js';
import { checkGsb, newGsbCheck, REQUEST_KINDS, validateGsb } from '../hypervisor/gsb/validate.js';
import { decodeGsb, type ElementInput, type ElementValue, encodeGsb } from '../hypervisor/gsb/values.js';
import { viewOf } from '../hypervisor/gsb/wire.js';
import { H } from '../hypervisor/papr.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
// Bias towards the edges where bits get lost: top bit, 2^53, all ones.
const u64Edgy = fc.oneof(
  u64,
  fc.constantFrom(0n, 1n, 1n << 53n, (1n << 53n) + 1n, 1n << 63n, (1n << 64n) - 1n),
);

function valueFor(def: ElementDef): fc.Arbitrary<ElementValue> {
  switch (def.kind) {
    case 'blank':
      return fc.uint8Array({ maxLength: 40 });
    case 'u32':
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case 'u64':
      return u64Edgy;
    case 'vec128':
      return fc.record({ dw0: u64Edgy, dw1: u64Edgy });
    case 'partitionTable':
      return fc.record({ address: u64Edgy, eaBits: u64Edgy, rootBytes: u64Edgy });
    case 'processTable':
    case 'buffer':
      return fc.record({ address: u64Edgy, bytes: u64Edgy });
  }
}

const element: fc.Arbitrary<ElementInput> = fc
  .constantFrom(...ELEMENTS)
  .chain((def) => valueFor(def).map((value) => ({ id: def.id, value })));
const elementList = fc.array(element, { maxLength: 24 });

const CODES_SEEN: Set<number> = new Set([
  H.SUCCESS,
  H.P3,
  H.INVALID_ELEMENT_ID,
  H.INVALID_ELEMENT_SIZE,
  H.INVALID_ELEMENT_VALUE,
  H.INPUT_BUFFER_TOO_SMALL,
]);

describe('encode ∘ decode', () => {
  it('decode(encode(list)) gives the list back, every bit of every value', () => {
    fc.assert(
      fc.property(elementList, (list) => {
        const enc = encodeGsb(list);
        expect(enc.ok).toBe(true);
        if (!enc.ok) return;
        const dec = decodeGsb(enc.bytes);
        expect(dec.ok).toBe(true);
        if (!dec.ok) return;
        expect(dec.used).toBe(enc.bytes.length);
        expect(dec.elements.map((e) => ({ id: e.id, value: e.value }))).toEqual(list);
        for (const e of dec.elements) expect(e.name).toBe(elementById(e.id)!.name);
        // And back to the same bytes.
        const again = encodeGsb(dec.elements);
        expect(again.ok && formatHex(again.bytes)).toBe(formatHex(enc.bytes));
      }),
      { numRuns: 400 },
    );
  });

  it('the JSON text form round-trips to the same bytes (the CLI round trip)', () => {
    fc.assert(
      fc.property(elementList, (list) => {
        const enc = encodeGsb(list);
        if (!enc.ok) throw new Error(enc.reason);
        const dec = decodeGsb(enc.bytes);
        if (!dec.ok) throw new Error(dec.reason);
        const json = JSON.parse(JSON.stringify(dec.elements.map(toJsonElement)));
        const back = fromJsonElements(json);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        const re = encodeGsb(back.elements);
        expect(re.ok && formatHex(re.bytes)).toBe(formatHex(enc.bytes));
      }),
      { numRuns: 300 },
    );
  });

  it('a capacity pads with zeros and still decodes to the same list', () => {
    fc.assert(
      fc.property(elementList, fc.integer({ min: 0, max: 512 }), (list, extra) => {
        const plain = encodeGsb(list);
        if (!plain.ok) throw new Error(plain.reason);
        const padded = encodeGsb(list, plain.bytes.length + extra);
        expect(padded.ok).toBe(true);
        if (!padded.ok) return;
        expect(padded.region.length).toBeGreaterThanOrEqual(plain.bytes.length + extra);
        expect(formatHex(padded.bytes)).toBe(formatHex(plain.bytes));
        const dec = decodeGsb(padded.region);
        expect(dec.ok && dec.elements.length).toBe(list.length);
      }),
    );
  });
});

describe('arbitrary bytes', () => {
  /** Random bytes, and near-valid buffers (real headers with random IDs, lengths and counts). */
  const nearValid = fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.oneof(
            { weight: 4, arbitrary: fc.constantFrom(...ELEMENTS.map((e) => e.id)) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
          ),
          // −1: the table size (so that most elements are well formed).
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(-1) },
            { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) },
          ),
        ),
        { maxLength: 10 },
      ),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) },
        { weight: 1, arbitrary: fc.constant(0xffff_fff0) },
      ),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }) },
      ),
    )
    .map(([items, countDelta, cut]) => {
      const b = GsbBuilder.alloc(1024);
      for (const [id, len] of items) {
        const size = len >= 0 ? len : Math.max(elementById(id)?.size ?? 8, 0);
        b.putRaw(id, new Uint8Array(size).fill(0xa5));
      }
      const bytes = b.bytes().slice(0, Math.max(0, b.length - cut));
      if (bytes.length >= 4) new DataView(bytes.buffer).setUint32(0, (items.length + countDelta) >>> 0);
      return bytes;
    });
  const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), nearValid);

  it('never throws; answers success or a PAPR buffer/element code; decode agrees with `any`', () => {
    const out = newGsbCheck();
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        for (const kind of REQUEST_KINDS) {
          const v = validateGsb(bytes, kind);
          expect(CODES_SEEN.has(v.ok ? H.SUCCESS : v.rc)).toBe(true);
          if (!v.ok) {
            expect(v.reason.length).toBeGreaterThan(0);
            expect(v.r4).toBe(v.index < 0 ? 0 : kind === 'run-input' ? v.byteOffset : v.index);
          }
          expect(checkGsb(viewOf(bytes), 0, bytes.length, kind, out)).toBe(v.ok);
        }
        const d = decodeGsb(bytes);
        expect(d.ok).toBe(validateGsb(bytes, 'any').ok);
      }),
      { numRuns: 1500 },
    );
  });

  it('a buffer accepted for any request is also structurally valid, and SET ⊂ GET', () => {
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        const any = validateGsb(bytes, 'any').ok;
        for (const k of REQUEST_KINDS) if (validateGsb(bytes, k).ok) expect(any).toBe(true);
        if (validateGsb(bytes, 'set-thread').ok) expect(validateGsb(bytes, 'get-thread').ok).toBe(true);
        if (validateGsb(bytes, 'set-guest').ok) expect(validateGsb(bytes, 'get-guest').ok).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('hex text parsing never throws and round-trips formatHex', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        parseHex(s);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = parseHex(formatHex(bytes));
        expect(r.ok && formatHex(r.value)).toBe(formatHex(bytes));
      }),
    );
  });
});

/**
 * Whole-buffer conversions between wire bytes and a list of typed elements, for the control path,
 * the L1 model, tests and `nestsim gsb`. The hot path uses codec.ts and wire.ts directly.
 *
 * Values are typed by the element's kind: u32 → number, u64 → bigint (all 64 bits), vec128 →
 * {dw0, dw1}, partition table → {address, eaBits, rootBytes}, process table and run buffers →
 * {address, bytes}, BLANK → its raw bytes.
 */
import { GsbBuilder, Put, type PutResult, putResultText } from './codec.js';
import { type ElementDef, type ElementKind, elementById } from './elements.js';
import { checkGsb, newGsbCheck } from './validate.js';
import {
  type BufferDescriptor,
  ELEMENT_HEADER_BYTES,
  GSB_HEADER_BYTES,
  type PartitionTableElement,
  type ProcessTableValue,
  readBufferDescriptor,
  readPartitionTable,
  readProcessTable,
  readU32,
  readU64,
  readVec128,
  roundUpPow2,
  type Vec128,
} from './wire.js';

/** The value type of each element kind. */
export interface KindValues {
  blank: Uint8Array;
  u32: number;
  u64: bigint;
  vec128: Vec128;
  partitionTable: PartitionTableElement;
  processTable: ProcessTableValue;
  buffer: BufferDescriptor;
}

/** One decoded element; `kind` tells the type of `value`. */
export type DecodedElement = {
  [K in ElementKind]: { id: number; name: string; size: number; kind: K; value: KindValues[K] };
}[ElementKind];

/** Any element value. */
export type ElementValue = KindValues[ElementKind];

/** An element to encode: its ID and value (u32 and u64 accept number or bigint). */
export interface ElementInput {
  id: number;
  value: ElementValue;
}

/** A failure of decodeGsb: which element (index −1: the buffer as a whole) and why; rc as L0 would answer. */
export interface DecodeFailure {
  ok: false;
  rc: number;
  index: number;
  byteOffset: number;
  id: number;
  reason: string;
}

/** A failure of encodeGsb: which element (index −1: the arguments) and why, with the Put outcome. */
export interface EncodeFailure {
  ok: false;
  put: PutResult;
  index: number;
  id: number;
  reason: string;
}

/** Reads the typed value of element `def` whose value starts at `off`. */
export function readValue(def: ElementDef, view: DataView, off: number, length: number): ElementValue {
  switch (def.kind) {
    case 'blank':
      return new Uint8Array(view.buffer, view.byteOffset + off, length).slice();
    case 'u32':
      return readU32(view, off);
    case 'u64':
      return readU64(view, off);
    case 'vec128':
      return readVec128(view, off);
    case 'partitionTable':
      return readPartitionTable(view, off);
    case 'processTable':
      return readProcessTable(view, off);
    case 'buffer':
      return readBufferDescriptor(view, off);
  }
}

/**
 * Decodes every element of the buffer at `offset` (default: the whole array as capacity). Checks
 * structure only (request kind `any`): IDs in the table, sizes right, count within the buffer.
 * Bytes after the last element are ignored (they are the rest of the capacity).
 */
export function decodeGsb(
  bytes: Uint8Array | DataView,
  offset = 0,
  capacity?: number,
): { ok: true; elements: DecodedElement[]; used: number } | DecodeFailure {
  const view =
    bytes instanceof DataView ? bytes : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cap = capacity ?? view.byteLength - offset;
  const check = newGsbCheck();
  if (!checkGsb(view, offset, cap, 'any', check)) {
    const { rc, index, byteOffset, id, reason } = check;
    return { ok: false, rc, index, byteOffset, id, reason };
  }
  const elements: DecodedElement[] = [];
  let pos = offset + GSB_HEADER_BYTES;
  for (let i = 0; i < check.count; i++) {
    const id = view.getUint16(pos);
    const length = view.getUint16(pos + 2);
    const def = elementById(id)!; // checkGsb accepted every ID
    const value = readValue(def, view, pos + ELEMENT_HEADER_BYTES, length);
    elements.push({ id, name: def.name, size: length, kind: def.kind, value } as DecodedElement);
    pos += ELEMENT_HEADER_BYTES + length;
  }
  return { ok: true, elements, used: check.used };
}

/** Bytes a list of elements takes on the wire, header included; BLANK values count their length. */
export function encodedSize(elements: readonly ElementInput[]): number {
  let n = GSB_HEADER_BYTES;
  for (const e of elements) {
    const def = elementById(e.id);
    const size =
      def === undefined || def.size < 0 ? (e.value instanceof Uint8Array ? e.value.length : 0) : def.size;
    n += ELEMENT_HEADER_BYTES + size;
  }
  return n;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isBig = (v: unknown): v is bigint => typeof v === 'bigint';

/** Appends one typed element to `b`; the Put outcome. */
export function putValue(b: GsbBuilder, id: number, value: ElementValue): PutResult {
  const def = elementById(id);
  if (!def) return Put.UNKNOWN_ID;
  switch (def.kind) {
    case 'blank':
      return value instanceof Uint8Array ? b.put(id, value) : Put.BAD_VALUE;
    case 'u32':
      if (typeof value === 'number') return b.putU32(id, value);
      if (isBig(value))
        return value >= 0n && value <= 0xffff_ffffn ? b.putU32(id, Number(value)) : Put.BAD_VALUE;
      return Put.BAD_VALUE;
    case 'u64':
      if (typeof value === 'number')
        return Number.isSafeInteger(value) ? b.putU64(id, BigInt(value)) : Put.BAD_VALUE;
      return isBig(value) ? b.putU64(id, value) : Put.BAD_VALUE;
    case 'vec128':
      return isObject(value) && isBig(value.dw0) && isBig(value.dw1)
        ? b.putVec128(id, { dw0: value.dw0, dw1: value.dw1 })
        : Put.BAD_VALUE;
    case 'partitionTable':
      return isObject(value) && isBig(value.address) && isBig(value.eaBits) && isBig(value.rootBytes)
        ? b.putPartitionTable(
            { address: value.address, eaBits: value.eaBits, rootBytes: value.rootBytes },
            id,
          )
        : Put.BAD_VALUE;
    case 'processTable':
    case 'buffer':
      return isObject(value) && isBig(value.address) && isBig(value.bytes)
        ? b.putAddressBytes(id, { address: value.address, bytes: value.bytes })
        : Put.BAD_VALUE;
  }
}

/**
 * Encodes a list of elements. Without `capacity` the result is exactly the bytes used; with it,
 * the buffer has capacity roundUpPow2(capacity) (Linux rule) and `region` is all of it, zero
 * padded. Never throws on data: a bad element is reported with its index.
 */
export function encodeGsb(
  elements: readonly ElementInput[],
  capacity?: number,
): { ok: true; bytes: Uint8Array; region: Uint8Array } | EncodeFailure {
  const need = encodedSize(elements);
  let b: GsbBuilder;
  if (capacity === undefined) b = GsbBuilder.over(new Uint8Array(need));
  else if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 30)
    return {
      ok: false,
      put: Put.NO_SPACE,
      index: -1,
      id: -1,
      reason: `capacity ${capacity} outside 1..2^30`,
    };
  else b = GsbBuilder.alloc(capacity);
  for (const [index, e] of elements.entries()) {
    const r = putValue(b, e.id, e.value);
    if (r !== Put.OK) {
      const reason =
        r === Put.NO_SPACE
          ? `does not fit in a ${b.capacity}-byte buffer (${need} bytes needed)`
          : putResultText(r);
      return { ok: false, put: r, index, id: e.id, reason };
    }
  }
  return { ok: true, bytes: b.bytes(), region: b.region() };
}

/** Capacity Linux would allocate for these elements (next power of two of their encoded size). */
export function linuxCapacity(elements: readonly ElementInput[]): number {
  return roundUpPow2(encodedSize(elements));
}

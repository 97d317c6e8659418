/**
 * Walking and building Guest State Buffers (spec §7, §9.2), with no allocation per element.
 *
 * Reading: a buffer is (view, offset, capacity). The walk follows the header count and never
 * requires capacity to equal the bytes used, because Linux passes the buffer's capacity (a power of
 * two) in R8, not its used length (spec §5.5). An element that does not fit before `capacity` ends
 * the walk as an overrun. Bytes beyond the end of the view count as absent, so a walk never throws.
 *
 * Writing: GsbBuilder appends elements with the Linux library's rules (spec §9.2): an append that
 * would pass the capacity fails and writes nothing; a length that differs from the element table
 * fails. The header count is rewritten after every append, so the region is a valid buffer at
 * every moment (L0 writes the run output buffer straight into L1 RAM with it).
 *
 * Invoked from: validate.ts, values.ts, L0's GET/SET_STATE and RUN_VCPU, the L1 model, `nestsim gsb`.
 */
import { elementById } from './elements.js';
import {
  type BufferDescriptor,
  ELEMENT_HEADER_BYTES,
  fitsU32,
  fitsU64,
  GSB_HEADER_BYTES,
  MAX_ELEMENT_VALUE_BYTES,
  type PartitionTableElement,
  type ProcessTableValue,
  roundUpPow2,
  type Vec128,
  viewOf,
  writeAddressBytes,
  writePartitionTable,
  writeU32,
  writeU64,
  writeU64Halves,
  writeVec128,
} from './wire.js';

/** Usable end (absolute) of a buffer region: capacity clipped to the view. */
function regionEnd(view: DataView, offset: number, capacity: number): number {
  return Math.max(offset, Math.min(offset + capacity, view.byteLength));
}

/**
 * A reusable cursor over the elements of one buffer (one per core is enough: it allocates nothing
 * after construction). After `start`, each `next()` that returns true exposes one element.
 */
export class GsbCursor {
  /** The view being walked. */
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Absolute offset of the buffer header. */
  base = 0;
  /** Absolute end of the usable region (base + capacity, clipped to the view). */
  end = 0;
  /** Element count from the header. */
  count = 0;
  /** Index of the current element (−1 before the first). */
  index = -1;
  /** ID of the current element; −1 when an overrun left no room to read it. */
  id = -1;
  /** Value length of the current element; −1 when an overrun left no room to read it. */
  length = -1;
  /** Absolute offset of the current element's value. */
  valueOffset = 0;
  /** Offset of the current element's header from the buffer start (what RUN_VCPU reports in R4). */
  byteOffset = 0;
  /** Set when the header count names more elements than fit; index/byteOffset name the first misfit. */
  overrun = false;
  private pos = 0;

  /** Points the cursor at a buffer; false (and `overrun`) when the region cannot hold the 4-byte header. */
  start(view: DataView, offset: number, capacity: number): boolean {
    this.view = view;
    this.base = offset;
    this.end = regionEnd(view, offset, capacity);
    this.index = -1;
    this.id = -1;
    this.length = -1;
    this.byteOffset = 0;
    this.valueOffset = 0;
    if (this.end - offset < GSB_HEADER_BYTES) {
      this.count = 0;
      this.overrun = true;
      return false;
    }
    this.count = view.getUint32(offset);
    this.overrun = false;
    this.pos = offset + GSB_HEADER_BYTES;
    return true;
  }

  /** Moves to the next element; false after the last one, or on an overrun (then `overrun` is true). */
  next(): boolean {
    if (this.overrun || this.index + 1 >= this.count) return false;
    const pos = this.pos;
    const view = this.view;
    this.index++;
    this.byteOffset = pos - this.base;
    this.valueOffset = pos + ELEMENT_HEADER_BYTES;
    this.id = pos + 2 <= this.end ? view.getUint16(pos) : -1;
    if (pos + ELEMENT_HEADER_BYTES > this.end) {
      this.length = -1;
      this.overrun = true;
      return false;
    }
    this.length = view.getUint16(pos + 2);
    const next = pos + ELEMENT_HEADER_BYTES + this.length;
    if (next > this.end) {
      this.overrun = true;
      return false;
    }
    this.pos = next;
    return true;
  }

  /** Bytes from the buffer start to the end of the last element walked (4 before the first). */
  get used(): number {
    return this.pos - this.base;
  }
}

/** Callback of forEachElement; return false to stop early. */
export type ElementVisitor = (
  id: number,
  valueOffset: number,
  length: number,
  index: number,
  byteOffset: number,
) => boolean | undefined;

/**
 * Calls `visit` for each element of the buffer at `offset` in header order. Returns false when the
 * region cannot hold the header or an element runs past `capacity` (the elements before it were
 * visited), true otherwise (also when `visit` stopped the walk).
 */
export function forEachElement(
  view: DataView,
  offset: number,
  capacity: number,
  visit: ElementVisitor,
): boolean {
  const end = regionEnd(view, offset, capacity);
  if (end - offset < GSB_HEADER_BYTES) return false;
  const count = view.getUint32(offset);
  let pos = offset + GSB_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + ELEMENT_HEADER_BYTES > end) return false;
    const length = view.getUint16(pos + 2);
    if (pos + ELEMENT_HEADER_BYTES + length > end) return false;
    if (visit(view.getUint16(pos), pos + ELEMENT_HEADER_BYTES, length, i, pos - offset) === false)
      return true;
    pos += ELEMENT_HEADER_BYTES + length;
  }
  return true;
}

/**
 * Absolute value offset of the last element with this ID (a later duplicate wins, spec §7), or −1
 * when absent. A malformed buffer is searched only as far as it is well formed: validate first.
 */
export function findElement(view: DataView, offset: number, capacity: number, id: number): number {
  const end = regionEnd(view, offset, capacity);
  if (end - offset < GSB_HEADER_BYTES) return -1;
  const count = view.getUint32(offset);
  let pos = offset + GSB_HEADER_BYTES;
  let found = -1;
  for (let i = 0; i < count; i++) {
    if (pos + ELEMENT_HEADER_BYTES > end) break;
    const length = view.getUint16(pos + 2);
    if (pos + ELEMENT_HEADER_BYTES + length > end) break;
    if (view.getUint16(pos) === id) found = pos + ELEMENT_HEADER_BYTES;
    pos += ELEMENT_HEADER_BYTES + length;
  }
  return found;
}

/** Outcomes of a GsbBuilder append (Linux: 0, -ENOMEM, -EINVAL). Negative values are failures. */
export const Put = {
  OK: 0,
  /** The element would pass the capacity; nothing was written. */
  NO_SPACE: -1,
  /** The length differs from the element table's size for this ID. */
  BAD_SIZE: -2,
  /** A reserved ID (not in the element table). */
  UNKNOWN_ID: -3,
  /** The value does not fit the element (negative, too many bits, or the wrong shape). */
  BAD_VALUE: -4,
} as const;
/** One of the Put outcomes. */
export type PutResult = (typeof Put)[keyof typeof Put];

const PUT_NAMES: Record<number, string> = {
  [Put.OK]: 'ok',
  [Put.NO_SPACE]: 'does not fit in the buffer capacity',
  [Put.BAD_SIZE]: 'size differs from the element table',
  [Put.UNKNOWN_ID]: 'reserved element ID',
  [Put.BAD_VALUE]: 'value does not fit the element',
};

/** A short English description of a Put outcome. */
export function putResultText(r: number): string {
  return PUT_NAMES[r] ?? `put result ${r}`;
}

/** Appends elements to a buffer region with the Linux library's rules (spec §9.2). */
export class GsbBuilder {
  /** The bytes the region lives in (the whole array, not only the region). */
  readonly target: Uint8Array;
  /** Offset of the region (its header) in `target`. */
  readonly offset: number;
  /** Capacity of the region in bytes. */
  readonly capacity: number;
  private readonly dv: DataView;
  private len = GSB_HEADER_BYTES;
  private n = 0;

  private constructor(target: Uint8Array, offset: number, capacity: number) {
    if (capacity < GSB_HEADER_BYTES || offset < 0 || offset + capacity > target.length)
      throw new RangeError(`GSB region ${offset}+${capacity} does not fit a ${target.length}-byte array`);
    this.target = target;
    this.offset = offset;
    this.capacity = capacity;
    this.dv = viewOf(target);
    this.reset();
  }

  /** A fresh buffer of capacity roundUpPow2(max(size, 4)), as Linux's gsb_new (spec §9.2, T1). */
  static alloc(size: number): GsbBuilder {
    const capacity = roundUpPow2(Math.max(size, GSB_HEADER_BYTES));
    return new GsbBuilder(new Uint8Array(capacity), 0, capacity);
  }

  /** A builder over an existing region (for example a run output buffer in L1 RAM); resets it. */
  static over(target: Uint8Array, offset = 0, capacity = target.length - offset): GsbBuilder {
    return new GsbBuilder(target, offset, capacity);
  }

  /** Bytes used so far, header included. */
  get length(): number {
    return this.len;
  }

  /** Elements appended so far. */
  get count(): number {
    return this.n;
  }

  /** Empties the buffer: count 0, length 4. */
  reset(): void {
    this.len = GSB_HEADER_BYTES;
    this.n = 0;
    this.dv.setUint32(this.offset, 0);
  }

  /**
   * Appends the header of element `id` with a value of `length` bytes and returns the absolute
   * offset in `target` where the caller writes the value (zero-allocation path, e.g.
   * `vcpu.readElement(id, target, off)`), or a negative Put code. `length` defaults to the table
   * size; BLANK takes any length. The value bytes are left as they were: the caller fills them.
   */
  reserve(id: number, length?: number): number {
    const def = elementById(id);
    if (!def) return Put.UNKNOWN_ID;
    const len = length ?? Math.max(def.size, 0);
    if (def.size >= 0 ? len !== def.size : len < 0 || len > MAX_ELEMENT_VALUE_BYTES) return Put.BAD_SIZE;
    return this.reserveUnchecked(id, len);
  }

  /** reserve() without the element table: for tests and fuzzers that build buffers L0 must reject. */
  reserveUnchecked(id: number, length: number): number {
    if (this.len + ELEMENT_HEADER_BYTES + length > this.capacity) return Put.NO_SPACE;
    const at = this.offset + this.len;
    this.dv.setUint16(at, id & 0xffff);
    this.dv.setUint16(at + 2, length & 0xffff);
    this.len += ELEMENT_HEADER_BYTES + length;
    this.n++;
    this.dv.setUint32(this.offset, this.n);
    return at + ELEMENT_HEADER_BYTES;
  }

  /** Appends raw value bytes for `id`, checked against the element table (BLANK: any length). */
  put(id: number, value: Uint8Array): PutResult {
    const at = this.reserve(id, value.length);
    if (at < 0) return at as PutResult;
    this.target.set(value, at);
    return Put.OK;
  }

  /** Appends raw bytes with no table check (IDs and lengths of your choosing; capacity still applies). */
  putRaw(id: number, value: Uint8Array): PutResult {
    const at = this.reserveUnchecked(id, value.length);
    if (at < 0) return at as PutResult;
    this.target.set(value, at);
    return Put.OK;
  }

  /** Appends a 4-byte element. */
  putU32(id: number, v: number): PutResult {
    if (!fitsU32(v)) return this.check(id, 4, Put.BAD_VALUE);
    const at = this.reserve(id, 4);
    if (at < 0) return at as PutResult;
    writeU32(this.dv, at, v);
    return Put.OK;
  }

  /** Appends an 8-byte element. */
  putU64(id: number, v: bigint): PutResult {
    if (!fitsU64(v)) return this.check(id, 8, Put.BAD_VALUE);
    const at = this.reserve(id, 8);
    if (at < 0) return at as PutResult;
    writeU64(this.dv, at, v);
    return Put.OK;
  }

  /** Appends an 8-byte element from 32-bit halves (hot path: no BigInt). */
  putU64Halves(id: number, hi: number, lo: number): PutResult {
    const at = this.reserve(id, 8);
    if (at < 0) return at as PutResult;
    writeU64Halves(this.dv, at, hi, lo);
    return Put.OK;
  }

  /** Appends a 16-byte vector element. */
  putVec128(id: number, v: Vec128): PutResult {
    if (!fitsU64(v.dw0) || !fitsU64(v.dw1)) return this.check(id, 16, Put.BAD_VALUE);
    const at = this.reserve(id, 16);
    if (at < 0) return at as PutResult;
    writeVec128(this.dv, at, v);
    return Put.OK;
  }

  /** Appends the 24-byte partition-table element 0x0005. */
  putPartitionTable(v: PartitionTableElement, id = 0x0005): PutResult {
    if (!fitsU64(v.address) || !fitsU64(v.eaBits) || !fitsU64(v.rootBytes))
      return this.check(id, 24, Put.BAD_VALUE);
    const at = this.reserve(id, 24);
    if (at < 0) return at as PutResult;
    writePartitionTable(this.dv, at, v);
    return Put.OK;
  }

  /** Appends a 16-byte {address, bytes} element: the process table 0x0006 or a run buffer 0x0C00/0x0C01. */
  putAddressBytes(id: number, v: ProcessTableValue | BufferDescriptor): PutResult {
    if (!fitsU64(v.address) || !fitsU64(v.bytes)) return this.check(id, 16, Put.BAD_VALUE);
    const at = this.reserve(id, 16);
    if (at < 0) return at as PutResult;
    writeAddressBytes(this.dv, at, v);
    return Put.OK;
  }

  /** The used bytes, header included (a view on the region, not a copy). */
  bytes(): Uint8Array {
    return this.target.subarray(this.offset, this.offset + this.len);
  }

  /** The whole region, capacity bytes (what L1 hands to L0 with R8 = capacity). */
  region(): Uint8Array {
    return this.target.subarray(this.offset, this.offset + this.capacity);
  }

  /** A bad value still reports a wrong ID or size first, in the order Linux checks them. */
  private check(id: number, size: number, otherwise: PutResult): PutResult {
    const def = elementById(id);
    if (!def) return Put.UNKNOWN_ID;
    if (def.size !== size) return Put.BAD_SIZE;
    return otherwise;
  }
}

/**
 * Guest State Buffer wire format (spec §7): a big-endian u32 element count, then elements packed
 * back to back with no padding, each a big-endian u16 ID, a u16 value length and the value.
 * This file holds the layout constants and the readers/writers of element values; the walk over a
 * buffer is codec.ts, the checks an L0 makes are validate.ts.
 *
 * Readers take a DataView and an absolute byte offset so that L0 can read straight out of L1 RAM
 * (GuestRam.dv) with no copy. The u64 readers come in two flavours: bigint for the control path
 * and tools, and 32-bit halves (unsigned numbers) for the per-run hot path, where a BigInt costs
 * an allocation (docs/architecture.md, "Registers are 64-bit").
 */
import type { PartitionTableElement } from '../../mem/radix-root.js';

export type { PartitionTableElement };

/** Bytes of the buffer header (the u32 element count). */
export const GSB_HEADER_BYTES = 4;
/** Bytes of an element header (u16 ID, u16 length). */
export const ELEMENT_HEADER_BYTES = 4;
/** Largest value length the u16 length field can carry. */
export const MAX_ELEMENT_VALUE_BYTES = 0xffff;

/** Value of a 16-byte vector element: doubleword 0 (bytes 0–7, the FPR half of VSR0–31) first. */
export interface Vec128 {
  dw0: bigint;
  dw1: bigint;
}

/** Value of the process-table element 0x0006: table address and size in bytes. */
export interface ProcessTableValue {
  address: bigint;
  bytes: bigint;
}

/** Value of the run buffer elements 0x0C00 / 0x0C01: L1 real address and size in bytes. */
export interface BufferDescriptor {
  address: bigint;
  bytes: bigint;
}

const U64_MAX = (1n << 64n) - 1n;

/** True when `v` is an unsigned 64-bit value. */
export function fitsU64(v: bigint): boolean {
  return v >= 0n && v <= U64_MAX;
}

/** True when `v` is an integer number in 0..2^32−1. */
export function fitsU32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
}

/** Smallest power of two ≥ n (n ≥ 1, at most 2^30): Linux's buffer capacity rule (spec §9.2). */
export function roundUpPow2(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 1 << 30) throw new RangeError(`capacity ${n} outside 1..2^30`);
  return n === 1 ? 1 : 2 ** (32 - Math.clz32(n - 1));
}

/** The unsigned u32 value at `off`. */
export function readU32(view: DataView, off: number): number {
  return view.getUint32(off);
}

/** High 32 bits (unsigned) of the u64 value at `off`. */
export function readU64Hi(view: DataView, off: number): number {
  return view.getUint32(off);
}

/** Low 32 bits (unsigned) of the u64 value at `off`. */
export function readU64Lo(view: DataView, off: number): number {
  return view.getUint32(off + 4);
}

/** The u64 value at `off`, all 64 bits. */
export function readU64(view: DataView, off: number): bigint {
  return view.getBigUint64(off);
}

/** The 16-byte vector value at `off`. */
export function readVec128(view: DataView, off: number): Vec128 {
  return { dw0: view.getBigUint64(off), dw1: view.getBigUint64(off + 8) };
}

/** The 24-byte partition-table value at `off` (element 0x0005). */
export function readPartitionTable(view: DataView, off: number): PartitionTableElement {
  return {
    address: view.getBigUint64(off),
    eaBits: view.getBigUint64(off + 8),
    rootBytes: view.getBigUint64(off + 16),
  };
}

/** The 16-byte process-table value at `off` (element 0x0006). */
export function readProcessTable(view: DataView, off: number): ProcessTableValue {
  return { address: view.getBigUint64(off), bytes: view.getBigUint64(off + 8) };
}

/** The 16-byte buffer descriptor at `off` (elements 0x0C00, 0x0C01). */
export function readBufferDescriptor(view: DataView, off: number): BufferDescriptor {
  return { address: view.getBigUint64(off), bytes: view.getBigUint64(off + 8) };
}

/** Writes a u32 value (the caller has checked it fits). */
export function writeU32(view: DataView, off: number, v: number): void {
  view.setUint32(off, v >>> 0);
}

/** Writes a u64 value from 32-bit halves (either signed or unsigned numbers). */
export function writeU64Halves(view: DataView, off: number, hi: number, lo: number): void {
  view.setUint32(off, hi >>> 0);
  view.setUint32(off + 4, lo >>> 0);
}

/** Writes a u64 value, modulo 2^64. */
export function writeU64(view: DataView, off: number, v: bigint): void {
  view.setBigUint64(off, BigInt.asUintN(64, v));
}

/** Writes a 16-byte vector value. */
export function writeVec128(view: DataView, off: number, v: Vec128): void {
  writeU64(view, off, v.dw0);
  writeU64(view, off + 8, v.dw1);
}

/** Writes a 24-byte partition-table value. */
export function writePartitionTable(view: DataView, off: number, v: PartitionTableElement): void {
  writeU64(view, off, v.address);
  writeU64(view, off + 8, v.eaBits);
  writeU64(view, off + 16, v.rootBytes);
}

/** Writes a 16-byte process-table value or buffer descriptor (same layout: address, bytes). */
export function writeAddressBytes(
  view: DataView,
  off: number,
  v: ProcessTableValue | BufferDescriptor,
): void {
  writeU64(view, off, v.address);
  writeU64(view, off + 8, v.bytes);
}

/** A DataView over exactly the bytes of `bytes` (no copy). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

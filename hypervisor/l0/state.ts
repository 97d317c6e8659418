/**
 * Reading and writing L2 state for H_GUEST_GET_STATE / H_GUEST_SET_STATE and the run input buffer
 * of H_GUEST_RUN_VCPU: buffers in L1 memory, validated with the GSB codec (hypervisor/gsb/
 * validate.ts) before anything is applied, so a refused SET changes nothing.
 *
 * Where state lives:
 *   thread-wide elements → the vCPU's register area (cores/vcpu.ts), every element of the table;
 *   guest-wide elements  → the guest record (partitions.ts G.*): LOGICAL_PVR, TB_OFFSET (also copied
 *                          into every vCPU area, where the core reads it), PARTITION_TABLE,
 *                          PROCESS_TABLE; HOST_STATE_SIZE and RUN_OUTPUT_MIN_SIZE are constants;
 *   host-wide elements   → computed from L0's state (see `hostValue`).
 * Values are checked after the table's checks (validate.ts): run buffers must lie in L1 memory with
 * a size in the limits, the partition table must be encodable in a PATE, the process table must be
 * a 4 KiB-aligned power of two of at least 4 KiB, the logical PVR a mode L1 negotiated. LPCR and
 * MSR bits L1 may not set are masked silently (decisions table).
 */
import { VCPU_BYTES } from '../../cores/vcpu.js';
import { rootFromElement } from '../../mem/radix-root.js';
import { GsbCursor } from '../gsb/codec.js';
import { type ElementDef, elementById } from '../gsb/elements.js';
import { copyMaskedValue } from '../gsb/mask.js';
import { checkGsb, type GsbCheck, newGsbCheck, type RequestKind } from '../gsb/validate.js';
import { VPA_MIN_BYTES } from '../lppaca.js';
import { H, LogicalPvr } from '../papr.js';
import type { L0 } from './l0.js';
import { G, Hdr } from './partitions.js';
import type { HcallRegs } from './regs.js';

/** Scratch shared by every call on this thread (values are masked here before they are stored). */
const scratch = new DataView(new ArrayBuffer(32));
const cursor = new GsbCursor();
const check = newGsbCheck();

/** True when [addr, addr + size) lies inside L1 memory. */
function inL1(l0: L0, addr: number, size: number): boolean {
  return Number.isSafeInteger(addr) && addr >= 0 && size >= 0 && addr + size <= l0.ram.size;
}

/** Records a failed check's R4 and returns its code. */
function refused(l0: L0, r: HcallRegs, c: GsbCheck): number {
  r.setInt(4, c.r4);
  return l0.fail(c.rc, c.reason);
}

/** Value check of thread-wide elements: the run buffers and the VPA. */
function makeThreadCheck(l0: L0) {
  return (def: ElementDef, view: DataView, off: number): string | undefined => {
    if (def.id === 0x0c02) return vpaProblem(l0, view.getBigUint64(off));
    if (def.id !== 0x0c00 && def.id !== 0x0c01) return undefined;
    const addr = Number(view.getBigUint64(off));
    const bytes = Number(view.getBigUint64(off + 8));
    const { minRunBufferBytes: min, maxRunBufferBytes: max } = l0.config.limits;
    if (bytes < min || bytes > max) return `${def.name} size ${bytes} outside ${min}..${max}`;
    if (!inL1(l0, addr, bytes)) return `${def.name} [0x${addr.toString(16)}, +${bytes}) is not in L1 memory`;
    return undefined;
  };
}

/**
 * Why L0 cannot keep the dispatch count of a VPA at L1 address `a` (all ones or 0: none). The
 * lppaca's first 640 bytes (PAPR's minimum VPA) must lie in one 4 KiB page of L1 memory.
 */
function vpaProblem(l0: L0, a: bigint): string | undefined {
  if (a === 0n || a === 0xffff_ffff_ffff_ffffn) return undefined;
  const addr = Number(a);
  if (addr % 8 !== 0) return `VPA 0x${a.toString(16)} is not 8-byte aligned`;
  if ((addr % 4096) + VPA_MIN_BYTES > 4096) return `VPA 0x${a.toString(16)} crosses a 4 KiB page`;
  if (!inL1(l0, addr, VPA_MIN_BYTES)) return `VPA 0x${a.toString(16)} is not in L1 memory`;
  return undefined;
}

/** Value check of guest-wide elements. */
function makeGuestCheck(l0: L0) {
  return (def: ElementDef, view: DataView, off: number): string | undefined => {
    switch (def.id) {
      case 0x0003: {
        const pvr = view.getUint32(off);
        const offered = [LogicalPvr.POWER9, LogicalPvr.POWER10, LogicalPvr.POWER11, l0.config.l1Pvr];
        return offered.includes(pvr)
          ? undefined
          : `logical PVR 0x${pvr.toString(16)} is not a mode L0 offers`;
      }
      case 0x0005: {
        const e = {
          address: view.getBigUint64(off),
          eaBits: view.getBigUint64(off + 8),
          rootBytes: view.getBigUint64(off + 16),
        };
        if (e.address === 0n && e.eaBits === 0n && e.rootBytes === 0n) return undefined; // unset
        const root = rootFromElement(e);
        if ('reason' in root) return root.reason;
        if (e.rootBytes > 1n << 30n)
          return `root directory of ${e.rootBytes} bytes (nestsim takes at most 1 GiB)`;
        if (!inL1(l0, Number(e.address), Number(e.rootBytes))) return 'root directory is not in L1 memory';
        return undefined;
      }
      case 0x0006: {
        const addr = view.getBigUint64(off);
        const bytes = view.getBigUint64(off + 8);
        if (addr === 0n && bytes === 0n) return undefined;
        if (bytes < 4096n || (bytes & (bytes - 1n)) !== 0n || bytes > 1n << 36n)
          return `process table of ${bytes} bytes is not a power of two in 4 KiB..64 GiB`;
        if ((addr & 0xfffn) !== 0n) return 'process table address is not 4 KiB aligned';
        return undefined;
      }
    }
    return undefined;
  };
}

/**
 * Validates, then applies, the thread-wide elements of the buffer at L1 address `addr` (capacity
 * `size`) to vCPU slot `slot`. Returns an H code; on refusal r4 holds the element index
 * (`set-thread`) or byte offset (`run-input`). Nothing is applied unless every element passes.
 */
export function setThreadState(
  l0: L0,
  _guestId: number,
  slot: number,
  addr: number,
  size: number,
  kind: 'set-thread' | 'run-input',
  r: HcallRegs,
): number {
  if (!inL1(l0, addr, size)) {
    r.setInt(4, 0);
    const rc = kind === 'run-input' ? H.INPUT_BUFFER_TOO_SMALL : H.P3;
    return l0.fail(rc, `buffer [0x${addr.toString(16)}, +${size}) is not in L1 memory`);
  }
  const dv = l0.ram.dv;
  // The common run input buffer is empty or small: skip the value-check closure then.
  if (!checkGsb(dv, addr, size, kind, check, { checkValue: l0.threadValueCheck }))
    return refused(l0, r, check);
  const vcpu = l0.vcpu(slot);
  const dropped = l0.config.mutants.setStateDrops ?? -1;
  cursor.start(dv, addr, size);
  while (cursor.next()) {
    const id = cursor.id;
    if (id === 0) continue;
    if (id === dropped && kind === 'set-thread') continue; // the test-only mutant
    const def = elementById(id)!;
    copyMaskedValue(def, dv, cursor.valueOffset, scratch, 0);
    vcpu.writeElement(id, scratch, 0);
  }
  return H.SUCCESS;
}

/** Fills the values of the thread-wide elements named in the buffer from vCPU slot `slot`. */
export function getThreadState(l0: L0, slot: number, addr: number, size: number, r: HcallRegs): number {
  if (!inL1(l0, addr, size)) return l0.fail(H.P3, 'buffer is not in L1 memory');
  const dv = l0.ram.dv;
  if (!checkGsb(dv, addr, size, 'get-thread', check)) return refused(l0, r, check);
  const vcpu = l0.vcpu(slot);
  cursor.start(dv, addr, size);
  while (cursor.next()) if (cursor.id !== 0) vcpu.readElement(cursor.id, dv, cursor.valueOffset);
  return H.SUCCESS;
}

/** Validates, then applies, a guest-wide SET buffer to guest `guestId`. */
export function setGuestState(l0: L0, guestId: number, addr: number, size: number, r: HcallRegs): number {
  if (!inL1(l0, addr, size)) return l0.fail(H.P3, 'buffer is not in L1 memory');
  const dv = l0.ram.dv;
  if (!checkGsb(dv, addr, size, 'set-guest', check, { checkValue: l0.guestValueCheck }))
    return refused(l0, r, check);
  const { parts } = l0;
  const w = parts.w;
  const g = (field: number) => parts.guestWord(guestId, field);
  cursor.start(dv, addr, size);
  while (cursor.next()) {
    const v = cursor.valueOffset;
    switch (cursor.id) {
      case 0x0003:
        w[g(G.LOGICAL_PVR)] = dv.getInt32(v);
        break;
      case 0x0004: {
        const hi = dv.getInt32(v);
        const lo = dv.getInt32(v + 4);
        w[g(G.TB_OFFSET_HI)] = hi;
        w[g(G.TB_OFFSET_LO)] = lo;
        l0.forEachVcpu(guestId, (slot) => l0.setTbOffset(slot, hi, lo));
        break;
      }
      case 0x0005:
        w[g(G.PT_ADDR_HI)] = dv.getInt32(v);
        w[g(G.PT_ADDR_LO)] = dv.getInt32(v + 4);
        w[g(G.PT_EA_BITS)] = dv.getInt32(v + 12);
        w[g(G.PT_ROOT_BYTES)] = dv.getInt32(v + 20);
        // A new tree: translations cached from the old one must go (Linux sets it again whenever
        // the L2 PATE changes, spec §13).
        l0.invalidatePartition(guestId);
        break;
      case 0x0006:
        w[g(G.PRT_ADDR_HI)] = dv.getInt32(v);
        w[g(G.PRT_ADDR_LO)] = dv.getInt32(v + 4);
        w[g(G.PRT_BYTES_HI)] = dv.getInt32(v + 8);
        w[g(G.PRT_BYTES_LO)] = dv.getInt32(v + 12);
        break;
    }
  }
  return H.SUCCESS;
}

/** Fills a guest-wide GET buffer from guest `guestId`. */
export function getGuestState(l0: L0, guestId: number, addr: number, size: number, r: HcallRegs): number {
  return fill(l0, addr, size, 'get-guest', r, (id, v) => {
    const { parts } = l0;
    const w = parts.w;
    const dv = l0.ram.dv;
    const g = (field: number) => w[parts.guestWord(guestId, field)]!;
    switch (id) {
      case 0x0001:
        putU64(dv, v, VCPU_BYTES);
        break;
      case 0x0002:
        putU64(dv, v, l0.config.limits.minRunBufferBytes);
        break;
      case 0x0003:
        dv.setInt32(v, g(G.LOGICAL_PVR));
        break;
      case 0x0004:
        dv.setInt32(v, g(G.TB_OFFSET_HI));
        dv.setInt32(v + 4, g(G.TB_OFFSET_LO));
        break;
      case 0x0005:
        dv.setInt32(v, g(G.PT_ADDR_HI));
        dv.setInt32(v + 4, g(G.PT_ADDR_LO));
        putU64(dv, v + 8, g(G.PT_EA_BITS));
        putU64(dv, v + 16, g(G.PT_ROOT_BYTES) >>> 0);
        break;
      case 0x0006:
        dv.setInt32(v, g(G.PRT_ADDR_HI));
        dv.setInt32(v + 4, g(G.PRT_ADDR_LO));
        dv.setInt32(v + 8, g(G.PRT_BYTES_HI));
        dv.setInt32(v + 12, g(G.PRT_BYTES_LO));
        break;
    }
  });
}

/** Fills a host-wide GET buffer (IDs 0x0800–0x0804). */
export function getHostState(l0: L0, addr: number, size: number, r: HcallRegs): number {
  return fill(l0, addr, size, 'get-host', r, (id, v) => putU64(l0.ram.dv, v, hostValue(l0, id)));
}

/**
 * The host-wide numbers, from L0's state: the "guest heap" is L0's per-guest memory (guest records
 * and vCPU register areas in use, and at most); nestsim's v2 L0 keeps no page tables of its own
 * for L2s (L1's partition-scoped trees are walked in place), so the page-table figures are 0.
 */
function hostValue(l0: L0, id: number): number {
  const GUEST_RECORD_BYTES = 64;
  const w = l0.parts.w;
  switch (id) {
    case 0x0800:
      return w[Hdr.ACTIVE_VCPUS]! * VCPU_BYTES + w[Hdr.ACTIVE_GUESTS]! * GUEST_RECORD_BYTES;
    case 0x0801:
      return l0.config.maxVcpus * VCPU_BYTES + l0.config.limits.maxGuestId * GUEST_RECORD_BYTES;
    default:
      return 0;
  }
}

/** Validates a GET buffer of `kind`, then calls `put(id, valueOffset)` for each non-BLANK element. */
function fill(
  l0: L0,
  addr: number,
  size: number,
  kind: RequestKind,
  r: HcallRegs,
  put: (id: number, valueOffset: number) => void,
): number {
  if (!inL1(l0, addr, size)) return l0.fail(H.P3, 'buffer is not in L1 memory');
  const dv = l0.ram.dv;
  if (!checkGsb(dv, addr, size, kind, check)) return refused(l0, r, check);
  cursor.start(dv, addr, size);
  while (cursor.next()) if (cursor.id !== 0) put(cursor.id, cursor.valueOffset);
  return H.SUCCESS;
}

/** Writes a safe non-negative integer as a big-endian u64. */
function putU64(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, Math.floor(v / 4294967296));
  dv.setUint32(off + 4, v >>> 0);
}

export { makeGuestCheck, makeThreadCheck };

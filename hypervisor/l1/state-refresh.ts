/**
 * The owner's full-state refresh of its own vCPU, as Linux's nestedv2 L1 does on an NMI or before
 * migration: H_GUEST_GET_STATE of every thread-wide register element, H_GUEST_SET_STATE of the same
 * values back, and a second GET that must read back exactly what the first did. Bugs this class
 * caught in real L1s: a cached LPCR with MER set flooding L2 with interrupts, elements defined in
 * the API but never synced (bugs-to-catch.md, A and C). Run between two entries by the L1 vCPU
 * loop, which holds no other reference to the vCPU's state then.
 *
 * Buffer: REFRESH_BYTES of L1 memory, two halves; each holds one GSB listing every element.
 */

import type { GuestRam } from '../../mem/ram.js';
import { ELEMENTS, type ElementDef } from '../gsb/elements.js';
import { HcallRegs } from '../l0/regs.js';
import { H, Hcall } from '../papr.js';
import type { Doorbells } from './doorbells.js';
import type { LoopPolicy } from './loop-table.js';
import type { L0Port, OwnerPolicy } from './vcpu-loop.js';
import type { VirtualIrq } from './virtual-irq.js';

/** The elements a refresh moves: thread-wide registers L1 may set (not the buffer registrations). */
export const REFRESHED: readonly ElementDef[] = ELEMENTS.filter(
  (d) => d.scope === 'thread' && d.l1Settable && d.kind !== 'buffer' && d.size > 0,
);

/** Bytes of one GSB holding every refreshed element. */
export const REFRESH_GSB_BYTES = 4 + REFRESHED.reduce((n, d) => n + 4 + d.size, 0);

/** Bytes of the buffer a loop needs for refreshes (two GSBs, rounded to frames). */
export const REFRESH_BUFFER_BYTES = Math.ceil((2 * REFRESH_GSB_BYTES) / 4096) * 4096;

/** Writes the GET request (ids and lengths, values zero) for every refreshed element at `at`. */
function request(ram: GuestRam, at: number): void {
  const dv = ram.dv;
  dv.setUint32(at, REFRESHED.length, false);
  let p = at + 4;
  for (const d of REFRESHED) {
    dv.setUint16(p, d.id, false);
    dv.setUint16(p + 2, d.size, false);
    ram.u8.fill(0, p + 4, p + 4 + d.size);
    p += 4 + d.size;
  }
}

/**
 * One refresh of vCPU `vcpuId` of guest `guestId` on core `core`. Returns undefined when it went as
 * it must, else what went wrong (a broken invariant for the stress checks).
 */
export function refreshState(
  port: L0Port,
  r: HcallRegs,
  ram: GuestRam,
  buffer: number,
  guestId: number,
  vcpuId: number,
  core: number,
  /** Called with the GSB of the first GET once it succeeded (L1 takes its copies from it). */
  onRead?: (gsb: number) => void,
): string | undefined {
  const first = buffer;
  const second = buffer + REFRESH_GSB_BYTES;
  const call = (opcode: number, at: number) => {
    r.clear();
    r.setInt(3, opcode);
    r.setInt(5, guestId);
    r.setInt(6, vcpuId);
    r.setInt(7, at);
    r.setInt(8, REFRESH_GSB_BYTES);
    return port.hcall(r, core);
  };
  request(ram, first);
  let rc = call(Hcall.H_GUEST_GET_STATE, first);
  if (rc === H.BUSY) return undefined; // held elsewhere for a moment (a prober's GET): skip this one
  if (rc !== H.SUCCESS) return `refresh: GET_STATE of every element failed with ${rc} (r4 ${r.num(4)})`;
  onRead?.(first);
  rc = call(Hcall.H_GUEST_SET_STATE, first);
  if (rc === H.BUSY) return undefined;
  if (rc !== H.SUCCESS) {
    const bad = REFRESHED[r.num(4)]?.name ?? `#${r.num(4)}`;
    return `refresh: SET_STATE of what GET_STATE returned failed with ${rc} at ${bad}`;
  }
  request(ram, second);
  rc = call(Hcall.H_GUEST_GET_STATE, second);
  if (rc === H.BUSY) return undefined;
  if (rc !== H.SUCCESS) return `refresh: second GET_STATE failed with ${rc}`;
  const u8 = ram.u8;
  let p = 4;
  for (const d of REFRESHED) {
    for (let k = 0; k < d.size; k++)
      if (u8[first + p + 4 + k] !== u8[second + p + 4 + k])
        return `refresh: ${d.name} read back differs after SET_STATE of the value GET_STATE gave`;
    p += 4 + d.size;
  }
  return undefined;
}

/** Byte offset of the LPCR element's value in a refresh GSB (every REFRESHED element, in order). */
const LPCR_VALUE_AT = (() => {
  let p = 4;
  for (const d of REFRESHED) {
    if (d.name === 'LPCR') return p + 4;
    p += 4 + d.size;
  }
  throw new Error('the refresh must move LPCR');
})();

/**
 * The OwnerPolicy of a vCPU loop whose loop-table policy is `p` (on whichever thread runs it);
 * `irq`: the loop's virtual interrupt source, whose LPCR copy a refresh updates; `doorbells`: its
 * doorbell emulation.
 */
export function ownerPolicy(
  port: L0Port,
  ram: GuestRam,
  p: LoopPolicy,
  guestId: number,
  vcpuId: number,
  { irq, doorbells }: { irq: VirtualIrq | null; doorbells: Doorbells | null },
): OwnerPolicy {
  const r = new HcallRegs();
  const dv = ram.dv;
  const onRead =
    irq === null
      ? undefined
      : (gsb: number) =>
          irq.copyLpcr(dv.getInt32(gsb + LPCR_VALUE_AT, false), dv.getInt32(gsb + LPCR_VALUE_AT + 4, false));
  return {
    refreshEvery: p.refreshEvery,
    pendingEvery: p.pendingEvery,
    irqEvery: p.irqEvery,
    irq,
    doorbells,
    refresh: (core) => refreshState(port, r, ram, p.refreshAddr, guestId, vcpuId, core, onRead),
  };
}

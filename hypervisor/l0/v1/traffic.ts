/**
 * Bytes of vCPU state L0 moves per entry and exit, for the side-by-side bench of the two APIs
 * (L0Stats.stateBytes). v1 counts its two structures where it copies them (enter-nested.ts). For
 * v2 these wrappers go around the handlers (hcalls/index.ts) and measure the buffers after the
 * call, so the v2 hot path itself is unchanged:
 *   H_GUEST_RUN_VCPU           the run input buffer's used bytes (read) and the output buffer's
 *                              (written), when the L2 ran;
 *   H_GUEST_GET/SET_STATE      of a vCPU (not guest- or host-wide): SET reads the whole buffer,
 *                              GET reads the header and element headers and writes the values.
 * "Used bytes" of a GSB: the 4-byte count and every element header and value it counts.
 */
import { R } from '../../../cores/vcpu.js';
import type { GuestRam } from '../../../mem/ram.js';
import { H } from '../../papr.js';
import type { HcallHandler } from '../l0.js';

/** High-word bits of GET/SET_STATE's guest-wide and host-wide flags (IBM bits 0 and 1). */
const WIDE_HI = 0xc000_0000 | 0;

/** Bytes a GSB at `addr` (capacity `cap`) uses: total and headers; zeros when it is malformed. */
function gsbBytes(ram: GuestRam, addr: number, cap: number): { total: number; headers: number } {
  if (!ram.inBounds(addr, 4) || cap < 4) return { total: 0, headers: 0 };
  const dv = ram.dv;
  const n = dv.getUint32(addr, false);
  let at = 4;
  for (let k = 0; k < n; k++) {
    if (at + 4 > cap || !ram.inBounds(addr + at, 4)) return { total: 0, headers: 0 };
    at += 4 + dv.getUint16(addr + at + 2, false);
  }
  return at > cap ? { total: 0, headers: 0 } : { total: at, headers: 4 + 4 * n };
}

/** The registered run buffer (RUN_INPUT or RUN_OUTPUT word index) of the vCPU an hcall names, or undefined. */
function runBuffer(l0: Parameters<HcallHandler>[0], guestId: number, vcpuId: number, at: number) {
  const slot = l0.parts.slotOf(guestId, vcpuId);
  if (slot < 0) return undefined;
  const w = l0.vcpu(slot).w;
  return { addr: w[at]! * 4294967296 + (w[at + 1]! >>> 0), bytes: w[at + 3]! >>> 0 };
}

/** H_GUEST_RUN_VCPU, counting its run buffers. */
export function countRunTraffic(inner: HcallHandler): HcallHandler {
  return (l0, r, core) => {
    const guestId = r.num(5);
    const vcpuId = r.num(6);
    const inp = runBuffer(l0, guestId, vcpuId, R.RUN_INPUT);
    // Measured before the call: L0 leaves the input buffer as it is, L1 may reuse it right after.
    const read = inp ? gsbBytes(l0.ram, inp.addr, inp.bytes).total : 0;
    const rc = inner(l0, r, core);
    if (rc !== H.SUCCESS) return rc;
    const out = runBuffer(l0, guestId, vcpuId, R.RUN_OUTPUT);
    const t = l0.stats.stateBytes.v2;
    t.read += read;
    t.written += out ? gsbBytes(l0.ram, out.addr, out.bytes).total : 0;
    t.entries++;
    return rc;
  };
}

/** H_GUEST_GET_STATE (`get`) or H_GUEST_SET_STATE of a vCPU, counting its buffer. */
export function countStateTraffic(inner: HcallHandler, get: boolean): HcallHandler {
  return (l0, r, core) => {
    const wide = (r.hi(4) & WIDE_HI) !== 0;
    const addr = r.num(7);
    const cap = r.num(8);
    const rc = inner(l0, r, core);
    if (rc !== H.SUCCESS || wide) return rc;
    const b = gsbBytes(l0.ram, addr, cap);
    const t = l0.stats.stateBytes.v2;
    if (get) {
      t.read += b.headers;
      t.written += b.total - b.headers;
    } else t.read += b.total;
    return rc;
  };
}

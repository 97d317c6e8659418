/**
 * H_GUEST_GET_STATE (0x478) and H_GUEST_SET_STATE (0x47C), spec §5.5, §18 (PAPR-code column) and
 * the decisions table. r4 flags, r5 guest id, r6 vCPU id, r7 L1 address of the buffer, r8 its
 * capacity (Linux passes a power of two; parsing goes by the header count).
 *
 * Check order: flags (SET: only bit 0; GET: bit 0 or bit 1, not both → H_PARAMETER) → guest,
 * unless host-wide (H_P2) → vCPU for thread-wide requests (H_P3) → buffer in L1 memory and within
 * the size limit (H_P3) → elements (H_INVALID_ELEMENT_ID / _SIZE / _VALUE, r4 = element index).
 * Thread-wide requests act on a vCPU L0 holds for a run only if the caller holds it: a vCPU running
 * on another core answers H_BUSY (its state is changing under the run).
 */
import { H } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { getGuestState, getHostState, getThreadState, setGuestState, setThreadState } from '../state.js';
import { FlagHi, hasReservedFlags } from './flags.js';

export const hGuestGetState: HcallHandler = (l0, r, core) => {
  if (hasReservedFlags(r, 4, FlagHi.BIT0 | FlagHi.BIT1))
    return l0.fail(H.PARAMETER, 'GET_STATE flags: bits 2..63 reserved');
  const wide = r.hi(4) & (FlagHi.BIT0 | FlagHi.BIT1);
  if (wide === (FlagHi.BIT0 | FlagHi.BIT1)) return l0.fail(H.PARAMETER, 'guest-wide and host-wide at once');
  const addr = r.num(7);
  const size = r.num(8);
  if (wide === FlagHi.BIT1) return sized(l0, size) ?? getHostState(l0, addr, size, r);
  const guestId = r.num(5);
  if (!l0.parts.guestActive(guestId)) return l0.fail(H.P2, `no guest ${guestId}`);
  if (wide === FlagHi.BIT0) return sized(l0, size) ?? getGuestState(l0, guestId, addr, size, r);
  const slot = l0.parts.slotOf(guestId, r.num(6));
  if (slot < 0) return l0.fail(H.P3, `no vCPU ${r.num(6)} in guest ${guestId}`);
  return sized(l0, size) ?? held(l0, slot, core, () => getThreadState(l0, slot, addr, size, r));
};

export const hGuestSetState: HcallHandler = (l0, r, core) => {
  if (hasReservedFlags(r, 4, FlagHi.BIT0))
    return l0.fail(H.PARAMETER, 'SET_STATE flags: bits 1..63 reserved');
  const guestId = r.num(5);
  if (!l0.parts.guestActive(guestId)) return l0.fail(H.P2, `no guest ${guestId}`);
  const addr = r.num(7);
  const size = r.num(8);
  if ((r.hi(4) & FlagHi.BIT0) !== 0) return sized(l0, size) ?? setGuestState(l0, guestId, addr, size, r);
  const slot = l0.parts.slotOf(guestId, r.num(6));
  if (slot < 0) return l0.fail(H.P3, `no vCPU ${r.num(6)} in guest ${guestId}`);
  return (
    sized(l0, size) ??
    held(l0, slot, core, () => setThreadState(l0, guestId, slot, addr, size, 'set-thread', r))
  );
};

/** H_P3 for a capacity over the limit (checked before the buffer is read). */
function sized(l0: Parameters<HcallHandler>[0], size: number): number | undefined {
  const max = l0.config.limits.maxStateBufferBytes;
  return size > max ? l0.fail(H.P3, `buffer capacity ${size} over the ${max}-byte limit`) : undefined;
}

/** Runs `fn` holding the vCPU slot, or answers H_BUSY when another core runs it. */
function held(l0: Parameters<HcallHandler>[0], slot: number, core: number, fn: () => number): number {
  if (l0.parts.holderOf(slot) === core) return fn(); // called from the core running it
  if (!l0.parts.acquire(slot, core))
    return l0.fail(H.BUSY, `vCPU slot ${slot} runs on core ${l0.parts.holderOf(slot)}`);
  try {
    return fn();
  } finally {
    l0.parts.release(slot, core);
  }
}

/**
 * H_GUEST_DELETE (0x488), spec §5.7 and the decisions table: reserved flags → delete-all → guest.
 * A guest whose vCPUs are running is marked DELETING (later calls naming it get H_P2), its running
 * vCPUs are asked to stop at their next check point (their RUN_VCPU returns exit reason 0), and it
 * is freed once every slot is back; then DELETE returns H_SUCCESS.
 */
import { H } from '../../papr.js';
import type { HcallHandler, L0 } from '../l0.js';
import { G, GuestState, Hdr, Owner, S } from '../partitions.js';
import { FlagHi, hasReservedFlags } from './flags.js';

/** How long a delete waits for a running vCPU to reach a check point before reporting a stuck core. */
const STOP_DEADLINE_MS = 10_000;

export const hGuestDelete: HcallHandler = (l0, r) => {
  if (hasReservedFlags(r, 4, FlagHi.BIT0))
    return l0.fail(H.UNSUPPORTED_FLAG, 'DELETE defines only bit 0 (all)');
  if ((r.hi(4) & FlagHi.BIT0) !== 0) {
    // DeleteFlags.ALL: every guest, the guest id is ignored
    for (let id = 1; id <= l0.config.limits.maxGuestId; id++)
      if (l0.parts.guestActive(id)) deleteGuest(l0, id);
    return H.SUCCESS;
  }
  const guestId = r.num(5);
  if (!l0.parts.guestActive(guestId)) return l0.fail(H.P2, `no guest ${guestId}`);
  const busyLeft = l0.deleteBusyLeft.get(guestId) ?? l0.config.faults.deleteBusy;
  if (busyLeft > 0) {
    l0.deleteBusyLeft.set(guestId, busyLeft - 1);
    return l0.fail(H.BUSY, 'tearing down the guest (fault injection)');
  }
  l0.deleteBusyLeft.delete(guestId);
  deleteGuest(l0, guestId);
  return H.SUCCESS;
};

/** Stops, frees and unpublishes every vCPU of a guest, then the guest record. */
export function deleteGuest(l0: L0, guestId: number): void {
  const { parts } = l0;
  const { w } = parts;
  Atomics.store(w, parts.guestWord(guestId, G.STATE), GuestState.DELETING);
  const slots: number[] = [];
  for (
    let v = 0;
    v < l0.config.limits.vcpusPerGuest && slots.length < w[parts.guestWord(guestId, G.VCPUS)]!;
    v++
  ) {
    const s = parts.slotOf(guestId, v);
    if (s >= 0) slots.push(s);
  }
  for (const s of slots) Atomics.store(w, parts.slotWord(s, S.STOP), 1);
  for (const s of slots) {
    const idx = parts.slotWord(s, S.OWNER);
    const deadline = Date.now() + STOP_DEADLINE_MS;
    for (let o = Atomics.load(w, idx); o >= Owner.OWNER_CORE0; o = Atomics.load(w, idx)) {
      if (Date.now() > deadline) {
        throw new Error(
          `core ${o - Owner.OWNER_CORE0} did not stop guest ${guestId}'s vCPU slot ${s} within ${STOP_DEADLINE_MS} ms`,
        );
      }
      Atomics.wait(w, idx, o, 50);
    }
  }
  for (const s of slots) {
    parts.setSlotOf(guestId, w[parts.slotWord(s, S.VCPU_ID)]!, -1);
    Atomics.store(w, parts.slotWord(s, S.OWNER), Owner.FREE);
    Atomics.sub(w, Hdr.ACTIVE_VCPUS, 1);
  }
  w[parts.guestWord(guestId, G.VCPUS)] = 0;
  w[parts.guestWord(guestId, G.INCARNATION)] = w[parts.guestWord(guestId, G.INCARNATION)]! + 1;
  l0.guestDeleted(guestId);
  Atomics.sub(w, Hdr.ACTIVE_GUESTS, 1);
  Atomics.store(w, parts.guestWord(guestId, G.STATE), GuestState.FREE);
}

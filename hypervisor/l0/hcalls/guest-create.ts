/**
 * H_GUEST_CREATE (0x470), spec §5.3 and §18 (PAPR-code column): flags → continue token →
 * capabilities set → a free id. The new guest starts with the L1's PVR as its logical PVR, no
 * partition or process table, TB offset 0 and no vCPUs; its id is the lowest free one ≥ 1.
 *
 * Continue tokens: nestsim answers at once unless fault injection (`faults.createBusy`) makes it
 * answer H_BUSY with a token in r4 first; L1 must then call again passing that token in r5.
 */
import { H } from '../../papr.js';
import type { HcallHandler, L0 } from '../l0.js';
import { G, GuestState, Hdr } from '../partitions.js';

export const hGuestCreate: HcallHandler = (l0, r) => {
  if (!r.isZero(4)) return l0.fail(H.UNSUPPORTED_FLAG, 'CREATE defines no flags');
  const fresh = r.isAllOnes(5);
  const pending = l0.createToken;
  if (!fresh && (pending.value === 0n || r.big(5) !== pending.value)) {
    return l0.fail(H.P2, `continue token 0x${r.big(5).toString(16)} was never handed out`);
  }
  if (Atomics.load(l0.parts.w, Hdr.CAPS_SET) === 0) return l0.fail(H.STATE, 'SET_CAPABILITIES not done yet');
  if (pending.busyLeft > 0) {
    pending.busyLeft--;
    if (fresh || pending.value === 0n) pending.value = BigInt(pending.next++);
    r.setBig(4, pending.value);
    return l0.fail(H.BUSY, 'creation in progress (fault injection)');
  }
  const id = l0.parts.lowestFreeGuestId();
  if (id < 0) return l0.fail(H.NOT_ENOUGH_RESOURCES, `all ${l0.config.limits.maxGuestId} guest ids in use`);
  pending.value = 0n;
  pending.busyLeft = l0.config.faults.createBusy;
  initGuest(l0, id);
  r.setInt(4, id);
  return H.SUCCESS;
};

/** Writes a fresh guest record and publishes it (state word last). */
function initGuest(l0: L0, id: number): void {
  const { w } = l0.parts;
  const at = (f: number) => l0.parts.guestWord(id, f);
  for (let f = G.INCARNATION + 1; f <= G.TB_OFFSET_LO; f++) w[at(f)] = 0;
  w[at(G.LOGICAL_PVR)] = l0.config.l1Pvr;
  w[at(G.INCARNATION)] = w[at(G.INCARNATION)]! + 1;
  Atomics.add(w, Hdr.ACTIVE_GUESTS, 1);
  Atomics.store(w, at(G.STATE), GuestState.ACTIVE);
}

/**
 * H_GUEST_CREATE_VCPU (0x474), spec §5.4 and §18: flags → guest → vCPU id range → duplicate →
 * slot pool. Any id 0..vcpusPerGuest−1 in any order (decisions table: PAPR allows sparse ids).
 */
import { H } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { G, Hdr, Owner, S } from '../partitions.js';

export const hGuestCreateVcpu: HcallHandler = (l0, r) => {
  const guestId = r.num(5);
  const vcpuId = r.num(6);
  const { parts } = l0;
  if (!r.isZero(4)) return l0.fail(H.UNSUPPORTED_FLAG, 'CREATE_VCPU defines no flags');
  if (!parts.guestActive(guestId)) return l0.fail(H.P2, `no guest ${guestId}`);
  if (vcpuId >= l0.config.limits.vcpusPerGuest) {
    return l0.fail(H.P3, `vCPU id ${vcpuId} ≥ limit ${l0.config.limits.vcpusPerGuest}`);
  }
  if (parts.slotOf(guestId, vcpuId) >= 0)
    return l0.fail(H.IN_USE, `vCPU ${vcpuId} of guest ${guestId} exists`);
  const slot = parts.freeSlot();
  if (slot < 0) return l0.fail(H.NOT_ENOUGH_RESOURCES, `all ${l0.config.maxVcpus} vCPU slots in use`);
  const { w } = parts;
  w[parts.slotWord(slot, S.GUEST_ID)] = guestId;
  w[parts.slotWord(slot, S.VCPU_ID)] = vcpuId;
  w[parts.slotWord(slot, S.GUEST_INCARNATION)] = w[parts.guestWord(guestId, G.INCARNATION)]!;
  w[parts.slotWord(slot, S.STOP)] = 0;
  l0.vcpuCreated(slot, guestId);
  Atomics.add(w, parts.guestWord(guestId, G.VCPUS), 1);
  Atomics.add(w, Hdr.ACTIVE_VCPUS, 1);
  Atomics.store(w, parts.slotWord(slot, S.OWNER), Owner.IDLE);
  parts.setSlotOf(guestId, vcpuId, slot);
  return H.SUCCESS;
};

/** Loop-table entries for tests that need one without an L1 (no buffers, an empty tree). */
import { type LoopPolicy, type LoopSpec, NestedApi } from '../../hypervisor/l1/loop-table.js';

/** A v2 vCPU loop's spec for vCPU `vcpuId` of guest `guestId`, with `policy` if given. */
export function loopSpec(guestId: number, vcpuId: number, policy?: Partial<LoopPolicy>): LoopSpec {
  return {
    guestId,
    vcpuId,
    inAddr: 0,
    inBytes: 0,
    outAddr: 0,
    outBytes: 0,
    hdecTicks: 0,
    root: { base: 0, addrBits: 52, rootBits: 13 },
    api: NestedApi.V2,
    ...(policy ? { policy: { ...NO_POLICY, ...policy } } : {}),
  };
}

/** A policy that does nothing (every field off). */
const NO_POLICY: LoopPolicy = {
  refreshEvery: 0,
  refreshAddr: 0,
  refreshBytes: 0,
  pendingEvery: 0,
  irqEvery: 0,
  irqFlags: 0,
  lpcrHi: 0,
  lpcrLo: 0,
  doorbellThreads: 0,
  doorbellFlags: 0,
  vpaFlags: 0,
};

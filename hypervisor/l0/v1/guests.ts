/**
 * The lifecycle of v1 L2s and their vCPUs in L0 (spec §14.1): both are created implicitly by the
 * first H_ENTER_NESTED that names them, on whichever core it runs, so creation is a race that
 * compare-exchange settles (host.ts); a guest is removed when L1 clears its partition-table entry
 * and flushes it (H_TLB_INVALIDATE RIC=2), or registers another partition table. Also the control
 * operations on a guest's shadow tree: flush a range, drop the whole tree, re-read the PATE.
 *
 * Freeing a replaced shadow tree needs a grace period: a core running one of the guest's vCPUs
 * may be walking or filling the old tree. The old root goes on the guest's retired list and is
 * freed once every core that may be inside it has passed a check point — which the invalidation
 * that follows the replacement waits for when cores acknowledge (multicore runtime) — or, without
 * acknowledgements, once no core holds any of the guest's vCPU slots (a core touches the tree only
 * inside a run, holding a slot; a run that starts later reads the new root).
 */
import { R } from '../../../cores/vcpu.js';
import type { L0 } from '../l0.js';
import { Owner } from '../partitions.js';
import { MAP_CREATING, V1GuestState, V1Hdr, V1Host, VG, VS } from './host.js';
import { clearRange, freeTree } from './shadow-table.js';

/** How long a removal waits for a running vCPU to reach a check point (then it reports a stuck core). */
const STOP_DEADLINE_MS = 10_000;
/** How long H_ENTER_NESTED waits for another core to finish creating the same guest. */
const CREATE_WAIT_MS = 1_000;

/** DEC_EXPIRY_TB of a new vCPU: far in the future (the L2's DEC lives in the slot, not the structs). */
const FAR_DEC_HI = 0x4000_0000;

/** Reads PATE `lpid` (two big-endian doublewords) from L1's partition table into the guest record. */
function readPate(host: V1Host, l0: L0, lpid: number): void {
  const ptcr = host.ptcr();
  const at = (ptcr & ~0xfff) + 16 * lpid;
  const dv = l0.ram.dv;
  const w = host.w;
  const ok = ptcr !== 0 && l0.ram.inBounds(at, 16);
  Atomics.store(w, host.guestWord(lpid, VG.PATE0_HI), ok ? dv.getInt32(at, false) : 0);
  Atomics.store(w, host.guestWord(lpid, VG.PATE0_LO), ok ? dv.getInt32(at + 4, false) : 0);
  Atomics.store(w, host.guestWord(lpid, VG.PATE1_HI), ok ? dv.getInt32(at + 8, false) : 0);
  Atomics.store(w, host.guestWord(lpid, VG.PATE1_LO), ok ? dv.getInt32(at + 12, false) : 0);
}

/** Outcome of `guestFor`: the guest's incarnation (≥ 1), or a negative Busy / NoMemory. */
export const GuestFor = { BUSY: -1, NO_MEMORY: -2 } as const;

/**
 * The ACTIVE guest of `lpid`, created now if it does not exist (its PATE read, an empty shadow
 * root allocated). Returns its incarnation, or GuestFor.BUSY (being removed, or another core is
 * still creating it after CREATE_WAIT_MS), or GuestFor.NO_MEMORY (no shadow memory for a root).
 */
export function guestFor(host: V1Host, l0: L0, lpid: number): number {
  const w = host.w;
  const st = host.guestWord(lpid, VG.STATE);
  const deadline = Date.now() + CREATE_WAIT_MS;
  for (;;) {
    const s = Atomics.load(w, st);
    if (s === V1GuestState.ACTIVE) return Atomics.load(w, host.guestWord(lpid, VG.INCARNATION));
    if (s === V1GuestState.REMOVING) return GuestFor.BUSY;
    if (s === V1GuestState.FREE) {
      if (Atomics.compareExchange(w, st, V1GuestState.FREE, V1GuestState.CREATING) !== V1GuestState.FREE)
        continue;
      const root = host.allocRoot();
      if (root < 0) {
        Atomics.store(w, st, V1GuestState.FREE);
        Atomics.notify(w, st);
        return GuestFor.NO_MEMORY;
      }
      readPate(host, l0, lpid);
      Atomics.store(w, host.guestWord(lpid, VG.ROOT), root);
      Atomics.store(w, host.guestWord(lpid, VG.RETIRED), 0);
      Atomics.store(w, host.guestWord(lpid, VG.VCPUS), 0);
      const inc = Atomics.add(w, host.guestWord(lpid, VG.INCARNATION), 1) + 1;
      Atomics.add(w, V1Hdr.ACTIVE_GUESTS, 1);
      Atomics.store(w, st, V1GuestState.ACTIVE); // publish last
      Atomics.notify(w, st);
      return inc;
    }
    // CREATING on another core: a short, non-blocking section (an allocation and a PATE read).
    if (Date.now() > deadline) return GuestFor.BUSY;
    Atomics.wait(w, st, V1GuestState.CREATING, 1);
  }
}

/** Outcome of `vcpuFor`, when negative. */
export const VcpuFor = { BUSY: -1, NO_MEMORY: -2 } as const;

/**
 * The slot of vCPU (lpid, token), held by `core` on return; created now (zeroed registers, DEC far
 * away) if it does not exist. VcpuFor.BUSY when another core holds it or is creating it;
 * VcpuFor.NO_MEMORY when the slot pool is exhausted. The caller checks the guest is still the same
 * incarnation after this returns (`stillOurs`).
 */
export function vcpuFor(
  host: V1Host,
  lpid: number,
  token: number,
  core: number,
  incarnation: number,
): number {
  const w = host.w;
  const at = host.mapIndex(lpid, token);
  for (;;) {
    const m = Atomics.load(w, at);
    if (m > 0) return host.acquire(m - 1, core) ? m - 1 : VcpuFor.BUSY;
    if (m === MAP_CREATING) return VcpuFor.BUSY; // the creating core runs it
    if (Atomics.compareExchange(w, at, 0, MAP_CREATING) !== 0) continue;
    const slot = host.claimSlot(core);
    if (slot < 0) {
      Atomics.store(w, at, 0);
      return VcpuFor.NO_MEMORY;
    }
    const v = host.vcpu(slot);
    v.clear();
    v.w[R.DEC_EXPIRY_TB] = FAR_DEC_HI;
    w[host.slotWord(slot, VS.LPID)] = lpid;
    w[host.slotWord(slot, VS.TOKEN)] = token;
    w[host.slotWord(slot, VS.INCARNATION)] = incarnation;
    Atomics.store(w, host.slotWord(slot, VS.STOP), 0);
    Atomics.add(w, host.guestWord(lpid, VG.VCPUS), 1);
    Atomics.store(w, at, slot + 1); // publish: later lookups find it held by this core
    return slot;
  }
}

/** True when held slot `slot` still belongs to an ACTIVE guest `lpid` of `incarnation` as (lpid, token). */
export function stillOurs(
  host: V1Host,
  slot: number,
  lpid: number,
  token: number,
  incarnation: number,
): boolean {
  const w = host.w;
  return (
    Atomics.load(w, host.guestWord(lpid, VG.STATE)) === V1GuestState.ACTIVE &&
    Atomics.load(w, host.guestWord(lpid, VG.INCARNATION)) === incarnation &&
    w[host.slotWord(slot, VS.LPID)] === lpid &&
    w[host.slotWord(slot, VS.TOKEN)] === token &&
    w[host.slotWord(slot, VS.INCARNATION)] === incarnation
  );
}

/**
 * Frees the slot the map entry (lpid, token) names, if this caller wins the entry (compare-exchange
 * to 0): waits until no core holds it, then marks it FREE. Returns true if it freed one.
 */
function freeVcpu(host: V1Host, lpid: number, token: number): boolean {
  const w = host.w;
  const at = host.mapIndex(lpid, token);
  const m = Atomics.load(w, at);
  if (m <= 0 || Atomics.compareExchange(w, at, m, 0) !== m) return false;
  const slot = m - 1;
  const own = host.slotWord(slot, VS.OWNER);
  const deadline = Date.now() + STOP_DEADLINE_MS;
  for (;;) {
    const o = Atomics.load(w, own);
    if (o === Owner.IDLE && Atomics.compareExchange(w, own, Owner.IDLE, Owner.FREE) === Owner.IDLE) break;
    if (o < Owner.OWNER_CORE0 && o !== Owner.IDLE)
      throw new Error(`v1 vCPU slot ${slot} of (${lpid}, ${token}) has owner word ${o}`);
    if (Date.now() > deadline)
      throw new Error(
        `core ${o - Owner.OWNER_CORE0} did not stop v1 L2 ${lpid}'s vCPU ${token} within ${STOP_DEADLINE_MS} ms`,
      );
    Atomics.wait(w, own, o, 20);
  }
  // A slot left over from an earlier incarnation was never counted in this one's VCPUS.
  if (w[host.slotWord(slot, VS.INCARNATION)] === Atomics.load(w, host.guestWord(lpid, VG.INCARNATION)))
    Atomics.sub(w, host.guestWord(lpid, VG.VCPUS), 1);
  Atomics.sub(w, V1Hdr.ACTIVE_VCPUS, 1);
  return true;
}

/** True when some core holds one of guest `lpid`'s vCPU slots. */
function anyHeld(host: V1Host, lpid: number): boolean {
  const w = host.w;
  for (let t = 0; t < host.config.vcpuTokens; t++) {
    const m = Atomics.load(w, host.mapIndex(lpid, t));
    if (m === MAP_CREATING) return true;
    if (m > 0 && host.holderOf(m - 1) >= 0) return true;
  }
  return false;
}

/**
 * Frees guest `lpid`'s retired shadow trees if no core can be inside them. `acked`: the caller
 * holds the guest's lock and has just completed an invalidation with acknowledgements (multicore
 * runtime, L0.acks): every core that ran the L2 passed a check point since each listed tree was
 * replaced, so all of them can go whoever holds a slot. Otherwise (invoked from the end of
 * H_ENTER_NESTED, or without acks) they go only when no core holds one of the guest's slots.
 */
export function drainRetired(host: V1Host, lpid: number, acked = false): void {
  const w = host.w;
  const head = host.guestWord(lpid, VG.RETIRED);
  if (Atomics.load(w, head) === 0) return;
  // Take the whole list first (a racing drainer gets what we do not), then look for holders: a
  // core that held a slot while one of these trees was current either still holds it (put the
  // list back) or has released it; a core that takes a slot later reads the current root.
  let root = Atomics.exchange(w, head, 0);
  if (root === 0) return;
  if (!acked && anyHeld(host, lpid)) {
    let tail = root;
    let next = Atomics.load(w, host.linkWord(tail));
    while (next !== 0) {
      tail = next;
      next = Atomics.load(w, host.linkWord(tail));
    }
    for (;;) {
      const first = Atomics.load(w, head);
      Atomics.store(w, host.linkWord(tail), first);
      if (Atomics.compareExchange(w, head, first, root) === first) return;
    }
  }
  while (root !== 0) {
    const next = Atomics.load(w, host.linkWord(root));
    freeTree(host, root);
    root = next;
  }
}

/**
 * Replaces guest `lpid`'s shadow tree by an empty one (the old one goes to the retired list); if
 * no root can be allocated, clears every leaf of the current tree in place instead. Caller holds
 * the guest's lock and has bumped EPOCH; it bumps the TLB generation afterwards.
 */
function dropTree(host: V1Host, lpid: number): void {
  const w = host.w;
  const fresh = host.allocRoot();
  const rootAt = host.guestWord(lpid, VG.ROOT);
  if (fresh < 0) {
    clearRange(host, Atomics.load(w, rootAt), 0, 2 ** 52);
    return;
  }
  const old = Atomics.exchange(w, rootAt, fresh);
  const head = host.guestWord(lpid, VG.RETIRED);
  for (;;) {
    const first = Atomics.load(w, head);
    Atomics.store(w, host.linkWord(old), first);
    if (Atomics.compareExchange(w, head, first, old) === first) break;
  }
}

/** TLB generation bump of the guest's shadow LPID: no core uses a cached translation after this. */
function invalidate(l0: L0, lpid: number): void {
  l0.invalidatePartition(V1Host.shadowLpid(lpid));
}

/** Drops the shadow leaves of guest `lpid` that cover [start, end); nothing if the guest does not exist. */
export function flushRange(host: V1Host, l0: L0, lpid: number, start: number, end: number): void {
  if (!host.active(lpid)) return;
  host.lock(lpid);
  try {
    if (!host.active(lpid)) return;
    Atomics.add(host.w, host.guestWord(lpid, VG.EPOCH), 1);
    clearRange(host, Atomics.load(host.w, host.guestWord(lpid, VG.ROOT)), start, end);
    invalidate(l0, lpid);
  } finally {
    host.unlock(lpid);
  }
}

/**
 * tlbie with IS=2 for guest `lpid` (spec §14.4): RIC 0 drops the shadow tree, RIC 1 does nothing
 * (L0 caches no page-walk entries), RIC 2 drops it and re-reads the PATE, removing the guest when
 * L1 cleared it. Nothing when the guest does not exist.
 */
export function flushLpid(host: V1Host, l0: L0, lpid: number, ric: number): void {
  if (ric === 1 || !host.active(lpid)) return;
  let remove = false;
  host.lock(lpid);
  try {
    if (!host.active(lpid)) return;
    Atomics.add(host.w, host.guestWord(lpid, VG.EPOCH), 1);
    if (ric === 2) readPate(host, l0, lpid);
    remove =
      ric === 2 &&
      Atomics.load(host.w, host.guestWord(lpid, VG.PATE0_HI)) === 0 &&
      Atomics.load(host.w, host.guestWord(lpid, VG.PATE0_LO)) === 0;
    if (!remove) {
      dropTree(host, lpid);
      invalidate(l0, lpid);
      drainRetired(host, lpid, l0.acks !== null);
    }
  } finally {
    host.unlock(lpid);
  }
  if (remove) removeGuest(host, l0, lpid);
}

/** Calls `fn` for every ACTIVE guest. */
export function forEachGuest(host: V1Host, fn: (lpid: number) => void): void {
  for (let lpid = 1; lpid <= host.config.maxLpid; lpid++) if (host.active(lpid)) fn(lpid);
}

/**
 * Removes guest `lpid`: later entries create it afresh; its running vCPUs are stopped at their
 * next check point (their H_ENTER_NESTED returns H_INTERRUPT), their slots and its shadow trees
 * freed. Returns false when it was not ACTIVE.
 */
export function removeGuest(host: V1Host, l0: L0, lpid: number): boolean {
  const w = host.w;
  host.lock(lpid);
  try {
    const st = host.guestWord(lpid, VG.STATE);
    if (Atomics.compareExchange(w, st, V1GuestState.ACTIVE, V1GuestState.REMOVING) !== V1GuestState.ACTIVE)
      return false;
    Atomics.add(w, host.guestWord(lpid, VG.EPOCH), 1);
    // Stop whoever runs one of its vCPUs, then free every slot (waiting for each holder).
    for (let t = 0; t < host.config.vcpuTokens; t++) {
      const m = Atomics.load(w, host.mapIndex(lpid, t));
      if (m > 0) Atomics.store(w, host.slotWord(m - 1, VS.STOP), 1);
    }
    for (let t = 0; t < host.config.vcpuTokens; t++) {
      // A vCPU some core is still creating is freed by that core (it sees REMOVING).
      freeVcpu(host, lpid, t);
    }
    invalidate(l0, lpid);
    // No vCPU of this guest runs any more, and none can start: every tree is quiescent.
    const root = Atomics.exchange(w, host.guestWord(lpid, VG.ROOT), 0);
    if (root !== 0) freeTree(host, root);
    let r = Atomics.exchange(w, host.guestWord(lpid, VG.RETIRED), 0);
    while (r !== 0) {
      const next = Atomics.load(w, host.linkWord(r));
      freeTree(host, r);
      r = next;
    }
    Atomics.add(w, host.guestWord(lpid, VG.INCARNATION), 1);
    Atomics.sub(w, V1Hdr.ACTIVE_GUESTS, 1);
    Atomics.store(w, st, V1GuestState.FREE);
    Atomics.notify(w, st);
    return true;
  } finally {
    host.unlock(lpid);
  }
}

/**
 * A core that created or acquired a slot and then found its guest gone (removed, or removed and
 * created again) gives it up: releases it, and frees it if the removal did not.
 */
export function abandonVcpu(host: V1Host, slot: number, lpid: number, token: number, core: number): void {
  const w = host.w;
  host.release(slot, core);
  const m = Atomics.load(w, host.mapIndex(lpid, token));
  const stale =
    Atomics.load(w, host.guestWord(lpid, VG.STATE)) !== V1GuestState.ACTIVE ||
    w[host.slotWord(slot, VS.INCARNATION)] !== Atomics.load(w, host.guestWord(lpid, VG.INCARNATION));
  if (m === slot + 1 && stale) freeVcpu(host, lpid, token);
}

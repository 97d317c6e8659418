/**
 * H_SET_PARTITION_TABLE (0xF800), spec §14.2: r4 = a PTCR value naming L1's partition table in L1
 * memory (base 4 KiB aligned, table of 2^(PATS+12) bytes, one 16-byte PATE per L2 LPID). The only
 * state of the v1 API that is not a cache (spec §14.1).
 *
 * Checks: v1 disabled → H_FUNCTION; PATS larger than the LPID limit needs (4 for 4096 entries) →
 * H_PARAMETER; the table not inside L1 memory → H_PARAMETER (Linux's checks; QEMU checks PATS the
 * same way). r4 = 0 unregisters the table (Linux's L1 does so when its KVM module goes away).
 * A table different from the registered one removes every L2 (their PATEs came from the old
 * table); registering the same table again changes nothing.
 */
import { H } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { forEachGuest, removeGuest } from './guests.js';
import { V1Hdr } from './host.js';
import { v1Of } from './registry.js';

/** PTCR fields (spec §15.1): base bits, PATS. */
const PTCR_BASE_HI = 0x0fff_ffff;
const PTCR_BASE_LO = 0xffff_f000 | 0;
const PATS = 0x1f;

export const hSetPartitionTable: HcallHandler = (l0, r) => {
  const host = v1Of(l0);
  if (!host.config.enabled) return l0.fail(H.FUNCTION, 'the v1 nested API is disabled');
  const pats = r.lo(4) & PATS;
  const base = (r.hi(4) & PTCR_BASE_HI) * 4294967296 + ((r.lo(4) & PTCR_BASE_LO) >>> 0);
  const zero = r.isZero(4);
  // Entries the LPID limit needs: 2^(PATS+8) ≥ maxLpid + 1.
  const maxPats = Math.max(0, Math.ceil(Math.log2(host.config.maxLpid + 1)) - 8);
  if (!zero && pats > maxPats)
    return l0.fail(H.PARAMETER, `PATS ${pats}: at most ${maxPats} (${2 ** (maxPats + 8)} entries)`);
  const bytes = 2 ** (pats + 12);
  if (!zero && !l0.ram.inBounds(base, bytes))
    return l0.fail(H.PARAMETER, `partition table [0x${base.toString(16)}, +${bytes}) is not in L1 memory`);
  const word = zero ? 0 : (base | pats) >>> 0;
  const w = host.w;
  while (Atomics.compareExchange(w, V1Hdr.PTCR_LOCK, 0, 1) !== 0) Atomics.wait(w, V1Hdr.PTCR_LOCK, 1, 5);
  try {
    if (host.ptcr() === word) return H.SUCCESS;
    Atomics.store(w, V1Hdr.PTCR, word | 0);
    forEachGuest(host, (lpid) => removeGuest(host, l0, lpid));
  } finally {
    Atomics.store(w, V1Hdr.PTCR_LOCK, 0);
    Atomics.notify(w, V1Hdr.PTCR_LOCK);
  }
  return H.SUCCESS;
};

/**
 * Partition-scoped radix translation: L2RA → L1RA through the tree L1 keeps in its own memory,
 * in the formats of spec §15.1–§15.3 and the permission rules of §15.6. One walker serves the
 * interpreter's TLB misses (`guestVisible`: sets R/C or raises ATOMIC_RC) and inspection tools
 * (pure: no side effects), as STYLE example 6 asks. The writer side (`RadixWriter`) is what the
 * L1 model uses to build and edit such trees.
 *
 * Entries are 64-bit big-endian doublewords (§15.1). Both sides handle them as two 32-bit halves,
 * never as BigInt: the walk runs on every TLB miss. Bits by half (IBM bit n = 1 << (63 − n)):
 *   high half: V 0x8000_0000, L (leaf) 0x4000_0000, SW0 0x2000_0000, RPN 0x01FF_FFFF, NLB 0x0FFF_FFFF
 *   low half:  RPN 0xFFFF_F000, NLB 0xFFFF_FF00, NLS 0x1F, SW1 0xE00, R 0x100, C 0x80, ATT 0x30,
 *              EAA: PRIV 0x8, READ 0x4, RW 0x2 (implies read), EXEC 0x1
 *
 * Concurrency (one writer per tree, any number of walking cores):
 * - The walker reads an entry as high, low, high again with Atomics.load and retries until both
 *   high reads agree. The writer publishes a new entry low half first, then the high half (which
 *   holds V); it replaces a valid entry by clearing the high half first, then low, then high, and
 *   unmaps by clearing the high half alone (never the low half: every value the low half takes is
 *   then the low half of some published entry). With those orders a walker never uses a torn
 *   entry: seeing the new low half with the old high half means the high half was cleared in
 *   between, so the second high read differs unless the new entry has the same high half, and
 *   then the pair read is the new entry itself. (The one pattern it cannot see is the high half
 *   leaving a value and coming back to it, with a different high half published in between,
 *   inside one walk's three loads: two replacements of an entry whose RPN differs above 4 GiB
 *   with no invalidation between them, which the ISA's clear–tlbie–set rule excludes.)
 * - R and C are both in the low half, so the walker sets them with a 32-bit compare-exchange of
 *   that half against the value it read, then re-reads the high half; if either changed it walks
 *   again. This is linearizable with the writer's protocol: a CAS that lands on a replaced entry
 *   is only possible when the new low half equals the old one, and then the repeated walk sets
 *   the same bits on the same entry for the access it performs. `protect` uses the same CAS, so a
 *   permission change never erases an R/C update. No BigInt anywhere in this file.
 *
 * Faults are reported as HDSISR bits (hypervisor/papr.ts StorageFault; ISSTORE is included for a
 * write) or, for an instruction fetch, the HSRR1 bits. A table fetch or a translated address
 * outside L1 RAM has no storage-interrupt cause: it is a machine check (`machineCheck`), as for
 * any access to a real address with no memory behind it.
 */
import { StorageFault } from '../hypervisor/papr.js';
import { bswap32, type GuestRam } from './ram.js';
import { Access, type L1RA, type L2RA } from './types.js';

/** Entry bits, split by 32-bit half of the big-endian doubleword (spec §15.1). */
export const Pte = {
  /** High half: valid. */
  V: 0x8000_0000,
  /** High half: leaf (PTE) rather than directory (PDE). */
  L: 0x4000_0000,
  /** High half: bits 56:32 of the real page number. */
  RPN_HI: 0x01ff_ffff,
  /** High half: bits 59:32 of the next-level base. */
  NLB_HI: 0x0fff_ffff,
  /** Low half: bits 31:12 of the real page number. */
  RPN_LO: 0xffff_f000 | 0,
  /** Low half: bits 31:8 of the next-level base. */
  NLB_LO: 0xffff_ff00 | 0,
  /** Low half: log2 of the next level's entry count. */
  NLS: 0x1f,
  /** Low half: reference. */
  R: 0x100,
  /** Low half: change. */
  C: 0x80,
  /** Low half: storage attributes (see Att). */
  ATT: 0x30,
  /** Low half: privileged (ignored by partition-scoped checks, §15.6). */
  PRIV: 0x8,
  /** Low half: read. */
  READ: 0x4,
  /** Low half: read/write. */
  RW: 0x2,
  /** Low half: execute. */
  EXEC: 0x1,
} as const;

/** ATT values of a leaf (spec §15.1). */
export const Att = { Normal: 0x00, SAO: 0x10, NonIdempotentIO: 0x20, TolerantIO: 0x30 } as const;

/** Rights a successful translation grants, as EAA bits (RW implies read, so READ is set with it). */
export const Perm = { Read: Pte.READ, Write: Pte.RW, Exec: Pte.EXEC } as const;

/** The only address size POWER9/10 accept at level 0 (spec §15.2), and the root size it needs. */
export const ADDR_BITS = 52;
/** log2 of the root directory's entry count that POWER9/10 accept (spec §15.2). */
export const ROOT_BITS = 13;

/** What a PATE dw0 or GSB element 0x0005 describes: where the root is and how wide. */
export interface RadixRoot {
  /** L1RA of the root directory (aligned to its size for a valid tree). */
  base: L1RA;
  /** Address bits translated: RTS + 31 (52 on POWER9/10). */
  addrBits: number;
  /** log2 of the root directory's entry count: RPDS (13 on POWER9/10). */
  rootBits: number;
}

/** What to do about R/C in a guest-visible walk (spec §15.6). */
export const RcMode = {
  /** Set R (and C for a store) with compare-exchange, as implementations that update R/C in hardware do. */
  Update: 'update',
  /** Raise a storage fault with ATOMIC_RC when R (or C for a store) is clear, as POWER9 does. */
  Fault: 'fault',
} as const;
/** One RcMode. */
export type RcMode = (typeof RcMode)[keyof typeof RcMode];

/** How a walk behaves. */
export interface WalkOptions {
  /** True for a real guest access: R/C are set or faulted. False: pure, no side effects, R/C ignored. */
  guestVisible: boolean;
  rcMode: RcMode;
}

/** Options of a guest access on a machine that updates R/C itself. */
export const GUEST_ACCESS: WalkOptions = { guestVisible: true, rcMode: RcMode.Update };
/** Options of an inspection (debugger, `nestsim` tools): pure. */
export const INSPECT: WalkOptions = { guestVisible: false, rcMode: RcMode.Update };

/**
 * The result of one walk, filled in place so that a TLB miss allocates nothing (STYLE example 6's
 * `{ ok, ra, pageShift, perms } | { ok, fault }`, as one reusable record).
 */
export class Translation {
  /** True: l1ra/pageShift/perms are valid. False: cause or machineCheck says why not. */
  ok = false;
  /** L1RA of the translated address (not of the page). */
  l1ra = 0 as L1RA;
  /** log2 of the page size: 12, 16, 21 or 30. */
  pageShift = 0;
  /** Granted rights, Perm bits. */
  perms = 0;
  /** HDSISR bits of a storage fault (HSRR1 bits for a fetch); 0 when ok or machineCheck. */
  cause = 0;
  /** A table fetch or the translated address lies outside L1 RAM. */
  machineCheck = false;
  /** Level of the last entry read: 0 is the root directory. */
  level = 0;
  /** L1RA of the last entry read (the leaf when ok); -1 before any entry was read. */
  entry = -1;
}

/** Entry count the spec allows at `level` (spec §15.2, POWER9/10 validity). */
function nlsValid(level: number, nls: number): boolean {
  if (level === 0) return nls === ROOT_BITS;
  if (level <= 2) return nls === 9;
  return level === 3 && (nls === 9 || nls === 5);
}

/** Index bits [shift, shift + nls) of the address hi:lo. */
function indexOf(hi: number, lo: number, shift: number, nls: number): number {
  const mask = (1 << nls) - 1;
  return shift >= 32 ? (hi >>> (shift - 32)) & mask : ((lo >>> shift) | (hi << (32 - shift))) & mask;
}

/** Walks to a fixed point only so long: a writer cannot rewrite an entry this often in one walk. */
const MAX_RETRIES = 1000;

function fail(out: Translation, cause: number, level: number, entry: number): false {
  out.ok = false;
  out.cause = cause;
  out.machineCheck = false;
  out.level = level;
  out.entry = entry;
  return false;
}

function machineCheck(out: Translation, level: number, entry: number): false {
  fail(out, 0, level, entry);
  out.machineCheck = true;
  return false;
}

/**
 * Translates `l2ra` for `access` through the partition-scoped tree at `root` (spec §15.3), filling
 * `out`; returns out.ok. Invoked from: mem/partition.ts on a TLB miss, and inspection tools.
 */
export function partitionScopedWalk(
  ram: GuestRam,
  root: RadixRoot,
  l2ra: L2RA,
  access: Access,
  opts: WalkOptions,
  out: Translation,
): boolean {
  const i32 = ram.i32;
  const size = ram.size;
  const store = access === Access.Write ? StorageFault.ISSTORE : 0;
  if (root.addrBits !== ADDR_BITS || !nlsValid(0, root.rootBits))
    return fail(out, StorageFault.R_BADCONFIG | store, 0, -1);
  // Bits above the tree's 52 cannot be translated: no entry can map them.
  if (!(l2ra >= 0 && l2ra < 2 ** ADDR_BITS)) return fail(out, StorageFault.NOPTE | store, 0, -1);
  const aHi = Math.floor(l2ra / 2 ** 32);
  const aLo = l2ra >>> 0;

  for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
    let base: number = root.base;
    let nls = root.rootBits;
    let psize: number = root.addrBits;
    let level = 0;
    let hi = 0;
    let lo = 0;
    let rawHi = 0;
    let w = 0;
    let entry = -1;
    // Descend until a leaf (§15.3 steps 2–5).
    for (;;) {
      if (!nlsValid(level, nls)) return fail(out, StorageFault.R_BADCONFIG | store, level, entry);
      // A directory must be aligned to its size, 2^(NLS+3) bytes (§15.1 PDE row).
      if (base % (8 << nls) !== 0) return fail(out, StorageFault.R_BADCONFIG | store, level, entry);
      const shift = psize - nls;
      entry = base + 8 * indexOf(aHi, aLo, shift, nls);
      if (entry + 8 > size) return machineCheck(out, level, entry);
      w = entry >>> 2;
      for (;;) {
        rawHi = Atomics.load(i32, w);
        lo = Atomics.load(i32, w + 1);
        if (Atomics.load(i32, w) === rawHi) break;
      }
      hi = bswap32(rawHi);
      lo = bswap32(lo);
      if ((hi & Pte.V) === 0) return fail(out, StorageFault.NOPTE | store, level, entry);
      psize = shift;
      if (hi & Pte.L) break;
      base = (hi & Pte.NLB_HI) * 2 ** 32 + ((lo & Pte.NLB_LO) >>> 0);
      nls = lo & Pte.NLS;
      level++;
      // A directory below level 3 (or an entry count invalid for its level) is checked at the top.
    }
    // A leaf in the root would be a 512 GiB page, which POWER9/10 do not implement (§15.2).
    if (level === 0) return fail(out, StorageFault.R_BADCONFIG | store, level, entry);

    // Permissions (§15.6, partition-scoped: EAA only, PRIV ignored).
    const perms = (lo & (Pte.READ | Pte.RW) ? Perm.Read : 0) | (lo & Pte.RW) | (lo & Pte.EXEC);
    if (access === Access.Fetch) {
      if ((lo & Pte.ATT) === Att.NonIdempotentIO || (perms & Perm.Exec) === 0)
        return fail(out, StorageFault.NOEXEC_GUARD, level, entry);
    } else if ((perms & (access === Access.Write ? Perm.Write : Perm.Read)) === 0) {
      return fail(out, StorageFault.PROTFAULT | store, level, entry);
    }

    // Reference and change (§15.6).
    if (opts.guestVisible) {
      const need = Pte.R | (store ? Pte.C : 0);
      if ((lo & need) !== need) {
        if (opts.rcMode === RcMode.Fault) return fail(out, StorageFault.ATOMIC_RC | store, level, entry);
        const rawLo = bswap32(lo);
        if (Atomics.compareExchange(i32, w + 1, rawLo, bswap32(lo | need)) !== rawLo) continue;
        if (Atomics.load(i32, w) !== rawHi) continue;
        lo |= need;
      }
    }

    // Real address: RPN above the page offset, the address below it (§15.3 step 4).
    const offMask = psize >= 32 ? -1 : (1 << psize) - 1;
    const realLo = ((lo & Pte.RPN_LO & ~offMask) | (aLo & offMask)) >>> 0;
    const real = (hi & Pte.RPN_HI) * 2 ** 32 + realLo;
    if (real >= size) return machineCheck(out, level, entry);
    out.ok = true;
    out.l1ra = real as L1RA;
    out.pageShift = psize;
    out.perms = perms;
    out.cause = 0;
    out.machineCheck = false;
    out.level = level;
    out.entry = entry;
    return true;
  }
  throw new Error(`radix walk of L2RA 0x${l2ra.toString(16)}: entries changed ${MAX_RETRIES} times mid-walk`);
}

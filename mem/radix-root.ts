/**
 * RadixRoot ⇄ the two encodings L1 uses to name a partition-scoped tree: PATE doubleword 0
 * (spec §15.1, v1 API's H_SET_PARTITION_TABLE) and the GSB partition-table element 0x0005
 * {address, EA bits, root bytes} (spec §10.1, v2 API). Control path only (an hcall, not per
 * instruction), so 64-bit values are bigint here.
 *
 * dw0 = HR (1<<63) | RTS1 (bits 62:61) | RPDB (0x0FFF_FFFF_FFFF_FF00) | RTS2 (bits 7:5) | RPDS (0x1F),
 * RTS = RTS1<<3 | RTS2, address bits = RTS + 31, root = 2^RPDS entries = 2^(RPDS+3) bytes.
 * Decoding accepts any field values: the walker, not the decoder, rejects geometries POWER9/10
 * do not implement (R_BADCONFIG, mem/radix.ts), as hardware does at walk time.
 */
import type { RadixRoot } from './radix.js';
import type { L1RA } from './types.js';

const HR = 1n << 63n;
/** RPDB field of PATE dw0 (also the address mask of GSB element 0x0005, spec §10.1). */
export const RPDB_MASK = 0x0fff_ffff_ffff_ff00n;

/** PATE dw0 for `root`, with HR set (radix host). */
export function pateDw0FromRoot(root: RadixRoot): bigint {
  const rts = BigInt(root.addrBits - 31);
  return (
    HR |
    (((rts >> 3n) & 3n) << 61n) |
    (BigInt(root.base) & RPDB_MASK) |
    ((rts & 7n) << 5n) |
    (BigInt(root.rootBits) & 0x1fn)
  );
}

/** Decodes PATE dw0; `hostRadix` is the HR bit (QEMU refuses a PATE without it, spec §15.2). */
export function rootFromPateDw0(dw0: bigint): { root: RadixRoot; hostRadix: boolean } {
  const rts = Number((((dw0 >> 61n) & 3n) << 3n) | ((dw0 >> 5n) & 7n));
  return {
    root: { base: Number(dw0 & RPDB_MASK) as L1RA, addrBits: rts + 31, rootBits: Number(dw0 & 0x1fn) },
    hostRadix: (dw0 & HR) !== 0n,
  };
}

/** The value of GSB element 0x0005 (three big-endian u64 on the wire). */
export interface PartitionTableElement {
  address: bigint;
  eaBits: bigint;
  rootBytes: bigint;
}

/** GSB element 0x0005 for `root`. */
export function elementFromRoot(root: RadixRoot): PartitionTableElement {
  return {
    address: BigInt(root.base),
    eaBits: BigInt(root.addrBits),
    rootBytes: 8n << BigInt(root.rootBits),
  };
}

/**
 * RadixRoot of GSB element 0x0005, or the reason it cannot be encoded in a PATE at all (then L0
 * answers H_INVALID_ELEMENT_VALUE): address outside RPDB, EA bits outside 31..62 (RTS is 5 bits),
 * root bytes not a power of two in 8..2^34 (RPDS is 5 bits).
 */
export function rootFromElement(e: PartitionTableElement): { root: RadixRoot } | { reason: string } {
  if ((e.address & ~RPDB_MASK) !== 0n)
    return { reason: `address 0x${e.address.toString(16)} not within RPDB (256-byte aligned, below 2^60)` };
  if (e.eaBits < 31n || e.eaBits > 62n) return { reason: `EA bits ${e.eaBits} outside 31..62` };
  const b = e.rootBytes;
  if (b < 8n || b > 1n << 34n || (b & (b - 1n)) !== 0n)
    return { reason: `root bytes ${b} not a power of two in 8..2^34` };
  return {
    root: {
      base: Number(e.address) as L1RA,
      addrBits: Number(e.eaBits),
      rootBits: b.toString(2).length - 1 - 3,
    },
  };
}

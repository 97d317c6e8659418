/**
 * Address spaces as types (docs/architecture.md "Address spaces", STYLE example 5). Each is a
 * plain JS number at run time; the brand makes passing one for another a compile error.
 *
 * - `EA`: an effective address as a number. The core keeps 64-bit EAs as hi/lo int32 pairs; this
 *   brand is for code that holds one as a number (exact below 2^53, which every EA the walk
 *   accepts is: spec §15.4 requires EA bits 61:52 to be zero).
 * - `L2RA`: L2 real address, what L1's partition-scoped radix tree maps (below 2^52, spec §15.1).
 * - `L1RA`: byte offset into the L1 RAM SharedArrayBuffer (below 2^32, mem/ram.ts).
 */

/** An effective address held as a number. */
export type EA = number & { readonly __ea: unique symbol };
/** An L2 real address (guest real address of the nested guest). */
export type L2RA = number & { readonly __l2ra: unique symbol };
/** An L1 real address: a byte offset into L1 RAM. */
export type L1RA = number & { readonly __l1ra: unique symbol };

/** Brands a number as an EA (no check: the caller vouches for the address space). */
export const asEA = (n: number): EA => n as EA;
/** Brands a number as an L2RA. */
export const asL2RA = (n: number): L2RA => n as L2RA;
/** Brands a number as an L1RA. */
export const asL1RA = (n: number): L1RA => n as L1RA;

/**
 * Access kinds. The values are also the bank index of each TLB tag array (mem/tlb.ts) and match
 * cores/mmu.ts's READ/WRITE/FETCH numbering (0/1/2), so either constant can be passed.
 */
export const Access = {
  Read: 0,
  Write: 1,
  Fetch: 2,
} as const;
/** One access kind. */
export type Access = (typeof Access)[keyof typeof Access];

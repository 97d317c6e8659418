/**
 * Per-LPID TLB generation numbers in shared memory (docs/architecture.md "TLB invalidation
 * broadcast"). The coordinator bumps an LPID's generation after L1 changed that partition's tree
 * and before it asks the cores to acknowledge; each core compares, at its check point, the
 * generations it saw last with the current ones and drops the entries of every LPID that moved
 * (mem/tlb.ts `syncGenerations`). A check point with nothing to do costs one Atomics.load of ANY.
 *
 * Layout (Int32Array words of one SharedArrayBuffer; only the coordinator writes, with Atomics.add):
 *   0..LPIDS−1  generation of LPID n (wraps at 2^32; only inequality is ever tested)
 *   ANY         bumped after every per-LPID or global bump: "something changed"
 *   ALL         bumped by bumpAll: every LPID's entries are stale
 * Publish order: the LPID word (or ALL) first, ANY last, so a core that sees ANY move also sees
 * the word that made it move. The tree edits that L1 made before the invalidation hcall
 * happen-before the bump, so a walk started after a check point that saw the bump reads them.
 */

/**
 * Number of LPIDs tracked, in two ranges: 0..4095 are v2 guest ids (1..4095, spec decisions table;
 * 0 is spare), SHADOW_LPID_BASE..8191 are the shadow LPIDs L0 gives the L2s of the v1 API
 * (SHADOW_LPID_BASE + the LPID L1 chose, hypervisor/l0/v1/), so a v1 L2 and a v2 guest with the same
 * number never share TLB tags or generation words. 8192 is also the most a TLB tag can hold
 * exactly (mem/tlb.ts: LPID · 2^40 + page number < 2^53).
 */
export const LPIDS = 8192;
/** First shadow LPID of the v1 API's L2s (L1's LPID n runs as SHADOW_LPID_BASE + n). */
export const SHADOW_LPID_BASE = 4096;
/** Word index of the "anything changed" counter. */
export const GEN_ANY = LPIDS;
/** Word index of the "everything is stale" counter. */
export const GEN_ALL = LPIDS + 1;
/** Words in the generations buffer (padded to a 64-byte line). */
const WORDS = LPIDS + 16;

/** The shared generation words, as the coordinator and every core see them. */
export class Generations {
  /** The words; see the header for the layout. */
  readonly words: Int32Array;

  private constructor(readonly sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab);
  }

  /** Allocates zeroed generation words. */
  static create(): Generations {
    return new Generations(new SharedArrayBuffer(WORDS * 4));
  }

  /** Views generation words created elsewhere (the SAB comes through workerData). */
  static attach(sab: SharedArrayBuffer): Generations {
    if (sab.byteLength !== WORDS * 4) throw new RangeError(`generations buffer of ${sab.byteLength} bytes`);
    return new Generations(sab);
  }

  /** Coordinator: every cached translation of `lpid` is stale. */
  bump(lpid: number): void {
    if (!(lpid >= 0 && lpid < LPIDS && Number.isInteger(lpid))) throw new RangeError(`LPID ${lpid}`);
    Atomics.add(this.words, lpid, 1);
    Atomics.add(this.words, GEN_ANY, 1);
  }

  /** Coordinator: every cached translation of every LPID is stale. */
  bumpAll(): void {
    Atomics.add(this.words, GEN_ALL, 1);
    Atomics.add(this.words, GEN_ANY, 1);
  }

  /** Current generation of `lpid`. */
  read(lpid: number): number {
    return Atomics.load(this.words, lpid);
  }
}

/**
 * The predecoded instruction cache of one core: code pages decoded once into slots of two Int32s,
 * [handler id, instruction word] (libriscv's 8-byte slot), so the run loop dispatches on an id
 * instead of decoding. Slots are filled lazily, the first time each instruction executes (id 0 =
 * not decoded yet), so data that shares a page with code costs nothing.
 *
 * Keyed by L1 real page, not by EA: the bytes are what the predecode depends on, and stores know
 * the L1RA they wrote, so a store checks one word (`pageOf[l1ra >>> 12] !== 0`) and invalidates
 * the page when it holds predecoded code (cores/mmu.ts). Translation changes need no flush.
 *
 * Other writers: other cores' stores do not see this core's `pageOf`. The Power ISA requires the
 * writer to execute icbi (and the executing core isync) before modified code runs (Book II §1.8);
 * icbi bumps a code generation word shared by every core (`announce`), and each core compares it
 * at isync and at every check point (`sync`), flushing everything when it moved. Whoever writes L2
 * code from TypeScript (ELF loaders, L1) calls `invalidateCode` on the same word.
 *
 * Capacity is a fixed pool of pages (default 256 pages = 1 MiB of code, 2 MiB of slots); when it
 * is full everything is flushed (QEMU's tb_flush strategy: simple, and rare for guest code).
 */

/** Instructions per 4 KiB page. */
export const PAGE_INSNS = 1024;
/** Int32 words per page of slots. */
export const PAGE_WORDS = 2 * PAGE_INSNS;

/** A shared word that counts code modifications announced by icbi or by TypeScript writers. */
export interface CodeGeneration {
  readonly words: Int32Array;
  readonly index: number;
}

/** Announces modified code to every core sharing `gen` (ELF loaders, L1 writing L2 code). */
export function invalidateCode(gen: CodeGeneration): void {
  Atomics.add(gen.words, gen.index, 1);
}

/** One core's predecoded pages. */
export class CodeCache {
  /** L1 page number → pool page + 1, or 0 when the page has no predecoded slots. */
  readonly pageOf: Int32Array;
  /** The slots of every pool page, PAGE_WORDS each. */
  readonly slots: Int32Array;
  /** Pool page → L1 page number. */
  private readonly owner: Int32Array;
  /** Pool page → byte order it was decoded in (1 = little-endian). */
  private readonly order: Uint8Array;
  private used = 0;
  private seen: number;
  /** Full flushes so far (statistics). */
  flushes = 0;

  constructor(
    ramBytes: number,
    readonly gen: CodeGeneration = { words: new Int32Array(new SharedArrayBuffer(4)), index: 0 },
    readonly capacity = 256,
  ) {
    this.pageOf = new Int32Array(Math.ceil(ramBytes / 4096));
    this.slots = new Int32Array(capacity * PAGE_WORDS);
    this.owner = new Int32Array(capacity);
    this.order = new Uint8Array(capacity);
    this.seen = Atomics.load(gen.words, gen.index);
  }

  /** Index in `slots` of the first slot of L1 page `pg`, decoded with byte order `le`; allocates. */
  base(pg: number, le: boolean): number {
    const o = le ? 1 : 0;
    let k = this.pageOf[pg] - 1;
    if (k >= 0) {
      if (this.order[k] !== o) {
        this.slots.fill(0, k * PAGE_WORDS, (k + 1) * PAGE_WORDS);
        this.order[k] = o;
      }
      return k * PAGE_WORDS;
    }
    if (this.used === this.capacity) this.flushAll();
    k = this.used++;
    this.owner[k] = pg;
    this.order[k] = o;
    this.pageOf[pg] = k + 1;
    return k * PAGE_WORDS;
  }

  /** A store hit L1 page `pg`, which has predecoded slots: forget them (they re-decode lazily). */
  written(pg: number): void {
    const k = this.pageOf[pg] - 1;
    this.slots.fill(0, k * PAGE_WORDS, (k + 1) * PAGE_WORDS);
  }

  /** Drops every predecoded page. */
  flushAll(): void {
    for (let k = 0; k < this.used; k++) this.pageOf[this.owner[k]] = 0;
    this.slots.fill(0, 0, this.used * PAGE_WORDS);
    this.used = 0;
    this.flushes++;
  }

  /** icbi: tells every core that code changed; flushes here too if another core announced first. */
  announce(): void {
    const old = Atomics.add(this.gen.words, this.gen.index, 1);
    if (old !== this.seen) this.flushAll();
    this.seen = old + 1;
  }

  /** Check point / isync: flushes when another writer announced modified code. Returns true if it did. */
  sync(): boolean {
    const g = Atomics.load(this.gen.words, this.gen.index);
    if (g === this.seen) return false;
    this.seen = g;
    this.flushAll();
    return true;
  }
}

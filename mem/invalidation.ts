/**
 * Acknowledgements of TLB invalidation broadcasts (docs/architecture.md, "TLB invalidation
 * broadcast"). An invalidation bumps the partition's generation (mem/generations.ts) and then must
 * not return to L1 until no core can still use a translation cached before the bump. A core that
 * is not running that partition cannot: it applies the generations before its next access. A core
 * that is running it applies them at its next check point (at most CHECK_INTERVAL instructions
 * away) and acknowledges by publishing the GEN_ANY value it applied. So the invalidator waits only
 * for the cores that run the partition, and only until each has acked the bump.
 *
 * Layout (Int32 words, one 64-byte line per core so cores do not share lines):
 *   core·16 + RUNNING   LPID whose translations the core may be using now, or −1 (written by the
 *                       core: before the first access of a run, and after its last)
 *   core·16 + ACK       GEN_ANY value the core applied at its latest check point (written by the
 *                       core after it dropped the stale entries, then Atomics.notify)
 *
 * Why this is enough: the core stores RUNNING before it syncs the generations, and the invalidator
 * bumps before it loads RUNNING, all sequentially consistent. Either the invalidator sees RUNNING =
 * lpid and waits for an ACK at or past its bump, or the core's store came later, so the core's
 * first sync already sees the bump.
 */

/** Polls of an ack word before sleeping on it: about 10 µs (two Atomics.load of ~5 ns each). */
const ACK_SPINS = 1000;

/** Words per core (a cache line). */
const STRIDE = 16;
const RUNNING = 0;
const ACK = 1;

/** What an invalidator waits for, and who was late. */
export interface AckWait {
  /** Cores that were running the partition and had to ack. */
  waitedFor: number;
  /** The core that missed the deadline, or −1. */
  late: number;
  /** Bit k set when core k (0..31 / 32..63) had to ack (traces). */
  ackedLo: number;
  ackedHi: number;
}

/** The acknowledgement words of every core. */
export class InvalidationAcks {
  readonly words: Int32Array;
  readonly cores: number;

  private constructor(readonly sab: SharedArrayBuffer) {
    this.words = new Int32Array(sab);
    this.cores = this.words.length / STRIDE;
  }

  /** Words for `cores` cores, none running. */
  static create(cores: number): InvalidationAcks {
    const a = new InvalidationAcks(new SharedArrayBuffer(cores * STRIDE * 4));
    for (let c = 0; c < cores; c++) a.words[c * STRIDE + RUNNING] = -1;
    return a;
  }

  /** Views words created elsewhere (a core worker). */
  static attach(sab: SharedArrayBuffer): InvalidationAcks {
    return new InvalidationAcks(sab);
  }

  /** Core `core` starts running partition `lpid` (before its first translation). */
  enter(core: number, lpid: number): void {
    Atomics.store(this.words, core * STRIDE + RUNNING, lpid);
  }

  /** Core `core` stopped running (after its last translation of the run). */
  leave(core: number): void {
    Atomics.store(this.words, core * STRIDE + RUNNING, -1);
  }

  /** Core `core` applied every bump up to generation-any `any`; wakes waiting invalidators. */
  ack(core: number, any: number): void {
    const i = core * STRIDE + ACK;
    Atomics.store(this.words, i, any);
    Atomics.notify(this.words, i);
  }

  /** The LPID core `core` runs now, or −1. */
  running(core: number): number {
    return Atomics.load(this.words, core * STRIDE + RUNNING);
  }

  /**
   * Blocks until no core running `lpid` can still hold a translation older than generation-any
   * `bumped` (the GEN_ANY value right after the bump), or `deadlineMs` passed (then `late` names
   * the first core that did not ack). Generations wrap at 2^32: compared by signed difference.
   */
  await(lpid: number, bumped: number, deadlineMs: number): AckWait {
    const w = this.words;
    let waitedFor = 0;
    let ackedLo = 0;
    let ackedHi = 0;
    const deadline = performance.now() + deadlineMs;
    for (let c = 0; c < this.cores; c++) {
      const ackAt = c * STRIDE + ACK;
      let counted = false;
      let spins = 0;
      for (;;) {
        if (Atomics.load(w, c * STRIDE + RUNNING) !== lpid) break;
        const seen = Atomics.load(w, ackAt);
        if (((seen - bumped) | 0) >= 0) break;
        if (!counted) {
          counted = true;
          waitedFor++;
          if (c < 32) ackedLo |= 1 << c;
          else if (c < 64) ackedHi |= 1 << (c - 32);
        }
        // A running core acks within CHECK_INTERVAL instructions (~10 µs): poll that long first,
        // since a futex sleep and wake-up costs more than the wait itself on a busy host.
        if (spins < ACK_SPINS) {
          spins++;
          continue;
        }
        const left = deadline - performance.now();
        if (left <= 0) return { waitedFor, late: c, ackedLo, ackedHi };
        // A short timed wait: the core may stop running lpid without acking (RUNNING → −1).
        Atomics.wait(w, ackAt, seen, Math.min(left, 1));
      }
    }
    return { waitedFor, late: -1, ackedLo, ackedHi };
  }
}

/**
 * The writer side of a core's trace buffer (layout: src/trace/layout.ts). One TraceRecorder per
 * core, used only by the thread that runs that core. Each call stores one 64-byte record with plain
 * typed-array stores and publishes it with one Atomics.store of HEAD: no allocation, no BigInt, no
 * message. Every record carries both clocks (virtual: L1 timebase ticks; wall: µs of this thread's
 * performance.now(), see `wallMicros`), so the trace writer can pick either later.
 *
 * Hand-off. The ring is drained by the main thread (TraceCollector): at the end of a run, and
 * whenever it finds NEED_DRAIN set, which the writer sets (and rings the drain doorbell for) when
 * the ring passes half full. So the writer normally never waits. If the ring is full anyway, the
 * writer waits on TAIL for at most `fullWaitMs` (the reader notifies TAIL after every drain), then
 * drops the record and counts it in DROPPED, which the trace and the report show: tracing never
 * stalls a core for long and never loses an event silently. A recorder on the drainer's own thread
 * (the deterministic mode) passes `onFull`, which drains on the spot, so it never drops.
 *
 * Tracing off costs nothing when callers hold a `TraceRecorder | null` and test it once per run
 * slice (docs/traces.md, "Recording"): with null, no timestamps are taken and no call is made.
 *
 * Invoked from: the core's run loop and L1 vCPU loop (the multicore runtime and src/simulation.ts).
 */
import { Doorbell } from '../../mem/channel.js';
import {
  type HcallLevel,
  Hdr,
  RECORD_F64,
  RECORD_I32,
  RecF,
  RecI,
  type TraceBufferShared,
  TraceKind,
  type WaitFor,
} from './layout.js';

/** Wall time for the recorder: this thread's performance.now() in µs. */
export function wallMicros(): number {
  return performance.now() * 1000;
}

/** Options of a recorder. */
export interface RecorderOptions {
  /**
   * Longest wait (ms) for the drainer when the ring is full, before the record is dropped and
   * counted. Default 20: far longer than a drain (a copy of at most 4 MiB) and short enough that a
   * stuck main thread cannot stall a core noticeably.
   */
  fullWaitMs?: number;
  /**
   * Called on the writer's thread when the ring is full, before waiting: a recorder on the
   * drainer's own thread drains here (TraceCollector.localRecorder), so it never waits or drops.
   */
  onFull?: () => void;
}

/** The writer of one core's trace buffer. */
export class TraceRecorder {
  /** The core this recorder belongs to. */
  readonly core: number;
  private readonly f: Float64Array;
  private readonly i: Int32Array;
  private readonly hdr: Int32Array;
  private readonly bell: Doorbell;
  private readonly mask: number;
  private readonly capacity: number;
  private readonly half: number;
  private readonly fullWaitMs: number;
  private readonly onFull: (() => void) | undefined;
  /** Our copy of HEAD (only we write it). */
  private head: number;
  /** The last TAIL we read; free space computed from it can only be too small, never too large. */
  private tail: number;
  private dropped: number;

  constructor(shared: TraceBufferShared, opts: RecorderOptions = {}) {
    this.core = shared.core;
    this.capacity = shared.capacity;
    this.mask = shared.capacity - 1;
    this.half = shared.capacity >>> 1;
    this.f = new Float64Array(shared.ring);
    this.i = new Int32Array(shared.ring);
    this.hdr = new Int32Array(shared.header);
    this.bell = new Doorbell(shared.bell);
    this.fullWaitMs = opts.fullWaitMs ?? 20;
    this.onFull = opts.onFull;
    this.head = Atomics.load(this.hdr, Hdr.HEAD);
    this.tail = Atomics.load(this.hdr, Hdr.TAIL);
    this.dropped = Atomics.load(this.hdr, Hdr.DROPPED);
    // Written before any record is published, so a reader that sees a record sees the origin.
    new Float64Array(shared.header)[Hdr.ORIGIN_F64] = performance.timeOrigin;
  }

  /** Records an L2 run slice of vCPU `vcpu` of guest `guest` that ended with exit `vector`. */
  run(
    guest: number,
    vcpu: number,
    vector: number,
    instructions: number,
    vStart: number,
    vEnd: number,
    wStart: number,
    wEnd: number,
  ): void {
    const r = this.slot();
    if (r < 0) return;
    this.put(r, TraceKind.RUN, guest, vcpu, vector, 0, 0, instructions, vStart, vEnd, wStart, wEnd);
  }

  /**
   * Records an hcall: `level` says which interface (HcallLevel), `guest`/`vcpu` the guest and
   * vCPU it concerns (−1 when none, e.g. H_GUEST_GET_CAPABILITIES), `rc` its return code.
   */
  hcall(
    level: HcallLevel,
    guest: number,
    vcpu: number,
    opcode: number,
    rc: number,
    vStart: number,
    vEnd: number,
    wStart: number,
    wEnd: number,
  ): void {
    const r = this.slot();
    if (r < 0) return;
    this.put(r, TraceKind.HCALL, guest, vcpu, opcode, rc, level, 0, vStart, vEnd, wStart, wEnd);
  }

  /**
   * Records an invalidation broadcast this core issued for `lpid`, from the request to the last
   * ack. `ackedLo`/`ackedHi`: bit k set when core k (0..31 / 32..63) acked; `acks`: how many
   * cores acked in all (cores above 63 appear only in this count).
   */
  invalidation(
    lpid: number,
    ackedLo: number,
    ackedHi: number,
    acks: number,
    vStart: number,
    vEnd: number,
    wStart: number,
    wEnd: number,
  ): void {
    const r = this.slot();
    if (r < 0) return;
    this.put(r, TraceKind.INVALIDATION, -1, -1, lpid, ackedLo, ackedHi, acks, vStart, vEnd, wStart, wEnd);
  }

  /** Records this core's handling of an invalidation of `lpid` that core `issuer` requested. */
  invalidationAck(
    lpid: number,
    issuer: number,
    vStart: number,
    vEnd: number,
    wStart: number,
    wEnd: number,
  ): void {
    const r = this.slot();
    if (r < 0) return;
    this.put(r, TraceKind.INVALIDATION_ACK, -1, -1, lpid, issuer, 0, 0, vStart, vEnd, wStart, wEnd);
  }

  /** Records a wait of this core for `what` (WaitFor). */
  wait(what: WaitFor, vStart: number, vEnd: number, wStart: number, wEnd: number): void {
    const r = this.slot();
    if (r < 0) return;
    this.put(r, TraceKind.WAIT, -1, -1, what, 0, 0, 0, vStart, vEnd, wStart, wEnd);
  }

  /** Records the instructions this core has retired so far, at virtual time `vNow` / wall `wNow`. */
  counter(instructions: number, vNow: number, wNow: number): void {
    const r = this.slot();
    if (r < 0) return;
    this.put(r, TraceKind.COUNTER, -1, -1, 0, 0, 0, instructions, vNow, vNow, wNow, wNow);
  }

  /** Records this recorder dropped because the ring stayed full. */
  get droppedRecords(): number {
    return this.dropped;
  }

  /** Fills record `r` and publishes it. */
  private put(
    r: number,
    kind: TraceKind,
    guest: number,
    vcpu: number,
    a: number,
    b: number,
    c: number,
    value: number,
    vStart: number,
    vEnd: number,
    wStart: number,
    wEnd: number,
  ): void {
    const f = this.f;
    const fo = r * RECORD_F64;
    f[fo + RecF.V_START] = vStart;
    f[fo + RecF.V_END] = vEnd;
    f[fo + RecF.W_START] = wStart;
    f[fo + RecF.W_END] = wEnd;
    f[fo + RecF.VALUE] = value;
    const i = this.i;
    const io = r * RECORD_I32;
    i[io + RecI.KIND] = kind;
    i[io + RecI.GUEST] = guest;
    i[io + RecI.VCPU] = vcpu;
    i[io + RecI.A] = a;
    i[io + RecI.B] = b;
    i[io + RecI.C] = c;
    this.head = (this.head + 1) | 0;
    Atomics.store(this.hdr, Hdr.HEAD, this.head); // publish point
  }

  /** The ring slot for the next record, or −1 when it is dropped (ring still full after the wait). */
  private slot(): number {
    let used = (this.head - this.tail) | 0;
    if (used >= this.half) {
      this.tail = Atomics.load(this.hdr, Hdr.TAIL);
      used = (this.head - this.tail) | 0;
      if (used >= this.half && Atomics.load(this.hdr, Hdr.NEED_DRAIN) === 0) {
        Atomics.store(this.hdr, Hdr.NEED_DRAIN, 1);
        this.bell.ring();
      }
      if (used >= this.capacity && !this.makeRoom()) {
        this.dropped++;
        Atomics.store(this.hdr, Hdr.DROPPED, this.dropped);
        return -1;
      }
    }
    return this.head & this.mask;
  }

  /** The ring is full: drain inline if we can, else wait for the drainer a bounded time. */
  private makeRoom(): boolean {
    if (this.onFull) {
      this.onFull();
      this.tail = Atomics.load(this.hdr, Hdr.TAIL);
      return ((this.head - this.tail) | 0) < this.capacity;
    }
    if (this.fullWaitMs <= 0) return false;
    const deadline = performance.now() + this.fullWaitMs;
    for (;;) {
      const seen = this.tail;
      Atomics.wait(this.hdr, Hdr.TAIL, seen, Math.max(0, deadline - performance.now()));
      this.tail = Atomics.load(this.hdr, Hdr.TAIL);
      if (((this.head - this.tail) | 0) < this.capacity) return true;
      if (performance.now() >= deadline) return false;
    }
  }
}

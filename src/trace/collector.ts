/**
 * The reader side of the trace buffers (layout: src/trace/layout.ts): the main thread owns one
 * buffer per core, hands each to its core (workerData), drains them while the run goes on and at
 * its end, and decodes the records into TraceEvents for the Chrome trace writer.
 *
 * A drain copies the published records [TAIL, HEAD) of a ring into a private chunk (one or two
 * TypedArray.set, no decoding), then stores TAIL and notifies it, so a writer waiting on a full
 * ring continues at once. Decoding into objects happens only in `events()`, after the run. Only
 * one thread may drain a collector's buffers.
 *
 * Invoked from: the commands with --trace (run, exec, stress) through the simulation.
 */
import { createDoorbell, Doorbell } from '../../mem/channel.js';
import type { TraceEvent } from './events.js';
import {
  createTraceBuffer,
  DEFAULT_CAPACITY,
  type HcallLevel,
  Hdr,
  RECORD_BYTES,
  RECORD_F64,
  RECORD_I32,
  RecF,
  RecI,
  type TraceBufferShared,
  TraceKind,
  type WaitFor,
} from './layout.js';
import { type RecorderOptions, TraceRecorder } from './recorder.js';

/** Records copied out of one ring by one drain. */
interface Chunk {
  core: number;
  f: Float64Array;
  i: Int32Array;
  records: number;
}

/** Options of a collector. */
export interface CollectorOptions {
  /** Simulated cores (one buffer each, cores 0 .. cores − 1). */
  cores: number;
  /** Records per core (a power of two); default DEFAULT_CAPACITY. */
  capacity?: number;
  /**
   * The drain doorbell writers ring at their high-water mark (a mem/channel.ts createDoorbell()).
   * Pass the doorbell the drainer already sleeps on (the coordinator's request bell) so that a
   * filling trace buffer wakes it too; default: a doorbell of the collector's own (waitForWork).
   */
  bell?: SharedArrayBuffer;
}

/** Owns and drains the trace buffers of every core. */
export class TraceCollector {
  /** One buffer per core, index = core; pass `buffers[k]` to core k's thread. */
  readonly buffers: readonly TraceBufferShared[];
  /** Times a drain found records to copy. */
  drains = 0;
  private readonly headers: Int32Array[];
  private readonly rings: Uint8Array[];
  private readonly chunks: Chunk[] = [];
  private readonly bell: Doorbell;

  constructor(opts: CollectorOptions) {
    if (!(Number.isInteger(opts.cores) && opts.cores >= 1))
      throw new RangeError(`trace of ${opts.cores} cores`);
    const bell = opts.bell ?? createDoorbell();
    this.bell = new Doorbell(bell);
    const capacity = opts.capacity ?? DEFAULT_CAPACITY;
    this.buffers = Array.from({ length: opts.cores }, (_, k) => createTraceBuffer(k, capacity, bell));
    this.headers = this.buffers.map((b) => new Int32Array(b.header));
    this.rings = this.buffers.map((b) => new Uint8Array(b.ring));
  }

  /**
   * A recorder for core `core` on this (the draining) thread, as the deterministic mode uses: when
   * its ring is full it drains it on the spot instead of waiting, so it never drops a record.
   */
  localRecorder(core: number, opts: RecorderOptions = {}): TraceRecorder {
    const shared = this.buffers[core];
    if (!shared) throw new RangeError(`no trace buffer for core ${core}`);
    return new TraceRecorder(shared, { ...opts, onFull: () => this.drainCore(core) });
  }

  /** True when some writer passed its high-water mark since its last drain (one Atomics.load per core). */
  needsDrain(): boolean {
    for (const h of this.headers) if (Atomics.load(h, Hdr.NEED_DRAIN) !== 0) return true;
    return false;
  }

  /** Drains the cores that asked for it; returns the records copied. Cheap to call often. */
  drainIfNeeded(): number {
    let n = 0;
    for (let k = 0; k < this.headers.length; k++)
      if (Atomics.load(this.headers[k]!, Hdr.NEED_DRAIN) !== 0) n += this.drainCore(k);
    return n;
  }

  /** Drains every core; returns the records copied. Call at the end of a run (also after a crash). */
  drain(): number {
    let n = 0;
    for (let k = 0; k < this.headers.length; k++) n += this.drainCore(k);
    return n;
  }

  /**
   * For a drainer with nothing else to do: sleeps until a writer asks for a drain or `ms` pass;
   * true when one asked. The doorbell protocol (mem/channel.ts) loses no wake-up.
   */
  waitForWork(ms: number): boolean {
    const seq = this.bell.arm();
    if (this.needsDrain()) {
      this.bell.disarm();
      return true;
    }
    this.bell.sleep(seq, ms);
    return this.needsDrain();
  }

  /** Copies core `core`'s published records out; returns how many. */
  drainCore(core: number): number {
    const h = this.headers[core]!;
    const cap = this.buffers[core]!.capacity;
    const tail = Atomics.load(h, Hdr.TAIL);
    const head = Atomics.load(h, Hdr.HEAD);
    const n = (head - tail) | 0;
    if (n === 0) {
      Atomics.store(h, Hdr.NEED_DRAIN, 0);
      return 0;
    }
    const ring = this.rings[core]!;
    const out = new Uint8Array(n * RECORD_BYTES);
    const from = tail & (cap - 1);
    const first = Math.min(n, cap - from);
    out.set(ring.subarray(from * RECORD_BYTES, (from + first) * RECORD_BYTES), 0);
    if (first < n) out.set(ring.subarray(0, (n - first) * RECORD_BYTES), first * RECORD_BYTES);
    // Clear NEED_DRAIN before freeing the slots: a writer that refills past half after our TAIL
    // store then sets it again, never finds it still set from before.
    Atomics.store(h, Hdr.NEED_DRAIN, 0);
    Atomics.store(h, Hdr.TAIL, head);
    Atomics.notify(h, Hdr.TAIL);
    this.chunks.push({ core, f: new Float64Array(out.buffer), i: new Int32Array(out.buffer), records: n });
    this.drains++;
    return n;
  }

  /** Records each core's writer dropped because its ring stayed full, index = core. */
  dropped(): number[] {
    return this.headers.map((h) => Atomics.load(h, Hdr.DROPPED));
  }

  /** Records drained so far. */
  get records(): number {
    let n = 0;
    for (const c of this.chunks) n += c.records;
    return n;
  }

  /**
   * Every drained record as a TraceEvent, core by core in the order each core wrote them, wall
   * times moved onto this thread's performance.now() timeline. Drain first.
   */
  events(): TraceEvent[] {
    const offsets = this.buffers.map(
      (b) => (new Float64Array(b.header)[Hdr.ORIGIN_F64]! - performance.timeOrigin) * 1000,
    );
    const out: TraceEvent[] = [];
    for (const c of this.chunks) {
      const wOff = offsets[c.core]!;
      for (let r = 0; r < c.records; r++) {
        const e = decode(c.core, c.f, c.i, r, wOff);
        if (e) out.push(e);
      }
    }
    return out;
  }
}

/** Record `r` of a chunk as an event (undefined for an unknown kind, which only a bug writes). */
function decode(
  core: number,
  f: Float64Array,
  i: Int32Array,
  r: number,
  wOff: number,
): TraceEvent | undefined {
  const fo = r * RECORD_F64;
  const io = r * RECORD_I32;
  const t = {
    core,
    vStart: f[fo + RecF.V_START]!,
    vEnd: f[fo + RecF.V_END]!,
    wStart: f[fo + RecF.W_START]! + wOff,
    wEnd: f[fo + RecF.W_END]! + wOff,
  };
  const guest = i[io + RecI.GUEST]!;
  const vcpu = i[io + RecI.VCPU]!;
  const a = i[io + RecI.A]!;
  const b = i[io + RecI.B]!;
  const c = i[io + RecI.C]!;
  const value = f[fo + RecF.VALUE]!;
  switch (i[io + RecI.KIND]) {
    case TraceKind.RUN:
      return { kind: 'run', ...t, guest, vcpu, vector: a, instructions: value };
    case TraceKind.HCALL:
      return { kind: 'hcall', ...t, level: c as HcallLevel, guest, vcpu, opcode: a, rc: b };
    case TraceKind.INVALIDATION:
      return { kind: 'invalidation', ...t, lpid: a, acked: maskCores(b, c), ackCount: value };
    case TraceKind.INVALIDATION_ACK:
      return { kind: 'invalidation-ack', ...t, lpid: a, issuer: b };
    case TraceKind.WAIT:
      return { kind: 'wait', ...t, what: a as WaitFor };
    case TraceKind.COUNTER:
      return { kind: 'counter', ...t, instructions: value };
    default:
      return undefined;
  }
}

/** The cores whose bits are set in (lo: cores 0..31, hi: 32..63). */
function maskCores(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < 32; k++) if ((lo >>> k) & 1) out.push(k);
  for (let k = 0; k < 32; k++) if ((hi >>> k) & 1) out.push(32 + k);
  return out;
}

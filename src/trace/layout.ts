/**
 * The shared-memory layout of a trace buffer: one per simulated core, written by that core's thread
 * (TraceRecorder, src/trace/recorder.ts) and drained by the main thread (TraceCollector,
 * src/trace/collector.ts). Declared once here, beside the record layout (STYLE example 11).
 *
 * A buffer is a 256-byte header and a ring of `capacity` records (a power of two) of RECORD_BYTES
 * each, two SharedArrayBuffers, plus a drain doorbell (mem/channel.ts Doorbell, words 0 and 1 of a
 * 64-byte SAB) that every buffer of one collector shares, so one drainer can sleep on all cores.
 * It is a single-producer single-consumer ring of whole records:
 *
 * Header (Int32 index unless said otherwise; each group on its own 64-byte line, so the writer's
 * stores and the reader's stores do not share a cache line):
 *   0   HEAD       records ever written, mod 2^32. Writer only: Atomics.store after the record's
 *                  fields, which is the publish point (a reader that loads HEAD sees every field of
 *                  every record before it)
 *   1   DROPPED    records the writer could not store because the ring was full. Writer only
 *   2   NEED_DRAIN 1 when the writer passed the high-water mark (half full); set by the writer,
 *                  cleared by the reader after a drain. A drainer polls it (one Atomics.load)
 *   4-5 ORIGIN     (Float64 index 2) the writer thread's performance.timeOrigin, in ms: wall times
 *                  are that thread's performance.now(), and each worker has its own origin
 *   16  TAIL       records ever consumed, mod 2^32. Reader only: Atomics.store after it copied
 *                  the records out (the point where their slots may be reused), then
 *                  Atomics.notify on it, which wakes a writer waiting on a full ring
 * The drain doorbell is rung by a writer when it sets NEED_DRAIN, for a drainer that sleeps until
 * there is work (TraceCollector.waitForWork); a drainer that polls needs no doorbell.
 *
 * Record (RECORD_BYTES = 64; Float64 index f = record·8 + i, Int32 index = record·16 + i):
 *   f+0  V_START   virtual time, L1 timebase ticks (cores/timebase.ts)
 *   f+1  V_END
 *   f+2  W_START   wall time, µs of the writer thread's performance.now()
 *   f+3  W_END
 *   f+4  VALUE     run: instructions retired; counter: instructions retired so far;
 *                  invalidation: cores that acked (a count, so more than 64 cores still add up)
 *   i+10 KIND      TraceKind
 *   i+11 GUEST     guest id, −1 when none
 *   i+12 VCPU      vCPU id, −1 when none
 *   i+13 A         run: exit vector; hcall: opcode; invalidation / ack: LPID; wait: WaitFor
 *   i+14 B         hcall: return code; invalidation: acked cores 0..31 (bit k = core k); ack: issuer
 *   i+15 C         hcall: HcallLevel; invalidation: acked cores 32..63
 * Every field is a plain store; only HEAD, TAIL, DROPPED and NEED_DRAIN are Atomics. A record is
 * 64 bytes so that it never straddles a cache line in a ring whose SAB is line-aligned.
 */
import { createDoorbell } from '../../mem/channel.js';

/** Bytes of one record. */
export const RECORD_BYTES = 64;
/** Float64 slots per record. */
export const RECORD_F64 = RECORD_BYTES / 8;
/** Int32 slots per record. */
export const RECORD_I32 = RECORD_BYTES / 4;

/** Float64 fields of a record (index within the record). */
export const RecF = { V_START: 0, V_END: 1, W_START: 2, W_END: 3, VALUE: 4 } as const;
/** Int32 fields of a record (index within the record). */
export const RecI = { KIND: 10, GUEST: 11, VCPU: 12, A: 13, B: 14, C: 15 } as const;

/** Header words (Int32 index; ORIGIN is a Float64 index). */
export const Hdr = {
  HEAD: 0,
  DROPPED: 1,
  NEED_DRAIN: 2,
  /** Float64 index of the writer's performance.timeOrigin. */
  ORIGIN_F64: 2,
  TAIL: 16,
} as const;
/** Bytes of the header. */
export const HEADER_BYTES = 256;

/** What a record is. */
export const TraceKind = {
  /** An L2 run slice: H_GUEST_RUN_VCPU's time on the core, from entry to exit. */
  RUN: 1,
  /** An hcall, L1→L0 or L2→L1 (HcallLevel). */
  HCALL: 2,
  /** A partition-scoped invalidation broadcast issued by this core, until every ack came. */
  INVALIDATION: 3,
  /** This core's handling of another core's invalidation request (optional). */
  INVALIDATION_ACK: 4,
  /** The core waited (WaitFor). */
  WAIT: 5,
  /** Instructions retired by this core so far, at one moment. */
  COUNTER: 6,
} as const;
/** One TraceKind value. */
export type TraceKind = (typeof TraceKind)[keyof typeof TraceKind];

/** Which interface an hcall crossed. */
export const HcallLevel = {
  /** L1 called L0 (H_GUEST_*, H_RPT_INVALIDATE, …). */
  L1_TO_L0: 1,
  /** L2 called L1 (NS_SYSCALL, H_CEDE, H_PUT_TERM_CHAR, …: the 0xC00 exits L1 serves). */
  L2_TO_L1: 2,
} as const;
/** One HcallLevel value. */
export type HcallLevel = (typeof HcallLevel)[keyof typeof HcallLevel];

/** What a core waited for. */
export const WaitFor = {
  /** A reply of the coordinator (L0's global operations: create, delete, placement). */
  COORDINATOR_REPLY: 1,
  /** The acks of an invalidation broadcast this core issued. */
  INVALIDATION_ACKS: 2,
  /** Nothing to do: no runnable vCPU for this core. */
  IDLE: 3,
} as const;
/** One WaitFor value. */
export type WaitFor = (typeof WaitFor)[keyof typeof WaitFor];

/** Everything both ends of one core's buffer need; plain data plus SABs, so it passes through workerData. */
export interface TraceBufferShared {
  /** The simulated core whose thread writes this buffer. */
  core: number;
  /** Records the ring holds (a power of two). */
  capacity: number;
  header: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  /** The drain doorbell (shared by every buffer of one collector). */
  bell: SharedArrayBuffer;
}

/** Default records per core: 64 Ki records = 4 MiB, a few seconds of events at 25 000 events/s. */
export const DEFAULT_CAPACITY = 1 << 16;

/**
 * Allocates the buffer of core `core` with room for `capacity` records (a power of two ≥ 2), ringing
 * `bell` (a mem/channel.ts createDoorbell()) when it needs draining.
 */
export function createTraceBuffer(
  core: number,
  capacity = DEFAULT_CAPACITY,
  bell: SharedArrayBuffer = createDoorbell(),
): TraceBufferShared {
  if (
    !(Number.isInteger(capacity) && capacity >= 2 && capacity <= 1 << 24 && (capacity & (capacity - 1)) === 0)
  )
    throw new RangeError(`trace buffer of ${capacity} records: a power of two from 2 to 2^24`);
  if (!(Number.isInteger(core) && core >= 0)) throw new RangeError(`trace buffer of core ${core}`);
  return {
    core,
    capacity,
    header: new SharedArrayBuffer(HEADER_BYTES),
    ring: new SharedArrayBuffer(capacity * RECORD_BYTES),
    bell,
  };
}

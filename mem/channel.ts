/**
 * Channels: single-producer single-consumer rings of fixed-size binary records over
 * SharedArrayBuffer, with a doorbell. The only way core workers and the coordinator talk on the
 * hot path (docs/architecture.md: no postMessage there; bench `mem` compares the two).
 *
 * Records. A record is `recordWords` Int32 words; the channel does not interpret them. Each
 * protocol declares its record layout in its own file, beside its message type (STYLE example 11).
 * Sending copies the caller's words into the ring and receiving copies them out: no allocation
 * and no BigInt per message.
 *
 * The ring is ringbuf.js's RingBuffer over Int32 elements, used as it is, one record per push:
 *   ring SAB, bytes 0..3   write index (Uint32, ringbuf.js): written by the producer only, with
 *                          Atomics.store after the record's words: that store is the publish point
 *   ring SAB, bytes 4..7   read index: written by the consumer only, with Atomics.store after it
 *                          copied the record out: the point where the slot may be reused
 *   ring SAB, bytes 8..    records·recordWords + 1 words of storage (one slot always empty)
 * ringbuf.js pushes as many elements as fit, so a record could be split by a full ring; the
 * sender therefore checks availableWrite() ≥ recordWords first (a producer's view of free space
 * can only be late, never too large, so the check stays true until it pushes), and the receiver
 * checks availableRead() ≥ recordWords (a record is published whole by one index store).
 * push(src, n, at) and pop(dst, n, at) copy with index loops or TypedArray.set and allocate
 * nothing; ringbuf.js's writeCallback (which creates views per call) is not used. Its two indices
 * share a cache line (its layout), which costs some line transfers per message; measured as is.
 *
 * Doorbells (spin briefly, then block; notify only a sleeper). A Doorbell is two Int32 words:
 *   SLEEPING  written by the one sleeper: 1 from before its last emptiness check until it wakes
 *   SEQ       bumped (Atomics.add) by whoever wakes the sleeper, then Atomics.notify on it
 * Sleeper: seq ← load SEQ; store SLEEPING 1; re-check the ring; if still nothing,
 * Atomics.wait(SEQ, seq); store SLEEPING 0. Waker, after its publishing store: if load SLEEPING is
 * 1, add SEQ and notify. All of these are sequentially consistent Atomics, so either the waker's
 * load sees SLEEPING = 1 (then SEQ moves after the sleeper read it, and the wait returns at once
 * or is woken), or that load precedes the sleeper's store, so the waker's publish precedes the
 * sleeper's re-check, which then finds the record: no lost wake-up. A waker that finds nobody
 * asleep pays one Atomics.load.
 * Each channel has a consumer doorbell (rung by the producer after a send and by close) and a
 * producer doorbell (rung by the consumer after it frees space). Several channels may share one
 * consumer doorbell, so one consumer can sleep on all of them (`receiveAny`: the coordinator's
 * fan-in from every core).
 *
 * Control words (ctrl SAB, Int32 index; each group on its own 64-byte line):
 *   0        CLOSED: set to 1 by either side's close(); after the producer's last send
 *   16, 17   producer doorbell (SLEEPING, SEQ)
 * The consumer doorbell lives in its own SAB (`bell`, 64 bytes, words 0 and 1) so it can be shared.
 */
import { RingBuffer } from 'ringbuf.js';

/**
 * Default spin iterations before sleeping: about 10 µs of polling (one poll is two Atomics.load of
 * 5 ns). A round trip costs 0.35 µs while both sides poll and 50 µs when both sleep (bench `mem`),
 * so a short spin catches a prompt reply; a long one would steal a host core from another worker.
 */
export const DEFAULT_SPIN = 1024;

/** Outcome of a blocking send or receive. */
export const ChannelStatus = {
  Ok: 0,
  /** The deadline passed first. */
  Timeout: 1,
  /** The channel was closed (and, for receive, is empty). */
  Closed: 2,
} as const;
/** One ChannelStatus value. */
export type ChannelStatus = (typeof ChannelStatus)[keyof typeof ChannelStatus];

/** Everything both ends need; plain data plus SABs, so it passes through workerData as is. */
export interface ChannelShared {
  ring: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  /** Consumer doorbell, possibly shared with other channels of the same consumer. */
  bell: SharedArrayBuffer;
  recordWords: number;
}

const SLEEPING = 0;
const SEQ = 1;
const CLOSED = 0;
const PRODUCER_BELL = 16;
const CTRL_WORDS = 32;

/** Allocates a consumer doorbell that several channels can share. */
export function createDoorbell(): SharedArrayBuffer {
  return new SharedArrayBuffer(64);
}

/** Allocates a channel of `records` records of `recordWords` Int32 words each. */
export function createChannel(opts: {
  records: number;
  recordWords: number;
  bell?: SharedArrayBuffer;
}): ChannelShared {
  const { records, recordWords } = opts;
  if (!(Number.isInteger(records) && records >= 1 && Number.isInteger(recordWords) && recordWords >= 1))
    throw new RangeError(`channel of ${records} records × ${recordWords} words`);
  return {
    ring: RingBuffer.getStorageForCapacity(records * recordWords, Int32Array),
    ctrl: new SharedArrayBuffer(CTRL_WORDS * 4),
    bell: opts.bell ?? createDoorbell(),
    recordWords,
  };
}

/** Two words of shared memory on which one thread sleeps and others wake it (header). */
export class Doorbell {
  private readonly w: Int32Array;
  /** Times this bell actually woke (or pre-empted the sleep of) a sleeper. */
  wakes = 0;

  constructor(sab: SharedArrayBuffer, index = 0) {
    this.w = new Int32Array(sab, index * 4, 2);
  }

  /** Waker: wakes the sleeper if there is one; call after the publishing store. */
  ring(): void {
    if (Atomics.load(this.w, SLEEPING) !== 0) this.ringAlways();
  }

  /** Waker: wakes the sleeper unconditionally (close, shutdown). */
  ringAlways(): void {
    Atomics.add(this.w, SEQ, 1);
    Atomics.notify(this.w, SEQ);
    this.wakes++;
  }

  /** Sleeper, step 1: announces the sleep; returns the SEQ to pass to `sleep`. Re-check after it. */
  arm(): number {
    const seq = Atomics.load(this.w, SEQ);
    Atomics.store(this.w, SLEEPING, 1);
    return seq;
  }

  /** Sleeper, step 2: blocks until SEQ moves from `seq` or `ms` pass, then disarms. */
  sleep(seq: number, ms: number): void {
    Atomics.wait(this.w, SEQ, seq, ms);
    Atomics.store(this.w, SLEEPING, 0);
  }

  /**
   * Sleeper, step 2 without blocking the thread: resolves when SEQ moves from `seq` or `ms` pass,
   * then disarms. For a consumer that must keep its event loop running (the coordinator, whose
   * worker-error and control-plane messages arrive as events).
   */
  async sleepAsync(seq: number, ms: number): Promise<void> {
    const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.w, SEQ, seq, ms);
    if (r.async) await r.value;
    Atomics.store(this.w, SLEEPING, 0);
  }

  /** Sleeper: gives up a sleep announced with `arm` (the re-check found work). */
  disarm(): void {
    Atomics.store(this.w, SLEEPING, 0);
  }
}

/** Atomics.waitAsync (ES2024; in Node since 16), which the ES2022 lib does not declare. */
interface AtomicsWaitAsync {
  waitAsync(
    a: Int32Array,
    index: number,
    value: number,
    ms: number,
  ): { async: false; value: string } | { async: true; value: Promise<string> };
}

/** Milliseconds left until `deadline` (performance.now() based), for Atomics.wait. */
function remaining(deadline: number): number {
  return deadline === Number.POSITIVE_INFINITY ? deadline : Math.max(0, deadline - performance.now());
}

/** Deadline for a timeout in ms (Infinity allowed). */
function deadlineOf(timeoutMs: number): number {
  return timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs;
}

/** The producer end of a channel. Only one thread may send on a channel. */
export class ChannelSender {
  /** Record size in Int32 words. */
  readonly recordWords: number;
  /** Records sent. */
  sent = 0;
  /** Times send() had to sleep for space. */
  waits = 0;
  private readonly ring: RingBuffer;
  private readonly ctrl: Int32Array;
  /** Rung after each send: wakes the consumer if it sleeps. */
  readonly consumerBell: Doorbell;
  private readonly producerBell: Doorbell;

  constructor(
    shared: ChannelShared,
    /** Polls before sleeping when the ring is full. */
    private readonly spin = DEFAULT_SPIN,
  ) {
    this.recordWords = shared.recordWords;
    this.ring = new RingBuffer(shared.ring, Int32Array);
    this.ctrl = new Int32Array(shared.ctrl);
    this.consumerBell = new Doorbell(shared.bell);
    this.producerBell = new Doorbell(shared.ctrl, PRODUCER_BELL);
  }

  /** Sends src[at .. at + recordWords) if a record fits now; false if the ring is full. */
  trySend(src: Int32Array, at = 0): boolean {
    const n = this.recordWords;
    if (this.ring.availableWrite() < n) return false;
    this.ring.push(src, n, at);
    this.sent++;
    this.consumerBell.ring();
    return true;
  }

  /** Sends one record, spinning then sleeping while the ring is full; Closed once either end closed. */
  send(src: Int32Array, at = 0, timeoutMs = Number.POSITIVE_INFINITY): ChannelStatus {
    if (Atomics.load(this.ctrl, CLOSED) !== 0) return ChannelStatus.Closed;
    if (this.trySend(src, at)) return ChannelStatus.Ok;
    for (let i = 0; i < this.spin; i++) if (this.trySend(src, at)) return ChannelStatus.Ok;
    const deadline = deadlineOf(timeoutMs);
    for (;;) {
      if (Atomics.load(this.ctrl, CLOSED) !== 0) return ChannelStatus.Closed;
      const seq = this.producerBell.arm();
      if (this.trySend(src, at)) {
        this.producerBell.disarm();
        return ChannelStatus.Ok;
      }
      const ms = remaining(deadline);
      if (ms <= 0) {
        this.producerBell.disarm();
        return ChannelStatus.Timeout;
      }
      this.waits++;
      this.producerBell.sleep(seq, ms);
    }
  }

  /** Marks the channel closed and wakes the consumer; records already sent stay receivable. */
  close(): void {
    Atomics.store(this.ctrl, CLOSED, 1);
    this.consumerBell.ringAlways();
  }
}

/** The consumer end of a channel. Only one thread may receive on a channel. */
export class ChannelReceiver {
  /** Record size in Int32 words. */
  readonly recordWords: number;
  /** Records received. */
  received = 0;
  /** Times receive() slept. */
  waits = 0;
  private readonly ring: RingBuffer;
  private readonly ctrl: Int32Array;
  /** The doorbell this consumer sleeps on (shared by every channel created with the same bell). */
  readonly bell: Doorbell;
  /** The SAB of `bell`, to check that channels given to receiveAny share it. */
  readonly bellSab: SharedArrayBuffer;
  private readonly producerBell: Doorbell;

  constructor(
    shared: ChannelShared,
    /** Polls before sleeping when the ring is empty. */
    readonly spin = DEFAULT_SPIN,
  ) {
    this.recordWords = shared.recordWords;
    this.ring = new RingBuffer(shared.ring, Int32Array);
    this.ctrl = new Int32Array(shared.ctrl);
    this.bellSab = shared.bell;
    this.bell = new Doorbell(shared.bell);
    this.producerBell = new Doorbell(shared.ctrl, PRODUCER_BELL);
  }

  /** Copies one record into dst[at ..] if one is there; false if the ring is empty. */
  tryReceive(dst: Int32Array, at = 0): boolean {
    const n = this.recordWords;
    if (this.ring.availableRead() < n) return false;
    this.ring.pop(dst, n, at);
    this.received++;
    this.producerBell.ring();
    return true;
  }

  /** True once the producer closed the channel (records may still be queued). */
  closed(): boolean {
    return Atomics.load(this.ctrl, CLOSED) !== 0;
  }

  /** Receives one record, spinning then sleeping while the ring is empty. */
  receive(dst: Int32Array, at = 0, timeoutMs = Number.POSITIVE_INFINITY): ChannelStatus {
    if (this.tryReceive(dst, at)) return ChannelStatus.Ok;
    for (let i = 0; i < this.spin; i++) if (this.tryReceive(dst, at)) return ChannelStatus.Ok;
    const deadline = deadlineOf(timeoutMs);
    for (;;) {
      // CLOSED is read before the ring: close() follows the last send, so seeing it means the
      // last record is visible too.
      const closed = this.closed();
      const seq = this.bell.arm();
      if (this.tryReceive(dst, at)) {
        this.bell.disarm();
        return ChannelStatus.Ok;
      }
      if (closed) {
        this.bell.disarm();
        return ChannelStatus.Closed;
      }
      const ms = remaining(deadline);
      if (ms <= 0) {
        this.bell.disarm();
        return ChannelStatus.Timeout;
      }
      this.waits++;
      this.bell.sleep(seq, ms);
    }
  }

  /** Consumer-side close: the producer's blocked or later send returns Closed. */
  close(): void {
    Atomics.store(this.ctrl, CLOSED, 1);
    this.producerBell.ringAlways();
  }
}

/**
 * Receives one record from whichever of `rxs` has one (polled round-robin from `start`), sleeping
 * on their shared doorbell when all are empty. Returns the index of the channel read, −1 on
 * timeout, −2 when every channel is closed and empty. All `rxs` must share one consumer doorbell.
 */
export function receiveAny(
  rxs: readonly ChannelReceiver[],
  dst: Int32Array,
  at = 0,
  timeoutMs = Number.POSITIVE_INFINITY,
  start = 0,
): number {
  const n = rxs.length;
  if (n === 0) throw new RangeError('receiveAny of no channels');
  const bell = rxs[0]!.bell;
  const spin = rxs[0]!.spin;
  for (let i = 0; i <= spin; i++)
    for (let k = 0; k < n; k++) {
      const c = (start + k) % n;
      if (rxs[c]!.tryReceive(dst, at)) return c;
    }
  const deadline = deadlineOf(timeoutMs);
  for (;;) {
    let open = 0;
    for (let k = 0; k < n; k++) if (!rxs[k]!.closed()) open++;
    const seq = bell.arm();
    for (let k = 0; k < n; k++) {
      const c = (start + k) % n;
      if (rxs[c]!.tryReceive(dst, at)) {
        bell.disarm();
        return c;
      }
    }
    if (open === 0) {
      bell.disarm();
      return -2;
    }
    const ms = remaining(deadline);
    if (ms <= 0) {
      bell.disarm();
      return -1;
    }
    rxs[0]!.waits++;
    bell.sleep(seq, ms);
  }
}

/** Checks that `rxs` share one consumer doorbell (receiveAny needs it); throws if not. */
export function assertSharedBell(rxs: readonly ChannelReceiver[]): void {
  for (const r of rxs)
    if (r.bellSab !== rxs[0]!.bellSab) throw new Error('receiveAny: channels do not share a doorbell');
}

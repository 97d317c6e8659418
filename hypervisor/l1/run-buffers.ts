/**
 * The L1 side of H_GUEST_RUN_VCPU's buffers, on the hot path of every exit: writing the run input
 * buffer (the dirty registers L1 changed since the last run) and reading the output buffer L0
 * filled. Both live in L1 memory and are accessed in place, big-endian, without BigInt or
 * allocation: 64-bit values are (hi, lo) pairs of 32-bit words.
 */
import type { GuestRam } from '../../mem/ram.js';
import { ExitGprs, type ExitView } from './nested-vcpu.js';

const GSB_HEADER = 4;
const ELEMENT_HEADER = 4;

/**
 * Writes elements into a run input buffer at a fixed L1 address. The buffer is its own state: the
 * header count is written with every element and re-read before every write, so RunInputs for the
 * same buffer on different threads (the loop moved cores and back) never overwrite each other.
 */
export class RunInput {
  private count: number;
  private at: number;

  constructor(
    private readonly ram: GuestRam,
    readonly addr: number,
    readonly bytes: number,
  ) {
    this.count = 0;
    this.at = addr + GSB_HEADER;
    this.sync();
  }

  /**
   * Catches up with the buffer itself. Cores keep their own RunInput per loop, so when a loop moved
   * A→B→A, the one on A must not trust what it remembered: B may have reset and queued elements of
   * other sizes, even as many. Walking the few queued element headers is cheaper than a mistake.
   */
  private sync(): void {
    const dv = this.ram.dv;
    const n = dv.getUint32(this.addr, false);
    this.count = n;
    this.at = this.addr + GSB_HEADER;
    for (let k = 0; k < n && this.at + ELEMENT_HEADER <= this.addr + this.bytes; k++)
      this.at += ELEMENT_HEADER + dv.getUint16(this.at + 2, false);
  }

  /** Starts a new buffer (count 0). */
  reset(): void {
    this.count = 0;
    this.at = this.addr + GSB_HEADER;
    this.ram.dv.setUint32(this.addr, 0, false);
  }

  /** Elements queued. */
  get length(): number {
    this.sync();
    return this.count;
  }

  /** Adds an 8-byte element. */
  putU64(id: number, hi: number, lo: number): void {
    const dv = this.ram.dv;
    this.sync();
    this.room(12);
    dv.setUint16(this.at, id, false);
    dv.setUint16(this.at + 2, 8, false);
    dv.setUint32(this.at + 4, hi >>> 0, false);
    dv.setUint32(this.at + 8, lo >>> 0, false);
    this.at += 12;
    dv.setUint32(this.addr, ++this.count, false);
  }

  /** Adds an 8-byte element from a safe non-negative integer. */
  putNumber(id: number, v: number): void {
    this.putU64(id, Math.floor(v / 4294967296), v >>> 0);
  }

  /** Adds a 4-byte element. */
  putU32(id: number, v: number): void {
    const dv = this.ram.dv;
    this.sync();
    this.room(8);
    dv.setUint16(this.at, id, false);
    dv.setUint16(this.at + 2, 4, false);
    dv.setUint32(this.at + 4, v >>> 0, false);
    this.at += 8;
    dv.setUint32(this.addr, ++this.count, false);
  }

  private room(n: number): void {
    if (this.at + n > this.addr + this.bytes)
      throw new Error(`run input buffer of ${this.bytes} bytes is full`);
  }
}

/**
 * The values of the last run output buffer, parsed into fixed fields. An element the exit did not
 * carry keeps the value it had (callers read only what the exit vector implies).
 */
export class RunOutput extends ExitGprs implements ExitView {
  hdarHi = 0;
  hdarLo = 0;
  hdsisr = 0;
  heirLo = 0;
  asdrHi = 0;
  asdrLo = 0;
  niaHi = 0;
  niaLo = 0;
  msrHi = 0;
  msrLo = 0;
  hfscrHi = 0;
  /** Elements in the last buffer. */
  count = 0;

  constructor(
    readonly ram: GuestRam,
    readonly addr: number,
    readonly bytes: number,
  ) {
    super();
  }

  /** Parses the buffer; returns false (with `error`) when L0 wrote something malformed. */
  parse(): boolean {
    const dv = this.ram.dv;
    const n = dv.getUint32(this.addr, false);
    let at = this.addr + GSB_HEADER;
    const end = this.addr + this.bytes;
    for (let k = 0; k < n; k++) {
      if (at + ELEMENT_HEADER > end) return this.bad(`element ${k} past the buffer end`);
      const id = dv.getUint16(at, false);
      const len = dv.getUint16(at + 2, false);
      const v = at + ELEMENT_HEADER;
      if (v + len > end) return this.bad(`element ${k} (0x${id.toString(16)}) past the buffer end`);
      const hi = len >= 8 ? dv.getInt32(v, false) : 0;
      const lo = len >= 8 ? dv.getInt32(v + 4, false) : len === 4 ? dv.getInt32(v, false) : 0;
      if (id >= 0x1003 && id <= 0x100c) {
        this.gpr[2 * (id - 0x1003)] = hi;
        this.gpr[2 * (id - 0x1003) + 1] = lo;
      } else if (id === 0xf000) {
        this.hdarHi = hi;
        this.hdarLo = lo;
      } else if (id === 0xf001) this.hdsisr = lo;
      else if (id === 0xf002) this.heirLo = lo;
      else if (id === 0xf003) {
        this.asdrHi = hi;
        this.asdrLo = lo;
      } else if (id === 0x1021) {
        this.niaHi = hi;
        this.niaLo = lo;
      } else if (id === 0x1022) {
        this.msrHi = hi;
        this.msrLo = lo;
      } else if (id === 0x102d) this.hfscrHi = hi;
      at = v + len;
    }
    this.count = n;
    this.error = '';
    return true;
  }

  /** Why the last parse failed. */
  error = '';

  private bad(reason: string): boolean {
    this.error = reason;
    return false;
  }
}

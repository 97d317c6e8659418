/**
 * L1 RAM: one SharedArrayBuffer shared by every core worker and the coordinator
 * (docs/architecture.md "Memory", "mem/ → cores/, hypervisor/").
 *
 * Size. Up to 4 GiB (an L1RA is below 2^32, so `>>> 0` and `>>> 2` index it). V8 reserves the
 * buffer zero-filled without touching it and the OS backs only the pages written: a 4 GiB RAM with
 * 1% of its pages touched costs about that 1% of resident memory (bench `mem`, "RSS 4 GiB RAM").
 * The size must be a multiple of 64 KiB so that every 4K or 64K page either lies wholly inside RAM
 * or wholly outside it (mem/radix.ts checks only the translated address, mem/tlb.ts caches 4 KiB).
 *
 * Views. `u8`, `i32`, `dv` cover the whole buffer; hot paths index them directly after translation
 * (the interpreter's loads and stores are plain typed-array accesses, docs/architecture.md
 * "Memory"). The accessors below are the checked form for everybody else: they never throw on a
 * bad address, they return a fault value instead (DESIGN "Errors": an access outside memory is an
 * interrupt for the guest, not a simulator crash).
 *
 * Result conventions (no allocation, no BigInt on any accessor except the 8-byte CAS):
 * - 1/2/4-byte reads return the unsigned value (≥ 0), or `RamFault.OutOfBounds` (< 0);
 * - 8/16-byte reads write 32-bit halves into a caller's Int32Array, most significant word first
 *   (the register-pair layout of cores/vcpu.ts), and return `RamFault.Ok` or a fault;
 * - writes return `RamFault.Ok` or a fault;
 * - compare-exchange of 1/2/4 bytes returns the old value (≥ 0) or a fault (< 0): it swapped iff
 *   old === expected, as with Atomics.compareExchange.
 *
 * Byte order. `le` accessors are what a ppc64le guest sees with MSR[LE] = 1; `be` accessors read
 * big-endian structures (page-table entries, guest state buffers) and MSR[LE] = 0 guests. The
 * host must be little-endian (x86-64, arm64): checked once at load, because the Atomics-based
 * compare-exchange works on host-order words.
 *
 * Compare-exchange and the memory model. Power's lbarx/lharx/lwarx/ldarx and their stcx. forms need
 * natural alignment (else an alignment interrupt), so a misaligned CAS returns
 * `RamFault.Misaligned` rather than emulating it. nestsim implements a reservation as "the value
 * loaded" and stcx. as a CAS against it (docs/architecture.md "Memory").
 * - 4 bytes: Atomics.compareExchange on the Int32Array word, a single atomic RMW.
 * - 1 and 2 bytes: a 4-byte CAS on the containing aligned word, retried while only the *other*
 *   bytes of the word changed. The word CAS succeeds only if no byte of the word changed since it
 *   was read, so neighbouring bytes are written back with the values they have at the CAS's
 *   linearization point: a concurrent plain store to a neighbour is never lost, it merely forces a
 *   retry. The target field equals `expected` at that same point, so the narrow CAS is atomic.
 *   (Failing instead of retrying would also be allowed for stbcx./sthcx., whose reservation
 *   granule is wider than the byte; retrying keeps plain CAS semantics for non-larx callers.)
 * - 8 bytes: Atomics.compareExchange on a BigUint64Array element: one 64-bit atomic RMW in
 *   hardware (lock cmpxchg on x86-64, an exclusive pair or CAS on arm64), atomic against the
 *   other cores' 8-byte CAS and against 4-byte CAS or stores to either half. The price is boxing
 *   two BigInts per call (bench: 33 ns against 11 ns for the 4-byte CAS), acceptable because only ldarx/stdcx.-style operations
 *   call it. A two-word scheme (CAS on each half) was rejected: the halves would not change
 *   together, so a concurrent stdcx. on the same doubleword could interleave with ours and one
 *   update would be lost. Radix R/C updates do not need it: R and C live in one half (radix.ts).
 */
import type { L1RA } from './types.js';

/** Status and fault values returned by the accessors (faults are negative). */
export const RamFault = {
  Ok: 0,
  /** The access reaches outside L1 RAM: a machine check for the guest. */
  OutOfBounds: -1,
  /** A compare-exchange that is not naturally aligned: an alignment interrupt for the guest. */
  Misaligned: -2,
} as const;
/** One of the RamFault values. */
export type RamStatus = (typeof RamFault)[keyof typeof RamFault];

/** Largest L1 RAM: an L1RA must fit in 32 bits. */
export const MAX_RAM_BYTES = 2 ** 32;
/** Granule of the RAM size (the largest base page, 64 KiB). */
export const RAM_GRANULE = 0x1_0000;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('mem/ram.ts: nestsim needs a little-endian host (Atomics work on host-order words)');
}

/** Reverses the bytes of a 32-bit value (result signed int32). */
export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}

/** Reverses the bytes of a 16-bit value. */
function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/** L1 RAM: one SharedArrayBuffer with whole-buffer views and checked accessors. */
export class GuestRam {
  /** Bytes of RAM; every valid L1RA is below it. */
  readonly size: number;
  /** Byte view of the whole RAM. */
  readonly u8: Uint8Array;
  /** Host-order (little-endian) 32-bit view; index = L1RA >>> 2. */
  readonly i32: Int32Array;
  /** DataView over the whole RAM, for unaligned and big-endian accesses. */
  readonly dv: DataView;
  /** 64-bit view, used only by the 8-byte compare-exchange. */
  private readonly u64: BigUint64Array;

  private constructor(readonly sab: SharedArrayBuffer) {
    this.size = sab.byteLength;
    this.u8 = new Uint8Array(sab);
    this.i32 = new Int32Array(sab);
    this.dv = new DataView(sab);
    this.u64 = new BigUint64Array(sab);
  }

  /** Allocates zeroed RAM of `bytes` (a multiple of 64 KiB, at most 4 GiB). */
  static create(bytes: number): GuestRam {
    GuestRam.checkSize(bytes);
    return new GuestRam(new SharedArrayBuffer(bytes));
  }

  /** Views RAM another thread created (the SAB arrives through workerData or a message). */
  static attach(sab: SharedArrayBuffer): GuestRam {
    GuestRam.checkSize(sab.byteLength);
    return new GuestRam(sab);
  }

  private static checkSize(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes <= 0 || bytes > MAX_RAM_BYTES || bytes % RAM_GRANULE !== 0)
      throw new RangeError(`L1 RAM size ${bytes}: must be a multiple of 64 KiB in (0, 4 GiB]`);
  }

  /** True when [a, a + n) lies inside RAM (false for NaN and negative addresses). */
  inBounds(a: number, n: number): boolean {
    return a >= 0 && a <= this.size - n;
  }

  // ---- reads -------------------------------------------------------------------------------

  /** Byte at `a`, or OutOfBounds. */
  read8(a: L1RA): number {
    return this.inBounds(a, 1) ? this.u8[a]! : RamFault.OutOfBounds;
  }
  /** Little-endian halfword at `a`, or OutOfBounds. */
  read16le(a: L1RA): number {
    return this.inBounds(a, 2) ? this.dv.getUint16(a, true) : RamFault.OutOfBounds;
  }
  /** Big-endian halfword at `a`, or OutOfBounds. */
  read16be(a: L1RA): number {
    return this.inBounds(a, 2) ? this.dv.getUint16(a, false) : RamFault.OutOfBounds;
  }
  /** Little-endian word at `a` (unsigned), or OutOfBounds. */
  read32le(a: L1RA): number {
    return this.inBounds(a, 4) ? this.dv.getUint32(a, true) : RamFault.OutOfBounds;
  }
  /** Big-endian word at `a` (unsigned), or OutOfBounds. */
  read32be(a: L1RA): number {
    return this.inBounds(a, 4) ? this.dv.getUint32(a, false) : RamFault.OutOfBounds;
  }
  /** Little-endian doubleword at `a` into out[at] (high word), out[at + 1] (low word). */
  read64le(a: L1RA, out: Int32Array, at: number): RamStatus {
    if (!this.inBounds(a, 8)) return RamFault.OutOfBounds;
    out[at] = this.dv.getInt32(a + 4, true);
    out[at + 1] = this.dv.getInt32(a, true);
    return RamFault.Ok;
  }
  /** Big-endian doubleword at `a` into out[at] (high word), out[at + 1] (low word). */
  read64be(a: L1RA, out: Int32Array, at: number): RamStatus {
    if (!this.inBounds(a, 8)) return RamFault.OutOfBounds;
    out[at] = this.dv.getInt32(a, false);
    out[at + 1] = this.dv.getInt32(a + 4, false);
    return RamFault.Ok;
  }
  /** Little-endian quadword at `a` into out[at..at+3], most significant word first. */
  read128le(a: L1RA, out: Int32Array, at: number): RamStatus {
    if (!this.inBounds(a, 16)) return RamFault.OutOfBounds;
    for (let k = 0; k < 4; k++) out[at + k] = this.dv.getInt32(a + 12 - 4 * k, true);
    return RamFault.Ok;
  }
  /** Big-endian quadword at `a` into out[at..at+3], most significant word first. */
  read128be(a: L1RA, out: Int32Array, at: number): RamStatus {
    if (!this.inBounds(a, 16)) return RamFault.OutOfBounds;
    for (let k = 0; k < 4; k++) out[at + k] = this.dv.getInt32(a + 4 * k, false);
    return RamFault.Ok;
  }

  // ---- writes ------------------------------------------------------------------------------

  /** Stores the low byte of `v` at `a`. */
  write8(a: L1RA, v: number): RamStatus {
    if (!this.inBounds(a, 1)) return RamFault.OutOfBounds;
    this.u8[a] = v;
    return RamFault.Ok;
  }
  /** Stores the low halfword of `v` little-endian at `a`. */
  write16le(a: L1RA, v: number): RamStatus {
    if (!this.inBounds(a, 2)) return RamFault.OutOfBounds;
    this.dv.setUint16(a, v, true);
    return RamFault.Ok;
  }
  /** Stores the low halfword of `v` big-endian at `a`. */
  write16be(a: L1RA, v: number): RamStatus {
    if (!this.inBounds(a, 2)) return RamFault.OutOfBounds;
    this.dv.setUint16(a, v, false);
    return RamFault.Ok;
  }
  /** Stores the word `v` little-endian at `a`. */
  write32le(a: L1RA, v: number): RamStatus {
    if (!this.inBounds(a, 4)) return RamFault.OutOfBounds;
    this.dv.setInt32(a, v, true);
    return RamFault.Ok;
  }
  /** Stores the word `v` big-endian at `a`. */
  write32be(a: L1RA, v: number): RamStatus {
    if (!this.inBounds(a, 4)) return RamFault.OutOfBounds;
    this.dv.setInt32(a, v, false);
    return RamFault.Ok;
  }
  /** Stores the doubleword hi:lo little-endian at `a`. */
  write64le(a: L1RA, hi: number, lo: number): RamStatus {
    if (!this.inBounds(a, 8)) return RamFault.OutOfBounds;
    this.dv.setInt32(a, lo, true);
    this.dv.setInt32(a + 4, hi, true);
    return RamFault.Ok;
  }
  /** Stores the doubleword hi:lo big-endian at `a`. */
  write64be(a: L1RA, hi: number, lo: number): RamStatus {
    if (!this.inBounds(a, 8)) return RamFault.OutOfBounds;
    this.dv.setInt32(a, hi, false);
    this.dv.setInt32(a + 4, lo, false);
    return RamFault.Ok;
  }
  /** Stores the quadword src[at..at+3] (most significant word first) little-endian at `a`. */
  write128le(a: L1RA, src: Int32Array, at: number): RamStatus {
    if (!this.inBounds(a, 16)) return RamFault.OutOfBounds;
    for (let k = 0; k < 4; k++) this.dv.setInt32(a + 12 - 4 * k, src[at + k]!, true);
    return RamFault.Ok;
  }
  /** Stores the quadword src[at..at+3] (most significant word first) big-endian at `a`. */
  write128be(a: L1RA, src: Int32Array, at: number): RamStatus {
    if (!this.inBounds(a, 16)) return RamFault.OutOfBounds;
    for (let k = 0; k < 4; k++) this.dv.setInt32(a + 4 * k, src[at + k]!, false);
    return RamFault.Ok;
  }

  // ---- compare-exchange --------------------------------------------------------------------

  /** Atomic byte CAS at `a`: returns the old byte (swapped iff it equals `expected`) or a fault. */
  cas8(a: L1RA, expected: number, replacement: number): number {
    if (!this.inBounds(a, 1)) return RamFault.OutOfBounds;
    return this.casField(a >>> 2, (a & 3) * 8, 0xff, expected & 0xff, replacement & 0xff);
  }
  /** Atomic little-endian halfword CAS at `a` (2-aligned): old value or a fault. */
  cas16le(a: L1RA, expected: number, replacement: number): number {
    if (!this.inBounds(a, 2)) return RamFault.OutOfBounds;
    if (a & 1) return RamFault.Misaligned;
    return this.casField(a >>> 2, (a & 2) * 8, 0xffff, expected & 0xffff, replacement & 0xffff);
  }
  /** Atomic big-endian halfword CAS at `a` (2-aligned): old value or a fault. */
  cas16be(a: L1RA, expected: number, replacement: number): number {
    if (!this.inBounds(a, 2)) return RamFault.OutOfBounds;
    if (a & 1) return RamFault.Misaligned;
    const old = this.casField(a >>> 2, (a & 2) * 8, 0xffff, bswap16(expected), bswap16(replacement));
    return bswap16(old);
  }
  /** Atomic little-endian word CAS at `a` (4-aligned): old value (unsigned) or a fault. */
  cas32le(a: L1RA, expected: number, replacement: number): number {
    if (!this.inBounds(a, 4)) return RamFault.OutOfBounds;
    if (a & 3) return RamFault.Misaligned;
    return Atomics.compareExchange(this.i32, a >>> 2, expected | 0, replacement | 0) >>> 0;
  }
  /** Atomic big-endian word CAS at `a` (4-aligned): old value (unsigned) or a fault. */
  cas32be(a: L1RA, expected: number, replacement: number): number {
    if (!this.inBounds(a, 4)) return RamFault.OutOfBounds;
    if (a & 3) return RamFault.Misaligned;
    return bswap32(Atomics.compareExchange(this.i32, a >>> 2, bswap32(expected), bswap32(replacement))) >>> 0;
  }
  /**
   * Atomic little-endian doubleword CAS at `a` (8-aligned) of expHi:expLo → newHi:newLo. Returns 1
   * if it swapped, 0 if not, or a fault; the value found is written to out[at] (hi), out[at + 1].
   */
  cas64le(
    a: L1RA,
    expHi: number,
    expLo: number,
    newHi: number,
    newLo: number,
    out: Int32Array,
    at: number,
  ): number {
    return this.cas64(a, expHi, expLo, newHi, newLo, out, at, true);
  }
  /** As cas64le, with the doubleword big-endian in memory. */
  cas64be(
    a: L1RA,
    expHi: number,
    expLo: number,
    newHi: number,
    newLo: number,
    out: Int32Array,
    at: number,
  ): number {
    return this.cas64(a, expHi, expLo, newHi, newLo, out, at, false);
  }

  /** Atomic increment of the little-endian word at `a` (4-aligned); returns the old value or a fault. */
  add32le(a: L1RA, delta: number): number {
    if (!this.inBounds(a, 4)) return RamFault.OutOfBounds;
    if (a & 3) return RamFault.Misaligned;
    return Atomics.add(this.i32, a >>> 2, delta) >>> 0;
  }

  /** CAS of a `mask`-wide field at bit `shift` of host word `w`; see the header for why it retries. */
  private casField(w: number, shift: number, mask: number, expected: number, replacement: number): number {
    const i32 = this.i32;
    const keep = ~(mask << shift);
    for (;;) {
      const cur = Atomics.load(i32, w);
      const old = (cur >>> shift) & mask;
      if (old !== expected) return old;
      const next = (cur & keep) | (replacement << shift);
      if (Atomics.compareExchange(i32, w, cur, next) === cur) return old;
    }
  }

  private cas64(
    a: number,
    expHi: number,
    expLo: number,
    newHi: number,
    newLo: number,
    out: Int32Array,
    at: number,
    le: boolean,
  ): number {
    if (!this.inBounds(a, 8)) return RamFault.OutOfBounds;
    if (a & 7) return RamFault.Misaligned;
    // Host-order element value: for a big-endian doubleword, the byte-reversed value.
    const exp = le ? hostWord(expHi, expLo) : hostWord(bswap32(expLo), bswap32(expHi));
    const rep = le ? hostWord(newHi, newLo) : hostWord(bswap32(newLo), bswap32(newHi));
    const old = Atomics.compareExchange(this.u64, a >>> 3, exp, rep);
    const oldHi = Number(old >> 32n) | 0;
    const oldLo = Number(old & 0xffff_ffffn) | 0;
    out[at] = le ? oldHi : bswap32(oldLo);
    out[at + 1] = le ? oldLo : bswap32(oldHi);
    return old === exp ? 1 : 0;
  }
}

/** The unsigned 64-bit BigInt hi:lo (slow path only: the 8-byte CAS). */
function hostWord(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * The registers of one hcall (PAPR convention, spec §1): opcode in r3, arguments in r4..r12,
 * status back in r3 and outputs in r4..r12. Values are 64-bit, held as 32-bit halves so that the
 * run path (H_GUEST_RUN_VCPU on every exit) never touches BigInt.
 */
export class HcallRegs {
  /** r0..r12, each as [hi, lo] at [2n, 2n+1]. */
  readonly words = new Int32Array(26);

  /** High 32 bits of rN. */
  hi(n: number): number {
    return this.words[2 * n]!;
  }

  /** Low 32 bits of rN, unsigned. */
  lo(n: number): number {
    return this.words[2 * n + 1]! >>> 0;
  }

  /** True when rN is zero. */
  isZero(n: number): boolean {
    return (this.words[2 * n]! | this.words[2 * n + 1]!) === 0;
  }

  /** True when rN is all ones (-1), e.g. the first H_GUEST_CREATE continue token. */
  isAllOnes(n: number): boolean {
    return (this.words[2 * n]! & this.words[2 * n + 1]!) === -1;
  }

  /**
   * rN as a non-negative JS number when it is below 2^53 (ids, addresses, sizes); otherwise
   * Infinity, which every range check then rejects.
   */
  num(n: number): number {
    const hi = this.words[2 * n]! >>> 0;
    if (hi >= 0x20_0000) return Number.POSITIVE_INFINITY;
    return hi * 0x1_0000_0000 + (this.words[2 * n + 1]! >>> 0);
  }

  /** Sets rN from halves. */
  set(n: number, hi: number, lo: number): void {
    this.words[2 * n] = hi;
    this.words[2 * n + 1] = lo;
  }

  /** Sets rN from a safe integer; negative values are sign-extended to 64 bits (return codes). */
  setInt(n: number, v: number): void {
    this.words[2 * n] = Math.floor(v / 0x1_0000_0000);
    this.words[2 * n + 1] = v >>> 0;
  }

  /** rN as a signed JS number (r3 return codes, small signed values). Exact for |v| < 2^53. */
  signed(n: number): number {
    return this.words[2 * n]! * 0x1_0000_0000 + (this.words[2 * n + 1]! >>> 0);
  }

  /** rN as an unsigned 64-bit bigint (control path and tests only). */
  big(n: number): bigint {
    return (BigInt(this.words[2 * n]! >>> 0) << 32n) | BigInt(this.words[2 * n + 1]! >>> 0);
  }

  /** Sets rN from a bigint, taken modulo 2^64 (control path and tests only). */
  setBig(n: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.words[2 * n] = Number(u >> 32n) | 0;
    this.words[2 * n + 1] = Number(u & 0xffff_ffffn) | 0;
  }

  /** Zeroes r0..r12. */
  clear(): void {
    this.words.fill(0);
  }
}

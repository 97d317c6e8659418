/**
 * SplitMix32: a small, fast, seedable generator for the simulator's own choices (time slices,
 * schedules, stressors). Not cryptographic; chosen because the same seed gives the same sequence
 * on every machine and Node version, which `Math.random` does not.
 */
export class SplitMix32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** The next value, uniform in [0, 2^32). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform integer in [0, n), n ≥ 1. */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
}

/**
 * Fuzz: random 32-bit words (half of them built on a table row so that real instructions with
 * random operands dominate) executed from random register states never crash the simulator; each
 * either retires or ends in an architected interrupt or exit. Seeded, so a failure names its
 * input; a failing word belongs in a regression test named after it.
 */
import { describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { disasm } from '../cores/isa/decode.js';
import { ROWS } from '../cores/isa/table.js';
import { R } from '../cores/vcpu.js';
import { EXIT_VECTORS } from '../hypervisor/papr.js';
import { CODE, DATA, DEC_NEVER, GUEST_VECTORS, interrupted, machine } from './core-harness.js';

/** xorshift128+ on two 32-bit halves, seeded. */
function prng(seed: number) {
  let a = seed | 0 || 1;
  let b = 0x9e37_79b9;
  return () => {
    let t = a;
    const s = b;
    a = s;
    t ^= t << 23;
    t ^= t >>> 17;
    t ^= s ^ (s >>> 26);
    b = t;
    return (a + b) | 0;
  };
}

const SEED = 0x5eed_2024;
const N = 20_000;

describe('random instruction words', () => {
  it(`${N} words from seed 0x${SEED.toString(16)} each retire or raise an architected interrupt/exit`, () => {
    const rnd = prng(SEED);
    const m = machine();
    const v = m.vcpu;
    const rows = ROWS.filter((r) => r.unit === 'fixed');
    const outcomes = new Map<string, number>();
    for (let k = 0; k < N; k++) {
      let w: number;
      if (k & 1) w = rnd();
      else {
        const row = rows[(rnd() >>> 0) % rows.length]!;
        w = row.value | (rnd() & ~row.mask) | 0;
      }
      // Registers: a mix of small pointers into mapped memory and arbitrary values.
      for (let n = 0; n < 32; n++) {
        const r = rnd();
        if (r & 1) v.setGpr(n, BigInt(DATA + ((r >>> 4) & 0xfff8)));
        else v.setGpr(n, (BigInt(rnd() >>> 0) << 32n) | BigInt(r >>> 0));
      }
      v.w[R.CR] = rnd();
      v.set(0x1024, BigInt(rnd() >>> 0));
      v.set64(R.CTR, BigInt(rnd() >>> 0));
      v.set64(R.LR, BigInt(CODE + 8));
      const msrBits = rnd();
      // SF and LE always; EE, PR, FP, IR/DR sometimes (IR/DR: the unsupported-translation exit).
      const msr =
        0x8000_0000_0000_0001n |
        BigInt(msrBits & (0x8000 | 0x4000 | 0x2000 | (msrBits & 0x10000 ? 0x30 : 0)));
      v.set(0x1022, msr);
      v.set(0x102a, (msrBits & 0x20000) !== 0 ? 0n : DEC_NEVER);
      v.set(0x1021, BigInt(CODE));
      m.load(CODE, [w, e.sc!(1)]);
      const where = `word 0x${(w >>> 0).toString(16)} (${disasm(w)}) at iteration ${k}`;
      let x: ReturnType<typeof m.run>;
      try {
        x = m.run(5);
      } catch (err) {
        throw new Error(`${where}: ${String(err)}`);
      }
      expect(x.retired, where).toBeLessThanOrEqual(5);
      expect(x.niaLo & 3, where).toBe(0);
      if (x.reason === 'interrupt') expect(EXIT_VECTORS, where).toContain(x.vector);
      // The word either retired, or an interrupt/exit happened at it.
      if (x.retired === 0) {
        const atWord = x.nia === BigInt(CODE) || interrupted(x) >= 0;
        expect(atWord, where).toBe(true);
      }
      const kind =
        interrupted(x) >= 0
          ? `guest 0x${interrupted(x).toString(16)}`
          : `${x.reason} 0x${x.vector.toString(16)}`;
      outcomes.set(kind, (outcomes.get(kind) ?? 0) + 1);
      // Keep the program and vectors intact for the next word (a random store may hit them).
      if (k % 64 === 63) for (const vec of GUEST_VECTORS) m.load(vec, [e.attn!()]);
    }
    // The fuzz reached the interesting outcomes, not just one.
    for (const k of ['interrupt 0xc00', 'interrupt 0xe40', 'guest 0x700'])
      expect(outcomes.get(k) ?? 0, k).toBeGreaterThan(0);
  });
});

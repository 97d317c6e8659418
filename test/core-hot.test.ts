/**
 * The run loop's hot switch (cores/interp.ts) names handlers by literal ids; this checks that each
 * case runs the semantics of the table row with that id. Every hot row is executed with random
 * operands through the interpreter on one machine and by calling the row's function directly on
 * an identical machine; register areas and memory must agree.
 */
import { describe, expect, it } from 'vitest';
import { Step } from '../cores/isa/cpu.js';
import { disasm } from '../cores/isa/decode.js';
import { HOT, ROW_BY_ID } from '../cores/isa/table.js';
import { R } from '../cores/vcpu.js';
import { CODE, DATA, L2_BASE, type Machine, machine } from './core-harness.js';

/** Words of the register area that differ by design: NIA and the run-time counters. */
const SKIP = new Set([
  R.NIA,
  R.NIA + 1,
  R.IC,
  R.IC + 1,
  R.PURR,
  R.PURR + 1,
  R.SPURR,
  R.SPURR + 1,
  R.VTB,
  R.VTB + 1,
]);

function seed(m: Machine, rnd: () => number): void {
  const v = m.vcpu;
  for (let n = 0; n < 32; n++) {
    const r = rnd();
    v.setGpr(n, r & 1 ? BigInt(DATA + ((r >>> 3) & 0xff8)) : (BigInt(rnd() >>> 0) << 32n) | BigInt(r >>> 0));
  }
  v.w[R.CR] = rnd();
  v.set(0x1024, BigInt(rnd() >>> 0) & 0xe00c_007fn);
  v.set64(R.CTR, BigInt(rnd() >>> 0));
  v.set64(R.LR, BigInt(rnd() >>> 0) & ~3n);
  for (let a = 0; a < 0x2000; a += 4) m.ram.dv.setInt32(L2_BASE + DATA + a, rnd(), true);
}

describe('hot switch ≡ table row', () => {
  it.each(HOT.map((name, k) => [name, k + 1] as const))('%s (id %i)', (_name, id) => {
    const row = ROW_BY_ID[id]!;
    let s = id * 7919;
    const rnd = () => {
      s = (Math.imul(s, 1103515245) + 12345) | 0;
      return (s ^ (s >>> 15)) | 0;
    };
    const a = machine();
    const b = machine();
    for (let k = 0; k < 40; k++) {
      const w = row.value | (rnd() & ~row.mask) | 0;
      const state = s;
      seed(a, rnd);
      s = state;
      seed(b, rnd);
      a.load(CODE, [w]);
      a.vcpu.set(0x1021, BigInt(CODE));
      b.vcpu.set(0x1021, BigInt(CODE));
      const x = a.run(1);
      b.run(0); // attaches the vCPU and partition to b's core without executing
      const st = row.exec(b.core.cpu, w, 0, CODE);
      const where = `${disasm(w)}`;
      for (let i = 0; i < 512; i++)
        if (!SKIP.has(i)) expect(b.vcpu.w[i], `${where}: word ${i}`).toBe(a.vcpu.w[i]);
      expect(
        Buffer.from(b.ram.u8.subarray(L2_BASE + DATA, L2_BASE + DATA + 0x2000)).equals(
          Buffer.from(a.ram.u8.subarray(L2_BASE + DATA, L2_BASE + DATA + 0x2000)),
        ),
        where,
      ).toBe(true);
      if (st === Step.NEXT) expect(x.nia, where).toBe(BigInt(CODE + 4));
      if (st === Step.BRANCH) {
        const t = (BigInt(b.core.cpu.tHi >>> 0) << 32n) | BigInt(b.core.cpu.tLo >>> 0);
        expect(x.nia, where).toBe(t);
      }
    }
  });
});

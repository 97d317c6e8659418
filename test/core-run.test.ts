/**
 * The run loop: budgets, stop requests within CHECK_INTERVAL, TLB invalidation seen at check
 * points, predecoded code kept coherent with stores (own and other cores' with icbi), exact
 * retired counts, counters.
 */
import { describe, expect, it } from 'vitest';
import { Core } from '../cores/core.js';
import { encode as e } from '../cores/encode.js';
import { CHECK_INTERVAL } from '../cores/interp.js';
import { R } from '../cores/vcpu.js';
import { GuestRam } from '../mem/ram.js';
import { CODE, DATA, L2_BASE, type Machine, machine, partition, WalkPartition } from './core-harness.js';

/** r3 counts up forever: addi 3,3,1 ; b −4. */
const SPIN = [e.addi!(3, 3, 1), e.b!(-4)];

describe('budget', () => {
  it('stops after exactly the budget and resumes where it stopped', () => {
    const m = machine(SPIN);
    let x = m.run(1001);
    expect([x.reason, x.vector, x.retired]).toEqual(['budget', 0, 1001]);
    expect(m.vcpu.gpr(3)).toBe(501n);
    expect(x.nia).toBe(BigInt(CODE + 4)); // the odd instruction was the addi
    x = m.run(3);
    expect([x.retired, m.vcpu.gpr(3), x.nia]).toEqual([3, 502n, BigInt(CODE)]); // b, addi, b
    expect(m.core.tb).toBe(1004);
  });

  it('a budget of 0 runs nothing', () => {
    const m = machine(SPIN);
    const x = m.run(0);
    expect([x.reason, x.retired, x.nia]).toEqual(['budget', 0, BigInt(CODE)]);
  });
});

/** A partition that raises the stop word at its n-th check-point sync (a coordinator's request). */
class StopAt extends WalkPartition {
  calls = 0;
  constructor(
    base: WalkPartition,
    readonly at: number,
    readonly stop: Int32Array,
  ) {
    super(base.ram, base.writer);
  }
  override sync(): boolean {
    if (++this.calls === this.at) Atomics.store(this.stop, 0, 1);
    return super.sync();
  }
}

describe('stop requests', () => {
  it('a stop word already set stops the run before the first instruction', () => {
    const m = machine(SPIN);
    const stop = new Int32Array(new SharedArrayBuffer(4));
    stop[0] = 1;
    const x = m.core.run(m.vcpu, { core: m.core, partition: m.part, stop: { words: stop, index: 0 } }, 100);
    expect([x.reason, x.vector, x.retired]).toEqual(['stop', 0, 0]);
  });

  it(`is honoured within CHECK_INTERVAL (${CHECK_INTERVAL}) instructions of being raised`, () => {
    for (const k of [1, 2, 7]) {
      const m = machine(SPIN);
      const stop = new Int32Array(new SharedArrayBuffer(4));
      const p = new StopAt(m.part, k, stop);
      const x = m.core.run(m.vcpu, { core: m.core, partition: p, stop: { words: stop, index: 0 } }, 1e9);
      expect(x.reason).toBe('stop');
      // raised during check point k, after (k − 1) chunks: seen at the next one
      const raisedAfter = (k - 1) * CHECK_INTERVAL;
      expect(x.retired - raisedAfter).toBeLessThanOrEqual(CHECK_INTERVAL);
      expect(x.retired).toBeGreaterThanOrEqual(raisedAfter);
    }
  });
});

describe('translation changes', () => {
  it('after L1 unmaps a page and the invalidation reaches the core, no access uses the old translation', () => {
    // lwz 3,0(4) ; sc 1
    const m = machine([e.lwz!(3, 0, 4), e.sc!(1)]);
    m.ram.dv.setUint32(L2_BASE + DATA, 42, true);
    m.vcpu.setGpr(4, BigInt(DATA));
    expect(m.run().vector).toBe(0xc00);
    expect(m.vcpu.gpr(3)).toBe(42n);
    // Remap DATA to another L1 page holding 43, as L1 does with an H_GUEST… TLB invalidation.
    m.ram.dv.setUint32(L2_BASE + 0x9_0000, 43, true);
    m.part.map(DATA, L2_BASE + 0x9_0000);
    m.vcpu.set(0x1021, BigInt(CODE));
    expect(m.run().vector).toBe(0xc00);
    expect(m.vcpu.gpr(3)).toBe(43n);
    m.part.unmap(DATA);
    m.vcpu.set(0x1021, BigInt(CODE));
    expect(m.run().vector).toBe(0xe00);
  });
});

describe('predecoded code stays coherent', () => {
  it('a store into code this core already executed takes effect (self-modifying code)', () => {
    // 0: li 3,1 (the patched instruction) ; 4: cmpwi 3,1 ; 8: bne +16 (to 24) ; 12: stw 5,0(4) (patch 0 to li 3,2) ;
    // 16: b -16 (to 0) ; 20: nop ; 24: sc 1
    const m = machine([
      e.li!(3, 1),
      e.cmpwi!(0, 3, 1),
      e.bne!(16),
      e.stw!(5, 0, 4),
      e.b!(-16),
      e.nop!(),
      e.sc!(1),
    ]);
    m.vcpu.setGpr(4, BigInt(CODE));
    m.vcpu.setGpr(5, BigInt(e.li!(3, 2)));
    const x = m.run();
    expect([x.vector, m.vcpu.gpr(3), x.retired]).toEqual([0xc00, 2n, 9]);
  });

  it("another core's store plus icbi reaches this core's predecoded page at its next check point", () => {
    const ram = GuestRam.create(4 * 0x10_0000);
    const part = partition(ram);
    const gen = { words: new Int32Array(new SharedArrayBuffer(4)), index: 0 };
    const a = machine([e.li!(3, 1), e.sc!(1)], { ram, part, core: new Core({ ram, codeGeneration: gen }) });
    const b = machine([], { ram, part, core: new Core({ ram, codeGeneration: gen }) });
    expect(a.run().vector).toBe(0xc00);
    expect(a.vcpu.gpr(3)).toBe(1n);
    // core B: stw 5,0(4) ; icbi 0,4 ; sync ; sc 1  (patches A's code)
    b.load(0x4000, [e.stw!(5, 0, 4), e.icbi!(0, 4), e.sync!(0), e.sc!(1)]);
    b.vcpu.set(0x1021, 0x4000n);
    b.vcpu.setGpr(4, BigInt(CODE));
    b.vcpu.setGpr(5, BigInt(e.li!(3, 2)));
    expect(b.run().vector).toBe(0xc00);
    a.vcpu.set(0x1021, BigInt(CODE));
    expect(a.run().vector).toBe(0xc00);
    expect(a.vcpu.gpr(3)).toBe(2n);
  });

  it('runs code of more pages than the predecode pool holds (full flushes on the way)', () => {
    const ram = GuestRam.create(4 * 0x10_0000);
    const m = machine([], { ram, core: new Core({ ram, codePages: 4 }) });
    // 16 pages, each: addi 3,3,1 ; b to the next page; the last: sc 1
    const pages = 16;
    for (let p = 0; p < pages; p++) {
      const at = 0x2_0000 + p * 0x1000;
      m.load(at, p === pages - 1 ? [e.sc!(1)] : [e.addi!(3, 3, 1), e.b!(0x1000 - 4)]);
    }
    for (let round = 0; round < 3; round++) {
      m.vcpu.set(0x1021, 0x2_0000n);
      m.vcpu.setGpr(3, 0n);
      const x = m.run();
      expect([x.vector, m.vcpu.gpr(3), x.retired]).toEqual([0xc00, BigInt(pages - 1), 2 * (pages - 1) + 1]);
    }
    expect(m.core.code.flushes).toBeGreaterThan(3);
  });
});

describe('counters and time', () => {
  it('IC, PURR, SPURR and VTB advance by the instructions of each run; the core timebase too', () => {
    const m: Machine = machine(SPIN);
    m.core.tb = 0;
    m.run(250);
    m.run(50);
    for (const at of [R.IC, R.PURR, R.SPURR, R.VTB]) expect(m.vcpu.get64(at)).toBe(300n);
    expect(m.core.tb).toBe(300);
  });
});

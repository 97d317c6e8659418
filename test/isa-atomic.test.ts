/**
 * Load-and-reserve / store-conditional with real reservations: two cores sharing one L1 RAM and
 * one partition, where the second core's store between the first core's larx and stcx. makes the
 * stcx. fail. Also alignment, sizes, and the barriers / cache hints that must be harmless.
 */
import { describe, expect, it } from 'vitest';
import { Core } from '../cores/core.js';
import { encode as e } from '../cores/encode.js';
import { R, Vcpu } from '../cores/vcpu.js';
import { GuestRam } from '../mem/ram.js';
import {
  CODE,
  DATA,
  interrupted,
  L2_BASE,
  type Machine,
  MSR_SF_LE,
  machine,
  partition,
  step,
} from './core-harness.js';

const EQ = 2;
const cr0 = (m: Machine) => m.vcpu.w[R.CR]! >>> 28;

/** Two machines (cores and vCPUs) over the same RAM and partition. */
function pair(): [Machine, Machine] {
  const ram = GuestRam.create(4 * 0x10_0000);
  const part = partition(ram);
  const a = machine([], { ram, part });
  const b = machine([], { ram, part });
  return [a, b];
}

/** Resets a machine's vCPU to run `words` from CODE with r4 = DATA. */
function prepare(m: Machine, at: number, words: number[], regs: Record<number, bigint> = {}) {
  m.load(at, words);
  m.vcpu.set(0x1021, BigInt(at));
  m.vcpu.set(0x1022, MSR_SF_LE);
  m.vcpu.setGpr(4, BigInt(DATA));
  for (const [n, v] of Object.entries(regs)) m.vcpu.setGpr(Number(n), v);
}

describe('reservations', () => {
  const sizes: [
    string,
    number,
    (rt: number, ra: number, rb: number) => number,
    (rs: number, ra: number, rb: number) => number,
  ][] = [
    ['byte', 1, (t, a, b) => e.lbarx!(t, a, b, 0), e.stbcx_!],
    ['halfword', 2, (t, a, b) => e.lharx!(t, a, b, 0), e.sthcx_!],
    ['word', 4, (t, a, b) => e.lwarx!(t, a, b, 0), e.stwcx_!],
    ['doubleword', 8, (t, a, b) => e.ldarx!(t, a, b, 0), e.stdcx_!],
  ];

  it.each(sizes)('%s: larx then stcx. with no other store succeeds and stores', (_n, size, larx, stcx) => {
    const m = machine();
    m.ram.u8.set([1, 2, 3, 4, 5, 6, 7, 8], L2_BASE + DATA);
    // larx 3,0,4 ; addi 5,3,1 ; stcx. 5,0,4
    step(m, [larx(3, 0, 4), e.addi!(5, 3, 1), stcx(5, 0, 4)], { gpr: { 4: BigInt(DATA) } });
    const want = BigInt.asUintN(8 * size, 0x0807_0605_0403_0201n);
    expect(m.vcpu.gpr(3)).toBe(want);
    expect(cr0(m)).toBe(EQ);
    const got = [...m.ram.u8.subarray(L2_BASE + DATA, L2_BASE + DATA + size)];
    const next = want + 1n;
    expect(got).toEqual(Array.from({ length: size }, (_, k) => Number((next >> BigInt(8 * k)) & 0xffn)));
  });

  it.each(sizes)(
    "%s: another core's store between larx and stcx. makes the stcx. fail",
    (_n, _size, larx, stcx) => {
      const [a, b] = pair();
      a.ram.u8.set([1, 2, 3, 4, 5, 6, 7, 8], L2_BASE + DATA);
      // core A: larx 3,0,4 — then the budget ends the run with the reservation held
      prepare(a, CODE, [larx(3, 0, 4), e.li!(5, 99), stcx(5, 0, 4), e.sc!(1)]);
      expect(a.run(1).reason).toBe('budget');
      // core B: stb 6,0(4) — a store to the reserved bytes
      prepare(b, 0x4000, [e.stb!(6, 0, 4), e.sc!(1)], { 6: 0x55n });
      expect(b.run().vector).toBe(0xc00);
      // core A resumes: its stcx. must fail and leave memory as B left it
      const x = a.run();
      expect([x.vector, x.retired]).toEqual([0xc00, 3]);
      expect(cr0(a)).toBe(0);
      expect(a.ram.u8[L2_BASE + DATA]).toBe(0x55);
      expect(a.ram.u8[L2_BASE + DATA + 1]).toBe(2); // the failed stcx. wrote nothing
    },
  );

  it('a store by the other core elsewhere does not break the reservation', () => {
    const [a, b] = pair();
    prepare(a, CODE, [e.lwarx!(3, 0, 4, 0), e.li!(5, 7), e.stwcx_!(5, 0, 4), e.sc!(1)]);
    a.run(1);
    prepare(b, 0x4000, [e.stw!(6, 64, 4), e.sc!(1)], { 6: 0x55n });
    b.run();
    a.run();
    expect(cr0(a)).toBe(EQ);
    expect(a.ram.dv.getUint32(L2_BASE + DATA, true)).toBe(7);
  });

  it('stcx. without a reservation, or to another address, or of another size, fails', () => {
    const m = machine();
    // stwcx. 5,0,4 alone
    step(m, [e.stwcx_!(5, 0, 4)], { gpr: { 4: BigInt(DATA), 5: 1n } });
    expect(cr0(m)).toBe(0);
    // lwarx 3,0,4 ; stwcx. 5,0,6 (another word)
    step(m, [e.lwarx!(3, 0, 4, 0), e.stwcx_!(5, 0, 6)], { gpr: { 4: BigInt(DATA), 6: BigInt(DATA + 4) } });
    expect(cr0(m)).toBe(0);
    // lwarx 3,0,4 ; stdcx. 5,0,4 (another size)
    step(m, [e.lwarx!(3, 0, 4, 0), e.stdcx_!(5, 0, 4)], { gpr: { 4: BigInt(DATA) } });
    expect(cr0(m)).toBe(0);
    // a second stwcx. after a successful one: the reservation is gone
    step(m, [e.lwarx!(3, 0, 4, 0), e.stwcx_!(5, 0, 4), e.stwcx_!(5, 0, 4)], { gpr: { 4: BigInt(DATA) } });
    expect(cr0(m)).toBe(0);
    // CR0[SO] copies XER[SO]
    step(m, [e.lwarx!(3, 0, 4, 0), e.stwcx_!(5, 0, 4)], { gpr: { 4: BigInt(DATA) }, xer: 0x8000_0000n });
    expect(cr0(m)).toBe(EQ | 1);
  });

  it('a vCPU that moves to another core loses its reservation; another vCPU on the core clears it', () => {
    const ram = GuestRam.create(4 * 0x10_0000);
    const part = partition(ram);
    const core1 = new Core({ ram });
    const core2 = new Core({ ram });
    const a = machine([], { ram, part, core: core1 });
    prepare(a, CODE, [e.lwarx!(3, 0, 4, 0), e.stwcx_!(5, 0, 4), e.sc!(1)]);
    a.run(1);
    // resume the same vCPU on core 2
    const x = core2.run(a.vcpu, { core: core2, partition: part }, 100);
    expect(x.vector).toBe(0xc00);
    expect(a.vcpu.w[R.CR]! >>> 28).toBe(0);
    // on core 1: vCPU a reserves, vCPU c runs, a resumes → fails
    prepare(a, CODE, [e.lwarx!(3, 0, 4, 0), e.stwcx_!(5, 0, 4), e.sc!(1)]);
    a.run(1);
    const c = Vcpu.create();
    c.set(0x1021, BigInt(CODE + 8));
    c.set(0x1022, MSR_SF_LE);
    core1.run(c, { core: core1, partition: part }, 10);
    a.run();
    expect(a.vcpu.w[R.CR]! >>> 28).toBe(0);
  });

  it('misaligned larx/stcx. take an alignment interrupt', () => {
    const m = machine();
    m.load(CODE, [e.lwarx!(3, 0, 4, 0)]);
    m.vcpu.setGpr(4, BigInt(DATA + 2));
    const x = m.run(1);
    expect([interrupted(x), x.retired]).toEqual([0x600, 0]);
    expect(m.vcpu.get64(R.DAR)).toBe(BigInt(DATA + 2));
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE));
  });

  it('big-endian larx/stcx. see and store big-endian values', () => {
    const m = machine();
    m.vcpu.set(0x1022, 0x8000_0000_0000_0000n);
    m.ram.u8.set([1, 2, 3, 4, 5, 6, 7, 8], L2_BASE + DATA);
    m.loadBE(CODE, [
      e.ldarx!(3, 0, 4, 0),
      e.addi!(5, 3, 1),
      e.stdcx_!(5, 0, 4),
      e.lwarx!(6, 0, 4, 0),
      e.sc!(1),
    ]);
    m.vcpu.setGpr(4, BigInt(DATA));
    expect(m.run().vector).toBe(0xc00);
    expect(m.vcpu.gpr(3)).toBe(0x0102_0304_0506_0708n);
    expect(cr0(m)).toBe(EQ);
    expect([...m.ram.u8.subarray(L2_BASE + DATA, L2_BASE + DATA + 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 9]);
    expect(m.vcpu.gpr(6)).toBe(0x0102_0304n);
  });
});

describe('barriers and cache management', () => {
  it('sync, lwsync, ptesync, eieio, isync and the cache hints execute and retire', () => {
    const m = machine();
    const words = [
      e.sync!(0),
      e.lwsync!(),
      e.ptesync!(),
      e.eieio!(),
      e.isync!(),
      e.dcbt!(0, 4),
      e.dcbtst!(0, 4),
      e.dcbf!(0, 4),
      e.dcbst!(0, 4),
      e.icbt!(0, 4),
      e.icbi!(0, 4),
      e.li!(3, 1),
    ];
    step(m, words, { gpr: { 4: 0x7fff_ffff_ffffn /* hints never translate */ } });
    expect(m.vcpu.gpr(3)).toBe(1n);
  });
});

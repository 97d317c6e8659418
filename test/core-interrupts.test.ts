/**
 * Interrupt delivery inside the guest (SRR0/SRR1/MSR/vector, AIL, LE from LPCR[ILE]) and every
 * hypervisor exit with the registers that go with it (spec §5.6, §10.5, §11.6).
 */
import { describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { deliver } from '../cores/interrupts.js';
import { Cpu } from '../cores/isa/cpu.js';
import { Pending, R } from '../cores/vcpu.js';
import { Vector } from '../hypervisor/papr.js';
import { Perm } from '../mem/radix.js';
import {
  CODE,
  DATA,
  DEC_NEVER,
  interrupted,
  L2_BYTES,
  type Machine,
  MSR_SF_LE,
  machine,
} from './core-harness.js';

const EE = 0x8000n;
const ME = 0x1000n;
const RI = 0x2n;
const IR_DR = 0x30n;
const FP = 0x2000n;

/** A machine running `words` from CODE with MSR = `msr`. */
function at(words: number[], msr = MSR_SF_LE): Machine {
  const m = machine(words);
  m.vcpu.set(0x1022, msr);
  return m;
}

describe('guest interrupts', () => {
  it('sc 0: SRR0 = next instruction, SRR1 = MSR, new MSR = SF | ME | LE(ILE), NIA = 0xC00', () => {
    const msr = MSR_SF_LE | EE | ME | RI;
    const m = at([e.li!(3, 1), e.sc!(0)], msr);
    const x = m.run();
    expect([interrupted(x), x.retired]).toEqual([0xc00, 2]); // sc retires
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE + 8));
    expect(m.vcpu.get64(R.SRR1)).toBe(msr);
    expect(m.vcpu.get(0x1022)).toBe(0x8000_0000_0000_0000n | ME | 1n);
  });

  it('with LPCR[ILE] = 0 the handler runs big-endian', () => {
    const m = at([e.sc!(0)]);
    m.vcpu.set(0x102c, 0n);
    m.loadBE(0xc00, [e.attn!()]); // the stub, in the byte order the handler will fetch
    const x = m.run();
    expect(interrupted(x)).toBe(0xc00);
    expect(m.vcpu.get(0x1022) & 1n).toBe(0n);
  });

  it('a handler returns with rfid to where SRR0 points', () => {
    // CODE: sc 0 ; li 3,7 ; sc 1    0xC00: mfsrr0 4 ; rfid
    const m = at([e.sc!(0), e.li!(3, 7), e.sc!(1)], MSR_SF_LE | EE);
    m.load(0xc00, [e.mfsrr0!(4), e.rfid!()]);
    const x = m.run();
    expect([x.vector, x.retired, m.vcpu.gpr(3), m.vcpu.gpr(4)]).toEqual([0xc00, 5, 7n, BigInt(CODE + 4)]);
    expect(m.vcpu.get(0x1022)).toBe(MSR_SF_LE | EE);
  });

  it('a trap is a program interrupt at the trapping instruction (SRR1 bit 46), not retired', () => {
    const m = at([e.nop!(), e.trap!()]);
    const x = m.run();
    expect([interrupted(x), x.retired]).toEqual([0x700, 1]);
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE + 4));
    expect(m.vcpu.get64(R.SRR1)).toBe(MSR_SF_LE | 0x2_0000n);
  });

  it('AIL = 3 with relocation on moves the vector to 0xC000_0000_0000_4000 + v and keeps IR/DR', () => {
    const m = machine();
    const c = new Cpu(m.vcpu, m.core.mmu);
    for (const [ail, msr, vector, want, relocated] of [
      [3n, MSR_SF_LE | IR_DR, Vector.SYSTEM_CALL, 0xc000_0000_0000_4c00n, true],
      [2n, MSR_SF_LE | IR_DR, Vector.PROGRAM, 0x1_8700n, true],
      [3n, MSR_SF_LE, Vector.SYSTEM_CALL, 0xc00n, false], // relocation off at the interrupt
      [3n, MSR_SF_LE | IR_DR, Vector.SYSTEM_RESET, 0x100n, false], // never for system reset
      [0n, MSR_SF_LE | IR_DR, Vector.DECREMENTER, 0x900n, false],
    ] as const) {
      m.vcpu.set(0x102c, 0x0200_0000n | (ail << 23n));
      m.vcpu.set(0x1022, msr);
      deliver(c, vector, 0, CODE, 0);
      const target = (BigInt(c.tHi >>> 0) << 32n) | BigInt(c.tLo >>> 0);
      expect(target, `AIL ${ail} vector ${vector.toString(16)}`).toBe(want);
      expect((m.vcpu.get(0x1022) & IR_DR) !== 0n).toBe(relocated);
    }
  });

  it('FP, vector and VSX instructions: unavailable interrupts while MSR disables them', () => {
    for (const [w, vector] of [
      [0xc8230000 | 0, 0x800], // lfd 1,0(3)
      [0xfc22182a | 0, 0x800], // fadd 1,2,3
      [0x10011000, 0xf20], // vaddubm 0,1,2
      [0x7c0018ce, 0xf20], // lvx 0,0,3
      [0xf0000490 | 0, 0xf40], // xxlor 0,0,0
    ] as const) {
      const x = at([w]).run();
      expect(interrupted(x), w.toString(16)).toBe(vector);
    }
  });

  it('the decrementer interrupts exactly when DEC turns negative with MSR[EE] = 1', () => {
    // li 3,10 ; mtdec 3 ; then nops. mtdec runs at t = 1, so DEC < 0 from t = 12: after 12 instructions.
    const m = at([e.li!(3, 10), e.mtdec!(3), ...Array(40).fill(e.nop!())], MSR_SF_LE | EE);
    const x = m.run();
    expect([interrupted(x), x.retired]).toEqual([0x900, 12]);
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE + 4 * 12));
    expect(m.vcpu.get64(R.SRR1) & EE).toBe(EE);
  });

  it('the decrementer waits for MSR[EE]: enabling EE with DEC negative interrupts right after mtmsrd', () => {
    // li 3,0 ; mtdec 3 ; nop ; nop ; mtmsrd 4,1 (EE on) ; nop
    const m = at([e.li!(3, 0), e.mtdec!(3), e.nop!(), e.nop!(), e.mtmsrd!(4, 1), e.nop!()]);
    m.vcpu.setGpr(4, EE);
    const x = m.run();
    expect([interrupted(x), x.retired]).toEqual([0x900, 5]);
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE + 20));
  });

  it('external and doorbell requests made pending by L0 are delivered at the first check point when EE = 1', () => {
    for (const [bit, vector] of [
      [Pending.EXTERNAL, 0x500],
      [Pending.DOORBELL, 0xa00],
    ] as const) {
      const m = at([e.nop!()], MSR_SF_LE | EE);
      m.vcpu.w[R.PENDING] = bit;
      const x = m.run();
      expect([interrupted(x), x.retired, m.vcpu.w[R.PENDING]]).toEqual([vector, 0, 0]);
      expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE));
    }
    // EE = 0: it stays pending
    const m = at([e.sc!(1)]);
    m.vcpu.w[R.PENDING] = Pending.EXTERNAL;
    expect(m.run().vector).toBe(0xc00);
    expect(m.vcpu.w[R.PENDING]).toBe(Pending.EXTERNAL);
  });

  it('LPCR[MER] raises an external interrupt while EE = 1; a pending system reset ignores EE', () => {
    const m = at([e.nop!()], MSR_SF_LE | EE);
    m.vcpu.set(0x102c, 0x0200_0000n | 0x800n);
    expect(interrupted(m.run())).toBe(0x500);
    const r = at([e.nop!()]);
    r.vcpu.w[R.PENDING] = Pending.SYSTEM_RESET;
    expect(interrupted(r.run())).toBe(0x100);
  });
});

describe('hypervisor exits', () => {
  it('sc 1: exit 0xC00 after the sc retires, NIA = next instruction, SRR0/SRR1 written, GPR3..12 go with it', () => {
    const m = at([e.li!(3, 0x480), e.sc!(1)], MSR_SF_LE | EE);
    const x = m.run();
    expect([x.reason, x.vector, x.retired, x.nia]).toEqual(['interrupt', 0xc00, 2, BigInt(CODE + 8)]);
    expect(m.vcpu.get(0x1021)).toBe(BigInt(CODE + 8));
    expect(m.vcpu.get(0x1022)).toBe(MSR_SF_LE | EE); // the L2's MSR, unchanged
    expect([m.vcpu.get64(R.SRR0), m.vcpu.get64(R.SRR1)]).toEqual([BigInt(CODE + 8), MSR_SF_LE | EE]);
    expect(x.elements).toEqual([
      0x1003, 0x1004, 0x1005, 0x1006, 0x1007, 0x1008, 0x1009, 0x100a, 0x100b, 0x100c,
    ]);
  });

  it('HEAI: an illegal word exits 0xE40 with HEIR = the word and NIA = the word, not retired', () => {
    const m = at([e.nop!(), 0x0400_0000]);
    const x = m.run();
    expect([x.vector, x.retired, x.nia]).toEqual([0xe40, 1, BigInt(CODE + 4)]);
    expect(m.vcpu.get(0xf002)).toBe(0x0400_0000n);
    expect(x.elements).toEqual([0xf002, 0x1021, 0x1022]);
  });

  it('HDSI for a load from an unmapped L2 page: HDAR = EA, HDSISR = NOPTE, ASDR = L2RA', () => {
    const m = at([e.nop!(), e.lwz!(3, 0x10, 4)]);
    m.part.unmap(DATA);
    m.vcpu.setGpr(4, BigInt(DATA));
    const x = m.run();
    expect([x.vector, x.retired, x.nia]).toEqual([0xe00, 1, BigInt(CODE + 4)]);
    expect(m.vcpu.get(0xf000)).toBe(BigInt(DATA + 0x10));
    expect(m.vcpu.get(0xf001)).toBe(0x4000_0000n);
    expect(m.vcpu.get(0xf003)).toBe(BigInt(DATA + 0x10));
    expect(m.vcpu.gpr(3)).toBe(0n);
    expect(x.elements).toEqual([0xf000, 0xf001, 0xf003, 0x1021, 0x1022]);
  });

  it('HDSI for stores: NOPTE | ISSTORE when unmapped, PROTFAULT | ISSTORE when read-only; nothing is written', () => {
    const m = at([e.stw!(3, 0, 4)]);
    m.part.unmap(DATA);
    m.vcpu.setGpr(4, BigInt(DATA + 8));
    expect(m.run().vector).toBe(0xe00);
    expect(m.vcpu.get(0xf001)).toBe(0x4200_0000n);
    const p = at([e.stw!(3, 0, 4)]);
    p.part.protect(DATA, Perm.Read);
    p.vcpu.setGpr(3, 0x1234n);
    p.vcpu.setGpr(4, BigInt(DATA + 8));
    expect(p.run().vector).toBe(0xe00);
    expect(p.vcpu.get(0xf001)).toBe(0x0a00_0000n);
    expect(p.ram.dv.getUint32(0x10_0000 + DATA + 8, true)).toBe(0);
  });

  it('real mode ignores the top two EA bits; an EA beyond the 52-bit tree is an HDSI', () => {
    const m = at([e.lwz!(3, 0, 4), e.lwz!(5, 0, 6), e.sc!(1)]);
    m.ram.dv.setUint32(0x10_0000 + DATA, 0xabcd, true);
    m.vcpu.setGpr(4, 0xc000_0000_0000_0000n | BigInt(DATA));
    m.vcpu.setGpr(6, 0x0010_0000_0000_0000n);
    const x = m.run();
    expect([x.vector, m.vcpu.gpr(3)]).toEqual([0xe00, 0xabcdn]);
    expect(m.vcpu.get(0xf000)).toBe(0x0010_0000_0000_0000n);
  });

  it('HISI for a fetch from an unmapped page: NIA = the target, ASDR, cause in HSRR1 (not in the MSR)', () => {
    const target = 0x4000;
    const m = at([e.ba!(target)]);
    m.part.unmap(target);
    const x = m.run();
    expect([x.vector, x.retired, x.nia]).toEqual([0xe20, 1, BigInt(target)]);
    expect(m.vcpu.get(0xf003)).toBe(BigInt(target));
    expect(x.srr1Lo & 0x4000_0000).toBe(0x4000_0000);
    expect(m.vcpu.get(0x1022)).toBe(MSR_SF_LE);
  });

  it('a fetch beyond mapped L2 memory is an HISI too', () => {
    const x = at([e.ba!(L2_BYTES + 0x1000)]).run();
    expect(x.vector).toBe(0xe20);
  });

  it('HDEC: the run stops with 0x980 when the L1 timebase reaches the expiry, exactly', () => {
    const m = at([e.b!(0)]); // b . — spins forever
    m.core.tb = 1000;
    const x = m.run(1_000_000, 1000 + 777);
    expect([x.vector, x.retired, x.nia]).toEqual([0x980, 777, BigInt(CODE)]);
    expect(m.core.tb).toBe(1777);
    // already expired: nothing runs
    const y = m.run(1_000_000, 1000);
    expect([y.vector, y.retired]).toEqual([0x980, 0]);
  });

  it('hypervisor facility unavailable: bctar with HFSCR[TAR] = 0 exits 0xF80 with IC = 8 in HFSCR', () => {
    const m = at([e.bctar!(20, 0, 0)]);
    m.vcpu.set(0x102d, 0xffn);
    const x = m.run();
    expect([x.vector, x.nia]).toEqual([0xf80, BigInt(CODE)]);
    expect(m.vcpu.get(0x102d)).toBe(0x0800_0000_0000_00ffn);
    expect(x.elements).toEqual([0x102d, 0x1021, 0x1022]);
  });

  it('FP with MSR[FP] = 1: HFSCR[FP] = 0 exits 0xF80, HFSCR[FP] = 1 exits HEAI (not executed)', () => {
    const m = at([0xc8230000 | 0], MSR_SF_LE | FP);
    m.vcpu.set(0x102d, 0xfen);
    expect(m.run().vector).toBe(0xf80);
    m.vcpu.set(0x102d, 0xffn);
    expect(m.run().vector).toBe(0xe40);
  });

  it('machine check (exit 0x200) for an L2 page that L1 mapped beyond L1 RAM', () => {
    const m = at([e.lwz!(3, 0, 4)]);
    m.part.map(DATA, 0x4000_0000); // 1 GiB: far beyond the 4 MiB of RAM
    m.vcpu.setGpr(4, BigInt(DATA));
    const x = m.run();
    expect([x.vector, x.nia]).toEqual([0x200, BigInt(CODE)]);
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE));
  });

  it('relocation on (process-scoped translation) is reported as HEAI, never a crash', () => {
    const m = at([e.nop!()], MSR_SF_LE | IR_DR);
    m.vcpu.set(0x102a, DEC_NEVER);
    const x = m.run();
    expect([x.vector, x.nia]).toEqual([0xe40, BigInt(CODE)]);
  });
});

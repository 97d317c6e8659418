/**
 * System instructions: SPR moves (round trips, privilege, hypervisor SPRs → HEAI), MSR moves,
 * the timebase and decrementer as virtual time, and the traps.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { R } from '../cores/vcpu.js';
import { CODE, DEC_NEVER, interrupted, type Machine, MSR_SF_LE, machine, step, u64 } from './core-harness.js';

let m: Machine;
beforeAll(() => {
  m = machine();
});

const MSR_PR = 0x4000n;
const MSR_EE = 0x8000n;
const MSR_ME = 0x1000n;
const MSR_HV = 0x1000_0000_0000_0000n;

/** Runs one instruction (no sc after it) and returns the exit record. */
function one(word: number, msr = MSR_SF_LE, regs: Record<number, bigint> = {}) {
  m.load(CODE, [word, e.sc!(1)]);
  m.vcpu.set(0x1021, BigInt(CODE));
  m.vcpu.set(0x1022, msr);
  for (const [n, v] of Object.entries(regs)) m.vcpu.setGpr(Number(n), v);
  return m.run(1);
}

describe('mfspr / mtspr', () => {
  // [SPR number, name, width in bits]
  const sprs: [number, string, number][] = [
    [1, 'XER', 0],
    [8, 'LR', 64],
    [9, 'CTR', 64],
    [13, 'AMR', 64],
    [17, 'DSCR', 64],
    [3, 'DSCR (problem-state number)', 64],
    [18, 'DSISR', 32],
    [19, 'DAR', 64],
    [26, 'SRR0', 64],
    [27, 'SRR1', 64],
    [28, 'CFAR', 64],
    [29, 'AMR', 64],
    [48, 'PIDR', 32],
    [61, 'IAMR', 64],
    [153, 'FSCR', 64],
    [157, 'UAMOR', 64],
    [159, 'PSPB', 32],
    [256, 'VRSAVE', 32],
    [272, 'SPRG0', 64],
    [273, 'SPRG1', 64],
    [274, 'SPRG2', 64],
    [275, 'SPRG3', 64],
    [787, 'PMC1', 32],
    [795, 'MMCR0', 64],
    [815, 'TAR', 64],
    [896, 'PPR', 64],
  ];
  it.each(sprs)('SPR %i (%s) round-trips through mtspr and mfspr', (n, _name, width) => {
    const v = 0xfedc_ba98_7654_3210n;
    step(m, [e.mtspr!(n, 4), e.mfspr!(3, n)], { gpr: { 4: v } });
    const want = width === 64 ? v : width === 32 ? v & 0xffff_ffffn : v & 0xe00c_007fn;
    expect(m.vcpu.gpr(3)).toBe(want);
  });

  it('SPRG3 reads through SPR 259, CTRL writes through 152 and reads through 136, PPR32 is the high word of PPR', () => {
    step(
      m,
      [
        e.mtspr!(275, 4),
        e.mfspr!(3, 259),
        e.mtspr!(152, 5),
        e.mfspr!(6, 136),
        e.mtspr!(896, 4),
        e.mfspr!(7, 898),
      ],
      {
        gpr: { 4: 0x1122_3344_5566_7788n, 5: 1n },
      },
    );
    expect([m.vcpu.gpr(3), m.vcpu.gpr(6), m.vcpu.gpr(7)]).toEqual([0x1122_3344_5566_7788n, 1n, 0x1122_3344n]);
  });

  it('PVR and PIR read what L0 put in the vCPU', () => {
    m.vcpu.w[R.PVR] = 0x004e_1202;
    m.vcpu.w[R.PIR] = 7;
    step(m, [e.mfspr!(3, 287), e.mfspr!(4, 1023)]);
    expect([m.vcpu.gpr(3), m.vcpu.gpr(4)]).toEqual([0x004e_1202n, 7n]);
  });

  it('hypervisor SPRs exit to L1 with HEAI, the image in HEIR and HSRR1 bit 45', () => {
    for (const [w, name] of [
      [e.mtspr!(318, 4), 'mtspr LPCR'],
      [e.mfspr!(3, 318), 'mfspr LPCR'],
      [e.mtspr!(190, 4), 'mtspr HFSCR'],
      [e.mtspr!(313, 4), 'mtspr HSRR0'],
      [e.mtspr!(287, 4), 'mtspr PVR (read-only)'],
    ] as const) {
      const x = one(w);
      expect([x.vector, x.retired, x.nia], name).toEqual([0xe40, 0, BigInt(CODE)]);
      expect(m.vcpu.get64(R.HEIR), name).toBe(BigInt(w >>> 0));
      if (name !== 'mtspr PVR (read-only)') expect(x.srr1Lo & 0x4_0000, name).toBe(0x4_0000);
    }
  });

  it('an SPR nestsim does not know exits with HEAI without bit 45', () => {
    const x = one(e.mfspr!(3, 700));
    expect([x.vector, x.srr1Lo & 0x4_0000]).toEqual([0xe40, 0]);
  });

  it('problem state: privileged SPR numbers are a privileged-instruction program interrupt', () => {
    const x = one(e.mfspr!(3, 26), MSR_SF_LE | MSR_PR);
    expect([interrupted(x), x.retired]).toEqual([0x700, 0]);
    expect(m.vcpu.get64(R.SRR0)).toBe(BigInt(CODE));
    expect(m.vcpu.get64(R.SRR1) & 0x4_0000n).toBe(0x4_0000n);
    // LR is a user SPR: no interrupt
    expect(one(e.mfspr!(3, 8), MSR_SF_LE | MSR_PR).retired).toBe(1);
  });

  it('TAR is a facility: HFSCR[TAR] = 0 exits with 0xF80 and IC = 8', () => {
    m.vcpu.set(0x102d, 0n);
    const x = one(e.mfspr!(3, 815));
    expect([x.vector, x.nia]).toEqual([0xf80, BigInt(CODE)]);
    expect(m.vcpu.get(0x102d) >> 56n).toBe(8n);
    m.vcpu.set(0x102d, 0xffffn);
  });

  it('mtxer keeps only the defined bits; the split flags follow', () => {
    step(m, [e.mtxer!(4), e.mfxer!(3)], { gpr: { 4: u64(-1n) } });
    expect(m.vcpu.gpr(3)).toBe(0xe00c_007fn);
    expect([m.vcpu.w[R.SO], m.vcpu.w[R.OV], m.vcpu.w[R.CA], m.vcpu.w[R.OV32], m.vcpu.w[R.CA32]]).toEqual([
      1, 1, 1, 1, 1,
    ]);
  });
});

describe('timebase and decrementer (virtual time: one tick per retired instruction)', () => {
  it('mftb advances by the instructions retired in between and adds TB_OFFSET', () => {
    m.core.tb = 5;
    m.vcpu.set64(R.TB_OFFSET, 1000n);
    // mftb 3 ; nop ; nop ; nop ; mftb 4 ; mfspr 5,268 ; mftb 6,269 (TBU)
    step(m, [
      e.mftb!(3, 268),
      e.nop!(),
      e.nop!(),
      e.nop!(),
      e.mftb!(4, 268),
      e.mfspr!(5, 268),
      e.mftb!(6, 269),
    ]);
    expect([m.vcpu.gpr(3), m.vcpu.gpr(4), m.vcpu.gpr(5), m.vcpu.gpr(6)]).toEqual([1005n, 1009n, 1010n, 0n]);
    expect(m.core.tb).toBe(5 + 8);
    m.vcpu.set64(R.TB_OFFSET, 0n);
  });

  it('mtdec / mfdec: DEC = expiry − now, 32 bits sign-extended', () => {
    m.core.tb = 100;
    // mtdec 4 (at tb 100) ; mfdec 3 (at 101) ; mtdec 5 (−2) ; mfdec 6 (−3)
    step(m, [e.mtdec!(4), e.mfdec!(3), e.mtdec!(5), e.mfdec!(6)], { gpr: { 4: 50n, 5: 0xffff_fffen } });
    expect([m.vcpu.gpr(3), m.vcpu.gpr(6)]).toEqual([49n, u64(-3n)]);
    // expiry is kept in the L1 timebase domain: 102 + (−2)
    expect(m.vcpu.get64(R.DEC_EXPIRY_TB)).toBe(100n);
  });

  it('the instruction counter and PURR advance with the run', () => {
    m.vcpu.set64(R.IC, 10n);
    m.vcpu.set64(R.PURR, 0n);
    // nop ; nop ; mfspr 3,848 (IC)
    step(m, [e.nop!(), e.nop!(), e.mfspr!(3, 848)]);
    expect(m.vcpu.gpr(3)).toBe(12n);
    expect(m.vcpu.get64(R.IC)).toBe(14n);
    expect(m.vcpu.get64(R.PURR)).toBe(4n);
  });
});

describe('MSR', () => {
  beforeEach(() => {
    m.vcpu.set(0x102a, DEC_NEVER); // enabling EE must not meet a decrementer left by another test
  });

  it('mfmsr reads it; mtmsrd L=1 changes only EE and RI', () => {
    step(m, [e.mtmsrd!(4, 1), e.mfmsr!(3)], { gpr: { 4: u64(-1n) } });
    expect(m.vcpu.gpr(3)).toBe(MSR_SF_LE | MSR_EE | 2n);
    m.vcpu.set(0x1022, MSR_SF_LE);
  });

  it('mtmsrd L=0 cannot set HV or change ME from the guest', () => {
    m.vcpu.set(0x1022, MSR_SF_LE | MSR_ME);
    // mtmsrd 4,0 with HV set and ME clear ; mfmsr 3
    step(m, [e.mtmsrd!(4, 0), e.mfmsr!(3)], { gpr: { 4: MSR_SF_LE | MSR_HV } });
    expect(m.vcpu.gpr(3)).toBe(MSR_SF_LE | MSR_ME);
    m.vcpu.set(0x1022, MSR_SF_LE);
  });

  it('rfid: MSR ← SRR1 (HV kept), NIA ← SRR0', () => {
    m.load(CODE, [e.rfid!()]);
    m.load(CODE + 0x100, [e.sc!(1)]);
    m.vcpu.set(0x1021, BigInt(CODE));
    m.vcpu.set64(R.SRR0, BigInt(CODE + 0x100) | 3n);
    m.vcpu.set64(R.SRR1, MSR_SF_LE | MSR_EE | MSR_HV);
    const x = m.run(10);
    expect([x.vector, x.retired, x.nia]).toEqual([0xc00, 2, BigInt(CODE + 0x104)]);
    expect(m.vcpu.get(0x1022)).toBe(MSR_SF_LE | MSR_EE);
    m.vcpu.set(0x1022, MSR_SF_LE);
  });

  it('mfmsr, mtmsrd, rfid and hrfid are privileged in problem state; hrfid is HEAI in the guest kernel', () => {
    for (const w of [e.mfmsr!(3), e.mtmsrd!(3, 0), e.mtmsr!(3, 0), e.rfid!(), e.hrfid!()]) {
      const x = one(w, MSR_SF_LE | MSR_PR);
      expect([interrupted(x), m.vcpu.get64(R.SRR1) & 0x4_0000n]).toEqual([0x700, 0x4_0000n]);
    }
    const x = one(e.hrfid!());
    expect([x.vector, x.srr1Lo & 0x4_0000]).toEqual([0xe40, 0x4_0000]);
  });
});

describe('traps', () => {
  /** The book's TO test. */
  const trapWhen = (to: number, a: bigint, b: bigint, bits: number) => {
    const sa = BigInt.asIntN(bits, a);
    const sb = BigInt.asIntN(bits, b);
    const ua = BigInt.asUintN(bits, a);
    const ub = BigInt.asUintN(bits, b);
    return (
      (to & 16 && sa < sb) ||
      (to & 8 && sa > sb) ||
      (to & 4 && sa === sb) ||
      (to & 2 && ua < ub) ||
      (to & 1 && ua > ub)
    );
  };
  const pairs: [bigint, bigint][] = [
    [1n, 2n],
    [2n, 1n],
    [5n, 5n],
    [u64(-1n), 1n],
    [0xffff_ffff_0000_0001n, 1n],
    [0x8000_0000n, 0x7fff_ffffn],
  ];

  it('tw / td / twi / tdi trap exactly when TO says so (program interrupt, SRR1 bit 46)', () => {
    for (let to = 0; to < 32; to++) {
      for (const [a, b] of pairs) {
        for (const [w, bits] of [
          [e.tw!(to, 4, 5), 32],
          [e.td!(to, 4, 5), 64],
          [e.twi!(to, 4, Number(BigInt.asIntN(16, b))), 32],
          [e.tdi!(to, 4, Number(BigInt.asIntN(16, b))), 64],
        ] as const) {
          const imm = w >>> 26 !== 31;
          const bb = imm ? BigInt.asUintN(64, BigInt.asIntN(16, b)) : b;
          const x = one(w, MSR_SF_LE, { 4: a, 5: b });
          const trapped = Boolean(trapWhen(to, a, bb, bits));
          const where = `TO=${to} ${a.toString(16)} ${bb.toString(16)} ${imm ? 'imm' : 'reg'}${bits}`;
          if (trapped) expect(interrupted(x), where).toBe(0x700);
          else expect(x.nia, where).toBe(BigInt(CODE + 4));
          if (trapped) {
            expect(x.retired, where).toBe(0);
            expect(m.vcpu.get64(R.SRR1) & 0x2_0000n, where).toBe(0x2_0000n);
            expect(m.vcpu.get64(R.SRR0), where).toBe(BigInt(CODE));
          }
        }
      }
    }
  });

  it('attn exits with HEAI', () => {
    expect(one(e.attn!()).vector).toBe(0xe40);
  });
});

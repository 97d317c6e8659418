/**
 * H_ENTER_NESTED exits (spec §14.3, §14.7, §11.6) with tiny L2 programs: what reaches L1, what L0
 * settles itself (shadow faults L1's tree can satisfy, the L2's own H_RPT_INVALIDATE), and the
 * state written back: every field of both structures across an entry, XER's split flags included.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../cores/encode.js';
import { R } from '../cores/vcpu.js';
import { HV_FIELDS, type Hv, REGS_FIELDS } from '../hypervisor/l0/v1/structs.js';
import { H, Hcall, StorageFault, Vector } from '../hypervisor/papr.js';
import { SplitMix32 } from '../hypervisor/prng.js';
import { Perm } from '../mem/radix.js';
import { asL1RA, asL2RA } from '../mem/types.js';
import { countTo } from './support/programs.js';
import {
  enter,
  enterAt,
  getHv,
  getReg,
  L2_MSR,
  program,
  setHv,
  setReg,
  V1Mem,
  v1Rig,
} from './support/v1-rig.js';

const e = encode;
const CODE = 0x1000;
const DATA = 0x8000;
const UNMAPPED = 0x20_0000;
/** lfd f1,0(0): a floating-point load (opcode 50), gated by MSR[FP] and HFSCR[FP]. */
const LFD = 0xc820_0000;
const MSR_FP = 0x2000n;

describe('exits that go to L1', () => {
  it('hcall (sc 1) → r3 = 0xC00, GPRs and NIP after the sc in pt_regs', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.addi!(3, 0, 0x123), e.addi!(4, 0, -1), e.addi!(12, 0, 12), e.sc!(1)]);
    const x = enterAt(l0, CODE);
    expect(x.rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(l0, 'GPR3')).toBe(0x123n);
    expect(getReg(l0, 'GPR4')).toBe(0xffff_ffff_ffff_ffffn);
    expect(getReg(l0, 'GPR12')).toBe(12n);
    expect(getReg(l0, 'NIP')).toBe(BigInt(CODE + 16));
    expect(getReg(l0, 'MSR')).toBe(L2_MSR); // SRR1 of the sc: the MSR, no cause bits
  });

  it('load from an address L1 does not map → 0xE00 with HDAR, HDSISR (no PTE), ASDR', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.lis!(5, UNMAPPED >> 16), e.ld!(6, 0x18, 5)]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_DATA_STORAGE);
    expect(getHv(l0, 'HDAR')).toBe(BigInt(UNMAPPED + 0x18));
    expect(getHv(l0, 'ASDR')).toBe(BigInt(UNMAPPED + 0x18));
    expect(getHv(l0, 'HDSISR')).toBe(BigInt(StorageFault.NOPTE));
    expect(getReg(l0, 'NIP')).toBe(BigInt(CODE + 4));
  });

  it('store to a page L1 maps read-only → 0xE00 with PROTFAULT | ISSTORE', () => {
    const r = v1Rig();
    r.writer.protect(asL2RA(DATA), 12, Perm.Read);
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.std!(6, 0, 5)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.HV_DATA_STORAGE);
    expect(getHv(r.l0, 'HDSISR')).toBe(BigInt(StorageFault.PROTFAULT | StorageFault.ISSTORE));
  });

  it('fetch from an unmapped page → 0xE20 with ASDR and the cause in the MSR handed back', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.lis!(5, UNMAPPED >> 16), e.mtctr!(5), e.bctr!()]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_INSTRUCTION_STORAGE);
    expect(getHv(l0, 'ASDR')).toBe(BigInt(UNMAPPED));
    expect(getReg(l0, 'NIP')).toBe(BigInt(UNMAPPED));
    expect(getReg(l0, 'MSR')).toBe(L2_MSR | BigInt(StorageFault.NOPTE)); // HSRR1 with the cause
    // Entering again with that MSR is harmless: the cause bit positions are reserved in the MSR.
    program(l0, CODE, [e.addi!(3, 0, 7), e.sc!(1)]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(l0, 'MSR')).toBe(L2_MSR);
  });

  it('illegal instruction → 0xE40 with HEIR', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.addi!(3, 0, 1), 0x0000_0123]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_EMULATION_ASSIST);
    expect(getHv(l0, 'HEIR')).toBe(0x123n);
    expect(getReg(l0, 'NIP')).toBe(BigInt(CODE + 4));
  });

  it('L1’s HDEC expiry → 0x980 after about the instructions allowed; already past → before the first', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.b!(0)]);
    const tb = l0.seat(0).core.tb;
    setHv(l0, 'HDEC_EXPIRY', BigInt(tb + 10_000));
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_DECREMENTER);
    const ran = l0.seat(0).core.tb - tb;
    expect(ran).toBeGreaterThanOrEqual(10_000);
    expect(ran).toBeLessThan(10_000 + 1024);
    const ic = getHv(l0, 'IC');
    setHv(l0, 'HDEC_EXPIRY', 0n);
    expect(enter(l0).rc).toBe(Vector.HV_DECREMENTER);
    expect(getHv(l0, 'IC')).toBe(ic); // nothing ran
  });

  it('facility L1 turned off for the L2 → 0xF80 with the cause byte in HFSCR', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [LFD]);
    setReg(l0, 'MSR', L2_MSR | MSR_FP);
    setHv(l0, 'HFSCR', 0xfffen); // everything but FP
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_FACILITY_UNAVAILABLE);
    expect(getHv(l0, 'HFSCR')).toBe(0xfffen); // cause FP = 0 in bits 0:7, the rest as L1 wrote it
    setHv(l0, 'HFSCR', 0x0200_0000_0000_fffen); // a stale cause byte is replaced
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_FACILITY_UNAVAILABLE);
    expect(getHv(l0, 'HFSCR')).toBe(0xfffen);
  });

  it('facility L0 never granted L1 → 0xE40 with the instruction in HEIR, not 0xF80', () => {
    const { l0 } = v1Rig({ v1: { l1Hfscr: 0xfffe } }); // L0 permits L1 everything but FP
    program(l0, CODE, [LFD]);
    setReg(l0, 'MSR', L2_MSR | MSR_FP);
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_EMULATION_ASSIST);
    expect(getHv(l0, 'HEIR')).toBe(BigInt(LFD));
    expect(getReg(l0, 'NIP')).toBe(BigInt(CODE));
  });

  it('a translation outside L1 RAM → machine check 0x200, as under v2', () => {
    const r = v1Rig();
    r.writer.map(asL2RA(0x30_0000), asL1RA(0x4000_0000), 12, Perm.Read); // beyond 16 MiB
    program(r.l0, CODE, [e.lis!(5, 0x30), e.ld!(6, 0, 5)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.MACHINE_CHECK);
  });

  it('an L1 table outside L1 RAM → 0xE00 with PRTABLE_FAULT and ASDR = that table entry', () => {
    const r = v1Rig();
    // Point the level-1 directory entry for L2RA 1 GiB at a table beyond L1 RAM.
    const root = r.writer.root.base;
    const entry = root + 8 * 0; // root index of L2RA < 512 GiB is 0; level 1 index 1 is 1 GiB
    const dv = r.l0.ram.dv;
    const l1Table = Number(dv.getBigUint64(entry, false) & 0x0fff_ffff_ffff_ff00n);
    dv.setBigUint64(l1Table + 8, 0x8000_0000_0000_0009n | 0x4000_0000n, false); // V, NLB 1 GiB, NLS 9
    program(r.l0, CODE, [e.lis!(5, 0x4000), e.ld!(6, 0, 5)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.HV_DATA_STORAGE);
    expect(getHv(r.l0, 'HDSISR')).toBe(BigInt(StorageFault.PRTABLE_FAULT));
    expect(getHv(r.l0, 'ASDR')).toBe(0x4000_0000n); // the level-2 entry L0 could not read
  });
});

describe('what L0 settles without an exit', () => {
  it('faults L1’s tree can satisfy: the program runs to its hcall; the shadow tree fills', () => {
    const r = v1Rig();
    r.l0.ram.dv.setUint32(V1Mem.FRAMES + DATA, 0xabcd, true);
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.lwz!(3, 0, 5), e.stw!(3, 8, 5), e.sc!(1)]);
    const fixed0 = shadowFixed(r);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(r.l0, 'GPR3')).toBe(0xabcdn);
    expect(r.l0.ram.dv.getUint32(V1Mem.FRAMES + DATA + 8, true)).toBe(0xabcd);
    // The fetch of CODE, the load of DATA, then the store to DATA (C is set only on a store).
    expect(shadowFixed(r) - fixed0).toBe(3);
    expect(r.l0.stats.exits.get(Vector.SYSTEM_CALL)).toBe(1);
    // Run again: the shadow tree has it all; no fault at all.
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(shadowFixed(r) - fixed0).toBe(3);
  });

  it('the L2’s own H_RPT_INVALIDATE (process-scoped) is answered by L0; other hcalls go to L1', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [
      e.li!(3, Hcall.H_RPT_INVALIDATE),
      e.li!(6, 0x2), // type TLB
      e.sc!(1),
      e.mr!(20, 3),
      e.li!(3, 0x77),
      e.sc!(1),
    ]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(l0, 'GPR3')).toBe(0x77n);
    expect(getReg(l0, 'GPR20')).toBe(BigInt(H.SUCCESS));
  });

  it('L0’s time slice ends → H_INTERRUPT with the state written back; entering again resumes', () => {
    const { l0 } = v1Rig({ l0: { sliceInstructions: 5000 } });
    program(l0, CODE, countTo(20000));
    let x = enterAt(l0, CODE);
    let interrupts = 0;
    while (x.rc === H.INTERRUPT) {
      interrupts++;
      expect(getReg(l0, 'GPR3')).toBeLessThan(20000n);
      x = enter(l0);
    }
    expect(interrupts).toBeGreaterThanOrEqual(10);
    expect(x.rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(l0, 'GPR3')).toBe(20000n);
  });
});

describe('state across an entry', () => {
  /** A random u64 from two draws. */
  const u64 = (g: SplitMix32) => (BigInt(g.next()) << 32n) | BigInt(g.next());
  /** Fields L0 changes or sanitises on an HEAI exit with nothing retired (tested separately). */
  const HV_CHANGED = new Set(['VERSION', 'LPID', 'VCPU_TOKEN', 'HDEC_EXPIRY', 'HEIR']);
  const HV_WORDS = new Set(['PIDR']); // 32-bit registers: written back zero-extended
  const REGS_WORDS = new Set(['CCR', 'DSISR']);

  it('every field of hv_guest_state (v2) and pt_regs comes back, with random values (20 seeds)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const g = new SplitMix32(seed);
      const { l0 } = v1Rig();
      const hvIn = new Map<string, bigint>();
      const regsIn = new Map<string, bigint>();
      for (const f of HV_FIELDS) {
        if (HV_CHANGED.has(f.name)) continue;
        let v = u64(g);
        if (HV_WORDS.has(f.name)) v &= 0xffff_ffffn;
        setHv(l0, f.name, v);
        hvIn.set(f.name, v);
      }
      for (const f of REGS_FIELDS) {
        let v = u64(g);
        if (REGS_WORDS.has(f.name)) v &= 0xffff_ffffn;
        if (f.name === 'NIP') v = BigInt(CODE);
        // Some of VSX, FP, RI (not EE or PR: a random LPCR[MER] or problem state would take an interrupt).
        if (f.name === 'MSR') v = L2_MSR | (u64(g) & 0x0000_0000_0080_2002n);
        setReg(l0, f.name, v);
        regsIn.set(f.name, v);
      }
      setHv(l0, 'HDEC_EXPIRY', -1n);
      program(l0, CODE, [0x0000_0456]); // HEAI before anything retires
      expect(enter(l0).rc).toBe(Vector.HV_EMULATION_ASSIST);
      for (const [name, v] of hvIn) {
        // LPCR, HFSCR, DAWRX, CIABR and PCR are sanitised for the run but handed back as L1 wrote them.
        expect([seed, name, getHv(l0, name as keyof typeof Hv)]).toEqual([seed, name, v]);
      }
      for (const [name, v] of regsIn) expect([seed, name, getReg(l0, name)]).toEqual([seed, name, v]);
      expect(getHv(l0, 'HEIR')).toBe(0x456n);
    }
  });

  it('XER with random SO/OV/CA/OV32/CA32 reaches the L2 and comes back (mfxer, addze)', () => {
    const g = new SplitMix32(99);
    for (let k = 0; k < 32; k++) {
      const { l0 } = v1Rig();
      const xer = ((BigInt(g.next()) << 32n) | BigInt(g.next())) & 0xffff_ffff_e00c_007fn;
      setReg(l0, 'XER', xer);
      setReg(l0, 'GPR7', 1000n);
      program(l0, CODE, [e.mfxer!(5), e.addze!(6, 7), e.sc!(1)]);
      expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
      expect(getReg(l0, 'GPR5')).toBe((xer & 0xffff_ffffn) | (xer & 0xffff_ffff_0000_0000n));
      const ca = (xer >> 29n) & 1n;
      expect(getReg(l0, 'GPR6')).toBe(1000n + ca);
      // addze sets CA and CA32 from its own carry (none here) and leaves the other bits.
      const after = xer & ~((1n << 29n) | (1n << 18n));
      expect(getReg(l0, 'XER')).toBe(after);
    }
  });

  it('counters advance by the instructions retired; the MSR gets ME and loses HV', () => {
    const { l0 } = v1Rig();
    setHv(l0, 'PURR', 100n);
    setHv(l0, 'IC', 7n);
    setReg(l0, 'MSR', (L2_MSR | (1n << 60n)) & ~0x1000n); // HV set, ME clear
    program(l0, CODE, [e.nop!(), e.nop!(), e.nop!(), e.sc!(1)]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(getHv(l0, 'IC')).toBe(7n + 4n);
    expect(getHv(l0, 'PURR')).toBe(100n + 4n);
    expect(getReg(l0, 'MSR')).toBe(L2_MSR); // SRR1 of the sc: ME set, HV clear
  });

  it('the TB offset applies to the L2’s timebase (mfspr TB)', () => {
    const { l0 } = v1Rig();
    setHv(l0, 'TB_OFFSET', 1_000_000_000n);
    program(l0, CODE, [e.mfspr!(5, 268), e.sc!(1)]);
    const tb = l0.seat(0).core.tb;
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    const l2tb = Number(getReg(l0, 'GPR5'));
    expect(l2tb - 1_000_000_000).toBeGreaterThanOrEqual(tb);
    expect(l2tb - 1_000_000_000).toBeLessThan(tb + 10);
  });

  it('what the L2 runs with is sanitised (LPCR mask, AIL, TC; HFSCR; DAWRX, CIABR; MSR) and L1’s values come back', () => {
    const r = v1Rig({ v1: { l1Hfscr: 0x19f } });
    const { l0 } = r;
    const lpcr = 0x0070_0000_0000_0000n | 0x0200_0000n | 0x0100_0000n | 0x200n | 0x2_0000n | 0x8n | 0x1n; // DPFD ILE AIL=2 TC LD LPES1 HDICE
    setHv(l0, 'LPCR', lpcr);
    setHv(l0, 'HFSCR', 0x0300_0000_0000_ffffn);
    setHv(l0, 'DAWRX0', 0x7n);
    setHv(l0, 'CIABR', 0x1000_0003n);
    setHv(l0, 'DAWRX1', 0x5n);
    program(l0, CODE, [0x0000_0456]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_EMULATION_ASSIST);
    const slot = Atomics.load(r.host.w, r.host.mapIndex(1, 0)) - 1;
    const v = r.host.vcpu(slot);
    // L1's LPCR outside the mask is L0's (HR UPRT GTSE HVICE HDICE); AIL=2 and TC cleared; LPES from L1.
    expect(v.get64(R.LPCR)).toBe(
      0x0070_0000_0000_0000n | 0x0200_0000n | 0x2_0000n | 0x8n | 0x0050_0400n | 0x3n,
    );
    expect(v.get64(R.HFSCR)).toBe(0x0300_0000_0000_019fn); // cause kept, facilities ∩ permitted
    expect(v.get(0x2005)).toBe(0x3n); // DAWRX0 without HYP
    expect(v.get(0x1032)).toBe(0x1000_0000n); // CIABR without hypervisor matching
    expect(v.get(0x2006)).toBe(0x1n);
    expect(getHv(l0, 'LPCR')).toBe(lpcr);
    expect(getHv(l0, 'HFSCR')).toBe(0x0300_0000_0000_ffffn);
    expect(getHv(l0, 'CIABR')).toBe(0x1000_0003n);
  });

  it('version 1 structures: 232 bytes read and written, DAWR1/DAWRX1 untouched', () => {
    const { l0 } = v1Rig();
    setHv(l0, 'VERSION', 1n);
    setHv(l0, 'DAWR1', 0x1111n);
    setHv(l0, 'DAWRX1', 0x2222n);
    program(l0, CODE, [e.addi!(3, 0, 5), e.sc!(1)]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(getHv(l0, 'DAWR1')).toBe(0x1111n);
    expect(getHv(l0, 'DAWRX1')).toBe(0x2222n);
    expect(getReg(l0, 'GPR3')).toBe(5n);
  });

  it('registers in neither structure (DEC) stay in L0 for that (lpid, vcpu_token)', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.li!(5, 0x1234), e.mtdec!(5), e.sc!(1)]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    program(l0, CODE + 0x100, [e.mfdec!(6), e.sc!(1)]);
    expect(enterAt(l0, CODE + 0x100).rc).toBe(Vector.SYSTEM_CALL);
    const dec = Number(BigInt.asIntN(32, getReg(l0, 'GPR6')));
    expect(dec).toBeLessThan(0x1234);
    expect(dec).toBeGreaterThan(0x1234 - 16);
  });
});

/** Shadow faults L0 fixed (L0Stats). */
function shadowFixed(r: ReturnType<typeof v1Rig>): number {
  return r.l0.stats.shadowFaults.fixed;
}

describe('doorbells under v1', () => {
  it('msgsndp (MSGP is never L0’s to give L1) → 0xE40 with the instruction in HEIR', () => {
    const { l0 } = v1Rig();
    const msgsndp = e.msgsndp!(9);
    program(l0, CODE, [msgsndp]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.HV_EMULATION_ASSIST);
    expect(getHv(l0, 'HEIR')).toBe(BigInt(msgsndp));
    expect(getReg(l0, 'NIP')).toBe(BigInt(CODE));
  });

  it('DPDES set by L1 in hv_guest_state: the L2 takes 0xA00 at once (EE on), and DPDES stays set', () => {
    const { l0 } = v1Rig();
    program(l0, CODE, [e.b!(0)]);
    program(l0, Vector.DOORBELL, [e.mfspr!(4, 26), e.li!(3, 0x77), e.sc!(1)]); // r4 ← SRR0
    setReg(l0, 'MSR', L2_MSR | 0x8000n);
    setHv(l0, 'DPDES', 1n);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(l0, 'GPR3')).toBe(0x77n);
    expect(getReg(l0, 'GPR4')).toBe(BigInt(CODE)); // taken before the first instruction
    expect(getHv(l0, 'DPDES')).toBe(1n); // level: still set on the way out
  });
});

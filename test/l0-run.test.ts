/**
 * H_GUEST_RUN_VCPU and H_RPT_INVALIDATE through the hcall ABI: every return code in the order of
 * spec §18 (PAPR-code column), one tiny L2 program per exit reason with its output-buffer
 * elements (spec §5.6), the run flags, time slices, and invalidation reaching the core.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { encode } from '../cores/encode.js';
import { invalidateCode } from '../cores/isa/predecode.js';
import { defaultL0Config, L0, type L0Config } from '../hypervisor/l0/l0.js';
import { LPPACA_YIELD_COUNT } from '../hypervisor/lppaca.js';
import { H, Hcall, RptTarget, RptType, RunFlags, Vector } from '../hypervisor/papr.js';
import { Perm } from '../mem/radix.js';
import { elementFromRoot } from '../mem/radix-root.js';
import { bumpAllocator, RadixWriter } from '../mem/radix-writer.js';
import { asL1RA, asL2RA } from '../mem/types.js';
import { hcall } from './support/hcall.js';
import { createGuest, decodeBuffer, getState, setState, writeGsb } from './support/l1-calls.js';
import { countTo } from './support/programs.js';

const RUN = Hcall.H_GUEST_RUN_VCPU;
const RPT = Hcall.H_RPT_INVALIDATE;

/** L1 memory plan of these tests. */
const TABLES = 0x10_0000; // radix tables of the L2, 1 MiB
const FRAMES = 0x40_0000; // L1 frames backing L2 pages 0.. (L2RA p·4K → FRAMES + p·4K)
const RUN_IN = 0x2_0000;
const RUN_OUT = 0x3_0000;
const RUN_BYTES = 4096;
const CODE = 0x1000; // L2RA of the test programs
const DATA = 0x8000; // a mapped data page
const UNMAPPED = 0x20_0000; // an L2RA nothing maps

const L2_MSR = 0x8000_0000_0000_0001n; // SF | LE, real mode
const MSR_EE = 0x8000n;
const LPCR_ILE = 0x0200_0000n;

interface Rig {
  l0: L0;
  guest: number;
  writer: RadixWriter;
}

/** A guest with vCPU 0, its first 16 L2 pages mapped, partition table set, run buffers registered. */
function rig(overrides: Partial<L0Config> = {}): Rig {
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: 16 << 20, ...overrides }));
  const guest = createGuest(l0);
  expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 0).rc).toBe(H.SUCCESS);
  const writer = RadixWriter.create(l0.ram, bumpAllocator(TABLES, TABLES + 0x10_0000))!;
  for (let p = 0; p < 16; p++)
    writer.map(asL2RA(p * 4096), asL1RA(FRAMES + p * 4096), 12, Perm.Read | Perm.Write | Perm.Exec);
  expect(setState(l0, guest, 0, { PARTITION_TABLE: elementFromRoot(writer.root) }, true).rc).toBe(H.SUCCESS);
  expect(
    setState(l0, guest, 0, {
      RUN_INPUT: { address: BigInt(RUN_IN), bytes: BigInt(RUN_BYTES) },
      RUN_OUTPUT: { address: BigInt(RUN_OUT), bytes: BigInt(RUN_BYTES) },
      MSR: L2_MSR,
      LPCR: LPCR_ILE,
    }).rc,
  ).toBe(H.SUCCESS);
  emptyInput(l0);
  return { l0, guest, writer };
}

/** An empty run input buffer (count 0). */
function emptyInput(l0: L0): void {
  l0.ram.dv.setUint32(RUN_IN, 0, false);
}

/** Writes instruction words at L2RA `l2ra` (through the fixed frame mapping) and announces the code. */
function program(l0: L0, l2ra: number, words: readonly number[]): void {
  for (const [k, w] of words.entries()) l0.ram.dv.setUint32(FRAMES + l2ra + 4 * k, w, true);
  invalidateCode(l0.codeGen);
}

/** Starts vCPU 0 at `nia` through the run input buffer, runs it, returns r3/r4 and the output buffer. */
function runAt(
  r: Rig,
  nia: number | undefined,
  extra: Record<string, bigint | number> = {},
  flags: bigint = 0n,
) {
  const values = nia === undefined ? { ...extra } : { NIA: BigInt(nia), ...extra };
  writeGsb(r.l0, RUN_IN, values);
  const x = hcall(r.l0, RUN, flags, r.guest, 0);
  const out = x.rc === H.SUCCESS ? decodeBuffer(r.l0, RUN_OUT, RUN_BYTES) : {};
  return { rc: x.rc, vector: Number(x.out[0]), out, names: Object.keys(out) };
}

const e = encode;

describe('H_GUEST_RUN_VCPU return codes, in check order', () => {
  let r: Rig;
  beforeEach(() => {
    r = rig();
  });

  it('reserved flag bits → H_PARAMETER (before the guest is looked at)', () => {
    expect(hcall(r.l0, RUN, 1n << 60n, 999, 0).rc).toBe(H.PARAMETER);
    expect(hcall(r.l0, RUN, 1, r.guest, 0).rc).toBe(H.PARAMETER);
  });

  it('unknown guest → H_P2; unknown vCPU → H_P3', () => {
    expect(hcall(r.l0, RUN, 0, 999, 0).rc).toBe(H.P2);
    expect(hcall(r.l0, RUN, 0, 0, 0).rc).toBe(H.P2);
    expect(hcall(r.l0, RUN, 0, r.guest, 1).rc).toBe(H.P3);
    expect(hcall(r.l0, RUN, 0, r.guest, 5000).rc).toBe(H.P3);
  });

  it('run buffers not registered → H_INPUT_BUFFER_NOT_DEFINED, then H_OUTPUT_BUFFER_NOT_DEFINED', () => {
    const { l0, guest } = r;
    expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 1).rc).toBe(H.SUCCESS);
    expect(hcall(l0, RUN, 0, guest, 1).rc).toBe(H.INPUT_BUFFER_NOT_DEFINED);
    setState(l0, guest, 1, { RUN_INPUT: { address: BigInt(RUN_IN), bytes: 4096n } });
    expect(hcall(l0, RUN, 0, guest, 1).rc).toBe(H.OUTPUT_BUFFER_NOT_DEFINED);
  });

  it('partition table never set → H_PARTITION_PAGE_TABLE_NOT_DEFINED', () => {
    const l0 = new L0(defaultL0Config({ l1MemoryBytes: 16 << 20 }));
    const guest = createGuest(l0);
    hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 0);
    setState(l0, guest, 0, {
      RUN_INPUT: { address: BigInt(RUN_IN), bytes: 4096n },
      RUN_OUTPUT: { address: BigInt(RUN_OUT), bytes: 4096n },
    });
    expect(hcall(l0, RUN, 0, guest, 0).rc).toBe(H.PARTITION_PAGE_TABLE_NOT_DEFINED);
  });

  it('a vCPU held by another core → H_BUSY, nothing changed', () => {
    const { l0, guest } = r;
    program(l0, CODE, [e.addi!(3, 0, 7), e.sc!(1)]);
    const slot = l0.parts.slotOf(guest, 0);
    expect(l0.parts.acquire(slot, 5)).toBe(true);
    writeGsb(l0, RUN_IN, { NIA: BigInt(CODE) });
    expect(hcall(l0, RUN, 0, guest, 0).rc).toBe(H.BUSY);
    l0.parts.release(slot, 5);
    expect(getState(l0, guest, 0, ['NIA']).NIA).toBe(0n); // the input buffer was not applied
    expect(hcall(l0, RUN, 0, guest, 0).rc).toBe(H.SUCCESS);
  });

  it('a bad element in the input buffer → its code with r4 = its byte offset, nothing applied', () => {
    const { l0, guest } = r;
    writeGsb(l0, RUN_IN, { NIA: 0x1000n, HDAR: 5n }); // HDAR is read-only
    const x = hcall(l0, RUN, 0, guest, 0);
    expect(x.rc).toBe(H.INVALID_ELEMENT_VALUE);
    expect(x.out[0]).toBe(4n + 12n); // header, then NIA's 4 + 8 bytes
    expect(getState(l0, guest, 0, ['NIA']).NIA).toBe(0n);
  });

  it('guest-wide elements are refused in the input buffer', () => {
    writeGsb(r.l0, RUN_IN, { LOGICAL_PVR: 0x0f000006 });
    const x = hcall(r.l0, RUN, 0, r.guest, 0);
    expect(x.rc).toBe(H.INVALID_ELEMENT_VALUE);
    expect(x.out[0]).toBe(4n);
  });
});

describe('exits: one tiny L2 program per reason, with the output buffer of spec §5.6', () => {
  it('hcall (sc 1) → 0xC00 with GPR3..GPR12, NIA after the sc', () => {
    const r = rig();
    program(r.l0, CODE, [e.addi!(3, 0, 0x123), e.addi!(4, 0, -1), e.addi!(12, 0, 12), e.sc!(1)]);
    const x = runAt(r, CODE);
    expect(x.rc).toBe(H.SUCCESS);
    expect(x.vector).toBe(Vector.SYSTEM_CALL);
    expect(x.names).toEqual([
      'GPR3',
      'GPR4',
      'GPR5',
      'GPR6',
      'GPR7',
      'GPR8',
      'GPR9',
      'GPR10',
      'GPR11',
      'GPR12',
    ]);
    expect(x.out.GPR3).toBe(0x123n);
    expect(x.out.GPR4).toBe(0xffff_ffff_ffff_ffffn);
    expect(x.out.GPR12).toBe(12n);
    expect(getState(r.l0, r.guest, 0, ['NIA']).NIA).toBe(BigInt(CODE + 16));
  });

  it('syscall (sc 0) stays in L2: delivered at 0xC00 with SRR0 after the sc', () => {
    const r = rig();
    program(r.l0, 0xc00, [e.mfsrr0!(5), e.addi!(3, 0, 0x5c), e.sc!(1)]);
    program(r.l0, CODE, [e.sc!(0)]);
    const x = runAt(r, CODE);
    expect(x.vector).toBe(Vector.SYSTEM_CALL);
    expect(x.out.GPR3).toBe(0x5cn); // the L2 handler ran, then made the hcall
    expect(x.out.GPR5).toBe(BigInt(CODE + 4)); // SRR0 of the sc 0, read by the handler
  });

  it('load from an unmapped L2 address → 0xE00 with HDAR, HDSISR, ASDR, NIA, MSR', () => {
    const r = rig();
    program(r.l0, CODE, [e.lis!(5, UNMAPPED >> 16), e.ld!(6, 0, 5)]);
    const x = runAt(r, CODE);
    expect(x.vector).toBe(Vector.HV_DATA_STORAGE);
    expect(x.names).toEqual(['HDAR', 'HDSISR', 'ASDR', 'NIA', 'MSR']);
    expect(x.out.HDAR).toBe(BigInt(UNMAPPED));
    expect(x.out.NIA).toBe(BigInt(CODE + 4));
    expect(x.out.MSR).toBe(L2_MSR);
    expect(Number(x.out.HDSISR) & 0x4000_0000).not.toBe(0); // no translation
  });

  it('store to a read-only page → 0xE00 with the protection and store bits', () => {
    const r = rig();
    r.writer.protect(asL2RA(DATA), 12, Perm.Read);
    r.l0.invalidatePartition(r.guest);
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.std!(6, 0, 5)]);
    const x = runAt(r, CODE);
    expect(x.vector).toBe(Vector.HV_DATA_STORAGE);
    const dsisr = Number(x.out.HDSISR);
    expect(dsisr & 0x0800_0000).not.toBe(0); // protection
    expect(dsisr & 0x0200_0000).not.toBe(0); // store
  });

  it('branch to an unmapped page → 0xE20 with HDAR, ASDR, NIA, MSR', () => {
    const r = rig();
    program(r.l0, CODE, [e.lis!(5, UNMAPPED >> 16), e.mtctr!(5), e.bctr!()]);
    const x = runAt(r, CODE);
    expect(x.vector).toBe(Vector.HV_INSTRUCTION_STORAGE);
    expect(x.names).toEqual(['HDAR', 'ASDR', 'NIA', 'MSR']);
    expect(x.out.NIA).toBe(BigInt(UNMAPPED));
  });

  it('illegal instruction → 0xE40 with HEIR (8 bytes), NIA, MSR', () => {
    const r = rig();
    program(r.l0, CODE, [e.addi!(3, 0, 1), 0x0000_0000]);
    const x = runAt(r, CODE);
    expect(x.vector).toBe(Vector.HV_EMULATION_ASSIST);
    expect(x.names).toEqual(['HEIR', 'NIA', 'MSR']);
    expect(x.out.HEIR).toBe(0n);
    expect(x.out.NIA).toBe(BigInt(CODE + 4));
    const raw = r.l0.ram.dv;
    expect(raw.getUint16(RUN_OUT + 4 + 2, false)).toBe(8); // HEIR's length on the wire
  });

  it('HDEC expiry → 0x980 with an empty output buffer, after about the instructions allowed', () => {
    const r = rig();
    program(r.l0, CODE, [e.b!(0)]); // b . — spins forever
    const tb = r.l0.seat(0).core.tb;
    const x = runAt(r, CODE, { HDEC_EXPIRY_TB: BigInt(tb + 10_000) });
    expect(x.vector).toBe(Vector.HV_DECREMENTER);
    expect(x.names).toEqual([]);
    const ran = r.l0.seat(0).core.tb - tb;
    expect(ran).toBeGreaterThanOrEqual(10_000);
    expect(ran).toBeLessThan(10_000 + 1024);
  });

  it('end of L0 time slice → H_SUCCESS, r4 = 0, and the next run resumes where it stopped', () => {
    const r = rig({ sliceInstructions: 5000 });
    program(r.l0, CODE, countTo(20000));
    let x = runAt(r, CODE);
    let stops = 0;
    while (x.vector === Vector.STOPPED) {
      stops++;
      emptyInput(r.l0);
      x = runAt(r, undefined);
    }
    expect(stops).toBeGreaterThanOrEqual(10);
    expect(x.vector).toBe(Vector.SYSTEM_CALL);
    expect(x.out.GPR3).toBe(20000n);
  });
});

describe('run flags make interrupts pending in L2', () => {
  it('external interrupt: L2 with EE=1 takes 0x500 before its first instruction', () => {
    const r = rig();
    program(r.l0, 0x500, [e.mfsrr0!(5), e.addi!(3, 0, 0x500), e.sc!(1)]);
    program(r.l0, CODE, [e.addi!(3, 0, 1), e.sc!(1)]);
    const x = runAt(r, CODE, { MSR: L2_MSR | MSR_EE }, RunFlags.EXTERNAL_INTERRUPT);
    expect(x.vector).toBe(Vector.SYSTEM_CALL);
    expect(x.out.GPR3).toBe(0x500n);
    expect(x.out.GPR5).toBe(BigInt(CODE)); // taken before the first instruction
  });

  it('system reset is taken even with EE=0', () => {
    const r = rig();
    program(r.l0, 0x100, [e.addi!(3, 0, 0x100), e.sc!(1)]);
    program(r.l0, CODE, [e.addi!(3, 0, 1), e.sc!(1)]);
    const x = runAt(r, CODE, {}, RunFlags.SYSTEM_RESET);
    expect(x.out.GPR3).toBe(0x100n);
  });
});

describe('H_RPT_INVALIDATE (NESTED)', () => {
  const ALL = RptType.NESTED | RptType.TLB | RptType.PWC | RptType.PRT;
  it('codes in check order', () => {
    const { l0, guest } = rig();
    expect(hcall(l0, RPT, guest, RptTarget.CMMU, ALL, -1, 10, 5).rc).toBe(H.P5);
    expect(hcall(l0, RPT, guest, 0x10, ALL, -1, 0, -1).rc).toBe(H.P2);
    expect(hcall(l0, RPT, guest, RptTarget.CMMU, 0x30, -1, 0, -1).rc).toBe(H.P3);
    expect(hcall(l0, RPT, guest, RptTarget.CMMU_LOCAL, ALL, -1, 0, -1).rc).toBe(H.P2);
    expect(hcall(l0, RPT, 4000, RptTarget.CMMU, ALL, -1, 0, -1).rc).toBe(H.SUCCESS); // unknown LPID: ignored
    expect(hcall(l0, RPT, 0, RptTarget.CMMU, RptType.TLB, -1, 0, -1).rc).toBe(H.SUCCESS); // process-scoped
    expect(hcall(l0, RPT, guest, RptTarget.CMMU, ALL, -1, 0, -1).rc).toBe(H.SUCCESS);
  });

  it('a remap is seen after the invalidation, and not before (the TLB really caches)', () => {
    const r = rig();
    const { l0, guest, writer } = r;
    l0.ram.dv.setUint32(FRAMES + DATA, 0x1111, true);
    l0.ram.dv.setUint32(FRAMES + 0xa000, 0x2222, true);
    program(l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.lwz!(3, 0, 5), e.sc!(1)]);
    expect(runAt(r, CODE).out.GPR3).toBe(0x1111n);
    // L1 points DATA at the frame of page 0xa000 without telling L0: the cached translation stays.
    writer.unmap(asL2RA(DATA), 12);
    writer.map(asL2RA(DATA), asL1RA(FRAMES + 0xa000), 12, Perm.Read | Perm.Write);
    expect(runAt(r, CODE).out.GPR3).toBe(0x1111n);
    expect(hcall(l0, RPT, guest, RptTarget.CMMU, ALL, -1, 0, -1).rc).toBe(H.SUCCESS);
    expect(runAt(r, CODE).out.GPR3).toBe(0x2222n);
  });
});

describe('lifecycle: create → set state → run → exit → get state → delete', () => {
  it('GPRs set before the run are seen by L2; its results are read back after', () => {
    const r = rig();
    program(r.l0, CODE, [e.add!(3, 3, 4), e.sc!(1)]);
    expect(setState(r.l0, r.guest, 0, { GPR3: 40n, GPR4: 2n }).rc).toBe(H.SUCCESS);
    const x = runAt(r, CODE);
    expect(x.out.GPR3).toBe(42n);
    expect(getState(r.l0, r.guest, 0, ['GPR3', 'GPR4']).GPR3).toBe(42n);
    expect(hcall(r.l0, Hcall.H_GUEST_DELETE, 0, r.guest).rc).toBe(H.SUCCESS);
    expect(hcall(r.l0, RUN, 0, r.guest, 0).rc).toBe(H.P2);
  });

  it('statistics count runs, exits and instructions', () => {
    const r = rig();
    program(r.l0, CODE, [e.addi!(3, 0, 1), e.sc!(1)]);
    runAt(r, CODE);
    runAt(r, CODE);
    const s = r.l0.stats.toJSON();
    expect(s.exits['0xc00']).toBe(2);
    expect(s.vcpus[`${r.guest}/0`]).toEqual({ runs: 2, instructions: 4 });
    expect(s.hcalls.H_GUEST_RUN_VCPU?.H_SUCCESS).toBe(2);
  });
});

describe('the L2 VPA (0x0C02): L0 keeps its dispatch count', () => {
  const VPA = FRAMES + DATA; // L1 address of the VPA: the L2's mapped data page
  const yieldCount = (l0: L0) => l0.ram.dv.getUint32(VPA + LPPACA_YIELD_COUNT, false);

  it('is even while the vCPU runs and odd once it left, +2 per run; none after deregistration', () => {
    const r = rig();
    r.l0.ram.dv.setUint32(VPA + LPPACA_YIELD_COUNT, 1, false); // L1's init: not running
    expect(setState(r.l0, r.guest, 0, { VPA: BigInt(VPA) }).rc).toBe(H.SUCCESS);
    // The L2 reads its yield count (big-endian) into r4 and makes an hcall.
    program(r.l0, CODE, [
      e.li!(5, 0),
      e.ori!(5, 5, DATA + LPPACA_YIELD_COUNT),
      e.lwbrx!(4, 0, 5),
      e.li!(3, 0x77),
      e.sc!(1),
    ]);
    const x = runAt(r, CODE);
    expect(x.vector).toBe(Vector.SYSTEM_CALL);
    expect(x.out.GPR4).toBe(2n); // running: even
    expect(yieldCount(r.l0)).toBe(3); // out: odd
    runAt(r, CODE);
    expect(yieldCount(r.l0)).toBe(5);
    expect(setState(r.l0, r.guest, 0, { VPA: 0xffff_ffff_ffff_ffffn }).rc).toBe(H.SUCCESS);
    runAt(r, CODE);
    expect(yieldCount(r.l0)).toBe(5);
  });

  it.each([
    [VPA + 4, /not 8-byte aligned/],
    [FRAMES + 0x3e00, /crosses a 4 KiB page/],
    [16 << 20, /not in L1 memory/],
  ])('a VPA at %i L0 cannot keep → H_INVALID_ELEMENT_VALUE', (at, why) => {
    const r = rig();
    const x = setState(r.l0, r.guest, 0, { VPA: BigInt(at) });
    expect(x.rc).toBe(H.INVALID_ELEMENT_VALUE);
    expect(r.l0.lastReason).toMatch(why);
  });
});

/**
 * The v1 hcalls through the hcall ABI, one test per return code in the order of checks
 * (spec §14.2–§14.5, docs/v1.md "v1 decisions" where Linux's L0 and QEMU disagree), with the
 * structures and buffers in L1 memory.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../cores/encode.js';
import { V1GuestState, VG } from '../hypervisor/l0/v1/host.js';
import { H, Hcall, Vector } from '../hypervisor/papr.js';
import { pateDw0FromRoot } from '../mem/radix-root.js';
import { hcall } from './support/hcall.js';
import {
  enter,
  enterAt,
  getReg,
  hvOf,
  initStructs,
  L2_MSR,
  PTCR,
  program,
  regsOf,
  setHv,
  setReg,
  tlbieInsn,
  tlbieRb,
  V1Mem,
  v1Rig,
  writePate,
} from './support/v1-rig.js';

const e = encode;
const CODE = 0x1000;
const SPT = Hcall.H_SET_PARTITION_TABLE;
const TLBI = Hcall.H_TLB_INVALIDATE;
const COPY = Hcall.H_COPY_TOFROM_GUEST;

describe('H_SET_PARTITION_TABLE', () => {
  it('v1 disabled → H_FUNCTION (every v1 hcall)', () => {
    const { l0 } = v1Rig({ v1: { enabled: false }, noTable: true });
    expect(hcall(l0, SPT, PTCR).rc).toBe(H.FUNCTION);
    expect(enter(l0).rc).toBe(H.FUNCTION);
    expect(hcall(l0, TLBI, tlbieInsn(2), 1, tlbieRb(2)).rc).toBe(H.FUNCTION);
    expect(hcall(l0, COPY, 1, 0, 0, 0x1000, 0, 8).rc).toBe(H.FUNCTION);
  });

  it('PATS above what the LPID limit needs → H_PARAMETER (4 for 4096 entries; 2 for 1024)', () => {
    const { l0 } = v1Rig({ noTable: true });
    expect(hcall(l0, SPT, V1Mem.PTAB | 5).rc).toBe(H.PARAMETER);
    expect(hcall(l0, SPT, V1Mem.PTAB | 4).rc).toBe(H.SUCCESS);
    const small = v1Rig({ noTable: true, v1: { maxLpid: 1023 } });
    expect(hcall(small.l0, SPT, V1Mem.PTAB | 3).rc).toBe(H.PARAMETER);
    expect(hcall(small.l0, SPT, V1Mem.PTAB | 2).rc).toBe(H.SUCCESS);
  });

  it('a table not inside L1 memory → H_PARAMETER', () => {
    const { l0 } = v1Rig({ noTable: true });
    expect(hcall(l0, SPT, (16 << 20) | 0).rc).toBe(H.PARAMETER); // starts at the end
    expect(hcall(l0, SPT, ((16 << 20) - 0x1_0000 + 0x1000) | 4).rc).toBe(H.PARAMETER); // runs past it
    expect(hcall(l0, SPT, (1n << 59n) | 4n).rc).toBe(H.PARAMETER);
    expect(hcall(l0, SPT, ((16 << 20) - 0x1_0000) | 4).rc).toBe(H.SUCCESS); // ends exactly at it
  });

  it('H_SUCCESS; 0 unregisters (then H_ENTER_NESTED → H_NOT_AVAILABLE); a new table removes the L2s', () => {
    const r = v1Rig();
    program(r.l0, CODE, [e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(r.host.active(1)).toBe(true);
    expect(hcall(r.l0, SPT, PTCR).rc).toBe(H.SUCCESS); // the same table again: nothing changes
    expect(r.host.active(1)).toBe(true);
    expect(hcall(r.l0, SPT, 0).rc).toBe(H.SUCCESS);
    expect(r.host.active(1)).toBe(false);
    expect(r.host.shadowBytesInUse()).toBe(0);
    expect(enter(r.l0).rc).toBe(H.NOT_AVAILABLE);
    expect(hcall(r.l0, SPT, PTCR).rc).toBe(H.SUCCESS);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(hcall(r.l0, SPT, V1Mem.PTAB + 0x1_0000 + 4).rc).toBe(H.SUCCESS); // another table
    expect(r.host.active(1)).toBe(false);
  });
});

describe('H_ENTER_NESTED return codes, in check order', () => {
  it('no partition table → H_NOT_AVAILABLE (before the structures are looked at)', () => {
    const { l0 } = v1Rig({ noTable: true });
    expect(enter(l0).rc).toBe(H.NOT_AVAILABLE);
    expect(hcall(l0, Hcall.H_ENTER_NESTED, 1n << 60n, 1n << 60n).rc).toBe(H.NOT_AVAILABLE);
  });

  it('hv_guest_state not in L1 memory → H_PARAMETER', () => {
    const { l0 } = v1Rig();
    expect(hcall(l0, Hcall.H_ENTER_NESTED, 16 << 20, regsOf(0)).rc).toBe(H.PARAMETER);
    expect(hcall(l0, Hcall.H_ENTER_NESTED, (16 << 20) - 100, regsOf(0)).rc).toBe(H.PARAMETER); // v2 is 248
  });

  it('version not 1 or 2 → H_PARAMETER (QEMU; Linux answers H_P2), even with bad pt_regs', () => {
    const { l0 } = v1Rig();
    for (const v of [0n, 3n, 1n << 32n, -1n]) {
      setHv(l0, 'VERSION', v);
      expect(hcall(l0, Hcall.H_ENTER_NESTED, hvOf(0), 16 << 20).rc).toBe(H.PARAMETER);
    }
  });

  it('pt_regs not in L1 memory → H_P2', () => {
    const { l0 } = v1Rig();
    expect(hcall(l0, Hcall.H_ENTER_NESTED, hvOf(0), (16 << 20) - 351).rc).toBe(H.P2);
  });

  it('vcpu_token ≥ the limit → H_PARAMETER', () => {
    const { l0 } = v1Rig({ v1: { vcpuTokens: 64 } });
    setHv(l0, 'VCPU_TOKEN', 64n);
    expect(enter(l0).rc).toBe(H.PARAMETER);
    setHv(l0, 'VCPU_TOKEN', 63n);
    program(l0, CODE, [e.sc!(1)]);
    expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
  });

  it('L2 MSR with a transaction state (TS ≠ 0) → H_BAD_MODE', () => {
    const { l0 } = v1Rig();
    setReg(l0, 'MSR', L2_MSR | (1n << 33n)); // TS = suspended
    expect(enter(l0).rc).toBe(H.BAD_MODE);
    setReg(l0, 'MSR', L2_MSR | (2n << 33n));
    expect(enter(l0).rc).toBe(H.BAD_MODE);
  });

  it('lpid 0, above the limit, or beyond the table’s entries → H_PARAMETER', () => {
    const { l0 } = v1Rig({ v1: { maxLpid: 100 }, noTable: true });
    expect(hcall(l0, SPT, V1Mem.PTAB | 0).rc).toBe(H.SUCCESS); // 256 entries: the limit is tighter
    for (const lpid of [0n, 101n, 0xffff_ffffn]) {
      setHv(l0, 'LPID', lpid);
      expect(enter(l0).rc).toBe(H.PARAMETER);
    }
    const r = v1Rig();
    expect(hcall(r.l0, SPT, V1Mem.PTAB | 0).rc).toBe(H.SUCCESS); // 256 entries
    setHv(r.l0, 'LPID', 256n);
    expect(enter(r.l0).rc).toBe(H.PARAMETER);
  });

  it('no vCPU slot left → H_NO_MEM; no shadow memory for a new L2 → H_NO_MEM', () => {
    const { l0 } = v1Rig({ v1: { maxVcpus: 2 } });
    program(l0, CODE, [e.sc!(1)]);
    for (const t of [0, 1]) {
      initStructs(l0, 1, t, 0);
      expect(enterAt(l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    }
    initStructs(l0, 1, 2, 0);
    expect(enterAt(l0, CODE).rc).toBe(H.NO_MEM);
    // 128 KiB of shadow memory: one 64 KiB root after the reserved block.
    const small = v1Rig({ v1: { shadowMemoryBytes: 128 << 10 } });
    writePate(small.l0, 2, small.writer.root);
    program(small.l0, CODE, [e.sc!(1)]);
    expect(enterAt(small.l0, CODE).rc).toBe(Vector.SYSTEM_CALL); // L2 1 takes the root
    initStructs(small.l0, 2, 0, 0);
    expect(enterAt(small.l0, CODE).rc).toBe(H.NO_MEM);
  });

  it('the vCPU runs on another core → H_BUSY, nothing changed; free again → it runs', () => {
    const r = v1Rig();
    program(r.l0, CODE, [e.addi!(3, 0, 9), e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    const slot = Atomics.load(r.host.w, r.host.mapIndex(1, 0)) - 1;
    expect(r.host.acquire(slot, 5)).toBe(true);
    setReg(r.l0, 'NIP', BigInt(CODE));
    setReg(r.l0, 'GPR3', 1n);
    const before = r.l0.ram.u8.slice(hvOf(0), regsOf(0) + 352);
    expect(enter(r.l0).rc).toBe(H.BUSY);
    expect(r.l0.ram.u8.slice(hvOf(0), regsOf(0) + 352)).toEqual(before);
    r.host.release(slot, 5);
    expect(enter(r.l0).rc).toBe(Vector.SYSTEM_CALL);
    expect(getReg(r.l0, 'GPR3')).toBe(9n);
  });

  it('an L2 whose PATE was never written: entries work, every fault goes to L1 as a bad MMU config', () => {
    const r = v1Rig();
    writePate(r.l0, 3, undefined);
    initStructs(r.l0, 3, 0, 0);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.HV_INSTRUCTION_STORAGE);
    expect(getReg(r.l0, 'MSR') & 0x0008_0000n).toBe(0x0008_0000n); // R_BADCONFIG in the HISI cause
  });
});

describe('H_TLB_INVALIDATE return codes', () => {
  it('R = 0, PRS = 1, RIC = 3, IS = 1, IS = 0 with RIC 1 or 2, unknown AP → H_PARAMETER', () => {
    const { l0 } = v1Rig();
    expect(hcall(l0, TLBI, tlbieInsn(2, 0, 0), 1, tlbieRb(2)).rc).toBe(H.PARAMETER);
    expect(hcall(l0, TLBI, tlbieInsn(2, 1), 1, tlbieRb(2)).rc).toBe(H.PARAMETER);
    expect(hcall(l0, TLBI, tlbieInsn(3), 1, tlbieRb(2)).rc).toBe(H.PARAMETER);
    expect(hcall(l0, TLBI, tlbieInsn(0), 1, tlbieRb(1)).rc).toBe(H.PARAMETER);
    expect(hcall(l0, TLBI, tlbieInsn(1), 1, tlbieRb(0)).rc).toBe(H.PARAMETER);
    expect(hcall(l0, TLBI, tlbieInsn(2), 1, tlbieRb(0)).rc).toBe(H.PARAMETER);
    for (const ap of [3, 4, 6, 7])
      expect(hcall(l0, TLBI, tlbieInsn(0), 1, tlbieRb(0, ap)).rc).toBe(H.PARAMETER);
  });

  it('every valid form → H_SUCCESS, also for an LPID with no L2', () => {
    const { l0 } = v1Rig();
    for (const lpid of [1, 77, 0xffff_ffff]) {
      for (const ap of [0, 5, 1, 2])
        expect(hcall(l0, TLBI, tlbieInsn(0), lpid, tlbieRb(0, ap, 0x5000)).rc).toBe(H.SUCCESS);
      for (const ric of [0, 1, 2]) {
        expect(hcall(l0, TLBI, tlbieInsn(ric), lpid, tlbieRb(2)).rc).toBe(H.SUCCESS);
        expect(hcall(l0, TLBI, tlbieInsn(ric), lpid, tlbieRb(3)).rc).toBe(H.SUCCESS);
      }
    }
    // The PID half of RS and RB bits above 52 are ignored.
    expect(hcall(l0, TLBI, tlbieInsn(0), (7n << 32n) | 1n, (1n << 60n) | 0n).rc).toBe(H.SUCCESS);
  });
});

describe('H_COPY_TOFROM_GUEST return codes', () => {
  /** An L2 with a process table (PID 5) mapping EA EA_PAGE to L2RA DATA_L2 through 4 levels. */
  const EA_PAGE = 0x1234_5000;
  const DATA_L2 = 0x3_8000;
  function copyRig() {
    const r = v1Rig({ pages: 64 });
    const dv = r.l0.ram.dv;
    const at = (l2ra: number) => V1Mem.FRAMES + l2ra;
    const PRTB = 0x1_0000;
    const ROOT = 0x2_0000;
    const [L1T, L2T, L3T] = [0x3_0000, 0x3_1000, 0x3_2000];
    const pde = (next: number, nls: number) => 0x8000_0000_0000_0000n | BigInt(next) | BigInt(nls);
    const idx = (shift: number, bits: number) => Math.floor(EA_PAGE / 2 ** shift) % 2 ** bits;
    dv.setBigUint64(at(ROOT + 8 * idx(39, 13)), pde(L1T, 9), false);
    dv.setBigUint64(at(L1T + 8 * idx(30, 9)), pde(L2T, 9), false);
    dv.setBigUint64(at(L2T + 8 * idx(21, 9)), pde(L3T, 9), false);
    // leaf: V | L | RPN | R | C | READ | RW
    dv.setBigUint64(at(L3T + 8 * idx(12, 9)), 0xc000_0000_0000_0000n | BigInt(DATA_L2) | 0x186n, false);
    dv.setBigUint64(
      at(PRTB + 16 * 5),
      pateDw0FromRoot({ base: ROOT as never, addrBits: 52, rootBits: 13 }),
      false,
    );
    writePate(r.l0, 1, r.writer.root, BigInt(PRTB) | 0n); // PRTS 0: 4 KiB, 256 PIDs
    program(r.l0, CODE, [e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL); // creates the L2 in L0
    dv.setUint32(at(DATA_L2 + 0x10), 0xfeed_beef, true);
    return r;
  }
  const BUF = 0x8_0000;

  it('load and store by EA → H_SUCCESS, bytes where the L2’s translation says', () => {
    const { l0 } = copyRig();
    expect(hcall(l0, COPY, 1, 5, EA_PAGE + 0x10, BUF, 0, 4).rc).toBe(H.SUCCESS);
    expect(l0.ram.dv.getUint32(BUF, true)).toBe(0xfeed_beef);
    l0.ram.dv.setUint32(BUF + 0x100, 0x1234_5678, true);
    expect(hcall(l0, COPY, 1, 5, EA_PAGE + 0x20, 0, BUF + 0x100, 4).rc).toBe(H.SUCCESS);
    expect(l0.ram.dv.getUint32(V1Mem.FRAMES + DATA_L2 + 0x20, true)).toBe(0x1234_5678);
  });

  it('both buffers → H_PARAMETER; EA bits 0:11 → H_PARAMETER', () => {
    const { l0 } = copyRig();
    expect(hcall(l0, COPY, 1, 5, EA_PAGE, BUF, BUF, 4).rc).toBe(H.PARAMETER);
    expect(hcall(l0, COPY, 1, 5, (1n << 52n) | BigInt(EA_PAGE), BUF, 0, 4).rc).toBe(H.PARAMETER);
  });

  it('more bytes than L0’s copy buffer → H_NO_MEM', () => {
    const { l0 } = copyRig();
    expect(hcall(l0, COPY, 1, 5, EA_PAGE, BUF, 0, (1 << 20) + 1).rc).toBe(H.NO_MEM);
  });

  it('an LPID L0 has no L2 for → H_PARAMETER', () => {
    const { l0 } = copyRig();
    expect(hcall(l0, COPY, 2, 5, EA_PAGE, BUF, 0, 4).rc).toBe(H.PARAMETER);
  });

  it('a translation that fails or an L1 buffer outside L1 memory → H_NOT_FOUND, nothing copied', () => {
    const { l0 } = copyRig();
    l0.ram.dv.setUint32(BUF, 0x0bad_0bad, true);
    expect(hcall(l0, COPY, 1, 6, EA_PAGE, BUF, 0, 4).rc).toBe(H.NOT_FOUND); // PID 6: empty entry
    expect(hcall(l0, COPY, 1, 300, EA_PAGE, BUF, 0, 4).rc).toBe(H.NOT_FOUND); // beyond the process table
    expect(hcall(l0, COPY, 1, 5, EA_PAGE + 0x1000, BUF, 0, 4).rc).toBe(H.NOT_FOUND); // unmapped EA
    expect(hcall(l0, COPY, 1, 5, EA_PAGE + 0xffe, BUF, 0, 4).rc).toBe(H.NOT_FOUND); // runs onto it
    expect(l0.ram.dv.getUint32(BUF, true)).toBe(0x0bad_0bad);
    expect(hcall(l0, COPY, 1, 5, EA_PAGE, (16 << 20) - 2, 0, 4).rc).toBe(H.NOT_FOUND);
  });

  it('a store through a read-only leaf → H_NOT_FOUND', () => {
    const r = copyRig();
    const leafAt = V1Mem.FRAMES + 0x3_2000 + 8 * (Math.floor(EA_PAGE / 4096) % 512);
    r.l0.ram.dv.setBigUint64(leafAt, 0xc000_0000_0000_0000n | BigInt(DATA_L2) | 0x184n, false); // READ only
    expect(hcall(r.l0, COPY, 1, 5, EA_PAGE, BUF, 0, 4).rc).toBe(H.SUCCESS);
    expect(hcall(r.l0, COPY, 1, 5, EA_PAGE, 0, BUF, 4).rc).toBe(H.NOT_FOUND);
  });
});

describe('implicit creation', () => {
  it('the first entry for an LPID creates the L2, the first for a token its vCPU', () => {
    const r = v1Rig();
    const w = r.host.w;
    expect(Atomics.load(w, r.host.guestWord(1, VG.STATE))).toBe(V1GuestState.FREE);
    program(r.l0, CODE, [e.sc!(1)]);
    for (const t of [0, 5, 63]) {
      initStructs(r.l0, 1, t, 0);
      expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    }
    expect(Atomics.load(w, r.host.guestWord(1, VG.STATE))).toBe(V1GuestState.ACTIVE);
    expect(Atomics.load(w, r.host.guestWord(1, VG.VCPUS))).toBe(3);
    expect(Atomics.load(w, r.host.mapIndex(1, 5))).toBeGreaterThan(0);
    expect(Atomics.load(w, r.host.mapIndex(1, 6))).toBe(0);
  });
});

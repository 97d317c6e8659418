/**
 * L0's shadow partition-scoped tables (spec §14.7): they really cache (a remap L1 does not announce
 * is not seen), and after H_TLB_INVALIDATE (every form of §14.4) or H_RPT_INVALIDATE NESTED returns
 * an L2 access never reaches the old frame; leaf sizes, R/C, removal and memory accounting.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../cores/encode.js';
import type { L0 } from '../hypervisor/l0/l0.js';
import { VG } from '../hypervisor/l0/v1/host.js';
import {
  Install,
  installLeaf,
  ShadowHit,
  shadowWalk,
  treeCensus,
  Walk,
} from '../hypervisor/l0/v1/shadow-table.js';
import { H, Hcall, RptTarget, RptType, StorageFault, Vector } from '../hypervisor/papr.js';
import { Perm, Pte, RcMode } from '../mem/radix.js';
import { bumpAllocator, RadixWriter } from '../mem/radix-writer.js';
import { Access, asL1RA, asL2RA } from '../mem/types.js';
import { hcall } from './support/hcall.js';
import {
  enterAt,
  flushLpid,
  getHv,
  getReg,
  initStructs,
  program,
  tlbieInsn,
  tlbieRb,
  V1Mem,
  type V1Rig,
  v1Rig,
  writePate,
} from './support/v1-rig.js';

const e = encode;
const CODE = 0x1000;
const DATA = 0x8000;
/** Frames L1 may point DATA at: its own, and another one. */
const OLD = V1Mem.FRAMES + DATA;
const NEW = 0x60_0000;
const RWX = Perm.Read | Perm.Write | Perm.Exec;

/** Loads the word at DATA into r3 and returns it through an hcall exit. */
function loadData(r: V1Rig): number {
  program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.lwz!(3, 0, 5), e.sc!(1)]);
  expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
  return Number(getReg(r.l0, 'GPR3'));
}

/** L1 points DATA at NEW in its tree without telling L0. */
function remapQuietly(r: V1Rig): void {
  r.writer.unmap(asL2RA(DATA), 12);
  r.writer.map(asL2RA(DATA), asL1RA(NEW), 12, RWX);
}

function twoFrames(r: V1Rig): void {
  r.l0.ram.dv.setUint32(OLD, 0x1111, true);
  r.l0.ram.dv.setUint32(NEW, 0x2222, true);
}

const counters = (r: V1Rig) => ({ ...r.l0.stats.shadowFaults });
const census = (r: V1Rig) => treeCensus(r.host, Atomics.load(r.host.w, r.host.guestWord(r.lpid, VG.ROOT)));

describe('after an invalidation returns, the L2 never reaches the old frame', () => {
  const forms: [string, (l0: L0) => number][] = [
    [
      'tlbie IS=0 (the page)',
      (l0) => hcall(l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 1, tlbieRb(0, 0, DATA)).rc,
    ],
    [
      'tlbie IS=0, 2 MiB around it',
      (l0) => hcall(l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 1, tlbieRb(0, 1, DATA)).rc,
    ],
    ['tlbie IS=2 RIC=0 (the LPID)', (l0) => flushLpid(l0, 1, 0)],
    ['tlbie IS=2 RIC=2 (LPID and PATE)', (l0) => flushLpid(l0, 1, 2)],
    [
      'tlbie IS=3 RIC=0 (every LPID)',
      (l0) => hcall(l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 0, tlbieRb(3)).rc,
    ],
    [
      'H_RPT_INVALIDATE NESTED TLB, one page',
      (l0) =>
        hcall(
          l0,
          Hcall.H_RPT_INVALIDATE,
          1,
          RptTarget.CMMU,
          RptType.NESTED | RptType.TLB,
          1,
          DATA,
          DATA + 4096,
        ).rc,
    ],
    [
      'H_RPT_INVALIDATE NESTED TLB, whole LPID',
      (l0) =>
        hcall(l0, Hcall.H_RPT_INVALIDATE, 1, RptTarget.CMMU, RptType.NESTED | RptType.TLB, -1, 0, -1).rc,
    ],
    [
      'H_RPT_INVALIDATE NESTED_ALL',
      (l0) => hcall(l0, Hcall.H_RPT_INVALIDATE, 1, RptTarget.CMMU, RptType.NESTED | 0xe, -1, 0, -1).rc,
    ],
  ];
  for (const [name, invalidate] of forms) {
    it(name, () => {
      const r = v1Rig();
      twoFrames(r);
      expect(loadData(r)).toBe(0x1111);
      remapQuietly(r);
      expect(loadData(r)).toBe(0x1111); // the shadow tree (and the TLB) still has the old frame
      expect(invalidate(r.l0)).toBe(H.SUCCESS);
      expect(loadData(r)).toBe(0x2222);
    });
  }

  it('a store after the invalidation writes the new frame and leaves the old one alone', () => {
    const r = v1Rig();
    twoFrames(r);
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.li!(6, 0x55), e.stw!(6, 0, 5), e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(r.l0.ram.dv.getUint32(OLD, true)).toBe(0x55);
    r.l0.ram.dv.setUint32(OLD, 0x1111, true);
    remapQuietly(r);
    expect(hcall(r.l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 1, tlbieRb(0, 0, DATA)).rc).toBe(H.SUCCESS);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(r.l0.ram.dv.getUint32(NEW, true)).toBe(0x55);
    expect(r.l0.ram.dv.getUint32(OLD, true)).toBe(0x1111);
  });

  it('tlbie IS=2 RIC=1 (page-walk cache) drops nothing: L0 caches no walks, the old frame stays', () => {
    const r = v1Rig();
    twoFrames(r);
    expect(loadData(r)).toBe(0x1111);
    remapQuietly(r);
    expect(flushLpid(r.l0, 1, 1)).toBe(H.SUCCESS);
    expect(loadData(r)).toBe(0x1111);
  });

  it('an invalidation of another LPID leaves this one’s shadow entries', () => {
    const r = v1Rig();
    twoFrames(r);
    expect(loadData(r)).toBe(0x1111);
    remapQuietly(r);
    expect(flushLpid(r.l0, 2, 0)).toBe(H.SUCCESS);
    expect(loadData(r)).toBe(0x1111);
  });

  it('unmapped in L1 and invalidated → the access goes to L1 as a fault', () => {
    const r = v1Rig();
    twoFrames(r);
    expect(loadData(r)).toBe(0x1111);
    r.writer.unmap(asL2RA(DATA), 12);
    expect(hcall(r.l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 1, tlbieRb(0, 0, DATA)).rc).toBe(H.SUCCESS);
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.lwz!(3, 0, 5), e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.HV_DATA_STORAGE);
    expect(getHv(r.l0, 'ASDR')).toBe(BigInt(DATA));
  });

  it('made read-only in L1 and invalidated → a store goes to L1 as a protection fault', () => {
    const r = v1Rig();
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.stw!(6, 0, 5), e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    r.writer.protect(asL2RA(DATA), 12, Perm.Read);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL); // not announced: still writable
    expect(hcall(r.l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 1, tlbieRb(0, 0, DATA)).rc).toBe(H.SUCCESS);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.HV_DATA_STORAGE);
    expect(getHv(r.l0, 'HDSISR')).toBe(BigInt(StorageFault.PROTFAULT | StorageFault.ISSTORE));
  });
});

describe('PATE changes and removal', () => {
  it('a new tree in the PATE, flushed with RIC=2, is what the L2 sees next', () => {
    const r = v1Rig();
    twoFrames(r);
    expect(loadData(r)).toBe(0x1111);
    // A second tree in L1 memory, mapping CODE as before and DATA to NEW.
    const w2 = RadixWriter.create(r.l0.ram, bumpAllocator(0x30_0000, 0x38_0000))!;
    w2.map(asL2RA(CODE), asL1RA(V1Mem.FRAMES + CODE), 12, RWX);
    w2.map(asL2RA(DATA), asL1RA(NEW), 12, RWX);
    writePate(r.l0, 1, w2.root);
    expect(loadData(r)).toBe(0x1111); // L0 has the PATE cached until the flush
    expect(flushLpid(r.l0, 1, 2)).toBe(H.SUCCESS);
    expect(loadData(r)).toBe(0x2222);
  });

  it('PATE cleared and flushed with RIC=2 → the L2 is removed: vCPUs and shadow memory freed', () => {
    const r = v1Rig();
    expect(loadData(r)).toBe(0);
    initStructs(r.l0, 1, 3, 0);
    expect(loadData(r)).toBe(0);
    expect(r.host.shadowBytesInUse()).toBeGreaterThan(0x1_0000);
    expect(Atomics.load(r.host.w, 3)).toBe(2); // V1Hdr.ACTIVE_VCPUS
    writePate(r.l0, 1, undefined);
    expect(flushLpid(r.l0, 1, 2)).toBe(H.SUCCESS);
    expect(r.host.active(1)).toBe(false);
    expect(r.host.shadowBytesInUse()).toBe(0);
    expect(Atomics.load(r.host.w, 3)).toBe(0);
    expect(Atomics.load(r.host.w, r.host.mapIndex(1, 3))).toBe(0);
    // L1 writes it again: the next entry creates a fresh L2.
    writePate(r.l0, 1, r.writer.root);
    expect(loadData(r)).toBe(0);
    expect(r.host.active(1)).toBe(true);
  });

  it('replaced trees are freed: repeated whole-LPID flushes keep shadow memory flat', () => {
    const r = v1Rig();
    loadData(r);
    const used = r.host.shadowBytesInUse();
    for (let k = 0; k < 50; k++) {
      expect(flushLpid(r.l0, 1, 0)).toBe(H.SUCCESS);
      loadData(r);
    }
    expect(r.host.shadowBytesInUse()).toBe(used);
  });
});

describe('shadow leaves', () => {
  /** Maps a 2M/1G L2 page with one L1 leaf of 2^l1Shift and loads from three 4 KiB pages of it. */
  function bigPage(l1Shift: number, l0PageShift: number): { leaves: number; fixed: number; value: number } {
    const r = v1Rig({ v1: { l0PageShift } });
    const size = 2 ** l1Shift;
    const l2 = size; // 2 MiB or 1 GiB: the first big page above the 4 KiB ones
    const l1 = l1Shift === 30 ? 0 : 0x80_0000; // 1 GiB at L1RA 0 (only the first 16 MiB exist)
    expect(r.writer.map(asL2RA(l2), asL1RA(l1), l1Shift, Perm.Read | Perm.Write)).toBe(0);
    r.l0.ram.dv.setUint32(l1 + 0x5000, 0x77, true);
    r.l0.ram.dv.setUint32(l1 + 0x9000, 0x88, true);
    program(r.l0, CODE, [
      e.lis!(5, l2 / 65536),
      e.lwz!(3, 0x5000, 5),
      e.lwz!(4, 0x7ffc, 5),
      e.addi!(5, 5, 0x4000),
      e.lwz!(6, 0x5000, 5),
      e.add!(3, 3, 6),
      e.sc!(1),
    ]);
    const before = census(r).leaves;
    const f0 = counters(r).fixed;
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    return {
      leaves: census(r).leaves - before - 1, // minus CODE's own leaf
      fixed: counters(r).fixed - f0 - 1, // minus CODE's fetch
      value: Number(getReg(r.l0, 'GPR3')),
    };
  }

  it('L1 2 MiB page, L0 maps L1 in 2 MiB pages → one 2 MiB shadow leaf serves all three 4 KiB pages', () => {
    expect(bigPage(21, 21)).toEqual({ leaves: 1, fixed: 1, value: 0x77 + 0x88 });
  });

  it('L1 1 GiB page, L0 in 2 MiB pages → a 2 MiB shadow leaf (min of the two)', () => {
    expect(bigPage(30, 21)).toEqual({ leaves: 1, fixed: 1, value: 0x77 + 0x88 });
  });

  it('L1 2 MiB page, L0 in 1 GiB pages → 4 KiB shadow leaves (Linux: base page below PMD size)', () => {
    expect(bigPage(21, 30)).toEqual({ leaves: 3, fixed: 3, value: 0x77 + 0x88 });
  });

  it('L1 1 GiB page, L0 in 1 GiB pages → one 1 GiB shadow leaf', () => {
    expect(bigPage(30, 30)).toEqual({ leaves: 1, fixed: 1, value: 0x77 + 0x88 });
  });

  it('L0 in 4 KiB pages → 4 KiB shadow leaves whatever L1 maps', () => {
    expect(bigPage(21, 12)).toEqual({ leaves: 3, fixed: 3, value: 0x77 + 0x88 });
  });
});

// A fill on a core (L1's tree walked, the leaf written) and a control operation (EPOCH bumped, leaves
// cleared, under the guest's lock) on another: the fill must never publish a leaf the operation
// has already passed. These drive installLeaf against each side of the operation directly.
describe('a shadow fill racing a control operation', () => {
  const PAGE = 0x9000;
  const FRAME = V1Mem.FRAMES + PAGE;
  const FLAGS = Pte.READ | Pte.RW | Pte.R | Pte.C;
  function rig() {
    const r = v1Rig();
    loadData(r); // the L2 exists and has a shadow tree
    const root = Atomics.load(r.host.w, r.host.guestWord(r.lpid, VG.ROOT));
    const epochAt = r.host.guestWord(r.lpid, VG.EPOCH);
    const install = (epoch0: number) => installLeaf(r.host, r.lpid, root, PAGE, FRAME, 12, FLAGS, epoch0);
    const cached = () =>
      shadowWalk(r.host.shadow.i32, root, PAGE, Access.Read, r.l0.ram.size, new ShadowHit());
    return { r, epochAt, install, cached };
  }

  it('with no operation running, the leaf goes in', () => {
    const { r, epochAt, install, cached } = rig();
    expect(install(Atomics.load(r.host.w, epochAt))).toBe(Install.OK);
    expect(cached()).toBe(Walk.HIT);
  });

  it('an operation that began after the fill started (EPOCH moved): walk again, nothing written', () => {
    const { r, epochAt, install, cached } = rig();
    const epoch0 = Atomics.load(r.host.w, epochAt);
    Atomics.add(r.host.w, epochAt, 1);
    expect(install(epoch0)).toBe(Install.RETRY);
    expect(cached()).toBe(Walk.MISS);
  });

  it('an operation holding the lock (it may be clearing this very entry): uncached, nothing written, no wait', () => {
    const { r, epochAt, install, cached } = rig();
    const epoch0 = Atomics.load(r.host.w, epochAt);
    r.host.lock(r.lpid); // bumped nothing yet: the fill's EPOCH check alone would pass
    try {
      expect(install(epoch0)).toBe(Install.UNCACHED);
    } finally {
      r.host.unlock(r.lpid);
    }
    expect(cached()).toBe(Walk.MISS);
    expect(install(epoch0)).toBe(Install.OK); // the lock is free again
  });
});

describe('reference and change bits', () => {
  it('R/C in L1’s PTE as under v2; C reaches the shadow leaf only with a store, which comes back to L0', () => {
    const r = v1Rig();
    const leaf = () => {
      // L1's leaf for DATA: root → level 1 → level 2 → level 3, all at index 0 except level 3.
      const dv = r.l0.ram.dv;
      let t = r.writer.root.base as number;
      for (let level = 0; level < 3; level++) t = Number(dv.getBigUint64(t, false) & 0x0fff_ffff_ffff_ff00n);
      return dv.getBigUint64(t + 8 * (DATA >> 12), false);
    };
    expect(leaf() & 0x180n).toBe(0n);
    loadData(r);
    expect(leaf() & 0x180n).toBe(0x100n); // R, no C
    const f0 = counters(r).fixed;
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.stw!(3, 0, 5), e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
    expect(leaf() & 0x180n).toBe(0x180n);
    expect(counters(r).fixed - f0).toBe(1); // the store found no C in the shadow leaf
  });

  it('POWER9 R/C faults: an L1 PTE without R goes to L1 with ATOMIC_RC; once L1 sets it, L0 fills', () => {
    const r = v1Rig({ l0: { walk: { guestVisible: true, rcMode: RcMode.Fault } } });
    // CODE must be referenced for the program to run at all.
    r.writer.map(asL2RA(CODE), asL1RA(V1Mem.FRAMES + CODE), 12, RWX, { referenced: true });
    program(r.l0, CODE, [e.li!(5, 0), e.ori!(5, 5, DATA), e.lwz!(3, 0, 5), e.sc!(1)]);
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.HV_DATA_STORAGE);
    expect(getHv(r.l0, 'HDSISR')).toBe(BigInt(StorageFault.ATOMIC_RC));
    r.writer.map(asL2RA(DATA), asL1RA(OLD), 12, RWX, { referenced: true });
    expect(enterAt(r.l0, CODE).rc).toBe(Vector.SYSTEM_CALL);
  });
});

describe('shadow memory', () => {
  it('full: translations are answered without shadow entries, and the program is still right', () => {
    // 128 KiB: the reserved block and one root; no room for a single directory.
    const r = v1Rig({ v1: { shadowMemoryBytes: 128 << 10 } });
    twoFrames(r);
    expect(loadData(r)).toBe(0x1111);
    const c = counters(r);
    expect(c.noMemory).toBeGreaterThan(0);
    expect(c.forwarded).toBe(0);
    // Uncached answers still follow invalidations.
    remapQuietly(r);
    expect(hcall(r.l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(0), 1, tlbieRb(0, 0, DATA)).rc).toBe(H.SUCCESS);
    expect(loadData(r)).toBe(0x2222);
  });

  it('two L2s with the same L2 addresses get their own shadow trees and TLB tags', () => {
    const r = v1Rig();
    twoFrames(r);
    const w2 = RadixWriter.create(r.l0.ram, bumpAllocator(0x30_0000, 0x38_0000))!;
    w2.map(asL2RA(CODE), asL1RA(V1Mem.FRAMES + CODE), 12, RWX);
    w2.map(asL2RA(DATA), asL1RA(NEW), 12, RWX);
    writePate(r.l0, 2, w2.root);
    expect(loadData(r)).toBe(0x1111);
    initStructs(r.l0, 2, 0, 0);
    expect(loadData(r)).toBe(0x2222);
    initStructs(r.l0, 1, 0, 0);
    expect(loadData(r)).toBe(0x1111);
  });
});

/**
 * The L2 program of the vpa stressor (src/stress/stressors/vpa.ts), assembled with cores/encode.ts.
 *
 * Each vCPU (r3 = its index) owns one 4 KiB page of the data segment: two VPAs (lppacas of 1 KiB,
 * at +0x000 and +0x400), its counters at +0x800, and the bad VPAs of the conformance part: one
 * whose size field says 600 (+0x880) and one that crosses into the next page (+0xF80). The size
 * fields are written by the stressor. The program
 * 1. asks L1 for registrations PAPR refuses (kvm-unit-tests' spapr_vpa cases) and counts every one
 *    not answered H_PARAMETER; deregistering with none registered must be H_SUCCESS;
 * 2. for `rounds` rounds: registers one VPA (the two in turn), reads its dispatch count around
 *    H_CEDEs (even while it runs; changed by every cede), deregisters it, and checks that nothing
 *    writes the old VPA's count any more across further exits.
 * VPA fields are big-endian (lwbrx from this little-endian program).
 */
import type { ElfImage } from '../../cores/elf.js';
import { encode as e } from '../../cores/encode.js';
import { LPPACA_SIZE, LPPACA_YIELD_COUNT } from '../../hypervisor/lppaca.js';
import { H, Hcall } from '../../hypervisor/papr.js';
import { dataSegment, exitWith, imageOf } from '../programs.js';
import { Code, increment } from './code.js';

/** Where the per-vCPU pages start (L2 real address). */
export const VPA_DATA = 0x20_0000;
export const PAGE = 4096;
/** Offsets in a vCPU's page. */
export const VpaPage = {
  VPA_A: 0x000,
  VPA_B: 0x400,
  COUNTERS: 0x800,
  SMALL: 0x880,
  CROSSING: 0xf80,
} as const;
/** u32 counters (little-endian) from VpaPage.COUNTERS. */
export const VpaCount = {
  CONFORMANCE: 0x00,
  REGISTER_FAILED: 0x04,
  ODD_WHILE_RUNNING: 0x08,
  UNCHANGED_BY_CEDE: 0x0c,
  WRITTEN_AFTER: 0x10,
  ROUNDS: 0x14,
  DONE: 0x18,
  LAST_BAD_RC: 0x1c,
} as const;
/** An L2 address outside any guest of the stressor. */
const OUTSIDE = 0x7000_0000;
/** Reads of the count around cedes per round. */
const CEDES = 3;

const PG = 20; // the vCPU's page
const ME = 21; // its vCPU id
const CNT = 19; // its counters

const bump = (off: number) => increment(8, off, CNT);

/** r4 ← (fn << 45): the H_REGISTER_VPA flags of subfunction `fn`. */
const flags = (fn: number) => [e.li!(4, fn), e.sldi!(4, 4, 45)];

function vpaCode(rounds: number): number[] {
  const c = new Code();
  c.emit(
    e.lis!(PG, VPA_DATA >>> 16),
    e.sldi!(8, 3, 12),
    e.add!(PG, PG, 8),
    e.mr!(ME, 3),
    e.addi!(CNT, PG, VpaPage.COUNTERS),
  );
  // One H_REGISTER_VPA (r4, r5, r6 set) expecting `rc`, else counter `off` (and the code kept).
  const call = (rc: number, off: number) => {
    const ok = c.fresh('ok');
    c.emit(e.li!(3, Hcall.H_REGISTER_VPA), e.sc!(1), e.cmpdi!(0, 3, rc)).branch(ok, (o) => e.beq!(0, o));
    c.emit(e.stw!(3, VpaCount.LAST_BAD_RC, CNT), ...bump(off)).label(ok);
  };
  const refused = (fn: number, proc: number[], addr: number[]) => {
    c.emit(...flags(fn), ...proc, ...addr);
    call(H.PARAMETER, VpaCount.CONFORMANCE);
  };
  const self = [e.mr!(5, ME)];
  refused(4, self, [e.addi!(6, PG, VpaPage.VPA_A)]); // a reserved subfunction
  refused(1, [e.addi!(5, ME, 100)], [e.addi!(6, PG, VpaPage.VPA_A)]); // no such processor
  refused(1, self, [e.addi!(6, PG, VpaPage.VPA_A + 8)]); // not on a cache line
  refused(1, self, [e.addi!(6, PG, VpaPage.SMALL)]); // size 600 < 640
  refused(1, self, [e.addi!(6, PG, VpaPage.CROSSING)]); // crosses a 4 KiB page
  refused(1, self, [e.lis!(6, OUTSIDE >>> 16)]); // outside the guest
  c.emit(...flags(5), ...self, e.li!(6, 0));
  call(H.SUCCESS, VpaCount.CONFORMANCE); // deregister with none registered

  c.emit(e.lis!(8, rounds >>> 16), e.ori!(8, 8, rounds & 0xffff), e.mtctr!(8), e.li!(23, VpaPage.VPA_B));
  c.label('round').emit(
    e.xori!(23, 23, VpaPage.VPA_B),
    e.add!(22, PG, 23),
    e.addi!(24, 22, LPPACA_YIELD_COUNT),
  );
  c.emit(...flags(1), ...self, e.mr!(6, 22));
  call(H.SUCCESS, VpaCount.REGISTER_FAILED);
  for (let k = 0; k < CEDES; k++) {
    const even = c.fresh('even');
    const moved = c.fresh('moved');
    c.emit(e.lwbrx!(9, 0, 24), e.andi_!(10, 9, 1)).branch(even, (o) => e.beq!(0, o));
    c.emit(...bump(VpaCount.ODD_WHILE_RUNNING)).label(even);
    c.emit(e.li!(3, Hcall.H_CEDE), e.sc!(1), e.lwbrx!(10, 0, 24), e.cmplw!(0, 10, 9));
    c.branch(moved, (o) => e.bne!(0, o));
    c.emit(...bump(VpaCount.UNCHANGED_BY_CEDE)).label(moved);
  }
  c.emit(...flags(5), ...self, e.li!(6, 0));
  call(H.SUCCESS, VpaCount.REGISTER_FAILED);
  c.emit(e.lwbrx!(11, 0, 24), e.li!(3, Hcall.H_CEDE), e.sc!(1), e.li!(3, Hcall.H_CEDE), e.sc!(1));
  c.emit(e.lwbrx!(12, 0, 24), e.cmplw!(0, 12, 11)).branch('same', (o) => e.beq!(0, o));
  c.emit(...bump(VpaCount.WRITTEN_AFTER)).label('same');
  c.emit(...bump(VpaCount.ROUNDS)).branch('round', (o) => e.bdnz!(o));
  c.emit(e.li!(8, 1), e.stw!(8, VpaCount.DONE, CNT), ...exitWith(0));
  return c.link();
}

/** The image for a guest of `vcpus` vCPUs doing `rounds` rounds each (size fields in place). */
export function vpaImage(rounds: number, vcpus: number): ElfImage {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds >= 2 ** 31) throw new RangeError(`rounds ${rounds}`);
  const data = new Uint8Array(vcpus * PAGE);
  const dv = new DataView(data.buffer);
  for (let v = 0; v < vcpus; v++) {
    const page = v * PAGE;
    dv.setUint16(page + VpaPage.VPA_A + LPPACA_SIZE, 0x400, false);
    dv.setUint16(page + VpaPage.VPA_B + LPPACA_SIZE, 0x400, false);
    dv.setUint16(page + VpaPage.SMALL + LPPACA_SIZE, 600, false);
    dv.setUint16(page + VpaPage.CROSSING + LPPACA_SIZE, 0x400, false);
  }
  return imageOf(vpaCode(rounds), [dataSegment(VPA_DATA, data.length, data)]);
}

/** One vCPU's counters, as the program left them. */
export interface VpaCounters {
  conformance: number;
  registerFailed: number;
  oddWhileRunning: number;
  unchangedByCede: number;
  writtenAfter: number;
  rounds: number;
  done: boolean;
  lastBadRc: number;
}

/** Reads vCPU `v`'s counters through `read` (L2 memory; undefined when it cannot be read). */
export function readVpaCounters(
  read: (l2ra: number, bytes: number) => Uint8Array | undefined,
  v: number,
): VpaCounters | undefined {
  const b = read(VPA_DATA + v * PAGE + VpaPage.COUNTERS, 32);
  if (!b) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = (off: number) => dv.getUint32(off, true);
  return {
    conformance: u(VpaCount.CONFORMANCE),
    registerFailed: u(VpaCount.REGISTER_FAILED),
    oddWhileRunning: u(VpaCount.ODD_WHILE_RUNNING),
    unchangedByCede: u(VpaCount.UNCHANGED_BY_CEDE),
    writtenAfter: u(VpaCount.WRITTEN_AFTER),
    rounds: u(VpaCount.ROUNDS),
    done: u(VpaCount.DONE) === 1,
    lastBadRc: dv.getInt32(VpaCount.LAST_BAD_RC, true),
  };
}

/**
 * The racy parts of the v1 API on real threads (compiled workers, test/workers/v1-race-worker.ts):
 * two cores creating the same L2 and vCPU at once; two vCPUs of one L2 filling its shadow tree at
 * once while one of them keeps dropping it; and L1 remapping a page under a running L2, where
 * after each H_TLB_INVALIDATE returns the L2 must never read the old frame (invalidation acks of
 * mem/invalidation.ts). Needs `npx tsc -p tsconfig.json` first (npm test builds).
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../cores/encode.js';
import { invalidateCode } from '../cores/isa/predecode.js';
import { defaultL0Config, L0 } from '../hypervisor/l0/l0.js';
import { defaultV1Config } from '../hypervisor/l0/v1/config.js';
import { V1GuestState, V1Hdr, V1Host, VG } from '../hypervisor/l0/v1/host.js';
import { installV1 } from '../hypervisor/l0/v1/registry.js';
import { ShadowHit, shadowWalk, treeCensus, Walk } from '../hypervisor/l0/v1/shadow-table.js';
import { Hv, Regs, set64 } from '../hypervisor/l0/v1/structs.js';
import { H, Hcall, Vector } from '../hypervisor/papr.js';
import { InvalidationAcks } from '../mem/invalidation.js';
import { Perm } from '../mem/radix.js';
import { pateDw0FromRoot } from '../mem/radix-root.js';
import { bumpAllocator, RadixWriter } from '../mem/radix-writer.js';
import { Access, asL1RA, asL2RA } from '../mem/types.js';
import { hcall } from './support/hcall.js';
import { allReady, runWorker, startLine } from './workers/mem-spawn.js';
import type { V1Job, V1Report } from './workers/v1-race-worker.js';

const e = encode;
const PTAB = 0x1_0000;
const TABLES = 0x10_0000;
const CODE_FRAME = 0x40_0000;
const CODE = 0x1000;
const hvOf = (core: number) => 0x2_0000 + core * 0x1000;
const regsOf = (core: number) => hvOf(core) + 0x400;

/** An L0 whose state two worker cores attach to, with one L1 tree mapping CODE. */
function world(v1 = {}) {
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: 32 << 20 }));
  const acks = InvalidationAcks.create(2);
  l0.acks = acks;
  const host = installV1(l0, V1Host.create(defaultV1Config({ vcpuTokens: 8, maxVcpus: 1024, ...v1 })));
  const writer = RadixWriter.create(l0.ram, bumpAllocator(TABLES, 0x40_0000))!;
  writer.map(asL2RA(CODE), asL1RA(CODE_FRAME), 12, Perm.Read | Perm.Exec);
  expect(hcall(l0, Hcall.H_SET_PARTITION_TABLE, PTAB | 4).rc).toBe(H.SUCCESS);
  const shared = { ...l0.shared(), acks: acks.sab };
  return { l0, host, writer, shared };
}
type World = ReturnType<typeof world>;

function code(w: World, words: readonly number[]): void {
  for (const [k, x] of words.entries()) w.l0.ram.dv.setUint32(CODE_FRAME + 4 * k, x, true);
  invalidateCode(w.l0.codeGen);
}

function pate(w: World, lpid: number): void {
  w.l0.ram.dv.setBigUint64(PTAB + 16 * lpid, pateDw0FromRoot(w.writer.root), false);
}

/** Fresh structures for core `core`'s vCPU (version 2, lpid, token, MSR, LPCR, all HFSCR, no HDEC). */
function structs(
  w: World,
  core: number,
  lpid: number,
  token: number,
  gprs: Record<number, number> = {},
): void {
  const dv = w.l0.ram.dv;
  const hv = hvOf(core);
  const regs = regsOf(core);
  w.l0.ram.u8.fill(0, hv, regs + 352);
  set64(dv, hv + Hv.VERSION, 2n);
  dv.setUint32(hv + Hv.LPID, lpid, true);
  dv.setUint32(hv + Hv.VCPU_TOKEN, token, true);
  set64(dv, hv + Hv.LPCR, 0x0200_0000n);
  set64(dv, hv + Hv.HFSCR, 0xffffn);
  set64(dv, hv + Hv.HDEC_EXPIRY, -1n);
  set64(dv, regs + Regs.MSR, 0x8000_0000_0000_1001n);
  set64(dv, regs + Regs.NIP, BigInt(CODE));
  for (const [n, v] of Object.entries(gprs)) set64(dv, regs + 8 * Number(n), BigInt(v));
}

/** Starts one worker per job at the same moment; resolves with their reports. */
async function race(w: World, jobs: Omit<V1Job, 'l0' | 'v1' | 'start'>[]): Promise<V1Report[]> {
  const line = startLine();
  const runs = jobs.map((j) =>
    runWorker<V1Report>(
      'v1-race-worker.js',
      { ...j, l0: w.shared, v1: w.host.shared, start: line.sab } satisfies V1Job,
      120_000,
    ),
  );
  await allReady(line.sab, jobs.length);
  line.open();
  const reps = await Promise.all(runs);
  for (const r of reps) expect(r.errors).toEqual([]);
  return reps;
}

/** Bytes the census of guest `lpid`'s current tree accounts for. */
function treeBytes(w: World, lpid: number): number {
  const c = treeCensus(w.host, Atomics.load(w.host.w, w.host.guestWord(lpid, VG.ROOT)));
  return 0x1_0000 + (c.tables - 1) * 4096;
}

describe('implicit creation raced by two cores', () => {
  const ROUNDS = 300;
  for (const sameToken of [true, false]) {
    it(`${sameToken ? 'the same' : 'different'} vCPU token: one L2 and ${sameToken ? 'one vCPU' : 'two vCPUs'} per LPID, nothing lost or doubled`, async () => {
      const w = world();
      code(w, [e.sc!(1)]);
      for (let lpid = 1; lpid <= ROUNDS; lpid++) pate(w, lpid);
      structs(w, 0, 1, 0);
      structs(w, 1, 1, sameToken ? 0 : 1);
      const sync = new SharedArrayBuffer(8);
      const [a, b] = await race(
        w,
        [0, 1].map((core) => ({
          role: 'create' as const,
          core,
          sync,
          hv: hvOf(core),
          regs: regsOf(core),
          rounds: ROUNDS,
          token: sameToken ? 0 : core,
        })),
      );
      let busy = 0;
      for (let k = 0; k < ROUNDS; k++) {
        const rcs = [a!.rcs[k], b!.rcs[k]];
        for (const rc of rcs) expect([Vector.SYSTEM_CALL, H.BUSY]).toContain(rc);
        expect(rcs).toContain(Vector.SYSTEM_CALL);
        if (!sameToken) expect(rcs).toEqual([Vector.SYSTEM_CALL, Vector.SYSTEM_CALL]);
        if (rcs.includes(H.BUSY)) busy++;
      }
      const hw = w.host.w;
      expect(Atomics.load(hw, V1Hdr.ACTIVE_GUESTS)).toBe(ROUNDS);
      expect(Atomics.load(hw, V1Hdr.ACTIVE_VCPUS)).toBe(sameToken ? ROUNDS : 2 * ROUNDS);
      const roots = new Set<number>();
      const slots = new Set<number>();
      let bytes = 0;
      for (let lpid = 1; lpid <= ROUNDS; lpid++) {
        expect(Atomics.load(hw, w.host.guestWord(lpid, VG.STATE))).toBe(V1GuestState.ACTIVE);
        expect(Atomics.load(hw, w.host.guestWord(lpid, VG.VCPUS))).toBe(sameToken ? 1 : 2);
        roots.add(Atomics.load(hw, w.host.guestWord(lpid, VG.ROOT)));
        for (const t of sameToken ? [0] : [0, 1]) slots.add(Atomics.load(hw, w.host.mapIndex(lpid, t)));
        bytes += treeBytes(w, lpid);
      }
      expect(roots.size).toBe(ROUNDS);
      expect(slots.size).toBe(sameToken ? ROUNDS : 2 * ROUNDS);
      // Every shadow frame in use belongs to exactly one tree: no table was lost or handed out twice.
      expect(w.host.shadowBytesInUse()).toBe(bytes);
      console.log(
        `creation race (${sameToken ? 'same' : 'different'} token): ${busy} of ${ROUNDS} rounds saw H_BUSY`,
      );
    }, 120_000);
  }
});

describe('two vCPUs of one L2 filling its shadow tree at once', () => {
  it('every run sums every page right, the tree matches L1’s, and nothing leaks', async () => {
    const PAGES = 512;
    const DATA = 0x10_0000;
    const FRAMES = 0x80_0000;
    const w = world({ shadowMemoryBytes: 64 << 20 });
    for (let k = 0; k < PAGES; k++) {
      w.writer.map(asL2RA(DATA + k * 4096), asL1RA(FRAMES + k * 4096), 12, Perm.Read | Perm.Write);
      w.l0.ram.dv.setBigUint64(FRAMES + k * 4096, BigInt(k + 1), true);
    }
    // sum over k of page[(k · r11 + r12) mod 512]: a permutation, a different order per vCPU
    code(w, [
      e.li!(3, 0),
      e.li!(4, 0),
      e.lis!(9, DATA >> 16),
      e.li!(10, PAGES),
      e.mtctr!(10),
      e.mullw!(5, 4, 11),
      e.add!(5, 5, 12),
      e.andi_!(5, 5, PAGES - 1),
      e.sldi!(5, 5, 12),
      e.ldx!(6, 9, 5),
      e.add!(3, 3, 6),
      e.addi!(4, 4, 1),
      e.bdnz!(-28),
      e.sc!(1),
    ]);
    pate(w, 1);
    structs(w, 0, 1, 0, { 11: 37, 12: 0 });
    structs(w, 1, 1, 1, { 11: 101, 12: 255 });
    const expected = (PAGES * (PAGES + 1)) / 2;
    const [a, b] = await race(
      w,
      [0, 1].map((core) => ({
        role: 'fill' as const,
        core,
        sync: new SharedArrayBuffer(8),
        hv: hvOf(core),
        regs: regsOf(core),
        rounds: 150,
        token: core,
        expected,
        flush: core === 0,
      })),
    );
    expect(a!.bad).toBe(0);
    expect(b!.bad).toBe(0);
    expect(a!.rcs.length).toBe(150);
    // The shadow tree now holds only translations L1's tree gives.
    const hit = new ShadowHit();
    const root = Atomics.load(w.host.w, w.host.guestWord(1, VG.ROOT));
    let cached = 0;
    for (let k = 0; k < PAGES; k++) {
      const got = shadowWalk(w.host.shadow.i32, root, DATA + k * 4096 + 8, Access.Read, w.l0.ram.size, hit);
      if (got === Walk.HIT) {
        cached++;
        expect(hit.l1ra).toBe(FRAMES + k * 4096 + 8);
      } else expect(got).toBe(Walk.MISS);
    }
    expect(cached).toBeGreaterThan(0);
    // Removing the L2 frees its tree and every tree it retired (a double free would throw).
    w.l0.ram.dv.setBigUint64(PTAB + 16, 0n, false);
    expect(hcall(w.l0, Hcall.H_TLB_INVALIDATE, (2 << 18) | (1 << 16), 1, 2 << 10).rc).toBe(H.SUCCESS);
    expect(w.host.shadowBytesInUse()).toBe(0);
    expect(Atomics.load(w.host.w, V1Hdr.ACTIVE_VCPUS)).toBe(0);
  }, 120_000);
});

describe('L1 remaps a page under a running L2', () => {
  it('after each H_TLB_INVALIDATE returns, the L2 never reads the old frame', async () => {
    const PUB = 0x2000;
    const PAGE = 0x3000;
    const PUB_FRAME = 0x41_0000;
    const FRAMES = 0x80_0000; // frame k of the page: FRAMES + k · 4 KiB, holding k
    const w = world();
    w.writer.map(asL2RA(PUB), asL1RA(PUB_FRAME), 12, Perm.Read);
    w.writer.map(asL2RA(PAGE), asL1RA(FRAMES), 12, Perm.Read | Perm.Write);
    const ITER = 3_000_000;
    code(w, [
      e.li!(20, 0),
      e.li!(21, 0),
      e.lis!(22, ITER >>> 16),
      e.ori!(22, 22, ITER & 0xffff),
      e.li!(7, PUB),
      e.li!(8, PAGE),
      // loop: r5 = what L1 published, then r6 = the page's frame number
      e.lwz!(5, 0, 7),
      e.lwz!(6, 0, 8),
      e.cmpw!(0, 6, 5),
      e.bge!(0, 8),
      e.addi!(20, 20, 1),
      e.addi!(21, 21, 1),
      e.cmpw!(0, 21, 22),
      e.bne!(0, -28),
      e.sc!(1),
    ]);
    pate(w, 1);
    structs(w, 1, 1, 0);
    const sync = new SharedArrayBuffer(8);
    const [l1, l2] = await race(w, [
      {
        role: 'l1',
        core: 0,
        sync,
        hv: 0,
        regs: 0,
        rounds: 2500,
        token: 0,
        root: w.writer.root,
        page: PAGE,
        frames: FRAMES,
        publish: PUB_FRAME,
        lpid: 1,
      },
      { role: 'l2', core: 1, sync, hv: hvOf(1), regs: regsOf(1), rounds: 1, token: 0 },
    ]);
    expect(l2!.rcs).toEqual([Vector.SYSTEM_CALL]);
    expect(l2!.bad).toBe(0); // stale reads counted by the L2
    for (const rc of l1!.rcs) expect(rc).toBe(H.SUCCESS);
    const published = w.l0.ram.dv.getInt32(PUB_FRAME, true);
    expect(published).toBeGreaterThan(100);
    // The invalidations really overlapped the run: some had to wait for the L2's core to ack.
    expect(l1!.entries).toBeGreaterThan(0);
    console.log(
      `remap race: ${l1!.rcs.length} remaps, ${l1!.entries} waited for the running core, ${l2!.faults} faults during a remap went to L1`,
    );
  }, 120_000);
});

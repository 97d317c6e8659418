import { describe, expect, it } from 'vitest';
import { StorageFault } from '../hypervisor/papr.js';
import { Generations, LPIDS } from '../mem/generations.js';
import { PartitionMmu } from '../mem/partition.js';
import { Perm } from '../mem/radix.js';
import { bumpAllocator, RadixWriter } from '../mem/radix-writer.js';
import { GuestRam } from '../mem/ram.js';
import { CountingTlb, TLB_CTX, TLB_EMPTY, Tlb, type TlbFlushScope } from '../mem/tlb.js';
import { Access, asL1RA, asL2RA } from '../mem/types.js';

const l2 = asL2RA;
const l1 = asL1RA;

describe('Tlb lookups', () => {
  it('misses, then hits for the filled access kind only, at any offset in the granule', () => {
    const tlb = new Tlb(Generations.create());
    expect(tlb.lookup(3, l2(0x1234_5678), Access.Read)).toBe(-1);
    tlb.fill(3, l2(0x1234_5678), l1(0x9_9678), Access.Read);
    expect(tlb.lookup(3, l2(0x1234_5000), Access.Read)).toBe(0x9_9000);
    expect(tlb.lookup(3, l2(0x1234_5fff), Access.Read)).toBe(0x9_9fff);
    expect(tlb.lookup(3, l2(0x1234_6000), Access.Read)).toBe(-1);
    expect(tlb.lookup(3, l2(0x1234_5678), Access.Write)).toBe(-1);
    expect(tlb.lookup(3, l2(0x1234_5678), Access.Fetch)).toBe(-1);
    tlb.fill(3, l2(0x1234_5000), l1(0x9_9000), Access.Write);
    expect(tlb.lookup(3, l2(0x1234_5010), Access.Write)).toBe(0x9_9010);
    expect(tlb.lookup(3, l2(0x1234_5010), Access.Read)).toBe(0x9_9010);
  });

  it('keeps LPIDs apart, even for the same L2RA, and both stay cached', () => {
    const tlb = new Tlb(Generations.create());
    tlb.fill(1, l2(0), l1(0x10_0000), Access.Read);
    tlb.fill(2, l2(0), l1(0x20_0000), Access.Read);
    expect(tlb.lookup(1, l2(8), Access.Read)).toBe(0x10_0008);
    expect(tlb.lookup(2, l2(8), Access.Read)).toBe(0x20_0008);
    expect(tlb.lookup(3, l2(8), Access.Read)).toBe(-1);
  });

  it('exact tags near the limits: L2RA just below 2^52, the last LPID', () => {
    const tlb = new Tlb(Generations.create());
    const top = l2(2 ** 52 - 4096);
    const last = LPIDS - 1;
    tlb.fill(last, top, l1(0xffff_f000), Access.Fetch);
    expect(tlb.lookup(last, l2(top + 0xfff), Access.Fetch)).toBe(0xffff_ffff);
    expect(tlb.lookup(last - 1, top, Access.Fetch)).toBe(-1);
    expect(tlb.lookup(last, l2(top - 4096), Access.Fetch)).toBe(-1);
    expect(() => tlb.fill(LPIDS, l2(0), l1(0), Access.Read)).toThrow(RangeError);
  });

  it('evicts on a slot conflict, and a new delta drops the other kinds of the slot', () => {
    const tlb = new Tlb(Generations.create(), 16);
    tlb.fill(0, l2(0x1000), l1(0x5000), Access.Read);
    tlb.fill(0, l2(0x1000), l1(0x5000), Access.Fetch);
    // Same slot (page number + 16), different page: evicts both kinds, since the delta differs.
    tlb.fill(0, l2(0x11000), l1(0x7000), Access.Write);
    expect(tlb.lookup(0, l2(0x1000), Access.Read)).toBe(-1);
    expect(tlb.lookup(0, l2(0x1000), Access.Fetch)).toBe(-1);
    expect(tlb.lookup(0, l2(0x11000), Access.Write)).toBe(0x7000);
    // Same page remapped elsewhere (a new delta): the stale kinds must not survive with it.
    tlb.fill(0, l2(0x11000), l1(0x7000), Access.Read);
    tlb.fill(0, l2(0x11000), l1(0x8000), Access.Fetch);
    expect(tlb.lookup(0, l2(0x11000), Access.Read)).toBe(-1);
    expect(tlb.lookup(0, l2(0x11000), Access.Write)).toBe(-1);
    expect(tlb.lookup(0, l2(0x11000), Access.Fetch)).toBe(0x8000);
  });

  it('the documented raw-array lookup agrees with lookup()', () => {
    const tlb = new Tlb(Generations.create());
    const lpid = 7;
    const pages = [0, 0x1000, 0x7fff_f000, 0x1_2345_6000, 2 ** 51];
    pages.forEach((p, k) => {
      tlb.fill(lpid, l2(p), l1(0x10_0000 * (k + 1)), Access.Write);
    });
    for (const p of [...pages, 0x2000, 0x1_2345_7000]) {
      const l2ra = p + 0x123;
      const pn = Math.floor(l2ra / 4096);
      const i = (pn ^ (lpid << 4)) & tlb.mask;
      const inline = tlb.tagW[i] === lpid * TLB_CTX + pn ? l2ra + tlb.delta[i]! : -1;
      expect(inline).toBe(tlb.lookup(lpid, l2(l2ra), Access.Write));
    }
    expect(tlb.tags[Access.Write]).toBe(tlb.tagW);
  });
});

describe('Tlb invalidation', () => {
  function filled() {
    const tlb = new Tlb(Generations.create());
    // LPID 1: 4K pages at 0..16K and a 2M page's granules at 2M and 3M; LPID 2: same L2RAs.
    for (const lpid of [1, 2])
      for (const p of [0, 0x1000, 0x2000, 0x3000, 0x20_0000, 0x30_0000, 0x4000_5000])
        for (const a of [Access.Read, Access.Write, Access.Fetch])
          tlb.fill(lpid, l2(p), l1(p % 0x100_0000), a);
    return tlb;
  }
  const has = (tlb: Tlb, lpid: number, p: number) => tlb.lookup(lpid, l2(p), Access.Read) >= 0;

  it('by page, for every granule of a 4K, 2M or 1G page and that LPID only', () => {
    const tlb = filled();
    expect(tlb.invalidatePage(1, l2(0x1000))).toBe(3);
    expect([has(tlb, 1, 0), has(tlb, 1, 0x1000), has(tlb, 1, 0x2000), has(tlb, 2, 0x1000)]).toEqual([
      true,
      false,
      true,
      true,
    ]);
    // The 2M page [2M, 4M) holds the granules at 2M and 3M; named by an address inside it.
    expect(tlb.invalidatePage(1, l2(0x2f_f000), 21)).toBe(6);
    expect([has(tlb, 1, 0x20_0000), has(tlb, 1, 0x30_0000), has(tlb, 2, 0x20_0000)]).toEqual([
      false,
      false,
      true,
    ]);
    // 1G page: larger than the table, so a scan.
    expect(tlb.invalidate({ lpid: 2, l2ra: l2(0x1234), pageShift: 30 })).toBe(18);
    expect([has(tlb, 2, 0), has(tlb, 2, 0x30_0000), has(tlb, 2, 0x4000_5000), has(tlb, 1, 0)]).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });

  it('by LPID and everything', () => {
    const tlb = filled();
    expect(tlb.invalidate({ lpid: 1 })).toBe(21);
    expect(has(tlb, 1, 0x4000_5000)).toBe(false);
    expect(has(tlb, 2, 0x4000_5000)).toBe(true);
    expect(tlb.invalidate({})).toBe(21);
    expect([...tlb.tagR, ...tlb.tagW, ...tlb.tagX].every((t) => t === TLB_EMPTY)).toBe(true);
  });

  it('reports fills and flushes to a probe, and counts hits and misses when asked', () => {
    const tlb = new CountingTlb(Generations.create());
    const seen: string[] = [];
    tlb.probe = {
      onFill: (lpid, l2ra, l1ra, access) => seen.push(`fill ${lpid} ${l2ra} ${l1ra} ${access}`),
      onFlush: (scope: TlbFlushScope, lpid, dropped) => seen.push(`flush ${scope} ${lpid} ${dropped}`),
    };
    tlb.lookup(1, l2(0x1000), Access.Read);
    tlb.fill(1, l2(0x1000), l1(0x3000), Access.Read);
    tlb.lookup(1, l2(0x1008), Access.Read);
    tlb.lookup(1, l2(0x1008), Access.Read);
    tlb.invalidatePage(1, l2(0x1000));
    tlb.invalidateAll();
    expect(seen).toEqual([`fill 1 4096 12288 ${Access.Read}`, 'flush page 1 1', 'flush all -1 0']);
    expect([tlb.hits, tlb.misses, tlb.fills, tlb.flushes]).toEqual([2, 1, 1, 2]);
  });
});

describe('Tlb generations', () => {
  it('drops an LPID at the check point after the coordinator bumps it, and only then', () => {
    const coordinator = Generations.create();
    const core = Generations.attach(coordinator.sab);
    const tlb = new Tlb(core);
    tlb.fill(1, l2(0x1000), l1(0x5000), Access.Read);
    tlb.fill(2, l2(0x1000), l1(0x6000), Access.Read);
    expect(tlb.syncGenerations()).toBe(false);
    coordinator.bump(1);
    // Until the check point the core still uses the old entries (the ack protocol covers that).
    expect(tlb.lookup(1, l2(0x1000), Access.Read)).toBe(0x5000);
    expect(tlb.syncGenerations()).toBe(true);
    expect(tlb.lookup(1, l2(0x1000), Access.Read)).toBe(-1);
    expect(tlb.lookup(2, l2(0x1000), Access.Read)).toBe(0x6000);
    expect(tlb.syncGenerations()).toBe(false);
    // A bump of an LPID this core has no entries for drops nothing.
    coordinator.bump(9);
    expect(tlb.syncGenerations()).toBe(false);
    expect(tlb.lookup(2, l2(0x1000), Access.Read)).toBe(0x6000);
    coordinator.bumpAll();
    expect(tlb.syncGenerations()).toBe(true);
    expect(tlb.lookup(2, l2(0x1000), Access.Read)).toBe(-1);
  });

  it('an entry filled after a check point but before a bump is dropped at the next one', () => {
    const gens = Generations.create();
    const tlb = new Tlb(gens);
    gens.bump(4); // LPID 4 has no entries yet: its seen generation stays old.
    expect(tlb.syncGenerations()).toBe(false);
    tlb.fill(4, l2(0), l1(0x1000), Access.Read); // walked the old tree
    gens.bump(4); // L1 changed the tree and invalidated
    expect(tlb.syncGenerations()).toBe(true);
    expect(tlb.lookup(4, l2(0), Access.Read)).toBe(-1);
  });

  it('a TLB created late starts from the current generations', () => {
    const gens = Generations.create();
    gens.bump(1);
    gens.bump(1);
    const tlb = new Tlb(gens);
    tlb.fill(1, l2(0), l1(0), Access.Read);
    gens.bump(2);
    expect(tlb.syncGenerations()).toBe(false);
    expect(tlb.lookup(1, l2(0), Access.Read)).toBe(0);
  });
});

describe('PartitionMmu (TLB in front of the radix walk)', () => {
  function partition() {
    const ram = GuestRam.create(16 * 2 ** 20);
    const w = RadixWriter.create(ram, bumpAllocator(0x10000, 0x10_0000))!;
    const gens = Generations.create();
    const tlb = new CountingTlb(gens);
    const mmu = new PartitionMmu(ram, tlb);
    mmu.enter(5, w.root);
    return { ram, w, gens, tlb, mmu };
  }

  it('walks on a miss, hits afterwards, and fills only the access kind walked', () => {
    const { w, tlb, mmu } = partition();
    w.map(l2(0x4000_0000), l1(0x20_0000), 21, Perm.Read | Perm.Write);
    expect(mmu.translate(0x4000_1234, Access.Read)).toBe(0x20_1234);
    expect(mmu.translate(0x4000_1238, Access.Read)).toBe(0x20_1238);
    expect([tlb.hits, tlb.misses]).toEqual([1, 1]);
    expect(mmu.translate(0x4000_1238, Access.Write)).toBe(0x20_1238);
    expect([tlb.hits, tlb.misses]).toEqual([1, 2]);
    expect(mmu.translate(0x4000_1238, Access.Fetch)).toBe(-1);
    expect(mmu.cause).toBe(StorageFault.NOEXEC_GUARD);
  });

  it('does not cache faults, and forgets unmapped pages after bump + check point', () => {
    const { w, gens, mmu } = partition();
    expect(mmu.translate(0x1000, Access.Write)).toBe(-1);
    expect(mmu.cause).toBe(StorageFault.NOPTE | StorageFault.ISSTORE);
    w.map(l2(0x1000), l1(0x8000), 12, Perm.Read | Perm.Write);
    expect(mmu.translate(0x1000, Access.Write)).toBe(0x8000);
    w.unmap(l2(0x1000), 12);
    gens.bump(5);
    expect(mmu.sync()).toBe(true);
    expect(mmu.translate(0x1000, Access.Write)).toBe(-1);
    expect(mmu.machineCheck).toBe(false);
  });
});

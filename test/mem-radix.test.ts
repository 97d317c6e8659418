import { describe, expect, it } from 'vitest';
import { StorageFault } from '../hypervisor/papr.js';
import {
  Att,
  GUEST_ACCESS,
  INSPECT,
  Perm,
  Pte,
  partitionScopedWalk,
  type RadixRoot,
  RcMode,
  Translation,
  type WalkOptions,
} from '../mem/radix.js';
import { elementFromRoot, pateDw0FromRoot, rootFromElement, rootFromPateDw0 } from '../mem/radix-root.js';
import { bumpAllocator, MapStatus, RadixWriter } from '../mem/radix-writer.js';
import { GuestRam } from '../mem/ram.js';
import { Access, asL1RA, asL2RA, type L1RA } from '../mem/types.js';

const MIB = 2 ** 20;
const RAM_BYTES = 64 * MIB;
const FAULT_MODE: WalkOptions = { guestVisible: true, rcMode: RcMode.Fault };
const RW = Perm.Read | Perm.Write;
const RWX = Perm.Read | Perm.Write | Perm.Exec;

/** RAM with the root at 0x10000 and tables bump-allocated from 0x20000 (below 1 MiB). */
function setup(ramBytes = RAM_BYTES) {
  const ram = GuestRam.create(ramBytes);
  const tables = bumpAllocator(0x10000, MIB);
  const w = RadixWriter.create(ram, tables)!;
  return { ram, w, root: w.root };
}

function walk(ram: GuestRam, root: RadixRoot, l2ra: number, access: Access, opts = GUEST_ACCESS) {
  const t = new Translation();
  partitionScopedWalk(ram, root, asL2RA(l2ra), access, opts, t);
  return t;
}

const entryHex = (ram: GuestRam, at: number) =>
  `0x${ram.dv.getBigUint64(at, false).toString(16).padStart(16, '0')}`;
const setEntry = (ram: GuestRam, at: number, v: bigint) => ram.dv.setBigUint64(at, v, false);

describe('radix tree bytes (golden, hand-computed per spec §15.1/§15.2)', () => {
  it('lays out a 4K mapping exactly as the spec does, and the walker reads it back', () => {
    const { ram, w, root } = setup();
    expect(root).toEqual({ base: 0x10000, addrBits: 52, rootBits: 13 });
    // L2RA 0x80_4060_3000: level indexes 1 (bits 51:39), 1 (38:30), 3 (29:21), 3 (20:12).
    expect(w.map(asL2RA(0x80_4060_3000), asL1RA(0x12_3000), 12, RW)).toBe(MapStatus.Ok);
    // Tables: L1 at 0x20000, L2 at 0x21000, L3 at 0x22000 (4 KiB each, NLS 9).
    expect(entryHex(ram, 0x10000 + 8 * 1)).toBe('0x8000000000020009');
    expect(entryHex(ram, 0x20000 + 8 * 1)).toBe('0x8000000000021009');
    expect(entryHex(ram, 0x21000 + 8 * 3)).toBe('0x8000000000022009');
    // Leaf: V|L, RPN 0x123000, EAA READ|RW = 0x6, R and C clear.
    expect(entryHex(ram, 0x22000 + 8 * 3)).toBe('0xc000000000123006');
    // Big-endian in memory: the V byte comes first.
    expect([...ram.u8.subarray(0x22018, 0x22020)]).toEqual([0xc0, 0, 0, 0, 0, 0x12, 0x30, 0x06]);

    const t = walk(ram, root, 0x80_4060_3abc, Access.Write);
    expect(t).toMatchObject({
      ok: true,
      l1ra: 0x12_3abc,
      pageShift: 12,
      perms: RW,
      level: 3,
      entry: 0x22018,
    });
    // The store set R (0x100) and C (0x80).
    expect(entryHex(ram, 0x22018)).toBe('0xc000000000123186');
  });

  it('lays out 64K, 2M and 1G mappings with the level-3 NLS of 5 for 64K', () => {
    const { ram, w, root } = setup();
    // 64K: L2RA 0x123_0000 → indexes 0, 0, 9, 3 (bits 20:16 with NLS 5).
    expect(w.map(asL2RA(0x123_0000), asL1RA(0x40_0000), 16, Perm.Read | Perm.Exec)).toBe(MapStatus.Ok);
    expect(entryHex(ram, 0x10000)).toBe('0x8000000000020009');
    expect(entryHex(ram, 0x20000)).toBe('0x8000000000021009');
    expect(entryHex(ram, 0x21000 + 8 * 9)).toBe('0x8000000000022005');
    expect(entryHex(ram, 0x22000 + 8 * 3)).toBe('0xc000000000400005');
    // 2M: L2RA 0x4060_0000 → indexes 0, 1, 3; new level-2 table at 0x23000 (after the 256 B one,
    // rounded up to 4 KiB alignment).
    expect(w.map(asL2RA(0x4060_0000), asL1RA(0x60_0000), 21, RW)).toBe(MapStatus.Ok);
    expect(entryHex(ram, 0x20000 + 8)).toBe('0x8000000000023009');
    expect(entryHex(ram, 0x23000 + 8 * 3)).toBe('0xc000000000600006');
    // 1G: L2RA 0x8000_0000 → indexes 0, 2: a leaf in the level-1 table.
    expect(w.map(asL2RA(0x8000_0000), asL1RA(0), 30, Perm.Read, { referenced: true })).toBe(MapStatus.Ok);
    expect(entryHex(ram, 0x20000 + 16)).toBe('0xc000000000000104');

    expect(walk(ram, root, 0x123_4567, Access.Fetch)).toMatchObject({
      ok: true,
      l1ra: 0x40_4567,
      pageShift: 16,
    });
    expect(walk(ram, root, 0x407f_ffff, Access.Read)).toMatchObject({
      ok: true,
      l1ra: 0x7f_ffff,
      pageShift: 21,
    });
    expect(walk(ram, root, 0x8000_1ff8, Access.Read)).toMatchObject({
      ok: true,
      l1ra: 0x1ff8,
      pageShift: 30,
    });
  });
});

describe('radix map / translate / unmap / remap', () => {
  for (const shift of [12, 16, 21, 30]) {
    it(`round-trips a 2^${shift} page`, () => {
      const { ram, w, root } = setup(2 ** 31);
      const size = 2 ** shift;
      const l2ra = 7 * 2 ** 30 + 3 * size; // well above 2^32 for the 1G case
      const a = size;
      const b = 0;
      expect(w.map(asL2RA(l2ra), asL1RA(a), shift, RWX)).toBe(MapStatus.Ok);
      for (const off of [0, 8, size - 1]) {
        const t = walk(ram, root, l2ra + off, Access.Read);
        expect(t).toMatchObject({ ok: true, l1ra: a + off, pageShift: shift, perms: RWX });
      }
      // Neighbouring pages are not mapped.
      expect(walk(ram, root, l2ra + size, Access.Read)).toMatchObject({
        ok: false,
        cause: StorageFault.NOPTE,
      });
      expect(walk(ram, root, l2ra - 1, Access.Read).ok).toBe(false);
      // Reading set R only; writing set C too.
      const leaf = walk(ram, root, l2ra, Access.Read, INSPECT).entry;
      expect(ram.read32be(asL1RA(leaf + 4)) & (Pte.R | Pte.C)).toBe(Pte.R);
      walk(ram, root, l2ra + 16, Access.Write);
      expect(ram.read32be(asL1RA(leaf + 4)) & (Pte.R | Pte.C)).toBe(Pte.R | Pte.C);

      expect(w.unmap(asL2RA(l2ra), shift)).toBe(true);
      expect(w.unmap(asL2RA(l2ra), shift)).toBe(false);
      expect(walk(ram, root, l2ra, Access.Read)).toMatchObject({ ok: false, cause: StorageFault.NOPTE });
      expect(w.map(asL2RA(l2ra), asL1RA(b), shift, Perm.Read)).toBe(MapStatus.Ok);
      expect(walk(ram, root, l2ra + 5, Access.Read)).toMatchObject({
        ok: true,
        l1ra: b + 5,
        perms: Perm.Read,
      });
      // Remap in place over a live leaf: the new translation, R/C cleared.
      expect(w.map(asL2RA(l2ra), asL1RA(a), shift, RW)).toBe(MapStatus.Ok);
      expect(ram.read32be(asL1RA(leaf + 4)) & (Pte.R | Pte.C)).toBe(0);
      expect(walk(ram, root, l2ra + 5, Access.Write)).toMatchObject({ ok: true, l1ra: a + 5 });
    });
  }

  it('refuses overlapping page sizes and bad arguments', () => {
    const { w } = setup();
    expect(w.map(asL2RA(0x20_0000), asL1RA(0x20_0000), 21, RW)).toBe(MapStatus.Ok);
    expect(w.map(asL2RA(0x20_1000), asL1RA(0x1000), 12, RW)).toBe(MapStatus.Conflict);
    expect(w.map(asL2RA(0x40_1000), asL1RA(0x1000), 12, RW)).toBe(MapStatus.Ok);
    expect(w.map(asL2RA(0x40_0000), asL1RA(0x40_0000), 21, RW)).toBe(MapStatus.Conflict);
    expect(w.map(asL2RA(0x41_0000), asL1RA(0x1_0000), 16, RW)).toBe(MapStatus.Conflict); // 4K table there
    expect(w.map(asL2RA(0x1000), asL1RA(0x800), 12, RW)).toBe(MapStatus.BadArgument);
    expect(w.map(asL2RA(0x800), asL1RA(0x1000), 12, RW)).toBe(MapStatus.BadArgument);
    expect(w.map(asL2RA(0x2000), asL1RA(0x2000), 13, RW)).toBe(MapStatus.BadArgument);
    expect(w.map(asL2RA(2 ** 52), asL1RA(0x2000), 12, RW)).toBe(MapStatus.BadArgument);
    expect(w.unmap(asL2RA(0x20_0000), 12)).toBe(false);
  });

  it('reports NoMemory when the allocator runs out', () => {
    const ram = GuestRam.create(MIB);
    const w = RadixWriter.create(ram, bumpAllocator(0x10000, 0x23000))!;
    expect(w.map(asL2RA(0), asL1RA(0x8_0000), 12, RW)).toBe(MapStatus.Ok);
    expect(w.map(asL2RA(2 ** 39), asL1RA(0x8_0000), 12, RW)).toBe(MapStatus.NoMemory);
  });

  it('protect changes rights and keeps R/C', () => {
    const { ram, w, root } = setup();
    w.map(asL2RA(0x5000), asL1RA(0x9000), 12, RW);
    expect(walk(ram, root, 0x5000, Access.Write).ok).toBe(true);
    expect(w.protect(asL2RA(0x5000), 12, Perm.Read)).toBe(true);
    expect(walk(ram, root, 0x5000, Access.Write)).toMatchObject({
      ok: false,
      cause: StorageFault.PROTFAULT | StorageFault.ISSTORE,
    });
    const t = walk(ram, root, 0x5000, Access.Read);
    expect(t.ok).toBe(true);
    expect(ram.read32be(asL1RA(t.entry + 4)) & 0x1ff).toBe(Pte.R | Pte.C | Pte.READ);
    expect(w.protect(asL2RA(0x6000), 12, Perm.Read)).toBe(false);
  });
});

describe('radix faults (spec §15.2, §15.3, §15.6)', () => {
  it('NOPTE: nothing mapped, and an address beyond the tree', () => {
    const { ram, root } = setup();
    expect(walk(ram, root, 0x1000, Access.Read)).toMatchObject({
      ok: false,
      cause: StorageFault.NOPTE,
      level: 0,
    });
    expect(walk(ram, root, 0x1000, Access.Write).cause).toBe(StorageFault.NOPTE | StorageFault.ISSTORE);
    expect(walk(ram, root, 0x1000, Access.Fetch).cause).toBe(StorageFault.NOPTE);
    expect(walk(ram, root, 2 ** 52, Access.Read).cause).toBe(StorageFault.NOPTE);
  });

  it('protection for each access kind, fetch from non-idempotent I/O included', () => {
    const { ram, w, root } = setup();
    w.map(asL2RA(0x1000), asL1RA(0x10_0000), 12, Perm.Exec); // execute only
    w.map(asL2RA(0x2000), asL1RA(0x10_1000), 12, Perm.Read); // read only
    w.map(asL2RA(0x3000), asL1RA(0x10_2000), 12, RW); // no execute
    w.map(asL2RA(0x4000), asL1RA(0x10_3000), 12, RWX, { att: Att.NonIdempotentIO });
    w.map(asL2RA(0x5000), asL1RA(0x10_4000), 12, Perm.Write); // RW alone implies read
    expect(walk(ram, root, 0x1000, Access.Read)).toMatchObject({ ok: false, cause: StorageFault.PROTFAULT });
    expect(walk(ram, root, 0x1000, Access.Fetch).ok).toBe(true);
    expect(walk(ram, root, 0x2000, Access.Write).cause).toBe(StorageFault.PROTFAULT | StorageFault.ISSTORE);
    expect(walk(ram, root, 0x3000, Access.Fetch).cause).toBe(StorageFault.NOEXEC_GUARD);
    expect(walk(ram, root, 0x4000, Access.Fetch).cause).toBe(StorageFault.NOEXEC_GUARD);
    expect(walk(ram, root, 0x4000, Access.Read).ok).toBe(true);
    expect(walk(ram, root, 0x5000, Access.Read)).toMatchObject({ ok: true, perms: RW });
    // A failed access sets neither R nor C.
    w.map(asL2RA(0x6000), asL1RA(0x10_5000), 12, Perm.Exec);
    expect(walk(ram, root, 0x6000, Access.Read).ok).toBe(false);
    for (const page of [0x2000, 0x6000]) {
      const leaf = walk(ram, root, page, Access.Read, INSPECT).entry;
      expect(ram.read32be(asL1RA(leaf + 4)) & (Pte.R | Pte.C)).toBe(0);
    }
  });

  it('R_BADCONFIG: bad RTS, bad RPDS, bad NLS at each level, misaligned table, leaf too high or too low', () => {
    const { ram, w, root } = setup();
    w.map(asL2RA(0x1000), asL1RA(0x10_0000), 12, RW);
    const bad = StorageFault.R_BADCONFIG;
    expect(walk(ram, { ...root, addrBits: 48 }, 0x1000, Access.Read).cause).toBe(bad);
    expect(walk(ram, { ...root, rootBits: 12 }, 0x1000, Access.Read).cause).toBe(bad);
    expect(walk(ram, { ...root, rootBits: 4 }, 0x1000, Access.Write).cause).toBe(bad | StorageFault.ISSTORE);
    expect(walk(ram, { ...root, base: asL1RA(0x18000) }, 0x1000, Access.Read).cause).toBe(bad);
    // Tables: L1 0x20000, L2 0x21000, L3 0x22000; entry 0 of each is on the path of L2RA 0x1000.
    const pristine = ram.u8.slice(0, MIB);
    const cases: [string, number, bigint][] = [
      ['level 1 NLS 8', 0x10000, 0x8000_0000_0002_0008n],
      ['level 2 NLS 13', 0x20000, 0x8000_0000_0002_100dn],
      ['level 3 NLS 7', 0x21000, 0x8000_0000_0002_2007n],
      ['level 1 table misaligned', 0x10000, 0x8000_0000_0002_0809n],
      ['leaf in the root (512 GiB page)', 0x10000, 0xc000_0000_0000_0006n],
      ['directory at level 3 (no level 4)', 0x22008, 0x8000_0000_0003_0009n],
    ];
    for (const [name, at, value] of cases) {
      ram.u8.set(pristine);
      setEntry(ram, at, value);
      const t = walk(ram, root, 0x1000, Access.Read);
      expect(t.cause, name).toBe(bad);
    }
  });

  it('ATOMIC_RC in fault mode: R clear on any access, C clear on a store; no bit is set', () => {
    const { ram, w, root } = setup();
    w.map(asL2RA(0x1000), asL1RA(0x10_0000), 12, RWX);
    w.map(asL2RA(0x2000), asL1RA(0x10_1000), 12, RW, { referenced: true });
    w.map(asL2RA(0x3000), asL1RA(0x10_2000), 12, RW, { referenced: true, changed: true });
    const rc = StorageFault.ATOMIC_RC;
    expect(walk(ram, root, 0x1000, Access.Read, FAULT_MODE).cause).toBe(rc);
    expect(walk(ram, root, 0x1000, Access.Fetch, FAULT_MODE).cause).toBe(rc);
    expect(walk(ram, root, 0x2000, Access.Read, FAULT_MODE).ok).toBe(true);
    expect(walk(ram, root, 0x2000, Access.Write, FAULT_MODE).cause).toBe(rc | StorageFault.ISSTORE);
    expect(walk(ram, root, 0x3000, Access.Write, FAULT_MODE).ok).toBe(true);
    // Protection is checked before R/C.
    w.protect(asL2RA(0x1000), 12, Perm.Read);
    expect(walk(ram, root, 0x1000, Access.Write, FAULT_MODE).cause).toBe(
      StorageFault.PROTFAULT | StorageFault.ISSTORE,
    );
    expect(ram.read32be(asL1RA(walk(ram, root, 0x1000, Access.Read, INSPECT).entry + 4)) & 0x180).toBe(0);
    expect(ram.read32be(asL1RA(walk(ram, root, 0x2000, Access.Read, INSPECT).entry + 4)) & 0x180).toBe(Pte.R);
  });

  it('is pure when not guest-visible: no R/C written, no ATOMIC_RC', () => {
    const { ram, w, root } = setup();
    w.map(asL2RA(0x1000), asL1RA(0x10_0000), 12, RW);
    const before = Buffer.from(ram.u8.slice(0, MIB));
    expect(walk(ram, root, 0x1000, Access.Write, INSPECT).ok).toBe(true);
    expect(walk(ram, root, 0x1000, Access.Write, { guestVisible: false, rcMode: RcMode.Fault }).ok).toBe(
      true,
    );
    expect(Buffer.from(ram.u8.buffer, 0, MIB).equals(before)).toBe(true);
  });

  it('machine check for a walk or a translation outside RAM', () => {
    const { ram, w, root } = setup(4 * MIB);
    // Root beyond RAM.
    expect(walk(ram, { ...root, base: asL1RA(2 ** 33) }, 0x1000, Access.Read)).toMatchObject({
      ok: false,
      machineCheck: true,
      cause: 0,
    });
    // A directory pointer beyond RAM.
    setEntry(ram, 0x10000 + 8, 0x8000_0000_4000_0009n);
    expect(walk(ram, root, 2 ** 39, Access.Read)).toMatchObject({ machineCheck: true, level: 1 });
    // A leaf mapping memory L1 does not have.
    expect(w.map(asL2RA(0x1000), asL1RA(4 * MIB), 12, RW)).toBe(MapStatus.Ok);
    expect(walk(ram, root, 0x1000, Access.Read)).toMatchObject({ ok: false, machineCheck: true, level: 3 });
    expect(w.map(asL2RA(0x2000), asL1RA(4 * MIB - 4096), 12, RW)).toBe(MapStatus.Ok);
    expect(walk(ram, root, 0x2fff, Access.Read)).toMatchObject({ ok: true, l1ra: 4 * MIB - 1 });
  });
});

describe('RadixRoot encodings', () => {
  const root: RadixRoot = { base: 0x10000 as L1RA, addrBits: 52, rootBits: 13 };

  it('PATE dw0 for Linux geometry: HR, RTS1=0b10, RTS2=0b101, RPDS=13', () => {
    expect(pateDw0FromRoot(root)).toBe(0xc000_0000_0001_00adn);
    expect(rootFromPateDw0(0xc000_0000_0001_00adn)).toEqual({ root, hostRadix: true });
    expect(rootFromPateDw0(0x4000_0000_0001_00adn).hostRadix).toBe(false);
    const odd = { base: 0x0fff_ffff_ff00 as L1RA, addrBits: 40, rootBits: 5 };
    expect(rootFromPateDw0(pateDw0FromRoot(odd)).root).toEqual(odd);
  });

  it('GSB element 0x0005 {address, EA bits, root bytes}', () => {
    expect(elementFromRoot(root)).toEqual({ address: 0x10000n, eaBits: 52n, rootBytes: 65536n });
    expect(rootFromElement({ address: 0x10000n, eaBits: 52n, rootBytes: 65536n })).toEqual({ root });
    expect(rootFromElement({ address: 0x10080n, eaBits: 52n, rootBytes: 65536n })).toHaveProperty('reason');
    expect(rootFromElement({ address: 0x10000n, eaBits: 30n, rootBytes: 65536n })).toHaveProperty('reason');
    expect(rootFromElement({ address: 0x10000n, eaBits: 52n, rootBytes: 65535n })).toHaveProperty('reason');
    expect(rootFromElement({ address: 0x10000n, eaBits: 52n, rootBytes: 4n })).toHaveProperty('reason');
    // Element → PATE dw0 as spec §10.1's QEMU formula: address | HR | RTS fields | log2(bytes) − 3.
    const r = rootFromElement(elementFromRoot(root));
    expect('root' in r && pateDw0FromRoot(r.root)).toBe(0xc000_0000_0001_00adn);
  });
});

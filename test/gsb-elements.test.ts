/** The element table against spec §8 and §9.1: counts per range, sizes, scopes, access, anchors. */
import { describe, expect, it } from 'vitest';
import {
  ELEMENT_RANGES,
  ELEMENTS,
  elementById,
  elementByName,
  formatElementId,
  LPCR_L1_SETTABLE,
  MSR_L1_SETTABLE,
} from '../hypervisor/gsb/elements.js';

describe('element table vs spec §8', () => {
  it('counts per range (§9.3): 7, 5, 3, 84, 15, 64, 4 = 182, every ID of each range defined', () => {
    const expected = { guestwide: 7, hostwide: 5, meta: 3, dword: 84, word: 15, vector: 64, intr: 4 };
    for (const r of ELEMENT_RANGES) {
      const inRange = ELEMENTS.filter((e) => e.id >= r.first && e.id <= r.last);
      expect(inRange.length, r.cls).toBe(expected[r.cls]);
      expect(inRange.length).toBe(r.last - r.first + 1);
      expect(inRange.every((e) => e.cls === r.cls)).toBe(true);
    }
    expect(ELEMENTS.length).toBe(182);
  });

  it.each([
    ['DPDES', 0x1053, 8],
    ['CTRL', 0x1052, 8],
    ['HASHPKEYR', 0x1051, 8],
    ['HDEC_EXPIRY_TB', 0x1020, 8],
    ['LPCR', 0x102c, 8],
    ['PPR', 0x103a, 8],
    ['AMOR', 0x1048, 8],
    ['GPR31', 0x101f, 8],
    ['CR', 0x2000, 4],
    ['PMC6', 0x200c, 4],
    ['WORT', 0x200d, 4],
    ['PSPB', 0x200e, 4],
    ['VSR0', 0x3000, 16],
    ['VSR63', 0x303f, 16],
    ['HDAR', 0xf000, 8],
    ['HDSISR', 0xf001, 4],
    ['HEIR', 0xf002, 8],
    ['ASDR', 0xf003, 8],
    ['LOGICAL_PVR', 0x0003, 4],
    ['TB_OFFSET', 0x0004, 8],
    ['PARTITION_TABLE', 0x0005, 24],
    ['PROCESS_TABLE', 0x0006, 16],
    ['RUN_INPUT', 0x0c00, 16],
    ['RUN_OUTPUT', 0x0c01, 16],
    ['VPA', 0x0c02, 8],
    ['L0_GUEST_PGTABLE_RECLAIM', 0x0804, 8],
  ] as const)('%s = %s, %i bytes', (name, id, size) => {
    const e = elementById(id);
    expect(e?.name).toBe(name);
    expect(e?.size).toBe(size);
    expect(elementByName(name)).toBe(e);
  });

  it('sizes by class (§9.1): guest-wide per ID, host-wide 8, dword 8, word 4, vector 16, intr 8/4', () => {
    for (const e of ELEMENTS) {
      const want = {
        guestwide: [-1, 8, 8, 4, 8, 24, 16][e.id],
        hostwide: 8,
        meta: e.id === 0x0c02 ? 8 : 16,
        dword: 8,
        word: 4,
        vector: 16,
        intr: e.id === 0xf001 ? 4 : 8,
      }[e.cls];
      expect(e.size, e.name).toBe(want);
    }
  });

  it('scopes: 0x0001–0x0006 guest-wide, 0x0800–0x0804 host-wide, the rest per vCPU', () => {
    for (const e of ELEMENTS) {
      const want = e.id >= 1 && e.id <= 6 ? 'guest' : e.cls === 'hostwide' ? 'host' : 'thread';
      expect(e.scope, e.name).toBe(want);
    }
  });

  it('read-only exactly 0x0001, 0x0002, 0x0800–0x0804, 0xF000–0xF003 (§9.2 QEMU check 5)', () => {
    const ro = ELEMENTS.filter((e) => !e.l1Settable).map((e) => e.id);
    expect(ro).toEqual([
      0x0001, 0x0002, 0x0800, 0x0801, 0x0802, 0x0803, 0x0804, 0xf000, 0xf001, 0xf002, 0xf003,
    ]);
  });

  it('masks only on LPCR and MSR, with the decisions-table values', () => {
    const masked = ELEMENTS.filter((e) => e.settableMask !== undefined);
    expect(masked.map((e) => [e.name, e.settableMask])).toEqual([
      ['MSR', MSR_L1_SETTABLE],
      ['LPCR', LPCR_L1_SETTABLE],
    ]);
    expect(LPCR_L1_SETTABLE).toBe(0x0070_0000_0382_0c00n);
    expect(MSR_L1_SETTABLE).toBe(0xefff_ffff_ffbf_efffn);
  });

  it('names: GPRn/VSRn in order, Linux prefix and case accepted, IDs printed with 4 digits', () => {
    for (let n = 0; n < 32; n++) expect(elementById(0x1000 + n)?.name).toBe(`GPR${n}`);
    for (let n = 0; n < 64; n++) expect(elementById(0x3000 + n)?.name).toBe(`VSR${n}`);
    expect(elementByName('KVMPPC_GSID_GPR0')?.id).toBe(0x1000);
    expect(elementByName('dpdes')?.id).toBe(0x1053);
    expect(elementByName('NOPE')).toBeUndefined();
    expect(elementById(0x0007)).toBeUndefined();
    expect(formatElementId(0x5)).toBe('0x0005');
    expect(formatElementId(0xf003)).toBe('0xf003');
    expect(new Set(ELEMENTS.map((e) => e.name)).size).toBe(ELEMENTS.length);
  });
});

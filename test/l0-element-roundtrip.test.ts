/**
 * Every-element round trip through the hcall ABI, table-driven over the whole element table: each
 * settable thread-wide element set with H_GUEST_SET_STATE to a pattern distinct per element and
 * per vCPU reads back identically with H_GUEST_GET_STATE on three vCPUs of one guest (no value
 * leaks between vCPUs), survives a run of a program that does not touch it, and read-only
 * elements are refused on SET with the right index. Real L1s lost DEXCR, HASHKEYR, HASHPKEYR,
 * MMCR3, SDAR and DPDES this way (shared/spec/bugs-to-catch.md).
 */
import { describe, expect, it } from 'vitest';
import { encode } from '../cores/encode.js';
import { invalidateCode } from '../cores/isa/predecode.js';
import { ELEMENTS, type ElementDef } from '../hypervisor/gsb/elements.js';
import { maskSettable } from '../hypervisor/gsb/mask.js';
import type { ElementValue } from '../hypervisor/gsb/values.js';
import { defaultL0Config, L0 } from '../hypervisor/l0/l0.js';
import { H, Hcall } from '../hypervisor/papr.js';
import { Perm } from '../mem/radix.js';
import { elementFromRoot } from '../mem/radix-root.js';
import { bumpAllocator, RadixWriter } from '../mem/radix-writer.js';
import { asL1RA, asL2RA } from '../mem/types.js';
import { hcall } from './support/hcall.js';
import { createGuest, getState, STATE_BUFFER, setState, writeGsb } from './support/l1-calls.js';

/** Elements whose value the run itself changes (registers the program or the core writes). */
const CHANGED_BY_RUN = new Set([
  'NIA',
  'MSR',
  'PURR',
  'SPURR',
  'IC',
  'VTB',
  'HSRR0',
  'HSRR1',
  'SRR0',
  'SRR1',
  'GPR3',
  'CR',
  'XER',
  'CFAR',
  'HDAR',
  'HDSISR',
  'HEIR',
  'ASDR',
  'DEC_EXPIRY_TB',
  'HDEC_EXPIRY_TB',
  'RUN_INPUT',
  'RUN_OUTPUT',
  'CTRL',
]);

/** Elements whose value needs a particular form (buffers in L1 memory). */
const SPECIAL = new Set(['RUN_INPUT', 'RUN_OUTPUT']);

const settable = ELEMENTS.filter(
  (e) => e.scope === 'thread' && e.id !== 0 && e.l1Settable && !SPECIAL.has(e.name),
);
const readOnly = ELEMENTS.filter((e) => e.scope === 'thread' && e.id !== 0 && !e.l1Settable);

/** A value for element `e` on vCPU `v`, distinct for every (element, vCPU). */
function pattern(e: ElementDef, v: number): ElementValue {
  // The VPA must be one L0 can keep the dispatch count of: 640 bytes of L1 memory in one page.
  if (e.name === 'VPA') return BigInt(0x80_0000 + v * 4096);
  const tag = BigInt(((e.id * 2654435761) ^ (v * 40503)) >>> 0);
  const u64 =
    (0x5a00_0000_0000_0000n | (BigInt(v) << 48n) | (tag << 8n) | BigInt(e.id & 0xff)) & ((1n << 64n) - 1n);
  switch (e.kind) {
    case 'u32':
      return Number(u64 & 0xffff_ffffn) >>> 0 || 1;
    case 'u64':
      return maskSettable(e, u64);
    case 'vec128':
      return { dw0: u64, dw1: u64 ^ 0xffff_0000_ffff_0000n };
    default:
      throw new Error(`no pattern for ${e.name} (${e.kind})`);
  }
}

function rig(vcpus: number) {
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: 16 << 20 }));
  const guest = createGuest(l0);
  for (let v = 0; v < vcpus; v++)
    expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, v).rc).toBe(H.SUCCESS);
  return { l0, guest };
}

describe('every settable thread-wide element round-trips', () => {
  it(`covers the table (${settable.length} settable, ${readOnly.length} read-only thread-wide elements)`, () => {
    expect(settable.length).toBeGreaterThan(150);
    for (const name of ['DEXCR', 'HASHKEYR', 'HASHPKEYR', 'MMCR3', 'SDAR', 'DPDES'])
      expect(settable.map((e) => e.name)).toContain(name);
  });

  it('on 3 vCPUs with different values each, in one SET per vCPU, read back in one GET', () => {
    const { l0, guest } = rig(3);
    for (let v = 0; v < 3; v++) {
      const values = Object.fromEntries(settable.map((e) => [e.name, pattern(e, v)]));
      const r = setState(l0, guest, v, values);
      expect(r.rc, l0.lastReason).toBe(H.SUCCESS);
    }
    for (let v = 0; v < 3; v++) {
      const got = getState(
        l0,
        guest,
        v,
        settable.map((e) => e.name),
      );
      for (const e of settable) expect(got[e.name], `${e.name} on vCPU ${v}`).toEqual(pattern(e, v));
    }
  });

  it.each(['DEXCR', 'HASHKEYR', 'HASHPKEYR', 'MMCR3', 'SDAR', 'DPDES'])(
    '%s set alone is kept, and survives a run that does not touch it',
    (name) => {
      const { l0, guest } = rig(2);
      const e = settable.find((x) => x.name === name)!;
      expect(setState(l0, guest, 0, { [name]: pattern(e, 0) }).rc).toBe(H.SUCCESS);
      expect(setState(l0, guest, 1, { [name]: pattern(e, 1) }).rc).toBe(H.SUCCESS);
      runOnce(l0, guest);
      expect(getState(l0, guest, 0, [name])[name]).toEqual(pattern(e, 0));
      expect(getState(l0, guest, 1, [name])[name]).toEqual(pattern(e, 1));
    },
  );

  it('every settable element not changed by the program survives a run', () => {
    const { l0, guest } = rig(1);
    const keep = settable.filter((e) => !CHANGED_BY_RUN.has(e.name) && !/^(GPR|LPCR|HFSCR)/.test(e.name));
    expect(setState(l0, guest, 0, Object.fromEntries(keep.map((e) => [e.name, pattern(e, 0)]))).rc).toBe(
      H.SUCCESS,
    );
    runOnce(l0, guest);
    const got = getState(
      l0,
      guest,
      0,
      keep.map((e) => e.name),
    );
    for (const e of keep) expect(got[e.name], e.name).toEqual(pattern(e, 0));
  });

  it.each(readOnly.map((e) => [e.name, e] as const))(
    'read-only %s is refused on SET with its index',
    (_n, e) => {
      const { l0, guest } = rig(1);
      const value = e.kind === 'u32' ? 1 : 1n;
      const n = writeGsb(l0, STATE_BUFFER, { GPR5: 5n, [e.name]: value });
      const r = hcall(l0, Hcall.H_GUEST_SET_STATE, 0, guest, 0, STATE_BUFFER, n);
      expect(r.rc).toBe(H.INVALID_ELEMENT_VALUE);
      expect(r.out[0]).toBe(1n);
      expect(getState(l0, guest, 0, ['GPR5']).GPR5).toBe(0n); // nothing applied
    },
  );
});

/** Runs vCPU 0 through one tiny program (`li r3, 1; sc 1`) so state crosses a real run. */
function runOnce(l0: L0, guest: number): void {
  const tables = 0x20_0000;
  const frame = 0x40_0000;
  const w = RadixWriter.create(l0.ram, bumpAllocator(tables, tables + 0x10_0000))!;
  w.map(asL2RA(0), asL1RA(frame), 12, Perm.Read | Perm.Exec);
  l0.ram.dv.setUint32(frame, encode.addi!(3, 0, 1), true);
  l0.ram.dv.setUint32(frame + 4, encode.sc!(1), true);
  invalidateCode(l0.codeGen);
  expect(setState(l0, guest, 0, { PARTITION_TABLE: elementFromRoot(w.root) }, true).rc).toBe(H.SUCCESS);
  expect(
    setState(l0, guest, 0, {
      RUN_INPUT: { address: 0x2_0000n, bytes: 4096n },
      RUN_OUTPUT: { address: 0x3_0000n, bytes: 4096n },
      NIA: 0n,
      MSR: 0x8000_0000_0000_0001n,
      LPCR: 0x0200_0000n,
    }).rc,
  ).toBe(H.SUCCESS);
  l0.ram.dv.setUint32(0x2_0000, 0, false);
  const r = hcall(l0, Hcall.H_GUEST_RUN_VCPU, 0, guest, 0);
  expect(r.rc).toBe(H.SUCCESS);
  expect(r.out[0]).toBe(0xc00n);
}

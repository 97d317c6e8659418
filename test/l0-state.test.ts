/**
 * H_GUEST_GET_STATE / H_GUEST_SET_STATE through the hcall ABI: each documented return code in the
 * order of spec §18 (PAPR-code column), guest-wide and host-wide requests, and the Linux L1
 * client's real call sequence (spec §13).
 */
import { describe, expect, it } from 'vitest';
import { defaultL0Config, L0 } from '../hypervisor/l0/l0.js';
import { H, Hcall, StateFlags } from '../hypervisor/papr.js';
import { hcall } from './support/hcall.js';
import { createGuest, getState, idOf, STATE_BUFFER, setState, writeGsb } from './support/l1-calls.js';

const GET = Hcall.H_GUEST_GET_STATE;
const SET = Hcall.H_GUEST_SET_STATE;
const WIDE = StateFlags.GUEST_WIDE;
const HOST = StateFlags.HOST_WIDE;

function rig() {
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: 16 << 20 }));
  const guest = createGuest(l0);
  expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 0).rc).toBe(H.SUCCESS);
  return { l0, guest };
}

/** A raw buffer of (id, length) headers with zero values, for GET. */
function request(l0: L0, elements: [number, number][]): number {
  const dv = l0.ram.dv;
  dv.setUint32(STATE_BUFFER, elements.length);
  let at = STATE_BUFFER + 4;
  for (const [id, len] of elements) {
    dv.setUint16(at, id);
    dv.setUint16(at + 2, len);
    at += 4 + len;
  }
  return at - STATE_BUFFER;
}

describe('return codes, in check order', () => {
  it('reserved flags → H_PARAMETER (SET: bit 1 too; GET: both wide bits at once)', () => {
    const { l0, guest } = rig();
    const n = request(l0, [[idOf('GPR1'), 8]]);
    expect(hcall(l0, SET, HOST, guest, 0, STATE_BUFFER, n).rc).toBe(H.PARAMETER);
    expect(hcall(l0, SET, 1, 999, 0, STATE_BUFFER, n).rc).toBe(H.PARAMETER); // before the guest
    expect(hcall(l0, GET, WIDE | HOST, guest, 0, STATE_BUFFER, n).rc).toBe(H.PARAMETER);
    expect(hcall(l0, GET, 1n << 61n, guest, 0, STATE_BUFFER, n).rc).toBe(H.PARAMETER);
  });

  it('unknown guest → H_P2 (not for host-wide GET); unknown vCPU → H_P3', () => {
    const { l0, guest } = rig();
    const n = request(l0, [[idOf('GPR1'), 8]]);
    expect(hcall(l0, GET, 0, 77, 0, STATE_BUFFER, n).rc).toBe(H.P2);
    expect(hcall(l0, SET, 0, 77, 0, STATE_BUFFER, n).rc).toBe(H.P2);
    expect(hcall(l0, GET, 0, guest, 1, STATE_BUFFER, n).rc).toBe(H.P3);
    expect(hcall(l0, SET, 0, guest, 3000, STATE_BUFFER, n).rc).toBe(H.P3);
    const h = request(l0, [[0x0800, 8]]);
    expect(hcall(l0, GET, HOST, 77, 99, STATE_BUFFER, h).rc).toBe(H.SUCCESS);
  });

  it('buffer outside L1 memory or over 1 MiB → H_P3', () => {
    const { l0, guest } = rig();
    expect(hcall(l0, GET, 0, guest, 0, l0.ram.size - 8, 64).rc).toBe(H.P3);
    expect(hcall(l0, GET, 0, guest, 0, -1, 64).rc).toBe(H.P3);
    expect(hcall(l0, SET, 0, guest, 0, STATE_BUFFER, (1 << 20) + 1).rc).toBe(H.P3);
  });

  it('element errors → _ID / _SIZE / _VALUE with r4 = the element index', () => {
    const { l0, guest } = rig();
    let n = request(l0, [
      [idOf('GPR1'), 8],
      [0x7777, 8],
    ]);
    let r = hcall(l0, GET, 0, guest, 0, STATE_BUFFER, n);
    expect([r.rc, r.out[0]]).toEqual([H.INVALID_ELEMENT_ID, 1n]);
    n = request(l0, [
      [idOf('GPR1'), 8],
      [idOf('GPR2'), 8],
      [idOf('CR'), 8],
    ]);
    r = hcall(l0, SET, 0, guest, 0, STATE_BUFFER, n);
    expect([r.rc, r.out[0]]).toEqual([H.INVALID_ELEMENT_SIZE, 2n]);
    n = request(l0, [[idOf('LOGICAL_PVR'), 4]]); // guest-wide in a thread request
    r = hcall(l0, GET, 0, guest, 0, STATE_BUFFER, n);
    expect([r.rc, r.out[0]]).toEqual([H.INVALID_ELEMENT_VALUE, 0n]);
    n = request(l0, [
      [idOf('TB_OFFSET'), 8],
      [idOf('GPR1'), 8],
    ]); // thread-wide in a guest-wide request
    r = hcall(l0, GET, WIDE, guest, 0, STATE_BUFFER, n);
    expect([r.rc, r.out[0]]).toEqual([H.INVALID_ELEMENT_VALUE, 1n]);
    n = writeGsb(l0, STATE_BUFFER, { RUN_OUTPUT_MIN_SIZE: 5n }); // read-only
    r = hcall(l0, SET, WIDE, guest, 0, STATE_BUFFER, n);
    expect([r.rc, r.out[0]]).toEqual([H.INVALID_ELEMENT_VALUE, 0n]);
  });

  it('bad values → H_INVALID_ELEMENT_VALUE, nothing applied', () => {
    const { l0, guest } = rig();
    const cases: Record<string, unknown>[] = [
      { GPR7: 1n, RUN_OUTPUT: { address: 0x1000n, bytes: 64n } }, // below 128
      { GPR7: 1n, RUN_INPUT: { address: 0x1000n, bytes: 32768n } }, // above 16384
      { GPR7: 1n, RUN_INPUT: { address: BigInt(l0.ram.size - 128), bytes: 4096n } }, // not in L1 memory
    ];
    for (const values of cases) {
      const r = setState(l0, guest, 0, values as never);
      expect([r.rc, r.out[0]]).toEqual([H.INVALID_ELEMENT_VALUE, 1n]);
      expect(getState(l0, guest, 0, ['GPR7']).GPR7).toBe(0n);
    }
    const wide: Record<string, unknown>[] = [
      { PARTITION_TABLE: { address: 0x10_0000n, eaBits: 52n, rootBytes: 1000n } },
      { PARTITION_TABLE: { address: 0x10_0001n, eaBits: 52n, rootBytes: 65536n } },
      { PROCESS_TABLE: { address: 0x10_0000n, bytes: 100n } },
      { LOGICAL_PVR: 0x1234 },
    ];
    for (const values of wide)
      expect(setState(l0, guest, 0, values as never, true).rc).toBe(H.INVALID_ELEMENT_VALUE);
  });

  it('reserved LPCR and MSR bits are masked silently', () => {
    const { l0, guest } = rig();
    expect(setState(l0, guest, 0, { LPCR: 0xffff_ffff_ffff_ffffn, MSR: 0xffff_ffff_ffff_ffffn }).rc).toBe(
      H.SUCCESS,
    );
    const got = getState(l0, guest, 0, ['LPCR', 'MSR']);
    expect(got.LPCR).toBe(0x0070_0000_0382_0c00n);
    expect(got.MSR).toBe(0xefff_ffff_ffbf_efffn);
  });
});

describe('guest-wide and host-wide state', () => {
  it('partition and process tables, PVR and TB offset round-trip guest-wide', () => {
    const { l0, guest } = rig();
    const values = {
      PARTITION_TABLE: { address: 0x20_0000n, eaBits: 52n, rootBytes: 65536n },
      PROCESS_TABLE: { address: 0x30_0000n, bytes: 4096n },
      LOGICAL_PVR: 0x0f000006,
      TB_OFFSET: 0x1234_5678n,
    };
    expect(setState(l0, guest, 0, values, true).rc).toBe(H.SUCCESS);
    const got = getState(l0, guest, 0, Object.keys(values), true);
    expect(got).toEqual(values);
    expect(getState(l0, guest, 0, ['RUN_OUTPUT_MIN_SIZE', 'HOST_STATE_SIZE'], true)).toEqual({
      RUN_OUTPUT_MIN_SIZE: 128n,
      HOST_STATE_SIZE: 2048n,
    });
  });

  it('TB_OFFSET applies to existing vCPUs and to vCPUs created later', () => {
    const { l0, guest } = rig();
    expect(setState(l0, guest, 0, { TB_OFFSET: 0x1_0000_0000n }, true).rc).toBe(H.SUCCESS);
    expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 5).rc).toBe(H.SUCCESS);
    for (const slot of [l0.parts.slotOf(guest, 0), l0.parts.slotOf(guest, 5)])
      expect(l0.vcpu(slot).get64(446)).toBe(0x1_0000_0000n); // R.TB_OFFSET, read by the core
  });

  it('host-wide GET reports L0 memory figures that follow guests and vCPUs', () => {
    const { l0 } = rig();
    const n = request(l0, [
      [0x0800, 8],
      [0x0801, 8],
      [0x0802, 8],
    ]);
    expect(hcall(l0, GET, HOST, 0, 0, STATE_BUFFER, n).rc).toBe(H.SUCCESS);
    const used1 = l0.ram.dv.getBigUint64(STATE_BUFFER + 8);
    const max = l0.ram.dv.getBigUint64(STATE_BUFFER + 20);
    expect(used1).toBeGreaterThan(0n);
    expect(max).toBeGreaterThan(used1);
    const guest2 = createGuest(l0);
    hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest2, 0);
    hcall(l0, GET, HOST, 0, 0, STATE_BUFFER, n);
    expect(l0.ram.dv.getBigUint64(STATE_BUFFER + 8)).toBeGreaterThan(used1);
  });
});

describe("the Linux L1 client's call sequence (spec §13)", () => {
  it('tables before vCPUs, output minimum read, output then input registered, full first run, dirty-only later', () => {
    const l0 = new L0(defaultL0Config({ l1MemoryBytes: 16 << 20 }));
    const guest = createGuest(l0);
    // partition and process tables set guest-wide with vCPU id 0 before any vCPU exists
    expect(
      setState(
        l0,
        guest,
        0,
        {
          PARTITION_TABLE: { address: 0x20_0000n, eaBits: 52n, rootBytes: 65536n },
          PROCESS_TABLE: { address: 0x30_0000n, bytes: 4096n },
        },
        true,
      ).rc,
    ).toBe(H.SUCCESS);
    expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 0).rc).toBe(H.SUCCESS);
    // GET 0x0002 guest-wide with the real vCPU id, allocate a power of two
    const min = getState(l0, guest, 0, ['RUN_OUTPUT_MIN_SIZE'], true).RUN_OUTPUT_MIN_SIZE as bigint;
    expect(min).toBe(128n);
    expect(setState(l0, guest, 0, { RUN_OUTPUT: { address: 0x5_0000n, bytes: min } }).rc).toBe(H.SUCCESS);
    expect(setState(l0, guest, 0, { RUN_INPUT: { address: 0x6_0000n, bytes: 4096n } }).rc).toBe(H.SUCCESS);
    // first run input: every thread-wide ID L1 knows, LPCR twice (the last one wins)
    const full = {
      GPR1: 0x100n,
      GPR2: 0x200n,
      NIA: 0x100n,
      MSR: 0x8000_0000_0000_0001n,
      LPCR: 0x0200_0000n,
      HDEC_EXPIRY_TB: 0n,
      DEXCR: 7n,
    };
    writeGsb(l0, 0x6_0000, full);
    // a duplicate LPCR appended by hand: same id twice, the later value must win
    const dv = l0.ram.dv;
    const count = dv.getUint32(0x6_0000);
    let at = 0x6_0004;
    for (let k = 0; k < count; k++) at += 4 + dv.getUint16(at + 2);
    dv.setUint16(at, idOf('LPCR'));
    dv.setUint16(at + 2, 8);
    dv.setBigUint64(at + 4, 0x0300_0000n);
    dv.setUint32(0x6_0000, count + 1);
    const slot = l0.parts.slotOf(guest, 0);
    // The tables point at empty memory: the run faults at once (HISI), which is all we need here.
    const r = hcall(l0, Hcall.H_GUEST_RUN_VCPU, 0, guest, 0);
    expect(r.rc).toBe(H.SUCCESS);
    expect(r.out[0]).toBe(0xe20n);
    expect(l0.vcpu(slot).get(idOf('LPCR'))).toBe(0x0200_0000n | 0x0100_0000n); // 0x0300_0000 masked
    expect(getState(l0, guest, 0, ['DEXCR', 'GPR2']).DEXCR).toBe(7n);
    // later runs: only dirty IDs
    writeGsb(l0, 0x6_0000, { GPR2: 0x222n });
    expect(hcall(l0, Hcall.H_GUEST_RUN_VCPU, 0, guest, 0).rc).toBe(H.SUCCESS);
    expect(getState(l0, guest, 0, ['GPR2', 'GPR1'])).toEqual({ GPR2: 0x222n, GPR1: 0x100n });
  });
});

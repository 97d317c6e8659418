import { describe, expect, it } from 'vitest';
import { type CpuMode, defaultL0Config, L0 } from '../hypervisor/l0/l0.js';
import { Cap, DeleteFlags, H, Hcall } from '../hypervisor/papr.js';
import { hcall } from './support/hcall.js';

const { H_GUEST_GET_CAPABILITIES: GET_CAPS, H_GUEST_SET_CAPABILITIES: SET_CAPS } = Hcall;
const { H_GUEST_CREATE: CREATE, H_GUEST_CREATE_VCPU: CREATE_VCPU, H_GUEST_DELETE: DELETE } = Hcall;

function ready(overrides = {}) {
  const l0 = new L0(defaultL0Config(overrides));
  expect(hcall(l0, SET_CAPS, 0, Cap.POWER9).rc).toBe(H.SUCCESS);
  return l0;
}

describe('H_GUEST_GET/SET_CAPABILITIES', () => {
  const offered: Record<CpuMode, bigint> = {
    power9: Cap.POWER9,
    power10: Cap.POWER9 | Cap.POWER10,
    power11: Cap.POWER9 | Cap.POWER10 | Cap.POWER11,
  };
  for (const mode of ['power9', 'power10', 'power11'] as const) {
    it(`GET offers every mode up to ${mode}`, () => {
      const l0 = new L0(defaultL0Config({ maxMode: mode }));
      const r = hcall(l0, GET_CAPS, 0);
      expect(r.rc).toBe(H.SUCCESS);
      expect(r.out[0]).toBe(offered[mode]);
    });
  }

  it('GET with flags is H_PARAMETER', () => {
    expect(hcall(new L0(), GET_CAPS, 1).rc).toBe(H.PARAMETER);
  });

  // The negotiation matrix: every subset of {COPY_MEM, P9, P10, P11, BITMAP2} against every L0 mode.
  const bits = [Cap.COPY_MEM, Cap.POWER9, Cap.POWER10, Cap.POWER11, Cap.BITMAP2];
  const ibmIndex = (b: bigint) => 63 - (b.toString(2).length - 1);
  for (const mode of ['power9', 'power10', 'power11'] as const) {
    it(`matrix of requests against a ${mode} L0`, () => {
      for (let m = 0; m < 1 << bits.length; m++) {
        const req = bits.filter((_, i) => m & (1 << i)).reduce((a, b) => a | b, 0n);
        const l0 = new L0(defaultL0Config({ maxMode: mode }));
        const r = hcall(l0, SET_CAPS, 0, req);
        const invalid = req & ~offered[mode];
        const label = `request 0x${req.toString(16)}`;
        if (req & Cap.COPY_MEM) {
          expect([r.rc, r.out[0], r.out[1]], label).toEqual([H.P2, 1n, 0n]);
        } else if (req === 0n) {
          const newest = { power9: 1n, power10: 2n, power11: 3n }[mode];
          expect([r.rc, r.out[0], r.out[1]], label).toEqual([H.P2, 1n, newest]);
        } else if (invalid !== 0n) {
          const first = bits
            .filter((b) => invalid & b)
            .map(ibmIndex)
            .sort((a, b) => a - b)[0]!;
          expect([r.rc, r.out[0], r.out[1]], label).toEqual([H.P2, 1n, BigInt(first)]);
        } else {
          expect(r.rc, label).toBe(H.SUCCESS);
          expect(hcall(l0, SET_CAPS, 0, req).rc, `${label} again`).toBe(H.STATE);
        }
      }
    });
  }

  it('SET with flags is H_PARAMETER before anything else', () => {
    expect(hcall(new L0(), SET_CAPS, 1, Cap.COPY_MEM).rc).toBe(H.PARAMETER);
  });
});

describe('H_GUEST_CREATE', () => {
  it('before SET_CAPABILITIES is H_STATE', () => {
    expect(hcall(new L0(), CREATE, 0, -1).rc).toBe(H.STATE);
  });

  it('hands out the lowest free id from 1, and reuses freed ids', () => {
    const l0 = ready();
    expect(hcall(l0, CREATE, 0, -1).out[0]).toBe(1n);
    expect(hcall(l0, CREATE, 0, -1).out[0]).toBe(2n);
    expect(hcall(l0, CREATE, 0, -1).out[0]).toBe(3n);
    expect(hcall(l0, DELETE, 0, 2).rc).toBe(H.SUCCESS);
    expect(hcall(l0, CREATE, 0, -1).out[0]).toBe(2n);
  });

  it('rejects flags and invented continue tokens', () => {
    const l0 = ready();
    expect(hcall(l0, CREATE, 1, -1).rc).toBe(H.UNSUPPORTED_FLAG);
    expect(hcall(l0, CREATE, 0, 0).rc).toBe(H.P2);
    expect(hcall(l0, CREATE, 0, 0x1234).rc).toBe(H.P2);
  });

  it('runs out of ids with H_NOT_ENOUGH_RESOURCES', () => {
    const l0 = ready({ limits: { ...defaultL0Config().limits, maxGuestId: 5 } });
    for (let i = 1; i <= 5; i++) expect(hcall(l0, CREATE, 0, -1)).toMatchObject({ rc: H.SUCCESS });
    expect(hcall(l0, CREATE, 0, -1).rc).toBe(H.NOT_ENOUGH_RESOURCES);
    expect(hcall(l0, DELETE, DeleteFlags.ALL, 0).rc).toBe(H.SUCCESS);
    expect(hcall(l0, CREATE, 0, -1).out[0]).toBe(1n);
  });

  it('with injected busy answers, the continue token leads to the guest', () => {
    const l0 = ready({ faults: { createBusy: 3, deleteBusy: 0 } });
    let r = hcall(l0, CREATE, 0, -1);
    const token = r.out[0]!;
    let busy = 0;
    while (r.rc === H.BUSY) {
      busy++;
      expect(r.out[0]).toBe(token);
      r = hcall(l0, CREATE, 0, token);
    }
    expect(busy).toBe(3);
    expect(r.rc).toBe(H.SUCCESS);
    expect(r.out[0]).toBe(1n);
    // The token is spent: passing it again is an invented token.
    expect(hcall(l0, CREATE, 0, token).rc).toBe(H.P2);
  });
});

describe('H_GUEST_CREATE_VCPU', () => {
  it('accepts sparse ids in any order and refuses duplicates', () => {
    const l0 = ready();
    const g = hcall(l0, CREATE, 0, -1).out[0]!;
    for (const v of [7, 0, 2047, 3]) expect(hcall(l0, CREATE_VCPU, 0, g, v).rc, `vcpu ${v}`).toBe(H.SUCCESS);
    expect(hcall(l0, CREATE_VCPU, 0, g, 7).rc).toBe(H.IN_USE);
  });

  it('checks flags, then guest, then id range', () => {
    const l0 = ready();
    const g = hcall(l0, CREATE, 0, -1).out[0]!;
    expect(hcall(l0, CREATE_VCPU, 1, 99, 5000).rc).toBe(H.UNSUPPORTED_FLAG);
    expect(hcall(l0, CREATE_VCPU, 0, 99, 5000).rc).toBe(H.P2);
    expect(hcall(l0, CREATE_VCPU, 0, g, 2048).rc).toBe(H.P3);
    expect(hcall(l0, CREATE_VCPU, 0, g, -1).rc).toBe(H.P3);
  });

  it('runs out of slots with H_NOT_ENOUGH_RESOURCES and gets them back on delete', () => {
    const l0 = ready({ maxVcpus: 4 });
    const g1 = hcall(l0, CREATE, 0, -1).out[0]!;
    for (let v = 0; v < 4; v++) expect(hcall(l0, CREATE_VCPU, 0, g1, v).rc).toBe(H.SUCCESS);
    const g2 = hcall(l0, CREATE, 0, -1).out[0]!;
    expect(hcall(l0, CREATE_VCPU, 0, g2, 0).rc).toBe(H.NOT_ENOUGH_RESOURCES);
    expect(hcall(l0, DELETE, 0, g1).rc).toBe(H.SUCCESS);
    expect(hcall(l0, CREATE_VCPU, 0, g2, 0).rc).toBe(H.SUCCESS);
  });
});

describe('H_GUEST_DELETE', () => {
  it('rejects reserved flags and unknown guests; a deleted guest is unknown afterwards', () => {
    const l0 = ready();
    const g = hcall(l0, CREATE, 0, -1).out[0]!;
    expect(hcall(l0, DELETE, 0x4000_0000_0000_0000n, g).rc).toBe(H.UNSUPPORTED_FLAG);
    expect(hcall(l0, DELETE, 1, g).rc).toBe(H.UNSUPPORTED_FLAG);
    expect(hcall(l0, DELETE, 0, 77).rc).toBe(H.P2);
    expect(hcall(l0, DELETE, 0, g).rc).toBe(H.SUCCESS);
    expect(hcall(l0, DELETE, 0, g).rc).toBe(H.P2);
    expect(hcall(l0, CREATE_VCPU, 0, g, 0).rc).toBe(H.P2);
  });

  it('delete-all frees every guest, even with no guests', () => {
    const l0 = ready();
    expect(hcall(l0, DELETE, DeleteFlags.ALL, 0).rc).toBe(H.SUCCESS);
    const ids = [1, 2, 3].map(() => hcall(l0, CREATE, 0, -1).out[0]!);
    for (const g of ids) expect(hcall(l0, CREATE_VCPU, 0, g, 0).rc).toBe(H.SUCCESS);
    expect(hcall(l0, DELETE, DeleteFlags.ALL, 12345).rc).toBe(H.SUCCESS);
    for (const g of ids) expect(hcall(l0, DELETE, 0, g).rc).toBe(H.P2);
  });

  it('with injected busy answers, retrying converges', () => {
    const l0 = ready({ faults: { createBusy: 0, deleteBusy: 2 } });
    const g = hcall(l0, CREATE, 0, -1).out[0]!;
    expect(hcall(l0, DELETE, 0, g).rc).toBe(H.BUSY);
    expect(hcall(l0, DELETE, 0, g).rc).toBe(H.BUSY);
    expect(hcall(l0, DELETE, 0, g).rc).toBe(H.SUCCESS);
    expect(hcall(l0, DELETE, 0, g).rc).toBe(H.P2);
  });
});

describe('dispatch', () => {
  it('unknown opcodes and H_GUEST_COPY_MEMORY answer H_FUNCTION', () => {
    const l0 = new L0();
    expect(hcall(l0, 0x9999).rc).toBe(H.FUNCTION);
    expect(hcall(l0, Hcall.H_GUEST_COPY_MEMORY, 0).rc).toBe(H.FUNCTION);
  });

  it('counts hcalls by opcode and return code', () => {
    const l0 = new L0();
    hcall(l0, GET_CAPS, 0);
    hcall(l0, GET_CAPS, 1);
    hcall(l0, GET_CAPS, 1);
    expect(l0.stats.toJSON().hcalls.H_GUEST_GET_CAPABILITIES).toEqual({ H_SUCCESS: 1, H_PARAMETER: 2 });
  });
});

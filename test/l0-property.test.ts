/**
 * Property test of L0 (fast-check): random sequences of every hcall it offers, with random and
 * often invalid arguments and buffers. L0 never throws, every return code is one the spec allows
 * for that hcall, and a small model of the expected state (guests, vCPUs, a GPR value per vCPU)
 * agrees with what GET_STATE returns after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowedCodes } from '../hypervisor/allowed-codes.js';
import { defaultL0Config, L0 } from '../hypervisor/l0/l0.js';
import { Cap, H, Hcall, StateFlags } from '../hypervisor/papr.js';
import { hcall } from './support/hcall.js';
import { STATE_BUFFER, writeGsb } from './support/l1-calls.js';

const smallId = fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constantFrom(4095, 4096, 2047, 2048));
const flags = fc.oneof(
  fc.constant(0n),
  fc.constant(1n << 63n),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const value = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

type Op =
  | { k: 'caps'; get: boolean; flags: bigint; bitmap: bigint }
  | { k: 'create'; flags: bigint }
  | { k: 'vcpu'; guest: number; vcpu: number }
  | { k: 'set'; guest: number; vcpu: number; value: bigint; flags: bigint; size: number }
  | { k: 'get'; guest: number; vcpu: number }
  | { k: 'run'; guest: number; vcpu: number; flags: bigint }
  | { k: 'delete'; guest: number; all: boolean }
  | { k: 'rpt'; lpid: number; target: number; type: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('caps' as const),
    get: fc.boolean(),
    flags,
    bitmap: fc.oneof(fc.constant(Cap.POWER10), value),
  }),
  fc.record({ k: fc.constant('create' as const), flags: fc.oneof(fc.constant(0n), flags) }),
  fc.record({ k: fc.constant('vcpu' as const), guest: smallId, vcpu: smallId }),
  fc.record({
    k: fc.constant('set' as const),
    guest: smallId,
    vcpu: smallId,
    value,
    flags: fc.oneof(fc.constant(0n), fc.constant(0n), flags),
    size: fc.oneof(fc.constant(0), fc.integer({ min: -4, max: 40 })),
  }),
  fc.record({ k: fc.constant('get' as const), guest: smallId, vcpu: smallId }),
  fc.record({
    k: fc.constant('run' as const),
    guest: smallId,
    vcpu: smallId,
    flags: fc.oneof(fc.constant(0n), flags),
  }),
  fc.record({ k: fc.constant('delete' as const), guest: smallId, all: fc.boolean() }),
  fc.record({
    k: fc.constant('rpt' as const),
    lpid: smallId,
    target: fc.integer({ min: 0, max: 8 }),
    type: fc.integer({ min: 0, max: 31 }),
  }),
);

describe('L0 under random hcall sequences', () => {
  it('never throws, answers only allowed codes, and GET_STATE agrees with a model', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const l0 = new L0(
          defaultL0Config({
            l1MemoryBytes: 4 << 20,
            maxVcpus: 8,
            limits: { ...defaultL0Config().limits, maxGuestId: 5 },
          }),
        );
        /** guest id → vCPU id → GPR9 value */
        const model = new Map<number, Map<number, bigint>>();
        for (const o of ops) {
          let opcode: number;
          let rc: number;
          let out: bigint[];
          switch (o.k) {
            case 'caps':
              opcode = o.get ? Hcall.H_GUEST_GET_CAPABILITIES : Hcall.H_GUEST_SET_CAPABILITIES;
              ({ rc, out } = hcall(l0, opcode, o.flags, o.bitmap));
              break;
            case 'create':
              opcode = Hcall.H_GUEST_CREATE;
              ({ rc, out } = hcall(l0, opcode, o.flags, -1));
              if (rc === H.SUCCESS) model.set(Number(out[0]), new Map());
              break;
            case 'vcpu':
              opcode = Hcall.H_GUEST_CREATE_VCPU;
              ({ rc, out } = hcall(l0, opcode, 0, o.guest, o.vcpu));
              if (rc === H.SUCCESS) model.get(o.guest)!.set(o.vcpu, 0n);
              break;
            case 'set': {
              opcode = Hcall.H_GUEST_SET_STATE;
              const n = writeGsb(l0, STATE_BUFFER, { GPR9: o.value });
              const size = o.size === 0 ? n : o.size;
              ({ rc, out } = hcall(l0, opcode, o.flags, o.guest, o.vcpu, STATE_BUFFER, size));
              if (rc === H.SUCCESS) model.get(o.guest)!.set(o.vcpu, o.value);
              break;
            }
            case 'get': {
              opcode = Hcall.H_GUEST_GET_STATE;
              const n = writeGsb(l0, STATE_BUFFER, { GPR9: 0n });
              ({ rc, out } = hcall(l0, opcode, 0, o.guest, o.vcpu, STATE_BUFFER, n));
              const want = model.get(o.guest)?.get(o.vcpu);
              expect(rc === H.SUCCESS, `GET of guest ${o.guest} vCPU ${o.vcpu}`).toBe(want !== undefined);
              if (want !== undefined) expect(l0.ram.dv.getBigUint64(STATE_BUFFER + 8)).toBe(want);
              break;
            }
            case 'run':
              opcode = Hcall.H_GUEST_RUN_VCPU;
              ({ rc, out } = hcall(l0, opcode, o.flags, o.guest, o.vcpu));
              break;
            case 'delete':
              opcode = Hcall.H_GUEST_DELETE;
              ({ rc, out } = hcall(l0, opcode, o.all ? StateFlags.GUEST_WIDE : 0n, o.guest));
              if (rc === H.SUCCESS) {
                if (o.all) model.clear();
                else model.delete(o.guest);
              }
              break;
            case 'rpt':
              opcode = Hcall.H_RPT_INVALIDATE;
              ({ rc, out } = hcall(l0, opcode, o.lpid, o.target, o.type, -1, 0, -1));
              break;
          }
          expect(allowedCodes(opcode), `opcode ${opcode}`).toContain(rc);
          void out;
        }
        // Every modelled vCPU still holds its value; every guest L0 has is modelled.
        for (const [g, vcpus] of model)
          for (const [v, want] of vcpus) {
            const n = writeGsb(l0, STATE_BUFFER, { GPR9: 0n });
            expect(hcall(l0, Hcall.H_GUEST_GET_STATE, 0, g, v, STATE_BUFFER, n).rc).toBe(H.SUCCESS);
            expect(l0.ram.dv.getBigUint64(STATE_BUFFER + 8)).toBe(want);
          }
        for (let g = 1; g <= 5; g++) expect(l0.parts.guestActive(g)).toBe(model.has(g));
      }),
      { numRuns: 300, seed: 20261123 },
    );
  });
});

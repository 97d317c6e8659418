/**
 * The L0 ownership protocol across real threads (docs/architecture.md, "L0 state"), with a worker
 * thread playing the core that holds a vCPU slot and polls its STOP word as a core does at its
 * check points (the multicore runtime's own tests, test/multicore.test.ts, run real cores):
 * - H_GUEST_RUN_VCPU of a vCPU another core runs → H_BUSY, and nothing changes (decisions table);
 * - H_GUEST_DELETE while it runs: the vCPU is asked to stop at its next check point, DELETE returns
 *   H_SUCCESS only after the core released it, and every later call naming the guest gets H_P2.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { defaultL0Config, L0 } from '../hypervisor/l0/l0.js';
import { Owner, S } from '../hypervisor/l0/partitions.js';
import { H, Hcall } from '../hypervisor/papr.js';
import { elementFromRoot } from '../mem/radix-root.js';
import { bumpAllocator, RadixWriter } from '../mem/radix-writer.js';
import { hcall } from './support/hcall.js';
import { createGuest, setState } from './support/l1-calls.js';

const CORE = 3;

/** A worker that takes the slot for CORE, reports it, and releases it once STOP is set. */
const CORE_THREAD = `
const { workerData: d, parentPort } = require('node:worker_threads');
const w = new Int32Array(d.sab);
if (Atomics.compareExchange(w, d.owner, d.idle, d.held) !== d.idle) throw new Error('slot not idle');
parentPort.postMessage('held');
let checkPoints = 0;
while (Atomics.load(w, d.stop) === 0) { checkPoints++; Atomics.wait(w, d.stop, 0, 5); }
Atomics.store(w, d.stop, 0);
if (Atomics.compareExchange(w, d.owner, d.held, d.idle) !== d.held) throw new Error('lost the slot');
Atomics.notify(w, d.owner);
parentPort.postMessage({ checkPoints });
`;

describe('delete while running', () => {
  it('a run from another core gets H_BUSY; DELETE stops the vCPU on the other thread first; the guest is gone afterwards', async () => {
    const l0 = new L0(defaultL0Config({ l1MemoryBytes: 4 << 20 }));
    const guest = createGuest(l0);
    expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 0).rc).toBe(H.SUCCESS);
    // Everything RUN_VCPU checks before ownership is in place, so the refusal is the ownership one.
    const writer = RadixWriter.create(l0.ram, bumpAllocator(0x10_0000, 0x20_0000))!;
    expect(setState(l0, guest, 0, { PARTITION_TABLE: elementFromRoot(writer.root) }, true).rc).toBe(
      H.SUCCESS,
    );
    expect(
      setState(l0, guest, 0, {
        RUN_INPUT: { address: 0x2_0000n, bytes: 4096n },
        RUN_OUTPUT: { address: 0x3_0000n, bytes: 4096n },
        GPR7: 0x1234n,
      }).rc,
    ).toBe(H.SUCCESS);
    const slot = l0.parts.slotOf(guest, 0);
    const worker = new Worker(CORE_THREAD, {
      eval: true,
      workerData: {
        sab: l0.parts.sab,
        owner: l0.parts.slotWord(slot, S.OWNER),
        stop: l0.parts.slotWord(slot, S.STOP),
        idle: Owner.IDLE,
        held: Owner.OWNER_CORE0 + CORE,
      },
    });
    const messages: unknown[] = [];
    const done = new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => {
        messages.push(m);
        if (typeof m === 'object') resolve();
      });
      worker.on('error', reject);
    });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    expect(l0.parts.holderOf(slot)).toBe(CORE);
    // The vCPU is held by core 3: a run from another core is refused and changes nothing, even
    // with an input buffer that would set a register; so is a GET_STATE of its registers.
    l0.ram.dv.setUint32(0x2_0000, 1, false);
    l0.ram.dv.setUint16(0x2_0004, 0x1007, false); // GPR7
    l0.ram.dv.setUint16(0x2_0006, 8, false);
    l0.ram.dv.setBigUint64(0x2_0008, 0xdeadn, false);
    expect(hcall(l0, Hcall.H_GUEST_RUN_VCPU, 0, guest, 0).rc).toBe(H.BUSY);
    expect(l0.parts.holderOf(slot)).toBe(CORE);
    expect(hcall(l0, Hcall.H_GUEST_GET_STATE, 0, guest, 0, 0x8_0000, 0x1000).rc).toBe(H.BUSY);
    const gpr7 = new DataView(new ArrayBuffer(8));
    l0.vcpu(slot).readElement(0x1007, gpr7, 0);
    expect(gpr7.getBigUint64(0)).toBe(0x1234n);
    // DELETE blocks until core 3 passed a check point and let go.
    expect(hcall(l0, Hcall.H_GUEST_DELETE, 0, guest).rc).toBe(H.SUCCESS);
    expect(l0.parts.holderOf(slot)).toBe(-1);
    await done;
    await worker.terminate();
    expect(messages.length).toBe(2);
    expect(hcall(l0, Hcall.H_GUEST_RUN_VCPU, 0, guest, 0).rc).toBe(H.P2);
    expect(hcall(l0, Hcall.H_GUEST_CREATE_VCPU, 0, guest, 1).rc).toBe(H.P2);
    expect(hcall(l0, Hcall.H_GUEST_DELETE, 0, guest).rc).toBe(H.P2);
    expect(l0.parts.guestActive(guest)).toBe(false);
  });
});

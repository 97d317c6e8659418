/**
 * Guests and vCPUs created and deleted per second, two ways:
 *   through L1   L1.createGuest / L1.deleteGuest, everything a guest start costs in nestsim: the
 *                hcalls in Linux's order (CREATE, partition table, CREATE_VCPU, run buffers,
 *                initial registers), the L2 address space (radix root, firmware and ELF regions,
 *                stacks; demand paging, so no page is filled yet) and the loop table entries;
 *   raw hcalls   H_GUEST_CREATE / H_GUEST_CREATE_VCPU / H_GUEST_DELETE back to back on an L0, what
 *                L0 alone costs.
 * A run is a batch timed as a whole; the rate is the batch over its wall time. Each run starts from
 * a fresh simulation (or L0), so that runs do not inherit each other's garbage.
 */
import { Hcall } from '../../hypervisor/papr.js';
import { Simulation } from '../../src/simulation.js';
import { perRun, runsFor } from '../stats.js';
import { L0Caller } from '../support/l0-caller.js';
import { exitAtOnce } from '../support/programs.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const SUITE = 'lifecycle';

/** vCPUs per guest in the vCPU measurements through L1 (L0's default pool has 256 slots). */
const WIDE_GUEST_VCPUS = 64;

/** Per run: guests created then deleted through L1; created and deleted per second. */
function throughL1(guests: number, vcpus: number): { create: number; del: number } {
  const sim = new Simulation({ l1MemoryBytes: 256 << 20, maxInstructions: 1 });
  const image = exitAtOnce();
  let create = 0;
  let del = 0;
  // One guest alive at a time when it is wide (L0's pool), all of them at once otherwise.
  const alive = vcpus > 1 ? 1 : guests;
  for (let done = 0; done < guests; done += alive) {
    const t0 = performance.now();
    const made = [];
    for (let k = 0; k < alive; k++)
      made.push(sim.addGuest({ name: `g${done + k}`, image, vcpus, memoryBytes: 1 << 20, paging: 'demand' }));
    const t1 = performance.now();
    for (const g of made) sim.l1.deleteGuest(g);
    const t2 = performance.now();
    create += t1 - t0;
    del += t2 - t1;
  }
  return { create: (guests * vcpus) / (create / 1000), del: (guests * vcpus) / (del / 1000) };
}

/** Per run: `guests` raw H_GUEST_CREATE then as many H_GUEST_DELETE; per second each. */
function rawGuests(guests: number): { create: number; del: number } {
  const c = new L0Caller();
  c.negotiate();
  const ids = new Array<number>(guests);
  const t0 = performance.now();
  for (let k = 0; k < guests; k++) ids[k] = c.must(Hcall.H_GUEST_CREATE, 0, -1).num(4);
  const t1 = performance.now();
  for (let k = 0; k < guests; k++) c.must(Hcall.H_GUEST_DELETE, 0, ids[k]!);
  const t2 = performance.now();
  return { create: guests / ((t1 - t0) / 1000), del: guests / ((t2 - t1) / 1000) };
}

/** Per run: `vcpus` raw H_GUEST_CREATE_VCPU in one guest, then the H_GUEST_DELETE that frees them all. */
function rawVcpus(vcpus: number): { create: number; del: number } {
  const c = new L0Caller({ maxVcpus: vcpus });
  c.negotiate();
  const g = c.createGuest();
  const t0 = performance.now();
  for (let v = 0; v < vcpus; v++) c.must(Hcall.H_GUEST_CREATE_VCPU, 0, g, v);
  const t1 = performance.now();
  c.must(Hcall.H_GUEST_DELETE, 0, g);
  const t2 = performance.now();
  return { create: vcpus / ((t1 - t0) / 1000), del: vcpus / ((t2 - t1) / 1000) };
}

/** The lifecycle suite. */
export const suite: BenchSuite = {
  name: SUITE,
  describe: 'guests and vCPUs created and deleted per second, through L1 and as raw hcalls',
  async run(ctx) {
    const runs = runsFor(ctx, 2, 7);
    const warmup = 1;
    const l1Guests = ctx.quick ? 20 : 200;
    const wideGuests = ctx.quick ? 2 : 16;
    const rawGuestBatch = ctx.quick ? 200 : 2000;
    const rawVcpuBatch = ctx.quick ? 256 : 2048;
    const out: BenchMetric[] = [];

    /** Runs `fn` warmup + runs times and reports its two rates. */
    const pair = (
      label: string,
      fn: () => { create: number; del: number },
      unit: string,
      notes: { create: string; del: string },
    ) => {
      ctx.measuring(label);
      const create: number[] = [];
      const del: number[] = [];
      for (let k = 0; k < warmup + runs; k++) {
        const r = fn();
        if (k < warmup) continue;
        create.push(r.create);
        del.push(r.del);
      }
      out.push(
        perRun({ suite: SUITE, name: `${label}: created/s`, unit, note: notes.create }, create, warmup),
        perRun({ suite: SUITE, name: `${label}: deleted/s`, unit, note: notes.del }, del, warmup),
      );
    };

    pair('guests through L1 (1 vCPU)', () => throughL1(l1Guests, 1), 'guests/s', {
      create: `L1.createGuest of ${l1Guests} guests of 1 vCPU (a 5-instruction program, 1 MiB, demand paging) back to back in one simulation, over their wall time`,
      del: `L1.deleteGuest of those ${l1Guests} guests (H_GUEST_DELETE, address space and run buffers returned to L1)`,
    });
    pair(
      `vCPUs through L1 (guests of ${WIDE_GUEST_VCPUS})`,
      () => throughL1(wideGuests, WIDE_GUEST_VCPUS),
      'vCPUs/s',
      {
        create: `L1.createGuest of ${wideGuests} guests of ${WIDE_GUEST_VCPUS} vCPUs one after the other (each deleted before the next), vCPUs over the creation wall time (guest creation included)`,
        del: `L1.deleteGuest of each of those guests, vCPUs over the deletion wall time`,
      },
    );
    pair('guests, raw hcalls', () => rawGuests(rawGuestBatch), 'guests/s', {
      create: `${rawGuestBatch} H_GUEST_CREATE back to back on a negotiated L0 (no vCPUs, no state), over their wall time`,
      del: `${rawGuestBatch} H_GUEST_DELETE of those guests, over their wall time`,
    });
    pair('vCPUs, raw hcalls', () => rawVcpus(rawVcpuBatch), 'vCPUs/s', {
      create: `${rawVcpuBatch} H_GUEST_CREATE_VCPU into one guest back to back, over their wall time`,
      del: `one H_GUEST_DELETE of that guest, freeing its ${rawVcpuBatch} vCPUs: vCPUs over its wall time`,
    });
    return out;
  },
};

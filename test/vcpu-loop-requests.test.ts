/**
 * One-shot entry requests of the L1 vCPU loop (an external interrupt made pending through v2's run
 * flag, state-races' pendingEvery) live in the loop table, so an entry L0 answers H_BUSY does not
 * lose them, even when the loop is rebuilt on another core (a new NestedVcpu object) before the
 * retry; and an entry that went in carries them once.
 */
import { describe, expect, it } from 'vitest';
import { LoopTable } from '../hypervisor/l1/loop-table.js';
import type { ExitView, NestedVcpu } from '../hypervisor/l1/nested-vcpu.js';
import { L1VcpuLoop, type OwnerPolicy, Step } from '../hypervisor/l1/vcpu-loop.js';
import { H, Vector } from '../hypervisor/papr.js';
import { GuestRam } from '../mem/ram.js';
import { loopSpec } from './support/loop-entries.js';

/** A vCPU whose entries answer `answers` in turn, recording whether each carried the request. */
function fakeVcpu(answers: number[], carried: boolean[]): NestedVcpu {
  let requested = false;
  return {
    exit: { gpr: new Int32Array(20) } as unknown as ExitView,
    exitError: '',
    vector: Vector.STOPPED,
    enter: () => {
      carried.push(requested);
      requested = false;
      return answers.shift() ?? H.SUCCESS;
    },
    requestExternal: () => {
      requested = true;
    },
    setGpr: () => {},
    setHdecExpiry: () => {},
    setLpcr: () => {},
    setDpdes: () => {},
    setNia: () => {},
    readGpr: () => undefined,
    l0KeepsDispatchCount: true,
    setVpa: () => H.SUCCESS,
  };
}

describe('the loop’s one-shot entry requests', () => {
  it('survive H_BUSY and a rebuild on another core, and go with exactly one entry', () => {
    const table = LoopTable.create(2);
    const e = table.add(loopSpec(1, 0));
    const policy: OwnerPolicy = {
      refreshEvery: 0,
      refresh: () => undefined,
      pendingEvery: 1_000_000, // only the first step requests
      irqEvery: 0,
      irq: null,
      doorbells: null,
    };
    const carried: boolean[] = [];
    const loopOn = (vcpu: NestedVcpu) =>
      new L1VcpuLoop(
        () => 0,
        1,
        0,
        vcpu,
        { fault: () => undefined, read: () => undefined, l1Address: () => -1, ram: GuestRam.create(1 << 20) },
        {
          console: () => {},
          vcpuExit: () => {},
          groupExit: () => {},
          failed: () => {},
          exit: () => {},
          violation: () => {},
        },
        0,
        table,
        e,
        null,
        policy,
      );
    // Step 1_000_000 of the table's count requests; start just below it.
    for (let k = 1; k < 1_000_000; k++) table.countStep(e);
    expect(loopOn(fakeVcpu([H.BUSY], carried)).step(0)).toBe(Step.YIELD); // core 0: busy
    const moved = loopOn(fakeVcpu([], carried)); // core 1 rebuilds the loop
    expect(moved.step(1)).toBe(Step.RUN);
    expect(moved.step(1)).toBe(Step.RUN);
    expect(carried).toEqual([true, true, false]);
  });
});

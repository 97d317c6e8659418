/**
 * L1's doorbell emulation (hypervisor/l1/doorbells.ts) on its own: msgsndp marks a doorbell
 * pending for the sibling it names, msgclrp clears the sender's own; DPDES is sent exactly when
 * what is pending changes; other message types and threads the core lacks are no-ops; the
 * test-only bug changes only what it says. End to end in test/stress.test.ts, doorbells.
 */
import { describe, expect, it } from 'vitest';
import { DoorbellBug, Doorbells, MSGCLRP_XO, MSGSNDP_XO } from '../hypervisor/l1/doorbells.js';
import { LoopTable } from '../hypervisor/l1/loop-table.js';
import type { NestedVcpu } from '../hypervisor/l1/nested-vcpu.js';
import { loopSpec } from './support/loop-entries.js';

const DPDES_TYPE = 5 << 27;

/** Guest 1 with vCPUs 0..3 (two cores of two threads) in a loop table, and their views. */
function rig(bugs = 0) {
  const table = LoopTable.create(8);
  const views = [0, 1, 2, 3].map((v) => {
    const e = table.add(loopSpec(1, v, { doorbellThreads: 2, doorbellFlags: bugs }));
    return { e, db: new Doorbells(table, e, 1, v) };
  });
  const sent: number[][] = [[], [], [], []];
  const vcpus = sent.map((log) => ({ setDpdes: (lo: number) => log.push(lo) }) as unknown as NestedVcpu);
  return { table, views, vcpus, sent };
}

describe('L1 doorbell emulation among SMT siblings', () => {
  it('msgsndp reaches the sibling it names (and only it); its DPDES is sent once, cleared by its msgclrp', () => {
    const { views, vcpus, sent } = rig();
    expect(views[2]!.db.emulate(MSGSNDP_XO, DPDES_TYPE | 1)).toBe(true); // vCPU 2 → thread 1 = vCPU 3
    for (const [k, { db }] of views.entries()) {
      db.sync(vcpus[k]!);
      db.sync(vcpus[k]!);
    }
    expect(sent).toEqual([[], [], [], [1]]);
    views[3]!.db.emulate(MSGCLRP_XO, DPDES_TYPE | 1);
    views[3]!.db.sync(vcpus[3]!);
    expect(sent[3]).toEqual([1, 0]);
    expect([views[2]!.db.sent, views[3]!.db.cleared]).toEqual([1, 1]);
  });

  it('another message type, or a thread the core does not have: nothing happens', () => {
    const { views, vcpus, sent } = rig();
    views[0]!.db.emulate(MSGSNDP_XO, (4 << 27) | 1);
    views[0]!.db.emulate(MSGSNDP_XO, DPDES_TYPE | 2);
    for (const [k, { db }] of views.entries()) db.sync(vcpus[k]!);
    expect(sent).toEqual([[], [], [], []]);
    expect(views[0]!.db.sent).toBe(0);
  });

  it('a sibling whose loop is gone: the doorbell has nowhere to go', () => {
    const { table, views } = rig();
    table.markDone(views[1]!.e);
    expect(views[0]!.db.emulate(MSGSNDP_XO, DPDES_TYPE | 1)).toBe(false);
  });

  it('mutant DPDES_NOT_PASSED: the doorbell is pending in L1 but never sent', () => {
    const { views, vcpus, sent } = rig(DoorbellBug.DPDES_NOT_PASSED);
    views[0]!.db.emulate(MSGSNDP_XO, DPDES_TYPE | 1);
    views[1]!.db.sync(vcpus[1]!);
    expect(sent[1]).toEqual([]);
  });
});

/**
 * L1's virtual interrupt source (hypervisor/l1/virtual-irq.ts) on its own: MER is sent exactly
 * when it must change, built from L1's LPCR copy with MER masked off; H_XIRR takes one pending
 * interrupt or answers none; a run of H_XIRR exits with nothing else between is a flood. The two
 * test-only L1 bugs change only what they say. End to end (with L0 and the core) in
 * test/stress.test.ts, irq-storm.
 */
import { describe, expect, it } from 'vitest';
import { L, LoopTable } from '../hypervisor/l1/loop-table.js';
import type { NestedVcpu } from '../hypervisor/l1/nested-vcpu.js';
import { FLOOD_LIMIT, IrqBug, LPCR_MER, VIRQ_SOURCE, VirtualIrq } from '../hypervisor/l1/virtual-irq.js';
import { loopSpec } from './support/loop-entries.js';

const L2_LPCR = 0x0200_0000;

/** A loop-table entry with an interrupt policy, and a vCPU that records the LPCRs it is sent. */
function rig(bugs = 0) {
  const table = LoopTable.create(4);
  const e = table.add(loopSpec(1, 0, { irqEvery: 3, irqFlags: bugs, lpcrLo: L2_LPCR }));
  const sent: number[] = [];
  const vcpu = { setLpcr: (_hi: number, lo: number) => sent.push(lo) } as unknown as NestedVcpu;
  return { table, e, irq: new VirtualIrq(table, e), vcpu, sent };
}

describe('L1 virtual interrupts through LPCR[MER]', () => {
  it('sends MER when one becomes pending and clears it once none is, nothing in between', () => {
    const { irq, vcpu, sent } = rig();
    irq.sync(vcpu);
    expect(sent).toEqual([]); // nothing pending, MER already clear
    irq.raise();
    irq.raise();
    irq.sync(vcpu);
    irq.sync(vcpu);
    expect(sent).toEqual([L2_LPCR | LPCR_MER]);
    expect(irq.accept().xirr).toBe((0xff00_0000 | VIRQ_SOURCE) >>> 0);
    irq.sync(vcpu); // one still pending: MER stays, nothing sent
    expect(irq.accept().xirr).toBe((0xff00_0000 | VIRQ_SOURCE) >>> 0);
    irq.sync(vcpu);
    expect(sent).toEqual([L2_LPCR | LPCR_MER, L2_LPCR]);
    expect(irq.accept().xirr).toBe(0); // none pending: spurious
    expect([irq.raised, irq.taken, irq.spurious, irq.pending]).toEqual([2, 2, 1, 0]);
  });

  it('masks MER off L1’s copy: a copy read back with MER set does not keep it set', () => {
    const { irq, vcpu, sent } = rig();
    irq.raise();
    irq.sync(vcpu);
    irq.accept();
    irq.copyLpcr(0, L2_LPCR | LPCR_MER); // a refresh read L0's LPCR before the clear was sent
    irq.sync(vcpu);
    expect(sent).toEqual([L2_LPCR | LPCR_MER, L2_LPCR]);
  });

  it('mutant MER_UNMASKED: the same sequence leaves MER set with nothing pending', () => {
    const { irq, vcpu, sent } = rig(IrqBug.MER_UNMASKED);
    irq.raise();
    irq.sync(vcpu);
    irq.accept();
    irq.copyLpcr(0, L2_LPCR | LPCR_MER);
    irq.sync(vcpu);
    expect(sent).toEqual([L2_LPCR | LPCR_MER, L2_LPCR | LPCR_MER]);
  });

  it('mutant MER_NOT_PASSED: nothing is ever sent', () => {
    const { irq, vcpu, sent } = rig(IrqBug.MER_NOT_PASSED);
    irq.raise();
    irq.sync(vcpu);
    expect(sent).toEqual([]);
  });

  it('a flood is FLOOD_LIMIT H_XIRR exits in a row; any other exit ends the run', () => {
    const { table, e, irq } = rig();
    for (let k = 1; k < FLOOD_LIMIT; k++) expect(irq.accept().flooded).toBe(false);
    irq.progress();
    expect(table.get(e, L.IRQ_RUN)).toBe(0);
    for (let k = 1; k < FLOOD_LIMIT; k++) irq.accept();
    expect(irq.accept().flooded).toBe(true);
  });

  it('lives in the loop table: a second view (another core) sees the same state', () => {
    const { table, e, irq, vcpu, sent } = rig();
    irq.raise();
    irq.sync(vcpu);
    const moved = new VirtualIrq(table, e);
    expect(moved.pending).toBe(1);
    moved.sync(vcpu); // MER already sent by the first core
    expect(sent).toHaveLength(1);
  });
});

/**
 * Interrupt storm (bugs-to-catch.md A; checklist items 2 and 5): L1 raises external interrupts
 * for its L2 vCPUs on its virtual interrupt source and delivers them the nestedv2 way, through
 * LPCR[MER] (hypervisor/l1/virtual-irq.ts), while its loops refresh the vCPUs' whole state
 * between entries (GET every element, SET it back: the refresh that once made L1 cache an LPCR
 * with MER set). The L2s (src/stress/programs-irq.ts) count with MSR[EE] = 1 and take each
 * interrupt in their own 0x500 handler, which asks L1 for it with H_XIRR. L1 gives each guest a
 * short HDEC slice, so entries (and thus raises and refreshes) come often.
 *
 * Checks, from L1's counters and the L2s' own:
 * - none lost: every interrupt L1 raised was taken by the L2 exactly once (a MER that never
 *   reached L0, or one cleared too early, leaves some untaken);
 * - none spurious: no 0x500 found nothing pending (MER set while nothing is: the MER flood; L1
 *   stops a vCPU after FLOOD_LIMIT in a row and reports it);
 * - both sides agree: the handler's counts equal L1's, every H_XIRR answered H_SUCCESS;
 * - the guests computed exactly and exited 0.
 * Under v1 there is no GET/SET_STATE: the interrupts go through hv_guest_state's LPCR, unrefreshed.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import { NestedApi } from '../../../hypervisor/l1/loop-table.js';
import { IrqBug, VirtualIrq } from '../../../hypervisor/l1/virtual-irq.js';
import { type IrqCounters, irqImage, readIrqBlock } from '../programs-irq.js';
import { checkFrom, type StressCheck, type StressContext, type Stressor } from '../stressor.js';
import { PerVcpuStressor } from './per-vcpu.js';

/** Parameters (scenario `stressors.irq-storm`). */
export interface IrqStormParams {
  guests: number;
  vcpus: number;
  /** Trips of each vCPU's counting loop. */
  trips: number;
  /** L1 raises an interrupt for a vCPU every this many of its entries (≥ 2: the L2 must run between). */
  irqEvery: number;
  /** The vCPU's full-state refresh every this many entries (v2 only; 0: never). */
  refreshEvery: number;
  /** L1's HDEC slice per entry, in timebase ticks. */
  hdecTicks: number;
}

/** One vCPU's outcome: L1's side and the L2's. */
interface VcpuOutcome {
  raised: number;
  taken: number;
  spurious: number;
  l2: IrqCounters | undefined;
}

export class IrqStormStressor extends PerVcpuStressor<VcpuOutcome> implements Stressor {
  readonly name = 'irq-storm';
  readonly opName = 'interrupts';

  constructor(private readonly p: IrqStormParams) {
    super();
  }

  get ops(): number {
    let n = 0;
    for (const vs of this.outcomes.values()) for (const v of vs) n += v.taken;
    return n;
  }

  setup(ctx: StressContext): void {
    const p = this.p;
    const v2 = ctx.sim.l1.api === NestedApi.V2;
    const bugs =
      (ctx.mutants.merUnmasked ? IrqBug.MER_UNMASKED : 0) |
      (ctx.mutants.merNotPassed ? IrqBug.MER_NOT_PASSED : 0);
    const { image, firmware } = irqImage(p.trips, p.vcpus);
    for (let k = 0; k < p.guests; k++)
      this.guests.push(
        ctx.sim.addGuest({
          name: `irq-storm#${k + 1}`,
          image,
          firmware,
          vcpus: p.vcpus,
          memoryBytes: 4 << 20,
          paging: k % 2 === 0 ? 'eager' : 'demand',
          hdecTicks: p.hdecTicks,
          policy: {
            refreshEvery: v2 ? p.refreshEvery : 0,
            pendingEvery: 0,
            irqEvery: p.irqEvery,
            irqBugs: bugs,
          },
        }),
      );
  }

  protected outcome(ctx: StressContext, g: L1Guest, entry: number, v: number): VcpuOutcome {
    const irq = new VirtualIrq(ctx.sim.l1.loops, entry);
    return {
      raised: irq.raised,
      taken: irq.taken,
      spurious: irq.spurious,
      l2: readIrqBlock((at, bytes) => g.space.read(at, bytes), v),
    };
  }

  finish(): StressCheck[] {
    const lost: string[] = [];
    const spurious: string[] = [];
    const agree: string[] = [];
    const ran: string[] = [];
    let raised = 0;
    let vcpus = 0;
    for (const g of this.guests) {
      if (g.end.kind !== 'exited' || g.end.code !== 0) ran.push(`${g.name} ended ${JSON.stringify(g.end)}`);
      const outcomes = this.outcomes.get(g);
      if (!outcomes) {
        ran.push(`${g.name}: counters never read`);
        continue;
      }
      outcomes.forEach((o, v) => {
        vcpus++;
        raised += o.raised;
        const who = `${g.name} vCPU ${v}`;
        if (o.taken !== o.raised) lost.push(`${who}: ${o.taken} of ${o.raised} raised interrupts taken`);
        if (o.spurious > 0 || (o.l2?.spurious ?? 0) > 0)
          spurious.push(`${who}: ${o.spurious} external interrupts with none pending`);
        const l2 = o.l2;
        if (!l2) {
          agree.push(`${who}: its counters could not be read`);
          return;
        }
        if (l2.taken !== o.taken || l2.spurious !== o.spurious || l2.handled !== l2.taken + l2.spurious)
          agree.push(
            `${who}: the handler counted ${l2.handled} (${l2.taken} taken, ${l2.spurious} spurious), L1 ${o.taken} taken, ${o.spurious} spurious`,
          );
        if (l2.bad > 0) agree.push(`${who}: ${l2.bad} H_XIRR answers were not H_SUCCESS`);
        if (!l2.done || l2.work !== this.p.trips) ran.push(`${who}: counted ${l2.work} of ${this.p.trips}`);
      });
    }
    const check = (name: string, bad: string[], good: string, evaluated: number) =>
      checkFrom(`irq-storm: ${name}`, bad, good, evaluated);
    return [
      check('no interrupt lost', lost, `all ${raised} raised were taken, once each (${vcpus} vCPUs)`, vcpus),
      check('no spurious interrupt', spurious, 'MER was never set with nothing pending', vcpus),
      check('L1 and L2 agree', agree, 'the handlers counted what L1 answered', 3 * vcpus),
      check('the guests computed exactly', ran, `${this.guests.length} guests, every count exact`, vcpus),
    ];
  }
}

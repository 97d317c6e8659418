/**
 * VPA (bugs-to-catch.md F; checklist item 14): L2 vCPUs register and deregister their VPA with
 * H_REGISTER_VPA round after round (src/stress/programs-vpa.ts) while they run, cede and move
 * between cores. L1 checks each request as Linux does and, under v2, registers the VPA's L1 address
 * with L0 (SET_STATE 0x0C02), which then owns the dispatch count; under v1 L1 keeps the count
 * around its H_ENTER_NESTEDs. Each program first asks for the registrations PAPR refuses.
 *
 * Checks, from what the programs counted: every refused registration answered H_PARAMETER (and a
 * deregistration with none registered H_SUCCESS); every real one accepted; the dispatch count even
 * whenever the vCPU read it (it runs then) and changed by every H_CEDE; no write to a VPA's count
 * after its deregistration returned (the use-after-deregister class); the guests finished.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import { VpaBug } from '../../../hypervisor/l1/vcpu-loop.js';
import { readVpaCounters, type VpaCounters, vpaImage } from '../programs-vpa.js';
import { checkFrom, type StressCheck, type StressContext, type Stressor } from '../stressor.js';
import { PerVcpuStressor } from './per-vcpu.js';

/** Parameters (scenario `stressors.vpa`). */
export interface VpaParams {
  guests: number;
  vcpus: number;
  rounds: number;
}

export class VpaStressor extends PerVcpuStressor<VpaCounters | undefined> implements Stressor {
  readonly name = 'vpa';
  readonly opName = 'registrations';

  constructor(private readonly p: VpaParams) {
    super();
  }

  get ops(): number {
    let n = 0;
    for (const vs of this.outcomes.values()) for (const v of vs) n += v?.rounds ?? 0;
    return n;
  }

  setup(ctx: StressContext): void {
    const image = vpaImage(this.p.rounds, this.p.vcpus);
    for (let k = 0; k < this.p.guests; k++)
      this.guests.push(
        ctx.sim.addGuest({
          name: `vpa#${k + 1}`,
          image,
          vcpus: this.p.vcpus,
          memoryBytes: 4 << 20,
          paging: k % 2 === 0 ? 'eager' : 'demand',
          ...(ctx.mutants.vpaKeptAfterDeregister
            ? { policy: { refreshEvery: 0, pendingEvery: 0, vpaBugs: VpaBug.KEEP_AFTER_DEREGISTER } }
            : {}),
        }),
      );
  }

  protected outcome(_ctx: StressContext, g: L1Guest, _entry: number, v: number): VpaCounters | undefined {
    return readVpaCounters((at, bytes) => g.space.read(at, bytes), v);
  }

  finish(): StressCheck[] {
    const rounds = this.p.rounds;
    const conformance: string[] = [];
    const dispatch: string[] = [];
    const after: string[] = [];
    const ran: string[] = [];
    let vcpus = 0;
    for (const g of this.guests) {
      if (g.end.kind !== 'exited' || g.end.code !== 0) ran.push(`${g.name} ended ${JSON.stringify(g.end)}`);
      (this.outcomes.get(g) ?? []).forEach((c, v) => {
        vcpus++;
        const who = `${g.name} vCPU ${v}`;
        if (!c) {
          ran.push(`${who}: counters could not be read`);
          return;
        }
        if (c.conformance > 0 || c.registerFailed > 0)
          conformance.push(
            `${who}: ${c.conformance} refusals and ${c.registerFailed} registrations answered otherwise (last ${c.lastBadRc})`,
          );
        if (c.oddWhileRunning > 0 || c.unchangedByCede > 0)
          dispatch.push(
            `${who}: dispatch count odd while running ${c.oddWhileRunning} times, unchanged by a cede ${c.unchangedByCede} times`,
          );
        if (c.writtenAfter > 0)
          after.push(`${who}: ${c.writtenAfter} VPAs written after their deregistration`);
        if (!c.done || c.rounds !== rounds) ran.push(`${who}: ${c.rounds} of ${rounds} rounds`);
      });
    }
    const check = (name: string, bad: string[], good: string, evaluated: number) =>
      checkFrom(`vpa: ${name}`, bad, good, evaluated);
    return [
      check(
        'H_REGISTER_VPA answers as PAPR says',
        conformance,
        `6 refusals, 1 deregistration with none, ${2 * rounds} (de)registrations per vCPU`,
        vcpus * (7 + 2 * rounds),
      ),
      check(
        'dispatch count kept',
        dispatch,
        'even whenever a vCPU read it, changed by every cede',
        vcpus * rounds * 3,
      ),
      check(
        'nothing written after deregistration',
        after,
        `${vcpus * rounds} deregistered VPAs left alone`,
        vcpus * rounds,
      ),
      check('the guests finished', ran, `${this.guests.length} guests exited 0`, vcpus),
    ];
  }
}

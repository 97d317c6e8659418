/**
 * Doorbells (bugs-to-catch.md A; checklist item 3): L2 vCPUs that are SMT siblings of a virtual
 * core play ping-pong with directed privileged doorbells (src/stress/programs-doorbell.ts). L1
 * withholds HFSCR[MSGP], so each msgsndp and msgclrp exits to L1, which emulates it and delivers
 * the doorbell through the sibling's DPDES (hypervisor/l1/doorbells.ts) — the path whose missing
 * DPDES lost doorbells in a real nestedv2 L1. L1 gives each guest a short HDEC slice, so a waiting
 * vCPU gives its core up often; the siblings run on different cores, move between them (more so
 * with --chaos), and are often descheduled between a send and its delivery.
 *
 * Checks: none lost (every vCPU received all `rounds` doorbells, no wait ran out); sent = received
 * (each doorbell a vCPU sent arrived once at its sibling; L1 emulated as many msgsndp and msgclrp
 * as the program made); the guests finished and exited 0.
 */

import { DoorbellBug, Doorbells } from '../../../hypervisor/l1/doorbells.js';
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import { type DoorbellCounters, doorbellImage, readDoorbellBlock } from '../programs-doorbell.js';
import { checkFrom, type StressCheck, type StressContext, type Stressor } from '../stressor.js';
import { PerVcpuStressor } from './per-vcpu.js';

/** Parameters (scenario `stressors.doorbells`). */
export interface DoorbellsParams {
  guests: number;
  /** Virtual cores per guest, two SMT threads (vCPUs) each. */
  vcores: number;
  rounds: number;
  hdecTicks: number;
}

const THREADS = 2;

/** One vCPU's outcome: what L1 emulated and what the program counted. */
interface VcpuOutcome {
  l1Sent: number;
  l1Cleared: number;
  l2: DoorbellCounters | undefined;
}

export class DoorbellsStressor extends PerVcpuStressor<VcpuOutcome> implements Stressor {
  readonly name = 'doorbells';
  readonly opName = 'doorbells';

  constructor(private readonly p: DoorbellsParams) {
    super();
  }

  get ops(): number {
    let n = 0;
    for (const vs of this.outcomes.values()) for (const v of vs) n += v.l2?.received ?? 0;
    return n;
  }

  setup(ctx: StressContext): void {
    const vcpus = THREADS * this.p.vcores;
    const { image, firmware } = doorbellImage(this.p.rounds, vcpus);
    for (let k = 0; k < this.p.guests; k++)
      this.guests.push(
        ctx.sim.addGuest({
          name: `doorbells#${k + 1}`,
          image,
          firmware,
          vcpus,
          memoryBytes: 4 << 20,
          paging: k % 2 === 0 ? 'eager' : 'demand',
          hdecTicks: this.p.hdecTicks,
          policy: {
            refreshEvery: 0,
            pendingEvery: 0,
            doorbellThreads: THREADS,
            doorbellBugs: ctx.mutants.dpdesNotPassed ? DoorbellBug.DPDES_NOT_PASSED : 0,
          },
        }),
      );
  }

  protected outcome(ctx: StressContext, g: L1Guest, entry: number, v: number): VcpuOutcome {
    const db = new Doorbells(ctx.sim.l1.loops, entry, g.id, v);
    return {
      l1Sent: db.sent,
      l1Cleared: db.cleared,
      l2: readDoorbellBlock((at, bytes) => g.space.read(at, bytes), v),
    };
  }

  finish(): StressCheck[] {
    const rounds = this.p.rounds;
    const lost: string[] = [];
    const counts: string[] = [];
    const ran: string[] = [];
    let vcpus = 0;
    let received = 0;
    for (const g of this.guests) {
      if (g.end.kind !== 'exited' || g.end.code !== 0) ran.push(`${g.name} ended ${JSON.stringify(g.end)}`);
      const outcomes = this.outcomes.get(g);
      if (!outcomes) {
        ran.push(`${g.name}: counters never read`);
        continue;
      }
      outcomes.forEach((o, v) => {
        vcpus++;
        const who = `${g.name} vCPU ${v}`;
        const l2 = o.l2;
        if (!l2) {
          ran.push(`${who}: counters could not be read`);
          return;
        }
        received += l2.received;
        if (l2.received !== rounds || l2.timeouts > 0)
          lost.push(
            `${who}: received ${l2.received} of ${rounds} doorbells${l2.timeouts > 0 ? ', then waited in vain' : ''}`,
          );
        const sibling = outcomes[v ^ 1]?.l2;
        if (sibling && sibling.received !== l2.sent)
          counts.push(`${who} sent ${l2.sent}, its sibling received ${sibling.received}`);
        if (o.l1Sent !== l2.sent || o.l1Cleared !== l2.received)
          counts.push(
            `${who}: L1 emulated ${o.l1Sent} msgsndp and ${o.l1Cleared} msgclrp, the program made ${l2.sent} and ${l2.received}`,
          );
        if (!l2.done) ran.push(`${who}: never finished its game`);
      });
    }
    const check = (name: string, bad: string[], good: string, evaluated: number) =>
      checkFrom(`doorbells: ${name}`, bad, good, evaluated);
    return [
      check('no doorbell lost', lost, `${received} doorbells on ${vcpus} vCPUs, ${rounds} each`, vcpus),
      check(
        'sent = received',
        counts,
        'every doorbell sent arrived once; L1 emulated each msgsndp/msgclrp',
        3 * vcpus,
      ),
      check('the guests finished', ran, `${this.guests.length} guests exited 0`, vcpus),
    ];
  }
}

/**
 * State races (bugs-to-catch.md A and C; checklist items 1, 2, 4, 5): per-vCPU state read and
 * written while the vCPUs run, by the vCPU's owner and by other L1 vCPUs.
 *   - probed guest: its vCPUs run a contention loop on the cores while state probers (agents on
 *     other cores, hypervisor/l1/agents/state-prober.ts) GET and SET distinct per-vCPU patterns in
 *     elements the program never touches; every answer must be H_SUCCESS or H_BUSY, and every value
 *     read must be that vCPU's and that element's, and the last one written (no leak across vCPUs,
 *     no lost or torn update);
 *   - refreshed guest: its L1 loops refresh the whole state of their own vCPU between entries (GET
 *     every element, SET it back, GET again: the same bytes) while external interrupts are made
 *     pending through the run flags (the L2 runs with MSR[EE] = 0, so they stay pending): the
 *     refresh storm that left LPCR[MER] stuck in a real L1.
 * Both guests must still compute exactly (their counters), so a refresh or a probe that disturbed
 * execution shows there too.
 */
import { AgentKind } from '../../../hypervisor/l1/agents/index.js';
import { proberArg } from '../../../hypervisor/l1/agents/state-prober.js';
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import type { L1Agent } from '../../../hypervisor/l1/l1.js';
import { L } from '../../../hypervisor/l1/loop-table.js';
import { Hcall } from '../../../hypervisor/papr.js';
import { contentionLoopImage } from '../../programs.js';
import type { StressCheck, StressContext, Stressor } from '../stressor.js';
import { type ContentionResult, contentionProblems, readContention } from './contention.js';

/** Parameters (scenario `stressors.state-races`). */
export interface StateRacesParams {
  vcpus: number;
  probers: number;
  /** Operations (GET or SET of one element) per prober; --iterations overrides. */
  iterations: number;
  /** Trips of the guests' contention loop per vCPU. */
  trips: number;
  refreshEvery: number;
  pendingEvery: number;
}

export class StateRacesStressor implements Stressor {
  readonly name = 'state-races';
  readonly opName = 'probes/refreshes';
  readonly deletesAllGuests = false;
  readonly v2Only = 'under v1 L1 keeps the vCPU state itself: there is no H_GUEST_GET/SET_STATE to race';
  private probed: L1Guest | undefined;
  private refreshed: L1Guest | undefined;
  private probers: L1Agent[] = [];
  private readonly probeOps = new Map<number, number>();
  private readonly results = new Map<L1Guest, ContentionResult>();
  private refreshes = 0;

  constructor(private readonly p: StateRacesParams) {}

  get ops(): number {
    let n = this.refreshes;
    for (const v of this.probeOps.values()) n += v;
    return n;
  }

  get finished(): boolean {
    return (this.probed?.finished ?? true) && (this.refreshed?.finished ?? true);
  }

  setup(ctx: StressContext): void {
    const sim = ctx.sim;
    const image = contentionLoopImage(this.p.trips);
    this.probed = sim.addGuest({
      name: 'state-races:probed',
      image,
      vcpus: this.p.vcpus,
      memoryBytes: 4 << 20,
      paging: 'eager',
    });
    this.refreshed = sim.addGuest({
      name: 'state-races:refreshed',
      image,
      vcpus: this.p.vcpus,
      memoryBytes: 4 << 20,
      paging: 'demand',
      policy: { refreshEvery: this.p.refreshEvery, pendingEvery: this.p.pendingEvery },
    });
    for (let k = 0; k < this.p.probers; k++)
      this.probers.push(
        sim.l1.addAgent({
          name: `prober#${k}`,
          kind: AgentKind.STATE_PROBER,
          seed: (ctx.seed + 31 * k) | 0,
          iterations: this.p.iterations,
          target: this.probed.id,
          arg: proberArg(this.p.vcpus, k, this.p.probers),
        }),
      );
  }

  tick(ctx: StressContext): void {
    this.sample(ctx);
    // Chaos: move the vCPUs whose state is being set (by the probers, by their own refreshes) to
    // other cores while that goes on, so state written on one core is next run on another.
    if (ctx.chaos) {
      const g = ctx.rng.below(2) === 0 ? this.probed : this.refreshed;
      if (g && !g.finished) ctx.sim.moveLoopsOf(g);
    }
  }

  /** Reads the probers' step counts while their entries are alive. */
  private sample(ctx: StressContext): void {
    const t = ctx.sim.l1.loops;
    for (const a of this.probers) {
      if (!ctx.sim.l1.agents.includes(a)) continue;
      this.probeOps.set(a.entry, t.get(a.entry, L.STEPS));
    }
  }

  wind(ctx: StressContext): void {
    this.sample(ctx);
    for (const a of this.probers) a.loop.finish();
  }

  guestOver(ctx: StressContext, g: L1Guest): void {
    if (g !== this.probed && g !== this.refreshed) return;
    this.sample(ctx);
    const r = readContention(ctx.sim.ram, g);
    if (r) this.results.set(g, r);
  }

  finish(ctx: StressContext): StressCheck[] {
    const mine = ctx.violations().filter((v) => v.includes('prober') || v.includes('refresh:'));
    const stats = ctx.sim.l0.stats;
    // Each refresh is two GETs of the refreshed guest's vCPU (the loops' own, besides nothing else).
    for (let v = 0; v < this.p.vcpus; v++)
      this.refreshes += Math.floor(
        (stats.vcpus.get(this.refreshed!.id * 4096 + v)?.hcalls.get(Hcall.H_GUEST_GET_STATE) ?? 0) / 2,
      );
    const guests = [this.probed!, this.refreshed!];
    const bad = guests.flatMap((g) => contentionProblems(g, this.results.get(g), this.p.trips));
    let probes = 0;
    for (const v of this.probeOps.values()) probes += v;
    return [
      {
        name: 'state-races: per-vCPU state as the spec says',
        ok: mine.length === 0,
        detail:
          mine.length === 0
            ? `${probes} probes of running vCPUs, ${this.refreshes} full-state refreshes`
            : mine.slice(0, 4).join('; '),
        evaluated: probes + this.refreshes,
      },
      {
        name: 'state-races: the guests still compute exactly',
        ok: bad.length === 0,
        detail: bad.length === 0 ? 'probed and refreshed guests: every count exact' : bad.join('; '),
        evaluated: 6,
      },
    ];
  }
}

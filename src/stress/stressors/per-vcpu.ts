/**
 * What irq-storm and doorbells share: guests set up once, each vCPU leaving an outcome (L1's
 * counters in its loop entry, the program's in L2 memory) that is read when its guest is over,
 * and, under --chaos, the guests' vCPUs moved between cores at L1's ticks.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import type { StressContext } from '../stressor.js';

export abstract class PerVcpuStressor<Outcome> {
  readonly deletesAllGuests = false;
  protected readonly guests: L1Guest[] = [];
  /** Per guest, per vCPU, once the guest is over. */
  protected readonly outcomes = new Map<L1Guest, Outcome[]>();

  get finished(): boolean {
    return this.guests.every((g) => g.finished);
  }

  tick(ctx: StressContext): void {
    if (!ctx.chaos) return;
    const g = this.guests[ctx.rng.below(this.guests.length)];
    if (g && !g.finished) ctx.sim.moveLoopsOf(g);
  }

  wind(): void {}

  guestOver(ctx: StressContext, g: L1Guest): void {
    if (!this.guests.includes(g)) return;
    this.outcomes.set(
      g,
      g.entries.map((entry, v) => this.outcome(ctx, g, entry, v)),
    );
  }

  /** vCPU `v` of `g` (loop-table entry `entry`) as it ended. */
  protected abstract outcome(ctx: StressContext, g: L1Guest, entry: number, v: number): Outcome;
}

/**
 * Atomic contention: guests whose vCPUs fight over larx/stcx. — a lwarx/stwcx. spinlock guarding a
 * plain counter and a pair of ldarx/stdcx. counters, one private to the guest and one on a page
 * L1 maps into every guest of the stressor (the same L1 frame, so vCPUs of different partitions on
 * different cores contend on one doubleword). Lost-update check: the lock-protected counter and
 * the guest's lock-free one end at vCPUs × iterations, the shared one at every vCPU of every guest
 * × iterations, and the lock word is free. A stcx. that succeeds without a reservation, or a
 * reservation another core's store does not break, shows as a short count.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import { Perm } from '../../../mem/radix.js';
import type { GuestRam } from '../../../mem/ram.js';
import { contentionLoopImage } from '../../programs.js';
import type { StressCheck, StressContext, Stressor } from '../stressor.js';
import { type ContentionResult, contentionProblems, readContention } from './contention.js';

/** Parameters (scenario `stressors.atomic`). */
export interface AtomicParams {
  guests: number;
  vcpus: number;
  iterations: number;
}

/** Where L1 maps the shared page in every guest of the stressor. */
const SHARED = 0x30_0000;

export class AtomicStressor implements Stressor {
  readonly name = 'atomic';
  readonly opName = 'increments';
  readonly deletesAllGuests = false;
  private guests: L1Guest[] = [];
  private sharedFrame = -1;
  private readonly results = new Map<L1Guest, ContentionResult>();
  private ram: GuestRam | undefined;

  constructor(private readonly p: AtomicParams) {}

  get ops(): number {
    // Three increments per trip, counted from the guests' own counters as they finish.
    let n = 0;
    for (const r of this.results.values()) n += r.locked + r.lockFree;
    return n + (this.sharedFrame >= 0 ? this.sharedCount() : 0);
  }

  get finished(): boolean {
    return this.guests.every((g) => g.finished);
  }

  setup(ctx: StressContext): void {
    const sim = ctx.sim;
    this.ram = sim.ram;
    this.sharedFrame = sim.l1.pages.alloc(4096);
    const image = contentionLoopImage(this.p.iterations, SHARED);
    for (let k = 0; k < this.p.guests; k++) {
      const g = sim.addGuest({
        name: `atomic#${k + 1}`,
        image,
        vcpus: this.p.vcpus,
        memoryBytes: 4 << 20,
        paging: k % 2 === 0 ? 'eager' : 'demand',
      });
      if (!g.space.mapShared(SHARED, this.sharedFrame, Perm.Read | Perm.Write))
        throw new Error('atomic: cannot map the shared page');
      this.guests.push(g);
    }
  }

  tick(): void {}

  wind(): void {}

  guestOver(ctx: StressContext, g: L1Guest): void {
    if (!this.guests.includes(g)) return;
    const r = readContention(ctx.sim.ram, g);
    if (r) this.results.set(g, r);
  }

  /** The cross-guest counter now. */
  private sharedCount(): number {
    return this.ram ? Number(this.ram.dv.getBigUint64(this.sharedFrame, true)) : 0;
  }

  finish(ctx: StressContext): StressCheck[] {
    const want = this.p.vcpus * this.p.iterations;
    const checks: StressCheck[] = [];
    const bad = this.guests.flatMap((g) => contentionProblems(g, this.results.get(g), this.p.iterations));
    const evaluated = 3 * this.guests.length;
    checks.push({
      name: 'atomic: per-guest counters exact',
      ok: bad.length === 0,
      detail:
        bad.length === 0
          ? `${this.guests.length} guests × ${this.p.vcpus} vCPUs × ${this.p.iterations}: every count exact`
          : bad.join('; '),
      evaluated,
    });
    const shared = this.sharedCount();
    const all = this.guests.length * want;
    checks.push({
      name: 'atomic: cross-guest counter exact',
      ok: shared === all,
      detail: `shared page counter ${shared}, expected ${all} (${this.guests.length} partitions on one doubleword)`,
      evaluated: 1,
    });
    ctx.sim.l1.pages.free(this.sharedFrame, 4096);
    return checks;
  }
}

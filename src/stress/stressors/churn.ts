/**
 * Guest churn (bugs-to-catch.md A, B, G): L1 keeps creating guests with varying numbers of vCPUs
 * and deleting them, often while their vCPUs run on the cores, and (alone in a run) every guest at
 * once with the delete-all flag. Guest ids, vCPU slots and L1 frames come back and are used again
 * at once, so a stale translation or a stale vCPU slot of an earlier guest with the same id shows:
 * every churned guest carries a signature of its own in its data page and checks it all the time
 * (a mismatch ends it with the stale exit code). Checks: no churned guest ever read another's
 * page or failed; after each delete-all, L0 holds no guest and no vCPU slot; at the end the run's
 * resource check (frames, slots, ids, loop entries back to zero) covers the rest.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import { signatureImage } from '../../programs.js';
import type { StressCheck, StressContext, Stressor } from '../stressor.js';

/** Parameters (scenario `stressors.churn`). */
export interface ChurnParams {
  /** Churned guests alive at once, at most. */
  guests: number;
  /** vCPUs of a churned guest, at most (each gets 1..vcpus). */
  vcpus: number;
  /** Trips of a guest's signature loop (how long it would run if nobody deleted it). */
  trips: number;
  /** Guests to create in all; --iterations overrides. */
  iterations: number;
  /** Every this many creations, delete every guest at once (0: never; only alone in a run). */
  deleteAllEvery: number;
}

const STALE_EXIT = 97;

export class ChurnStressor implements Stressor {
  readonly name = 'churn';
  readonly opName = 'creates/deletes';
  get deletesAllGuests(): boolean {
    return this.p.deleteAllEvery > 0;
  }
  ops = 0;
  private readonly mine: L1Guest[] = [];
  private created = 0;
  private deletedRunning = 0;
  private readonly afterDeleteAll: string[] = [];
  private deleteAlls = 0;
  private wound = false;

  constructor(private readonly p: ChurnParams) {}

  get finished(): boolean {
    return (this.wound || this.created >= this.p.iterations) && this.mine.every((g) => g.finished);
  }

  setup(ctx: StressContext): void {
    for (let k = 0; k < Math.min(this.p.guests, this.p.iterations); k++) this.create(ctx);
  }

  private create(ctx: StressContext): void {
    const vcpus = 1 + ctx.rng.below(this.p.vcpus);
    const sig = (ctx.rng.below(0x7fff_ffff) | 1) >>> 0;
    const g = ctx.sim.addGuest({
      name: `churn#${++this.created}`,
      image: signatureImage(sig, this.p.trips, STALE_EXIT),
      vcpus,
      memoryBytes: 2 << 20,
      paging: ctx.rng.below(2) === 0 ? 'eager' : 'demand',
    });
    this.mine.push(g);
    this.ops++;
  }

  tick(ctx: StressContext): void {
    if (this.wound || this.created >= this.p.iterations) return;
    const live = this.mine.filter((g) => !g.deleted);
    if (this.p.deleteAllEvery > 0 && this.created % this.p.deleteAllEvery === 0 && live.length > 0) {
      this.deleteAll(ctx);
      return;
    }
    if (live.length < this.p.guests && ctx.rng.below(2) === 0) this.create(ctx);
    else if (live.length > 0) {
      const g = live[ctx.rng.below(live.length)]!;
      if (!g.finished) this.deletedRunning++;
      ctx.sim.deleteGuest(g);
      this.ops++;
      if (live.length === 1) this.create(ctx);
    }
  }

  /** Every guest at once; then L0 must hold nothing. */
  private deleteAll(ctx: StressContext): void {
    ctx.sim.deleteAllGuests();
    this.deleteAlls++;
    this.ops++;
    const h = ctx.sim.l0Holdings();
    if (h.guests !== 0 || h.vcpus !== 0)
      this.afterDeleteAll.push(
        `after delete-all #${this.deleteAlls}: L0 still holds ${h.guests} guests, ${h.vcpus} vCPU slots`,
      );
    this.create(ctx);
  }

  wind(ctx: StressContext): void {
    this.wound = true;
    // Whatever still runs is deleted now (its signature loop could run long).
    for (const g of this.mine)
      if (!g.deleted && !g.finished) {
        this.deletedRunning++;
        ctx.sim.deleteGuest(g);
      }
  }

  finish(): StressCheck[] {
    const bad: string[] = [];
    let ended = 0;
    for (const g of this.mine) {
      if (g.end.kind === 'stopped') continue; // deleted while it ran
      ended++;
      if (g.end.kind === 'failed') bad.push(`${g.name} failed: ${g.end.report}`);
      else if (g.end.kind === 'exited' && g.end.code !== 0)
        bad.push(
          `${g.name} exited ${g.end.code}${g.end.code === STALE_EXIT ? ' (read a page that was not its own: a stale translation or slot of an earlier guest)' : ''}`,
        );
    }
    return [
      {
        name: 'churn: every guest saw only its own memory',
        ok: bad.length === 0,
        detail:
          bad.length === 0
            ? `${this.created} guests created, ${this.deletedRunning} deleted while running, ${ended} ran to their end`
            : bad.slice(0, 5).join('; '),
        evaluated: this.created,
      },
      {
        name: 'churn: delete-all leaves L0 empty',
        ok: this.afterDeleteAll.length === 0,
        detail:
          this.afterDeleteAll.length === 0
            ? `${this.deleteAlls} delete-alls`
            : this.afterDeleteAll.join('; '),
        evaluated: this.deleteAlls,
      },
    ];
  }
}

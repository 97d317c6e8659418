/**
 * What a stressor of `nestsim stress` is (docs/stress.md): something that sets up guests and
 * agents before a run, acts as L1 while it goes on (remapping pages, creating and deleting guests
 * …, at the simulation's ticks on L1's thread), and checks its invariants at the end. Stressors
 * combine: one run may hold several, each with its own seeded choices.
 *
 * Invoked from: src/stress/run.ts.
 */
import type { Mutants } from '../../hypervisor/l0/l0.js';
import type { SplitMix32 } from '../../hypervisor/prng.js';
import type { SimulationBase } from '../simulation.js';

/** What a stressor is given. */
export interface StressContext {
  readonly sim: SimulationBase;
  /** This stressor's own seeded generator (independent of the others' choices). */
  readonly rng: SplitMix32;
  /** A seed for things the stressor hands on (agents, programs). */
  readonly seed: number;
  /** The run is in the deterministic mode (actions happen at replayable points). */
  readonly deterministic: boolean;
  /** --chaos: preempt and migrate at the moments races live in. */
  readonly chaos: boolean;
  /** Test-only planted bugs (--mutant); the L1-side ones are the stressors' to apply. */
  readonly mutants: Mutants;
  /** Records a broken invariant, in one line that names the stressor's guest or vCPU. */
  violation(what: string): void;
  /** The machine's timebase now (virtual time). */
  now(): number;
  /** Every broken invariant reported so far, by anyone (stressors, agents, L1 and L0 checks). */
  violations(): string[];
}

/** One evaluated check. */
export interface StressCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** How many individual comparisons the check made (a counter compared, a page verified, …). */
  evaluated: number;
}

/** A check from the problems it found: passes with `good` when there are none, else names five. */
export function checkFrom(
  name: string,
  bad: readonly string[],
  good: string,
  evaluated: number,
): StressCheck {
  return {
    name,
    ok: bad.length === 0,
    detail: bad.length === 0 ? good : `${bad.length}: ${bad.slice(0, 5).join('; ')}`,
    evaluated,
  };
}

/** A stressor. */
export interface Stressor {
  readonly name: string;
  /** What one operation is, for "ops/s" (e.g. "increments", "remaps"). */
  readonly opName: string;
  /**
   * It deletes every guest of the L1 at once (H_GUEST_DELETE's delete-all), others' included, and
   * checks that L0 then holds nothing: it runs alone.
   */
  readonly deletesAllGuests: boolean;
  /**
   * Why the stressor has nothing to test under the v1 API (its subject is v2-only, e.g. L0-held
   * vCPU state); undefined: it runs under both. Under v1 the run leaves it out and says why.
   */
  readonly v2Only?: string;
  /** Operations done so far. */
  readonly ops: number;
  /** Creates guests and agents; called once, before the run. */
  setup(ctx: StressContext): void;
  /** L1's actions while the run goes on; called at every tick on L1's thread. */
  tick(ctx: StressContext): void;
  /** True once the stressor has done all it was asked and its guests ended by themselves. */
  readonly finished: boolean;
  /** Stops what would run forever (the run's duration is over); its guests end cleanly if they can. */
  wind(ctx: StressContext): void;
  /** Called with each guest of the stressor's just before L1 deletes it (read its results). */
  guestOver?(ctx: StressContext, g: import('../../hypervisor/l1/guest.js').L1Guest): void;
  /** The checks, once the run is over. */
  finish(ctx: StressContext): StressCheck[];
}

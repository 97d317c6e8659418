/**
 * hcall fuzz from several L1 vCPUs at once: N hcall-fuzz agents (hypervisor/l1/agents/hcall-fuzz.ts)
 * on the cores, each making its own seeded stream of random and mostly invalid nested-v2 hcalls
 * against the L0 every other stressor uses, on guests of its own. Checks: every answer is a code
 * the spec allows for that hcall (and the one its check order gives where the arguments decide
 * it), nothing threw, and every agent deleted all it created; run alone (`deleteAll`, which also
 * puts delete-all in the mix), L0 holds nothing at the end.
 *
 * Each agent writes its counts to a 64-byte slot of a page of the stressor's (L1 memory, read here
 * from the main thread: agents run on core threads). `nestsim stress --minimize` regenerates an
 * agent's calls from the plan recorded here (src/stress/minimize.ts).
 */
import {
  FUZZ_SLOT_BYTES,
  FuzzPhase,
  FuzzSlot,
  fuzzArg,
} from '../../../hypervisor/l1/agents/hcall-fuzz/agent.js';
import { FUZZ_SCRATCH_BYTES } from '../../../hypervisor/l1/agents/hcall-fuzz/limits.js';
import { AgentKind } from '../../../hypervisor/l1/agents/index.js';
import type { SimulationBase } from '../../simulation.js';
import type { StressCheck, StressContext, Stressor } from '../stressor.js';

/** Parameters (scenario `stressors.hcall-fuzz`). */
export interface HcallFuzzParams {
  /** Agents, each an L1 vCPU of its own. */
  agents: number;
  /** Calls each agent makes (then it deletes its guests). */
  iterations: number;
  /** The stressor runs alone: H_GUEST_DELETE with delete-all joins the mix, and L0 must end empty. */
  deleteAll: boolean;
}

/** What regenerates one agent's calls (its seed, count and switch). */
export interface FuzzPlan {
  name: string;
  seed: number;
  iterations: number;
  deleteAll: boolean;
}

const plans = new WeakMap<SimulationBase, FuzzPlan[]>();

/** The hcall-fuzz agents a simulation ran (for --minimize). */
export function fuzzPlansOf(sim: SimulationBase): readonly FuzzPlan[] {
  return plans.get(sim) ?? [];
}

/** Page of report slots: one per agent. */
const PAGE = 4096;

interface Counts {
  calls: number;
  violations: number;
  guestsLeft: number;
  vcpusLeft: number;
  phase: number;
}

export class HcallFuzzStressor implements Stressor {
  readonly name = 'hcall-fuzz';
  readonly opName = 'hcalls';
  get deletesAllGuests(): boolean {
    return this.p.deleteAll;
  }
  private page = -1;
  private i32: Int32Array | undefined;
  private final: Counts[] | undefined;

  constructor(private readonly p: HcallFuzzParams) {
    if (p.agents * FUZZ_SLOT_BYTES > PAGE)
      throw new RangeError(`hcall-fuzz: at most ${PAGE / FUZZ_SLOT_BYTES} agents`);
  }

  get ops(): number {
    return this.counts().reduce((n, c) => n + c.calls, 0);
  }

  get finished(): boolean {
    return this.counts().every((c) => c.phase === FuzzPhase.DONE);
  }

  setup(ctx: StressContext): void {
    const sim = ctx.sim;
    this.page = sim.l1.pages.alloc(PAGE);
    this.i32 = sim.ram.i32;
    const list: FuzzPlan[] = [];
    plans.set(sim, list);
    for (let k = 0; k < this.p.agents; k++) {
      const plan: FuzzPlan = {
        name: `hcall-fuzz#${k + 1}`,
        seed: (ctx.seed ^ Math.imul(k + 1, 0x9e37_79b1)) | 0,
        iterations: this.p.iterations,
        deleteAll: this.p.deleteAll,
      };
      sim.l1.addAgent({
        name: plan.name,
        kind: AgentKind.HCALL_FUZZ,
        seed: plan.seed,
        iterations: plan.iterations,
        target: 0,
        arg: fuzzArg(this.page + k * FUZZ_SLOT_BYTES, plan.deleteAll, plan.deleteAll && this.p.agents > 1),
        scratchBytes: FUZZ_SCRATCH_BYTES,
      });
      list.push(plan);
    }
  }

  tick(): void {}

  /** The duration is over: every agent stops calling and deletes its guests. */
  wind(): void {
    for (let k = 0; k < this.p.agents; k++) this.store(k, FuzzSlot.STOP, 1);
  }

  finish(ctx: StressContext): StressCheck[] {
    const counts = this.counts();
    this.final = counts;
    const calls = counts.reduce((n, c) => n + c.calls, 0);
    const violations = counts.reduce((n, c) => n + c.violations, 0);
    const checks: StressCheck[] = [
      {
        name: 'hcall-fuzz: every answer legal',
        ok: violations === 0,
        detail:
          violations === 0
            ? `${calls.toLocaleString('en-US')} calls from ${this.p.agents} L1 vCPU${this.p.agents === 1 ? '' : 's'}: every return code one the spec allows (and the one its check order gives where the arguments decide it), nothing thrown`
            : `${violations} of ${calls.toLocaleString('en-US')} calls broke a rule (the calls are among the violations; --minimize shrinks them)`,
        evaluated: calls,
      },
    ];
    const bad = counts.flatMap((c, k) =>
      c.phase !== FuzzPhase.DONE
        ? [`hcall-fuzz#${k + 1} never finished its cleanup`]
        : c.guestsLeft + c.vcpusLeft > 0
          ? [`hcall-fuzz#${k + 1} still held ${c.guestsLeft} guests and ${c.vcpusLeft} vCPUs`]
          : [],
    );
    let evaluated = counts.length;
    if (this.p.deleteAll) {
      // Alone, L0's own accounting says whether the deletes gave everything back.
      const held = ctx.sim.l0Holdings();
      evaluated += 2;
      if (held.guests + held.vcpus > 0)
        bad.push(`L0 still holds ${held.guests} guests and ${held.vcpus} vCPU slots`);
    }
    checks.push({
      name: 'hcall-fuzz: guests deleted, resources back',
      ok: bad.length === 0,
      detail:
        bad.length === 0
          ? `every agent deleted all it created${this.p.deleteAll ? '; L0 holds no guest and no vCPU slot' : ''}`
          : bad.join('; '),
      evaluated,
    });
    if (this.page >= 0) ctx.sim.l1.pages.free(this.page, PAGE);
    this.page = -1;
    return checks;
  }

  private counts(): Counts[] {
    if (this.final) return this.final;
    const out: Counts[] = [];
    for (let k = 0; k < this.p.agents; k++)
      out.push({
        calls: this.load(k, FuzzSlot.CALLS),
        violations: this.load(k, FuzzSlot.VIOLATIONS),
        guestsLeft: this.load(k, FuzzSlot.GUESTS_LEFT),
        vcpusLeft: this.load(k, FuzzSlot.VCPUS_LEFT),
        phase: this.load(k, FuzzSlot.PHASE),
      });
    return out;
  }

  private load(k: number, word: number): number {
    if (!this.i32 || this.page < 0) return 0;
    return Atomics.load(this.i32, (this.page + k * FUZZ_SLOT_BYTES) / 4 + word);
  }

  private store(k: number, word: number, v: number): void {
    if (this.i32 && this.page >= 0) Atomics.store(this.i32, (this.page + k * FUZZ_SLOT_BYTES) / 4 + word, v);
  }
}

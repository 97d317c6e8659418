/**
 * Agents: L1 vCPUs that do hcalls of their own instead of running an L2 vCPU — the "other L1
 * vCPUs" of the stress tool (probing another vCPU's state while it runs, fuzzing the hcall
 * interface from several cores at once). An agent lives in L1's loop table like a vCPU loop
 * (API = AGENT), is stepped by a core (or the deterministic mode) like one, and reports broken
 * invariants as violations. Unlike a vCPU loop it may keep state between steps, so the
 * coordinator never moves it: it stays on the core it was placed on.
 *
 * Invoked from: cores/core-runtime.ts and src/simulation.ts (stepping), hypervisor/l1/l1.ts
 * (creation), src/stress/ (the stressors that add them).
 */
import type { GuestRam } from '../../mem/ram.js';
import type { LoopTable } from './loop-table.js';
import { type L0Port, Step } from './vcpu-loop.js';

/** What an agent is given. */
export interface AgentContext {
  /** hcalls to L0, as the agent's core makes them. */
  port: L0Port;
  ram: GuestRam;
  /** A region of L1 memory of the agent's own (state buffers). */
  scratch: number;
  scratchBytes: number;
  /** The guest the agent works on (0: none), its own number, seed, operations, argument. */
  target: number;
  index: number;
  seed: number;
  iterations: number;
  arg: number;
  /** Reports a broken invariant in one line. */
  violation(what: string): void;
}

/** One agent: each step does one operation; DONE once it did `iterations` of them. */
export interface Agent {
  step(core: number): Step;
}

/** Makes an agent of one kind. */
export type AgentFactory = (ctx: AgentContext) => Agent;

/** An agent as a loop of L1's loop table (what cores and the deterministic mode step). */
export class AgentLoop {
  constructor(
    private readonly agent: Agent,
    readonly guestId: number,
    readonly vcpuId: number,
    private readonly table: LoopTable,
    readonly entry: number,
  ) {}

  get done(): boolean {
    return this.table.isDone(this.entry);
  }

  finish(): void {
    this.table.markDone(this.entry);
  }

  step(core: number): Step {
    if (this.done) return Step.DONE;
    this.table.countStep(this.entry);
    const st = this.agent.step(core);
    if (st === Step.DONE) this.finish();
    return st;
  }
}

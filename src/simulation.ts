/**
 * A whole simulation: L1 memory, the L0 hypervisor, the L1 model and its guests, and the scheduler
 * that runs the L1 vCPU loops. This file holds the deterministic mode (the reference behaviour):
 * L0, L1 and one core share the main thread, and the next vCPU loop to step is drawn from a seeded
 * generator (round robin without a seed), so a run repeats exactly for a given seed.
 *
 * Invoked from: `nestsim exec`, `nestsim run`, tests.
 */
import { defaultL0Config, L0, type L0Config } from '../hypervisor/l0/l0.js';
import { COORDINATOR_CORE, Hdr } from '../hypervisor/l0/partitions.js';
import { V1Hdr } from '../hypervisor/l0/v1/host.js';
import { v1IfAny } from '../hypervisor/l0/v1/registry.js';
import type { AgentLoop } from '../hypervisor/l1/agent.js';
import type { L1Guest } from '../hypervisor/l1/guest.js';
import { type GuestSpec, L1 } from '../hypervisor/l1/l1.js';
import { NestedApi } from '../hypervisor/l1/loop-table.js';
import type { L0Port, L1VcpuLoop } from '../hypervisor/l1/vcpu-loop.js';
import { SplitMix32 } from '../hypervisor/prng.js';
import { GuestRam, RAM_GRANULE } from '../mem/ram.js';
import type { TraceCollector } from './trace/collector.js';

/** L1 memory below this is L1's own (not handed to guests). */
const L1_RESERVED = 0x10_0000;

export interface SimulationOptions {
  /** Bytes of L1 memory (a multiple of 64 KiB, at most 4 GiB). */
  l1MemoryBytes: number;
  /** Seed of every scheduling choice; undefined: round robin and fixed slices. */
  seed?: number;
  /** Instructions after which unfinished guests are stopped. */
  maxInstructions: number;
  /** Instructions per H_GUEST_RUN_VCPU before L0 takes the core back. */
  sliceInstructions?: number;
  /** The nested API the L1 uses (default v2). */
  api?: NestedApi;
  /** More L0 configuration (fault injection, test-only mutants, the ack deadline). */
  l0?: Partial<L0Config>;
}

/** What a run produced. */
export interface RunSummary {
  instructions: number;
  wallSeconds: number;
  /** Instructions per second of wall time, in millions. */
  mips: number;
  /** true when every guest ended by itself (exit or failure), false when stopped at the limit. */
  completed: boolean;
}

/**
 * What every simulation has: L1 memory, the L0 (the coordinator's view of it) and the L1 model.
 * The deterministic mode (`Simulation`, below) and the multicore runtime (src/multicore.ts) differ
 * only in how they run the L1 vCPU loops.
 */
export abstract class SimulationBase {
  readonly ram: GuestRam;
  readonly l0: L0;
  readonly l1: L1;
  /** How the loops run. */
  abstract readonly mode: 'deterministic' | 'multicore';
  /** Simulated cores. */
  abstract readonly cores: number;

  constructor(readonly opts: SimulationOptions) {
    const bytes = Math.ceil(opts.l1MemoryBytes / RAM_GRANULE) * RAM_GRANULE;
    this.ram = GuestRam.create(bytes);
    this.l0 = new L0(
      defaultL0Config({
        l1MemoryBytes: bytes,
        seed: opts.seed,
        sliceInstructions: opts.sliceInstructions ?? 1_000_000,
        ...opts.l0,
      }),
      this.ram,
    );
    const l0 = this.l0;
    const port: L0Port = {
      hcall: (r, core) => l0.hcall(r, core),
      timebase: (core) => l0.seat(core).core.tb,
    };
    this.l1 = new L1(
      port,
      this.ram,
      l0.codeGen,
      { base: L1_RESERVED, bytes: bytes - L1_RESERVED },
      undefined,
      opts.api ?? NestedApi.V2,
    );
  }

  /** Creates a guest (L1 does the hcalls); throws L1Error / OutOfL1Memory when it cannot. */
  addGuest(spec: GuestSpec): L1Guest {
    return this.l1.createGuest(spec);
  }

  /** Deletes a guest now, even while its vCPUs run (L0 stops them first). */
  deleteGuest(g: L1Guest): void {
    this.l1.deleteGuest(g);
  }

  /** Deletes every guest at once (the delete-all flag), running or not. */
  deleteAllGuests(): void {
    this.l1.deleteAllGuests();
  }

  /**
   * Moves guest `g`'s vCPU loops to other cores at once (chaos: right after an invalidation, the
   * moment stale per-core state would bite). Nothing to move in the deterministic mode.
   */
  moveLoopsOf(_g: L1Guest): void {}

  /** Instructions retired by every L2 so far. */
  abstract get instructions(): number;

  /**
   * Runs every guest until each has ended or the instruction limit is reached (then the unfinished
   * ones are stopped). `progress` is called about every 100 ms of wall time.
   */
  abstract run(progress?: (instructions: number) => void): RunSummary | Promise<RunSummary>;

  /** What each core did (after run). */
  abstract coreActivity(): CoreActivity[];

  /**
   * Records the run into `collector` (one buffer per core; src/trace/). Call before adding guests;
   * the caller drains and writes the trace after the run.
   */
  abstract attachTrace(collector: TraceCollector): void;

  /** Each core's timebase now (the coordinator's trace events take the latest). */
  abstract coreActivityNow(): number[];

  /** The doorbell a trace collector must ring so that the thread draining it wakes (multicore). */
  get traceBell(): SharedArrayBuffer | undefined {
    return undefined;
  }

  /**
   * What L0 still holds for guests: v2 guests and vCPU slots, v1 L2s with their vCPU slots, and
   * shadow-table memory (all 0 once every guest is deleted: the no-leaks check).
   */
  l0Holdings(): { guests: number; vcpus: number; shadowBytes: number } {
    const w = this.l0.parts.w;
    const v1 = v1IfAny(this.l0);
    return {
      guests: w[Hdr.ACTIVE_GUESTS]! + (v1 ? Atomics.load(v1.w, V1Hdr.ACTIVE_GUESTS) : 0),
      vcpus: w[Hdr.ACTIVE_VCPUS]! + (v1 ? Atomics.load(v1.w, V1Hdr.ACTIVE_VCPUS) : 0),
      shadowBytes: v1 ? v1.shadowBytesInUse() : 0,
    };
  }

  /** Broken invariants that L1's checks and agents reported (stress), the first 100 kept. */
  readonly violations: string[] = [];

  /** Records a broken invariant (kept with the L0's in the report). */
  violation(what: string): void {
    if (this.violations.length < 100) this.violations.push(what);
  }

  /**
   * Called on L1's thread at scheduling points while the run goes on (the stress tool's L1-side
   * actors: remaps, guest churn, checks): in the deterministic mode every `everyInstructions`
   * retired instructions or `everySteps` steps, whichever comes first (a vCPU that keeps faulting
   * retires nothing; a replay makes the same calls at the same points), on the multicore runtime
   * about every `everyMs` of wall time.
   */
  tick: { fn: () => void; everyInstructions: number; everySteps: number; everyMs: number } | undefined;

  /** The machine's timebase now (the latest any core published). */
  get timebase(): number {
    let t = 0;
    for (const a of this.coreActivityNow()) if (a > t) t = a;
    return t;
  }

  /** Crashes of cores during the run, one report each (never any in the deterministic mode). */
  readonly crashes: string[] = [];
  /** vCPU loops moved between cores. */
  migrations = 0;
}

/**
 * The coordinator's trace track: buffer `cores` of the collector (one past the cores), on the main
 * thread, for L1's control-path hcalls and the invalidations they make.
 */
export function attachCoordinatorTrace(sim: SimulationBase, collector: TraceCollector): void {
  sim.l0.traces.set(COORDINATOR_CORE, collector.localRecorder(sim.cores));
  sim.l0.coordinatorClock = () => sim.timebase;
}

/** What one core did over a run (the per-core statistics of a report). */
export interface CoreActivity {
  core: number;
  /** Entries into L2 (H_GUEST_RUN_VCPU round trips) made on the core. */
  steps: number;
  instructions: number;
  /** exit vector → count */
  exits: Map<number, number>;
  /** Wall seconds stepping vCPU loops, waiting for the coordinator, and idle. */
  runningSeconds: number;
  waitingSeconds: number;
  idleSeconds: number;
  /** Loops that came to this core from another one. */
  migrationsIn: number;
}

/** The deterministic mode: L0, L1 and one core on the calling thread, seeded interleaving. */
export class Simulation extends SimulationBase {
  readonly mode = 'deterministic' as const;
  readonly cores = 1;
  private readonly rng: SplitMix32 | undefined;

  constructor(opts: SimulationOptions) {
    super(opts);
    this.rng = opts.seed === undefined ? undefined : new SplitMix32(opts.seed ^ 0x5eed);
  }

  private steps = 0;
  private runningSeconds = 0;

  get instructions(): number {
    return this.l0.stats.instructions;
  }

  attachTrace(collector: TraceCollector): void {
    const tr = collector.localRecorder(0);
    this.l0.traces.set(0, tr);
    this.l1.trace = tr;
    attachCoordinatorTrace(this, collector);
  }

  coreActivityNow(): number[] {
    return [this.l0.seat(0).core.tb];
  }

  coreActivity(): CoreActivity[] {
    return [
      {
        core: 0,
        steps: this.steps,
        instructions: this.l0.stats.instructions,
        exits: this.l0.stats.exits,
        runningSeconds: this.runningSeconds,
        waitingSeconds: 0,
        idleSeconds: 0,
        migrationsIn: 0,
      },
    ];
  }

  run(progress?: (instructions: number) => void): RunSummary {
    const t0 = performance.now();
    let lastProgress = t0;
    let nextTick = this.tick ? this.tick.everyInstructions : Number.POSITIVE_INFINITY;
    let nextTickStep = this.tick ? this.steps + this.tick.everySteps : Number.POSITIVE_INFINITY;
    let rr = 0;
    let completed = true;
    for (;;) {
      const live: [L1Guest | undefined, L1VcpuLoop | AgentLoop][] = [];
      for (const g of this.l1.live) if (!g.finished) for (const l of g.loops) if (!l.done) live.push([g, l]);
      for (const a of this.l1.agents) if (!a.loop.done) live.push([undefined, a.loop]);
      if (live.length === 0) break;
      if (this.instructions >= this.opts.maxInstructions) {
        completed = false;
        for (const g of this.l1.live) g.stop(`instruction limit of ${this.opts.maxInstructions} reached`);
        for (const a of this.l1.agents) a.loop.finish();
        break;
      }
      const [g, loop] = this.rng ? live[this.rng.below(live.length)]! : live[rr++ % live.length]!;
      const s0 = performance.now();
      loop.step(0);
      const dt = (performance.now() - s0) / 1000;
      this.steps++;
      this.runningSeconds += dt;
      if (g) g.vcpuRunningSeconds[loop.vcpuId] = (g.vcpuRunningSeconds[loop.vcpuId] ?? 0) + dt;
      for (const x of this.l1.live) if (x.finished) this.l1.deleteGuest(x);
      this.l1.reclaim();
      if (this.tick && (this.instructions >= nextTick || this.steps >= nextTickStep)) {
        nextTick = this.instructions + this.tick.everyInstructions;
        nextTickStep = this.steps + this.tick.everySteps;
        this.tick.fn();
      }
      if (progress) {
        const now = performance.now();
        if (now - lastProgress > 100) {
          lastProgress = now;
          progress(this.instructions);
        }
      }
    }
    for (const g of this.l1.live) this.l1.deleteGuest(g);
    const wallSeconds = (performance.now() - t0) / 1000;
    const instructions = this.instructions;
    return { instructions, wallSeconds, mips: instructions / wallSeconds / 1e6, completed };
  }
}

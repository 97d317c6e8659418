/**
 * One simulated core of the multicore runtime, as it runs inside its worker thread: it steps the
 * L1 vCPU loops the coordinator placed on it, one turn at a time, and serves their per-vCPU hcalls
 * (H_GUEST_RUN_VCPU, a vCPU's own GET/SET_STATE, H_RPT_INVALIDATE) with its own view of L0 on the
 * shared partition state, so an exit never leaves the thread (docs/architecture.md, "The
 * multicore runtime"). Global hcalls and L1 services go to the coordinator (CoordinatorLink).
 *
 * A turn: take a loop (RUNNER compare-exchange in L1's loop table), catch up with the machine's
 * timebase, step it until it yields, ends, or has run for a time slice, give it back. Between
 * turns the core looks at its control words (stop, placement changes) and, every YIELD_MS, lets
 * its event loop run so the control plane (comlink) is answered.
 *
 * Invoked from: cores/worker.ts.
 */
import { L0 } from '../hypervisor/l0/l0.js';
import { V1Host } from '../hypervisor/l0/v1/host.js';
import { installV1 } from '../hypervisor/l0/v1/registry.js';
import { AgentLoop } from '../hypervisor/l1/agent.js';
import { AGENTS } from '../hypervisor/l1/agents/index.js';
import { Doorbells } from '../hypervisor/l1/doorbells.js';
import { agentContext } from '../hypervisor/l1/l1.js';
import { L, LoopState, LoopTable, NestedApi } from '../hypervisor/l1/loop-table.js';
import { RemoteGuestEvents, RemoteGuestMemory } from '../hypervisor/l1/remote-services.js';
import { RunInput, RunOutput } from '../hypervisor/l1/run-buffers.js';
import { ownerPolicy } from '../hypervisor/l1/state-refresh.js';
import { V1Vcpu } from '../hypervisor/l1/v1-vcpu.js';
import { V2Vcpu } from '../hypervisor/l1/v2-vcpu.js';
import { type L0Port, L1VcpuLoop, type OwnerPolicy, Step } from '../hypervisor/l1/vcpu-loop.js';
import { VirtualIrq } from '../hypervisor/l1/virtual-irq.js';
import { Hcall, StateFlags } from '../hypervisor/papr.js';
import { SplitMix32 } from '../hypervisor/prng.js';
import type { GuestRam } from '../mem/ram.js';
import type { CoreLoad, CoreReport, LoopCounters } from '../src/protocol.js';
import { WaitFor } from '../src/trace/layout.js';
import { TraceRecorder } from '../src/trace/recorder.js';
import { CoordinatorLink } from './coordinator-link.js';
import { C, CoreControl, CoreState } from './core-control.js';
import { R } from './vcpu.js';

/** How often the core lets its event loop run (control plane), in ms of wall time. */
const YIELD_MS = 20;
/** Longest an idle core sleeps before it looks at its placement again (ms). */
const IDLE_MS = 50;
/** Steps between looks at the control words inside a turn (a power of two). */
const POLL_STEPS = 16;
/** Steps of one loop in one turn at most, so that short exits do not starve a core's other loops. */
const TURN_STEPS = 256;

/** Hcalls a core serves itself (per-vCPU); every other one goes to the coordinator. */
const LOCAL_HCALLS = new Set<number>([
  Hcall.H_GUEST_RUN_VCPU,
  Hcall.H_ENTER_NESTED,
  Hcall.H_GUEST_GET_STATE,
  Hcall.H_GUEST_SET_STATE,
  Hcall.H_RPT_INVALIDATE,
]);
/** SET_STATE's guest-wide flag, high word (guest records are written by the coordinator only). */
const GUEST_WIDE_HI = Number(StateFlags.GUEST_WIDE >> 32n);

/** A loop as this core rebuilt it (a vCPU loop or an agent), with its counters. */
interface LocalLoop {
  loopId: number;
  loop: { readonly guestId: number; readonly vcpuId: number; step(core: number): Step };
  counters: LoopCounters;
}

export class CoreRuntime {
  readonly index: number;
  private readonly l0: L0;
  private readonly table: LoopTable;
  private readonly control: CoreControl;
  private readonly link: CoordinatorLink;
  private readonly ram: GuestRam;
  private readonly port: L0Port;
  private readonly local: (LocalLoop | undefined)[] = [];
  /** Counters of loops this core stepped and no longer holds (entry reused by a later loop). */
  private readonly retired: LoopCounters[] = [];
  /** Entries placed on this core, as last read from the loop table. */
  private placed: number[] = [];
  private placedSeq = -1;
  private next = 0;
  private readonly rng: SplitMix32 | undefined;
  private steps = 0;
  private instructions = 0;
  private runningSeconds = 0;
  private idleSeconds = 0;
  private migrationsIn = 0;
  private stopRequested = false;
  /** Chaos scheduling's generator (seeded per core), or undefined without chaos. */
  private readonly chaos: SplitMix32 | undefined;
  /** This core's trace recorder, or null when the run is not traced. */
  private readonly trace: TraceRecorder | null = null;
  /** What the core was doing when a turn threw (before the turn's cleanup forgot it). */
  private crashInfo: string | undefined;
  private crashEntry = -1;

  constructor(private readonly load: CoreLoad) {
    this.index = load.index;
    this.l0 = L0.attach(load.l0, load.index);
    installV1(this.l0, V1Host.attach(load.v1));
    this.ram = this.l0.ram;
    this.table = LoopTable.attach(load.loops);
    this.control = CoreControl.attach(load.control);
    this.link = new CoordinatorLink(load.requests, load.replies);
    this.rng = load.seed === undefined ? undefined : new SplitMix32(load.seed);
    this.chaos = load.chaos ? new SplitMix32((load.seed ?? 0) ^ 0xc4a05) : undefined;
    const l0 = this.l0;
    if (load.trace) {
      this.trace = new TraceRecorder(load.trace);
      l0.traces.set(load.index, this.trace);
      this.link.trace = this.trace;
      this.link.timebase = () => l0.seat(load.index).core.tb;
    }
    const link = this.link;
    this.port = {
      hcall: (r, core) => {
        const op = r.num(3);
        if (LOCAL_HCALLS.has(op) && !(op === Hcall.H_GUEST_SET_STATE && (r.hi(4) & GUEST_WIDE_HI) !== 0))
          return l0.hcall(r, core);
        return link.hcall(r, -1);
      },
      timebase: (core) => l0.seat(core).core.tb,
    };
  }

  /** Asks the core to stop after its current turn (control plane). */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs until the coordinator (or `stop`) says stop; returns the final report. */
  async run(): Promise<CoreReport> {
    const me = this.index;
    const ctl = this.control;
    ctl.set(me, C.STATE, CoreState.IDLE);
    let lastYield = performance.now();
    const crashAt = this.load.crash?.afterSteps ?? -1;
    for (;;) {
      if (this.stopRequested || ctl.get(me, C.STOP) !== 0) break;
      const e = this.pick();
      if (e < 0) {
        await this.idle();
        lastYield = performance.now();
        continue;
      }
      this.turn(e, crashAt >= 0 && this.steps >= crashAt);
      const now = performance.now();
      if (now - lastYield > YIELD_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
    ctl.set(me, C.STATE, CoreState.STOPPED);
    return this.report();
  }

  /** The core's counters so far. */
  report(): CoreReport {
    const loops = [...this.retired];
    for (const l of this.local) if (l) loops.push(l.counters);
    const s = this.l0.stats;
    return {
      index: this.index,
      steps: this.steps,
      instructions: this.instructions,
      runningSeconds: this.runningSeconds,
      waitingSeconds: this.link.waitingSeconds,
      idleSeconds: this.idleSeconds,
      migrationsIn: this.migrationsIn,
      // Structured-cloned to the coordinator: every counter field, Maps included.
      l0: s,
      loops,
    };
  }

  /** One turn of loop entry `e` on this core (`crash`: test-only, fail inside it). */
  private turn(e: number, crash: boolean): void {
    const me = this.index;
    const ctl = this.control;
    const l = this.loopAt(e);
    const before = this.table.takeLastCore(e, me);
    if (before >= 0 && before !== me) this.migrationsIn++;
    const seat = this.l0.seat(me);
    // One clock for the machine: a core that fell behind catches up (as if it had been idle), so
    // a vCPU never sees its timebase go back when it moves to another core.
    const clock = Math.max(ctl.latestTimebase(), this.table.lastTb(e));
    if (clock > seat.core.tb) seat.core.tb = clock;
    ctl.set(me, C.ENTRY, e);
    ctl.set(me, C.GUEST, l.loop.guestId);
    ctl.set(me, C.VCPU, l.loop.vcpuId);
    ctl.set(me, C.STATE, CoreState.STEPPING);
    const stats = this.l0.stats;
    const i0 = stats.instructions;
    const t0 = performance.now();
    const slice = this.l0.config.sliceInstructions;
    let steps = 0;
    try {
      if (crash) this.injectCrash();
      // What the run's instruction limit leaves this turn, given the other cores' counts as of
      // the last look (refreshed every POLL_STEPS: reading them pulls their cache lines).
      let room = this.load.maxInstructions - ctl.totalInstructions();
      for (;;) {
        const st = l.loop.step(me);
        steps++;
        const mine = stats.instructions - i0;
        if (st !== Step.RUN || steps >= TURN_STEPS || mine >= slice || mine >= room) break;
        // Chaos preempts vCPUs at their exits (an agent's every step is an hcall: left alone).
        if (this.chaos !== undefined && !(l.loop instanceof AgentLoop) && this.chaos.below(2) === 0) break;
        if ((steps & (POLL_STEPS - 1)) === 0) {
          ctl.setInstructions(me, this.instructions + mine);
          if (ctl.get(me, C.STOP) !== 0 || this.table.home(e) !== me) break;
          room = this.load.maxInstructions - ctl.totalInstructions() + mine;
        }
      }
    } catch (err) {
      this.crashInfo = this.describe();
      this.crashEntry = e;
      throw err;
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      const retired = stats.instructions - i0;
      this.table.setLastTb(e, seat.core.tb);
      this.table.release(e, me);
      // Moved away during the turn: its new core may be idle waiting for it.
      const home = this.table.home(e);
      if (home !== me && home >= 0) ctl.poke(home);
      ctl.set(me, C.ENTRY, -1);
      ctl.set(me, C.STATE, CoreState.IDLE);
      this.steps += steps;
      this.instructions += retired;
      this.runningSeconds += seconds;
      l.counters.steps += steps;
      l.counters.instructions += retired;
      l.counters.runningSeconds += seconds;
      ctl.set(me, C.STEPS, this.steps);
      ctl.setInstructions(me, this.instructions);
      ctl.setTimebase(me, seat.core.tb);
    }
  }

  /**
   * The next loop placed on this core that is runnable and not being stepped elsewhere (taken by
   * this call), or −1. Round robin over the placed loops, or a seeded choice.
   */
  private pick(): number {
    const me = this.index;
    // The run's instruction limit is reached: the coordinator is about to stop every guest.
    if (this.overLimit()) return -1;
    const seq = this.control.get(me, C.ASSIGN_SEQ);
    if (seq !== this.placedSeq) {
      this.placedSeq = seq;
      const placed: number[] = [];
      for (let e = 0; e < this.table.capacity; e++)
        if (this.table.home(e) === me && this.table.state(e) === LoopState.RUNNABLE) placed.push(e);
      this.placed = placed;
    }
    const p = this.placed;
    const n = p.length;
    if (n === 0) return -1;
    const start = this.rng ? this.rng.below(n) : this.next % n;
    for (let k = 0; k < n; k++) {
      const e = p[(start + k) % n]!;
      if (this.table.state(e) !== LoopState.RUNNABLE || this.table.home(e) !== me) continue;
      if (!this.table.tryTake(e, me)) continue;
      this.next = start + k + 1;
      return e;
    }
    return -1;
  }

  /** True once the cores together retired the run's instruction limit. */
  private overLimit(): boolean {
    return this.control.totalInstructions() >= this.load.maxInstructions;
  }

  /** Sleeps until the coordinator changes this core's placement (or IDLE_MS pass). */
  private async idle(): Promise<void> {
    const me = this.index;
    const ctl = this.control;
    const seq = ctl.get(me, C.ASSIGN_SEQ);
    // Looked at the placement since the last poke: nothing runnable, so wait for the next poke.
    if (seq !== this.placedSeq) return;
    const t0 = performance.now();
    const r = (
      Atomics as unknown as {
        waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: unknown };
      }
    ).waitAsync(ctl.w, ctl.at(me, C.ASSIGN_SEQ), seq, IDLE_MS);
    if (r.async) await r.value;
    // Runnable loops may have become free (their previous core released them): look again.
    this.placedSeq = -1;
    const t1 = performance.now();
    this.idleSeconds += (t1 - t0) / 1000;
    if (this.trace !== null) {
      const tb = this.l0.seat(me).core.tb;
      this.trace.wait(WaitFor.IDLE, tb, tb, t0 * 1000, t1 * 1000);
    }
  }

  /** The loop of entry `e`, rebuilt on this core when it first comes here (or the entry was reused). */
  private loopAt(e: number): LocalLoop {
    const t = this.table;
    const loopId = t.get(e, L.LOOP_ID);
    const have = this.local[e];
    if (have && have.loopId === loopId) return have;
    if (have) this.retired.push(have.counters);
    const guestId = t.get(e, L.GUEST_ID);
    const vcpuId = t.get(e, L.VCPU_ID);
    const counters: LoopCounters = {
      loopId,
      guestId,
      vcpuId,
      steps: 0,
      exits: new Map(),
      l2hcalls: new Map(),
      instructions: 0,
      runningSeconds: 0,
    };
    if (t.get(e, L.API) === NestedApi.AGENT) {
      const factory = AGENTS.get(t.get(e, L.AGENT_KIND));
      if (!factory) throw new Error(`loop ${e}: no agent of kind ${t.get(e, L.AGENT_KIND)}`);
      const link = this.link;
      const agent = factory(agentContext(t, e, this.port, this.ram, (what) => link.violation(e, what)));
      const l = { loopId, loop: new AgentLoop(agent, guestId, vcpuId, t, e), counters };
      this.local[e] = l;
      return l;
    }
    const inAddr = t.get(e, L.IN_ADDR) >>> 0;
    const outAddr = t.get(e, L.OUT_ADDR) >>> 0;
    // The loop's state is in L1 memory either way: v2's run input buffer, v1's two structures.
    const vcpu =
      t.get(e, L.API) === NestedApi.V1
        ? V1Vcpu.attach(this.port, this.ram, inAddr, outAddr)
        : new V2Vcpu(
            this.port,
            guestId,
            vcpuId,
            new RunInput(this.ram, inAddr, t.get(e, L.IN_BYTES)),
            new RunOutput(this.ram, outAddr, t.get(e, L.OUT_BYTES)),
          );
    const loop = new L1VcpuLoop(
      this.port.timebase,
      guestId,
      vcpuId,
      vcpu,
      new RemoteGuestMemory(this.link, e, this.ram, t.root(e)),
      new RemoteGuestEvents(this.link, e, t, guestId, counters),
      t.get(e, L.HDEC_TICKS),
      t,
      e,
      this.trace,
      this.ownerPolicyOf(e, guestId, vcpuId),
    );
    const l = { loopId, loop, counters };
    this.local[e] = l;
    return l;
  }

  /** The owner-side stress policy recorded for entry `e`, or null. */
  private ownerPolicyOf(e: number, guestId: number, vcpuId: number): OwnerPolicy | null {
    const p = this.table.policy(e);
    if (p.refreshEvery === 0 && p.pendingEvery === 0 && p.irqEvery === 0 && p.doorbellThreads === 0)
      return null;
    return ownerPolicy(this.port, this.ram, p, guestId, vcpuId, {
      irq: p.irqEvery > 0 ? new VirtualIrq(this.table, e) : null,
      doorbells: p.doorbellThreads > 0 ? new Doorbells(this.table, e, guestId, vcpuId) : null,
    });
  }

  /**
   * Test-only fault injection (CoreLoad.crash): fail in the middle of a turn, the way a nestsim bug
   * (an exception) or a dead thread (the loop and the core's words left as they were) would.
   */
  private injectCrash(): never {
    if (this.load.crash!.how === 'exit') process.exit(70);
    throw new Error(`injected crash after ${this.steps} steps`);
  }

  /** What the core was doing, for a crash report: guest, vCPU and NIA of the loop it stepped. */
  describe(): string {
    const me = this.index;
    const e = this.control.get(me, C.ENTRY);
    if (e < 0) return `core ${me} (between vCPUs)`;
    const guest = this.control.get(me, C.GUEST);
    const vcpu = this.control.get(me, C.VCPU);
    const slot = this.l0.parts.slotOf(guest, vcpu);
    let nia = 'unknown';
    if (slot >= 0) {
      const w = this.l0.vcpu(slot).w;
      nia = `0x${(w[R.NIA]! >>> 0).toString(16).padStart(8, '0')}${(w[R.NIA + 1]! >>> 0).toString(16).padStart(8, '0')}`;
    }
    return `core ${me}, guest ${guest} vCPU ${vcpu}, NIA ${nia}`;
  }

  /** Sends the crash report (best effort) and releases what the core held. */
  crashed(err: unknown): void {
    const me = this.index;
    const what = `${this.crashInfo ?? this.describe()}: ${(err as Error)?.stack ?? String(err)}`;
    this.control.set(me, C.STATE, CoreState.CRASHED);
    this.l0.acks?.leave(me);
    try {
      this.link.crash(this.crashEntry, what);
    } catch {
      // the coordinator learns of the crash from the worker's failure too
    }
  }
}

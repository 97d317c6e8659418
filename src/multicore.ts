/**
 * The multicore runtime (docs/architecture.md, "The multicore runtime"): N core worker threads
 * execute L2 vCPUs at the same time over the shared L1 RAM, and the main thread is the coordinator
 * actor: it owns L0's global operations and L1's control part, places L1 vCPU loops on cores and
 * moves them (seeded), serves the cores' requests (global hcalls, demand paging, console, guest
 * ends), deletes finished guests, and survives a core that crashes.
 *
 * The coordinator never blocks its event loop for long: it drains the request channels, then
 * sleeps on their shared doorbell with Atomics.waitAsync, so piscina's worker errors and comlink's
 * replies still arrive. Cores serve the per-vCPU hcalls themselves (cores/core-runtime.ts).
 *
 * Invoked from: `nestsim run`, `nestsim exec` (src/commands/), tests, benchmarks.
 */
import { MessageChannel, type Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina } from 'piscina';
import { C, CoreControl, CoreState } from '../cores/core-control.js';
import { R } from '../cores/vcpu.js';
import type { CoreWorkerApi } from '../cores/worker.js';
import { HcallRegs } from '../hypervisor/l0/regs.js';
import type { V1Host } from '../hypervisor/l0/v1/host.js';
import { v1Of } from '../hypervisor/l0/v1/registry.js';
import type { L1Guest } from '../hypervisor/l1/guest.js';
import { L, LoopState, NestedApi } from '../hypervisor/l1/loop-table.js';
import { SplitMix32 } from '../hypervisor/prng.js';
import { ChannelReceiver, ChannelSender, createChannel, createDoorbell, Doorbell } from '../mem/channel.js';
import { InvalidationAcks } from '../mem/invalidation.js';
import { compiledFile } from './package-files.js';
import {
  type CoreReport,
  type CrashInjection,
  getText,
  nodeEndpoint,
  REP,
  REQ,
  Req,
  RING_RECORDS,
} from './protocol.js';
import {
  attachCoordinatorTrace,
  type CoreActivity,
  type RunSummary,
  Simulation,
  SimulationBase,
  type SimulationOptions,
} from './simulation.js';
import type { TraceCollector } from './trace/collector.js';

/** Options of a multicore run. */
export interface MulticoreOptions extends SimulationOptions {
  /** Core worker threads (simulated physical cores). */
  cores: number;
  /**
   * Instructions (over all cores) between scheduling points, where the coordinator balances the
   * loops over the cores and moves `migrations` of them; default 8 time slices.
   */
  scheduleEvery?: number;
  /** vCPU loops moved to another core at each scheduling point even when balanced (default 1). */
  migrations?: number;
  /** Test-only: make one core crash (src/protocol.ts CrashInjection). */
  crash?: CrashInjection & { core: number };
  /**
   * Chaos scheduling (stress): cores end a turn after any exit with even odds, and the coordinator
   * balances and moves loops every time slice (seeded), so vCPUs change cores at hcall boundaries.
   */
  chaos?: boolean;
}

/** How long the coordinator waits for a stopped core's report before it gives up on it. */
const STOP_DEADLINE_MS = 30_000;
/** The coordinator's longest sleep between looks at limits, crashes and progress (ms). */
const TICK_MS = 10;

/** One core worker as the coordinator sees it. */
interface CoreHandle {
  index: number;
  api: Comlink.Remote<CoreWorkerApi>;
  task: Promise<void>;
  started: Promise<CoreReport>;
  report?: CoreReport;
  dead: boolean;
  rx: ChannelReceiver;
  tx: ChannelSender;
}

/** What the coordinator remembers of each loop it placed. */
interface PlacedLoop {
  guest: L1Guest;
  vcpuId: number;
}

/** A simulation whose vCPUs run on core worker threads. */
export class MulticoreSimulation extends SimulationBase {
  readonly mode = 'multicore' as const;
  readonly cores: number;
  readonly control: CoreControl;
  readonly acks: InvalidationAcks;
  private readonly bell: SharedArrayBuffer;
  private readonly requests;
  private readonly replies;
  private readonly rng: SplitMix32 | undefined;
  private handles: CoreHandle[] = [];
  private pool: Piscina | undefined;
  /** Loop table entry → the guest and vCPU it belongs to, and loop id → the same (statistics). */
  private readonly byEntry = new Map<number, PlacedLoop>();
  private readonly byLoopId = new Map<number, PlacedLoop>();
  /** Wall seconds it took to start the core workers (part of the run's wall time). */
  startupSeconds = 0;
  /** The final report of each core (after run). */
  coreReports: CoreReport[] = [];
  /** Every worker thread the pool started (for the no-thread-left check). */
  private readonly threads: Worker[] = [];
  /** Set once the cores are being shut down: a worker ending now is not a crash. */
  private closing = false;
  private traceCollector: TraceCollector | undefined;
  private readonly v1: V1Host;
  private readonly regs = new HcallRegs();
  private readonly rec = new Int32Array(REQ.WORDS);
  private readonly rep = new Int32Array(REP.WORDS);

  constructor(readonly mopts: MulticoreOptions) {
    super(mopts);
    // v1's L0 state (shadow tables, v1 vCPU slots) lives in shared memory too, for every core.
    // (L1, made above, may already have registered its v1 partition table: keep that state.)
    this.v1 = v1Of(this.l0);
    this.acks = InvalidationAcks.create(mopts.cores);
    // The coordinator's own invalidations (guest deletion, a new partition table) wait for acks too.
    this.l0.acks = this.acks;
    this.cores = mopts.cores;
    this.control = CoreControl.create(this.cores);
    this.bell = createDoorbell();
    this.requests = Array.from({ length: this.cores }, () =>
      createChannel({ records: RING_RECORDS, recordWords: REQ.WORDS, bell: this.bell }),
    );
    this.replies = Array.from({ length: this.cores }, () =>
      createChannel({ records: 2, recordWords: REP.WORDS }),
    );
    this.rng = mopts.seed === undefined ? undefined : new SplitMix32(mopts.seed ^ 0xc0de);
  }

  get instructions(): number {
    return this.control.totalInstructions();
  }

  override get traceBell(): SharedArrayBuffer {
    return this.bell;
  }

  attachTrace(collector: TraceCollector): void {
    if (collector.buffers.length < this.cores + 1)
      throw new Error('a trace needs a buffer per core and one for the coordinator');
    this.traceCollector = collector;
    attachCoordinatorTrace(this, collector);
  }

  coreActivityNow(): number[] {
    return Array.from({ length: this.cores }, (_, k) => this.control.timebase(k));
  }

  coreActivity(): CoreActivity[] {
    return this.coreReports.map((r) => ({
      core: r.index,
      steps: r.steps,
      instructions: r.instructions,
      exits: r.l0.exits,
      runningSeconds: r.runningSeconds,
      waitingSeconds: r.waitingSeconds,
      idleSeconds: r.idleSeconds,
      migrationsIn: r.migrationsIn,
    }));
  }

  /** Runs every guest to its end (or the instruction limit) on the cores; then shuts them down. */
  async run(progress?: (instructions: number) => void): Promise<RunSummary> {
    const t0 = performance.now();
    // Placed before the cores start, so the first core does not take every loop at once.
    this.placeNewLoops();
    await this.startCores();
    this.startupSeconds = (performance.now() - t0) / 1000;
    let completed = true;
    let lastProgress = t0;
    const slice = this.l0.config.sliceInstructions;
    const scheduleEvery = this.mopts.scheduleEvery ?? (this.mopts.chaos ? slice : 8 * slice);
    let nextSchedule = scheduleEvery;
    const doorbell = new Doorbell(this.bell);
    let nextTickAt = performance.now() + (this.tick?.everyMs ?? 0);
    try {
      for (;;) {
        this.placeNewLoops();
        let handled = this.drain();
        this.traceCollector?.drainIfNeeded();
        for (const g of this.l1.live) if (g.finished) this.deleteGuest(g);
        this.l1.reclaim();
        if (this.l1.live.length === 0 && this.l1.agents.length === 0) break;
        const done = this.instructions;
        if (done >= this.opts.maxInstructions && completed) {
          completed = false;
          for (const g of this.l1.live) g.stop(`instruction limit of ${this.opts.maxInstructions} reached`);
          for (const a of this.l1.agents) a.loop.finish();
        }
        if (done >= nextSchedule) {
          nextSchedule = done + scheduleEvery;
          this.schedule(this.mopts.migrations ?? (this.mopts.chaos ? 4 : 1));
        }
        const now = performance.now();
        if (this.tick && now >= nextTickAt) {
          nextTickAt = now + this.tick.everyMs;
          this.tick.fn();
        }
        if (progress && now - lastProgress > 100) {
          lastProgress = now;
          progress(done);
        }
        if (handled === 0) {
          const seq = doorbell.arm();
          handled = this.drain();
          const sleep = this.tick ? Math.max(0, Math.min(TICK_MS, nextTickAt - performance.now())) : TICK_MS;
          if (handled === 0) await doorbell.sleepAsync(seq, sleep);
          else doorbell.disarm();
        }
      }
    } finally {
      await this.stopCores();
    }
    this.l1.reclaim();
    this.mergeReports();
    const wallSeconds = (performance.now() - t0) / 1000;
    const instructions = this.l0.stats.instructions;
    return { instructions, wallSeconds, mips: instructions / wallSeconds / 1e6, completed };
  }

  /** Starts the pool and one long task per core; loads and starts each core. */
  private async startCores(): Promise<void> {
    const n = this.cores;
    this.pool = new Piscina({
      filename: compiledFile('cores/worker.js'),
      minThreads: n,
      maxThreads: n,
      concurrentTasksPerWorker: 1,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
    });
    const pool = this.pool;
    const track = () => {
      for (const w of pool.threads) if (!this.threads.includes(w)) this.threads.push(w);
    };
    track();
    pool.on('workerCreate', track);
    const shared = this.l0.shared();
    shared.acks = this.acks.sab;
    for (let k = 0; k < n; k++) {
      const { port1, port2 } = new MessageChannel();
      const task = this.pool.run({ port: port2 }, { transferList: [port2] }) as Promise<void>;
      const api = Comlink.wrap<CoreWorkerApi>(nodeEndpoint(port1));
      const h: CoreHandle = {
        index: k,
        api,
        task,
        started: Promise.resolve() as unknown as Promise<CoreReport>,
        dead: false,
        rx: new ChannelReceiver(this.requests[k]!, 64),
        tx: new ChannelSender(this.replies[k]!),
      };
      task.catch((e: unknown) => {
        if (this.closing) return;
        this.drainCore(h);
        this.coreFailed(h, `the worker thread died: ${(e as Error)?.message ?? e}`);
      });
      this.handles.push(h);
      const crash = this.mopts.crash?.core === k ? this.mopts.crash : undefined;
      await api.load({
        index: k,
        cores: n,
        l0: shared,
        loops: this.l1.loops.sab,
        control: this.control.sab,
        requests: this.requests[k]!,
        replies: this.replies[k]!,
        maxInstructions: this.opts.maxInstructions,
        chaos: this.mopts.chaos === true,
        v1: this.v1.shared,
        ...(this.traceCollector ? { trace: this.traceCollector.buffers[k]! } : {}),
        ...(this.mopts.seed === undefined ? {} : { seed: this.mopts.seed * 31 + k }),
        ...(crash ? { crash: { afterSteps: crash.afterSteps, how: crash.how } } : {}),
      });
      h.started = api.start();
      h.started.then(
        (r) => {
          h.report = r;
        },
        (e: unknown) => {
          // The core's CRASH record (with what it was running) may still be in its channel.
          this.drainCore(h);
          this.coreFailed(h, `${(e as Error)?.message ?? e}`);
        },
      );
    }
  }

  /** Stops every live core, collects its report, and ends the pool (no thread is left). */
  private async stopCores(): Promise<void> {
    for (const h of this.handles) if (!h.dead) this.control.requestStop(h.index);
    const deadline = new Promise<'late'>((resolve) => {
      const t = setTimeout(() => resolve('late'), STOP_DEADLINE_MS);
      t.unref();
    });
    for (const h of this.handles) {
      if (h.dead) continue;
      const r = await Promise.race([
        h.started.then(
          () => 'ok' as const,
          () => 'failed' as const,
        ),
        deadline,
      ]);
      if (r === 'late') this.crashes.push(`core ${h.index} did not stop within ${STOP_DEADLINE_MS} ms`);
      else if (r === 'ok') await h.api.shutdown().catch(() => {});
    }
    this.closing = true;
    for (const h of this.handles) h.api[Comlink.releaseProxy]();
    await this.pool?.destroy();
    this.pool = undefined;
    // destroy() resolves before the threads are gone: wait for them (bounded: 5 s on a loaded host).
    for (let k = 0; k < 500 && this.threadsAlive > 0; k++) await new Promise((r) => setTimeout(r, 10));
  }

  /** Handles every request waiting in the cores' channels; returns how many. */
  private drain(): number {
    let n = 0;
    for (const h of this.handles) if (!h.dead) n += this.drainCore(h);
    return n;
  }

  /** Handles the requests waiting in core `h`'s channel. */
  private drainCore(h: CoreHandle): number {
    let n = 0;
    while (!h.dead && h.rx.tryReceive(this.rec)) {
      this.handle(h, this.rec);
      n++;
    }
    return n;
  }

  /** One request of core `h`. */
  private handle(h: CoreHandle, q: Int32Array): void {
    const kind = q[REQ.KIND]!;
    const entry = q[REQ.ENTRY]!;
    const p = this.byEntry.get(entry);
    switch (kind) {
      case Req.HCALL: {
        const r = this.regs;
        r.words.set(q.subarray(REQ.REGS, REQ.REGS + r.words.length));
        const rc = this.l0.hcall(r, h.index);
        this.reply(h, q, rc, r.words);
        return;
      }
      case Req.FAULT: {
        const l2ra = q[REQ.A0]! * 4294967296 + (q[REQ.A1]! >>> 0);
        const why = p ? p.guest.space.fault(l2ra, q[REQ.A2] !== 0, q[REQ.A3] !== 0) : 'no such guest';
        this.reply(h, q, why === undefined ? 0 : 1, undefined, why);
        return;
      }
      case Req.CONSOLE:
      case Req.CONSOLE_END:
        p?.guest.console(q[REQ.A0]!, getText(q, REQ.TEXT_LEN, REQ.TEXT));
        if (kind === Req.CONSOLE_END) this.reply(h, q, 0);
        return;
      case Req.VCPU_EXIT:
        p?.guest.vcpuExit(p.vcpuId, q[REQ.A0]!);
        return;
      case Req.GROUP_EXIT:
        p?.guest.groupExit(p.vcpuId, q[REQ.A0]!);
        return;
      case Req.FAILED:
        p?.guest.failed(p.vcpuId, new TextDecoder().decode(getText(q, REQ.TEXT_LEN, REQ.TEXT)));
        return;
      case Req.VIOLATION:
        this.violation(new TextDecoder().decode(getText(q, REQ.TEXT_LEN, REQ.TEXT)));
        return;
      case Req.CRASH:
        this.coreFailed(h, new TextDecoder().decode(getText(q, REQ.TEXT_LEN, REQ.TEXT)), entry);
        return;
      default:
        throw new Error(`core ${h.index} sent a request of unknown kind ${kind}`);
    }
  }

  /** Answers the request `q` of core `h`. */
  private reply(h: CoreHandle, q: Int32Array, status: number, regs?: Int32Array, text?: string): void {
    const a = this.rep;
    a.fill(0);
    a[REP.SEQ] = q[REQ.SEQ]!;
    a[REP.STATUS] = status;
    if (regs) a.set(regs, REP.REGS);
    if (text !== undefined) {
      const bytes = new TextEncoder().encode(text).subarray(0, 4 * (REP.WORDS - REP.TEXT));
      new Uint8Array(a.buffer, REP.TEXT * 4, bytes.length).set(bytes);
      a[REP.TEXT_LEN] = bytes.length;
    }
    h.tx.send(a);
  }

  /** Places every loop L1 added since the last look on the least loaded live core. */
  private placeNewLoops(): void {
    const t = this.l1.loops;
    const fresh: number[] = [];
    for (const g of this.l1.live) {
      g.entries.forEach((e, v) => {
        if (this.byEntry.get(e)?.guest === g) return;
        const p = { guest: g, vcpuId: v };
        this.byEntry.set(e, p);
        this.byLoopId.set(t.get(e, L.LOOP_ID), p);
        if (t.home(e) < 0) fresh.push(e);
      });
    }
    // Agents too: placed once, never moved (they keep state of their own between steps).
    for (const a of this.l1.agents) if (t.home(a.entry) < 0 && !t.isDone(a.entry)) fresh.push(a.entry);
    if (fresh.length === 0) return;
    if (this.rng) shuffle(fresh, this.rng);
    const load = this.loads();
    for (const e of fresh) {
      const core = this.leastLoaded(load);
      if (core < 0) return;
      t.setHome(e, core);
      load[core]!++;
      this.control.poke(core);
    }
  }

  /** Runnable loops placed on each core (−1 for dead cores). */
  private loads(): number[] {
    const t = this.l1.loops;
    const load = this.handles.map((h) => (h.dead ? -1 : 0));
    if (load.length === 0) for (let k = 0; k < this.cores; k++) load.push(0);
    for (let e = 0; e < t.capacity; e++) {
      if (t.state(e) !== LoopState.RUNNABLE) continue;
      const c = t.home(e);
      if (c >= 0 && load[c]! >= 0) load[c]!++;
    }
    return load;
  }

  /** The live core with the fewest loops (ties: the lowest index), or −1. */
  private leastLoaded(load: number[]): number {
    let best = -1;
    for (let c = 0; c < load.length; c++) if (load[c]! >= 0 && (best < 0 || load[c]! < load[best]!)) best = c;
    return best;
  }

  /**
   * A scheduling point: balance the cores (move loops from the most to the least loaded until they
   * differ by at most one), then move `migrations` loops to other cores by swapping two loops of
   * different cores (so that vCPUs really change cores even when the load is even). Seeded.
   */
  schedule(migrations: number): void {
    const t = this.l1.loops;
    const rng = this.rng;
    const pickOf = (n: number) => (rng ? rng.below(n) : 0);
    // The loops that may move: vCPU loops (agents stay where they were placed).
    const on = (core: number) => {
      const list: number[] = [];
      for (let e = 0; e < t.capacity; e++)
        if (t.state(e) === LoopState.RUNNABLE && t.home(e) === core && t.get(e, L.API) !== NestedApi.AGENT)
          list.push(e);
      return list;
    };
    for (;;) {
      const load = this.loads();
      const min = this.leastLoaded(load);
      let max = -1;
      for (let c = 0; c < load.length; c++) if (load[c]! >= 0 && (max < 0 || load[c]! > load[max]!)) max = c;
      if (min < 0 || max < 0 || load[max]! - load[min]! < 2) break;
      const list = on(max);
      if (list.length === 0) break; // only agents there
      this.move(list[pickOf(list.length)]!, min);
    }
    const live = this.handles.filter((h) => !h.dead).map((h) => h.index);
    if (live.length < 2) return;
    for (let m = 0; m < migrations; m++) {
      const a = live[pickOf(live.length)]!;
      let b = live[pickOf(live.length - 1)]!;
      if (b === a) b = live[live.length - 1]!;
      const la = on(a);
      const lb = on(b);
      if (la.length > 0) this.move(la[pickOf(la.length)]!, b);
      if (lb.length > 0) this.move(lb[pickOf(lb.length)]!, a);
    }
  }

  /** Moves loop `e` to core `core` (it finishes its current turn where it is first). */
  private move(e: number, core: number): void {
    const t = this.l1.loops;
    const from = t.home(e);
    if (from === core) return;
    t.setHome(e, core);
    this.migrations++;
    if (from >= 0) this.control.poke(from);
    this.control.poke(core);
  }

  /**
   * Deletes a guest (L0 and L1) and forgets its loops; its vCPUs may be running (L0 stops them).
   * Called for guests that are over, and by users of the runtime to delete one while it runs.
   */
  override deleteGuest(g: L1Guest): void {
    for (const e of g.entries) if (this.byEntry.get(e)?.guest === g) this.byEntry.delete(e);
    this.l1.deleteGuest(g);
  }

  override deleteAllGuests(): void {
    for (const g of this.l1.live)
      for (const e of g.entries) if (this.byEntry.get(e)?.guest === g) this.byEntry.delete(e);
    this.l1.deleteAllGuests();
  }

  override moveLoopsOf(g: L1Guest): void {
    const live = this.handles.filter((h) => !h.dead).map((h) => h.index);
    if (live.length < 2) return;
    const t = this.l1.loops;
    for (const e of g.entries) {
      if (t.state(e) !== LoopState.RUNNABLE) continue;
      const others = live.filter((c) => c !== t.home(e));
      this.move(e, others[this.rng ? this.rng.below(others.length) : 0]!);
    }
  }

  /**
   * A core died (an exception, or its thread ended): the run it was in fails with a report naming
   * the core, guest, vCPU and NIA; what it held is taken back; its other loops go to live cores.
   */
  private coreFailed(h: CoreHandle, why: string, crashEntry = -1): void {
    if (h.dead) return;
    h.dead = true;
    const core = h.index;
    const t = this.l1.loops;
    const ctl = this.control;
    const entry = crashEntry >= 0 ? crashEntry : ctl.get(core, C.ENTRY);
    ctl.set(core, C.STATE, CoreState.CRASHED);
    const p = entry >= 0 ? this.byEntry.get(entry) : undefined;
    const where = p ? `guest ${p.guest.id} vCPU ${p.vcpuId}, NIA ${this.niaOf(p)}` : 'between vCPUs';
    const report = why.startsWith('core ') ? why : `core ${core} (${where}): ${why}`;
    this.crashes.push(report);
    p?.guest.failed(p.vcpuId, `core ${core} crashed while running it: ${report.split('\n')[0]}`);
    for (let e = 0; e < t.capacity; e++) if (t.runner(e) === core) t.revoke(e);
    const parts = this.l0.parts;
    for (let s = 0; s < this.l0.config.maxVcpus; s++) if (parts.holderOf(s) === core) parts.revoke(s, core);
    this.acks.leave(core);
    const load = this.loads();
    for (let e = 0; e < t.capacity; e++) {
      if (t.home(e) !== core || t.state(e) !== LoopState.RUNNABLE) continue;
      const to = this.leastLoaded(load);
      if (to < 0) break;
      t.setHome(e, to);
      load[to]!++;
      ctl.poke(to);
    }
    if (this.handles.every((x) => x.dead)) for (const g of this.l1.live) g.stop('every core crashed');
  }

  /** The NIA a vCPU's canonical state holds (where it entered its last run), as hex. */
  private niaOf(p: PlacedLoop): string {
    const slot = this.l0.parts.slotOf(p.guest.id, p.vcpuId);
    if (slot < 0) return 'unknown';
    const w = this.l0.vcpu(slot).w;
    const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
    return `0x${hex(w[R.NIA]!)}${hex(w[R.NIA + 1]!)}`;
  }

  /** Worker threads alive now (0 once `run` returned: nothing is left behind). */
  get threadsAlive(): number {
    // A worker's threadId turns −1 once its thread no longer runs (Node's worker_threads).
    return this.threads.filter((w) => w.threadId !== -1).length;
  }

  /** Adds the cores' counters to L0's statistics and to each guest's exit counts. */
  private mergeReports(): void {
    this.coreReports = this.handles.map((h) => h.report).filter((r): r is CoreReport => r !== undefined);
    for (const r of this.coreReports) {
      this.l0.stats.merge(r.l0);
      for (const c of r.loops) {
        const p = this.byLoopId.get(c.loopId);
        if (!p) continue;
        p.guest.addCounts(p.vcpuId, c.exits, c.l2hcalls, c.runningSeconds);
      }
    }
  }
}

/** Fisher–Yates with the seeded generator. */
function shuffle<T>(a: T[], rng: SplitMix32): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

/** How to run a simulation: the deterministic mode, or the multicore runtime on `cores` cores. */
export interface RunMode {
  deterministic: boolean;
  cores: number;
  /** More options of the multicore runtime (scheduling, chaos, crash injection). */
  multicore?: Partial<Omit<MulticoreOptions, keyof SimulationOptions | 'cores'>>;
}

/** The simulation for `mode`: deterministic on the calling thread, or on core worker threads. */
export function createSimulation(opts: SimulationOptions, mode: RunMode): SimulationBase {
  return mode.deterministic
    ? new Simulation(opts)
    : new MulticoreSimulation({ ...opts, ...mode.multicore, cores: mode.cores });
}

/**
 * One `nestsim stress` run: builds the simulation the scenario asks for (multicore or
 * deterministic, faults and test-only mutants in L0), sets up every stressor, drives their L1-side
 * actions at the simulation's ticks, stops them when the duration is over, and evaluates the
 * invariants: each stressor's own checks, and the ones every run has — nothing left allocated, no
 * core crashed, no invariant broken anywhere, no vCPU stuck (a watchdog in virtual time).
 *
 * A failing run says how to replay it in the deterministic mode (same seed, the virtual length the
 * run reached), where the same seed gives the same run instruction for instruction.
 *
 * Invoked from: src/commands/stress.ts, tests.
 */
import type { Mutants } from '../../hypervisor/l0/l0.js';
import { L, LoopState, NestedApi } from '../../hypervisor/l1/loop-table.js';
import { SplitMix32 } from '../../hypervisor/prng.js';
import { UserError } from '../errors.js';
import { createSimulation } from '../multicore.js';
import type { SimulationBase } from '../simulation.js';
import { type Duration, formatDuration } from '../units.js';
import { STRESSORS } from './registry.js';
import type { StressScenario } from './scenario.js';
import type { StressCheck, StressContext, Stressor } from './stressor.js';

/** What the command line changes in a scenario. */
export interface StressOverrides {
  seed?: number;
  cores?: number;
  deterministic?: boolean;
  duration?: Duration;
  iterations?: number;
  chaos?: boolean;
  api?: 'v1' | 'v2';
}

/** What a run needs. */
export interface StressOptions {
  scenario: StressScenario;
  /** The scenario's file as the user named it (for the replay command). */
  file: string;
  overrides: StressOverrides;
  /** Host cores, for the default core count. */
  hostCores: number;
  /** Test-only broken behaviours (--mutant), and the flags that named them (for the replay). */
  mutants?: Mutants;
  mutantFlags?: string[];
  /** Called with the simulation before the run (to attach a trace). */
  prepare?: (sim: SimulationBase) => void;
}

/** One stressor's line of the report. */
export interface StressorReport {
  name: string;
  opName: string;
  ops: number;
  opsPerSecond: number;
  checks: StressCheck[];
}

/** The whole report. */
export interface StressReport {
  ok: boolean;
  scenario: string;
  seed: number;
  mode: 'deterministic' | 'multicore';
  cores: number;
  api: 'v1' | 'v2';
  chaos: boolean;
  wallSeconds: number;
  instructions: number;
  stressors: StressorReport[];
  /** Stressors of the scenario left out of this run, and why (v2-only ones under v1). */
  skipped: { name: string; why: string }[];
  /** Checks every run has (resources, crashes, violations, watchdog). */
  checks: StressCheck[];
  violations: string[];
  crashes: string[];
  /** The command that replays the run in the deterministic mode. */
  replay: string;
  /** The length the stressors acted for, as a replayable virtual duration (instructions). */
  windAt: number;
}

/** Ticks of the stressors' L1-side actions: every this many instructions (deterministic), ms (multicore). */
const TICK_INSTRUCTIONS = 20_000;
const TICK_MS = 1;
const TICK_STEPS = 64;
/** After the duration, how long guests get to end by themselves before they are stopped. */
const GRACE_MS = 20_000;

/**
 * A stressor that deletes every guest at once would take the other stressors' guests, and what
 * they create meanwhile would break its "L0 holds nothing" check: it runs alone.
 */
function refuseDeleteAllBesideOthers(made: { name: string; s: Stressor }[], file: string): void {
  const deleter = made.find((m) => m.s.deletesAllGuests);
  if (deleter && made.length > 1)
    throw new UserError(
      `${file}: stressors.${deleter.name}`,
      `its delete-all deletes every guest, the other stressors' too: run ${deleter.name} alone`,
    );
}

/** Runs one stress scenario and returns its report (and the simulation, for callers that look further). */
export async function runStress(
  o: StressOptions,
  progress?: (instructions: number) => void,
): Promise<{ report: StressReport; sim: SimulationBase }> {
  const sc = o.scenario;
  const ov = o.overrides;
  const seed = ov.seed ?? sc.seed;
  const deterministic = ov.deterministic ?? sc.deterministic;
  const cores = deterministic ? 1 : (ov.cores ?? sc.cores ?? o.hostCores);
  const api = ov.api ?? sc.api;
  const chaos = ov.chaos ?? sc.chaos;
  const duration = ov.duration ?? sc.duration;
  const f = sc.faults;
  const made = Object.entries(sc.stressors).flatMap(([name, params]) =>
    params === undefined ? [] : [{ name, s: STRESSORS[name]!.make(params, ov.iterations) }],
  );
  const skipped = api === 'v1' ? made.filter((m) => m.s.v2Only !== undefined) : [];
  if (skipped.length > 0 && skipped.length === made.length)
    throw new UserError(
      `${o.file}: stressors`,
      `under --api v1 none of them runs (${skipped.map((m) => `${m.name}: ${m.s.v2Only}`).join('; ')})`,
    );
  for (const m of skipped) made.splice(made.indexOf(m), 1);
  refuseDeleteAllBesideOthers(made, o.file);
  const sim = createSimulation(
    {
      l1MemoryBytes: sc.l1.memory,
      seed,
      maxInstructions: Number.MAX_SAFE_INTEGER,
      sliceInstructions: sc.slice,
      api: api === 'v1' ? NestedApi.V1 : NestedApi.V2,
      l0: {
        faults: {
          createBusy: f.createBusy,
          deleteBusy: f.deleteBusy,
          dropAcks: f.dropAcks,
          delayAcks: f.delayAcks,
        },
        mutants: o.mutants ?? {},
        // With acks dropped every invalidation times out: keep the wait short so the run goes on.
        ackDeadlineMs: f.dropAcks ? 20 : 10_000,
      },
    },
    {
      deterministic,
      cores,
      multicore: {
        chaos,
        ...(f.killCore
          ? { crash: { core: f.killCore.core, afterSteps: f.killCore.afterSteps, how: f.killCore.how } }
          : {}),
      },
    },
  );
  o.prepare?.(sim);
  const violations: string[] = [];
  const everyViolation = () => [
    ...violations,
    ...sim.l0.stats.violations,
    ...sim.violations,
    ...sim.l1.violations,
    ...sim.l1.guests.flatMap((g) => g.violations),
  ];
  const stressors: { s: Stressor; ctx: StressContext }[] = [];
  let salt = 0;
  for (const { name, s } of made) {
    const rng = new SplitMix32(seed * 7919 + ++salt);
    const ctx: StressContext = {
      sim,
      rng,
      seed: (seed * 104_729 + salt) | 0,
      deterministic,
      chaos,
      mutants: o.mutants ?? {},
      violation: (what) => {
        if (violations.length < 200) violations.push(`${name}: ${what}`);
      },
      now: () => sim.timebase,
      violations: () => everyViolation(),
    };
    stressors.push({ s, ctx });
  }
  const basePages = sim.l1.pages.inUse;
  for (const { s, ctx } of stressors) s.setup(ctx);
  sim.l1.onGuestOver = (g) => {
    for (const { s, ctx } of stressors) s.guestOver?.(ctx, g);
  };

  const t0 = performance.now();
  let wound = false;
  let windAt = 0;
  let woundAtMs = 0;
  let stoppedLate = false;
  const watchdog = new Watchdog(sim, sc.watchdog, (what) => violations.push(`watchdog: ${what}`));
  sim.tick = {
    everyInstructions: TICK_INSTRUCTIONS,
    everySteps: TICK_STEPS,
    everyMs: TICK_MS,
    fn: () => {
      const over =
        duration.kind === 'wall'
          ? performance.now() - t0 >= duration.ms
          : sim.instructions >= duration.instructions;
      if (!wound && over) {
        wound = true;
        windAt = sim.instructions;
        woundAtMs = performance.now();
        for (const { s, ctx } of stressors) s.wind(ctx);
      }
      if (!wound) for (const { s, ctx } of stressors) s.tick(ctx);
      watchdog.look();
      // Guests that do not end by themselves after the duration are stopped (and the run says so).
      if (wound && !stoppedLate && performance.now() - woundAtMs > GRACE_MS) {
        stoppedLate = true;
        for (const g of sim.l1.live) g.stop('still running after the stress duration');
        for (const a of sim.l1.agents) a.loop.finish();
      }
    },
  };
  const summary = await sim.run(progress);
  if (!wound) windAt = sim.instructions;
  const wallSeconds = (performance.now() - t0) / 1000;

  const reports: StressorReport[] = stressors.map(({ s, ctx }) => ({
    name: s.name,
    opName: s.opName,
    ops: s.ops,
    opsPerSecond: Math.round(s.ops / wallSeconds),
    checks: s.finish(ctx),
  }));
  const checks: StressCheck[] = [];
  const pages = sim.l1.pages.inUse - basePages;
  const held = sim.l0Holdings();
  let leftLoops = 0;
  for (let e = 0; e < sim.l1.loops.capacity; e++) if (sim.l1.loops.state(e) !== LoopState.FREE) leftLoops++;
  checks.push({
    name: 'resources back to zero',
    ok: pages === 0 && held.guests === 0 && held.vcpus === 0 && held.shadowBytes === 0 && leftLoops === 0,
    detail: `L1 frames ${pages}, L0 guests ${held.guests}, vCPU slots ${held.vcpus}, shadow bytes ${held.shadowBytes}, loop entries ${leftLoops}`,
    evaluated: 5,
  });
  checks.push({
    name: 'guests ended by themselves',
    ok: !stoppedLate,
    detail: stoppedLate
      ? `some were still running ${GRACE_MS / 1000} s after the duration and were stopped`
      : 'yes',
    evaluated: 1,
  });
  checks.push({
    name: 'no core crashed',
    ok: sim.crashes.length === 0,
    detail: sim.crashes.length === 0 ? 'none' : sim.crashes.map((c) => c.split('\n')[0]).join('; '),
    evaluated: sim.cores,
  });
  const all = everyViolation();
  checks.push({
    name: 'no invariant broken',
    ok: all.length === 0,
    detail: all.length === 0 ? 'none' : `${all.length} (the report's violations)`,
    evaluated: watchdog.looks,
  });
  const ok = checks.every((c) => c.ok) && reports.every((r) => r.checks.every((c) => c.ok));
  const replayParts = [
    'nestsim stress',
    o.file,
    `--seed ${seed}`,
    '--deterministic',
    `--duration ${formatDuration({ kind: 'virtual', instructions: Math.max(1, windAt) })}`,
  ];
  if (ov.iterations !== undefined) replayParts.push(`--iterations ${ov.iterations}`);
  if (chaos) replayParts.push('--chaos');
  if (api !== sc.api) replayParts.push(`--api ${api}`);
  for (const m of o.mutantFlags ?? []) replayParts.push(`--mutant ${m}`);
  return {
    sim,
    report: {
      ok,
      scenario: sc.name,
      seed,
      mode: sim.mode,
      cores: sim.cores,
      api,
      chaos,
      wallSeconds: Math.round(wallSeconds * 1000) / 1000,
      instructions: summary.instructions,
      stressors: reports,
      skipped: skipped.map((m) => ({ name: m.name, why: m.s.v2Only! })),
      checks,
      violations: all,
      crashes: [...sim.crashes],
      replay: replayParts.join(' '),
      windAt,
    },
  };
}

/**
 * The no-stuck-core watchdog: a runnable vCPU loop (or agent) whose step count did not move while
 * the machine's timebase advanced by `ticks` is reported once, with its guest and vCPU.
 */
export class Watchdog {
  private readonly seen = new Map<number, { loopId: number; steps: number; at: number; reported: boolean }>();
  looks = 0;

  constructor(
    private readonly sim: SimulationBase,
    private readonly ticks: number,
    private readonly report: (what: string) => void,
  ) {}

  look(): void {
    this.looks++;
    const t = this.sim.l1.loops;
    const now = this.sim.timebase;
    for (let e = 0; e < t.capacity; e++) {
      if (t.state(e) !== LoopState.RUNNABLE) continue;
      const loopId = t.get(e, L.LOOP_ID);
      const steps = t.get(e, L.STEPS);
      const s = this.seen.get(e);
      if (!s || s.loopId !== loopId || s.steps !== steps) {
        this.seen.set(e, { loopId, steps, at: now, reported: false });
        continue;
      }
      if (!s.reported && now - s.at > this.ticks) {
        s.reported = true;
        this.report(
          `guest ${t.get(e, L.GUEST_ID)} vCPU ${t.get(e, L.VCPU_ID)} made no step for ${now - s.at} ticks`,
        );
      }
    }
  }
}

/**
 * The statistics part of a run report, shared by `exec` and `run`: what the JSON report's `stats`
 * holds and how the text summary prints it.
 */
import type { L1Guest } from '../hypervisor/l1/guest.js';
import { Hcall, hcallName, Vector } from '../hypervisor/papr.js';
import type { RunSummary, SimulationBase } from './simulation.js';

/** Names of the exit vectors a report shows. */
const EXIT_NAMES: Record<number, string> = {
  [Vector.STOPPED]: 'stopped (L0 time slice)',
  [Vector.HV_DECREMENTER]: 'HDEC (L1 time slice)',
  [Vector.SYSTEM_CALL]: 'hcall',
  [Vector.HV_DATA_STORAGE]: 'HDSI (partition-scoped data fault)',
  [Vector.HV_INSTRUCTION_STORAGE]: 'HISI (partition-scoped instruction fault)',
  [Vector.HV_EMULATION_ASSIST]: 'HEAI (illegal instruction)',
};

/** Name of an exit vector for reports. */
export function exitName(vector: number): string {
  return EXIT_NAMES[vector] ?? `0x${vector.toString(16)}`;
}

/** One core's line of `stats.perCore`. */
export interface CoreStat {
  core: number;
  /** Entries into L2 made on the core. */
  runs: number;
  instructions: number;
  exits: Record<string, number>;
  runningSeconds: number;
  waitingSeconds: number;
  idleSeconds: number;
  migrationsIn: number;
}

/** One vCPU's line of `stats.perVcpu`. */
export interface VcpuStat {
  guest: number;
  name: string;
  vcpu: number;
  runs: number;
  instructions: number;
  exits: Record<string, number>;
  /** L1→L0 hcalls that named this vCPU (RUN_VCPU, GET/SET_STATE). */
  hcalls: Record<string, number>;
  /** L2→L1 hcalls this vCPU made. */
  l2Hcalls: Record<string, number>;
  getStatePerExit: number;
  setStatePerExit: number;
  /** Wall seconds being stepped, and alive but not stepped (waiting for a core). */
  runningSeconds: number;
  waitingSeconds: number;
}

/** The `stats` object of a JSON report. */
export interface RunStats {
  /** 'deterministic' (one core, seeded interleaving) or 'multicore'. */
  mode: string;
  cores: number;
  instructions: number;
  wallSeconds: number;
  mips: number;
  exits: Record<string, number>;
  hcalls: Record<string, Record<string, number>>;
  l2Hcalls: Record<string, number>;
  invalidations: number;
  /** Cores invalidations had to wait for (they ran the partition). */
  invalidationAckWaits: number;
  /** vCPU loops the coordinator moved between cores. */
  migrations: number;
  /** Core crashes (a nestsim bug or an injected fault), one report each. */
  crashes: string[];
  /** Invariants L0 saw broken, one line each (the first 100). */
  violations: string[];
  perCore: CoreStat[];
  perVcpu: VcpuStat[];
}

/** Exit counts by vector as a report object (named). */
function namedExits(m: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [v, n] of m) out[exitName(v)] = n;
  return out;
}

/** Hcall counts by opcode as a report object (named). */
function namedHcalls(m: Map<number, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (m) for (const [op, n] of m) out[hcallName(op)] = (out[hcallName(op)] ?? 0) + n;
  return out;
}

/** Collects the statistics of a finished run. */
export function runStats(sim: SimulationBase, summary: RunSummary): RunStats {
  const st = sim.l0.stats;
  const l0 = st.toJSON();
  const l2Hcalls: Record<string, number> = {};
  for (const g of sim.l1.guests)
    for (const [op, n] of g.l2hcalls) l2Hcalls[hcallName(op)] = (l2Hcalls[hcallName(op)] ?? 0) + n;
  const perCore = sim.coreActivity().map((c) => ({
    core: c.core,
    runs: c.steps,
    instructions: c.instructions,
    exits: namedExits(c.exits),
    runningSeconds: round(c.runningSeconds, 4),
    waitingSeconds: round(c.waitingSeconds, 4),
    idleSeconds: round(c.idleSeconds, 4),
    migrationsIn: c.migrationsIn,
  }));
  const now = performance.now();
  const perVcpu: VcpuStat[] = [];
  for (const [key, v] of [...st.vcpus].sort((a, b) => a[0] - b[0])) {
    const guest = Math.floor(key / 4096);
    const vcpu = key % 4096;
    // A guest id comes back after a delete: every guest that had it shares the line.
    const guests = sim.l1.guests.filter((g) => g.id === guest);
    let running = 0;
    let alive = 0;
    const l2 = new Map<number, number>();
    for (const g of guests) {
      running += g.vcpuRunningSeconds[vcpu] ?? 0;
      alive += ((Number.isNaN(g.deletedAt) ? now : g.deletedAt) - g.createdAt) / 1000;
      for (const [op, n] of g.vcpuL2hcalls.get(vcpu) ?? []) l2.set(op, (l2.get(op) ?? 0) + n);
    }
    const runs = Math.max(1, v.runs);
    perVcpu.push({
      guest,
      name: guests.map((g) => g.name).join('+') || `guest ${guest}`,
      vcpu,
      runs: v.runs,
      instructions: v.instructions,
      exits: namedExits(v.exits),
      hcalls: namedHcalls(v.hcalls),
      l2Hcalls: namedHcalls(l2),
      getStatePerExit: round((v.hcalls.get(Hcall.H_GUEST_GET_STATE) ?? 0) / runs, 3),
      setStatePerExit: round((v.hcalls.get(Hcall.H_GUEST_SET_STATE) ?? 0) / runs, 3),
      runningSeconds: round(running, 4),
      waitingSeconds: round(Math.max(0, alive - running), 4),
    });
  }
  return {
    mode: sim.mode,
    cores: sim.cores,
    instructions: summary.instructions,
    wallSeconds: round(summary.wallSeconds, 3),
    mips: round(summary.mips, 1),
    exits: namedExits(st.exits),
    hcalls: l0.hcalls,
    l2Hcalls,
    invalidations: l0.invalidations,
    invalidationAckWaits: st.ackWaits,
    migrations: sim.migrations,
    crashes: [...sim.crashes],
    violations: [...st.violations, ...sim.violations, ...sim.l1.guests.flatMap((g) => g.violations)],
    perCore,
    perVcpu,
  };
}

/** How a guest ended, as one line. */
export function guestEndText(g: L1Guest): string {
  const e = g.end;
  switch (e.kind) {
    case 'exited':
      return `exited with code ${e.code}`;
    case 'failed':
      return `failed on vCPU ${e.vcpu}: ${e.report}`;
    case 'stopped':
      return `stopped: ${e.reason}`;
    default:
      return 'running';
  }
}

/** The text summary (stderr of `exec`, the tail of `run`'s report). */
export function statsText(s: RunStats): string {
  const lines = [
    `instructions ${s.instructions.toLocaleString('en-US')} in ${s.wallSeconds.toFixed(3)} s wall (${s.mips.toFixed(1)} MIPS)`,
    `exits: ${Object.entries(s.exits)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    `L1→L0 hcalls: ${Object.entries(s.hcalls)
      .map(([op, byRc]) => `${op} ${Object.values(byRc).reduce((a, b) => a + b, 0)}`)
      .join(', ')}`,
  ];
  if (s.mode === 'multicore')
    lines.push(
      `cores: ${s.cores} (${s.perCore.map((c) => `core ${c.core}: ${c.instructions.toLocaleString('en-US')} instructions`).join(', ')}); ${s.migrations} vCPU moves, ${s.invalidations} invalidations`,
    );
  if (Object.keys(s.l2Hcalls).length > 0)
    lines.push(
      `L2→L1 hcalls: ${Object.entries(s.l2Hcalls)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  for (const c of s.crashes) lines.push(`CRASH: ${c.split('\n')[0]}`);
  for (const v of s.violations) lines.push(`INVARIANT VIOLATED: ${v}`);
  return `${lines.join('\n')}\n`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

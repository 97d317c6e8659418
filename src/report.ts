/**
 * The statistics part of a run report, shared by `exec` and `run`: what the JSON report's `stats`
 * holds and how the text summary prints it.
 */
import type { L1Guest } from '../hypervisor/l1/guest.js';
import { hcallName, Vector } from '../hypervisor/papr.js';
import type { RunSummary, Simulation } from './simulation.js';

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

/** The `stats` object of a JSON report. */
export interface RunStats {
  instructions: number;
  wallSeconds: number;
  mips: number;
  exits: Record<string, number>;
  hcalls: Record<string, Record<string, number>>;
  l2Hcalls: Record<string, number>;
  invalidations: number;
}

/** Collects the statistics of a finished run. */
export function runStats(sim: Simulation, summary: RunSummary): RunStats {
  const l0 = sim.l0.stats.toJSON();
  const exits: Record<string, number> = {};
  for (const [v, n] of sim.l0.stats.exits) exits[exitName(v)] = n;
  const l2Hcalls: Record<string, number> = {};
  for (const g of sim.l1.guests)
    for (const [op, n] of g.l2hcalls) l2Hcalls[hcallName(op)] = (l2Hcalls[hcallName(op)] ?? 0) + n;
  return {
    instructions: summary.instructions,
    wallSeconds: round(summary.wallSeconds, 3),
    mips: round(summary.mips, 1),
    exits,
    hcalls: l0.hcalls,
    l2Hcalls,
    invalidations: l0.invalidations,
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
  if (Object.keys(s.l2Hcalls).length > 0)
    lines.push(
      `L2→L1 hcalls: ${Object.entries(s.l2Hcalls)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

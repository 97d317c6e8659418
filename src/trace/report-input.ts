/**
 * The inputs of `nestsim report`: the JSON report of `nestsim run --json` or `exec --json`
 * (docs/scenarios.md), validated with zod, and the Chrome trace it names, reduced to what the
 * page's timeline draws. Unknown fields are allowed (newer reports), the per-vCPU and per-core
 * statistics are optional (older reports). Every mistake is one UserError naming the file and
 * the field (exit code 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';

const counts = z.record(z.string(), z.number());
const num = z.number().optional();

/** One vCPU's statistics (stats.perVcpu[]); fields the page does not find are drawn as 0. */
const vcpuStats = z.looseObject({
  guest: z.union([z.number(), z.string()]).optional(),
  name: z.string().optional(),
  vcpu: z.number(),
  runs: num,
  instructions: num,
  exits: counts.optional(),
  hcalls: counts.optional(),
  getStatePerExit: num,
  setStatePerExit: num,
  runningSeconds: num,
  waitingSeconds: num,
});

/** One core's statistics (stats.perCore[]). */
const coreStats = z.looseObject({
  core: z.number(),
  runs: num,
  instructions: num,
  exits: counts.optional(),
  runningSeconds: num,
  waitingSeconds: num,
  idleSeconds: num,
});

const reportSchema = z.looseObject({
  ok: z.boolean(),
  exitCode: z.number().optional(),
  scenario: z
    .looseObject({ name: z.string(), file: z.string().optional(), seed: z.number().nullable().optional() })
    .optional(),
  guests: z.array(
    z.looseObject({
      name: z.string(),
      id: z.number().optional(),
      group: z.string().optional(),
      vcpus: z.number(),
      end: z.looseObject({ kind: z.string() }),
    }),
  ),
  checks: z.array(z.looseObject({ name: z.string(), ok: z.boolean(), detail: z.string() })).optional(),
  stats: z.looseObject({
    instructions: z.number(),
    wallSeconds: z.number(),
    mips: z.number(),
    exits: counts,
    hcalls: z.record(z.string(), counts),
    l2Hcalls: counts.optional(),
    invalidations: num,
    perVcpu: z.array(vcpuStats).optional(),
    perCore: z.array(coreStats).optional(),
  }),
  notes: z.array(z.string()).optional(),
  /** The trace file of the run, relative to the report. */
  trace: z.string().optional(),
});

/** A validated report. */
export type RunReport = z.infer<typeof reportSchema>;

/** Reads `text` (the contents of `file`) as a nestsim report. */
export function parseReport(file: string, text: string): RunReport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(file, `not JSON (${(e as Error).message})`);
  }
  const r = reportSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const at = issue.path.length > 0 ? issue.path.join('.') : 'top level';
    throw new UserError(file, `not a nestsim run/exec report (${at}: ${issue.message})`);
  }
  return r.data;
}

/** Reads a file for `what`, or a UserError naming it. */
export function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(
      file,
      `cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

/**
 * Where the report's trace is: `--trace` as given, else the report's `trace` field relative to the
 * report's folder (falling back to the current folder, where `run --trace t.json` put it when the
 * report was printed to stdout and saved elsewhere). Undefined when neither names one.
 */
export function tracePath(
  reportFile: string | undefined,
  report: RunReport,
  flag: string | undefined,
): string | undefined {
  if (flag !== undefined) return resolve(flag);
  const t = report.trace;
  if (t === undefined || t === '') return undefined;
  if (isAbsolute(t)) return t;
  const nextToReport = resolve(reportFile === undefined ? '.' : dirname(reportFile), t);
  if (existsSync(nextToReport) || !existsSync(resolve(t))) return nextToReport;
  return resolve(t);
}

/** One bar of the timeline: a run, a wait or an invalidation on a core, in the trace's µs. */
export interface TimelineBar {
  core: number;
  start: number;
  end: number;
  /** run | wait | invalidation */
  cat: string;
  /** The slice's name (the guest for runs). */
  name: string;
  vcpu: number;
  exit: string;
  instructions: number;
}

/** What the page needs from a trace. */
export interface TraceSummary {
  cores: number[];
  bars: TimelineBar[];
  clock: string;
  droppedEvents: number;
  /** X events in the file (all tracks). */
  slices: number;
}

const traceSchema = z.union([
  z.looseObject({
    traceEvents: z.array(z.unknown()),
    otherData: z.record(z.string(), z.unknown()).optional(),
  }),
  z.array(z.unknown()),
]);

const CORE_PROCESS = /^core (\d+)$/;

/** Reads a Chrome trace written by nestsim (src/trace/chrome.ts) for the timeline. */
export function parseTrace(file: string, text: string): TraceSummary {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(file, `trace is not JSON (${(e as Error).message})`);
  }
  const t = traceSchema.safeParse(json);
  if (!t.success) throw new UserError(file, 'not a Chrome trace (no traceEvents array)');
  const events = Array.isArray(t.data) ? t.data : t.data.traceEvents;
  const other = Array.isArray(t.data) ? {} : (t.data.otherData ?? {});
  const corePid = new Map<number, number>();
  for (const e of events) {
    const m = record(e);
    if (m?.ph === 'M' && m.name === 'process_name' && typeof m.pid === 'number') {
      const name = record(m.args)?.name;
      const hit = typeof name === 'string' ? CORE_PROCESS.exec(name) : null;
      if (hit) corePid.set(m.pid, Number(hit[1]));
    }
  }
  const bars: TimelineBar[] = [];
  let slices = 0;
  for (const e of events) {
    const x = record(e);
    if (x?.ph !== 'X') continue;
    slices++;
    const core = typeof x.pid === 'number' ? corePid.get(x.pid) : undefined;
    if (core === undefined || typeof x.ts !== 'number' || typeof x.dur !== 'number') continue;
    const cat = x.cat;
    if (cat !== 'run' && cat !== 'wait' && cat !== 'invalidation') continue;
    const args = record(x.args) ?? {};
    bars.push({
      core,
      start: x.ts,
      end: x.ts + Math.max(0, x.dur),
      cat,
      name: typeof x.name === 'string' ? x.name : '',
      vcpu: typeof args.vcpu === 'number' ? args.vcpu : -1,
      exit: typeof args.exit === 'string' ? args.exit : '',
      instructions: typeof args.instructions === 'number' ? args.instructions : 0,
    });
  }
  return {
    cores: [...new Set(corePid.values())].sort((a, b) => a - b),
    bars,
    clock: typeof other.clock === 'string' ? other.clock : 'unknown',
    droppedEvents: typeof other.droppedEvents === 'number' ? other.droppedEvents : 0,
    slices,
  };
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

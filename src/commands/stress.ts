/**
 * `nestsim stress [scenario.yaml]`: SMP nested-guest stress testing (docs/stress.md). Runs the
 * scenario's stressors (config/stress.yaml without an argument) on the multicore runtime or in the
 * deterministic mode, and reports, per stressor, operations per second and the checks it
 * evaluated; a failing run prints the command that replays it. Exit code 0 when every check
 * passes, 1 when one fails, 2 for bad input.
 */
import os from 'node:os';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { elementByName } from '../../hypervisor/gsb/elements.js';
import type { Mutants } from '../../hypervisor/l0/l0.js';
import type { Io } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';
import { packageRoot } from '../package-files.js';
import { readYaml } from '../scenario/load.js';
import { formatMinimized, minimizedJson, minimizeFuzz } from '../stress/minimize.js';
import { STRESSORS } from '../stress/registry.js';
import { runStress, type StressReport } from '../stress/run.js';
import { type StressScenario, stressScenarioSchema } from '../stress/scenario.js';
import {
  finishTrace,
  startTrace,
  type TraceArgs,
  type TraceSession,
  traceNote,
  traceOptions,
} from '../trace/session.js';
import { parseCount, parseDuration } from '../units.js';
import { type MachineArgs, machineOptions } from './machine-options.js';
import { progressBar } from './progress.js';

interface StressArgs extends TraceArgs, MachineArgs {
  scenario?: string;
  seed?: number;
  duration?: string;
  iterations?: number;
  chaos?: boolean;
  mutant?: string[];
  minimize?: boolean;
  list?: boolean;
  json: boolean;
}

/** The stress scenario `nestsim stress` runs without an argument. */
export function defaultStressScenario(): string {
  return resolve(packageRoot(), 'config', 'stress.yaml');
}

/** `nestsim stress`. */
export function stressCommand(io: Io, setExit: (code: number) => void): CommandModule<object, StressArgs> {
  return {
    command: 'stress [scenario]',
    describe: 'SMP stress testing of the nested interface: stressors, invariant checks, replay',
    builder: (y: Argv) =>
      machineOptions(traceOptions(y), "the scenario's, else the host's")
        .positional('scenario', {
          type: 'string',
          describe: 'stress scenario YAML (default: config/stress.yaml)',
        })
        .option('seed', { type: 'number', describe: "override the scenario's seed" })
        .option('duration', {
          type: 'string',
          describe: 'how long the stressors act: wall time (5s, 250ms) or virtual instructions (2e8, 150M)',
        })
        .option('iterations', {
          type: 'number',
          describe: "operations per stressor, overriding the scenario's counts",
        })
        .option('chaos', {
          type: 'boolean',
          describe: 'preempt and migrate vCPUs at seeded points near hcalls, state updates and invalidations',
        })
        .option('mutant', {
          type: 'string',
          array: true,
          describe: `TEST ONLY: plant a bug the checks must catch (${MUTANT_NAMES})`,
        })
        .option('list', {
          type: 'boolean',
          describe: 'list the stressors a scenario can hold, what each does and its defaults, then exit',
        })
        .option('minimize', {
          type: 'boolean',
          describe: "after a failing run, shrink each hcall-fuzz agent's failing calls to a minimal sequence",
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print the report as one JSON object',
        }) as unknown as Argv<StressArgs>,
    handler: async (a) => {
      setExit(await stress(io, a));
    },
  };
}

const MUTANT_NAMES =
  'ignore-invalidations, stcx-without-reservation, set-state-drops[=ELEMENT], run-without-table, mer-unmasked, mer-not-passed, dpdes-not-passed, vpa-kept-after-deregister';

/** Parses --mutant values into L0's test-only switches. */
function mutants(values: string[] | undefined): Mutants {
  const m: Mutants = {};
  for (const v of values ?? []) {
    const [name, arg] = v.split('=', 2);
    if (name === 'ignore-invalidations') m.ignoreInvalidations = true;
    else if (name === 'stcx-without-reservation') m.stcxWithoutReservation = true;
    else if (name === 'run-without-table') m.runWithoutTableNotAvailable = true;
    else if (name === 'mer-unmasked') m.merUnmasked = true;
    else if (name === 'mer-not-passed') m.merNotPassed = true;
    else if (name === 'dpdes-not-passed') m.dpdesNotPassed = true;
    else if (name === 'vpa-kept-after-deregister') m.vpaKeptAfterDeregister = true;
    else if (name === 'set-state-drops') {
      const d = elementByName(arg ?? 'DEXCR');
      if (!d) throw new UserError('--mutant', `set-state-drops=${arg}: no such element`);
      m.setStateDrops = d.id;
    } else throw new UserError('--mutant', `'${v}' is not a mutant (${MUTANT_NAMES})`);
  }
  return m;
}

/** `--list`: each stressor with its one line and its parameters' defaults. */
function stressorList(): string {
  const lines: string[] = [];
  for (const [name, e] of Object.entries(STRESSORS)) {
    const defaults = Object.entries(e.params.parse({}) as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join(', ');
    lines.push(`${name.padEnd(12)} ${e.describe}`, `${''.padEnd(12)} defaults: { ${defaults} }`);
  }
  return `${lines.join('\n')}\n`;
}

async function stress(io: Io, a: StressArgs): Promise<number> {
  if (a.list) {
    io.out(stressorList());
    return ExitCode.OK;
  }
  const file = resolve(a.scenario ?? defaultStressScenario());
  const scenario: StressScenario = readYaml(file, stressScenarioSchema, 'stress scenario');
  if (a.seed !== undefined && !Number.isSafeInteger(a.seed))
    throw new UserError('--seed', 'must be an integer');
  const overrides = {
    ...(a.seed !== undefined ? { seed: a.seed } : {}),
    ...(a.cores !== undefined ? { cores: parseCount('--cores', a.cores) } : {}),
    ...(a.iterations !== undefined ? { iterations: parseCount('--iterations', a.iterations) } : {}),
    ...(a.duration !== undefined ? { duration: parseDuration('--duration', a.duration) } : {}),
    ...(a.deterministic !== undefined ? { deterministic: a.deterministic } : {}),
    ...(a.chaos !== undefined ? { chaos: a.chaos } : {}),
    ...(a.api !== undefined ? { api: a.api } : {}),
  };
  if ((overrides.cores ?? 0) > 256) throw new UserError('--cores', `${overrides.cores} is more than 256`);
  let session: TraceSession | null = null;
  const bar = a.json ? undefined : progressBar(io, Number.MAX_SAFE_INTEGER);
  let report: StressReport;
  let sim: Parameters<typeof finishTrace>[1] | undefined;
  try {
    const r = await runStress(
      {
        scenario,
        file: a.scenario ?? 'config/stress.yaml',
        overrides,
        hostCores: os.availableParallelism(),
        mutants: mutants(a.mutant),
        mutantFlags: a.mutant ?? [],
        prepare: (s) => {
          sim = s;
          session = startTrace(s, a);
        },
      },
      bar?.update,
    );
    report = r.report;
  } finally {
    bar?.stop();
  }
  const trace = sim ? finishTrace(session, sim) : undefined;
  const min = a.minimize && !report.ok && sim ? minimizeFuzz(sim) : undefined;
  if (a.json) {
    const extra = {
      ...(trace ? { trace: trace.path } : {}),
      ...(min ? { minimized: minimizedJson(min) } : {}),
    };
    io.out(`${JSON.stringify({ ...report, ...extra })}\n`);
  } else {
    io.out(text(report));
    if (trace) io.out(`${traceNote(trace)}\n`);
    if (min) io.out(formatMinimized(min));
  }
  return report.ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}

/** Violations the text report lists, one per line (--json has every one). */
const SHOWN_VIOLATIONS = 5;

/** The text report. */
function text(r: StressReport): string {
  const lines = [
    `stress ${r.scenario}: seed ${r.seed}, ${r.mode === 'deterministic' ? 'deterministic mode' : `${r.cores} cores`}, nested ${r.api}${r.chaos ? ', chaos' : ''}`,
    `${r.instructions.toLocaleString('en-US')} instructions in ${r.wallSeconds.toFixed(2)} s`,
    '',
  ];
  for (const s of r.stressors) {
    const evaluated = s.checks.reduce((n, c) => n + c.evaluated, 0);
    lines.push(
      `${s.name.padEnd(12)} ${s.ops.toLocaleString('en-US')} ${s.opName} (${s.opsPerSecond.toLocaleString('en-US')}/s), ${evaluated.toLocaleString('en-US')} checks evaluated`,
    );
    for (const c of s.checks) lines.push(`  ${c.ok ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}`);
  }
  for (const s of r.skipped) lines.push(`${s.name.padEnd(12)} skipped under nested ${r.api}: ${s.why}`);
  lines.push('');
  for (const c of r.checks) lines.push(`${c.ok ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}`);
  if (r.violations.length > 0) {
    lines.push('', 'violations:');
    for (const v of r.violations.slice(0, SHOWN_VIOLATIONS)) lines.push(`  ${v}`);
    const more = r.violations.length - SHOWN_VIOLATIONS;
    if (more > 0) lines.push(`  … and ${more} more (--json lists them all)`);
  }
  lines.push('');
  if (r.ok) lines.push('all checks passed');
  else {
    const failed =
      r.checks.filter((c) => !c.ok).length + r.stressors.flatMap((s) => s.checks).filter((c) => !c.ok).length;
    lines.push(`${failed} check(s) failed`, `replay: ${r.replay}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * `nestsim run [scenario.yaml]`: runs a scenario (config/default.yaml without an argument) and
 * prints a report: one line per guest, the checks, the statistics. `--json` prints the report as
 * one JSON object. Exit code 0 when every check passes, 1 when one fails, 2 for bad input.
 */
import os from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { NestedApi } from '../../hypervisor/l1/loop-table.js';
import { hcallFailed, hcallName, hcallResultName } from '../../hypervisor/papr.js';
import type { Io } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';
import { createSimulation } from '../multicore.js';
import { guestEndText, type RunStats, runStats, statsText } from '../report.js';
import { type LoadedScenario, loadScenario } from '../scenario/load.js';
import type { Check } from '../scenario/schema.js';
import type { SimulationBase } from '../simulation.js';
import {
  finishTrace,
  startTrace,
  type TraceArgs,
  type TraceWritten,
  traceNote,
  traceOptions,
} from '../trace/session.js';
import { formatBytes, parseCount } from '../units.js';
import { type MachineArgs, machineOptions } from './machine-options.js';
import { progressBar } from './progress.js';

interface RunArgs extends TraceArgs, MachineArgs {
  scenario?: string;
  seed?: number;
  json: boolean;
}

/** One evaluated check of the report. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export function runCommand(io: Io, setExit: (code: number) => void): CommandModule<object, RunArgs> {
  return {
    command: 'run [scenario]',
    describe: 'Run a scenario (default: the shipped config/default.yaml) and report its checks',
    builder: (y: Argv) =>
      machineOptions(traceOptions(y), "the scenario's, else the host's")
        .positional('scenario', { type: 'string', describe: 'scenario YAML file' })
        .option('seed', { type: 'number', describe: "override the scenario's seed" })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print the report as one JSON object',
        }) as unknown as Argv<RunArgs>,
    handler: async (a) => {
      setExit(await runScenario(io, a));
    },
  };
}

async function runScenario(io: Io, a: RunArgs): Promise<number> {
  const loaded = loadScenario(a.scenario);
  const s = loaded.scenario;
  if (a.seed !== undefined && !Number.isSafeInteger(a.seed))
    throw new UserError('--seed', 'must be an integer');
  const seed = a.seed ?? s.seed;
  const cores =
    a.cores === undefined ? (s.cores ?? os.availableParallelism()) : parseCount('--cores', a.cores);
  if (cores > 256) throw new UserError('--cores', `${cores} is more than 256`);
  const deterministic = a.deterministic ?? s.deterministic;
  const sim = createSimulation(
    {
      l1MemoryBytes: s.l1.memory,
      seed,
      maxInstructions: s.run.maxInstructions,
      sliceInstructions: s.run.slice,
      api: (a.api ?? s.l1.api) === 'v1' ? NestedApi.V1 : NestedApi.V2,
    },
    { deterministic, cores },
  );
  const session = startTrace(sim, a);
  const baseline = sim.l1.pages.inUse;
  const groups: Groups = [];
  for (const g of s.guests) {
    const image = loaded.programs.get(g.name)!.image;
    const made = [];
    for (let k = 0; k < g.count; k++) {
      try {
        made.push(
          sim.addGuest({
            name: g.count > 1 ? `${g.name}#${k + 1}` : g.name,
            image,
            vcpus: g.vcpus,
            memoryBytes: g.memory,
            paging: g.paging,
          }),
        );
      } catch (e) {
        throw new UserError(`${loaded.file}: guests.${g.name}`, (e as Error).message);
      }
    }
    groups.push({ name: g.name, guests: made });
  }
  const bar = a.json ? undefined : progressBar(io, s.run.maxInstructions);
  let summary: Awaited<ReturnType<typeof sim.run>>;
  let trace: TraceWritten | undefined;
  try {
    summary = await sim.run(bar?.update);
  } finally {
    bar?.stop();
    trace = finishTrace(session, sim);
  }
  const stats = runStats(sim, summary);
  const checks = s.checks.map((c) => evaluate(c, loaded, groups, stats, sim, baseline));
  // Loud about bugs: a crashed core or a broken invariant fails the run whatever the checks say.
  if (stats.crashes.length > 0)
    checks.push({
      name: 'no-core-crash',
      ok: false,
      detail: stats.crashes.map((c) => c.split('\n')[0]).join('; '),
    });
  if (stats.violations.length > 0)
    checks.push({ name: 'invariants', ok: false, detail: stats.violations.join('; ') });
  const ok = checks.every((c) => c.ok);
  const notes =
    sim.mode === 'deterministic'
      ? ['ran in the deterministic mode: one thread, seeded interleaving (the reference)']
      : [`ran on ${sim.cores} cores (worker threads)`];
  if (trace) notes.push(traceNote(trace));
  if (a.json) {
    io.out(
      `${JSON.stringify({
        ok,
        scenario: { name: s.name, file: loaded.file, seed: seed ?? null },
        mode: sim.mode,
        cores: sim.cores,
        api: a.api ?? s.l1.api,
        guests: groups.flatMap((g) =>
          g.guests.map((x) => ({ group: g.name, name: x.name, id: x.id, vcpus: x.vcpus, end: x.end })),
        ),
        checks,
        stats,
        notes,
        ...(trace ? { trace: trace.path } : {}),
      })}\n`,
    );
  } else {
    io.out(`scenario ${s.name}: ${s.description || loaded.file}\n`);
    io.out(
      `seed ${seed ?? 'none (round robin)'}, L1 memory ${formatBytes(s.l1.memory)}, nested ${a.api ?? s.l1.api}\n\nguests\n`,
    );
    for (const g of groups)
      for (const x of g.guests)
        io.out(`  ${x.name.padEnd(14)} ${String(x.vcpus).padStart(2)} vCPU  ${guestEndText(x)}\n`);
    io.out('\nchecks\n');
    for (const c of checks) io.out(`  ${c.ok ? 'pass' : 'FAIL'}  ${c.name.padEnd(18)} ${c.detail}\n`);
    io.out(`\n${statsText(stats)}`);
    for (const n of notes) io.out(`note: ${n}\n`);
    io.out(ok ? '\nall checks passed\n' : `\n${checks.filter((c) => !c.ok).length} check(s) failed\n`);
  }
  return ok ? ExitCode.OK : ExitCode.CHECK_FAILED;
}

type Groups = { name: string; guests: ReturnType<SimulationBase['addGuest']>[] }[];

function evaluate(
  c: Check,
  loaded: LoadedScenario,
  groups: Groups,
  stats: RunStats,
  sim: SimulationBase,
  baseline: number,
): CheckResult {
  const all = groups.flatMap((g) => g.guests);
  if (typeof c === 'object') {
    const min = c['min-instructions'];
    return {
      name: 'min-instructions',
      ok: stats.instructions >= min,
      detail: `${stats.instructions} instructions (at least ${min})`,
    };
  }
  switch (c) {
    case 'all-exited': {
      const bad = all.filter((g) => g.end.kind !== 'exited');
      return {
        name: c,
        ok: bad.length === 0,
        detail:
          bad.length === 0
            ? `${all.length} guests exited`
            : bad.map((g) => `${g.name} ${guestEndText(g)}`).join('; '),
      };
    }
    case 'exit-codes': {
      const bad: string[] = [];
      let n = 0;
      for (const g of groups) {
        const want = loaded.scenario.guests.find((x) => x.name === g.name)?.expect?.exitCode;
        if (want === undefined) continue;
        for (const x of g.guests) {
          n++;
          const got = x.end.kind === 'exited' ? x.end.code : undefined;
          if (got !== want) bad.push(`${x.name}: ${got ?? x.end.kind}, expected ${want}`);
        }
      }
      return {
        name: c,
        ok: bad.length === 0,
        detail: bad.length === 0 ? `${n} exit codes as expected` : bad.join('; '),
      };
    }
    case 'stdout': {
      const bad: string[] = [];
      let n = 0;
      for (const g of groups) {
        const want = loaded.expectedStdout.get(g.name);
        if (want === undefined) continue;
        for (const x of g.guests) {
          n++;
          const got = x.stdoutBytes().toString('latin1');
          if (got !== want) bad.push(`${x.name}: ${firstDifference(got, want)}`);
        }
      }
      return {
        name: c,
        ok: bad.length === 0,
        detail: bad.length === 0 ? `${n} outputs as expected` : bad.join('; '),
      };
    }
    case 'no-hcall-errors': {
      const bad: string[] = [];
      for (const [op, byRc] of sim.l0.stats.hcalls)
        for (const [rc, n] of byRc)
          if (hcallFailed(op, rc)) bad.push(`${hcallName(op)} → ${hcallResultName(op, rc)} ×${n}`);
      return {
        name: c,
        ok: bad.length === 0,
        detail: bad.length === 0 ? 'every L1→L0 hcall succeeded' : bad.join('; '),
      };
    }
    case 'no-leaks': {
      const pages = sim.l1.pages.inUse - baseline;
      const h = sim.l0Holdings();
      return {
        name: c,
        ok: pages === 0 && h.guests === 0 && h.vcpus === 0 && h.shadowBytes === 0,
        detail: `L1 pages still in use: ${pages}; L0 guests and vCPUs still allocated: ${h.guests + h.vcpus}${h.shadowBytes > 0 ? `; shadow tables: ${h.shadowBytes} bytes` : ''}`,
      };
    }
  }
}

/** Where two outputs first differ, for a readable check failure. */
function firstDifference(got: string, want: string): string {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  const line = got.slice(0, i).split('\n').length;
  return `stdout differs at byte ${i} (line ${line}): got ${JSON.stringify(got.slice(i, i + 30))}, expected ${JSON.stringify(want.slice(i, i + 30))}`;
}

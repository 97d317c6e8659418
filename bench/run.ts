/**
 * The runner behind `nestsim bench`: finds the suites of bench/suites/ (every file there that
 * exports `suite: BenchSuite`, in name order), runs the chosen ones one after the other in this
 * process, and gathers their metrics into one report with the machine's description.
 *
 * Invoked from: src/commands/bench.ts.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machineInfo } from './machine.js';
import {
  BENCH_SCHEMA,
  type BenchMetric,
  type BenchReport,
  type BenchSuite,
  type SuiteRecord,
} from './types.js';

const here = fileURLToPath(import.meta.url);
/** .js when running compiled from dist/, .ts when a test imports the sources. */
const ext = here.endsWith('.ts') ? '.ts' : '.js';

/** Every suite of bench/suites/, sorted by name. */
export async function loadSuites(): Promise<BenchSuite[]> {
  const dir = join(dirname(here), 'suites');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
    .sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { suite?: BenchSuite };
    if (mod.suite) suites.push(mod.suite);
  }
  return suites.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where a run reports what it is doing (stderr in the CLI). */
export interface RunProgress {
  /** Suite `index` (0-based) of `total` starts. */
  suite(s: BenchSuite, index: number, total: number): void;
  /** The suite announced the metric it measures next. */
  measuring(suite: string, metric: string): void;
  /** A line of commentary from the suite. */
  log(suite: string, line: string): void;
}

/** How to run the suites. */
export interface RunOptions {
  quick: boolean;
  runs: number | undefined;
  progress: RunProgress;
}

/** Runs `suites` in order and returns the report of the whole run. */
export async function runSuites(suites: readonly BenchSuite[], opts: RunOptions): Promise<BenchReport> {
  const started = new Date();
  const loadAverage = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const t0 = performance.now();
  const records: SuiteRecord[] = [];
  const metrics: BenchMetric[] = [];
  for (const [i, s] of suites.entries()) {
    opts.progress.suite(s, i, suites.length);
    const ts = performance.now();
    const got = await s.run({
      quick: opts.quick,
      runs: opts.runs,
      log: (line) => opts.progress.log(s.name, line),
      measuring: (metric) => opts.progress.measuring(s.name, metric),
    });
    checkMetrics(s, got);
    metrics.push(...got);
    records.push({ name: s.name, describe: s.describe, seconds: (performance.now() - ts) / 1000 });
  }
  return {
    schema: BENCH_SCHEMA,
    machine: machineInfo(),
    run: {
      started: started.toISOString(),
      seconds: (performance.now() - t0) / 1000,
      quick: opts.quick,
      runs: opts.runs ?? null,
      loadAverage,
    },
    suites: records,
    metrics,
  };
}

/** A suite's metrics must name it and be unique by name: `--compare` matches on (suite, name). */
function checkMetrics(s: BenchSuite, metrics: readonly BenchMetric[]): void {
  const seen = new Set<string>();
  for (const m of metrics) {
    if (m.suite !== s.name) throw new Error(`bench suite ${s.name} reported a metric of suite '${m.suite}'`);
    if (seen.has(m.name)) throw new Error(`bench suite ${s.name} reported '${m.name}' twice`);
    if (!Number.isFinite(m.median)) throw new Error(`bench suite ${s.name}: '${m.name}' is ${m.median}`);
    seen.add(m.name);
  }
}

/**
 * `nestsim bench [suite ...]`: runs the benchmark suites of bench/suites/ side by side in one
 * process and prints a table per suite with charts of its series and distributions; `--json`
 * prints the report (docs/benchmarks.md), `--out` and `--html` write it to files. `--compare old
 * new` compares two reports instead and exits with 1 when a metric regressed beyond the threshold.
 * Progress goes to stderr.
 */
import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { compareReports } from '../../bench/compare.js';
import { reportHtml } from '../../bench/html.js';
import { readReport } from '../../bench/report.js';
import { loadSuites, type RunProgress, runSuites } from '../../bench/run.js';
import { comparisonText, reportText } from '../../bench/text.js';
import type { BenchSuite } from '../../bench/types.js';
import { type Io, processIo } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';
import { parseCount } from '../units.js';

interface BenchArgs {
  suite?: string[];
  quick: boolean;
  runs?: string;
  json: boolean;
  out?: string;
  html?: string;
  compare?: string[];
  threshold: string;
  list: boolean;
}

/** `nestsim bench`. */
export function benchCommand(io: Io, setExit: (code: number) => void): CommandModule<object, BenchArgs> {
  return {
    command: 'bench [suite..]',
    describe: 'Run the throughput benchmarks (all suites, or those named), or compare two results',
    builder: (y: Argv) =>
      y
        .positional('suite', { type: 'string', array: true, describe: 'suites to run (default: all)' })
        .option('quick', { type: 'boolean', default: false, describe: 'tiny configuration (CI smoke runs)' })
        .option('runs', { type: 'string', describe: "counted runs per metric (default: each suite's own)" })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print the report as one JSON document',
        })
        .option('out', { type: 'string', describe: 'also write the JSON report to this file' })
        .option('html', { type: 'string', describe: 'also write a self-contained HTML page with charts' })
        .option('compare', {
          type: 'string',
          array: true, // not nargs: 2, whose parse error yargs throws as an exception
          describe: 'compare two JSON reports: --compare old.json new.json (suite names go before it)',
        })
        .option('threshold', {
          type: 'string',
          default: '10%',
          describe: 'with --compare: a change worse than this is a regression',
        })
        .option('list', { type: 'boolean', default: false, describe: 'list the suites and exit' })
        .example('$0 bench core mem --quick', 'two suites, tiny configuration')
        .example('$0 bench --out today.json --html today.html', 'every suite, saved')
        .example(
          '$0 bench --compare old.json new.json --threshold 5%',
          'flag regressions',
        ) as unknown as Argv<BenchArgs>,
    handler: async (a) => {
      setExit(await bench(io, a));
    },
  };
}

async function bench(io: Io, a: BenchArgs): Promise<number> {
  const all = await loadSuites();
  const wanted = a.suite ?? [];
  for (const w of wanted)
    if (!all.some((s) => s.name === w))
      throw new UserError('suite', `unknown suite '${w}' (known: ${all.map((s) => s.name).join(', ')})`);
  if (a.list) {
    for (const s of all) io.out(`${s.name.padEnd(10)} ${s.describe}\n`);
    return ExitCode.OK;
  }
  if (a.compare !== undefined) return compare(io, a, wanted);
  const runs = a.runs === undefined ? undefined : parseCount('--runs', a.runs);
  if (runs !== undefined && runs > 10_000) throw new UserError('--runs', `${runs} is more than 10000`);
  for (const [flag, v] of [
    ['--out', a.out],
    ['--html', a.html],
  ] as const)
    if (v !== undefined) writable(flag, v); // before the run, not after minutes of it
  const chosen = wanted.length > 0 ? all.filter((s) => wanted.includes(s.name)) : all;
  const progress = stderrProgress(io);
  const report = await runSuites(chosen, { quick: a.quick, runs, progress });
  progress.done();
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (a.out !== undefined) write('--out', a.out, json);
  if (a.html !== undefined) write('--html', a.html, reportHtml(report));
  io.out(a.json ? json : reportText(report));
  return ExitCode.OK;
}

function compare(io: Io, a: BenchArgs, suites: string[]): number {
  const files = a.compare!;
  if (files.length !== 2) throw new UserError('--compare', 'give two files: --compare old.json new.json');
  for (const [flag, set] of [
    ['--quick', a.quick],
    ['--runs', a.runs !== undefined],
    ['--out', a.out !== undefined],
    ['--html', a.html !== undefined],
  ] as const)
    if (set) throw new UserError(flag, 'does not go with --compare (it compares two saved reports)');
  const threshold = parseThreshold(a.threshold);
  const c = compareReports(
    { file: files[0]!, report: readReport(files[0]!) },
    { file: files[1]!, report: readReport(files[1]!) },
    threshold,
    suites,
  );
  io.out(a.json ? `${JSON.stringify(c, null, 2)}\n` : comparisonText(c));
  return c.regressions > 0 ? ExitCode.CHECK_FAILED : ExitCode.OK;
}

/** "10%", "10" (also percent) or "2.5%" → a fraction. */
function parseThreshold(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(v);
  const pct = m ? Number(m[1]) : Number.NaN;
  if (!(pct > 0 && pct < 1000))
    throw new UserError('--threshold', `'${v}' is not a percentage above 0 and below 1000 (example: 10%)`);
  return pct / 100;
}

/** Refuses an output file whose directory does not exist, before anything is measured. */
function writable(flag: string, file: string): void {
  if (file.trim() === '') throw new UserError(flag, 'needs a file name');
  const dir = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!isDir) throw new UserError(flag, `no directory ${dir} to write ${file} in`);
}

function write(flag: string, file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new UserError(flag, `cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/**
 * Progress on stderr: on a terminal one status line rewritten in place (suite, metric, elapsed
 * time); elsewhere (pipes, CI logs, tests) a line per suite and the suites' own remarks.
 */
function stderrProgress(io: Io): RunProgress & { done(): void } {
  const live = io === processIo && process.stderr.isTTY === true;
  const t0 = performance.now();
  let head = '';
  let shown = false;
  const status = (text: string) => {
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    const line = `${head} ${secs} s: ${text}`;
    const cols = (process.stderr.columns ?? 0) > 20 ? process.stderr.columns : 100;
    io.err(`\r\x1b[K${line.length >= cols ? `${line.slice(0, cols - 2)}…` : line}`);
    shown = true;
  };
  const clear = () => {
    if (shown) io.err('\r\x1b[K');
    shown = false;
  };
  return {
    suite(s: BenchSuite, i: number, n: number) {
      head = `[${i + 1}/${n} ${s.name}]`;
      if (live) status(s.describe);
      else io.err(`${head} ${s.describe}\n`);
    },
    measuring(_suite: string, metric: string) {
      if (live) status(metric);
    },
    log(suite: string, line: string) {
      if (live) clear();
      io.err(`[${suite}] ${line}\n`);
    },
    done: clear,
  };
}

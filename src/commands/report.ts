/**
 * `nestsim report <report.json> --html out.html`: turns the JSON report of `nestsim run --json` or
 * `exec --json` (and the trace it names in `trace`, or the one given with `--trace`) into one
 * self-contained HTML page: the timeline, charts of the statistics, the checks (docs/traces.md).
 * `-` reads the report from stdin. Bad input is one line and exit code 2.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { Io } from '../cli.js';
import { ExitCode, UserError } from '../errors.js';
import { selfContainedPage } from '../html/page.js';
import { parseReport, parseTrace, readInput, type TraceSummary, tracePath } from '../trace/report-input.js';
import { reportPage } from '../trace/report-page.js';
import { formatBytes } from '../units.js';

interface ReportArgs {
  report: string;
  html: string;
  trace?: string;
}

/** `nestsim report`. */
export function reportCommand(io: Io, setExit: (code: number) => void): CommandModule<object, ReportArgs> {
  return {
    command: 'report <report>',
    describe: 'Write an HTML page (timeline, statistics, checks) from a run/exec JSON report',
    builder: (y: Argv) =>
      y
        .positional('report', {
          type: 'string',
          demandOption: true,
          describe: 'JSON report of `nestsim run --json` or `exec --json` (- for stdin)',
        })
        .option('html', { type: 'string', demandOption: true, describe: 'the HTML file to write' })
        .option('trace', {
          type: 'string',
          describe: "trace file (default: the report's `trace` field, relative to the report)",
        }) as unknown as Argv<ReportArgs>,
    handler: async (a) => {
      setExit(await writeReport(io, a));
    },
  };
}

async function writeReport(io: Io, a: ReportArgs): Promise<number> {
  // yargs hands a lone "-" positional over as "" (as src/commands/gsb.ts notes).
  const fromStdin = a.report === '-' || a.report === '';
  const reportFile = fromStdin ? undefined : resolve(a.report);
  const text = fromStdin ? (await io.readStdin()).toString('utf8') : readInput(reportFile!, 'report');
  const report = parseReport(reportFile ?? 'stdin', text);
  const tracePathFound = tracePath(reportFile, report, a.trace);
  let trace: TraceSummary | undefined;
  if (tracePathFound !== undefined) trace = parseTrace(tracePathFound, readInput(tracePathFound, 'trace'));
  const page = selfContainedPage(reportPage(report, trace, reportFile ?? 'stdin'));
  const out = resolve(a.html);
  try {
    writeFileSync(out, page);
  } catch (e) {
    throw new UserError(
      '--html',
      `cannot write ${out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const what = trace ? `timeline of ${trace.bars.filter((b) => b.cat === 'run').length} runs` : 'no trace';
  io.out(`wrote ${out} (${formatBytes(Buffer.byteLength(page))}, ${what})\n`);
  return ExitCode.OK;
}

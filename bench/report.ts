/**
 * Reading a bench report back (`nestsim bench --compare old.json new.json`): the JSON document of
 * bench/types.ts BenchReport, checked field by field with zod so that a wrong or truncated file is
 * one UserError naming the file and the field, never a crash halfway through a comparison.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../src/errors.js';
import { BENCH_SCHEMA, type BenchReport } from './types.js';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().nonnegative();

const metric = z.object({
  suite: z.string().min(1),
  name: z.string().min(1),
  unit: z.string(),
  better: z.enum(['higher', 'lower']),
  median: finite,
  p10: finite,
  p90: finite,
  p99: finite.optional(),
  runs: count,
  samples: count,
  warmup: count,
  note: z.string(),
  series: z.object({ name: z.string().min(1), xLabel: z.string(), x: finite }).optional(),
  histogram: z.object({ edges: z.array(finite), counts: z.array(count) }).optional(),
});

const machine = z.object({
  cpu: z.string(),
  logicalCores: count,
  memoryBytes: count,
  os: z.string(),
  node: z.string(),
  nestsim: z.string(),
  commit: z.string().nullable(),
  dirty: z.boolean().nullable(),
});

/** The schema of a report file (extra fields are allowed: newer writers may add some). */
export const reportSchema = z.object({
  schema: z.literal(BENCH_SCHEMA),
  machine,
  run: z.object({
    started: z.string(),
    seconds: finite,
    quick: z.boolean(),
    runs: count.nullable(),
    loadAverage: z.array(finite),
  }),
  suites: z.array(z.object({ name: z.string(), describe: z.string(), seconds: finite })),
  metrics: z.array(metric),
});

/** Parses report text; `file` names it in errors. */
export function parseReport(text: string, file: string): BenchReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(file, `not JSON (${(e as Error).message})`);
  }
  const r = reportSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    const reason =
      issue.path.length === 1 && issue.path[0] === 'schema'
        ? `not a nestsim bench report (schema must be '${BENCH_SCHEMA}'; write one with nestsim bench --out)`
        : issue.message;
    throw new UserError(`${file}${field ? `: ${field.replace(/^\./, '')}` : ''}`, reason);
  }
  return r.data as BenchReport;
}

/** Reads and parses a report file. */
export function readReport(file: string): BenchReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  }
  return parseReport(text, file);
}

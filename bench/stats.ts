/**
 * Statistics and metric builders shared by the suites: warm-up then counted runs, nearest-rank
 * percentiles, log-spaced histograms, and which direction of a unit is better.
 */
import type { BenchMetric, Better, Histogram, SeriesPoint, SuiteContext } from './types.js';

/** Nearest-rank quantile `q` of ascending `sorted` (non-empty). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
}

/** Median and p10/p90 of samples (nearest-rank), and how many there were. */
export function summarize(samples: ArrayLike<number>): {
  median: number;
  p10: number;
  p90: number;
  samples: number;
} {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = Float64Array.from(samples).sort();
  return { median: quantile(s, 0.5), p10: quantile(s, 0.1), p90: quantile(s, 0.9), samples: s.length };
}

/** Bins of a histogram; latencies span decades, so the edges are log-spaced. */
const HISTOGRAM_BINS = 24;

/**
 * A histogram of ascending `sorted` over [min, p99] with log-spaced edges; the samples above
 * p99 (timer noise, GC pauses, the host scheduler) go into the last bin so that one outlier does not squeeze the rest.
 */
export function histogram(sorted: ArrayLike<number>): Histogram {
  const lo = Math.max(sorted[0]!, 1e-9);
  const hi = Math.max(quantile(sorted, 0.99), lo * 1.001);
  const edges: number[] = [];
  for (let k = 0; k <= HISTOGRAM_BINS; k++) edges.push(lo * (hi / lo) ** (k / HISTOGRAM_BINS));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  const step = Math.log(hi / lo) / HISTOGRAM_BINS;
  for (let i = 0; i < sorted.length; i++) {
    const v = Math.max(sorted[i]!, lo);
    const k = Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.log(v / lo) / step));
    counts[k]!++;
  }
  return { edges, counts };
}

/** Runs `fn` `warmup` times uncounted, then `runs` times, returning each counted result. */
export async function sample(
  runs: number,
  warmup: number,
  fn: () => number | Promise<number>,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/** Counted runs: --runs when given, else the suite's quick or full default. */
export function runsFor(ctx: SuiteContext, quick: number, full: number): number {
  return ctx.runs ?? (ctx.quick ? quick : full);
}

/** Units where more is better; every other unit (times, sizes, ratios of times, hcalls per exit) is lower-better. */
const HIGHER_IS_BETTER = /(\/s|MIPS|%)$/;

/** Which direction of `unit` is an improvement. */
export function betterFor(unit: string): Better {
  return HIGHER_IS_BETTER.test(unit) ? 'higher' : 'lower';
}

/** What describes a metric apart from its numbers. */
export interface MetricInfo {
  suite: string;
  name: string;
  unit: string;
  note: string;
  /** Default: from the unit (betterFor). */
  better?: Better;
  series?: SeriesPoint;
}

function base(info: MetricInfo): Pick<BenchMetric, 'suite' | 'name' | 'unit' | 'better'> {
  return { suite: info.suite, name: info.name, unit: info.unit, better: info.better ?? betterFor(info.unit) };
}

/** A metric from one value per counted run (after `warmup` uncounted runs). */
export function perRun(info: MetricInfo, values: ArrayLike<number>, warmup: number): BenchMetric {
  const s = summarize(values);
  return {
    ...base(info),
    median: s.median,
    p10: s.p10,
    p90: s.p90,
    runs: s.samples,
    samples: s.samples,
    warmup,
    note: info.note,
    ...(info.series ? { series: info.series } : {}),
  };
}

/**
 * A metric from a distribution: one value per call, gathered over `runs` counted runs; with p99
 * and a histogram.
 */
export function distribution(
  info: MetricInfo,
  values: ArrayLike<number>,
  runs: number,
  warmup: number,
): BenchMetric {
  if (values.length === 0) throw new Error(`${info.name}: no samples`);
  const s = Float64Array.from(values).sort();
  return {
    ...base(info),
    median: quantile(s, 0.5),
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
    p99: quantile(s, 0.99),
    runs,
    samples: s.length,
    warmup,
    note: info.note,
    ...(info.series ? { series: info.series } : {}),
    histogram: histogram(s),
  };
}

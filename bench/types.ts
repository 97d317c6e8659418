/**
 * The shapes of `nestsim bench` (src/commands/bench.ts, bench/run.ts): what a suite is, what it
 * reports, and the JSON document of a run. The suites of bench/suites/ run side by side in one
 * process, so that ratios between their metrics are meaningful on a shared, noisy machine. Speed
 * targets live in benchmarks, never in unit tests. docs/benchmarks.md documents every field.
 */

/** Whether a larger value of a metric is an improvement. */
export type Better = 'higher' | 'lower';

/**
 * Where a metric sits in a series (x → value, e.g. cores → MIPS, elements → latency). A series is
 * the set of metrics of one suite that share `name`; each point stays a metric of its own, with
 * its own percentiles, so that `--compare` compares every point.
 */
export interface SeriesPoint {
  /** The series, the same for every point: "H_GUEST_GET_STATE latency vs elements". */
  name: string;
  /** What x counts: "elements", "cores". */
  xLabel: string;
  x: number;
}

/** Samples counted between log-spaced edges from the fastest sample to p99 (a latency distribution). */
export interface Histogram {
  /**
   * Ascending bin edges; counts[k] counts samples in [edges[k], edges[k+1]), and the last bin also
   * every sample above the last edge (the slowest 1%).
   */
  edges: number[];
  counts: number[];
}

/** One measured quantity. */
export interface BenchMetric {
  suite: string;
  /** Unique within the suite; the key `--compare` matches on (with the suite). */
  name: string;
  unit: string;
  better: Better;
  median: number;
  p10: number;
  p90: number;
  /** Only for distributions (a value per call rather than per run). */
  p99?: number;
  /** Counted runs (after warm-up). */
  runs: number;
  /** Values the percentiles come from: `runs` for a per-run quantity, the calls for a distribution. */
  samples: number;
  /** Uncounted runs before the counted ones. */
  warmup: number;
  /** What was measured and how, in a sentence or two. */
  note: string;
  series?: SeriesPoint;
  histogram?: Histogram;
}

/** What a suite is given when it runs. */
export interface SuiteContext {
  /** A tiny configuration (CI smoke runs): every metric still reported, with fewer samples. */
  quick: boolean;
  /** Counted runs asked for with --runs; undefined: the suite's own default. */
  runs: number | undefined;
  /** A line of commentary for stderr (what was found, what was skipped and why). */
  log(line: string): void;
  /** Announces the metric about to be measured (progress on stderr). */
  measuring(metric: string): void;
}

/**
 * A benchmark suite: one file in bench/suites/ exporting `suite`. The runner finds it by itself
 * (bench/run.ts): a new suite needs no registration.
 */
export interface BenchSuite {
  /** The name users type: `nestsim bench <name>`. */
  name: string;
  /** One line: what the suite measures. */
  describe: string;
  run(ctx: SuiteContext): Promise<BenchMetric[]>;
}

/** The machine a run happened on, so that results from different machines are told apart. */
export interface MachineInfo {
  cpu: string;
  logicalCores: number;
  memoryBytes: number;
  /** "Linux 6.8.0 (linux x64)". */
  os: string;
  node: string;
  nestsim: string;
  /** Git commit of the checkout, null outside a git checkout. */
  commit: string | null;
  /** True when the checkout had uncommitted changes, null outside a git checkout. */
  dirty: boolean | null;
}

/** One suite of a run: what it is and how long it took. */
export interface SuiteRecord {
  name: string;
  describe: string;
  seconds: number;
}

/** Version tag of the JSON document; a reader refuses any other. */
export const BENCH_SCHEMA = 'nestsim-bench/1';

/** The JSON document of one `nestsim bench` run (`--json`, `--out`). */
export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  machine: MachineInfo;
  run: {
    /** ISO 8601 start time. */
    started: string;
    seconds: number;
    quick: boolean;
    /** --runs, null when each suite used its default. */
    runs: number | null;
    /** Host load average (1, 5, 15 minutes) at the start: a busy machine gives slower numbers. */
    loadAverage: number[];
  };
  suites: SuiteRecord[];
  metrics: BenchMetric[];
}

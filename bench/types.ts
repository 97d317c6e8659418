/**
 * The shape every benchmark suite reports. `npm run bench` (bench/run.ts) runs the suites in
 * bench/suites/ side by side in one process, so that ratios between metrics are meaningful on a
 * shared, noisy machine. Speed targets live here, never in unit tests.
 */

/** One measured quantity: the median of several counted runs after warm-up. */
export interface BenchMetric {
  suite: string;
  name: string;
  unit: string;
  median: number;
  p10: number;
  p90: number;
  runs: number;
  /** What was measured and how, in one sentence. */
  note: string;
}

export interface BenchSuite {
  name: string;
  describe: string;
  /** `quick` is a tiny configuration for CI smoke runs. */
  run(opts: { quick: boolean; log: (line: string) => void }): Promise<BenchMetric[]>;
}

/** Median and p10/p90 of samples (nearest-rank). */
export function summarize(samples: number[]): { median: number; p10: number; p90: number; runs: number } {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), runs: s.length };
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

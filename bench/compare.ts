/**
 * `nestsim bench --compare old.json new.json`: metric by metric (matched on suite and name), the
 * old and new medians, their ratio, and whether the change is a regression beyond a threshold in
 * the direction the unit says is worse. Metrics present in one file only, or whose unit changed,
 * are listed apart; a different machine is pointed out, since then the ratios mix machine and code.
 */
import type { BenchMetric, BenchReport, Better, MachineInfo } from './types.js';

/** One metric present in both reports. */
export interface CompareRow {
  suite: string;
  name: string;
  unit: string;
  better: Better;
  old: number;
  new: number;
  /** new / old (null when old is 0). */
  ratio: number | null;
  /**
   * How much worse new is than old, as a fraction (negative: better); ±Infinity from a zero old
   * (null in JSON).
   */
  worse: number;
  verdict: 'regression' | 'improvement' | 'same';
  /** The new median lies inside the old run's p10–p90 range: the change may be noise. */
  withinOldRange: boolean;
}

/** A metric whose unit or direction changed between the files: not comparable. */
export interface Mismatch {
  suite: string;
  name: string;
  old: string;
  new: string;
}

/** The whole comparison (also what `--compare --json` prints). */
export interface Comparison {
  threshold: number;
  old: { file: string; machine: MachineInfo; started: string };
  new: { file: string; machine: MachineInfo; started: string };
  /** "cpu 'A' → 'B'" for every machine field that differs; empty on the same machine. */
  machineDifferences: string[];
  rows: CompareRow[];
  onlyOld: { suite: string; name: string }[];
  onlyNew: { suite: string; name: string }[];
  mismatched: Mismatch[];
  regressions: number;
}

const key = (m: { suite: string; name: string }) => `${m.suite}\u0000${m.name}`;

/** The machine fields whose difference makes results incomparable as equals. */
const MACHINE_FIELDS: readonly (keyof MachineInfo)[] = ['cpu', 'logicalCores', 'memoryBytes', 'os', 'node'];

/** Compares two reports; `threshold` is a fraction (0.1 = 10%); `suites` restricts the metrics. */
export function compareReports(
  a: { file: string; report: BenchReport },
  b: { file: string; report: BenchReport },
  threshold: number,
  suites?: readonly string[],
): Comparison {
  const keep = (m: BenchMetric) => !suites || suites.length === 0 || suites.includes(m.suite);
  const olds = a.report.metrics.filter(keep);
  const news = b.report.metrics.filter(keep);
  const byKey = new Map(olds.map((m) => [key(m), m]));
  const newKeys = new Set(news.map(key));
  const rows: CompareRow[] = [];
  const mismatched: Mismatch[] = [];
  for (const n of news) {
    const o = byKey.get(key(n));
    if (!o) continue;
    if (o.unit !== n.unit || o.better !== n.better) {
      mismatched.push({
        suite: n.suite,
        name: n.name,
        old: `${o.unit}, ${o.better} is better`,
        new: `${n.unit}, ${n.better} is better`,
      });
      continue;
    }
    rows.push(row(o, n, threshold));
  }
  const machineDifferences: string[] = [];
  for (const f of MACHINE_FIELDS) {
    const x = a.report.machine[f];
    const y = b.report.machine[f];
    if (x !== y) machineDifferences.push(`${f} ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
  }
  return {
    threshold,
    old: { file: a.file, machine: a.report.machine, started: a.report.run.started },
    new: { file: b.file, machine: b.report.machine, started: b.report.run.started },
    machineDifferences,
    rows,
    onlyOld: olds.filter((m) => !newKeys.has(key(m))).map(({ suite, name }) => ({ suite, name })),
    onlyNew: news.filter((m) => !byKey.has(key(m))).map(({ suite, name }) => ({ suite, name })),
    mismatched,
    regressions: rows.filter((r) => r.verdict === 'regression').length,
  };
}

function row(o: BenchMetric, n: BenchMetric, threshold: number): CompareRow {
  const ratio = o.median === 0 ? null : n.median / o.median;
  let worse: number;
  if (o.median === n.median) worse = 0;
  else if (o.median === 0) worse = n.median > 0 === (n.better === 'lower') ? Infinity : -Infinity;
  else worse = n.better === 'lower' ? (n.median - o.median) / o.median : (o.median - n.median) / o.median;
  const verdict = worse > threshold ? 'regression' : worse < -threshold ? 'improvement' : 'same';
  return {
    suite: n.suite,
    name: n.name,
    unit: n.unit,
    better: n.better,
    old: o.median,
    new: n.median,
    ratio,
    worse,
    verdict,
    withinOldRange: n.median >= o.p10 && n.median <= o.p90,
  };
}

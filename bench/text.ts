/**
 * What `nestsim bench` prints in the terminal: a table per suite, a bar chart per series (x →
 * median, e.g. cores → MIPS), one histogram line per distribution (log-spaced bins drawn as block
 * characters), and the text of a comparison.
 */
import type { Comparison } from './compare.js';
import type { BenchMetric, BenchReport, Histogram, SuiteRecord } from './types.js';

/** A number for a table: three significant digits, whole numbers from 100 up, thousands grouped. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

const BLOCKS = ' ▁▂▃▄▅▆▇█';

/** A histogram as one line of block characters, tallest bin = full block. */
export function sparkline(h: Histogram): string {
  const max = Math.max(1, ...h.counts);
  return h.counts.map((c) => (c === 0 ? ' ' : BLOCKS[Math.max(1, Math.round((c / max) * 8))])).join('');
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of `fraction` (0..1) of `width` characters, in eighths of a character. */
function bar(fraction: number, width: number): string {
  const eighths = Math.round(Math.max(0, Math.min(1, fraction)) * width * 8);
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/** The metrics of each series of `metrics`, by series name, points in ascending x. */
export function seriesOf(metrics: readonly BenchMetric[]): Map<string, BenchMetric[]> {
  const out = new Map<string, BenchMetric[]>();
  for (const m of metrics) {
    if (!m.series) continue;
    const k = `${m.suite}: ${m.series.name}`;
    out.set(k, [...(out.get(k) ?? []), m]);
  }
  for (const points of out.values()) points.sort((a, b) => a.series!.x - b.series!.x);
  return out;
}

/** A bar chart of one series: a line per x with its median. */
export function seriesChart(title: string, points: readonly BenchMetric[], width = 40): string {
  const first = points[0]!;
  const max = Math.max(...points.map((p) => p.median), Number.MIN_VALUE);
  const xs = points.map((p) => String(p.series!.x));
  const xw = Math.max(first.series!.xLabel.length, ...xs.map((x) => x.length));
  const lines = [`  ${title} (${first.unit}, ${first.better} is better)`];
  lines.push(`    ${first.series!.xLabel.padStart(xw)}`);
  points.forEach((p, k) => {
    lines.push(
      `    ${xs[k]!.padStart(xw)} │${bar(p.median / max, width).padEnd(width)} ${formatNumber(p.median)}`,
    );
  });
  return `${lines.join('\n')}\n`;
}

/** The table of one suite, its series charts and its distributions. */
export function suiteText(s: SuiteRecord, metrics: readonly BenchMetric[]): string {
  const w = Math.min(60, Math.max(20, ...metrics.map((m) => m.name.length)));
  const cell = (x: number | undefined) => (x === undefined ? '—' : formatNumber(x)).padStart(9);
  const lines = [`${s.name} — ${s.describe} (${s.seconds.toFixed(1)} s)`];
  lines.push(
    `  ${'metric'.padEnd(w)} ${'median'.padStart(10)} ${'unit'.padEnd(11)} ${'p10'.padStart(9)} ${'p90'.padStart(9)} ${'p99'.padStart(9)}  runs`,
  );
  for (const m of metrics) {
    const runs =
      m.samples === m.runs ? `${m.runs}` : `${m.runs} (${m.samples.toLocaleString('en-US')} samples)`;
    lines.push(
      `  ${m.name.padEnd(w)} ${formatNumber(m.median).padStart(10)} ${m.unit.padEnd(11)} ${cell(m.p10)} ${cell(m.p90)} ${cell(m.p99)}  ${runs}`,
    );
  }
  let text = `${lines.join('\n')}\n`;
  for (const [title, points] of seriesOf(metrics))
    text += `\n${seriesChart(title.slice(s.name.length + 2), points)}`;
  const dists = metrics.filter((m) => m.histogram);
  if (dists.length > 0) {
    text += `\n  distributions (log-spaced bins from the fastest sample to p99, the slowest 1% in the last)\n`;
    for (const m of dists) {
      const h = m.histogram!;
      text += `  ${m.name.padEnd(w)} ${formatNumber(h.edges[0]!).padStart(8)} ${sparkline(h)} ${formatNumber(h.edges.at(-1)!)} ${m.unit}\n`;
    }
  }
  return text;
}

/** The whole report as text: the machine, then every suite. */
export function reportText(r: BenchReport): string {
  const m = r.machine;
  let text = `nestsim ${m.nestsim}${m.commit ? ` (${m.commit.slice(0, 10)}${m.dirty ? ', uncommitted changes' : ''})` : ''} on ${m.cpu}, ${m.logicalCores} logical cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.os}, Node ${m.node}\n`;
  text += `load average ${r.run.loadAverage.join(' ')} at the start; ${r.run.quick ? 'quick configuration; ' : ''}${r.run.seconds.toFixed(1)} s in all\n`;
  for (const s of r.suites)
    text += `\n${suiteText(
      s,
      r.metrics.filter((x) => x.suite === s.name),
    )}`;
  return text;
}

const pct = (f: number) => (Number.isFinite(f) ? `${(Math.abs(f) * 100).toFixed(1)}%` : 'from 0');

/** A comparison as text. */
export function comparisonText(c: Comparison): string {
  const who = (x: Comparison['old']) =>
    `${x.file} (nestsim ${x.machine.nestsim}${x.machine.commit ? ` ${x.machine.commit.slice(0, 10)}` : ''}, ${x.started})`;
  let text = `old ${who(c.old)}\nnew ${who(c.new)}\n`;
  text +=
    c.machineDifferences.length === 0
      ? `same machine: ${c.new.machine.cpu}, ${c.new.machine.logicalCores} logical cores, Node ${c.new.machine.node}\n`
      : `different machines: ${c.machineDifferences.join('; ')} — the ratios mix machine and code\n`;
  text += `threshold ${(c.threshold * 100).toFixed(1)}%\n\n`;
  const w = Math.min(60, Math.max(20, ...c.rows.map((r) => r.name.length)));
  text += `  ${'suite'.padEnd(10)} ${'metric'.padEnd(w)} ${'old'.padStart(10)} ${'new'.padStart(10)} ${'unit'.padEnd(11)} ${'new/old'.padStart(8)}\n`;
  for (const r of c.rows) {
    const ratio = r.ratio === null ? '—' : r.ratio.toFixed(3);
    const verdict =
      r.verdict === 'regression'
        ? `REGRESSION: ${pct(r.worse)} worse${r.withinOldRange ? ' (inside the old p10–p90: may be noise)' : ''}`
        : r.verdict === 'improvement'
          ? `${pct(r.worse)} better`
          : '';
    text += `  ${r.suite.padEnd(10)} ${r.name.padEnd(w)} ${formatNumber(r.old).padStart(10)} ${formatNumber(r.new).padStart(10)} ${r.unit.padEnd(11)} ${ratio.padStart(8)}  ${verdict}\n`;
  }
  const units = new Map<string, string>();
  for (const r of c.rows) units.set(r.unit, r.better);
  if (units.size > 0) {
    const higher = [...units].filter(([, b]) => b === 'higher').map(([u]) => u);
    const lower = [...units].filter(([, b]) => b === 'lower').map(([u]) => u);
    text += `\nhigher is better: ${higher.join(', ') || '—'}; lower is better: ${lower.join(', ') || '—'}\n`;
  }
  const list = (xs: { suite: string; name: string }[]) => xs.map((x) => `${x.suite}/${x.name}`).join(', ');
  if (c.onlyOld.length > 0) text += `only in ${c.old.file}: ${list(c.onlyOld)}\n`;
  if (c.onlyNew.length > 0) text += `only in ${c.new.file}: ${list(c.onlyNew)}\n`;
  for (const m of c.mismatched)
    text += `not compared, unit changed: ${m.suite}/${m.name} (${m.old} → ${m.new})\n`;
  text +=
    c.regressions === 0
      ? `\nno regression beyond ${(c.threshold * 100).toFixed(1)}% (${c.rows.length} metrics compared)\n`
      : `\n${c.regressions} regression${c.regressions > 1 ? 's' : ''} beyond ${(c.threshold * 100).toFixed(1)}% (${c.rows.length} metrics compared)\n`;
  return text;
}

/**
 * `nestsim bench --html report.html`: one self-contained page (src/html/page.ts inlines Chart.js;
 * nothing is fetched when it is opened) with, per suite, the table of every metric and its charts:
 * medians with their p10–p90 range per unit, a line chart per series, a histogram per distribution.
 */
import { escapeHtml, selfContainedPage } from '../src/html/page.js';
import { formatNumber, seriesOf } from './text.js';
import type { BenchMetric, BenchReport } from './types.js';

/** One chart, described on the Node side so that the page's script stays small. */
interface ChartSpec {
  id: string;
  title: string;
  kind: 'ranges' | 'series' | 'histogram';
  labels: string[];
  unit: string;
  /** ranges: medians; series: medians; histogram: counts. */
  values: number[];
  /** ranges and series: [p10, p90] per label. */
  spans?: [number, number][];
}

function chartsOf(suite: string, metrics: readonly BenchMetric[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const id = () => `c${suite}-${charts.length}`.replace(/[^a-zA-Z0-9-]/g, '_');
  const byUnit = new Map<string, BenchMetric[]>();
  for (const m of metrics) if (!m.series) byUnit.set(m.unit, [...(byUnit.get(m.unit) ?? []), m]);
  for (const [unit, ms] of byUnit) {
    charts.push({
      id: id(),
      title: `${suite}: medians in ${unit} (${ms[0]!.better} is better), bars from p10 to p90`,
      kind: 'ranges',
      labels: ms.map((m) => m.name),
      unit,
      values: ms.map((m) => m.median),
      spans: ms.map((m) => [m.p10, m.p90]),
    });
  }
  for (const [title, points] of seriesOf(metrics)) {
    const first = points[0]!;
    charts.push({
      id: id(),
      title: `${title} (${first.unit} against ${first.series!.xLabel}, ${first.better} is better)`,
      kind: 'series',
      labels: points.map((p) => String(p.series!.x)),
      unit: first.unit,
      values: points.map((p) => p.median),
      spans: points.map((p) => [p.p10, p.p90]),
    });
  }
  for (const m of metrics) {
    if (!m.histogram) continue;
    const e = m.histogram.edges;
    charts.push({
      id: id(),
      title: `${suite}: ${m.name}, ${m.samples.toLocaleString('en-US')} samples (${m.unit}, log-spaced bins)`,
      kind: 'histogram',
      // The last bin also holds the slowest 1% (bench/stats.ts histogram).
      labels: m.histogram.counts.map((_, k, all) =>
        k === all.length - 1
          ? `${formatNumber(e[k]!)}+`
          : `${formatNumber(e[k]!)}–${formatNumber(e[k + 1]!)}`,
      ),
      unit: m.unit,
      values: m.histogram.counts,
    });
  }
  return charts;
}

/** The page's script: turns NESTSIM_DATA.charts into Chart.js charts. */
const SCRIPT = `
for (const c of NESTSIM_DATA.charts) {
  const el = document.getElementById(c.id);
  const ctx = el.getContext('2d');
  if (c.kind === 'ranges') {
    new Chart(ctx, {
      type: 'bar',
      data: { labels: c.labels, datasets: [
        { label: 'p10–p90', data: c.spans, backgroundColor: 'rgba(80,120,200,0.25)', grouped: false },
        { label: 'median', data: c.values, backgroundColor: 'rgba(40,70,160,0.85)', grouped: false, barPercentage: 0.35 },
      ] },
      options: { indexAxis: 'y', maintainAspectRatio: false, animation: false,
        plugins: { title: { display: true, text: c.title } },
        scales: { x: { title: { display: true, text: c.unit } } } },
    });
  } else if (c.kind === 'series') {
    new Chart(ctx, {
      type: 'line',
      data: { labels: c.labels, datasets: [
        { label: 'median', data: c.values, borderColor: 'rgb(40,70,160)', backgroundColor: 'rgb(40,70,160)' },
        { label: 'p10', data: c.spans.map((s) => s[0]), borderColor: 'rgba(80,120,200,0.4)', borderDash: [4, 4], pointRadius: 0 },
        { label: 'p90', data: c.spans.map((s) => s[1]), borderColor: 'rgba(80,120,200,0.4)', borderDash: [4, 4], pointRadius: 0 },
      ] },
      options: { maintainAspectRatio: false, animation: false,
        plugins: { title: { display: true, text: c.title } },
        scales: { y: { title: { display: true, text: c.unit } } } },
    });
  } else {
    new Chart(ctx, {
      type: 'bar',
      data: { labels: c.labels, datasets: [{ label: 'samples', data: c.values, backgroundColor: 'rgba(40,70,160,0.8)', barPercentage: 1, categoryPercentage: 1 }] },
      options: { maintainAspectRatio: false, animation: false,
        plugins: { title: { display: true, text: c.title }, legend: { display: false } },
        scales: { x: { title: { display: true, text: c.unit } }, y: { title: { display: true, text: 'samples' } } } },
    });
  }
}
`;

const cell = (x: number | undefined) => (x === undefined ? '—' : escapeHtml(formatNumber(x)));

function metricTable(metrics: readonly BenchMetric[]): string {
  const rows = metrics.map(
    (m) =>
      `<tr><td>${escapeHtml(m.name)}</td><td>${cell(m.median)}</td><td>${escapeHtml(m.unit)}</td><td>${cell(m.p10)}</td><td>${cell(m.p90)}</td><td>${cell(m.p99)}</td><td>${m.runs}${m.samples !== m.runs ? ` (${m.samples} samples)` : ''}</td><td class="muted">${escapeHtml(m.note)}</td></tr>`,
  );
  return `<table><tr><th>metric</th><th>median</th><th>unit</th><th>p10</th><th>p90</th><th>p99</th><th>runs</th><th>what and how</th></tr>\n${rows.join('\n')}\n</table>`;
}

/** The HTML page of a report. */
export function reportHtml(r: BenchReport): string {
  const m = r.machine;
  const charts: ChartSpec[] = [];
  const sections = r.suites.map((s) => {
    const ms = r.metrics.filter((x) => x.suite === s.name);
    const cs = chartsOf(s.name, ms);
    charts.push(...cs);
    const canvas = (c: ChartSpec, h: number) =>
      `<div class="chart" style="height:${h}px"><canvas id="${c.id}"></canvas></div>`;
    const wide = cs
      .filter((c) => c.kind !== 'histogram')
      .map((c) => canvas(c, c.kind === 'ranges' ? Math.max(140, 28 * c.labels.length + 70) : 300));
    const small = cs.filter((c) => c.kind === 'histogram').map((c) => canvas(c, 240));
    const canvases = `${wide.join('\n')}${small.length > 0 ? `\n<div class="grid">\n${small.join('\n')}\n</div>` : ''}`;
    return `<h2>${escapeHtml(s.name)}</h2>\n<p>${escapeHtml(s.describe)} <span class="muted">(${s.seconds.toFixed(1)} s)</span></p>\n${metricTable(ms)}\n${canvases}`;
  });
  const machine = [
    ['CPU', m.cpu],
    ['logical cores', String(m.logicalCores)],
    ['memory', `${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
    ['OS', m.os],
    ['Node', m.node],
    ['nestsim', `${m.nestsim}${m.commit ? ` (${m.commit}${m.dirty ? ', uncommitted changes' : ''})` : ''}`],
    ['started', r.run.started],
    ['load average at start', r.run.loadAverage.join(' ')],
    ['configuration', r.run.quick ? 'quick (tiny)' : 'full'],
  ]
    .map(([k, v]) => `<tr><th>${escapeHtml(k!)}</th><td>${escapeHtml(v!)}</td></tr>`)
    .join('\n');
  return selfContainedPage({
    title: `nestsim bench ${r.run.started}`,
    bodyHtml: `<h1>nestsim bench</h1>\n<table>\n${machine}\n</table>\n${sections.join('\n')}`,
    css: '.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }',
    data: { charts },
    script: SCRIPT,
  });
}

/**
 * The HTML page of `nestsim report --html`: one self-contained file (src/html/page.ts inlines
 * Chart.js) with the timeline of a trace, charts of the report's statistics and its checks.
 *
 * The charts are computed here, in typed code, as ChartSpecs (labels and datasets); the page's
 * script only hands them to Chart.js. The timeline is a horizontal floating-bar chart: one row per
 * core, a bar per L2 run coloured by guest (or by exit reason, a button switches), grey bars for
 * waits, dark ones for invalidations; wheel zooms, drag pans, double-click resets. Bars narrower
 * than a pixel of the visible range are drawn merged (grey "several" when guests differ), so a run
 * of any length draws about one bar per pixel per row and zooming stays fast. A trace with more
 * than MAX_BARS runs has adjacent runs of one guest on one core merged before it is embedded, to
 * bound the page's size (the page says how many).
 *
 * Invoked from: src/commands/report.ts.
 */
import { escapeHtml, type PageSpec } from '../html/page.js';
import type { RunReport, TimelineBar, TraceSummary } from './report-input.js';

/**
 * Most runs embedded before adjacent runs of one guest on one core are merged (about 40 bytes of
 * page each). What is drawn is bounded separately: the page merges bars narrower than a pixel.
 */
export const MAX_BARS = 200_000;

/** One statistics chart, ready for Chart.js. */
export interface ChartSpec {
  id: string;
  title: string;
  labels: string[];
  datasets: { label: string; data: number[]; axis?: 'y2' }[];
  stacked?: boolean;
  /** Horizontal bars (long labels such as exit reasons). */
  horizontal?: boolean;
  /** Axis titles. */
  valueTitle?: string;
  value2Title?: string;
  /** Where the numbers come from, when not the report's stats. */
  source?: string;
  /** Values are seconds (ticks and tooltips print ns/µs/ms/s). */
  seconds?: boolean;
}

/** The timeline as the page's script reads it (compact arrays: the data is embedded in the page). */
export interface TimelineData {
  clock: string;
  /** Row labels, index = row. */
  rows: string[];
  guests: string[];
  exits: string[];
  /** [row, start µs, end µs, guest index, vCPU, exit index, instructions, runs merged] */
  runs: number[][];
  /** Names of wait and invalidation bars. */
  otherNames: string[];
  /** [row, start µs, end µs, name index, 0 = wait, 1 = invalidation] */
  others: number[][];
  span: number;
  merged: number;
  droppedEvents: number;
}

/** Everything embedded in the page. */
export interface PageData {
  charts: ChartSpec[];
  timeline: TimelineData | null;
}

/** A report (and its trace, if any) as a page. */
export function reportPage(report: RunReport, trace: TraceSummary | undefined, sourceName: string): PageSpec {
  const timeline = trace ? timelineData(trace) : null;
  const charts = statCharts(report, trace);
  const kind = report.scenario ? `run of scenario ${report.scenario.name}` : 'exec run';
  const title = `nestsim report: ${kind}`;
  const rows = timeline ? timeline.rows.length : 0;
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="summary">${summaryLine(report)} <span class="muted">(${escapeHtml(sourceName)})</span></p>`,
    notesHtml(report.notes ?? []),
    '<h2>Timeline</h2>',
    timeline
      ? [
          '<div class="controls">',
          '<button type="button" id="colour-guest">colour by guest</button>',
          '<button type="button" id="colour-exit">colour by exit reason</button>',
          '<button type="button" id="reset-zoom">reset zoom</button>',
          `<span class="muted">${timeline.runs.length} runs on ${rows} cores, ${escapeHtml(timeline.clock)} time; wheel zooms, drag pans, double-click resets</span>`,
          '</div>',
          timeline.merged > 0
            ? `<p class="warn">${timeline.merged} runs were merged into neighbours of the same guest to keep the page small; open the trace in Perfetto for every slice.</p>`
            : '',
          timeline.droppedEvents > 0
            ? `<p class="warn">The trace lost ${timeline.droppedEvents} events (a core's trace buffer overflowed): the timeline has gaps.</p>`
            : '',
          `<div class="chart timeline" style="height:${Math.max(140, 46 * rows + 90)}px"><canvas id="timeline"></canvas></div>`,
        ].join('\n')
      : '<p class="muted" id="no-trace">No trace: record one with <code>--trace out.json</code> on run or exec, or give one with <code>--trace</code>.</p>',
    '<h2>Checks</h2>',
    checksTable(report),
    '<h2>Guests</h2>',
    guestsTable(report),
    '<h2>Statistics</h2>',
    ...charts.map(
      (c) =>
        `<h3>${escapeHtml(c.title)}</h3>${c.source ? `<p class="muted">${escapeHtml(c.source)}</p>` : ''}<div class="chart" style="height:${chartHeight(c)}px"><canvas id="${c.id}" data-chart="${c.id}"></canvas></div>`,
    ),
    missingNote(report, trace),
  ].join('\n');
  return { title, bodyHtml: body, css: CSS, data: { charts, timeline } satisfies PageData, script: SCRIPT };
}

function chartHeight(c: ChartSpec): number {
  return c.horizontal ? Math.max(160, 28 * c.labels.length + 80) : 320;
}

function summaryLine(r: RunReport): string {
  const s = r.stats;
  const parts = [
    r.ok ? '<span class="pass">all checks passed</span>' : '<span class="fail">failed</span>',
    `${s.instructions.toLocaleString('en-US')} instructions`,
    `${s.wallSeconds.toFixed(3)} s wall`,
    `${s.mips.toFixed(1)} MIPS`,
  ];
  if (r.exitCode !== undefined) parts.push(`exit code ${r.exitCode}`);
  if (r.scenario?.seed !== undefined) parts.push(`seed ${r.scenario.seed ?? 'none'}`);
  return parts.join(' · ');
}

function notesHtml(notes: string[]): string {
  if (notes.length === 0) return '';
  return `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`;
}

function checksTable(r: RunReport): string {
  const rows: { name: string; ok: boolean; detail: string }[] =
    r.checks ??
    r.guests.map((g) => ({
      name: `${g.name} ended`,
      ok: g.end.kind === 'exited',
      detail: endText(g.end),
    }));
  return `<table id="checks"><thead><tr><th>check</th><th>result</th><th>detail</th></tr></thead><tbody>${rows
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.name)}</td><td class="${c.ok ? 'pass' : 'fail'}">${c.ok ? 'pass' : 'FAIL'}</td><td>${escapeHtml(c.detail)}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function endText(end: { kind: string; [k: string]: unknown }): string {
  const rest = Object.entries(end)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [end.kind, ...rest].join(', ');
}

function guestsTable(r: RunReport): string {
  return `<table id="guests"><thead><tr><th>guest</th><th>id</th><th>vCPUs</th><th>end</th></tr></thead><tbody>${r.guests
    .map(
      (g) =>
        `<tr><td>${escapeHtml(g.name)}</td><td>${g.id ?? ''}</td><td>${g.vcpus}</td><td>${escapeHtml(endText(g.end))}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

function missingNote(r: RunReport, trace: TraceSummary | undefined): string {
  const missing: string[] = [];
  if (!r.stats.perVcpu) missing.push('per-vCPU');
  if (!r.stats.perCore && !trace) missing.push('per-core');
  if (missing.length === 0) return '';
  return `<p class="muted" id="missing-stats">This report has no ${missing.join(' or ')} statistics (written by an older nestsim); those charts are left out.</p>`;
}

/** The statistics charts the report (and trace) can fill. */
export function statCharts(r: RunReport, trace: TraceSummary | undefined): ChartSpec[] {
  const s = r.stats;
  const charts: ChartSpec[] = [];
  const exitNames = Object.keys(s.exits);
  charts.push({
    id: 'chart-exits',
    title: 'Exits by reason',
    labels: exitNames,
    datasets: [{ label: 'exits', data: exitNames.map((k) => s.exits[k]!) }],
    horizontal: true,
  });
  const ops = Object.keys(s.hcalls);
  const rcs = unique(ops.flatMap((op) => Object.keys(s.hcalls[op]!)));
  charts.push({
    id: 'chart-hcalls',
    title: 'L1→L0 hcalls by opcode and return code',
    labels: ops,
    datasets: rcs.map((rc) => ({ label: rc, data: ops.map((op) => s.hcalls[op]![rc] ?? 0) })),
    stacked: true,
    horizontal: true,
  });
  const l2 = s.l2Hcalls ?? {};
  if (Object.keys(l2).length > 0)
    charts.push({
      id: 'chart-l2-hcalls',
      title: 'L2→L1 hcalls',
      labels: Object.keys(l2),
      datasets: [{ label: 'hcalls', data: Object.values(l2) }],
      horizontal: true,
    });
  if (s.perVcpu && s.perVcpu.length > 0) charts.push(...vcpuCharts(s.perVcpu));
  if (s.perCore && s.perCore.length > 0) charts.push(...coreCharts(s.perCore));
  else if (trace && trace.cores.length > 0) charts.push(...traceCoreCharts(trace));
  return charts;
}

type VcpuStats = NonNullable<RunReport['stats']['perVcpu']>[number];
type CoreStats = NonNullable<RunReport['stats']['perCore']>[number];

function vcpuCharts(v: VcpuStats[]): ChartSpec[] {
  const labels = v.map((x) => `${x.name ?? `guest ${x.guest ?? '?'}`} vCPU ${x.vcpu}`);
  const exits = unique(v.flatMap((x) => Object.keys(x.exits ?? {})));
  const hcalls = unique(v.flatMap((x) => Object.keys(x.hcalls ?? {})));
  const out: ChartSpec[] = [
    {
      id: 'chart-vcpu-work',
      title: 'Instructions and runs per vCPU',
      labels,
      datasets: [
        { label: 'instructions', data: v.map((x) => x.instructions ?? 0) },
        { label: 'runs', data: v.map((x) => x.runs ?? 0), axis: 'y2' },
      ],
      valueTitle: 'instructions',
      value2Title: 'runs',
    },
  ];
  if (exits.length > 0)
    out.push({
      id: 'chart-vcpu-exits',
      title: 'Exits per vCPU by reason',
      labels,
      datasets: exits.map((e) => ({ label: e, data: v.map((x) => x.exits?.[e] ?? 0) })),
      stacked: true,
    });
  if (hcalls.length > 0)
    out.push({
      id: 'chart-vcpu-hcalls',
      title: 'hcalls per vCPU',
      labels,
      datasets: hcalls.map((h) => ({ label: h, data: v.map((x) => x.hcalls?.[h] ?? 0) })),
      stacked: true,
    });
  out.push(
    {
      id: 'chart-vcpu-state',
      title: 'H_GUEST_GET_STATE / SET_STATE calls per exit, per vCPU',
      labels,
      datasets: [
        { label: 'GET_STATE per exit', data: v.map((x) => x.getStatePerExit ?? 0) },
        { label: 'SET_STATE per exit', data: v.map((x) => x.setStatePerExit ?? 0) },
      ],
    },
    {
      id: 'chart-vcpu-time',
      title: 'Time running vs waiting per vCPU',
      labels,
      datasets: [
        { label: 'running', data: v.map((x) => x.runningSeconds ?? 0) },
        { label: 'waiting', data: v.map((x) => x.waitingSeconds ?? 0) },
      ],
      stacked: true,
      seconds: true,
    },
  );
  return out;
}

function coreCharts(c: CoreStats[]): ChartSpec[] {
  const labels = c.map((x) => `core ${x.core}`);
  const exits = unique(c.flatMap((x) => Object.keys(x.exits ?? {})));
  const out: ChartSpec[] = [
    {
      id: 'chart-core-time',
      title: 'Time running vs waiting per core',
      labels,
      datasets: [
        { label: 'running', data: c.map((x) => x.runningSeconds ?? 0) },
        { label: 'waiting', data: c.map((x) => x.waitingSeconds ?? 0) },
        { label: 'idle', data: c.map((x) => x.idleSeconds ?? 0) },
      ],
      stacked: true,
      horizontal: true,
      seconds: true,
    },
    {
      id: 'chart-core-work',
      title: 'Instructions and runs per core',
      labels,
      datasets: [
        { label: 'instructions', data: c.map((x) => x.instructions ?? 0) },
        { label: 'runs', data: c.map((x) => x.runs ?? 0), axis: 'y2' },
      ],
      valueTitle: 'instructions',
      value2Title: 'runs',
    },
  ];
  if (exits.length > 0)
    out.push({
      id: 'chart-core-exits',
      title: 'Exits per core by reason',
      labels,
      datasets: exits.map((e) => ({ label: e, data: c.map((x) => x.exits?.[e] ?? 0) })),
      stacked: true,
    });
  return out;
}

/** Per-core time and work summed from the trace, for reports without stats.perCore. */
function traceCoreCharts(t: TraceSummary): ChartSpec[] {
  const idx = new Map(t.cores.map((c, i) => [c, i]));
  const zero = () => t.cores.map(() => 0);
  const running = zero();
  const waiting = zero();
  const idle = zero();
  const runs = zero();
  const instructions = zero();
  for (const b of t.bars) {
    const i = idx.get(b.core)!;
    const sec = (b.end - b.start) / 1e6;
    if (b.cat === 'run') {
      running[i]! += sec;
      runs[i]!++;
      instructions[i]! += b.instructions;
    } else if (b.cat === 'wait') {
      if (b.name.startsWith('idle')) idle[i]! += sec;
      else waiting[i]! += sec;
    }
  }
  const labels = t.cores.map((c) => `core ${c}`);
  const source = `Summed from the trace (${t.clock} time): this report has no stats.perCore.`;
  return [
    {
      id: 'chart-core-time',
      title: 'Time running vs waiting per core',
      labels,
      datasets: [
        { label: 'running', data: running },
        { label: 'waiting', data: waiting },
        { label: 'idle', data: idle },
      ],
      stacked: true,
      horizontal: true,
      seconds: true,
      source,
    },
    {
      id: 'chart-core-work',
      title: 'Instructions and runs per core',
      labels,
      datasets: [
        { label: 'instructions', data: instructions },
        { label: 'runs', data: runs, axis: 'y2' },
      ],
      valueTitle: 'instructions',
      value2Title: 'runs',
      source,
    },
  ];
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/** The trace's bars as the compact arrays the page embeds, merged when there are too many. */
export function timelineData(t: TraceSummary): TimelineData {
  const rows = t.cores.map((c) => `core ${c}`);
  const rowOf = new Map(t.cores.map((c, i) => [c, i]));
  const guests: string[] = [];
  const exits: string[] = [];
  const otherNames: string[] = [];
  const index = (list: string[], v: string) => {
    let i = list.indexOf(v);
    if (i < 0) i = list.push(v) - 1;
    return i;
  };
  let span = 0;
  const runBars: TimelineBar[] = [];
  const others: number[][] = [];
  for (const b of t.bars) {
    if (b.end > span) span = b.end;
    if (b.cat === 'run') runBars.push(b);
    else
      others.push([
        rowOf.get(b.core)!,
        b.start,
        b.end,
        index(otherNames, b.name),
        b.cat === 'invalidation' ? 1 : 0,
      ]);
  }
  runBars.sort((a, b) => a.core - b.core || a.start - b.start);
  const runs: number[][] = [];
  let merged = 0;
  const gap = runBars.length > MAX_BARS ? span / 4000 : -1;
  let last: number[] | undefined;
  for (const b of runBars) {
    const row = rowOf.get(b.core)!;
    const g = index(guests, b.name);
    if (last && last[0] === row && last[3] === g && b.start - last[2]! <= gap) {
      last[2] = Math.max(last[2]!, b.end);
      last[4] = last[4] === b.vcpu ? b.vcpu : -1;
      last[5] = -1;
      last[6]! += b.instructions;
      last[7]!++;
      merged++;
      continue;
    }
    last = [row, b.start, b.end, g, b.vcpu, index(exits, b.exit), b.instructions, 1];
    runs.push(last);
  }
  return {
    clock: t.clock,
    rows,
    guests,
    exits,
    runs,
    otherNames,
    others,
    span,
    merged,
    droppedEvents: t.droppedEvents,
  };
}

const CSS = `
h3 { font-size: 15px; margin: 22px 0 4px; }
.summary { font-size: 15px; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #c62828; font-weight: 600; }
.warn { background: #fff4e5; border-left: 4px solid #f0a020; padding: 6px 10px; }
.controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.controls button { font: inherit; padding: 3px 10px; }
.chart.timeline { cursor: grab; }
code { background: #f0f2f5; padding: 0 4px; }
`;

/** The page's script (plain browser JavaScript; NESTSIM_DATA is a PageData). */
const SCRIPT = `
(function () {
  'use strict';
  var D = NESTSIM_DATA;
  var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7',
    '#9c755f', '#86bcb6', '#d37295', '#8cd17d'];
  function colour(i) {
    return i < PALETTE.length ? PALETTE[i] : 'hsl(' + Math.round((i * 137.5) % 360) + ', 55%, 50%)';
  }
  function fmtTime(us) {
    var a = Math.abs(us);
    if (a === 0) return '0';
    if (a < 1) return (us * 1000).toPrecision(3) + ' ns';
    if (a < 1000) return us.toPrecision(4) + ' µs';
    if (a < 1e6) return (us / 1000).toPrecision(4) + ' ms';
    return (us / 1e6).toPrecision(4) + ' s';
  }
  function fmtNum(n) {
    return typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(n);
  }
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 12;

  D.charts.forEach(function (c) {
    var el = document.getElementById(c.id);
    if (!el) return;
    var valueAxis = c.horizontal ? 'x' : 'y';
    var whole = c.datasets.every(function (d) { return d.data.every(function (v) { return v === Math.round(v); }); });
    var ticks = c.seconds ? { callback: function (v) { return fmtTime(v * 1e6); } } : (whole ? { precision: 0 } : {});
    var scales = {};
    scales[c.horizontal ? 'y' : 'x'] = { stacked: !!c.stacked, ticks: { autoSkip: false } };
    scales[valueAxis] = { stacked: !!c.stacked, beginAtZero: true, ticks: ticks,
      title: { display: !!(c.valueTitle || c.seconds), text: c.seconds ? 'time' : (c.valueTitle || '') } };
    var two = c.datasets.some(function (d) { return d.axis === 'y2'; });
    if (two) scales.y2 = { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false },
      title: { display: !!c.value2Title, text: c.value2Title || '' } };
    new Chart(el, {
      type: 'bar',
      data: {
        labels: c.labels,
        datasets: c.datasets.map(function (d, i) {
          var ds = { label: d.label, data: d.data, backgroundColor: colour(i), maxBarThickness: 48 };
          if (d.axis === 'y2') ds.yAxisID = 'y2';
          return ds;
        })
      },
      options: {
        indexAxis: c.horizontal ? 'y' : 'x',
        maintainAspectRatio: false,
        scales: scales,
        plugins: {
          legend: { display: c.datasets.length > 1 },
          tooltip: c.seconds ? { callbacks: { label: function (ctx) {
            return ctx.dataset.label + ': ' + fmtTime(ctx.parsed[valueAxis] * 1e6);
          } } } : {}
        }
      }
    });
  });

  var T = D.timeline;
  if (!T) return;
  var canvas = document.getElementById('timeline');
  var mode = 'guest';
  var MIXED = -1;
  var full = { min: 0, max: T.span > 0 ? T.span : 1 };
  // Runs and other bars of each row, in start order (the embedded arrays are sorted by row, start).
  var runRows = T.rows.map(function () { return []; });
  T.runs.forEach(function (r) { runRows[r[0]].push(r); });
  var otherRows = T.rows.map(function () { return []; });
  T.others.forEach(function (o) { otherRows[o[0]].push(o); });
  otherRows.forEach(function (l) { l.sort(function (a, b) { return a[1] - b[1]; }); });

  // Level of detail: in the visible range, consecutive bars narrower than a pixel become one bar,
  // of their guest (or exit reason) when they share it, else "mixed": at most about one bar per
  // pixel per row, however long the run.
  function groups(rows, min, max, px, keyOf, mergeMixed) {
    var out = [];
    rows.forEach(function (list, row) {
      var g = null;
      for (var j = 0; j < list.length; j++) {
        var r = list[j];
        if (r[2] < min || r[1] > max) continue;
        var key = keyOf(r);
        var narrow = r[2] - r[1] < px;
        if (g && narrow && g.narrow && r[1] - g.e <= px && (mergeMixed || g.key === key)) {
          if (r[2] > g.e) g.e = r[2];
          if (g.key !== key) g.key = MIXED;
          g.r = null;
          g.n += r.length > 7 ? r[7] : 1;
          g.instr += r.length > 6 ? r[6] : 0;
          continue;
        }
        if (g) out.push(g);
        g = { row: row, s: r[1], e: r[2], key: key, r: r, n: r.length > 7 ? r[7] : 1,
          instr: r.length > 6 ? r[6] : 0, narrow: narrow };
      }
      if (g) out.push(g);
    });
    return out;
  }
  function datasets(min, max) {
    var width = chart ? chart.chartArea.right - chart.chartArea.left : canvas.clientWidth;
    var px = (max - min) / Math.max(200, width);
    var names = mode === 'guest' ? T.guests : T.exits;
    var sets = names.map(function (n, i) {
      return { label: n, data: [], backgroundColor: colour(i), grouped: false, barPercentage: 0.8,
        categoryPercentage: 1, minBarLength: 1, kind: 'run' };
    });
    var mixed = { label: 'several (zoom in)', data: [], backgroundColor: '#b9bec7', borderColor: '#7d838d',
      borderWidth: 1, grouped: false, barPercentage: 0.8, categoryPercentage: 1, minBarLength: 1, kind: 'run' };
    var keyOf = mode === 'guest' ? function (r) { return r[3]; } : function (r) { return r[5]; };
    groups(runRows, min, max, px, keyOf, true).forEach(function (g) {
      var item = { x: [g.s, g.e], y: T.rows[g.row], r: g.r, n: g.n, instr: g.instr };
      (g.key === MIXED ? mixed : sets[g.key]).data.push(item);
    });
    var others = T.otherNames.map(function (n, i) {
      var inval = T.others.some(function (o) { return o[3] === i && o[4] === 1; });
      return { label: n, kind: 'other', data: [],
        backgroundColor: inval ? '#30343c' : (n.indexOf('idle') === 0 ? '#d9dce1' : '#9aa0a8'),
        grouped: false, barPercentage: inval ? 0.35 : 0.5, categoryPercentage: 1, minBarLength: inval ? 2 : 0 };
    });
    groups(otherRows, min, max, px, function (o) { return o[3]; }, false).forEach(function (g) {
      others[g.key].data.push({ x: [g.s, g.e], y: T.rows[g.row], r: null, n: g.n, instr: 0 });
    });
    var keep = function (d) { return d.data.length > 0; };
    return sets.filter(keep).concat(mixed.data.length ? [mixed] : [], others.filter(keep));
  }
  var chart = null;
  chart = new Chart(canvas, {
    type: 'bar',
    data: { labels: T.rows, datasets: datasets(full.min, full.max) },
    options: {
      indexAxis: 'y',
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: true },
      scales: {
        x: { type: 'linear', min: full.min, max: full.max,
          title: { display: true, text: T.clock + ' time' },
          ticks: { callback: function (v) { return fmtTime(v); } } },
        y: { type: 'category' }
      },
      plugins: {
        legend: { position: 'bottom' },
        tooltip: {
          callbacks: {
            title: function (items) { return items.length ? items[0].dataset.label : ''; },
            label: function (ctx) {
              var raw = ctx.raw;
              var lines = [fmtTime(raw.x[0]) + ' + ' + fmtTime(raw.x[1] - raw.x[0])];
              var r = raw.r;
              if (ctx.dataset.kind === 'run' && r) {
                lines.unshift('guest ' + T.guests[r[3]] + (r[4] >= 0 ? ', vCPU ' + r[4] : ''));
                lines.push('exit: ' + (r[5] >= 0 ? T.exits[r[5]] : 'several'));
              }
              if (ctx.dataset.kind === 'run') lines.push(fmtNum(raw.instr) + ' instructions');
              if (raw.n > 1) lines.push(raw.n + ' slices drawn as one: zoom in');
              return lines;
            }
          }
        }
      }
    }
  });
  // The first build guessed the plot width; build again with the real one.
  chart.data.datasets = datasets(full.min, full.max);
  chart.update('none');
  function redraw() {
    chart.data.datasets = datasets(chart.options.scales.x.min, chart.options.scales.x.max);
    chart.update('none');
  }
  function setMode(m) {
    mode = m;
    redraw();
  }
  function setRange(min, max) {
    var width = Math.max(max - min, full.max * 1e-9, 1e-6);
    if (width >= full.max - full.min) { min = full.min; max = full.max; }
    else {
      if (min < full.min) min = full.min;
      if (min + width > full.max) min = full.max - width;
      max = min + width;
    }
    chart.options.scales.x.min = min;
    chart.options.scales.x.max = max;
    redraw();
  }
  document.getElementById('colour-guest').addEventListener('click', function () { setMode('guest'); });
  document.getElementById('colour-exit').addEventListener('click', function () { setMode('exit'); });
  document.getElementById('reset-zoom').addEventListener('click', function () { setRange(full.min, full.max); });
  canvas.addEventListener('dblclick', function () { setRange(full.min, full.max); });
  canvas.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    var x = chart.scales.x;
    var at = x.getValueForPixel(ev.offsetX);
    var f = ev.deltaY < 0 ? 0.8 : 1.25;
    setRange(at - (at - x.min) * f, at + (x.max - at) * f);
  }, { passive: false });
  var drag = null;
  canvas.addEventListener('mousedown', function (ev) {
    drag = { px: ev.offsetX, min: chart.scales.x.min, max: chart.scales.x.max };
  });
  window.addEventListener('mouseup', function () { drag = null; });
  canvas.addEventListener('mousemove', function (ev) {
    if (!drag) return;
    var x = chart.scales.x;
    var perPx = (drag.max - drag.min) / Math.max(1, x.right - x.left);
    var d = (ev.offsetX - drag.px) * perPx;
    setRange(drag.min - d, drag.max - d);
  });
})();
`;

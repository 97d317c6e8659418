/**
 * Self-contained HTML pages (`nestsim bench --html`, `nestsim report --html`): one file that opens
 * offline, with Chart.js (MIT, chartjs.org) inlined from node_modules and the page's data embedded
 * as JSON. Nothing is fetched at view time, so a report mailed around or opened in CI still works.
 *
 * Invoked from: src/commands/bench.ts, src/commands/report.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What one page is made of. */
export interface PageSpec {
  title: string;
  /** Markup of the body (trusted: written by nestsim, never by a guest). */
  bodyHtml: string;
  /** Extra CSS rules. */
  css?: string;
  /** Embedded as JSON; the script reads it as `NESTSIM_DATA`. */
  data: unknown;
  /** The page's own script, run after Chart.js loaded (global `Chart`). */
  script: string;
}

let chartSource: string | undefined;

/** Chart.js's UMD build, read once. */
function chartJs(): string {
  if (chartSource === undefined) {
    const require = createRequire(import.meta.url);
    // chart.js's exports map hides dist/ subpaths: resolve its CommonJS entry (dist/chart.cjs)
    // and read the UMD build beside it.
    chartSource = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  }
  return chartSource;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> element (no `</script>` or `<!--` can close it early). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const BASE_CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #1d2330; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { padding: 3px 10px; text-align: left; }
th { border-bottom: 1px solid #bbb; } tr:nth-child(even) td { background: #f4f6f9; }
.chart { position: relative; height: 320px; margin: 12px 0; }
.muted { color: #667; }
`;

/** The whole page as one string. */
export function selfContainedPage(p: PageSpec): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)}</title>
<style>${BASE_CSS}${p.css ?? ''}</style>
</head>
<body>
${p.bodyHtml}
<script>${chartJs()}</script>
<script>const NESTSIM_DATA = ${scriptJson(p.data)};</script>
<script>${p.script}</script>
</body>
</html>
`;
}

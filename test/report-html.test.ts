/**
 * The page of `nestsim report --html` in a real browser: headless Chromium (Debian's chromium,
 * driven by playwright-core) loads the page written from the synthetic fixture (a report and a
 * trace made by the trace writer) and from an older report; the timeline canvas, one chart per
 * statistic and the checks table are there and drawn, the buttons and the wheel zoom work, the
 * console shows no errors and the page requests nothing from the network. Screenshots go to
 * test/artifacts/. Without /usr/bin/chromium the test is skipped with a printed reason, unless
 * NESTSIM_REQUIRE_TOOLS=1 (CI), where it fails.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromeTrace, writeChromeTrace } from '../src/trace/chrome.js';
import { runCli } from './cli-harness.js';
import {
  FIXTURES,
  interleavedEvents,
  REPORT_CHART_IDS,
  reportFixture,
  SYNTHETIC_GUESTS,
  SYNTHETIC_RUNS,
} from './fixtures/report/synthetic.js';

const CHROMIUM = '/usr/bin/chromium';
const REQUIRE_TOOLS = process.env.NESTSIM_REQUIRE_TOOLS === '1';
const haveChromium = existsSync(CHROMIUM);
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
if (!haveChromium && !REQUIRE_TOOLS)
  console.warn(`report-html: ${CHROMIUM} not found; the browser test is skipped (apt-get install chromium)`);

/** Writes the page of `report` (and `trace`) and returns its path. */
async function writePage(report: string, name: string, trace?: string): Promise<string> {
  const out = join(mkdtempSync(join(tmpdir(), 'nestsim-report-html-')), `${name}.html`);
  const { code, err } = await runCli(['report', report, '--html', out, ...(trace ? ['--trace', trace] : [])]);
  expect(err).toBe('');
  expect(code).toBe(0);
  return out;
}

/** What a loaded page reports about itself. */
interface Seen {
  charts: Record<string, { type: string; labels: number; datasets: number; drawn: boolean }>;
  /** bars: drawn; runs: the runs they stand for (a bar narrower than a pixel may stand for several). */
  timeline: { bars: number; runs: number; datasets: string[]; drawn: boolean } | null;
  checkRows: string[][];
  guestRows: number;
}

/** Loads `file` in a new tab, collecting console errors, page errors and non-file requests. */
async function load(ctx: BrowserContext, file: string) {
  const page = await ctx.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

/**
 * The page's charts and tables as seen in the DOM and by Chart.js. Browser code, so it is a string:
 * the project compiles without the DOM library.
 */
const INSPECT = `(() => {
  // Read a copy, so the page's own canvases are never read back (Chromium warns after a few).
  const drawn = (c) => {
    const copy = document.createElement('canvas');
    copy.width = c.width;
    copy.height = c.height;
    const ctx = copy.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(c, 0, 0);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  };
  const charts = {};
  for (const c of document.querySelectorAll('canvas[data-chart]')) {
    const ch = Chart.getChart(c);
    charts[c.id] = {
      type: ch ? ch.config.type : 'none',
      labels: ch ? ch.data.labels.length : 0,
      datasets: ch ? ch.data.datasets.length : 0,
      drawn: drawn(c),
    };
  }
  const tl = document.getElementById('timeline');
  const tch = tl ? Chart.getChart(tl) : undefined;
  const runSets = tch ? tch.data.datasets.filter((d) => d.kind === 'run') : [];
  return {
    charts,
    timeline: tch
      ? {
          bars: runSets.reduce((n, d) => n + d.data.length, 0),
          runs: runSets.reduce((n, d) => n + d.data.reduce((m, b) => m + b.n, 0), 0),
          datasets: runSets.map((d) => d.label),
          drawn: drawn(tl),
        }
      : null,
    checkRows: [...document.querySelectorAll('#checks tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    guestRows: document.querySelectorAll('#guests tbody tr').length,
  };
})()`;

/** The x range of the timeline. */
const X_RANGE = `(() => { const x = Chart.getChart(document.getElementById('timeline')).scales.x; return [x.min, x.max]; })()`;

/** Zooms the timeline to its first 40 000 ticks' worth of µs by wheel events at its left edge. */
const ZOOM_TO_FIRST_RUNS = `(() => {
  const c = document.getElementById('timeline');
  const ch = Chart.getChart(c);
  const left = ch.chartArea.left + 1;
  for (let k = 0; k < 60 && ch.scales.x.max - ch.scales.x.min > 40000 / 512; k++)
    c.dispatchEvent(new WheelEvent('wheel', { deltaY: -100, clientX: c.getBoundingClientRect().left + left,
      clientY: c.getBoundingClientRect().top + 20, bubbles: true, cancelable: true }));
  return [ch.scales.x.min, ch.scales.x.max];
})()`;

function inspect(page: Page): Promise<Seen> {
  return page.evaluate<Seen>(INSPECT);
}

describe.runIf(haveChromium)('the report page in headless Chromium', () => {
  let ctx: BrowserContext;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'nestsim-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('shows the timeline, one chart per statistic and the checks, with no console errors', async () => {
    const dir = reportFixture();
    const file = await writePage(join(dir, 'run-report.json'), 'synthetic');
    const { page, errors, requests } = await load(ctx, file);
    const seen = await inspect(page);
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(seen.timeline).toEqual({
      bars: SYNTHETIC_RUNS,
      runs: SYNTHETIC_RUNS,
      datasets: ['alpha', 'beta'],
      drawn: true,
    });
    const ids = REPORT_CHART_IDS;
    expect(Object.keys(seen.charts)).toEqual(ids);
    for (const id of ids) {
      expect(seen.charts[id], id).toMatchObject({ type: 'bar', drawn: true });
      expect(seen.charts[id]!.labels, id).toBeGreaterThan(0);
    }
    expect(seen.charts['chart-vcpu-work']!.labels).toBe(3);
    expect(seen.charts['chart-core-time']).toMatchObject({ labels: 2, datasets: 3 });
    expect(seen.checkRows.map((r) => r.slice(0, 2))).toEqual([
      ['all-exited', 'FAIL'],
      ['no-hcall-errors', 'FAIL'],
      ['no-leaks', 'pass'],
    ]);
    expect(seen.guestRows).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'report-synthetic.png'), fullPage: true });
  });

  it('recolours the timeline by exit reason and zooms with the wheel', async () => {
    const dir = reportFixture();
    const file = await writePage(join(dir, 'run-report.json'), 'zoom');
    const { page, errors } = await load(ctx, file);
    await page.click('#colour-exit');
    const seen = await inspect(page);
    expect(seen.timeline!.datasets.sort()).toEqual(
      [
        'HDEC (L1 time slice)',
        'HDSI (partition-scoped data fault)',
        'hcall',
        'stopped (L0 time slice)',
      ].sort(),
    );
    expect(seen.timeline!.bars).toBe(SYNTHETIC_RUNS);
    const range = () => page.evaluate<number[]>(X_RANGE);
    const [min0, max0] = await range();
    const box = (await page.locator('#timeline').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -300);
    await page.waitForTimeout(100);
    const [min1, max1] = await range();
    expect(max1! - min1!).toBeLessThan(max0! - min0!);
    await page.dblclick('#timeline');
    expect(await range()).toEqual([min0, max0]);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-by-exit.png'), fullPage: true });
  });

  it('draws a long run with about one bar per pixel, and every run again when zoomed in', async () => {
    const dir = reportFixture();
    const trace = join(dir, 'long.json');
    writeChromeTrace(
      trace,
      chromeTrace(interleavedEvents(2, 6000), { clock: 'virtual', cores: 2, guests: SYNTHETIC_GUESTS }),
    );
    const file = await writePage(join(dir, 'run-report.json'), 'long', trace);
    const { page, errors } = await load(ctx, file);
    const all = (await inspect(page)).timeline!;
    // 12 000 runs on a plot about 1000 px wide: merged, none lost, the mixture shown as such.
    expect(all.runs).toBe(12_000);
    expect(all.bars).toBeLessThan(2 * 1500);
    expect(all.datasets).toContain('several (zoom in)');
    // Zoomed in to a few runs' width, each run is its own bar in its guest's colour.
    await page.evaluate(ZOOM_TO_FIRST_RUNS);
    const near = (await inspect(page)).timeline!;
    expect(near.bars).toBe(near.runs);
    expect(near.bars).toBeGreaterThan(4);
    expect(near.datasets.sort()).toEqual(['alpha', 'beta']);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-long.png'), fullPage: false });
  });

  it('shows an older report (no per-vCPU or per-core statistics, no trace) without errors', async () => {
    const file = await writePage(join(FIXTURES, 'exec-report-old.json'), 'old');
    const { page, errors } = await load(ctx, file);
    const seen = await inspect(page);
    expect(errors).toEqual([]);
    expect(seen.timeline).toBeNull();
    expect(Object.keys(seen.charts)).toEqual(['chart-exits', 'chart-hcalls', 'chart-l2-hcalls']);
    for (const c of Object.values(seen.charts)) expect(c.drawn).toBe(true);
    expect(await page.locator('#missing-stats').count()).toBe(1);
    expect(await page.locator('#no-trace').count()).toBe(1);
    expect(seen.checkRows).toEqual([['guest1 ended', 'pass', 'exited, code 0']]);
    await page.screenshot({ path: join(ARTIFACTS, 'report-old.png'), fullPage: true });
  });
});

describe.runIf(!haveChromium && REQUIRE_TOOLS)(`${CHROMIUM} is required`, () => {
  it(`NESTSIM_REQUIRE_TOOLS=1 but ${CHROMIUM} is missing`, () => {
    expect.fail(`${CHROMIUM} not found; install Debian's chromium package (.ci/run does)`);
  });
});

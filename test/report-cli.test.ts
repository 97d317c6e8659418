/**
 * `nestsim report <report.json> --html out.html` without a browser: the page is written, loads
 * nothing from the network, embeds the timeline of the trace the report names (or the one given
 * with --trace) and one chart per statistic; an older report without per-vCPU/per-core statistics
 * or trace still gives a page; a real `nestsim run --json` report is accepted; every kind of bad
 * input is one line and exit code 2. (test/report-html.test.ts renders the page in Chromium.)
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PageData } from '../src/trace/report-page.js';
import { runCli } from './cli-harness.js';
import { FIXTURES, REPORT_CHART_IDS, reportFixture, SYNTHETIC_RUNS } from './fixtures/report/synthetic.js';

/** The data a written page embeds. */
function pageData(html: string): PageData {
  const m = /const NESTSIM_DATA = (.*);<\/script>/.exec(html);
  if (!m) throw new Error('no NESTSIM_DATA in the page');
  return JSON.parse(m[1]!) as PageData;
}

/** The chart ids of a page, and whether each has a canvas. */
function chartIds(html: string): string[] {
  const ids = pageData(html).charts.map((c) => c.id);
  for (const id of ids) expect(html).toContain(`<canvas id="${id}"`);
  return ids;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'nestsim-report-cli-'));

describe('nestsim report --html', () => {
  it('writes a self-contained page with the timeline of the trace the report names', async () => {
    const dir = reportFixture();
    const out = join(dir, 'page.html');
    const r = await runCli(['report', join(dir, 'run-report.json'), '--html', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*page\.html \(.+, timeline of 4 runs\)\n$/);
    const html = readFileSync(out, 'utf8');
    // Nothing is fetched: no external scripts, styles, images or frames.
    expect(html).not.toMatch(/<(script|link|img|iframe)\b[^>]*\b(src|href)=/i);
    expect(html).toContain('<canvas id="timeline"');
    expect(html).toContain('<table id="checks"');
    const data = pageData(html);
    expect(data.timeline!.rows).toEqual(['core 0', 'core 1']);
    expect(data.timeline!.guests.sort()).toEqual(['alpha', 'beta']);
    expect(data.timeline!.runs.length).toBe(SYNTHETIC_RUNS);
    expect(data.timeline!.clock).toBe('virtual');
    // waits (4, one of them of zero length) and an invalidation and its ack
    expect(data.timeline!.others.length).toBe(6);
    expect(chartIds(html)).toEqual(REPORT_CHART_IDS);
    const hcalls = data.charts.find((c) => c.id === 'chart-hcalls')!;
    expect(hcalls.labels).toEqual(['H_GUEST_RUN_VCPU', 'H_RPT_INVALIDATE', 'H_GUEST_DELETE']);
    expect(hcalls.datasets).toEqual([
      { label: 'H_SUCCESS', data: [4, 1, 1] },
      { label: 'H_P2', data: [0, 0, 1] },
    ]);
    expect(html).not.toContain('id="missing-stats"');
  });

  it('takes the trace from --trace, and the report from stdin with -', async () => {
    const dir = reportFixture('wall');
    const other = tmp();
    copyFileSync(join(dir, 'trace.json'), join(other, 'elsewhere.json'));
    const report = readFileSync(join(dir, 'run-report.json'), 'utf8');
    const out = join(other, 'p.html');
    const r = await runCli(['report', '-', '--html', out, '--trace', join(other, 'elsewhere.json')], report);
    expect(r.code).toBe(0);
    expect(pageData(readFileSync(out, 'utf8')).timeline!.clock).toBe('wall');
  });

  it("finds the report's trace next to the report, else in the current folder", async () => {
    const fx = reportFixture();
    const reports = tmp();
    const work = tmp();
    const report = JSON.parse(readFileSync(join(fx, 'run-report.json'), 'utf8')) as { trace: string };
    report.trace = 'out/t.json';
    writeFileSync(join(reports, 'r.json'), JSON.stringify(report));
    // `nestsim run --json --trace out/t.json > reports/r.json` run in `work`: the trace is in work/out.
    mkdirSync(join(work, 'out'));
    copyFileSync(join(fx, 'trace.json'), join(work, 'out', 't.json'));
    const cwd = process.cwd();
    process.chdir(work);
    try {
      const r = await runCli(['report', join(reports, 'r.json'), '--html', join(work, 'p.html')]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('timeline of 4 runs');
      // Next to the report wins when both exist.
      mkdirSync(join(reports, 'out'));
      writeFileSync(join(reports, 'out', 't.json'), '{"traceEvents": []}');
      const r2 = await runCli(['report', join(reports, 'r.json'), '--html', join(work, 'p.html')]);
      expect(r2.out).toContain('timeline of 0 runs');
    } finally {
      process.chdir(cwd);
    }
  });

  it('draws an older report without per-vCPU or per-core statistics, with and without a trace', async () => {
    const dir = tmp();
    const out = join(dir, 'old.html');
    const r = await runCli(['report', join(FIXTURES, 'exec-report-old.json'), '--html', out]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('no trace');
    let html = readFileSync(out, 'utf8');
    expect(chartIds(html)).toEqual(['chart-exits', 'chart-hcalls', 'chart-l2-hcalls']);
    expect(html).toContain('id="missing-stats"');
    expect(html).toContain('id="no-trace"');
    expect(pageData(html).timeline).toBeNull();
    // exec reports have no checks: the table shows how each guest ended
    expect(html).toMatch(/<td>guest1 ended<\/td><td class="pass">pass<\/td>/);

    // With a trace, the per-core charts come from the trace.
    const fx = reportFixture();
    const r2 = await runCli([
      'report',
      join(FIXTURES, 'exec-report-old.json'),
      '--html',
      out,
      '--trace',
      join(fx, 'trace.json'),
    ]);
    expect(r2.code).toBe(0);
    html = readFileSync(out, 'utf8');
    const data = pageData(html);
    expect(chartIds(html)).toEqual([
      'chart-exits',
      'chart-hcalls',
      'chart-l2-hcalls',
      'chart-core-time',
      'chart-core-work',
    ]);
    const work = data.charts.find((c) => c.id === 'chart-core-work')!;
    expect(work.datasets).toEqual([
      { label: 'instructions', data: [2100, 1000] },
      { label: 'runs', data: [2, 2], axis: 'y2' },
    ]);
    expect(work.source).toMatch(/from the trace/);
  });

  it('accepts the report of a real `nestsim run --json`', async () => {
    const dir = tmp();
    const run = await runCli(['run', '--json']);
    expect(run.code).toBe(0);
    writeFileSync(join(dir, 'run.json'), run.out);
    const r = await runCli(['report', join(dir, 'run.json'), '--html', join(dir, 'run.html')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const html = readFileSync(join(dir, 'run.html'), 'utf8');
    expect(chartIds(html)).toEqual(expect.arrayContaining(['chart-exits', 'chart-hcalls']));
    expect(html).toMatch(/<td>all-exited<\/td><td class="pass">pass<\/td>/);
  });
});

describe('nestsim report: bad input is one line and exit code 2', () => {
  const dir = tmp();
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const good = readFileSync(join(FIXTURES, 'run-report.json'), 'utf8');
  const cases: [string, () => string[], RegExp][] = [
    [
      'a missing report',
      () => ['report', join(dir, 'nope.json'), '--html', join(dir, 'o.html')],
      /nope\.json: cannot read the report \(ENOENT\)/,
    ],
    [
      'a report that is not JSON',
      () => ['report', write('bad.json', '{"ok": tru'), '--html', join(dir, 'o.html')],
      /bad\.json: not JSON/,
    ],
    [
      'JSON that is not a nestsim report',
      () => ['report', write('other.json', '{"name": "x"}'), '--html', join(dir, 'o.html')],
      /other\.json: not a nestsim run\/exec report \(ok: /,
    ],
    [
      'a report with a wrong field',
      () => [
        'report',
        write('field.json', good.replace('"instructions": 3100', '"instructions": "many"')),
        '--html',
        join(dir, 'o.html'),
      ],
      /field\.json: not a nestsim run\/exec report \(stats\.instructions: /,
    ],
    [
      'a report naming a missing trace',
      () => ['report', write('notrace.json', good), '--html', join(dir, 'o.html')],
      /trace\.json: cannot read the trace \(ENOENT\)/,
    ],
    [
      'a trace that is not JSON',
      () => [
        'report',
        write('r1.json', good),
        '--html',
        join(dir, 'o.html'),
        '--trace',
        write('t1.json', '[{'),
      ],
      /t1\.json: trace is not JSON/,
    ],
    [
      'a trace that is not a Chrome trace',
      () => [
        'report',
        write('r2.json', good),
        '--html',
        join(dir, 'o.html'),
        '--trace',
        write('t2.json', '{"events": []}'),
      ],
      /t2\.json: not a Chrome trace \(no traceEvents array\)/,
    ],
    [
      'an HTML path that cannot be written',
      () => [
        'report',
        join(FIXTURES, 'exec-report-old.json'),
        '--html',
        join(dir, 'no', 'such', 'dir', 'o.html'),
      ],
      /--html: cannot write .*o\.html \(ENOENT\)/,
    ],
    [
      'no --html',
      () => ['report', join(FIXTURES, 'exec-report-old.json')],
      /Missing required argument: html/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const r = await runCli(args());
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('writes no page when the input is bad', async () => {
    const out = join(dir, 'never.html');
    await runCli(['report', join(dir, 'nope.json'), '--html', out]);
    expect(existsSync(out)).toBe(false);
  });
});

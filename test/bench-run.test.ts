/**
 * One real `nestsim bench --quick` run of every suite, through the built binary (the mem suite
 * starts worker threads, which need the compiled files): the JSON report on stdout equals the
 * --out file and has every field docs/benchmarks.md documents, with the right types, for every
 * metric of every suite (the schema, never the values: no test asserts a speed); the new suites
 * report what issue 9 asks for; progress names each suite on stderr; the --html page is one
 * self-contained document that loads nothing from the network and shows every metric; and the
 * report compares clean against itself while a regression planted into a copy is flagged.
 * Needs `npm run build` first (npm test does it).
 */

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SETTABLE_THREAD_ELEMENTS, THREAD_ELEMENTS } from '../bench/support/l0-caller.js';
import { escapeHtml } from '../src/html/page.js';
import { runCli } from './cli-harness.js';
import { spawnSync } from './support/spawn.js';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'nestsim-bench-run-'));
const OUT = join(dir, 'report.json');
const HTML = join(dir, 'report.html');

/** The suite names: one file per suite in bench/suites/, named after it. */
const SUITES = readdirSync(join(ROOT, 'bench', 'suites'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

type Json = Record<string, unknown>;
let stdout = '';
let stderr = '';
let status: number | null = null;
let doc: Json;
let metrics: Json[];

beforeAll(() => {
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'bin', 'nestsim.js'), 'bench', '--quick', '--json', '--out', OUT, '--html', HTML],
    { encoding: 'utf8', timeout: 120_000 },
  );
  stdout = r.stdout;
  stderr = r.stderr;
  status = r.status;
  doc = JSON.parse(stdout) as Json;
  metrics = doc.metrics as Json[];
}, 130_000);

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

describe('nestsim bench --quick --json (every suite)', () => {
  it('exits 0 and prints the same document it writes to --out', () => {
    expect(status, stderr).toBe(0);
    expect(JSON.parse(readFileSync(OUT, 'utf8'))).toEqual(doc);
  });

  it('describes the machine and the run', () => {
    expect(doc.schema).toBe('nestsim-bench/1');
    const m = doc.machine as Json;
    expect(Object.keys(m).sort()).toEqual(
      ['commit', 'cpu', 'dirty', 'logicalCores', 'memoryBytes', 'node', 'nestsim', 'os'].sort(),
    );
    expect(typeof m.cpu === 'string' && m.cpu.length > 0).toBe(true);
    expect(Number.isSafeInteger(m.logicalCores) && (m.logicalCores as number) >= 1).toBe(true);
    expect(isCount(m.memoryBytes) && (m.memoryBytes as number) > 0).toBe(true);
    expect(m.os).toMatch(/\S/);
    expect(m.node).toBe(process.version);
    expect(m.nestsim).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Json).version);
    expect(m.commit === null || /^[0-9a-f]{40}$/.test(m.commit as string)).toBe(true);
    expect(m.dirty === null || typeof m.dirty === 'boolean').toBe(true);
    const run = doc.run as Json;
    expect(Number.isNaN(Date.parse(run.started as string))).toBe(false);
    expect(isNum(run.seconds)).toBe(true);
    expect(run.quick).toBe(true);
    expect(run.runs).toBeNull();
    expect((run.loadAverage as unknown[]).length).toBe(3);
    expect((run.loadAverage as unknown[]).every(isNum)).toBe(true);
  });

  it('ran every suite of bench/suites/, each reporting metrics', () => {
    const suites = doc.suites as Json[];
    expect(suites.map((s) => s.name)).toEqual(SUITES);
    for (const s of suites) {
      expect(typeof s.describe === 'string' && s.describe.length > 0).toBe(true);
      expect(isNum(s.seconds)).toBe(true);
      expect(metrics.filter((m) => m.suite === s.name).length, `${s.name}`).toBeGreaterThan(0);
    }
  });

  it('gives every metric every documented field, well-formed', () => {
    const seen = new Set<string>();
    for (const m of metrics) {
      const id = `${m.suite}/${m.name}`;
      expect(seen.has(id), `${id} twice`).toBe(false);
      seen.add(id);
      expect(SUITES, id).toContain(m.suite);
      for (const f of ['name', 'unit', 'note']) expect(typeof m[f], `${id}.${f}`).toBe('string');
      expect((m.name as string).length).toBeGreaterThan(0);
      expect((m.note as string).length, `${id} says what and how`).toBeGreaterThan(10);
      expect(['higher', 'lower'], id).toContain(m.better);
      for (const f of ['median', 'p10', 'p90']) expect(isNum(m[f]), `${id}.${f}`).toBe(true);
      expect(m.p10 as number, id).toBeLessThanOrEqual(m.median as number);
      expect(m.median as number, id).toBeLessThanOrEqual(m.p90 as number);
      for (const f of ['runs', 'samples', 'warmup']) expect(isCount(m[f]), `${id}.${f}`).toBe(true);
      expect(m.runs as number, id).toBeGreaterThan(0);
      expect(m.samples as number, id).toBeGreaterThanOrEqual(m.runs as number);
      // A distribution has a p99 and a histogram; a per-run quantity has neither.
      expect('p99' in m, id).toBe('histogram' in m);
      if ('p99' in m) {
        expect(m.p99 as number, id).toBeGreaterThanOrEqual(m.p90 as number);
        const h = m.histogram as { edges: number[]; counts: number[] };
        expect(h.edges.length, id).toBe(h.counts.length + 1);
        for (let k = 1; k < h.edges.length; k++) expect(h.edges[k]!, id).toBeGreaterThan(h.edges[k - 1]!);
        expect(
          h.counts.reduce((a, b) => a + b, 0),
          id,
        ).toBe(m.samples);
      }
      if ('series' in m) {
        const s = m.series as Json;
        expect(Object.keys(s).sort(), id).toEqual(['name', 'x', 'xLabel']);
        expect(typeof s.name === 'string' && typeof s.xLabel === 'string' && isNum(s.x), id).toBe(true);
      }
      const allowed = ['suite', 'name', 'unit', 'better', 'median', 'p10', 'p90', 'p99', 'runs', 'samples'];
      allowed.push('warmup', 'note', 'series', 'histogram');
      for (const k of Object.keys(m)) expect(allowed, `${id} has undocumented field ${k}`).toContain(k);
    }
  });

  it('hcall: every nested-v2 hcall, with GET/SET_STATE as series over 1, 4, 16, 64 and all elements', () => {
    const names = metrics.filter((m) => m.suite === 'hcall').map((m) => m.name as string);
    for (const call of [
      'H_GUEST_GET_CAPABILITIES',
      'H_GUEST_SET_CAPABILITIES',
      'H_GUEST_CREATE',
      'H_GUEST_CREATE_VCPU',
      'H_GUEST_RUN_VCPU',
      'H_GUEST_DELETE',
      'H_RPT_INVALIDATE',
    ])
      expect(
        names.some((n) => n === call || n.startsWith(`${call},`)),
        call,
      ).toBe(true);
    for (const [kind, all] of [
      ['GET', THREAD_ELEMENTS.length],
      ['SET', SETTABLE_THREAD_ELEMENTS.length],
    ] as const) {
      const points = metrics.filter(
        (m) =>
          m.suite === 'hcall' &&
          (m.series as Json | undefined)?.name === `H_GUEST_${kind}_STATE latency vs elements`,
      );
      expect(points.map((p) => (p.series as Json).x)).toEqual([1, 4, 16, 64, all]);
      expect(points.every((p) => 'p99' in p && p.unit === 'µs')).toBe(true);
    }
    for (const series of [
      'H_GUEST_CREATE latency vs guests in use',
      'H_GUEST_CREATE_VCPU latency vs vCPUs in use',
    ]) {
      const points = metrics.filter((m) => (m.series as Json | undefined)?.name === series);
      expect(points.map((p) => (p.series as Json).x)).toEqual([0, 64, 1024]);
    }
  });

  it('exit: exits/s and state hcalls per exit for hcall, HDEC and page-fault exits', () => {
    const exit = metrics.filter((m) => m.suite === 'exit');
    for (const reason of ['hcall (H_CEDE)', 'hcall (NS_SYSCALL getpid)', 'HDEC', 'page fault']) {
      const rate = exit.find((m) => (m.name as string).startsWith(reason) && m.unit === 'exits/s');
      const calls = exit.find((m) => (m.name as string).startsWith(reason) && m.unit === 'hcalls/exit');
      expect(rate?.better, reason).toBe('higher');
      expect(calls?.better, reason).toBe('lower');
    }
  });

  it('lifecycle: guests and vCPUs created and deleted per second, through L1 and raw', () => {
    const names = metrics.filter((m) => m.suite === 'lifecycle').map((m) => m.name as string);
    for (const what of ['guests through L1', 'vCPUs through L1', 'guests, raw hcalls', 'vCPUs, raw hcalls'])
      for (const op of ['created/s', 'deleted/s'])
        expect(
          names.some((n) => n.startsWith(what) && n.endsWith(op)),
          `${what} ${op}`,
        ).toBe(true);
  });

  it('docs/benchmarks.md documents every field of the document', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'benchmarks.md'), 'utf8');
    const keys = new Set<string>();
    const walk = (v: unknown) => {
      if (Array.isArray(v)) for (const x of v.slice(0, 200)) walk(x);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          keys.add(k);
          walk(x);
        }
    };
    walk(doc);
    // Documented as `key`, `parent.key` or `list[]`.
    for (const k of keys) expect(docs, `field ${k}`).toMatch(new RegExp(`\`(\\w+\\.)*${k}(\\[\\])?\``));
  });

  it('shows progress on stderr, naming each suite', () => {
    SUITES.forEach((s, i) => {
      expect(stderr).toContain(`[${i + 1}/${SUITES.length} ${s}]`);
    });
  });
});

describe('nestsim bench --html', () => {
  it('is one self-contained document that loads nothing from elsewhere', () => {
    const html = readFileSync(HTML, 'utf8');
    expect(html.match(/<!doctype html>/gi)).toHaveLength(1);
    expect(html.match(/<\/html>/g)).toHaveLength(1);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    // Every script is inline, there are no stylesheets, frames, images or fetches to fetch.
    for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag).toBe('<script>');
    expect(html).not.toMatch(/<(link|iframe|img|object|embed)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toMatch(/Chart\.js v4/); // the library itself, inlined
  });

  it('shows every metric, and a chart for every suite', () => {
    const html = readFileSync(HTML, 'utf8');
    for (const m of metrics) expect(html, `${m.suite}/${m.name}`).toContain(escapeHtml(m.name as string));
    const data = JSON.parse(/const NESTSIM_DATA = (.*);<\/script>/.exec(html)![1]!) as {
      charts: { id: string }[];
    };
    for (const s of SUITES)
      expect(
        data.charts.some((c) => c.id.startsWith(`c${s}-`)),
        s,
      ).toBe(true);
    for (const c of data.charts) expect(html).toContain(`<canvas id="${c.id}">`);
  });
});

describe('nestsim bench --compare on the real report', () => {
  it('passes against itself and flags a planted regression', async () => {
    const same = await runCli(['bench', '--compare', OUT, OUT]);
    expect(same.code).toBe(0);
    expect(same.out).toMatch(
      new RegExp(`no regression beyond 10\\.0% \\(${metrics.length} metrics compared\\)`),
    );

    const planted = JSON.parse(readFileSync(OUT, 'utf8')) as { metrics: Json[] };
    const victim = planted.metrics.find(
      (m) => m.suite === 'hcall' && m.name === 'H_GUEST_RUN_VCPU, L2 exits at once',
    )!;
    victim.median = (victim.median as number) * 3;
    const worse = join(dir, 'worse.json');
    writeFileSync(worse, JSON.stringify(planted));
    const flagged = await runCli(['bench', '--compare', OUT, worse]);
    expect(flagged.code).toBe(1);
    const line = flagged.out.split('\n').find((l) => l.includes('H_GUEST_RUN_VCPU'))!;
    expect(line).toMatch(/3\.000\s+REGRESSION: 200\.0% worse/);
    expect(flagged.out).toMatch(/1 regression beyond 10\.0%/);
  });
});

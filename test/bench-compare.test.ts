/**
 * `nestsim bench --compare old.json new.json`: an unchanged file passes (exit 0, every metric
 * compared, no regression); a planted regression is flagged in the direction its unit says is
 * worse (a slower latency, fewer MIPS) and makes the exit code 1; improvements and changes inside
 * the threshold are not regressions; the threshold is honoured; metrics present in one file only
 * are named; a different machine is pointed out; --json gives the same verdicts. The reports are
 * built here and written to files, so the command reads them through its schema check.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Comparison } from '../bench/compare.js';
import { betterFor } from '../bench/stats.js';
import { BENCH_SCHEMA, type BenchMetric, type BenchReport } from '../bench/types.js';
import { runCli } from './cli-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'nestsim-bench-compare-'));

function metric(suite: string, name: string, unit: string, median: number): BenchMetric {
  return {
    suite,
    name,
    unit,
    better: betterFor(unit),
    median,
    p10: median * 0.98,
    p90: median * 1.02,
    runs: 5,
    samples: 5,
    warmup: 1,
    note: 'synthetic',
  };
}

const BASE: BenchMetric[] = [
  metric('core', 'integer loop (MIPS)', 'MIPS', 80),
  metric('hcall', 'H_GUEST_RUN_VCPU, L2 exits at once', 'µs', 2),
  metric('exit', 'hcall (H_CEDE) exits/s', 'exits/s', 300_000),
  metric('mem', 'postMessage RTT', 'µs', 60),
  metric('lifecycle', 'guests, raw hcalls: created/s', 'guests/s', 250_000),
];

function report(metrics: BenchMetric[], cpu = 'AMD EPYC'): BenchReport {
  return {
    schema: BENCH_SCHEMA,
    machine: {
      cpu,
      logicalCores: 2,
      memoryBytes: 24 * 2 ** 30,
      os: 'Linux 6.8 (linux x64)',
      node: 'v20.20.2',
      nestsim: '0.1.0',
      commit: '0123456789abcdef0123456789abcdef01234567',
      dirty: false,
    },
    run: {
      started: '2026-01-01T00:00:00.000Z',
      seconds: 10,
      quick: false,
      runs: null,
      loadAverage: [0.1, 0.1, 0.1],
    },
    suites: [...new Set(metrics.map((m) => m.suite))].map((name) => ({ name, describe: name, seconds: 1 })),
    metrics,
  };
}

let files = 0;
function file(r: BenchReport): string {
  const f = join(dir, `r${files++}.json`);
  writeFileSync(f, JSON.stringify(r));
  return f;
}

/** `metrics` with the median of `name` multiplied by `factor` (and its p10/p90 with it). */
function scaled(name: string, factor: number, metrics = BASE): BenchMetric[] {
  return metrics.map((m) =>
    m.name === name ? { ...m, median: m.median * factor, p10: m.p10 * factor, p90: m.p90 * factor } : m,
  );
}

/** The comparison line of metric `name`. */
const lineOf = (out: string, name: string) => out.split('\n').find((l) => l.includes(name)) ?? '';

/** `nestsim bench --compare ...args` in-process. */
function compare(...args: string[]) {
  return runCli(['bench', '--compare', ...args]);
}

describe('nestsim bench --compare', () => {
  const old = file(report(BASE));

  it('passes an unchanged file: every metric compared, none flagged, exit 0', async () => {
    const r = await compare(old, file(report(BASE)));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const m of BASE) expect(lineOf(r.out, m.name)).toMatch(/ 1\.000 /);
    expect(r.out).not.toMatch(/REGRESSION/);
    expect(r.out).toMatch(/no regression beyond 10\.0% \(5 metrics compared\)/);
    expect(r.out).toMatch(/same machine/);
  });

  it('flags a slower latency (lower is better) and exits 1', async () => {
    const r = await compare(old, file(report(scaled('H_GUEST_RUN_VCPU, L2 exits at once', 1.5))));
    expect(r.code).toBe(1);
    expect(lineOf(r.out, 'H_GUEST_RUN_VCPU')).toMatch(/1\.500\s+REGRESSION: 50\.0% worse/);
    expect(r.out.match(/REGRESSION/g)).toHaveLength(1);
    expect(r.out).toMatch(/1 regression beyond 10\.0%/);
  });

  it('flags fewer MIPS and fewer exits/s (higher is better)', async () => {
    const planted = scaled('hcall (H_CEDE) exits/s', 0.6, scaled('integer loop (MIPS)', 0.8));
    const r = await compare(old, file(report(planted)));
    expect(r.code).toBe(1);
    expect(lineOf(r.out, 'integer loop')).toMatch(/REGRESSION: 20\.0% worse/);
    expect(lineOf(r.out, 'H_CEDE')).toMatch(/REGRESSION: 40\.0% worse/);
    expect(r.out).toMatch(/2 regressions beyond 10\.0%/);
  });

  it('does not flag improvements or changes inside the threshold', async () => {
    const better = scaled('postMessage RTT', 0.5, scaled('integer loop (MIPS)', 1.3));
    const within = scaled('guests, raw hcalls: created/s', 0.95, better);
    const r = await compare(old, file(report(within)));
    expect(r.code).toBe(0);
    expect(lineOf(r.out, 'postMessage RTT')).toMatch(/50\.0% better/);
    expect(lineOf(r.out, 'integer loop')).toMatch(/30\.0% better/);
    expect(lineOf(r.out, 'guests, raw hcalls')).toMatch(/0\.950\s*$/);
  });

  it('honours --threshold: a 5% slowdown passes at 10% and fails at 2%', async () => {
    const slower = file(report(scaled('postMessage RTT', 1.05)));
    expect((await compare(old, slower)).code).toBe(0);
    const strict = await compare(old, slower, '--threshold', '2%');
    expect(strict.code).toBe(1);
    expect(lineOf(strict.out, 'postMessage RTT')).toMatch(/REGRESSION: 5\.0% worse/);
    expect(strict.out).toMatch(/threshold 2\.0%/);
  });

  it('names metrics present in only one file, and compares the rest', async () => {
    const fewer = BASE.filter((m) => m.suite !== 'mem');
    const more = [...fewer, metric('tlb', 'invalidation broadcast, 2 cores', 'µs', 5)];
    const r = await compare(old, file(report(more)));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/only in .*r0\.json: mem\/postMessage RTT/);
    expect(r.out).toMatch(/only in .*\.json: tlb\/invalidation broadcast, 2 cores/);
    expect(r.out).toMatch(/4 metrics compared/);
  });

  it('restricts the comparison to the suites named', async () => {
    const halved = file(report(scaled('integer loop (MIPS)', 0.5)));
    expect((await compare(old, halved)).code).toBe(1);
    const { code, out } = await runCli(['bench', 'hcall', 'mem', '--compare', old, halved]);
    expect(code).toBe(0);
    expect(out).not.toMatch(/integer loop/);
    expect(out).toMatch(/2 metrics compared/);
  });

  it('points out a different machine', async () => {
    const r = await compare(old, file(report(BASE, 'IBM POWER10')));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/different machines: cpu "AMD EPYC" → "IBM POWER10"/);
  });

  it('does not compare a metric whose unit changed', async () => {
    const changed = BASE.map((m) =>
      m.name === 'postMessage RTT' ? { ...m, unit: 'ns', median: 60_000 } : m,
    );
    const r = await compare(old, file(report(changed)));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /not compared, unit changed: mem\/postMessage RTT \(µs, lower is better → ns, lower is better\)/,
    );
  });

  it('says which direction is better for each unit', async () => {
    const r = await compare(old, old);
    expect(r.out).toMatch(/higher is better: MIPS, exits\/s, guests\/s; lower is better: µs/);
  });

  it('--json gives the same verdicts as one document', async () => {
    const r = await compare(old, file(report(scaled('H_GUEST_RUN_VCPU, L2 exits at once', 2))), '--json');
    expect(r.code).toBe(1);
    const c = JSON.parse(r.out) as Comparison;
    expect(c.regressions).toBe(1);
    expect(c.threshold).toBe(0.1);
    const row = c.rows.find((x) => x.name === 'H_GUEST_RUN_VCPU, L2 exits at once')!;
    expect(row).toMatchObject({ verdict: 'regression', ratio: 2, better: 'lower', old: 2, new: 4 });
    expect(c.rows.filter((x) => x.verdict === 'same')).toHaveLength(4);
  });
});

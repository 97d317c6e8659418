/**
 * `npm run bench`: runs every suite in bench/suites/ (or those named on the command line) in one
 * process and prints one line per metric; `--json` prints the metrics as a JSON array instead,
 * `--quick` uses tiny configurations.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchMetric, BenchSuite } from './types.js';

async function loadSuites(): Promise<BenchSuite[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { suite?: BenchSuite };
    if (mod.suite) suites.push(mod.suite);
  }
  return suites;
}

function format(m: BenchMetric): string {
  const n = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
  return `${m.suite.padEnd(8)} ${m.name.padEnd(44)} ${n(m.median).padStart(12)} ${m.unit.padEnd(10)} p10 ${n(m.p10)} p90 ${n(m.p90)} (${m.runs} runs)`;
}

async function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const quick = args.includes('--quick');
  const wanted = args.filter((a) => !a.startsWith('--'));
  const all = await loadSuites();
  const unknown = wanted.filter((w) => !all.some((s) => s.name === w));
  if (unknown.length) {
    process.stderr.write(
      `bench: unknown suite ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}\n`,
    );
    process.exit(2);
  }
  const chosen = wanted.length ? all.filter((s) => wanted.includes(s.name)) : all;
  const metrics: BenchMetric[] = [];
  for (const s of chosen) {
    const log = (line: string) => process.stderr.write(`[${s.name}] ${line}\n`);
    log(s.describe);
    const ms = await s.run({ quick, log });
    metrics.push(...ms);
    if (!json) for (const m of ms) process.stdout.write(`${format(m)}\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify(metrics, null, 2)}\n`);
}

await main();

/**
 * `nestsim bench` refuses bad input the way every command does: one line on stderr naming the
 * flag (or file and field) and the reason, nothing on stdout, exit code 2, no stack trace, and
 * before anything is measured. Also: --list names every suite file of bench/suites/.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './cli-harness.js';

function run(args: string[]): Promise<CliRun> {
  return runCli(['bench', ...args]);
}

const dir = mkdtempSync(join(tmpdir(), 'nestsim-bench-cli-'));
const notJson = join(dir, 'not.json');
writeFileSync(notJson, 'this is not { json');
const wrongSchema = join(dir, 'wrong-schema.json');
writeFileSync(wrongSchema, JSON.stringify({ schema: 'something-else/1', metrics: [] }));
const badMetric = join(dir, 'bad-metric.json');
writeFileSync(
  badMetric,
  JSON.stringify({
    schema: 'nestsim-bench/1',
    machine: {
      cpu: 'x',
      logicalCores: 1,
      memoryBytes: 1,
      os: 'x',
      node: 'v20',
      nestsim: '0',
      commit: null,
      dirty: null,
    },
    run: { started: 'now', seconds: 1, quick: true, runs: null, loadAverage: [0, 0, 0] },
    suites: [],
    metrics: [{ suite: 'core', name: 'x', unit: 'MIPS', better: 'sideways' }],
  }),
);

/** Each bad invocation, and the text its one error line must contain. */
const BAD: [string, string[], RegExp][] = [
  ['unknown suite', ['nosuch'], /^nestsim: suite: unknown suite 'nosuch' \(known: .*core.*\)$/],
  ['--runs 0', ['core', '--runs', '0'], /^nestsim: --runs: '0' is not a positive whole number$/],
  ['--runs abc', ['core', '--runs', 'abc'], /^nestsim: --runs: 'abc' is not a positive whole number$/],
  ['--runs 1.5', ['core', '--runs', '1.5'], /^nestsim: --runs: '1.5' is not a positive whole number$/],
  ['--runs too many', ['core', '--runs', '100000'], /^nestsim: --runs: 100000 is more than 10000$/],
  ['--out in a missing directory', ['core', '--out', '/no/such/dir/x.json'], /^nestsim: --out: no directory/],
  [
    '--html in a missing directory',
    ['core', '--html', '/no/such/dir/x.html'],
    /^nestsim: --html: no directory/,
  ],
  ['--out empty', ['core', '--out', ''], /^nestsim: --out: needs a file name$/],
  ['an unknown flag', ['--bogus'], /^nestsim: .*bogus/],
  ['--compare with one file', ['--compare', notJson], /^nestsim: --compare: give two files/],
  [
    '--compare with a missing file',
    ['--compare', join(dir, 'missing.json'), notJson],
    /^nestsim: .*missing\.json: no such file$/,
  ],
  [
    '--compare with a file that is not JSON',
    ['--compare', notJson, notJson],
    /^nestsim: .*not\.json: not JSON/,
  ],
  [
    '--compare with another schema',
    ['--compare', wrongSchema, wrongSchema],
    /^nestsim: .*wrong-schema\.json: schema: not a nestsim bench report/,
  ],
  [
    '--compare with a bad metric field',
    ['--compare', badMetric, badMetric],
    /^nestsim: .*bad-metric\.json: metrics\[0\]\.better: /,
  ],
  [
    '--compare with --quick',
    ['--compare', notJson, notJson, '--quick'],
    /^nestsim: --quick: does not go with --compare/,
  ],
  [
    '--compare with --html',
    ['--compare', notJson, notJson, '--html', 'x.html'],
    /^nestsim: --html: does not go with/,
  ],
  [
    '--threshold abc',
    ['--compare', notJson, notJson, '--threshold', 'abc'],
    /^nestsim: --threshold: 'abc' is not/,
  ],
  [
    '--threshold 0',
    ['--compare', notJson, notJson, '--threshold', '0%'],
    /^nestsim: --threshold: '0%' is not/,
  ],
  [
    '--threshold=-5%',
    ['--compare', notJson, notJson, '--threshold=-5%'],
    /^nestsim: --threshold: '-5%' is not/,
  ],
  [
    '--compare with three files',
    ['--compare', notJson, notJson, notJson],
    /^nestsim: --compare: give two files/,
  ],
];

describe('nestsim bench: bad input', () => {
  it.each(BAD)('%s: one line, exit code 2', async (_what, args, line) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.endsWith('\n')).toBe(true);
    const lines = r.err.trimEnd().split('\n');
    expect(lines, r.err).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(r.err).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  });
});

describe('nestsim bench --list', () => {
  it('names the suite of every file in bench/suites/', async () => {
    const r = await run(['--list']);
    expect(r.code).toBe(0);
    const listed = r.out
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    const files = readdirSync(join(import.meta.dirname, '..', 'bench', 'suites'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    expect(listed).toEqual(files);
    for (const name of ['core', 'mem', 'workloads', 'hcall', 'exit', 'lifecycle'])
      expect(listed).toContain(name);
  });
});

/**
 * Scenarios and `nestsim run`: every kind of mistake gives one clear line naming the file, the
 * field and the reason (exit code 2); the shipped scenarios pass; a failing check gives exit code
 * 1; the JSON report has the documented shape; the built binary runs the default scenario.
 */

import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { runCli } from './cli-harness.js';
import { spawnSync } from './support/spawn.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'nestsim.js');
const dir = mkdtempSync(join(tmpdir(), 'nestsim-scenario-'));

/** Writes a scenario file and returns its path. */
function scenario(name: string, text: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

const GOOD = `name: t
guests:
  - name: g
    program: sort-power9-O2
    expect: { exitCode: 0 }
`;

/** `nestsim ...args` in-process. */
const cli = (...args: string[]) => runCli(args);

describe('scenario validation', () => {
  it.each([
    ['unknown field', `${GOOD}colour: red\n`, /: \(top level\): unknown field 'colour'/],
    [
      'unknown nested field',
      GOOD.replace('program:', 'speed: 3\n    program:'),
      /guests\.0: unknown field 'speed'/,
    ],
    ['wrong type', GOOD.replace('name: t', 'name: t\nseed: "abc"'), /: seed: .*expected number/],
    [
      'bad size',
      GOOD.replace('program:', 'memory: 12 parsecs\n    program:'),
      /guests\.0\.memory: '12 parsecs' is not a size/,
    ],
    [
      'missing program',
      GOOD.replace('sort-power9-O2', 'no-such-guest'),
      /guests\.0\.program: 'no-such-guest' is neither a file nor a shipped guest/,
    ],
    ['missing field', 'name: t\n', /: guests: /],
    ['YAML syntax', 'name: [t\n', /YAML syntax/],
    [
      'bad count',
      GOOD.replace('program:', 'vcpus: -2\n    program:'),
      /guests\.0\.vcpus: '-2' is not a positive whole number/,
    ],
    ['duplicate group', `${GOOD}  - name: g\n    program: sort-power9-O2\n`, /duplicate group name 'g'/],
  ])('%s: one clear line, exit code 2', async (_what, text, msg) => {
    const p = scenario(_what.replaceAll(' ', '-'), text);
    const r = await cli('run', p);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
    expect(r.err).toContain(p);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });

  it('a missing file', async () => {
    const r = await cli('run', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.yaml: cannot read the scenario \(ENOENT\)/);
  });

  // config/stress*.yaml are stress scenarios (test/stress.test.ts loads those).
  it.each(readdirSync(join(ROOT, 'config')).filter((f) => f.endsWith('.yaml') && !f.startsWith('stress')))(
    'shipped %s loads',
    (f) => {
      const s = loadScenario(join(ROOT, 'config', f));
      expect(s.scenario.guests.length).toBeGreaterThan(0);
      expect(s.programs.size).toBe(s.scenario.guests.length);
    },
  );
});

describe('nestsim run', () => {
  it('the default scenario passes every check; --json gives the documented report', async () => {
    const r = await cli('run', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.ok).toBe(true);
    expect(j.scenario.name).toBe('default');
    expect(j.checks.map((c: { name: string }) => c.name)).toEqual([
      'all-exited',
      'exit-codes',
      'stdout',
      'no-hcall-errors',
      'no-leaks',
    ]);
    for (const c of j.checks) expect(c).toEqual({ name: c.name, ok: true, detail: expect.any(String) });
    expect(Object.keys(j.stats)).toEqual(
      expect.arrayContaining(['instructions', 'exits', 'hcalls', 'wallSeconds', 'mips']),
    );
    expect(j.stats.hcalls.H_GUEST_RUN_VCPU.H_SUCCESS).toBeGreaterThan(10);
  });

  it('a failing check gives exit code 1 and says which', async () => {
    const p = scenario('fails', GOOD.replace('exitCode: 0', 'exitCode: 5'));
    const r = await cli('run', p);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FAIL {2}exit-codes +g: 0, expected 5/);
  });

  it('a guest stopped at the instruction limit fails all-exited', async () => {
    const p = scenario('limit', `${GOOD}run: { maxInstructions: 1000 }\n`);
    const r = await cli('run', p, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.checks.find((c: { name: string }) => c.name === 'all-exited').detail).toMatch(
      /instruction limit of 1000/,
    );
  });

  it.each(['smp-workloads.yaml', 'demand-paging.yaml'])('shipped %s passes', async (f) => {
    const r = await cli('run', join(ROOT, 'config', f), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).ok).toBe(true);
  });

  it('the built binary runs the default scenario with no argument', () => {
    const r = spawnSync(process.execPath, [BIN, 'run'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/all checks passed/);
    expect(r.stdout).toMatch(/pass {2}stdout/);
  });
});

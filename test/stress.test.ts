/**
 * `nestsim stress` (src/stress/): every stressor passes alone, briefly, on the multicore runtime
 * and in the deterministic mode; planted bugs (test-only mutants) are each caught by the stressor
 * that guards against them; a failing deterministic run replays exactly from the command it
 * prints; injected faults are caught or handled as the spec says; the watchdog reports a vCPU that
 * makes no progress; the command refuses bad input with one line.
 *
 * The stressors of other files (timer-edges, hcall-fuzz) have tests of their own.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { elementByName } from '../hypervisor/gsb/elements.js';
import type { Mutants } from '../hypervisor/l0/l0.js';
import { LoopTable } from '../hypervisor/l1/loop-table.js';
import { packageRoot } from '../src/package-files.js';
import { readYaml } from '../src/scenario/load.js';
import type { SimulationBase } from '../src/simulation.js';
import { runStress, type StressReport, Watchdog } from '../src/stress/run.js';
import { stressScenarioSchema } from '../src/stress/scenario.js';
import { runCli } from './cli-harness.js';
import { loopSpec } from './support/loop-entries.js';

/** Runs a scenario given as an object (validated like a file). */
async function stress(
  doc: Record<string, unknown>,
  o: { deterministic?: boolean; mutants?: Mutants; mutantFlags?: string[]; duration?: number } = {},
): Promise<StressReport> {
  const scenario = stressScenarioSchema.parse({ name: 't', seed: 4, duration: '20s', ...doc });
  const { report } = await runStress({
    scenario,
    file: 'test.yaml',
    overrides: {
      ...(o.deterministic !== undefined ? { deterministic: o.deterministic } : {}),
      ...(o.duration !== undefined ? { duration: { kind: 'virtual', instructions: o.duration } } : {}),
    },
    hostCores: 2,
    ...(o.mutants ? { mutants: o.mutants } : {}),
    ...(o.mutantFlags ? { mutantFlags: o.mutantFlags } : {}),
  });
  return report;
}

/** Every check of a report, "name: detail" when it failed. */
const failures = (r: StressReport) =>
  [...r.checks, ...r.stressors.flatMap((s) => s.checks)]
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`);

const SMALL: Record<string, Record<string, unknown>> = {
  atomic: { atomic: { guests: 2, vcpus: 3, iterations: 3000 } },
  'tlb-storm': { 'tlb-storm': { vcpus: 3, pages: 6, iterations: 120 } },
  churn: { churn: { guests: 3, vcpus: 2, iterations: 24, deleteAllEvery: 8, trips: 50_000 } },
  'state-races': { 'state-races': { vcpus: 3, probers: 2, iterations: 1500, trips: 5000 } },
  'irq-storm': { 'irq-storm': { guests: 2, vcpus: 2, trips: 20_000 } },
  doorbells: { doorbells: { guests: 2, vcores: 2, rounds: 60 } },
  vpa: { vpa: { guests: 2, vcpus: 2, rounds: 20 } },
};

describe('each stressor passes', () => {
  for (const [name, stressors] of Object.entries(SMALL))
    for (const deterministic of [false, true])
      it(`${name}, ${deterministic ? 'deterministic mode' : '2 cores'}`, async () => {
        const r = await stress({ stressors, cores: 2 }, { deterministic });
        expect(failures(r)).toEqual([]);
        expect(r.ok).toBe(true);
        const s = r.stressors.find((x) => x.name === name)!;
        // It really did something, and checked it.
        expect(s.ops).toBeGreaterThan(0);
        expect(s.checks.reduce((n, c) => n + c.evaluated, 0)).toBeGreaterThan(0);
      });
});

describe('under the v1 API', () => {
  it("the TLB storm passes through L0's shadow tables, and catches a core that ignores invalidations", async () => {
    const ok = await stress({ stressors: SMALL['tlb-storm'], cores: 2, api: 'v1' });
    expect(failures(ok)).toEqual([]);
    const bad = await stress(
      { stressors: SMALL['tlb-storm'], cores: 2, api: 'v1' },
      { mutants: { ignoreInvalidations: true } },
    );
    expect(failures(bad).join('\n')).toMatch(
      /tlb-storm: no (read of a frame a page left|store through a stale translation)/,
    );
  });

  it('doorbell ping-pong passes under v1 (msgsndp/msgclrp arrive as HEAI, DPDES in hv_guest_state)', async () => {
    const r = await stress({ stressors: SMALL.doorbells, cores: 2, api: 'v1' });
    expect(failures(r)).toEqual([]);
    expect(r.stressors[0]!.ops).toBe(2 * 4 * 60);
  });

  it('VPA registration passes under v1 (L1 keeps the dispatch count)', async () => {
    const r = await stress({ stressors: SMALL.vpa, cores: 2, api: 'v1' });
    expect(failures(r)).toEqual([]);
    expect(r.stressors[0]!.ops).toBe(2 * 2 * 20);
  });

  it('the interrupt storm passes under v1 (MER through hv_guest_state, no refreshes)', async () => {
    const r = await stress({ stressors: SMALL['irq-storm'], cores: 2, api: 'v1' });
    expect(failures(r)).toEqual([]);
    expect(r.stressors[0]!.ops).toBeGreaterThan(0);
  });

  it('atomic contention and churn pass under v1 too', async () => {
    const churn = { churn: { guests: 3, vcpus: 2, iterations: 16, trips: 50_000 } };
    const r = await stress({ stressors: { ...SMALL.atomic, ...churn }, cores: 2, api: 'v1' });
    expect(failures(r)).toEqual([]);
  });

  it('state-races (v2-only) is left out with its reason; the others run and pass', async () => {
    const r = await stress({ stressors: { ...SMALL.atomic, ...SMALL['state-races'] }, cores: 2, api: 'v1' });
    expect(failures(r)).toEqual([]);
    expect(r.stressors.map((s) => s.name)).toEqual(['atomic']);
    expect(r.skipped).toEqual([{ name: 'state-races', why: expect.stringMatching(/GET\/SET_STATE/) }]);
  });
});

describe('planted bugs are caught (mutation tests)', () => {
  it('a core that ignores invalidations: the TLB storm sees stale translations', async () => {
    const r = await stress(
      { stressors: SMALL['tlb-storm'], cores: 2 },
      { mutants: { ignoreInvalidations: true } },
    );
    expect(r.ok).toBe(false);
    expect(failures(r).join('\n')).toMatch(
      /tlb-storm: no (read of a frame a page left|store through a stale translation)/,
    );
  });

  it('a stcx. that succeeds without a reservation: atomic contention loses updates', async () => {
    const r = await stress(
      { stressors: SMALL.atomic, cores: 2 },
      { mutants: { stcxWithoutReservation: true } },
    );
    expect(r.ok).toBe(false);
    expect(failures(r).join('\n')).toMatch(/atomic: .*counter exact/);
  });

  it('a SET_STATE that drops an element: the state probers see it', async () => {
    const r = await stress(
      { stressors: SMALL['state-races'], cores: 2 },
      { mutants: { setStateDrops: elementByName('DEXCR')!.id } },
    );
    expect(r.ok).toBe(false);
    expect(failures(r).join('\n')).toMatch(/DEXCR .*lost/);
  });

  it('an L1 that sends its LPCR copy with MER unmasked: the interrupt storm sees the MER flood', async () => {
    const r = await stress({ stressors: SMALL['irq-storm'], cores: 2 }, { mutants: { merUnmasked: true } });
    expect(r.ok).toBe(false);
    const all = failures(r).join('\n');
    expect(all).toMatch(/irq-storm: no spurious interrupt: \d+: .*external interrupts with none pending/);
    // L1 stops a flooded vCPU instead of letting it spin until the run's grace period.
    expect(r.violations.join('\n')).toMatch(/256 external interrupts in a row and nothing else .*flooded/);
    expect(failures(r).join('\n')).not.toMatch(/guests ended by themselves/);
  });

  it('an L1 that never passes MER to L0: the interrupt storm sees every interrupt lost', async () => {
    for (const api of ['v2', 'v1']) {
      const r = await stress(
        { stressors: SMALL['irq-storm'], cores: 2, api },
        { mutants: { merNotPassed: true } },
      );
      expect(r.ok, api).toBe(false);
      expect(failures(r).join('\n'), api).toMatch(
        /irq-storm: no interrupt lost: \d+: .*: 0 of \d+ raised interrupts taken/,
      );
    }
  });

  it('an L1 whose doorbell emulation never sends DPDES: every doorbell is lost (v1 and v2)', async () => {
    for (const api of ['v2', 'v1']) {
      const r = await stress(
        { stressors: SMALL.doorbells, cores: 2, api },
        { mutants: { dpdesNotPassed: true } },
      );
      expect(r.ok, api).toBe(false);
      expect(failures(r).join('\n'), api).toMatch(
        /doorbells: no doorbell lost: \d+: .*received 0 of 60 doorbells, then waited in vain/,
      );
    }
  });

  it('an L1 that forgets a VPA deregistration: the old VPA is still written (v1 and v2)', async () => {
    for (const api of ['v2', 'v1']) {
      const r = await stress(
        { stressors: SMALL.vpa, cores: 2, api },
        { mutants: { vpaKeptAfterDeregister: true } },
      );
      expect(r.ok, api).toBe(false);
      expect(failures(r).join('\n'), api).toMatch(
        /vpa: nothing written after deregistration: \d+: .*written after their deregistration/,
      );
    }
  });

  it('an L0 that drops the VPA element: the dispatch count stops (caught by the same stressor)', async () => {
    const r = await stress(
      { stressors: SMALL.vpa, cores: 2 },
      { mutants: { setStateDrops: elementByName('VPA')!.id } },
    );
    expect(failures(r).join('\n')).toMatch(/vpa: dispatch count kept: \d+: .*odd while running/);
  });

  it('without the mutants the same runs pass (the checks are not simply always failing)', async () => {
    for (const name of ['tlb-storm', 'atomic', 'state-races', 'irq-storm', 'doorbells', 'vpa'])
      expect(failures(await stress({ stressors: SMALL[name], cores: 2 }))).toEqual([]);
  });
});

describe('chaos scheduling', () => {
  /** One stress run: its failed checks, the coordinator's moves, the loops that changed cores. */
  async function moves(chaos: boolean) {
    const scenario = stressScenarioSchema.parse({
      name: 't',
      seed: 4,
      duration: '20s',
      cores: 2,
      chaos,
      stressors: { ...SMALL.atomic, ...SMALL['state-races'] },
    });
    const { report, sim } = await runStress({ scenario, file: 'test.yaml', overrides: {}, hostCores: 2 });
    expect(report.chaos).toBe(chaos);
    const arrivals = sim.coreActivity().reduce((n, c) => n + c.migrationsIn, 0);
    return { failed: failures(report), migrations: sim.migrations, arrivals };
  }

  it('moves vCPUs between cores far more often, and every check still passes', async () => {
    const calm = await moves(false);
    const chaos = await moves(true);
    expect(calm.failed).toEqual([]);
    expect(chaos.failed).toEqual([]);
    expect(calm.migrations).toBeGreaterThan(0);
    // Four moves every slice instead of one every eight slices (about 17× in practice).
    const why = `${chaos.migrations} moves with chaos, ${calm.migrations} without`;
    expect(chaos.migrations, why).toBeGreaterThan(4 * calm.migrations);
    expect(chaos.arrivals, 'loops stepped on a core other than their last').toBeGreaterThan(0);
  });
});

describe('reproduction', () => {
  it('a failing deterministic run replays exactly from its printed length and seed', async () => {
    const flags = ['ignore-invalidations'];
    const first = await stress(
      { stressors: SMALL['tlb-storm'] },
      { deterministic: true, mutants: { ignoreInvalidations: true }, mutantFlags: flags },
    );
    expect(first.ok).toBe(false);
    expect(first.replay).toMatch(/--seed 4 --deterministic --duration \d+ --mutant ignore-invalidations/);
    const length = Number(/--duration (\d+)/.exec(first.replay)![1]);
    const again = await stress(
      { stressors: SMALL['tlb-storm'] },
      { deterministic: true, mutants: { ignoreInvalidations: true }, duration: length },
    );
    expect(failures(again)).toEqual(failures(first));
    expect(again.instructions).toBe(first.instructions);
  });
});

describe('fault injection', () => {
  it('dropped invalidation acks are reported, and the run still ends', async () => {
    const r = await stress({
      // Enough invalidations that some find a vCPU of the guest running on a core, even on a busy
      // host (only those wait for acks).
      stressors: { 'tlb-storm': { vcpus: 2, pages: 4, iterations: 60 } },
      faults: { dropAcks: true },
    });
    expect(r.ok).toBe(false);
    expect(failures(r).join('\n')).toMatch(/no invariant broken/);
    expect(r.violations.join('\n')).toMatch(/did not acknowledge the invalidation/);
  });

  it('late acks and busy CREATE/DELETE are handled as the spec says: everything passes', async () => {
    const r = await stress({
      stressors: { ...SMALL['tlb-storm'], churn: { guests: 2, vcpus: 2, iterations: 12, trips: 50_000 } },
      faults: { delayAcks: 3, createBusy: 2, deleteBusy: 2 },
    });
    expect(failures(r)).toEqual([]);
  });

  it('a core worker that dies is reported and the run ends cleanly', async () => {
    const r = await stress({
      stressors: SMALL.atomic,
      faults: { killCore: { core: 1, afterSteps: 3, how: 'exit' } },
    });
    expect(r.ok).toBe(false);
    expect(failures(r).join('\n')).toMatch(/no core crashed: core 1/);
    expect(r.checks.find((c) => c.name === 'resources back to zero')!.ok).toBe(true);
  });
});

describe('the watchdog', () => {
  it('reports a runnable vCPU whose step count stays put while time goes on, once', () => {
    const loops = LoopTable.create(4);
    const e = loops.add(loopSpec(7, 2));
    let now = 0;
    const sim = {
      l1: { loops },
      get timebase() {
        return now;
      },
    } as unknown as SimulationBase;
    const seen: string[] = [];
    const w = new Watchdog(sim, 1000, (s) => seen.push(s));
    w.look();
    now = 900;
    w.look();
    expect(seen).toEqual([]);
    loops.countStep(e);
    now = 1800;
    w.look(); // it moved: the clock starts again
    now = 2900;
    w.look();
    w.look();
    expect(seen).toEqual(['guest 7 vCPU 2 made no step for 1100 ticks']);
  });
});

describe('shipped stress scenarios', () => {
  it.each(
    readdirSync(join(packageRoot(), 'config')).filter((f) => f.startsWith('stress') && f.endsWith('.yaml')),
  )('%s is a valid stress scenario', (f) => {
    const s = readYaml(join(packageRoot(), 'config', f), stressScenarioSchema, 'stress scenario');
    expect(Object.values(s.stressors).some((v) => v !== undefined)).toBe(true);
  });
});

/** A stress scenario file with these lines under `stressors:`. */
function scenario(stressors: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nestsim-stress-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `name: bad\nstressors:\n  ${stressors}\n`);
  return file;
}

describe('the command', () => {
  // In-process: a spawned child would have to fork this process, whose address space the earlier
  // tests' simulations (lazily backed guest RAM) have made large enough for fork to fail.
  const run = (...args: string[]) => runCli(['stress', ...args]);

  it('the default scenario passes, with operations per second per stressor', async () => {
    const r = await run('--duration', '1s');
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/all checks passed/);
    expect(r.out).toMatch(/atomic +[\d,]+ increments \([\d,]+\/s\), [\d,]+ checks evaluated/);
    expect(r.out).toMatch(/irq-storm +[\d,]+ interrupts/);
    expect(r.out).toMatch(/doorbells +[\d,]+ doorbells/);
    expect(r.out).toMatch(/vpa +[\d,]+ registrations/);
  });

  it('--list names every stressor with its line and defaults, and runs nothing', async () => {
    const r = await run('--list');
    expect(r.code).toBe(0);
    for (const name of [
      'atomic',
      'tlb-storm',
      'churn',
      'state-races',
      'irq-storm',
      'doorbells',
      'vpa',
      'timer-edges',
      'hcall-fuzz',
    ])
      expect(r.out).toMatch(new RegExp(`^${name} +\\S`, 'm'));
    expect(r.out).toMatch(/defaults: \{ guests: 2, vcores: 2, rounds: 200, hdecTicks: 1000 \}/);
    expect(r.out).not.toMatch(/checks evaluated/);
  });

  it.each([
    [['/nonexistent.yaml'], /cannot read the stress scenario/],
    [['--duration', 'soon'], /--duration: 'soon' is not a duration/],
    [['--mutant', 'everything'], /--mutant: 'everything' is not a mutant/],
    [[scenario('churn: { deleteAllEvery: 4 }\n  atomic: {}')], /stressors\.churn: .*run churn alone/],
    [
      [scenario('hcall-fuzz: { deleteAll: true }\n  atomic: {}')],
      /stressors\.hcall-fuzz: .*run hcall-fuzz alone/,
    ],
    [[scenario('state-races: {}'), '--api', 'v1'], /stressors: under --api v1 none of them runs/],
    [[scenario('irq-storm: { irqEvery: 1 }')], /irqEvery.*at least 2/],
  ])('bad input %j: one line, exit code 2', async (args, message) => {
    const r = await run(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

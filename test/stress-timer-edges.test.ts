/**
 * The timer-edges stressor (src/stress/stressors/timer-edges.ts): it passes in the deterministic
 * mode and on 2 cores with its edges really landing on both sides of exits, and each of its checks
 * fails when the bug it guards is planted.
 *
 * Planted bugs: this file mocks three core modules with pass-through wrappers (vi.mock, so only
 * this file's deterministic runs see them; worker threads load dist/ and never do) and a switch
 * turns one broken behaviour on per run:
 * - `early-dec`: the interrupt check sees the time 700 ticks ahead — DEC delivered while positive;
 * - `lost-dec`: at every exit, a pending decrementer (DEC negative) is cancelled — the nestedv2
 *   "cancel pending DEC" bug class (bugs-to-catch §D);
 * - `tb-back`: every exit makes the L2 timebase read 100 ticks lower than before it;
 * - `hdec-early`: runs end with HDEC 400 ticks before the expiry L1 set;
 * - `hdec-ignored`: L0 ignores L1's HDEC expiry (only its own slices end runs).
 * The checks are also driven with crafted counters (`timerChecks`), one field broken at a time.
 *
 * The 2-core run starts worker threads: it needs `npm run build` first (npm test does it).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UserError } from '../src/errors.js';
import type { TimerBlock } from '../src/stress/programs-timer.js';
import { STRESSORS } from '../src/stress/registry.js';
import { runStress } from '../src/stress/run.js';
import { stressScenarioSchema } from '../src/stress/scenario.js';
import {
  type TimerEdgesParams,
  TimerEdgesStressor,
  type TimerGuestResult,
  timerChecks,
} from '../src/stress/stressors/timer-edges.js';

type Bug = 'none' | 'early-dec' | 'lost-dec' | 'tb-back' | 'hdec-early' | 'hdec-ignored';
const plant = vi.hoisted(() => ({ bug: 'none' as Bug, skew: 0 }));

vi.mock('../cores/interrupts.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../cores/interrupts.js')>();
  return {
    ...orig,
    pendingInterrupt: (...a: Parameters<typeof orig.pendingInterrupt>) => {
      if (plant.bug === 'early-dec') a[1] += 700;
      return orig.pendingInterrupt(...a);
    },
  };
});

vi.mock('../cores/interp.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../cores/interp.js')>();
  const { decExpiry } = await import('../cores/timebase.js');
  const { R } = await import('../cores/vcpu.js');
  return {
    ...orig,
    execute: (k: Parameters<typeof orig.execute>[0], budget: number) => {
      if (plant.bug === 'hdec-early' && Number.isFinite(k.hdecExpiry)) k.hdecExpiry -= 400;
      if (plant.bug === 'hdec-ignored') k.hdecExpiry = Number.POSITIVE_INFINITY;
      const end = orig.execute(k, budget);
      if (end === orig.RunEnd.EXIT) {
        const r = k.cpu.r;
        if (plant.bug === 'lost-dec' && k.tb > decExpiry(r)) {
          const far = k.tb + 2 ** 40;
          r[R.DEC_EXPIRY_TB] = Math.floor(far / 2 ** 32);
          r[R.DEC_EXPIRY_TB + 1] = far | 0;
        }
        if (plant.bug === 'tb-back') plant.skew += 100;
      }
      return end;
    },
  };
});

vi.mock('../cores/timebase.js', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../cores/timebase.js')>();
  const { P } = await import('../cores/isa/int64.js');
  return {
    ...orig,
    l2Tb: (c: Parameters<typeof orig.l2Tb>[0]) => {
      orig.l2Tb(c);
      if (plant.skew === 0) return;
      const v = P[2]! * 2 ** 32 + (P[3]! >>> 0) - plant.skew;
      P[2] = Math.floor(v / 2 ** 32);
      P[3] = v | 0;
    },
  };
});

afterEach(() => {
  plant.bug = 'none';
  plant.skew = 0;
  vi.restoreAllMocks();
});

const CHECK = {
  ran: 'timer-edges: guests ran their schedules',
  answered: 'timer-edges: every hcall answered',
  spurious: 'timer-edges: no spurious DEC interrupt',
  lost: 'timer-edges: no lost DEC interrupt',
  tb: 'timer-edges: guest timebase monotonic',
  hdec: 'timer-edges: HDEC slices respected',
} as const;

/** One stress run of the stressor alone; returns the report and the stressor (for its coverage). */
async function stress(o: { deterministic: boolean; seed?: number; params: Partial<TimerEdgesParams> }) {
  const spy = vi.spyOn(STRESSORS['timer-edges']!, 'make');
  const scenario = stressScenarioSchema.parse({
    name: 'timer-edges test',
    seed: o.seed ?? 1,
    deterministic: o.deterministic,
    cores: 2,
    duration: '20s',
    stressors: { 'timer-edges': o.params },
  });
  const { report } = await runStress({ scenario, file: 'test.yaml', overrides: {}, hostCores: 2 });
  const stressor = spy.mock.results[0]!.value as TimerEdgesStressor;
  const checks = new Map(report.stressors[0]!.checks.map((c) => [c.name, c]));
  const failing = [...checks.values()].filter((c) => !c.ok).map((c) => c.name);
  return { report, stressor, checks, failing };
}

describe('timer-edges passes on a correct machine', () => {
  it('in the deterministic mode, with expiries on both sides of exits and HDEC exits among them', async () => {
    const { report, stressor, failing } = await stress({
      deterministic: true,
      params: { guests: 2, vcpus: 2, arms: 120 },
    });
    expect(failing, JSON.stringify(report.stressors[0]!.checks)).toEqual([]);
    expect(report.ok, JSON.stringify(report.checks)).toBe(true);
    expect(report.stressors[0]!.ops).toBe(2 * 2 * 120);
    const c = stressor.coverage();
    expect(c.pendingAcross, 'expiries pending across an exit').toBeGreaterThan(0);
    expect(c.justAfter, 'expiries just after an exit').toBeGreaterThan(0);
    expect(c.afterPlaced, 'exits just after a delivery').toBeGreaterThan(0);
    expect(c.hdecPlaced, 'exits one HDEC slice before an expiry').toBeGreaterThan(0);
    expect(c.hdecExits, 'HDEC exits').toBeGreaterThan(0);
  });

  // Several seeds: a loop that moves A→B→A must find on A what B queued (a stale run input buffer
  // on A once lost or replayed H_CEDE answers, and only for some placements).
  for (const seed of [1, 2, 3, 4])
    it(`on 2 cores (vCPUs moved between them), seed ${seed}`, async () => {
      const { report, stressor, failing } = await stress({
        deterministic: false,
        seed,
        params: { guests: 2, vcpus: 3, arms: 100 },
      });
      expect(report.mode).toBe('multicore');
      expect(report.cores).toBe(2);
      expect(failing, JSON.stringify(report.stressors[0]!.checks)).toEqual([]);
      expect(report.ok, JSON.stringify(report.checks)).toBe(true);
      expect(report.stressors[0]!.ops).toBe(2 * 3 * 100);
      expect(stressor.coverage().hdecExits).toBeGreaterThan(0);
    });
});

describe('each check catches the bug it guards', () => {
  // What fails with each bug: its check, and nothing else (a lost DEC also cuts the schedule short).
  const cases: [Bug, string, string[]][] = [
    ['early-dec', CHECK.spurious, [CHECK.spurious]],
    ['lost-dec', CHECK.lost, [CHECK.ran, CHECK.lost]],
    ['tb-back', CHECK.tb, [CHECK.tb]],
    ['hdec-early', CHECK.hdec, [CHECK.hdec]],
    ['hdec-ignored', CHECK.hdec, [CHECK.hdec]],
  ];
  for (const [bug, check, all] of cases)
    it(`${bug} fails "${check}"`, async () => {
      plant.bug = bug;
      const { report, checks, failing } = await stress({
        deterministic: true,
        params: { guests: 1, vcpus: 2, arms: 60, hdecMin: 1000, hdecMax: 1200 },
      });
      expect(report.ok).toBe(false);
      expect(checks.get(check)!.ok, checks.get(check)!.detail).toBe(false);
      expect(failing).toEqual(all);
      expect(report.replay).toContain('--deterministic');
    });
});

/** A vCPU that did everything right: 2 arms, 1 step, an exit interval of 5000 and one of 3990 ticks. */
function goodBlock(): TimerBlock {
  return {
    t0: 100,
    purrStart: 0,
    delivered: 2,
    armed: 2,
    spurious: 0,
    spuriousDec: 0,
    backwards: 0,
    backFrom: 0,
    backTo: 0,
    badAnswers: 0,
    badR3: 0,
    timeouts: 0,
    timeoutStepsLeft: 0,
    timeoutDec: 0,
    timeoutWhat: '',
    hcalls: 1,
    done: true,
    exits: [
      { purrBefore: 5000, purrAfter: 5010, deliveredBefore: 1, deliveredAfter: 1, dec: -5 },
      { purrBefore: 9000, purrAfter: 9000, deliveredBefore: 2, deliveredAfter: 2, dec: 0 },
    ],
  };
}

/** With a 1000-tick slice the intervals allow 4 + 3 to 5 + 3 HDEC exits. */
function goodGuest(hdecExits = 7, block = goodBlock()): TimerGuestResult {
  return {
    name: 'g',
    end: { kind: 'exited', code: 0 },
    hdecTicks: 1000,
    exits: new Map([
      [0x980, hdecExits],
      [0xc00, 2],
    ]),
    arms: 2,
    steps: [1],
    blocks: [block],
  };
}

const failingOf = (g: TimerGuestResult) =>
  timerChecks([g])
    .filter((c) => !c.ok)
    .map((c) => c.name);

describe('the checks on crafted counters', () => {
  it('pass on a correct outcome, at both ends of the HDEC bounds', () => {
    expect(failingOf(goodGuest(7))).toEqual([]);
    expect(failingOf(goodGuest(8))).toEqual([]);
  });

  it('fail one at a time on the value each guards', () => {
    const b = (f: (x: TimerBlock) => void) => {
      const x = goodBlock();
      f(x);
      return goodGuest(7, x);
    };
    expect(failingOf(b((x) => (x.spurious = 1)))).toEqual([CHECK.spurious]);
    expect(failingOf(b((x) => (x.delivered = 1)))).toEqual([CHECK.lost]);
    expect(failingOf(b((x) => (x.delivered = 3)))).toEqual([CHECK.lost]);
    expect(failingOf(b((x) => (x.timeouts = 1)))).toEqual([CHECK.lost]);
    expect(failingOf(b((x) => (x.backwards = 1)))).toEqual([CHECK.tb]);
    expect(failingOf(goodGuest(9)), 'an HDEC exit before the expiry').toEqual([CHECK.hdec]);
    expect(failingOf(goodGuest(6)), 'a run past the expiry').toEqual([CHECK.hdec]);
    expect(failingOf(b((x) => (x.badAnswers = 1)))).toEqual([CHECK.answered]);
    expect(failingOf({ ...goodGuest(), end: { kind: 'failed', vcpu: 0, report: 'crashed' } })).toEqual([
      CHECK.ran,
    ]);
  });

  it('count handlers that ran next to an exit as time the PURR reads may have missed', () => {
    // A delivery around the first exit: its handler may have run in the second interval before
    // that interval's first PURR read, so the 3990 ticks measured may be 4000 or more.
    expect(failingOf(goodGuest(9))).toEqual([CHECK.hdec]);
    const x = goodBlock();
    x.exits[0]!.deliveredAfter = 2;
    expect(failingOf(goodGuest(9, x))).toEqual([]);
    expect(failingOf(goodGuest(10, x))).toEqual([CHECK.hdec]);
  });
});

describe('parameters', () => {
  it('refuse ranges upside down, naming the field', () => {
    const base = {
      guests: 1,
      vcpus: 1,
      arms: 10,
      gapMin: 100,
      gapMax: 4000,
      hdecMin: 1000,
      hdecMax: 3000,
      window: 40,
    };
    expect(() => new TimerEdgesStressor({ ...base, gapMin: 5000 })).toThrow(UserError);
    expect(() => new TimerEdgesStressor({ ...base, hdecMax: 10 })).toThrow(/hdecMin/);
    expect(() => new TimerEdgesStressor({ ...base, window: 100 })).toThrow(/window/);
  });
});

/**
 * The stressors `nestsim stress` knows, by the name scenarios use: each with the zod schema of its
 * parameters (defaults filled in, so `atomic: {}` is a valid request) and how to make one.
 * A new stressor is a file in src/stress/stressors/ and one entry here.
 */
import { z } from 'zod';
import { count } from '../scenario/schema.js';
import type { Stressor } from './stressor.js';
import { AtomicStressor } from './stressors/atomic.js';
import { ChurnStressor } from './stressors/churn.js';
import { DoorbellsStressor } from './stressors/doorbells.js';
import { HcallFuzzStressor } from './stressors/hcall-fuzz.js';
import { IrqStormStressor } from './stressors/irq-storm.js';
import { StateRacesStressor } from './stressors/state-races.js';
import { TimerEdgesStressor } from './stressors/timer-edges.js';
import { TlbStormStressor } from './stressors/tlb-storm.js';
import { VpaStressor } from './stressors/vpa.js';

/** One entry: the parameters' schema and the factory. */
export interface StressorEntry<P = unknown> {
  /** One line for --help and the docs. */
  describe: string;
  params: z.ZodType<P>;
  /** Makes the stressor; `iterations` (from --iterations) overrides its own count when given. */
  make(p: P, iterations: number | undefined): Stressor;
}

function entry<P>(e: StressorEntry<P>): StressorEntry<unknown> {
  return e as StressorEntry<unknown>;
}

/** Name → stressor. */
export const STRESSORS: Readonly<Record<string, StressorEntry<unknown>>> = {
  atomic: entry({
    describe:
      'vCPUs of several guests on a lwarx/stwcx. spinlock and ldarx/stdcx. counters, one shared across guests',
    params: z.strictObject({
      guests: count.default(2),
      vcpus: count.default(3),
      iterations: count.default(20_000),
    }),
    make: (p, it) => new AtomicStressor({ ...p, iterations: it ?? p.iterations }),
  }),
  'tlb-storm': entry({
    describe:
      'L1 remaps, write-protects and unmaps pages vCPUs on several cores read and write; no stale translation',
    params: z.strictObject({
      vcpus: count.default(3),
      pages: count.default(8),
      rate: count.default(1),
      iterations: count.default(300),
    }),
    make: (p, it) => new TlbStormStressor({ ...p, iterations: it ?? p.iterations }),
  }),
  churn: entry({
    describe:
      'guests with 1..N vCPUs created and deleted continually, often while they run; delete-all; id reuse',
    params: z.strictObject({
      guests: count.default(3),
      vcpus: count.default(3),
      trips: count.default(200_000),
      iterations: count.default(40),
      deleteAllEvery: z.number().int().min(0).default(0),
    }),
    make: (p, it) => new ChurnStressor({ ...p, iterations: it ?? p.iterations }),
  }),
  'state-races': entry({
    describe:
      'GET/SET_STATE of running vCPUs from other L1 vCPUs, full-state refresh storms with interrupts pending',
    params: z.strictObject({
      vcpus: count.default(4),
      probers: count.default(2),
      iterations: count.default(5_000),
      trips: count.default(20_000),
      refreshEvery: count.default(3),
      pendingEvery: count.default(5),
    }),
    make: (p, it) => new StateRacesStressor({ ...p, iterations: it ?? p.iterations }),
  }),
  'irq-storm': entry({
    describe:
      'external interrupts L1 raises for its L2 vCPUs through LPCR[MER], taken with H_XIRR, under full-state refreshes: none lost, none spurious',
    params: z.strictObject({
      guests: count.default(2),
      vcpus: count.default(3),
      trips: count.default(50_000),
      irqEvery: count.refine((n) => n >= 2, 'at least 2 (the L2 must run between two raises)').default(3),
      refreshEvery: z.number().int().min(0).default(2),
      hdecTicks: count.default(1000),
    }),
    make: (p, it) => new IrqStormStressor({ ...p, trips: it ?? p.trips }),
  }),
  doorbells: entry({
    describe:
      'doorbell ping-pong between L2 SMT siblings (msgsndp/msgclrp emulated by L1, delivered through DPDES): sent = received, none lost',
    params: z.strictObject({
      guests: count.default(2),
      vcores: count.default(2),
      rounds: count.default(200),
      hdecTicks: count.default(1000),
    }),
    make: (p, it) => new DoorbellsStressor({ ...p, rounds: it ?? p.rounds }),
  }),
  vpa: entry({
    describe:
      'L2 vCPUs register and deregister their VPA round after round: PAPR answers, dispatch count even while running, nothing written after deregistration',
    params: z.strictObject({
      guests: count.default(2),
      vcpus: count.default(2),
      rounds: count.default(50),
    }),
    make: (p, it) => new VpaStressor({ ...p, rounds: it ?? p.rounds }),
  }),
  'timer-edges': entry({
    describe:
      'DEC expiries placed by the seed on both sides of L2 exits (hcalls, EE off across them, HDEC slices): none spurious, none lost, TB monotonic, slices respected',
    params: z.strictObject({
      guests: count.default(2),
      vcpus: count.default(2),
      arms: count.default(150),
      gapMin: count.default(100),
      gapMax: count.default(4000),
      hdecMin: count.default(1000),
      hdecMax: count.default(3000),
      window: count.default(40),
    }),
    make: (p, it) => new TimerEdgesStressor({ ...p, arms: it ?? p.arms }),
  }),
  'hcall-fuzz': entry({
    describe:
      'random and invalid nested-v2 hcalls from several L1 vCPUs at once: every return code legal, nothing thrown, all deleted',
    params: z.strictObject({
      agents: count.refine((n) => n <= 64, 'at most 64 agents').default(2),
      iterations: count.default(3_000),
      deleteAll: z.boolean().default(false),
    }),
    make: (p, it) => new HcallFuzzStressor({ ...p, iterations: it ?? p.iterations }),
  }),
};

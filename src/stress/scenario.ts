/**
 * The scenario format of `nestsim stress` (docs/stress.md): which stressors, with which
 * parameters, on which machine, for how long, with which faults injected. Validated with zod like
 * the run scenarios; every stressor's parameters have defaults, so `stressors: { atomic: {} }` is
 * a whole scenario.
 */
import { z } from 'zod';
import { count, size } from '../scenario/schema.js';
import { parseDuration } from '../units.js';
import { STRESSORS } from './registry.js';

const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration('', v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^: /, '') });
    return z.NEVER;
  }
});

/** The stressors' parameters, each optional; at least one present. */
const stressors = z
  .strictObject(
    Object.fromEntries(Object.entries(STRESSORS).map(([name, e]) => [name, e.params.optional()])) as Record<
      string,
      z.ZodOptional<z.ZodType<unknown>>
    >,
  )
  .refine((s) => Object.values(s).some((v) => v !== undefined), 'name at least one stressor');

/** Fault injection (docs/stress.md "Fault injection"). */
const faults = z
  .strictObject({
    /** H_GUEST_CREATE answers H_BUSY this many times (with a continue token) before it succeeds. */
    createBusy: z.number().int().min(0).default(0),
    /** H_GUEST_DELETE answers H_BUSY this many times per guest. */
    deleteBusy: z.number().int().min(0).default(0),
    /** Cores never acknowledge invalidations (each one then times out: a violation). */
    dropAcks: z.boolean().default(false),
    /** Cores acknowledge invalidations this many check points late. */
    delayAcks: z.number().int().min(0).default(0),
    /** A core worker dies (thread exit) or throws after this many steps. */
    killCore: z
      .strictObject({
        core: z.number().int().min(0),
        afterSteps: count,
        how: z.enum(['exit', 'throw']).default('exit'),
      })
      .optional(),
  })
  .default({ createBusy: 0, deleteBusy: 0, dropAcks: false, delayAcks: 0 });

export const stressScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  seed: z.number().int().default(1),
  /** Simulated cores; default: the host's. */
  cores: count.optional(),
  deterministic: z.boolean().default(false),
  api: z.enum(['v1', 'v2']).default('v2'),
  l1: z.strictObject({ memory: size.default(1024 ** 3) }).default({ memory: 1024 ** 3 }),
  /** Instructions per H_GUEST_RUN_VCPU before L0 takes the core back (short: more interleaving). */
  slice: count.default(20_000),
  /** How long the stressors act: wall ("5s") or virtual instructions ("2e8"). */
  duration: duration.default({ kind: 'wall', ms: 2000 }),
  /** A vCPU that makes no step for this many timebase ticks is reported stuck. */
  watchdog: count.default(200_000_000),
  chaos: z.boolean().default(false),
  stressors,
  faults,
});

/** A validated stress scenario. */
export type StressScenario = z.output<typeof stressScenarioSchema>;

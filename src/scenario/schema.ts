/**
 * The scenario format of `nestsim run` (docs/scenarios.md), as a zod schema: what the L1 is, the
 * cores, the guest groups, how long to run, the seed, and the checks evaluated at the end. Sizes
 * accept "64MiB"-style strings, counts accept "1e8"; unknown fields are errors.
 */
import { z } from 'zod';
import { parseCount, parseSize } from '../units.js';

/** A size in bytes: a positive integer or a string like "64MiB". */
export const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseSize('', v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^: /, '') });
    return z.NEVER;
  }
});

/** A positive whole number: an integer or a string like "1e8" / "2_000_000". */
export const count = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseCount('', typeof v === 'string' ? Number(v.replaceAll('_', '')) : v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message.replace(/^: /, '') });
    return z.NEVER;
  }
});

/** What a guest group is expected to do, for the checks. */
const expectation = z.strictObject({
  exitCode: z.number().int().min(0).max(255).optional(),
  /** Exact stdout. */
  stdout: z.string().optional(),
  /** File (relative to the scenario) holding the exact stdout. */
  stdoutFile: z.string().optional(),
});

const guestGroup = z.strictObject({
  name: z.string().min(1),
  count: count.default(1),
  vcpus: count.default(1),
  memory: size.default(64 * 1024 * 1024),
  /** A path relative to the scenario file, or the name of a shipped guest (guests/bin, without .elf). */
  program: z.string().min(1),
  paging: z.enum(['eager', 'demand']).default('demand'),
  expect: expectation.optional(),
});

/** The checks a scenario may ask for. */
export const CHECK_NAMES = ['all-exited', 'exit-codes', 'stdout', 'no-hcall-errors', 'no-leaks'] as const;
const check = z.union([z.enum(CHECK_NAMES), z.strictObject({ 'min-instructions': count })]);

export const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  seed: z.number().int().optional(),
  l1: z
    .strictObject({
      memory: size.default(512 * 1024 * 1024),
      vcpus: count.default(1),
      /** The nested API: v2 (H_GUEST_*) or v1 (H_ENTER_NESTED with shadow tables in L0). */
      api: z.enum(['v1', 'v2']).default('v2'),
    })
    .default({ memory: 512 * 1024 * 1024, vcpus: 1, api: 'v2' }),
  /** Simulated cores (worker threads); default: the host's. */
  cores: count.optional(),
  /** Run in the deterministic mode (one thread, seeded interleaving) instead of on cores. */
  deterministic: z.boolean().default(false),
  run: z
    .strictObject({
      /** Stop unfinished guests after this many instructions in all. */
      maxInstructions: count.default(1e10),
      /** Instructions per H_GUEST_RUN_VCPU before L0 takes the core back. */
      slice: count.default(1_000_000),
    })
    .default({ maxInstructions: 1e10, slice: 1_000_000 }),
  guests: z.array(guestGroup).min(1, 'a scenario needs at least one guest group'),
  checks: z.array(check).default(['all-exited', 'exit-codes', 'stdout', 'no-hcall-errors', 'no-leaks']),
});

/** A validated scenario with every default filled in. */
export type Scenario = z.output<typeof scenarioSchema>;
export type GuestGroup = Scenario['guests'][number];
export type Check = Scenario['checks'][number];

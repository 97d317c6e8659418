/**
 * The hcall fuzzer: an L1 vCPU that issues one seeded random hcall per step, with random and
 * mostly invalid arguments (bugs-to-catch.md C and G: every nested-v2 opcode, its neighbours and
 * unknown ones, reserved flag bits, out-of-order and out-of-range vCPU ids, guest ids of its own
 * and others', huge and odd buffer lengths, random and half-valid state buffers), and checks
 * every answer:
 *   - the return code is one the spec allows for that hcall (hypervisor/allowed-codes.ts);
 *   - where the arguments alone decide it (spec §18's check order: reserved flags, an id no guest
 *     can have, a vCPU id over the limit, a buffer over 1 MiB or outside L1 memory, RUN_VCPU
 *     before the buffers or the partition table, …), it is that one;
 *   - nothing throws, and the outputs make sense (exit vectors, guest ids, capability bits,
 *     element indexes).
 * After its calls it deletes every guest it created (retrying H_BUSY) and reports what it holds.
 *
 * A call is a description (FuzzCall) drawn from one distribution that is data (fuzzCallGen): the
 * agent samples it with SplitMix32 and its seed; `nestsim stress --minimize` turns the same tree
 * into fast-check arbitraries to shrink a failing sequence (src/stress/minimize.ts). Descriptions
 * name guests and vCPUs relative to what the agent holds ("its second guest"), so one seed gives
 * the same descriptions whatever runs beside it, and any subsequence is again a sequence.
 *
 * It never disturbs the stressors beside it:
 *   - it creates, changes, runs and deletes only guests it created; other guests it only reads
 *     (GET_STATE), and every other call names either its own guests or ids no guest can have;
 *   - it holds at most MAX_GUESTS guests of MAX_VCPUS vCPUs (L0's vCPU pool is shared);
 *   - its buffers lie in its scratch region or wholly outside L1 memory, and right before each
 *     call every value L0 would take as an L1 address (run buffers, partition table, VPA) is
 *     rewritten to point into the scratch region or outside L1 memory; its guests' partition
 *     tables are zeroed pages of the scratch region, so its L2s fault on their first access;
 *   - delete-all only when the stressor runs alone (`deleteAll`).
 * The v1 hcalls are not fuzzed: they act on L1-wide state (the partition table) and have tests of
 * their own. Limits are DefaultLimits (the stress runs' L0).
 *
 * Invoked from: the agent registry (../index.ts) on a core or in the deterministic mode;
 * src/stress/minimize.ts (replays).
 */
import { SplitMix32 } from '../../../prng.js';
import type { Agent, AgentContext } from '../../agent.js';
import { Step } from '../../vcpu-loop.js';
import { fuzzCallGen } from './calls.js';
import { FuzzExecutor, type IssuedCall } from './executor.js';
import { formatIssued } from './format.js';
import { sample } from './gen.js';
import { FUZZ_SCRATCH_BYTES } from './limits.js';

/** Words of an agent's report slot in L1 memory (AGENT_ARG's address; the stressor reads it). */
export const FuzzSlot = {
  /** Calls made (each one checked). */
  CALLS: 0,
  /** Calls that broke a rule. */
  VIOLATIONS: 1,
  /** Guests and vCPUs it still held at the end (0 after its cleanup). */
  GUESTS_LEFT: 2,
  VCPUS_LEFT: 3,
  /** FuzzPhase. */
  PHASE: 4,
  /** Set by the stressor: stop calling, clean up (the run's duration is over). */
  STOP: 5,
} as const;
/** Bytes of a report slot (slots are this aligned, so AGENT_ARG's low bits carry flags). */
export const FUZZ_SLOT_BYTES = 64;
/** Where an agent is: making calls, deleting its guests, done. */
export const FuzzPhase = { CALLS: 0, CLEANUP: 1, DONE: 2 } as const;
/** Violations an agent reports one by one (the count goes on). */
const REPORTED = 20;

/**
 * AGENT_ARG of an hcall-fuzz agent: its report slot's address (0: none), the delete-all switch,
 * and whether other agents with delete-all run beside it.
 */
export function fuzzArg(slot: number, deleteAll: boolean, shared: boolean): number {
  if (slot % FUZZ_SLOT_BYTES !== 0 || slot < 0 || slot >= 2 ** 32)
    throw new RangeError(`report slot 0x${slot.toString(16)}`);
  return slot | (deleteAll ? 1 : 0) | (shared ? 2 : 0) | 0;
}

/** The hcall-fuzz agent (AgentKind.HCALL_FUZZ). */
export function hcallFuzz(ctx: AgentContext): Agent {
  const deleteAll = (ctx.arg & 1) !== 0;
  const shared = (ctx.arg & 2) !== 0;
  const slot = (ctx.arg >>> 0) - (ctx.arg & (FUZZ_SLOT_BYTES - 1));
  const words = ctx.ram.i32;
  const put = (w: number, v: number) => {
    if (slot !== 0) Atomics.store(words, slot / 4 + w, v);
  };
  if (ctx.scratchBytes < FUZZ_SCRATCH_BYTES) {
    ctx.violation(`hcall-fuzz: ${ctx.scratchBytes} bytes of scratch, it needs ${FUZZ_SCRATCH_BYTES}`);
    put(FuzzSlot.PHASE, FuzzPhase.DONE);
    return { step: () => Step.DONE };
  }
  const rng = new SplitMix32(ctx.seed);
  const gen = fuzzCallGen(deleteAll);
  const ex = new FuzzExecutor({ port: ctx.port, ram: ctx.ram, scratch: ctx.scratch, deleteAll, shared });
  let calls = 0;
  let violations = 0;
  let phase: number = FuzzPhase.CALLS;
  const count = (c: IssuedCall) => {
    calls++;
    put(FuzzSlot.CALLS, calls);
    if (!c.problem) return;
    violations++;
    put(FuzzSlot.VIOLATIONS, violations);
    if (violations <= REPORTED)
      ctx.violation(`hcall-fuzz agent (seed ${ctx.seed}) call ${calls}: ${formatIssued(c)}`);
  };
  return {
    step(core: number) {
      if (phase === FuzzPhase.CALLS) {
        const stop = slot !== 0 && Atomics.load(words, slot / 4 + FuzzSlot.STOP) !== 0;
        if (calls < ctx.iterations && !stop) {
          count(ex.call(sample(gen, rng), core));
          return Step.RUN;
        }
        phase = FuzzPhase.CLEANUP;
        put(FuzzSlot.PHASE, phase);
      }
      if (phase === FuzzPhase.CLEANUP) {
        const c = ex.cleanup(core);
        if (c) {
          count(c);
          return Step.RUN;
        }
        phase = FuzzPhase.DONE;
        put(FuzzSlot.GUESTS_LEFT, ex.guests.length);
        put(FuzzSlot.VCPUS_LEFT, ex.vcpus);
        put(FuzzSlot.PHASE, phase);
      }
      return Step.DONE;
    },
  };
}

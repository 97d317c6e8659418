/**
 * `nestsim stress --minimize`: after a failing run, finds for each hcall-fuzz agent the shortest
 * sequence of calls it can that still breaks a rule, and prints it as calls L0 saw.
 *
 * How: an agent's calls are a function of its seed alone (hypervisor/l1/agents/hcall-fuzz/calls.ts), so
 * its sequence is regenerated and replayed alone, in the deterministic mode on one thread, against
 * a fresh L0 configured as the run's (limits, faults, mutants) under a fresh L1 (which negotiates
 * capabilities as in the run). If the replay breaks a rule, the calls up to that one become the
 * example of a fast-check property over `fc.array` of call descriptions whose arbitrary is built
 * from the agent's own distribution (so every shrunk value is a sequence the agent could make),
 * and fast-check shrinks it: shorter sequences, simpler calls, as long as the same rule breaks on
 * the same hcall. The result is replayed once more as raw calls (registers and buffer bytes) to
 * confirm that the printed calls, made on a fresh L0, give the same answers.
 *
 * A failure that needs the other agents or stressors beside it (a race) does not reproduce alone;
 * the output says so, and the run's replay command (--deterministic) is the way to it.
 *
 * Invoked from: src/commands/stress.ts (after a failing run), tests.
 */
import fc from 'fast-check';
import { L0, type L0Config } from '../../hypervisor/l0/l0.js';
import { Hdr } from '../../hypervisor/l0/partitions.js';
import { HcallRegs } from '../../hypervisor/l0/regs.js';
import { type FuzzCall, fuzzCallGen, fuzzCalls } from '../../hypervisor/l1/agents/hcall-fuzz/calls.js';
import { FuzzExecutor, type IssuedCall } from '../../hypervisor/l1/agents/hcall-fuzz/executor.js';
import { formatCall, formatIssued } from '../../hypervisor/l1/agents/hcall-fuzz/format.js';
import type { GenNode } from '../../hypervisor/l1/agents/hcall-fuzz/gen.js';
import { FUZZ_SCRATCH_BYTES } from '../../hypervisor/l1/agents/hcall-fuzz/limits.js';
import { L1 } from '../../hypervisor/l1/l1.js';
import type { NestedApi } from '../../hypervisor/l1/loop-table.js';
import type { L0Port } from '../../hypervisor/l1/vcpu-loop.js';
import { GuestRam } from '../../mem/ram.js';
import type { SimulationBase } from '../simulation.js';
import { type FuzzPlan, fuzzPlansOf } from './stressors/hcall-fuzz.js';

/** L1 memory of a replay: the run's size does not matter (calls name the scratch region or outside it). */
export const REPLAY_RAM_BYTES = 4 << 20;
/** Where the replay's L1 hands out memory from (as in a run: the first MiB is L1's own). */
const L1_BASE = 0x10_0000;
/** How long fast-check may shrink one sequence (the best sequence so far is kept). */
const SHRINK_MS = 30_000;

/** The machine a replay runs on (the run's L0 configuration and API). */
export interface ReplayMachine {
  l0: L0Config;
  api: NestedApi;
}

/** The first rule a replay broke. */
export interface ReplayFailure {
  /** Index in the issued calls. */
  index: number;
  rule: string;
  opcode: bigint;
}

/** What one replay did. */
export interface Replay {
  issued: IssuedCall[];
  failure: ReplayFailure | undefined;
  /** Where the agent's scratch region was (the same in every replay on the same machine). */
  scratch: number;
}

/**
 * L1 memory of replays, reused: allocating it for each of a few hundred replays made them up to
 * 30 times slower (16 MiB each; the GC of external memory), and a replay reads only memory its L1
 * hands out, which the page allocator zeroes first, so a reused RAM is as good as a fresh one.
 */
let replayRam: GuestRam | undefined;

/** A fresh L0 configured as the run's, an L1 on it (capabilities negotiated), the agent's scratch. */
function freshMachine(m: ReplayMachine): { l0: L0; port: L0Port; ram: GuestRam; scratch: number } {
  replayRam ??= GuestRam.create(REPLAY_RAM_BYTES);
  const ram = replayRam;
  const l0 = new L0({ ...m.l0, l1MemoryBytes: REPLAY_RAM_BYTES }, ram);
  const port: L0Port = { hcall: (r, core) => l0.hcall(r, core), timebase: (core) => l0.seat(core).core.tb };
  const l1 = new L1(port, ram, l0.codeGen, { base: L1_BASE, bytes: REPLAY_RAM_BYTES - L1_BASE }, 4, m.api);
  return { l0, port, ram, scratch: l1.pages.alloc(FUZZ_SCRATCH_BYTES) };
}

/**
 * Makes `calls` as one agent alone would, then its cleanup (every guest it holds deleted), and
 * checks that L0 holds nothing afterwards. Stops at the first broken rule.
 */
export function replayCalls(calls: readonly FuzzCall[], m: ReplayMachine, deleteAll: boolean): Replay {
  const { l0, port, ram, scratch } = freshMachine(m);
  // Alone: no other agent deletes its guests, so every expectation holds.
  const ex = new FuzzExecutor({ port, ram, scratch, deleteAll, shared: false });
  const issued: IssuedCall[] = [];
  const failed = (c: IssuedCall): Replay | undefined => {
    issued.push(c);
    if (!c.problem) return undefined;
    return { issued, scratch, failure: { index: issued.length - 1, rule: c.problem.rule, opcode: c.opcode } };
  };
  for (const c of calls) {
    const f = failed(ex.call(c, 0));
    if (f) return f;
  }
  for (let c = ex.cleanup(0); c; c = ex.cleanup(0)) {
    const f = failed(c);
    if (f) return f;
  }
  const w = l0.parts.w;
  const guests = w[Hdr.ACTIVE_GUESTS]!;
  const vcpus = w[Hdr.ACTIVE_VCPUS]!;
  if (guests !== 0 || vcpus !== 0) {
    const last = issued[issued.length - 1];
    if (last) {
      last.problem = {
        rule: 'leak',
        what: `after the agent deleted its guests L0 still holds ${guests} guests and ${vcpus} vCPU slots`,
      };
      return { issued, scratch, failure: { index: issued.length - 1, rule: 'leak', opcode: last.opcode } };
    }
  }
  return { issued, scratch, failure: undefined };
}

/**
 * Makes issued calls again exactly (buffer bytes written, registers set) on a fresh machine and
 * returns the return codes: what `nestsim stress --minimize` prints, replayed without the agent.
 */
export function replayIssued(calls: readonly IssuedCall[], m: ReplayMachine): number[] {
  const { port, ram } = freshMachine(m);
  const r = new HcallRegs();
  return calls.map((c) => {
    for (const w of c.writes) ram.u8.set(w.bytes, w.addr);
    r.clear();
    r.setBig(3, c.opcode);
    c.args.forEach((a, i) => {
      r.setBig(4 + i, a);
    });
    try {
      return port.hcall(r, 0);
    } catch {
      return Number.NaN;
    }
  });
}

const arbitraries = new WeakMap<GenNode, fc.Arbitrary<unknown>>();

/** The fast-check arbitrary of a generator tree: the same values, and fast-check's shrinking. */
export function toArbitrary(n: GenNode): fc.Arbitrary<unknown> {
  const have = arbitraries.get(n);
  if (have) return have;
  let a: fc.Arbitrary<unknown>;
  switch (n.g) {
    case 'const':
      a = fc.constant(n.v);
      break;
    case 'int':
      a = fc.integer({ min: n.min, max: n.max });
      break;
    case 'big':
      a = fc.bigInt({ min: n.min, max: n.max });
      break;
    case 'pick':
      a = fc.constantFrom(...n.of);
      break;
    case 'one':
      a = fc.oneof(...n.of.map(([weight, g]) => ({ weight, arbitrary: toArbitrary(g) })));
      break;
    case 'rec':
      a = fc.record(Object.fromEntries(Object.entries(n.of).map(([k, g]) => [k, toArbitrary(g)])));
      break;
    case 'arr':
      a = fc.array(toArbitrary(n.of), { maxLength: n.max });
      break;
    case 'tuple':
      a = fc.tuple(...n.of.map(toArbitrary));
      break;
  }
  arbitraries.set(n, a);
  return a;
}

/**
 * fast-check's shrinking of `example` (a failing sequence) over arrays of `item`: the smallest
 * sequence it finds that still `breaks`, by `deadline`.
 */
function shrink<T>(
  item: fc.Arbitrary<T>,
  example: readonly T[],
  breaks: (seq: T[]) => boolean,
  seed: number,
  deadline: number,
): { smallest: T[]; shrinks: number } {
  const result = fc.check(
    fc.property(fc.array(item, { maxLength: example.length }), (seq) => !breaks(seq)),
    {
      examples: [[[...example]]],
      numRuns: 1,
      seed,
      interruptAfterTimeLimit: Math.max(1, deadline - Date.now()),
    },
  );
  const found = result.failed && result.counterexample ? result.counterexample[0] : undefined;
  return { smallest: found ?? [...example], shrinks: result.numShrinks };
}

/** One agent's minimal failing sequence. */
export interface Minimized {
  plan: FuzzPlan;
  /** Calls of the regenerated sequence up to the one that broke the rule. */
  failedAt: number;
  rule: string;
  /** Shrink steps fast-check took. */
  shrinks: number;
  /** The minimal sequence as L0 saw it; the last call broke the rule. */
  calls: IssuedCall[];
  /** The printed calls made again on a fresh L0 gave the same answers. */
  confirmed: boolean;
  /** Where the scratch region was (the calls' buffer addresses). */
  scratch: number;
}

/** What --minimize found. */
export interface MinimizeReport {
  minimized: Minimized[];
  /** One line per agent whose failure did not reproduce alone, or why nothing was done. */
  notes: string[];
}

/** Shrinks the failing sequence of every hcall-fuzz agent of the run `sim` (see the header). */
export function minimizeFuzz(sim: SimulationBase, timeLimitMs = SHRINK_MS): MinimizeReport {
  const plans = fuzzPlansOf(sim);
  if (plans.length === 0) return { minimized: [], notes: ['--minimize: the run had no hcall-fuzz agent'] };
  const machine: ReplayMachine = { l0: sim.l0.config, api: sim.l1.api };
  const out: MinimizeReport = { minimized: [], notes: [] };
  for (const plan of plans) {
    const m = minimizeOne(plan, machine, timeLimitMs);
    if (typeof m === 'string') out.notes.push(m);
    else out.minimized.push(m);
  }
  return out;
}

/** One agent: its minimal failing sequence, or why there is none. */
export function minimizeOne(
  plan: FuzzPlan,
  machine: ReplayMachine,
  timeLimitMs = SHRINK_MS,
): Minimized | string {
  const calls = fuzzCalls(plan.seed, plan.iterations, plan.deleteAll);
  const first = replayCalls(calls, machine, plan.deleteAll);
  if (!first.failure)
    return `${plan.name} (seed ${plan.seed}): its ${calls.length} calls break no rule when replayed alone; the failure needs what ran beside it (replay the run with --deterministic)`;
  const target = first.failure;
  const prefix = calls.slice(0, Math.min(calls.length, target.index + 1));
  const breaks = (seq: readonly FuzzCall[]) => {
    const f = replayCalls(seq, machine, plan.deleteAll).failure;
    return f !== undefined && f.rule === target.rule && f.opcode === target.opcode;
  };
  // fast-check's shrinking in passes. Dropping calls first, with elements that cannot shrink: whole
  // chunks of calls (16, then 4 times smaller), down to single calls; one candidate costs one
  // replay, and big chunks make a long prefix short fast (one pass over the 966 single calls of a
  // prefix took 23 s). Then simplifying the calls left with the agent's own arbitrary, and
  // dropping again while that makes the sequence shorter.
  const deadline = Date.now() + timeLimitMs;
  const gen = toArbitrary(fuzzCallGen(plan.deleteAll)) as fc.Arbitrary<FuzzCall>;
  let smallest: readonly FuzzCall[] = prefix;
  let shrinks = 0;
  const drop = (size: number) => {
    const chunks: FuzzCall[][] = [];
    for (let i = 0; i < smallest.length; i += size) chunks.push(smallest.slice(i, i + size));
    const r = shrink(
      fc.noShrink(fc.constantFrom(...chunks)),
      chunks,
      (cs) => breaks(cs.flat()),
      plan.seed,
      deadline,
    );
    smallest = r.smallest.flat();
    shrinks += r.shrinks;
  };
  for (let size = Math.ceil(smallest.length / 16); size > 1; size = Math.ceil(size / 4)) drop(size);
  for (let before = Number.POSITIVE_INFINITY; smallest.length < before && Date.now() < deadline; ) {
    before = smallest.length;
    drop(1);
    const simplify = shrink(gen, smallest, breaks, plan.seed, deadline);
    smallest = simplify.smallest;
    shrinks += simplify.shrinks;
  }
  const final = replayCalls(smallest, machine, plan.deleteAll);
  const issued = final.failure ? final.issued.slice(0, final.failure.index + 1) : final.issued;
  const again = replayIssued(issued, machine);
  return {
    plan,
    failedAt: target.index + 1,
    rule: target.rule,
    shrinks,
    calls: issued,
    confirmed: again.every((rc, i) => Object.is(rc, issued[i]!.rc)),
    scratch: final.scratch,
  };
}

/** The report as text: per agent, the minimal sequence one call a line. */
export function formatMinimized(r: MinimizeReport): string {
  const lines: string[] = [];
  for (const m of r.minimized) {
    lines.push(
      `minimized ${m.plan.name} (seed ${m.plan.seed}): call ${m.failedAt} of its sequence broke a rule when replayed alone; fast-check shrank it (${m.shrinks} steps) to ${m.calls.length} call${m.calls.length === 1 ? '' : 's'}:`,
    );
    m.calls.forEach((c, i) => {
      lines.push(`  ${String(i + 1).padStart(3)}  ${formatIssued(c, 64)}`);
    });
    lines.push(
      `  (fresh L0 and L1 as in the run, ${REPLAY_RAM_BYTES >> 20} MiB of L1 memory, the agent's scratch at 0x${m.scratch.toString(16)}; ` +
        `${m.confirmed ? 'made again call by call, these calls give the same answers' : 'WARNING: made again call by call, these calls answered differently'})`,
    );
  }
  lines.push(...r.notes);
  return `${lines.join('\n')}\n`;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** The report as plain JSON (numbers as hex strings where they are 64-bit, buffers as hex). */
export function minimizedJson(r: MinimizeReport): object {
  return {
    minimized: r.minimized.map((m) => ({
      agent: m.plan.name,
      seed: m.plan.seed,
      failedAt: m.failedAt,
      rule: m.rule,
      shrinks: m.shrinks,
      confirmed: m.confirmed,
      scratch: hex(m.scratch),
      calls: m.calls.map((c) => ({
        call: formatCall(c),
        opcode: hex(c.opcode),
        args: c.args.map(hex),
        writes: c.writes.map((w) => ({ addr: hex(w.addr), bytes: Buffer.from(w.bytes).toString('hex') })),
        rc: c.rc,
        r4: hex(c.r4),
        ...(c.problem ? { problem: c.problem.what } : {}),
      })),
    })),
    notes: r.notes,
  };
}

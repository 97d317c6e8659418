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
 * Invoked from: the agent registry (./index.ts) on a core or in the deterministic mode;
 * src/stress/minimize.ts (replays).
 */

import type { GuestRam } from '../../../mem/ram.js';
import { allowedCodes } from '../../allowed-codes.js';
import { forEachElement } from '../../gsb/codec.js';
import { ELEMENTS, elementById } from '../../gsb/elements.js';
import { HcallRegs } from '../../l0/regs.js';
import {
  CAP_MODES,
  Cap,
  DefaultLimits,
  EXIT_VECTORS,
  H,
  Hcall,
  hcallName,
  ibmBit,
  LogicalPvr,
  returnCodeName,
} from '../../papr.js';
import { SplitMix32 } from '../../prng.js';
import type { Agent, AgentContext } from '../agent.js';
import { type L0Port, Step } from '../vcpu-loop.js';

// ---------------------------------------------------------------------------------------------
// Memory layout and limits

/** Bytes of scratch an agent needs: buffers, then the zeroed root directories of its guests. */
export const FUZZ_SCRATCH_BYTES = 64 << 10;
/** Buffers and its vCPUs' run buffers lie in [0, BUFFER_ZONE) of the scratch region. */
const BUFFER_ZONE = 48 << 10;
/** [BUFFER_ZONE, FUZZ_SCRATCH_BYTES): partition-table root directories, never written. */
const TABLE_ZONE = FUZZ_SCRATCH_BYTES - BUFFER_ZONE;
/** Guests, and vCPUs per guest, an agent holds at most. */
const MAX_GUESTS = 3;
const MAX_VCPUS = 3;
/** DELETE answers H_BUSY at most this many times per guest in the cleanup before it gives up. */
const CLEANUP_TRIES = 1000;

/** Elements whose values L0 takes as L1 addresses (the agent rewrites them to safe ones). */
const RUN_INPUT = 0x0c00;
const RUN_OUTPUT = 0x0c01;
const VPA = 0x0c02;
const PARTITION_TABLE = 0x0005;

// ---------------------------------------------------------------------------------------------
// Generators as data

/** A generator described as data: the agent samples it, the minimizer makes arbitraries of it. */
export type GenNode =
  | { readonly g: 'const'; readonly v: unknown }
  | { readonly g: 'int'; readonly min: number; readonly max: number }
  | { readonly g: 'big'; readonly min: bigint; readonly max: bigint }
  | { readonly g: 'pick'; readonly of: readonly unknown[] }
  | { readonly g: 'one'; readonly of: readonly (readonly [number, GenNode])[] }
  | { readonly g: 'rec'; readonly of: Readonly<Record<string, GenNode>> }
  | { readonly g: 'arr'; readonly of: GenNode; readonly max: number }
  | { readonly g: 'tuple'; readonly of: readonly GenNode[] };

/** A GenNode whose values have type T. */
export type Gen<T> = GenNode & { readonly __values?: T };

const constant = <const T>(v: T): Gen<T> => ({ g: 'const', v });
const int = (min: number, max: number): Gen<number> => ({ g: 'int', min, max });
const big = (min: bigint, max: bigint): Gen<bigint> => ({ g: 'big', min, max });
const pick = <const T>(...of: T[]): Gen<T> => ({ g: 'pick', of });
/** One of the alternatives, with weights. */
const one = <T>(...of: (readonly [number, Gen<T>])[]): Gen<T> => ({ g: 'one', of });
const rec = <T extends object>(of: { [K in keyof T]-?: Gen<T[K]> }): Gen<T> => ({
  g: 'rec',
  of: of as Record<string, GenNode>,
});
const arr = <T>(of: Gen<T>, max: number): Gen<T[]> => ({ g: 'arr', of, max });
const tuple = <T>(...of: Gen<T>[]): Gen<T[]> => ({ g: 'tuple', of });
/** A record whose `k` is `tag` (the descriptions' discriminated unions). */
const tagged = <const K extends string, T extends object = Record<never, never>>(
  tag: K,
  of: { [F in keyof T]-?: Gen<T[F]> } = {} as { [F in keyof T]-?: Gen<T[F]> },
): Gen<{ k: K } & T> => ({ g: 'rec', of: { k: constant(tag), ...(of as Record<string, GenNode>) } });

/** A value of `gen`, drawn with `rng`. */
export function sample<T>(gen: Gen<T>, rng: SplitMix32): T {
  return sampleNode(gen, rng) as T;
}

function sampleNode(n: GenNode, rng: SplitMix32): unknown {
  switch (n.g) {
    case 'const':
      return n.v;
    case 'int':
      return n.min + rng.below(n.max - n.min + 1);
    case 'big': {
      const span = n.max - n.min + 1n;
      if (span <= 0x1_0000_0000n) return n.min + BigInt(rng.below(Number(span)));
      return n.min + (((BigInt(rng.next()) << 32n) | BigInt(rng.next())) % span);
    }
    case 'pick':
      return n.of[rng.below(n.of.length)];
    case 'one': {
      let total = 0;
      for (const [w] of n.of) total += w;
      let x = rng.below(total);
      for (const [w, g] of n.of) {
        if (x < w) return sampleNode(g, rng);
        x -= w;
      }
      return sampleNode(n.of[n.of.length - 1]![1], rng);
    }
    case 'rec': {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(n.of)) o[k] = sampleNode(n.of[k]!, rng);
      return o;
    }
    case 'arr': {
      const len = rng.below(n.max + 1);
      const a: unknown[] = [];
      for (let i = 0; i < len; i++) a.push(sampleNode(n.of, rng));
      return a;
    }
    case 'tuple':
      return n.of.map((g) => sampleNode(g, rng));
  }
}

// ---------------------------------------------------------------------------------------------
// Call descriptions

/** A guest a call names: one of the agent's (by index, newest first), an id no guest can have, or anyone's (reads). */
export type GuestRef = { k: 'own'; n: number } | { k: 'nobody'; id: bigint } | { k: 'anyone'; id: number };
/** A vCPU: one the agent created in the named guest (by index, newest first), or a literal id. */
export type VcpuRef = { k: 'own'; n: number } | { k: 'id'; id: bigint };
/** An element's value: one the agent makes legal for the element (from `n`), or raw words. */
export type ValueDesc = { k: 'valid'; n: number } | { k: 'words'; w: bigint[] };
/** One element: ID, length (−1: the table's size) and value. */
export interface ElementDesc {
  id: number;
  len: number;
  value: ValueDesc;
}
/** What a buffer holds: a GSB (header count = elements + extraCount), raw bytes, or what is there. */
export type Content =
  | { k: 'gsb'; extraCount: number; elements: ElementDesc[] }
  | { k: 'bytes'; bytes: number[] }
  | { k: 'keep' };
/** Where a buffer is: in the scratch region, `past` bytes after L1 memory ends, or at an address. */
export type Place =
  | { k: 'scratch'; offset: number }
  | { k: 'outside'; past: bigint }
  | { k: 'absolute'; addr: bigint };
/** The capacity passed in r8: the content's length plus `extra`, the next power of two (Linux), or raw. */
export type Capacity = { k: 'fit'; extra: number } | { k: 'pow2' } | { k: 'raw'; v: bigint };
/** A state buffer argument. */
export interface BufferDesc {
  at: Place;
  size: Capacity;
  content: Content;
}
/** H_GUEST_CREATE's continue token: −1, the last one L0 handed this agent, or a raw value. */
export type Token = { k: 'fresh' } | { k: 'last' } | { k: 'raw'; v: bigint };

/** One hcall to make. */
export type FuzzCall =
  | { k: 'getCaps'; flags: bigint }
  | { k: 'setCaps'; flags: bigint; bitmap: bigint }
  | { k: 'create'; flags: bigint; token: Token }
  | { k: 'createVcpu'; flags: bigint; guest: GuestRef; vcpu: VcpuRef }
  | { k: 'getState'; flags: bigint; guest: GuestRef; vcpu: VcpuRef; buf: BufferDesc }
  | { k: 'setState'; flags: bigint; guest: GuestRef; vcpu: VcpuRef; buf: BufferDesc }
  | { k: 'run'; flags: bigint; guest: GuestRef; vcpu: VcpuRef; input: Content }
  | { k: 'delete'; flags: bigint; guest: GuestRef }
  | { k: 'rpt'; lpid: GuestRef; target: bigint; type: bigint; sizes: bigint; start: bigint; end: bigint }
  | { k: 'other'; opcode: bigint; r4: bigint; r5: bigint; r6: bigint };

const MAX64 = (1n << 64n) - 1n;
const BIT0 = ibmBit(0);
const BIT1 = ibmBit(1);
const BIT2 = ibmBit(2);

/**
 * Opcodes L0 offers nothing at (H_FUNCTION): neighbours of the v2 calls, H_GUEST_COPY_MEMORY
 * (decisions table), values that alias a v2 opcode in their low 32 bits, and the ends of the range.
 * None of them is a v1 call.
 */
// biome-ignore format: a table
export const UNOFFERED_OPCODES: readonly bigint[] = [
  0n, 0x4n, 0x444n, 0x44cn, 0x45cn, 0x461n, 0x468n, 0x46cn, 0x47an, 0x484n, 0x48cn, 0x490n, 0x4a0n,
  0xfffn, 0xf7fcn, 0xf810n, 0x1_0000_0460n, 0x1_0000_0488n, (1n << 63n) | 0x470n, MAX64,
];

/** Guest ids no guest can have: 0, past DefaultLimits.maxGuestId, beyond 32 and 53 bits. */
// biome-ignore format: a table
const NOBODY = [
  0n, 4096n, 4097n, 65535n, 1n << 31n, 1n << 32n, (1n << 32n) + 1n, 1n << 53n, 1n << 63n, MAX64,
];
/** Raw capacities: too small for a header, odd, at and past the 1 MiB limit, past 32 bits, all ones. */
// biome-ignore format: a table
const RAW_SIZES = [
  0n, 1n, 3n, 4n, 7n, 8n, 12n, 4096n, 1n << 20n, (1n << 20n) + 1n, 1n << 32n, 1n << 63n, MAX64,
];
/** vCPU ids at or past the limit (2048). */
const BAD_VCPUS = [2048n, 2049n, 4095n, 65535n, 1n << 32n, (1n << 32n) + 1n, 1n << 63n, MAX64];

const idsOf = (scope: string) => ELEMENTS.filter((e) => e.scope === scope).map((e) => e.id);
const THREAD_IDS = idsOf('thread');
const GUEST_IDS = idsOf('guest');
const HOST_IDS = idsOf('host');
const ALL_IDS = ELEMENTS.map((e) => e.id);

/** Flags: mostly 0, else defined bits, one reserved bit, or anything. */
function flagsGen(defined: readonly bigint[], reservedFrom: number): Gen<bigint> {
  const reserved = [reservedFrom, reservedFrom + 1, 31, 32, 47, 62, 63].map(ibmBit);
  const alts: (readonly [number, Gen<bigint>])[] = [
    [12, constant(0n)],
    [3, pick(...reserved)],
    [1, big(0n, MAX64)],
  ];
  if (defined.length > 0) alts.push([3, pick(...defined)]);
  return one(...alts);
}

function elementGen(ids: readonly number[]): Gen<ElementDesc> {
  return rec<ElementDesc>({
    id: one([8, pick(...ids)], [1, pick(...ALL_IDS)], [1, int(0, 0xffff)]),
    len: one([12, constant(-1)], [2, int(0, 40)], [1, constant(0xffff)]),
    value: one<ValueDesc>(
      [5, tagged('valid', { n: int(0, 15) })],
      [4, tagged('words', { w: arr(big(0n, MAX64), 3) })],
    ),
  });
}

function contentGen(ids: readonly number[]): Gen<Content> {
  return one<Content>(
    [
      10,
      tagged('gsb', {
        extraCount: one([12, constant(0)], [2, int(-2, 3)], [1, pick(0x7fff_ffff, -1)]),
        elements: arr(elementGen(ids), 5),
      }),
    ],
    [2, tagged('bytes', { bytes: arr(int(0, 255), 48) })],
    [1, tagged('keep')],
  );
}

/** Exact contents: a GSB of these elements, every value legal for its element. */
function setupContent(...ids: number[]): Gen<Content> {
  return tagged('gsb', {
    extraCount: constant(0),
    elements: tuple(
      ...ids.map((id) => rec<ElementDesc>({ id: constant(id), len: constant(-1), value: validValue })),
    ),
  });
}
const validValue: Gen<ValueDesc> = tagged('valid', { n: int(0, 15) });

function bufferGen(content: Gen<Content>): Gen<BufferDesc> {
  return rec<BufferDesc>({
    at: one<Place>(
      [14, tagged('scratch', { offset: int(0, BUFFER_ZONE) })],
      [1, tagged('outside', { past: pick(0n, 1n, 8n, 4096n, 1n << 20n, 1n << 32n, 1n << 48n) })],
      [1, tagged('absolute', { addr: pick(1n << 60n, 1n << 63n, MAX64 - 7n, MAX64) })],
    ),
    size: one<Capacity>(
      [10, tagged('fit', { extra: one([8, constant(0)], [2, int(1, 16)]) })],
      [3, tagged('pow2')],
      [3, tagged('raw', { v: pick(...RAW_SIZES) })],
    ),
    content,
  });
}

const ownGuest = tagged('own', { n: int(0, MAX_GUESTS) });
const nobody = tagged('nobody', { id: pick(...NOBODY) });
/** Guests of calls that change or run them: the agent's own, or nobody's. */
const mutGuest = one<GuestRef>([12, ownGuest], [2, nobody]);
/** Guests of GET_STATE: anyone's too (small ids: the other stressors' guests). */
const readGuest = one<GuestRef>([10, ownGuest], [2, nobody], [4, tagged('anyone', { id: int(1, 12) })]);
const vcpuId = (id: Gen<bigint>) => tagged('id', { id });
const ownVcpu = tagged('own', { n: int(0, MAX_VCPUS) });
const anyVcpu = one<VcpuRef>([10, ownVcpu], [3, vcpuId(big(0n, 15n))], [2, vcpuId(pick(...BAD_VCPUS))]);
/** vCPU ids for CREATE_VCPU: out of order and sparse, duplicates, past the limit. */
const newVcpu = one<VcpuRef>(
  [6, vcpuId(big(0n, 15n))],
  [3, vcpuId(pick(100n, 513n, 1024n, 2047n))],
  [2, ownVcpu],
  [2, vcpuId(pick(...BAD_VCPUS))],
);

function stateCall<K extends 'getState' | 'setState'>(
  k: K,
  flags: Gen<bigint>,
  guest: Gen<GuestRef>,
  content: Gen<Content>,
): Gen<{ k: K; flags: bigint; guest: GuestRef; vcpu: VcpuRef; buf: BufferDesc }> {
  return tagged(k, { flags, guest, vcpu: anyVcpu, buf: bufferGen(content) });
}

function makeCallGen(deleteAll: boolean): Gen<FuzzCall> {
  const getState = (flags: Gen<bigint>, ids: readonly number[]) =>
    stateCall('getState', flags, readGuest, contentGen(ids));
  const setState = (flags: Gen<bigint>, content: Gen<Content>) =>
    stateCall('setState', flags, mutGuest, content);
  const calls: (readonly [number, Gen<FuzzCall>])[] = [
    [3, tagged('getCaps', { flags: flagsGen([], 0) })],
    [
      3,
      tagged('setCaps', {
        flags: flagsGen([], 0),
        bitmap: one(
          [4, pick(Cap.POWER9, Cap.POWER10, Cap.POWER11, Cap.POWER9 | Cap.POWER10, CAP_MODES)],
          [2, pick(0n, Cap.COPY_MEM, Cap.COPY_MEM | Cap.POWER10, Cap.BITMAP2, 1n)],
          [1, big(0n, MAX64)],
        ),
      }),
    ],
    [
      8,
      tagged('create', {
        flags: flagsGen([], 0),
        token: one<Token>(
          [8, tagged('fresh')],
          [2, tagged('last')],
          [2, tagged('raw', { v: pick(0n, 1n, 0xfffn, 1n << 63n, MAX64 - 1n) })],
        ),
      }),
    ],
    [10, tagged('createVcpu', { flags: flagsGen([], 0), guest: mutGuest, vcpu: newVcpu })],
    [6, getState(constant(0n), THREAD_IDS)],
    [3, getState(constant(BIT0), GUEST_IDS)],
    [2, getState(constant(BIT1), HOST_IDS)],
    [3, getState(flagsGen([BIT0, BIT1, BIT0 | BIT1], 2), ALL_IDS)],
    [7, setState(constant(0n), contentGen(THREAD_IDS))],
    [3, setState(constant(BIT0), contentGen(GUEST_IDS))],
    [6, setState(constant(0n), setupContent(0x0c01, 0x0c00))],
    [4, setState(constant(BIT0), setupContent(0x0005))],
    [3, setState(flagsGen([BIT0, BIT1], 1), contentGen(ALL_IDS))],
    [
      12,
      tagged('run', {
        flags: flagsGen([BIT0, BIT1, BIT2, BIT0 | BIT2], 3),
        guest: mutGuest,
        vcpu: anyVcpu,
        input: contentGen(THREAD_IDS),
      }),
    ],
    [5, tagged('delete', { flags: flagsGen(deleteAll ? [BIT0] : [], 1), guest: mutGuest })],
    [
      5,
      tagged('rpt', {
        lpid: mutGuest,
        target: one([6, constant(1n)], [2, big(0n, 8n)], [1, big(0n, MAX64)]),
        type: one([6, constant(0xfn)], [2, big(0n, 31n)], [1, big(0n, MAX64)]),
        sizes: one([6, constant(MAX64)], [1, big(0n, MAX64)]),
        start: one([6, constant(0n)], [2, big(0n, MAX64)]),
        end: one([6, constant(MAX64)], [2, big(0n, MAX64)]),
      }),
    ],
    [
      6,
      tagged('other', {
        opcode: pick(...UNOFFERED_OPCODES),
        r4: pick(0n, MAX64, 0x1234n),
        r5: pick(0n, MAX64, (1n << 32n) + 1n),
        r6: pick(0n, MAX64),
      }),
    ],
  ];
  return one(...calls);
}

const callGens = new Map<boolean, Gen<FuzzCall>>();

/** The distribution of the agent's calls (delete-all among them only with `deleteAll`). */
export function fuzzCallGen(deleteAll: boolean): Gen<FuzzCall> {
  let g = callGens.get(deleteAll);
  if (!g) {
    g = makeCallGen(deleteAll);
    callGens.set(deleteAll, g);
  }
  return g;
}

/** The first `count` calls of the agent with seed `seed` (what it issues, whatever runs beside it). */
export function fuzzCalls(seed: number, count: number, deleteAll: boolean): FuzzCall[] {
  const rng = new SplitMix32(seed);
  const gen = fuzzCallGen(deleteAll);
  const calls: FuzzCall[] = [];
  for (let i = 0; i < count; i++) calls.push(sample(gen, rng));
  return calls;
}

// ---------------------------------------------------------------------------------------------
// Executing calls

/** A call as L0 saw it, what it answered, and the rule it broke (if any). */
export interface IssuedCall {
  opcode: bigint;
  /** r4, r5, … as passed. */
  args: bigint[];
  /** L1 memory written just before the call: its buffers as L0 read them. */
  writes: { addr: number; bytes: Uint8Array }[];
  rc: number;
  /** r4 after the call. */
  r4: bigint;
  /** The broken rule: its kind (a minimizer keeps to the same one) and one line. */
  problem?: { rule: string; what: string };
}

/** What the executor needs: L0, L1 memory and the agent's scratch region. */
export interface FuzzEnv {
  port: L0Port;
  ram: GuestRam;
  scratch: number;
  /** Delete-all is in the agent's mix. */
  deleteAll: boolean;
  /** Another agent's delete-all may delete this one's guests at any time (its view may be stale). */
  shared: boolean;
}

interface OwnVcpu {
  id: number;
  input: { addr: number; size: number } | undefined;
  output: boolean;
}
interface OwnGuest {
  id: number;
  vcpus: OwnVcpu[];
  /** A partition table (0x0005) is set. */
  table: boolean;
  busy: number;
}

/** What a buffer would set if L0 accepted it. */
interface Settings {
  input?: { addr: number; size: number };
  output?: boolean;
  table?: boolean;
}

const ELEMENT_CODES: readonly number[] = [
  H.INVALID_ELEMENT_ID,
  H.INVALID_ELEMENT_SIZE,
  H.INVALID_ELEMENT_VALUE,
];

/**
 * Resolves call descriptions against what the agent holds, writes their buffers, makes the call,
 * checks the answer and tracks the agent's guests. Deterministic: the same calls on a fresh L0
 * give the same hcalls.
 */
export class FuzzExecutor {
  readonly guests: OwnGuest[] = [];
  private lastToken: bigint | undefined;
  private readonly r = new HcallRegs();
  private readonly ramSize: bigint;
  private readonly sure: boolean;
  private writes: IssuedCall['writes'] = [];

  constructor(private readonly env: FuzzEnv) {
    this.ramSize = BigInt(env.ram.size);
    // When another agent may delete its guests, its view of them may be stale: expect less.
    this.sure = !env.shared;
  }

  /** vCPUs the agent holds. */
  get vcpus(): number {
    return this.guests.reduce((n, g) => n + g.vcpus.length, 0);
  }

  /** Makes call `c` on `core`. */
  call(c: FuzzCall, core: number): IssuedCall {
    this.writes = [];
    switch (c.k) {
      case 'getCaps': {
        const out = this.issue(
          Hcall.H_GUEST_GET_CAPABILITIES,
          [c.flags],
          core,
          c.flags ? [H.PARAMETER] : [H.SUCCESS],
        );
        if (out.rc === H.SUCCESS && (out.r4 === 0n || (out.r4 & ~CAP_MODES) !== 0n))
          out.problem ??= { rule: 'output', what: `capabilities 0x${out.r4.toString(16)} are not modes` };
        return out;
      }
      case 'setCaps': {
        const b = c.bitmap;
        const bad = b === 0n || (b & Cap.COPY_MEM) !== 0n || (b & ~CAP_MODES) !== 0n;
        const expect = c.flags ? [H.PARAMETER] : bad ? [H.P2] : [H.SUCCESS, H.STATE, H.P2];
        const out = this.issue(Hcall.H_GUEST_SET_CAPABILITIES, [c.flags, b], core, expect);
        if (out.rc === H.P2 && out.r4 !== 1n)
          out.problem ??= { rule: 'output', what: `H_P2 with r4 = ${out.r4}, not 1 (one bad bitmap)` };
        return out;
      }
      case 'create':
        return this.create(c.flags, c.token, core);
      case 'createVcpu':
        return this.createVcpu(c.flags, c.guest, c.vcpu, core);
      case 'getState':
      case 'setState':
        return this.state(c.k === 'setState', c.flags, c.guest, c.vcpu, c.buf, core);
      case 'run':
        return this.run(c.flags, c.guest, c.vcpu, c.input, core);
      case 'delete':
        return this.delete(this.env.deleteAll ? c.flags : c.flags & ~BIT0, c.guest, core);
      case 'rpt': {
        const { target, type, start, end } = c;
        const expect =
          end < start
            ? [H.P5]
            : (target & ~7n) !== 0n
              ? [H.P2]
              : (type & ~0xfn) !== 0n
                ? [H.P3]
                : (type & 1n) !== 0n && target !== 1n
                  ? [H.P2]
                  : [H.SUCCESS];
        const lpid = this.guestArg(c.lpid, true).arg;
        return this.issue(Hcall.H_RPT_INVALIDATE, [lpid, target, type, c.sizes, start, end], core, expect);
      }
      case 'other':
        return this.issue(c.opcode, [c.r4, c.r5, c.r6], core, [H.FUNCTION]);
    }
  }

  /**
   * One step of the final cleanup: DELETE of one of the agent's guests (H_BUSY retried by the
   * next step). Undefined once it holds none.
   */
  cleanup(core: number): IssuedCall | undefined {
    const g = this.guests[this.guests.length - 1];
    if (!g) return undefined;
    this.writes = [];
    const out = this.delete(0n, { k: 'own', n: 0 }, core); // own 0: the newest, g
    if (out.rc === H.BUSY && ++g.busy > CLEANUP_TRIES) {
      this.drop(g);
      out.problem ??= { rule: 'cleanup', what: `guest ${g.id} still busy after ${CLEANUP_TRIES} deletes` };
    } else if (out.rc !== H.SUCCESS && out.rc !== H.BUSY) this.drop(g);
    return out;
  }

  private create(flags: bigint, t: Token, core: number): IssuedCall {
    let token = t.k === 'fresh' ? MAX64 : t.k === 'last' ? (this.lastToken ?? MAX64) : t.v;
    // At the limit, a token L0 never handed out: the call is made but can create nothing.
    const full = this.guests.length >= MAX_GUESTS && flags === 0n;
    if (full) token = 0n;
    const expect = flags
      ? [H.UNSUPPORTED_FLAG]
      : full || t.k === 'raw'
        ? [H.P2]
        : t.k === 'fresh'
          ? [H.SUCCESS, H.BUSY, H.STATE, H.NOT_ENOUGH_RESOURCES]
          : undefined;
    const out = this.issue(Hcall.H_GUEST_CREATE, [flags, token], core, expect);
    if (out.rc === H.BUSY) this.lastToken = out.r4;
    if (out.rc === H.SUCCESS) {
      const id = out.r4;
      const stale = id <= BigInt(DefaultLimits.maxGuestId) ? this.ownGuest(Number(id)) : undefined;
      // When shared, an id of its own handed out again means another agent deleted that guest.
      if (stale && !this.sure) this.drop(stale);
      if (id < 1n || id > BigInt(DefaultLimits.maxGuestId) || (stale && this.sure))
        out.problem ??= { rule: 'output', what: `new guest id ${id} is out of range or in use` };
      else this.guests.push({ id: Number(id), vcpus: [], table: false, busy: 0 });
    }
    return out;
  }

  private createVcpu(flags: bigint, ref: GuestRef, vref: VcpuRef, core: number): IssuedCall {
    let { arg: guest, g } = this.guestArg(ref, true);
    const id = this.vcpuArg(vref, g);
    const v = id < 2048n ? Number(id) : -1;
    const dup = g !== undefined && v >= 0 && g.vcpus.some((x) => x.id === v);
    if (g && v >= 0 && !dup && (g.vcpus.length >= MAX_VCPUS || this.vcpus >= 2 * MAX_VCPUS)) {
      guest = 0n; // at the limit: name no guest, so nothing is created
      g = undefined;
    }
    const expect = flags
      ? [H.UNSUPPORTED_FLAG]
      : ref.k === 'nobody' || guest === 0n
        ? [H.P2]
        : !g || !this.sure
          ? undefined
          : v < 0
            ? [H.P3]
            : dup
              ? [H.IN_USE]
              : [H.SUCCESS, H.NOT_ENOUGH_RESOURCES];
    const out = this.issue(Hcall.H_GUEST_CREATE_VCPU, [flags, guest, id], core, expect);
    if (out.rc === H.SUCCESS && g && v >= 0 && !dup) g.vcpus.push({ id: v, input: undefined, output: false });
    this.forget(out, g);
    return out;
  }

  private state(set: boolean, flags: bigint, ref: GuestRef, vref: VcpuRef, b: BufferDesc, core: number) {
    const wideBits = flags & (BIT0 | BIT1);
    const reserved = (flags & ~(set ? BIT0 : BIT0 | BIT1)) !== 0n || wideBits === (BIT0 | BIT1);
    const host = !set && wideBits === BIT1;
    const wide = wideBits === BIT0;
    const { arg: guest, g } = this.guestArg(ref, set);
    const id = this.vcpuArg(vref, g);
    const vcpu = g && id < 2048n ? g.vcpus.find((x) => x.id === Number(id)) : undefined;
    const buf = this.placeBuffer(b);
    const settings = set && buf.inScratch ? this.sanitize(buf.addr, buf.region) : {};
    if (buf.inScratch) this.record(buf.addr, buf.region);
    const over = buf.size > BigInt(DefaultLimits.maxStateBufferBytes);
    // The spec's order (§18): flags → guest → vCPU → buffer → elements.
    const bufferCodes = (thread: boolean): number[] =>
      over || !buf.inScratch
        ? thread
          ? [H.P3, H.BUSY]
          : [H.P3]
        : [H.SUCCESS, H.P3, ...(thread ? [H.BUSY] : []), ...ELEMENT_CODES];
    const expect = reserved
      ? [H.PARAMETER]
      : host
        ? bufferCodes(false)
        : ref.k === 'nobody' || guest === 0n
          ? [H.P2]
          : !g || !this.sure
            ? undefined
            : wide
              ? over
                ? [H.P3]
                : bufferCodes(false)
              : !vcpu || over
                ? [H.P3]
                : bufferCodes(true);
    const opcode = set ? Hcall.H_GUEST_SET_STATE : Hcall.H_GUEST_GET_STATE;
    const out = this.issue(opcode, [flags, guest, id, buf.arg, buf.size], core, expect);
    if (ELEMENT_CODES.includes(out.rc) && buf.count !== undefined && out.r4 >= BigInt(buf.count))
      out.problem ??= { rule: 'output', what: `bad element index ${out.r4} of ${buf.count} elements` };
    if (out.rc === H.SUCCESS && set && g) {
      if (wide && settings.table !== undefined) g.table = settings.table;
      if (!wide && vcpu) this.apply(vcpu, settings);
    }
    this.forget(out, g);
    return out;
  }

  private run(flags: bigint, ref: GuestRef, vref: VcpuRef, input: Content, core: number): IssuedCall {
    const { arg: guest, g } = this.guestArg(ref, true);
    const id = this.vcpuArg(vref, g);
    const vcpu = g && id < 2048n ? g.vcpus.find((x) => x.id === Number(id)) : undefined;
    let settings: Settings = {};
    const inBuf = vcpu?.input;
    if (inBuf) {
      const bytes = input.k === 'keep' ? undefined : encode(input, this);
      if (bytes && bytes.length <= inBuf.size) this.env.ram.u8.set(bytes, inBuf.addr);
      settings = this.sanitize(inBuf.addr, inBuf.size);
      this.record(inBuf.addr, inBuf.size);
    }
    const expect =
      (flags & ~(BIT0 | BIT1 | BIT2)) !== 0n
        ? [H.PARAMETER]
        : ref.k === 'nobody' || guest === 0n
          ? [H.P2]
          : !g || !this.sure
            ? undefined
            : !vcpu
              ? [H.P3]
              : !vcpu.input
                ? [H.INPUT_BUFFER_NOT_DEFINED]
                : !vcpu.output
                  ? [H.OUTPUT_BUFFER_NOT_DEFINED]
                  : !g.table
                    ? [H.PARTITION_PAGE_TABLE_NOT_DEFINED]
                    : undefined;
    const out = this.issue(Hcall.H_GUEST_RUN_VCPU, [flags, guest, id], core, expect);
    if (out.rc === H.SUCCESS && !EXIT_VECTORS.includes(Number(out.r4)))
      out.problem ??= {
        rule: 'output',
        what: `exit vector 0x${out.r4.toString(16)} is not one RUN_VCPU reports`,
      };
    if (ELEMENT_CODES.includes(out.rc) && inBuf && (out.r4 < 4n || out.r4 >= BigInt(inBuf.size)))
      out.problem ??= {
        rule: 'output',
        what: `bad element offset ${out.r4} in a ${inBuf.size}-byte input buffer`,
      };
    if ((out.rc === H.SUCCESS || out.rc === H.OUTPUT_BUFFER_TOO_SMALL) && vcpu) this.apply(vcpu, settings);
    this.forget(out, g);
    return out;
  }

  private delete(flags: bigint, ref: GuestRef, core: number): IssuedCall {
    const all = flags === BIT0;
    const { arg: guest, g } = this.guestArg(ref, true);
    const expect =
      (flags & ~BIT0) !== 0n
        ? [H.UNSUPPORTED_FLAG]
        : all
          ? [H.SUCCESS]
          : ref.k === 'nobody' || guest === 0n
            ? [H.P2]
            : this.sure
              ? [H.SUCCESS, H.BUSY]
              : undefined;
    const out = this.issue(Hcall.H_GUEST_DELETE, [flags, guest], core, expect);
    if (out.rc === H.SUCCESS && all) this.guests.length = 0;
    else if (out.rc === H.SUCCESS && g) this.drop(g);
    this.forget(out, g);
    return out;
  }

  /** The r-value naming guest `ref`, and the agent's record of it when it is its own. */
  private guestArg(ref: GuestRef, mutating: boolean): { arg: bigint; g: OwnGuest | undefined } {
    if (ref.k === 'nobody') return { arg: ref.id, g: undefined };
    if (ref.k === 'anyone') {
      // Only reads may name a guest the agent does not own.
      if (!mutating) return { arg: BigInt(ref.id), g: this.ownGuest(ref.id) };
      return { arg: 0n, g: undefined };
    }
    // Newest first: a sequence shrunk by dropping older calls still names the same guest.
    const n = this.guests.length;
    const g = n === 0 ? undefined : this.guests[n - 1 - (ref.n % n)];
    return { arg: g ? BigInt(g.id) : 0n, g };
  }

  private vcpuArg(ref: VcpuRef, g: OwnGuest | undefined): bigint {
    if (ref.k === 'id') return ref.id;
    const n = g ? g.vcpus.length : 0;
    const v = g && n > 0 ? g.vcpus[n - 1 - (ref.n % n)] : undefined;
    return BigInt(v ? v.id : ref.n);
  }

  private ownGuest(id: number): OwnGuest | undefined {
    return this.guests.find((g) => g.id === id);
  }

  private drop(g: OwnGuest): void {
    const i = this.guests.indexOf(g);
    if (i >= 0) this.guests.splice(i, 1);
  }

  /** When shared, H_P2 for a guest of its own means another agent deleted it. */
  private forget(out: IssuedCall, g: OwnGuest | undefined): void {
    if (!this.sure && g && out.rc === H.P2) this.drop(g);
  }

  private apply(v: OwnVcpu, s: Settings): void {
    if (s.input) v.input = s.input;
    if (s.output) v.output = true;
  }

  /** Where a buffer goes: into the buffer zone if it fits there, else outside L1 memory. */
  private placeBuffer(b: BufferDesc): {
    addr: number;
    arg: bigint;
    size: bigint;
    region: number;
    inScratch: boolean;
    count: number | undefined;
  } {
    const bytes = b.content.k === 'keep' ? undefined : encode(b.content, this);
    const n = bytes?.length ?? 0;
    const c = b.size;
    const size =
      c.k === 'fit'
        ? BigInt(n + c.extra)
        : c.k === 'pow2'
          ? BigInt(2 ** Math.ceil(Math.log2(Math.max(n, 4))))
          : c.v;
    const region = Math.max(n, size > BigInt(BUFFER_ZONE) ? Number.POSITIVE_INFINITY : Number(size));
    const count =
      bytes && bytes.length >= 4 && size >= 4n ? new DataView(bytes.buffer).getUint32(0) : undefined;
    if (b.at.k === 'scratch' && region <= BUFFER_ZONE) {
      const addr = this.env.scratch + Math.min(b.at.offset, BUFFER_ZONE - region);
      if (bytes) this.env.ram.u8.set(bytes, addr);
      return { addr, arg: BigInt(addr), size, region, inScratch: true, count };
    }
    const arg =
      b.at.k === 'absolute'
        ? b.at.addr
        : this.ramSize + (b.at.k === 'outside' ? b.at.past : BigInt(b.at.offset));
    return { addr: -1, arg, size, region: 0, inScratch: false, count };
  }

  /**
   * Walks the buffer at `addr` as L0 will and rewrites every value that would point L0 at L1
   * memory outside this agent's zones (to an address past L1 memory, which L0 refuses). Returns
   * what the buffer sets if L0 accepts it.
   */
  private sanitize(addr: number, capacity: number): Settings {
    const dv = this.env.ram.dv;
    const s = BigInt(this.env.scratch);
    const inBuffers = (a: bigint, n: bigint) => a >= s && a + n <= s + BigInt(BUFFER_ZONE);
    const out: Settings = {};
    forEachElement(dv, addr, capacity, (id, at, len) => {
      if ((id === RUN_INPUT || id === RUN_OUTPUT) && len === 16) {
        const a = dv.getBigUint64(at);
        const n = dv.getBigUint64(at + 8);
        if (!inBuffers(a, n)) {
          if (a < this.ramSize) dv.setBigUint64(at, this.ramSize + (a & 0xfffn));
        } else if (id === RUN_INPUT) out.input = { addr: Number(a), size: Number(n) };
        else out.output = true;
      } else if (id === PARTITION_TABLE && len === 24) {
        const a = dv.getBigUint64(at);
        const unset = a === 0n && dv.getBigUint64(at + 8) === 0n && dv.getBigUint64(at + 16) === 0n;
        const t = s + BigInt(BUFFER_ZONE);
        const inTables = a >= t && a + dv.getBigUint64(at + 16) <= t + BigInt(TABLE_ZONE);
        if (!unset && !inTables && a < this.ramSize) dv.setBigUint64(at, this.ramSize);
        out.table = !unset;
      } else if (id === VPA && len === 8) {
        const a = dv.getBigUint64(at);
        if (a !== MAX64 && !inBuffers(a, 1n) && a < this.ramSize) dv.setBigUint64(at, MAX64);
      }
      return true;
    });
    return out;
  }

  private record(addr: number, bytes: number): void {
    this.writes.push({ addr, bytes: this.env.ram.u8.slice(addr, addr + bytes) });
  }

  /** A legal value for element `id` made from `n`, as `len` big-endian bytes (cut or zero-padded). */
  validValue(id: number, n: number, len: number): Uint8Array {
    const v = new DataView(new ArrayBuffer(Math.max(len, 24)));
    const s = this.env.scratch;
    switch (id) {
      case 0x0003:
        v.setUint32(0, [LogicalPvr.POWER9, LogicalPvr.POWER10, LogicalPvr.POWER11][n % 3]!);
        break;
      case PARTITION_TABLE:
        if (n % 5 === 4) break; // unset
        v.setBigUint64(0, BigInt(s + BUFFER_ZONE));
        v.setBigUint64(8, 52n);
        v.setBigUint64(16, BigInt([8, 256, 4096, TABLE_ZONE][n % 4]!));
        break;
      case 0x0006:
        v.setBigUint64(0, BigInt((n + 1) * 0x10000));
        v.setBigUint64(8, BigInt(4096 << (n % 3)));
        break;
      case RUN_INPUT:
      case RUN_OUTPUT: {
        const size = [128, 256, 1024, 4096][n % 4]!;
        v.setBigUint64(0, BigInt(s + (((n * 1544) % (BUFFER_ZONE - size)) & ~7)));
        v.setBigUint64(8, BigInt(size));
        break;
      }
      case VPA:
        v.setBigUint64(0, n % 2 ? MAX64 : BigInt(s + n * 64));
        break;
      default:
        for (let k = 0; k < len; k++) v.setUint8(k, ((n + 1) * 0x11 + k * 0x3b) & 0xff);
    }
    return new Uint8Array(v.buffer, 0, len);
  }

  /** Issues one hcall and judges its answer. */
  private issue(
    code: number | bigint,
    args: bigint[],
    core: number,
    expect: readonly number[] | undefined,
  ): IssuedCall {
    const opcode = BigInt(code);
    const r = this.r;
    r.clear();
    r.setBig(3, opcode);
    for (let i = 0; i < args.length; i++) r.setBig(4 + i, args[i]!);
    const out: IssuedCall = { opcode, args, writes: this.writes, rc: Number.NaN, r4: 0n };
    try {
      out.rc = this.env.port.hcall(r, core);
      out.r4 = r.big(4);
    } catch (e) {
      out.problem = { rule: 'throw', what: `threw ${(e as Error).message?.split('\n')[0] ?? String(e)}` };
      return out;
    }
    const op = opcode < 1n << 32n ? Number(opcode) : -1;
    const allowed = allowedCodes(op);
    if (!allowed.includes(out.rc))
      out.problem = {
        rule: 'code',
        what: `${returnCodeName(out.rc)} is not a code ${op >= 0 ? hcallName(op) : hex(opcode)} may give (${allowed.map(returnCodeName).join(', ')})`,
      };
    else if (expect && !expect.includes(out.rc))
      out.problem = {
        rule: 'expected',
        what: `answered ${returnCodeName(out.rc)} where the spec's check order gives ${expect.map(returnCodeName).join(' or ')}`,
      };
    return out;
  }
}

/** The bytes of a GSB or raw content; values of 'valid' elements come from the executor. */
function encode(c: Exclude<Content, { k: 'keep' }>, ex: FuzzExecutor): Uint8Array {
  if (c.k === 'bytes') return Uint8Array.from(c.bytes);
  const lens = c.elements.map((e) => (e.len >= 0 ? e.len : Math.max(0, elementById(e.id)?.size ?? 8)));
  const total = 4 + lens.reduce((n, l) => n + 4 + l, 0);
  const bytes = new Uint8Array(total);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, (c.elements.length + c.extraCount) >>> 0);
  let at = 4;
  c.elements.forEach((e, i) => {
    const len = lens[i]!;
    dv.setUint16(at, e.id);
    dv.setUint16(at + 2, len);
    if (e.value.k === 'valid') bytes.set(ex.validValue(e.id, e.value.n, len), at + 4);
    else
      e.value.w.forEach((w, k) => {
        for (let b = 0; b < 8 && 8 * k + b < len; b++)
          bytes[at + 4 + 8 * k + b] = Number((w >> BigInt(56 - 8 * b)) & 0xffn);
      });
    at += 4 + len;
  });
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Printing

const ARG_NAMES = new Map<number, string[]>([
  [Hcall.H_GUEST_GET_CAPABILITIES, ['flags']],
  [Hcall.H_GUEST_SET_CAPABILITIES, ['flags', 'bitmap']],
  [Hcall.H_GUEST_CREATE, ['flags', 'token']],
  [Hcall.H_GUEST_CREATE_VCPU, ['flags', 'guest', 'vcpu']],
  [Hcall.H_GUEST_GET_STATE, ['flags', 'guest', 'vcpu', 'buffer', 'size']],
  [Hcall.H_GUEST_SET_STATE, ['flags', 'guest', 'vcpu', 'buffer', 'size']],
  [Hcall.H_GUEST_RUN_VCPU, ['flags', 'guest', 'vcpu']],
  [Hcall.H_GUEST_DELETE, ['flags', 'guest']],
  [Hcall.H_RPT_INVALIDATE, ['lpid', 'target', 'type', 'sizes', 'start', 'end']],
]);

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** `H_GUEST_CREATE_VCPU(flags=0x0, guest=0x1, vcpu=0x7)`: the call as L0 saw it. */
export function formatCall(c: Pick<IssuedCall, 'opcode' | 'args'>): string {
  const op = c.opcode < 1n << 32n ? Number(c.opcode) : -1;
  const names = ARG_NAMES.get(op);
  const args = c.args.map((a, i) => `${names?.[i] ?? `r${4 + i}`}=${hex(a)}`).join(', ');
  return `${op >= 0 ? hcallName(op) : hex(c.opcode)}(${args})`;
}

/** The call, what it answered and, if so, the rule it broke, in one line. */
export function formatIssued(c: IssuedCall, bufferBytes = 24): string {
  const bufs = c.writes.map((w) => {
    const shown = Array.from(w.bytes.subarray(0, bufferBytes), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
    return ` [0x${w.addr.toString(16)}: ${shown}${w.bytes.length > bufferBytes ? `… (${w.bytes.length} bytes)` : ''}]`;
  });
  const answer = Number.isNaN(c.rc) ? 'threw' : `${returnCodeName(c.rc)}, r4=${hex(c.r4)}`;
  return `${formatCall(c)}${bufs.join('')} → ${answer}${c.problem ? `: ${c.problem.what}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The agent

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

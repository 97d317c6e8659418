/**
 * The hcall-fuzz agent's calls as descriptions (FuzzCall) and the one distribution they are drawn
 * from (fuzzCallGen). Descriptions name guests and vCPUs relative to what the agent holds ("its
 * second guest"), so one seed gives the same descriptions whatever runs beside it, and any
 * subsequence is again a sequence (what the minimizer needs).
 */
import { ELEMENTS } from '../../../gsb/elements.js';
import { CAP_MODES, Cap, ibmBit } from '../../../papr.js';
import { SplitMix32 } from '../../../prng.js';
import { arr, big, constant, type Gen, int, one, pick, rec, sample, tagged, tuple } from './gen.js';
import { BUFFER_ZONE, MAX_GUESTS, MAX_VCPUS } from './limits.js';

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

export const MAX64 = (1n << 64n) - 1n;
export const BIT0 = ibmBit(0);
export const BIT1 = ibmBit(1);
export const BIT2 = ibmBit(2);

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

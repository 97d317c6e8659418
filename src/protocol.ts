/**
 * What core workers and the coordinator say to each other, declared once (STYLE example 11).
 *
 * Two planes:
 * - Control plane (comlink over a MessagePort, rare): `CoreApi` below — load the shared state,
 *   start the core, read its statistics, stop it.
 * - Request plane (SAB channels of mem/channel.ts, per run): a core's L1 vCPU loop asks the
 *   coordinator for what only the coordinator can do — global hcalls (create, delete, capabilities,
 *   guest-wide state) and L1 services whose state lives on the main thread (demand paging, the
 *   console, a guest's end). Each core has one request channel (core → coordinator; all share the
 *   coordinator's doorbell) and one reply channel (coordinator → core). Requests are answered in
 *   order; a core has at most one request waiting for a reply, and fire-and-forget records (console
 *   chunks, vCPU exits) queue before it, so the coordinator sees a core's records in program order.
 *
 * Nothing per exit crosses threads: RUN_VCPU and a vCPU's own GET/SET_STATE are served on the core
 * (docs/architecture.md, "The multicore runtime").
 */
import nodeAdapter from 'comlink/dist/umd/node-adapter.js';
import type { L0SharedState } from '../hypervisor/l0/l0.js';
import type { L0StatsData } from '../hypervisor/l0/stats.js';
import type { V1Shared } from '../hypervisor/l0/v1/host.js';
import type { ChannelShared } from '../mem/channel.js';
import type { TraceBufferShared } from './trace/layout.js';

/** Kinds of request records (word REQ.KIND). */
export const Req = {
  /** A global hcall: REGS hold r3.. as HcallRegs words; reply: status and REGS. */
  HCALL: 1,
  /** Demand paging: A0/A1 = L2RA hi/lo, A2 = write, A3 = fetch; reply: status 0, or 1 with TEXT. */
  FAULT: 2,
  /** Console bytes of a loop, A0 = fd; TEXT = bytes. No reply. */
  CONSOLE: 3,
  /** The last console chunk of a write; the reply says every chunk before it was taken. */
  CONSOLE_END: 4,
  /** The loop's vCPU called exit(A0). No reply. */
  VCPU_EXIT: 5,
  /** The loop's vCPU called exit_group(A0): the guest is over. No reply. */
  GROUP_EXIT: 6,
  /** The loop's vCPU cannot go on; TEXT = the report. No reply. */
  FAILED: 7,
  /** The core caught an exception of its own (a nestsim bug); TEXT = what and where. No reply. */
  CRASH: 8,
  /** An invariant L1's checks or an agent saw broken; TEXT = what. No reply. */
  VIOLATION: 9,
} as const;
export type ReqKind = (typeof Req)[keyof typeof Req];

/** Bytes of text a record carries. */
export const TEXT_BYTES = 1024;

/** Words of a request record. */
export const REQ = {
  KIND: 0,
  SEQ: 1,
  /** Loop table entry the request is about (−1: none). */
  ENTRY: 2,
  A0: 3,
  A1: 4,
  A2: 5,
  A3: 6,
  /** HcallRegs.words (26) for HCALL. */
  REGS: 8,
  /** Bytes of TEXT in use. */
  TEXT_LEN: 34,
  TEXT: 35,
  WORDS: 35 + TEXT_BYTES / 4,
} as const;

/** Words of a reply record. */
export const REP = {
  SEQ: 0,
  STATUS: 1,
  REGS: 2,
  TEXT_LEN: 28,
  TEXT: 29,
  WORDS: 29 + TEXT_BYTES / 4,
} as const;

/** Records each ring holds: flow control for console chunks, room for one pending request. */
export const RING_RECORDS = 16;

/** Copies `bytes` into a record's text field at word `at`; returns the bytes taken (≤ TEXT_BYTES). */
export function putText(rec: Int32Array, lenAt: number, at: number, bytes: Uint8Array, from = 0): number {
  const n = Math.min(TEXT_BYTES, bytes.length - from);
  new Uint8Array(rec.buffer, rec.byteOffset + at * 4, n).set(bytes.subarray(from, from + n));
  rec[lenAt] = n;
  return n;
}

/** The text field of a record as bytes (a copy). */
export function getText(rec: Int32Array, lenAt: number, at: number): Uint8Array {
  const n = Math.min(TEXT_BYTES, Math.max(0, rec[lenAt]!));
  return new Uint8Array(rec.buffer, rec.byteOffset + at * 4, n).slice();
}

/** Everything a core worker attaches to, sent once through `CoreApi.load`. */
export interface CoreLoad {
  index: number;
  /** Cores in the run (for the shared timebase). */
  cores: number;
  l0: L0SharedState;
  loops: SharedArrayBuffer;
  control: SharedArrayBuffer;
  requests: ChannelShared;
  replies: ChannelShared;
  /** L0's v1 state (hypervisor/l0/v1/host.ts), shared like the rest of L0. */
  v1: V1Shared;
  /** Chaos scheduling (stress): end a turn after any exit with even odds (seeded). */
  chaos: boolean;
  /** The run's instruction limit over all cores: a core stops taking loops once it is reached. */
  maxInstructions: number;
  /** Seed of the core's own choices (which of its loops to step next); undefined: round robin. */
  seed?: number;
  /** This core's trace buffer when the run is traced (src/trace/). */
  trace?: TraceBufferShared;
  /** Test-only fault injection: crash this core (see CrashInjection). */
  crash?: CrashInjection;
}

/** Makes a core fail on purpose, to test that the coordinator survives it. */
export interface CrashInjection {
  /** After this many steps of the core. */
  afterSteps: number;
  /** 'throw': an exception inside the core loop; 'exit': the worker thread dies at once. */
  how: 'throw' | 'exit';
}

/** Counters of one loop as one core saw them (merged over cores at the end). */
export interface LoopCounters {
  loopId: number;
  guestId: number;
  vcpuId: number;
  steps: number;
  /** exit vector → count */
  exits: Map<number, number>;
  /** L2 hcall number → count */
  l2hcalls: Map<number, number>;
  instructions: number;
  /** Seconds inside steps of this loop on this core. */
  runningSeconds: number;
}

/** What a core reports when it stops (or is asked for its statistics). */
export interface CoreReport {
  index: number;
  steps: number;
  instructions: number;
  /** Seconds stepping loops, waiting for the coordinator or acks, and idle with nothing to run. */
  runningSeconds: number;
  waitingSeconds: number;
  idleSeconds: number;
  /** Loops this core took over from another core. */
  migrationsIn: number;
  l0: L0StatsData;
  loops: LoopCounters[];
}

/** The control plane of one core worker (comlink). */
export interface CoreApi {
  /** Attaches the core to the shared state. */
  load(l: CoreLoad): void;
  /** Runs the core until it is stopped; resolves with its final report. */
  start(): Promise<CoreReport>;
  /** The core's counters so far (answered between steps). */
  stats(): CoreReport;
  /** Asks the core to stop after its current step. */
  stop(): void;
}

/** comlink's Node adapter (a CommonJS module: its function is the default export at run time). */
export const nodeEndpoint = nodeAdapter as unknown as (typeof nodeAdapter)['default'];

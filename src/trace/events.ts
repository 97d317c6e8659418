/**
 * Trace events as the main thread sees them after a drain (src/trace/collector.ts), and as the
 * Chrome trace writer (src/trace/chrome.ts) takes them: one plain object per record. Both clocks
 * are kept: virtual time in L1 timebase ticks, wall time in µs on the main thread's
 * performance.now() timeline (the collector has already moved each worker's clock onto it).
 */
import type { HcallLevel, WaitFor } from './layout.js';

/** When an event happened, on both clocks. */
export interface EventTimes {
  /** The core that recorded it. */
  core: number;
  /** Virtual time, L1 timebase ticks. */
  vStart: number;
  vEnd: number;
  /** Wall time, µs (main thread's performance.now() × 1000). */
  wStart: number;
  wEnd: number;
}

/** An L2 run slice. */
export interface RunEvent extends EventTimes {
  kind: 'run';
  guest: number;
  vcpu: number;
  /** The exit vector that ended the run (hypervisor/papr.ts Vector). */
  vector: number;
  instructions: number;
}

/** An hcall, L1→L0 or L2→L1. */
export interface HcallEvent extends EventTimes {
  kind: 'hcall';
  level: HcallLevel;
  /** −1 when the hcall names no guest or vCPU. */
  guest: number;
  vcpu: number;
  opcode: number;
  rc: number;
}

/** An invalidation broadcast issued by `core`. */
export interface InvalidationEvent extends EventTimes {
  kind: 'invalidation';
  lpid: number;
  /** Cores 0..63 that acked, ascending. */
  acked: number[];
  /** Cores that acked in all. */
  ackCount: number;
}

/** `core` handling an invalidation of `lpid` requested by core `issuer`. */
export interface InvalidationAckEvent extends EventTimes {
  kind: 'invalidation-ack';
  lpid: number;
  issuer: number;
}

/** `core` waiting. */
export interface WaitEvent extends EventTimes {
  kind: 'wait';
  what: WaitFor;
}

/** Instructions `core` has retired so far (vStart = vEnd, wStart = wEnd). */
export interface CounterEvent extends EventTimes {
  kind: 'counter';
  instructions: number;
}

/** One decoded trace record. */
export type TraceEvent =
  | RunEvent
  | HcallEvent
  | InvalidationEvent
  | InvalidationAckEvent
  | WaitEvent
  | CounterEvent;

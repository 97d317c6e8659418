/**
 * What a core keeps to run v1 L2s (one per core per thread, like hypervisor/l0/core-seat.ts, whose
 * Core and TLB it shares): the shadow partition, the run context handed to the core, and scratch
 * copies of the two structures of the entry being served.
 */
import type { Core, StopWord } from '../../../cores/core.js';
import type { L0 } from '../l0.js';
import type { V1Host } from './host.js';
import { ShadowPartition } from './shadow-partition.js';
import { HV_MAX_BYTES, REGS_BYTES } from './structs.js';

/** A core's v1 seat. */
export class V1Seat {
  readonly core: Core;
  readonly shadow: ShadowPartition;
  readonly stop: { words: Int32Array; index: number };
  readonly ctx: { core: Core; partition: ShadowPartition; hdecExpiryTb: number; stop: StopWord };
  /** hv_guest_state and pt_regs as L1 passed them; written back whole at exit. */
  readonly hv = new Uint8Array(HV_MAX_BYTES);
  readonly regs = new Uint8Array(REGS_BYTES);
  readonly hvDv = new DataView(this.hv.buffer);
  readonly regsDv = new DataView(this.regs.buffer);
  /** Slot and guest incarnation of the last run here (another one: the core's caches start over). */
  lastSlot = -1;
  lastIncarnation = -1;

  constructor(host: V1Host, l0: L0, index: number) {
    const seat = l0.seat(index);
    this.core = seat.core;
    this.shadow = new ShadowPartition(host, l0, seat.partition);
    this.stop = { words: host.w, index: 0 };
    this.ctx = {
      core: this.core,
      partition: this.shadow,
      hdecExpiryTb: Number.POSITIVE_INFINITY,
      stop: this.stop,
    };
  }
}

/** The v1 seat of core `index` on this thread. */
export function v1Seat(host: V1Host, l0: L0, index: number): V1Seat {
  let seats = host.local.get('seats') as Map<number, V1Seat> | undefined;
  if (!seats) {
    seats = new Map();
    host.local.set('seats', seats);
  }
  let s = seats.get(index);
  if (!s) {
    s = new V1Seat(host, l0, index);
    seats.set(index, s);
  }
  return s;
}

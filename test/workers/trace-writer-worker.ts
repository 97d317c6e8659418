/**
 * Worker for test/trace-recorder.test.ts: one simulated core's thread writing numbered trace events
 * into its buffer. Event `seq` has kind `KINDS[seq % 6]`, virtual start `seq` and every other field
 * derived from seq and the core (expectedFields), so the reader can tell a lost, duplicated,
 * reordered or torn record from a good one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HcallLevel, type TraceBufferShared, WaitFor } from '../../src/trace/layout.js';
import { TraceRecorder, wallMicros } from '../../src/trace/recorder.js';
import { waitStart } from './mem-spawn.js';

/** workerData of this worker. */
export interface TraceWriterJob {
  buffer: TraceBufferShared;
  start: SharedArrayBuffer;
  /** Word 0 is incremented when this worker has written its last event. */
  done: SharedArrayBuffer;
  count: number;
  fullWaitMs: number;
}

/** The result message. */
export interface TraceWriterReport {
  written: number;
  dropped: number;
}

/** Kinds in the order events cycle through them. */
export const KINDS = ['run', 'hcall', 'invalidation', 'invalidation-ack', 'wait', 'counter'] as const;

/** The fields event `seq` of core `core` carries, as the collector decodes them (times aside). */
export function expectedFields(core: number, seq: number): Record<string, unknown> {
  const kind = KINDS[seq % KINDS.length]!;
  switch (kind) {
    case 'run':
      return { kind, core, guest: core + 1, vcpu: seq & 0xffff, vector: seq & 0xfff, instructions: seq * 3 };
    case 'hcall':
      return {
        kind,
        core,
        level: seq % 4 === 1 ? HcallLevel.L1_TO_L0 : HcallLevel.L2_TO_L1,
        guest: seq % 7 === 0 ? -1 : core + 1,
        vcpu: seq % 5 === 0 ? -1 : seq & 0xff,
        opcode: 0x400 + (seq & 0xff),
        rc: -(seq % 90),
      };
    case 'invalidation': {
      const acked = [...new Set([0, seq % 32, ...(seq % 3 === 0 ? [63] : [])])].sort((a, b) => a - b);
      return { kind, core, lpid: seq, acked, ackCount: acked.length };
    }
    case 'invalidation-ack':
      return { kind, core, lpid: seq, issuer: seq % 2 };
    case 'wait':
      return {
        kind,
        core,
        what: [WaitFor.COORDINATOR_REPLY, WaitFor.INVALIDATION_ACKS, WaitFor.IDLE][seq % 3],
      };
    case 'counter':
      return { kind, core, instructions: seq * 1000 + 2 ** 40 };
  }
}

/** Writes event `seq` through the recorder's API. */
export function writeEvent(rec: TraceRecorder, seq: number): void {
  const e = expectedFields(rec.core, seq);
  const w = wallMicros();
  switch (e.kind) {
    case 'run':
      rec.run(
        e.guest as number,
        e.vcpu as number,
        e.vector as number,
        e.instructions as number,
        seq,
        seq + 1,
        w,
        w,
      );
      break;
    case 'hcall':
      rec.hcall(
        e.level as HcallLevel,
        e.guest as number,
        e.vcpu as number,
        e.opcode as number,
        e.rc as number,
        seq,
        seq + 1,
        w,
        w,
      );
      break;
    case 'invalidation': {
      let lo = 0;
      let hi = 0;
      for (const k of e.acked as number[]) {
        if (k < 32) lo |= 1 << k;
        else hi |= 1 << (k - 32);
      }
      rec.invalidation(e.lpid as number, lo, hi, e.ackCount as number, seq, seq + 1, w, w);
      break;
    }
    case 'invalidation-ack':
      rec.invalidationAck(e.lpid as number, e.issuer as number, seq, seq + 1, w, w);
      break;
    case 'wait':
      rec.wait(e.what as WaitFor, seq, seq + 1, w, w);
      break;
    case 'counter':
      rec.counter(e.instructions as number, seq, w);
      break;
  }
}

const job = workerData as TraceWriterJob | null;
if (parentPort && job?.buffer) {
  const rec = new TraceRecorder(job.buffer, { fullWaitMs: job.fullWaitMs });
  waitStart(job.start);
  for (let seq = 0; seq < job.count; seq++) writeEvent(rec, seq);
  Atomics.add(new Int32Array(job.done), 0, 1);
  Atomics.notify(new Int32Array(job.done), 0);
  parentPort.postMessage({ written: job.count, dropped: rec.droppedRecords } satisfies TraceWriterReport);
}

/**
 * Worker for test/mem-channel.test.ts: produces or consumes numbered records on channels and
 * reports what it saw. Record layout (4 words): [producer id, sequence number, seq·0x9E3779B1,
 * ~seq]; the two derived words catch a record torn across a ring wrap.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  ChannelReceiver,
  ChannelSender,
  type ChannelShared,
  ChannelStatus,
  receiveAny,
} from '../../mem/channel.js';
import { waitStart } from './mem-spawn.js';

/** Words per test record. */
export const RECORD_WORDS = 4;

/** workerData of this worker. */
export type RingJob =
  | {
      role: 'produce';
      channel: ChannelShared;
      start: SharedArrayBuffer;
      id: number;
      count: number;
      /** Spin iterations before sleeping on a full ring. */
      spin: number;
      /** Pause (ms, Atomics.wait on a private word) after every `pauseEvery` records; 0 = never. */
      pauseMs: number;
      pauseEvery: number;
      /** Close the channel after the last record. */
      close: boolean;
    }
  | {
      role: 'consume';
      channels: ChannelShared[];
      start: SharedArrayBuffer;
      /** Records expected from each channel (channel k carries producer id k). */
      count: number;
      spin: number;
      /** Per-receive deadline: a consumer never woken shows up as a timeout, not a hang. */
      timeoutMs: number;
      /** Keep receiving after `count` per channel until every channel reports Closed. */
      drainToClose: boolean;
    };

/** The result message. */
export interface RingReport {
  received: number;
  errors: string[];
  timeouts: number;
  /** Times this end slept in Atomics.wait. */
  waits: number;
  closedSeen: boolean;
}

const pad = new Int32Array(new SharedArrayBuffer(4));

function produce(job: Extract<RingJob, { role: 'produce' }>): RingReport {
  const tx = new ChannelSender(job.channel, job.spin);
  const rec = new Int32Array(RECORD_WORDS);
  const errors: string[] = [];
  let timeouts = 0;
  waitStart(job.start);
  for (let seq = 0; seq < job.count; seq++) {
    rec[0] = job.id;
    rec[1] = seq;
    rec[2] = Math.imul(seq, 0x9e3779b1 | 0);
    rec[3] = ~seq;
    const st = tx.send(rec, 0, 20_000);
    if (st !== ChannelStatus.Ok) {
      if (st === ChannelStatus.Timeout) timeouts++;
      errors.push(`send ${seq}: status ${st}`);
      break;
    }
    if (job.pauseEvery > 0 && seq % job.pauseEvery === 0) Atomics.wait(pad, 0, 0, job.pauseMs);
  }
  if (job.close) tx.close();
  return { received: 0, errors, timeouts, waits: tx.waits, closedSeen: false };
}

function consume(job: Extract<RingJob, { role: 'consume' }>): RingReport {
  const rxs = job.channels.map((c) => new ChannelReceiver(c, job.spin));
  const next = new Int32Array(rxs.length);
  const rec = new Int32Array(RECORD_WORDS);
  const errors: string[] = [];
  let received = 0;
  let timeouts = 0;
  let closedSeen = false;
  const total = job.count * rxs.length;
  waitStart(job.start);
  let start = 0;
  while (received < total || job.drainToClose) {
    let k: number;
    if (rxs.length === 1) {
      const st = rxs[0]!.receive(rec, 0, job.timeoutMs);
      k = st === ChannelStatus.Ok ? 0 : st === ChannelStatus.Closed ? -2 : -1;
    } else {
      k = receiveAny(rxs, rec, 0, job.timeoutMs, start);
      start = (start + 1) % rxs.length;
    }
    if (k === -2) {
      closedSeen = true;
      break;
    }
    if (k === -1) {
      timeouts++;
      errors.push(`timeout after ${received} records (next ${[...next].join(',')})`);
      break;
    }
    const seq = rec[1]!;
    if (rec[0] !== k || seq !== next[k] || rec[2] !== Math.imul(seq, 0x9e3779b1 | 0) || rec[3] !== ~seq) {
      errors.push(`channel ${k}: expected seq ${next[k]}, got [${[...rec].join(', ')}]`);
      if (errors.length > 5) break;
    }
    next[k] = seq + 1;
    received++;
  }
  const waits = rxs.reduce((n, r) => n + r.waits, 0);
  return { received, errors, timeouts, waits, closedSeen };
}

const job = workerData as RingJob | null;
if (parentPort && job?.role) parentPort.postMessage(job.role === 'produce' ? produce(job) : consume(job));

import { describe, expect, it } from 'vitest';
import {
  ChannelReceiver,
  ChannelSender,
  type ChannelShared,
  ChannelStatus,
  createChannel,
  createDoorbell,
  receiveAny,
} from '../mem/channel.js';
import { RECORD_WORDS, type RingJob, type RingReport } from './workers/mem-ring-worker.js';
import { allReady, runWorker, startLine } from './workers/mem-spawn.js';

const W = 'mem-ring-worker.js';

function producer(
  channel: ChannelShared,
  start: SharedArrayBuffer,
  id: number,
  count: number,
  extra: Partial<RingJob> = {},
) {
  const job: RingJob = {
    role: 'produce',
    channel,
    start,
    id,
    count,
    spin: 1024,
    pauseMs: 0,
    pauseEvery: 0,
    close: false,
  };
  return runWorker<RingReport>(W, { ...job, ...extra }, 120_000);
}

function consumer(
  channels: ChannelShared[],
  start: SharedArrayBuffer,
  count: number,
  extra: Partial<RingJob> = {},
) {
  const job: RingJob = {
    role: 'consume',
    channels,
    start,
    count,
    spin: 1024,
    timeoutMs: 20_000,
    drainToClose: false,
  };
  return runWorker<RingReport>(W, { ...job, ...extra }, 120_000);
}

describe('channel, one thread', () => {
  it('carries whole records across the ring end, in order, and reports full and empty', () => {
    const ch = createChannel({ records: 3, recordWords: 5 });
    const tx = new ChannelSender(ch);
    const rx = new ChannelReceiver(ch);
    const src = new Int32Array(12);
    const dst = new Int32Array(7);
    let sent = 0;
    let got = 0;
    for (let round = 0; round < 20; round++) {
      // Fill until full (3 records), drain a varying number: the write index walks every offset.
      while (true) {
        for (let k = 0; k < 5; k++) src[2 + k] = sent * 10 + k;
        if (!tx.trySend(src, 2)) break;
        sent++;
      }
      expect(sent - got).toBe(3);
      for (let n = 0; n <= round % 3; n++) {
        expect(rx.tryReceive(dst, 1)).toBe(true);
        expect([...dst.subarray(1, 6)]).toEqual([0, 1, 2, 3, 4].map((k) => got * 10 + k));
        got++;
      }
    }
    while (rx.tryReceive(dst, 0)) got++;
    expect(got).toBe(sent);
    expect(rx.tryReceive(dst, 0)).toBe(false);
  });

  it('times out, and reports Closed only once the ring is drained', () => {
    const ch = createChannel({ records: 1, recordWords: 2 });
    const tx = new ChannelSender(ch, 0);
    const rx = new ChannelReceiver(ch, 0);
    const r = new Int32Array(2);
    expect(rx.receive(r, 0, 1)).toBe(ChannelStatus.Timeout);
    expect(tx.send(Int32Array.of(7, 8), 0, 1)).toBe(ChannelStatus.Ok);
    expect(tx.send(Int32Array.of(9, 9), 0, 1)).toBe(ChannelStatus.Timeout);
    tx.close();
    expect(rx.receive(r, 0, 1)).toBe(ChannelStatus.Ok);
    expect([...r]).toEqual([7, 8]);
    expect(rx.receive(r, 0, 1)).toBe(ChannelStatus.Closed);
    expect(tx.send(r, 0, 1)).toBe(ChannelStatus.Closed);
  });

  it('receiveAny picks whichever shared-bell channel has a record', () => {
    const bell = createDoorbell();
    const chs = [0, 1, 2].map(() => createChannel({ records: 2, recordWords: 1, bell }));
    const txs = chs.map((c) => new ChannelSender(c));
    const rxs = chs.map((c) => new ChannelReceiver(c, 0));
    const r = new Int32Array(1);
    expect(receiveAny(rxs, r, 0, 1)).toBe(-1);
    txs[2]!.trySend(Int32Array.of(22));
    expect(receiveAny(rxs, r, 0, 1)).toBe(2);
    expect(r[0]).toBe(22);
    for (const t of txs) t.close();
    expect(receiveAny(rxs, r, 0, 1)).toBe(-2);
  });
});

describe('channel across worker threads', () => {
  it('1 producer → 1 consumer: 1,000,000 records, none lost, duplicated or reordered', async () => {
    const ch = createChannel({ records: 64, recordWords: RECORD_WORDS });
    const line = startLine();
    const runs = [producer(ch, line.sab, 0, 1_000_000), consumer([ch], line.sab, 1_000_000)];
    await allReady(line.sab, 2);
    line.open();
    const [p, c] = await Promise.all(runs);
    expect(p!.errors).toEqual([]);
    expect(c!.errors).toEqual([]);
    expect(c!.received).toBe(1_000_000);
  });

  it('3 producers → 1 consumer sleeping on one shared doorbell: 1,200,000 records in per-producer order', async () => {
    const bell = createDoorbell();
    const chs = [0, 1, 2].map(() => createChannel({ records: 32, recordWords: RECORD_WORDS, bell }));
    const line = startLine();
    const runs = [
      ...chs.map((ch, id) => producer(ch, line.sab, id, 400_000)),
      consumer(chs, line.sab, 400_000, { spin: 64 }),
    ];
    await allReady(line.sab, 4);
    line.open();
    const reports = await Promise.all(runs);
    for (const r of reports) expect(r.errors).toEqual([]);
    expect(reports[3]!.received).toBe(1_200_000);
  });

  it('a consumer that blocks in Atomics.wait is always woken (2,000 records, a sleep for nearly each)', async () => {
    const ch = createChannel({ records: 8, recordWords: RECORD_WORDS });
    const line = startLine();
    // The producer pauses 1 ms after every record and the consumer never spins: it sleeps for
    // nearly every record, and a lost wake-up would end in its 20 s timeout.
    const runs = [
      producer(ch, line.sab, 0, 2_000, { pauseEvery: 1, pauseMs: 1 }),
      consumer([ch], line.sab, 2_000, { spin: 0 }),
    ];
    await allReady(line.sab, 2);
    line.open();
    const [p, c] = await Promise.all(runs);
    expect(p!.errors).toEqual([]);
    expect(c!.errors).toEqual([]);
    expect(c!.timeouts).toBe(0);
    expect(c!.received).toBe(2_000);
    expect(c!.waits).toBeGreaterThan(100);
  });

  it('both ends block on a one-record ring: 40,000 records, no lost wake-up either way', async () => {
    const ch = createChannel({ records: 1, recordWords: RECORD_WORDS });
    const line = startLine();
    const runs = [
      producer(ch, line.sab, 0, 40_000, { spin: 0 }),
      consumer([ch], line.sab, 40_000, { spin: 0 }),
    ];
    await allReady(line.sab, 2);
    line.open();
    const [p, c] = await Promise.all(runs);
    expect(p!.errors).toEqual([]);
    expect(c!.errors).toEqual([]);
    expect(c!.received).toBe(40_000);
    expect(p!.waits + c!.waits).toBeGreaterThan(0);
  });

  it('close wakes a consumer asleep on an empty ring', async () => {
    const ch = createChannel({ records: 4, recordWords: RECORD_WORDS });
    const line = startLine();
    // 10 records, a 200 ms pause after the last, then close: the consumer is asleep by then.
    const runs = [
      producer(ch, line.sab, 0, 10, { pauseEvery: 9, pauseMs: 200, close: true }),
      consumer([ch], line.sab, 10, { spin: 0, drainToClose: true }),
    ];
    await allReady(line.sab, 2);
    line.open();
    const [, c] = await Promise.all(runs);
    expect(c!.errors).toEqual([]);
    expect(c!.received).toBe(10);
    expect(c!.closedSeen).toBe(true);
  });
});

/**
 * The per-core trace buffers (src/trace/layout.ts, recorder.ts, collector.ts): events written by
 * core threads come out of the collector complete, once each, in the order each core wrote them,
 * with every field intact, across thousands of ring hand-offs; with both a polling drainer and
 * one that sleeps on the drain doorbell; a full ring with nobody draining drops and counts the
 * overflow instead of blocking; a recorder on the drainer's thread drains itself; worker wall
 * clocks land on the main thread's timeline. Workers are compiled (npm run build) first.
 */
import { describe, expect, it } from 'vitest';
import { TraceCollector } from '../src/trace/collector.js';
import type { TraceEvent } from '../src/trace/events.js';
import { createTraceBuffer, Hdr, WaitFor } from '../src/trace/layout.js';
import { TraceRecorder, wallMicros } from '../src/trace/recorder.js';
import { allReady, runWorker, startLine } from './workers/mem-spawn.js';
import {
  expectedFields,
  type TraceWriterJob,
  type TraceWriterReport,
  writeEvent,
} from './workers/trace-writer-worker.js';

/** Checks that `events` hold exactly events 0..count-1 of each of `cores`, in order, with their fields. */
function expectComplete(events: TraceEvent[], cores: number[], count: number): void {
  const next = new Map(cores.map((k) => [k, 0]));
  const problems: string[] = [];
  for (const e of events) {
    const seq = next.get(e.core);
    if (seq === undefined) {
      problems.push(`event of core ${e.core}, which wrote nothing`);
      break;
    }
    const { vStart, vEnd, wStart, wEnd, ...fields } = e;
    const want = expectedFields(e.core, seq);
    const wantEnd = want.kind === 'counter' ? seq : seq + 1;
    if (vStart !== seq || vEnd !== wantEnd || JSON.stringify(fields) !== JSON.stringify(want)) {
      problems.push(`core ${e.core}: expected #${seq} ${JSON.stringify(want)}, got ${JSON.stringify(e)}`);
      if (problems.length > 3) break;
    }
    if (!(wEnd >= wStart)) problems.push(`core ${e.core} #${seq}: wall end before start`);
    next.set(e.core, seq + 1);
  }
  expect(problems).toEqual([]);
  expect([...next.values()]).toEqual(cores.map(() => count));
}

/** Starts one writer worker per core of `c`. */
async function startWriters(c: TraceCollector, count: number, fullWaitMs: number) {
  const line = startLine();
  const done = new SharedArrayBuffer(4);
  const results = c.buffers.map((buffer) =>
    runWorker<TraceWriterReport>(
      'trace-writer-worker.js',
      { buffer, start: line.sab, done, count, fullWaitMs } satisfies TraceWriterJob,
      60_000,
    ),
  );
  await allReady(line.sab, c.buffers.length);
  return { results, done: new Int32Array(done), open: line.open };
}

describe('trace buffers written by core threads', () => {
  it('lose nothing and keep order across ring hand-offs, drained when writers ask (polling)', async () => {
    const cores = 2;
    const count = 40_000;
    const c = new TraceCollector({ cores, capacity: 128 });
    const t0 = wallMicros();
    const w = await startWriters(c, count, 30_000);
    w.open();
    let finished = false;
    const all = Promise.all(w.results).finally(() => {
      finished = true;
    });
    // Drain only on request: a lost NEED_DRAIN signal would leave a writer waiting on a full ring
    // until its 30 s deadline and then dropping, which the checks below would show.
    while (!finished) {
      c.drainIfNeeded();
      await new Promise((r) => setImmediate(r));
    }
    const reports = await all;
    c.drain();
    const t1 = wallMicros();
    expect(reports.map((r) => r.dropped)).toEqual([0, 0]);
    expect(c.dropped()).toEqual([0, 0]);
    const events = c.events();
    expect(events.length).toBe(cores * count);
    expectComplete(events, [0, 1], count);
    // 40 000 events per core through a 128-record ring: hundreds of hand-offs, not one big drain.
    expect(c.drains).toBeGreaterThan((cores * count) / 128);
    // Wall times are on the main thread's performance.now() timeline.
    for (const e of events) {
      expect(e.wStart).toBeGreaterThanOrEqual(t0 - 1000);
      expect(e.wEnd).toBeLessThanOrEqual(t1 + 1000);
    }
  });

  it('lose nothing with a drainer that sleeps on the drain doorbell', async () => {
    const cores = 2;
    const count = 30_000;
    const c = new TraceCollector({ cores, capacity: 128 });
    const w = await startWriters(c, count, 30_000);
    w.open();
    // This loop blocks the main thread: worker completion is seen through the shared `done` word.
    let wakes = 0;
    while (Atomics.load(w.done, 0) < cores) {
      if (c.waitForWork(50)) {
        wakes++;
        c.drainIfNeeded();
      }
    }
    const reports = await Promise.all(w.results);
    c.drain();
    expect(reports.map((r) => r.dropped)).toEqual([0, 0]);
    expectComplete(c.events(), [0, 1], count);
    expect(wakes).toBeGreaterThan(0);
  });

  it('drop and count what does not fit when nobody drains, without blocking the writer', async () => {
    const c = new TraceCollector({ cores: 1, capacity: 64 });
    const w = await startWriters(c, 1000, 0);
    w.open();
    const [report] = await Promise.all(w.results);
    expect(report!.dropped).toBe(1000 - 64);
    expect(c.dropped()).toEqual([1000 - 64]);
    c.drain();
    // The first 64 are kept whole; everything after the ring filled is counted, not half-written.
    expectComplete(c.events(), [0], 64);
  });
});

describe('trace buffers on one thread', () => {
  it('a local recorder drains itself when its ring fills, so it never drops', () => {
    const c = new TraceCollector({ cores: 2, capacity: 16 });
    const rec = c.localRecorder(1);
    for (let seq = 0; seq < 5000; seq++) writeEvent(rec, seq);
    expect(rec.droppedRecords).toBe(0);
    c.drain();
    // Core 0 wrote nothing, so any event of core 0 is a failure.
    expectComplete(c.events(), [1], 5000);
    expect(c.drains).toBeGreaterThan(5000 / 16 - 1);
  });

  it('sets NEED_DRAIN at half full, and a drain clears it', () => {
    const c = new TraceCollector({ cores: 1, capacity: 8 });
    const rec = new TraceRecorder(c.buffers[0]!, { fullWaitMs: 0 });
    for (let seq = 0; seq < 4; seq++) writeEvent(rec, seq);
    expect(c.needsDrain()).toBe(false);
    writeEvent(rec, 4); // the 5th record finds 4 of 8 slots used
    expect(c.needsDrain()).toBe(true);
    expect(c.drainIfNeeded()).toBe(5);
    expect(c.needsDrain()).toBe(false);
    expect(c.drainIfNeeded()).toBe(0);
    c.drain();
    expectComplete(c.events(), [0], 5);
  });

  it("moves wall times from the writer thread's time origin onto the drainer's", () => {
    // Node 20 gives workers the process's origin, but the layout does not rely on it: the writer
    // stores its performance.timeOrigin in the header and the collector corrects by the difference.
    const c = new TraceCollector({ cores: 1, capacity: 8 });
    const rec = c.localRecorder(0);
    new Float64Array(c.buffers[0]!.header)[Hdr.ORIGIN_F64] = performance.timeOrigin - 250;
    rec.wait(WaitFor.IDLE, 10, 20, 1_000_000, 1_500_000);
    c.drain();
    const [e] = c.events();
    expect(e).toMatchObject({ kind: 'wait', vStart: 10, vEnd: 20, wStart: 750_000, wEnd: 1_250_000 });
  });

  it('refuses buffer sizes that are not a power of two', () => {
    expect(() => createTraceBuffer(0, 100)).toThrow(/power of two/);
    expect(() => new TraceCollector({ cores: 0 })).toThrow(RangeError);
  });
});

/**
 * The Chrome trace-event writer (src/trace/chrome.ts): the trace of a synthetic run parses, has
 * one process per core and per guest with the expected threads and slices (names, args, return
 * codes, exit reasons, acks), counters per core, only X/C/M phases, sorted timestamps,
 * non-negative durations and slices that nest exactly on every thread (what Perfetto needs), on
 * both clocks; an empty run still gives a valid file; random events always give a well-formed one.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChromeEvent,
  type ChromeTrace,
  chromeTrace,
  chromeTraceJson,
  writeChromeTrace,
} from '../src/trace/chrome.js';
import type { TraceEvent } from '../src/trace/events.js';
import { HcallLevel, WaitFor } from '../src/trace/layout.js';
import { SYNTHETIC_GUESTS, SYNTHETIC_RUNS, syntheticEvents } from './fixtures/report/synthetic.js';

/** Everything that makes a trace unusable in Perfetto or chrome://tracing, as readable lines. */
function problems(t: ChromeTrace): string[] {
  const out: string[] = [];
  let lastTs = Number.NEGATIVE_INFINITY;
  let seenTimed = false;
  const stacks = new Map<string, number[]>();
  for (const e of t.traceEvents) {
    if (!['X', 'C', 'M'].includes(e.ph)) out.push(`phase ${e.ph}: ${JSON.stringify(e)}`);
    if (!(Number.isInteger(e.pid) && e.pid > 0)) out.push(`pid ${e.pid}`);
    if (e.ph === 'M') {
      if (seenTimed) out.push(`metadata after timed events: ${JSON.stringify(e)}`);
      continue;
    }
    seenTimed = true;
    if (!Number.isFinite(e.ts)) out.push(`ts ${e.ts}`);
    if (e.ts < lastTs) out.push(`ts ${e.ts} after ${lastTs}`);
    lastTs = e.ts;
    if (e.ph !== 'X') continue;
    if (!(Number.isInteger(e.tid) && e.tid! > 0)) out.push(`tid ${e.tid}`);
    if (!(e.dur! >= 0)) out.push(`dur ${e.dur}: ${JSON.stringify(e)}`);
    // Exact nesting per thread, in the ns the viewers compute.
    const key = `${e.pid}/${e.tid}`;
    const open = stacks.get(key) ?? [];
    const s = Math.round(e.ts * 1000);
    const end = Math.round((e.ts + e.dur!) * 1000);
    while (open.length > 0 && open[open.length - 1]! <= s) open.pop();
    if (open.length > 0 && open[open.length - 1]! < end)
      out.push(`${key}: ${e.name} [${s}, ${end}] overlaps`);
    open.push(end);
    stacks.set(key, open);
  }
  return out;
}

/** pid → process name, and (pid, thread name) → tid. */
function names(t: ChromeTrace) {
  const processes = new Map<number, string>();
  const threads = new Map<string, number>();
  for (const e of t.traceEvents) {
    if (e.name === 'process_name') processes.set(e.pid, e.args!.name as string);
    if (e.name === 'thread_name') threads.set(`${processes.get(e.pid)}|${e.args!.name}`, e.tid!);
  }
  return { processes, threads };
}

/** The X events on the thread `thread` of process `process`. */
function slicesOn(t: ChromeTrace, process: string, thread: string): ChromeEvent[] {
  const { threads } = names(t);
  const tid = threads.get(`${process}|${thread}`);
  return t.traceEvents.filter((e) => e.ph === 'X' && e.tid === tid && tid !== undefined);
}

const meta = { cores: 2, guests: SYNTHETIC_GUESTS, dropped: [0, 3] };

describe('the Chrome trace of a synthetic run', () => {
  const trace = chromeTrace(syntheticEvents(), { ...meta, clock: 'virtual' });
  const parsed = JSON.parse(chromeTraceJson(trace)) as ChromeTrace;

  it('parses back to the same trace and is well formed', () => {
    expect(parsed).toEqual(trace);
    expect(problems(parsed)).toEqual([]);
    expect(new Set(parsed.traceEvents.map((e) => e.ph))).toEqual(new Set(['M', 'X', 'C']));
  });

  it('has one process per core and per guest', () => {
    expect([...names(parsed).processes.values()].sort()).toEqual(
      ['core 0', 'core 1', 'guest alpha (id 1)', 'guest beta (id 2)'].sort(),
    );
  });

  it('has the expected threads: kinds of slices on cores, vCPUs on guests, a lane for the overlap', () => {
    const threads = [...names(parsed).threads.keys()].sort();
    expect(threads).toEqual(
      [
        'core 0|L2 runs',
        'core 0|L1→L0 hcalls',
        'core 0|L2→L1 hcalls',
        'core 0|invalidations',
        'core 0|waits',
        'core 1|L2 runs',
        'core 1|invalidation acks',
        'core 1|waits',
        'guest alpha (id 1)|vCPU 0',
        'guest alpha (id 1)|vCPU 0 (lane 2)',
        'guest alpha (id 1)|vCPU 1',
        'guest beta (id 2)|guest-wide hcalls',
        'guest beta (id 2)|vCPU 0',
      ].sort(),
    );
    const tids = parsed.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.tid);
    expect(new Set(tids).size).toBe(tids.length);
  });

  it('names run slices after the guest on cores and after the core on vCPUs, with the exit reason', () => {
    const core0 = slicesOn(parsed, 'core 0', 'L2 runs');
    const core1 = slicesOn(parsed, 'core 1', 'L2 runs');
    expect(core0.length + core1.length).toBe(SYNTHETIC_RUNS);
    expect(core0.map((e) => e.name)).toEqual(['alpha', 'alpha']);
    expect(core1.map((e) => e.name)).toEqual(['beta', 'alpha']);
    expect(core0[0]).toMatchObject({
      cat: 'run',
      ts: 0,
      dur: 1.953, // 1000 ticks at 512 MHz, in whole ns
      args: { guest: 'alpha', guestId: 1, vcpu: 0, exit: 'hcall', exitVector: '0xc00', instructions: 1000 },
    });
    expect(core0[1]!.args).toMatchObject({ vcpu: 1, exit: 'HDSI (partition-scoped data fault)' });
    const v0 = slicesOn(parsed, 'guest alpha (id 1)', 'vCPU 0');
    expect(v0.map((e) => e.name)).toEqual(['H_GUEST_RUN_VCPU', 'on core 0', 'NS_SYSCALL']);
    expect(slicesOn(parsed, 'guest alpha (id 1)', 'vCPU 0 (lane 2)').map((e) => e.name)).toEqual([
      'on core 1',
    ]);
  });

  it('gives hcalls their opcode and return-code names and which interface they crossed', () => {
    const l1 = slicesOn(parsed, 'core 0', 'L1→L0 hcalls');
    expect(l1.map((e) => [e.name, e.args!.returnCode, e.args!.level])).toEqual([
      ['H_GUEST_RUN_VCPU', 'H_SUCCESS', 'L1→L0'],
      ['H_RPT_INVALIDATE', 'H_SUCCESS', 'L1→L0'],
      ['H_GUEST_DELETE', 'H_P2', 'L1→L0'],
    ]);
    expect(slicesOn(parsed, 'core 0', 'L2→L1 hcalls').map((e) => [e.name, e.args!.level])).toEqual([
      ['NS_SYSCALL', 'L2→L1'],
    ]);
    expect(slicesOn(parsed, 'guest beta (id 2)', 'guest-wide hcalls').map((e) => e.name)).toEqual([
      'H_GUEST_DELETE',
    ]);
  });

  it('shows invalidations with their acks, waits by what they waited for, and counters per core', () => {
    expect(slicesOn(parsed, 'core 0', 'invalidations')).toMatchObject([
      { name: 'invalidate LPID 1', cat: 'invalidation', args: { lpid: 1, acks: [0, 1], ackCount: 2 } },
    ]);
    expect(slicesOn(parsed, 'core 1', 'invalidation acks')).toMatchObject([
      { name: 'ack LPID 1', args: { lpid: 1, issuer: 0 } },
    ]);
    expect(slicesOn(parsed, 'core 0', 'waits').map((e) => e.name)).toEqual([
      'wait: coordinator reply',
      'wait: invalidation acks',
    ]);
    // The wait of core 1 that ended before it started is kept with duration 0, and counted.
    expect(slicesOn(parsed, 'core 1', 'waits').map((e) => [e.name, e.dur])).toEqual([
      ['idle: no runnable vCPU', 3.32],
      ['idle: no runnable vCPU', 0],
    ]);
    expect(parsed.otherData).toMatchObject({ clampedDurations: 1, droppedEvents: 3, droppedByCore: '0,3' });
    const counters = parsed.traceEvents.filter((e) => e.ph === 'C');
    const { processes } = names(parsed);
    expect(counters.map((e) => [processes.get(e.pid), e.name, e.args!.retired])).toEqual([
      ['core 0', 'instructions', 1000],
      ['core 1', 'instructions', 1000],
      ['core 0', 'instructions', 2100],
    ]);
  });

  it('uses wall time with clock "wall", starting at the first event', () => {
    const wall = chromeTrace(syntheticEvents(), { ...meta, clock: 'wall' });
    expect(problems(wall)).toEqual([]);
    expect(wall.otherData.clock).toBe('wall');
    const run = slicesOn(wall, 'core 0', 'L2 runs')[0]!;
    expect([run.ts, run.dur]).toEqual([0, 2000]); // wall = 5000 µs + 2 µs per tick, rebased
    const beta = slicesOn(wall, 'core 1', 'L2 runs')[0]!;
    expect([beta.ts, beta.dur]).toEqual([0, 1600]);
    // Virtual and wall traces hold the same slices, only the times differ.
    const virtual = chromeTrace(syntheticEvents(), { ...meta, clock: 'virtual' });
    const shape = (t: ChromeTrace) => t.traceEvents.map((e) => `${e.ph} ${e.name} ${e.pid}`).sort();
    expect(shape(wall)).toEqual(shape(virtual));
  });

  it('writes the same JSON to a file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nestsim-trace-')), 'trace.json');
    writeChromeTrace(file, trace);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(trace);
  });
});

describe('edge cases', () => {
  it('a run with no events gives a valid file naming its cores', () => {
    const t = JSON.parse(
      chromeTraceJson(chromeTrace([], { clock: 'wall', cores: 2, guests: [] })),
    ) as ChromeTrace;
    expect(problems(t)).toEqual([]);
    expect(t.traceEvents.filter((e) => e.ph !== 'M')).toEqual([]);
    expect(t.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!.name)).toEqual([
      'core 0',
      'core 1',
    ]);
  });

  it('random events always give a well-formed trace that keeps every slice', () => {
    const timed = fc
      .tuple(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: -50, max: 3000 }),
      )
      .map(([core, v0, len]) => ({
        core,
        vStart: v0,
        vEnd: v0 + len,
        wStart: v0 * 1.5 + 0.25,
        wEnd: (v0 + len) * 1.5,
      }));
    const event: fc.Arbitrary<TraceEvent> = fc.oneof(
      fc
        .tuple(timed, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }))
        .map(([t, guest, vcpu]) => ({
          kind: 'run' as const,
          ...t,
          guest,
          vcpu,
          vector: 0xe00,
          instructions: 5,
        })),
      fc
        .tuple(timed, fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 }))
        .map(([t, guest, vcpu]) => ({
          kind: 'hcall' as const,
          ...t,
          level: HcallLevel.L2_TO_L1,
          guest,
          vcpu,
          opcode: 0xe0,
          rc: 0,
        })),
      timed.map((t) => ({ kind: 'wait' as const, ...t, what: WaitFor.IDLE })),
    );
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 60 }),
        fc.constantFrom('virtual' as const, 'wall' as const),
        (evs, clock) => {
          const t = chromeTrace(evs, { clock, cores: 1, guests: [] });
          expect(problems(t)).toEqual([]);
          // A run is a slice on its core and on its vCPU; an hcall also on its guest when it names one.
          const want = evs.reduce(
            (n, e) => n + (e.kind === 'run' ? 2 : e.kind === 'hcall' && e.guest >= 0 ? 2 : 1),
            0,
          );
          expect(t.traceEvents.filter((e) => e.ph === 'X').length).toBe(want);
        },
      ),
      { numRuns: 300 },
    );
  });
});

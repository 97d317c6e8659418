/**
 * The Chrome trace-event JSON writer: what ui.perfetto.dev and chrome://tracing open
 * (docs/traces.md). Only three phases: complete events ("X", ts + dur), counters ("C") and
 * metadata ("M": process and thread names and sort order). No async begin/end pairs and no
 * instant events, which Perfetto drops or hides.
 *
 * Tracks. Process `core k` (pid k + 1) has one thread per kind of slice: L2 runs (named after the
 * guest, so each guest has its colour), L1→L0 hcalls, L2→L1 hcalls, invalidations, invalidation
 * acks, waits; and the counter `instructions`. Process `guest <name>` (pid GUEST_PID_BASE + id)
 * has one thread per vCPU holding that vCPU's runs (named after the core that ran them) and its
 * hcalls, and a thread for the L1→L0 hcalls that name the guest but no vCPU.
 *
 * Slices on one thread must nest exactly (Perfetto drops a slice that overlaps its neighbour
 * without nesting, as the format says). Slices of one track normally follow each other, but
 * virtual time is per core, so a vCPU that moved between cores can overlap itself; such a slice
 * goes to an extra lane (thread "vCPU 0 (lane 2)") instead of being lost. Times are rounded to whole
 * ns before that check, so what the check sees is what the viewers see.
 *
 * Invoked from: the commands with --trace, tests.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { hcallName, returnCodeName } from '../../hypervisor/papr.js';
import { exitName } from '../report.js';
import type { TraceEvent } from './events.js';
import { HcallLevel, WaitFor } from './layout.js';

/**
 * The L1 timebase frequency: 512 MHz, one tick per retired instruction (cores/timebase.ts), so
 * virtual µs = ticks / 512.
 */
export const TIMEBASE_HZ = 512_000_000;

/** Which clock a trace's timestamps use. */
export type TraceClock = 'virtual' | 'wall';

/** Process ids of guests start here (cores take 1 .. cores). */
export const GUEST_PID_BASE = 10_000;

/** What the writer needs besides the events. */
export interface TraceMeta {
  clock: TraceClock;
  /** Simulated cores; each gets a process even when it recorded nothing. */
  cores: number;
  /** Guests of the run (an id reused after a deletion may appear twice). */
  guests: readonly { id: number; name: string }[];
  /** Records each core dropped (TraceCollector.dropped()). */
  dropped?: readonly number[];
  /** The buffer that is the coordinator's (main thread), not a core's; named so in the trace. */
  coordinator?: number;
}

/** One event of the file. */
export interface ChromeEvent {
  name: string;
  ph: 'X' | 'C' | 'M';
  pid: number;
  tid?: number;
  /** µs */
  ts: number;
  /** µs, X only */
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** The whole file. */
export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
  /** Flat facts about the trace (viewers show them as metadata). */
  otherData: Record<string, string | number>;
}

/** Thread sort order within a core process (and the order of the tracks in chrome://tracing). */
const CoreTrack = {
  runs: { name: 'L2 runs', sort: 1 },
  l1Hcalls: { name: 'L1→L0 hcalls', sort: 2 },
  l2Hcalls: { name: 'L2→L1 hcalls', sort: 3 },
  invalidations: { name: 'invalidations', sort: 4 },
  acks: { name: 'invalidation acks', sort: 5 },
  waits: { name: 'waits', sort: 6 },
} as const;

/** Slice names of waits. */
const WAIT_NAMES: Record<number, string> = {
  [WaitFor.COORDINATOR_REPLY]: 'wait: coordinator reply',
  [WaitFor.INVALIDATION_ACKS]: 'wait: invalidation acks',
  [WaitFor.IDLE]: 'idle: no runnable vCPU',
};

const LEVEL_NAMES: Record<number, string> = {
  [HcallLevel.L1_TO_L0]: 'L1→L0',
  [HcallLevel.L2_TO_L1]: 'L2→L1',
};

/** A slice before it is placed on a thread: times in whole ns. */
interface Slice {
  pid: number;
  track: string;
  trackSort: number;
  name: string;
  cat: string;
  s: number;
  e: number;
  args: Record<string, unknown>;
}

/** Builds the trace of `events` (any order). */
export function chromeTrace(events: readonly TraceEvent[], meta: TraceMeta): ChromeTrace {
  let cores = meta.cores;
  for (const e of events) if (e.core >= cores) cores = e.core + 1;
  const guestBase = Math.max(GUEST_PID_BASE, cores + 1);
  const corePid = (core: number) => core + 1;
  const guestPid = (id: number) => guestBase + id;
  const names = guestNames(meta.guests);
  const guestName = (id: number) => names.get(id) ?? `guest ${id}`;

  // Times to whole ns; wall time starts at the first event.
  let wallBase = Number.POSITIVE_INFINITY;
  if (meta.clock === 'wall') for (const e of events) if (e.wStart < wallBase) wallBase = e.wStart;
  const toNs =
    meta.clock === 'virtual'
      ? (ticks: number) => Math.round((ticks * 1e9) / TIMEBASE_HZ)
      : (us: number) => Math.round((us - wallBase) * 1000);

  const slices: Slice[] = [];
  const counters: ChromeEvent[] = [];
  const guestsSeen = new Set<number>();
  let clamped = 0;
  let invalid = 0;
  for (const ev of events) {
    const s = toNs(meta.clock === 'virtual' ? ev.vStart : ev.wStart);
    let e = toNs(meta.clock === 'virtual' ? ev.vEnd : ev.wEnd);
    if (!Number.isFinite(s) || !Number.isFinite(e)) {
      invalid++;
      continue;
    }
    if (e < s) {
      clamped++;
      e = s;
    }
    const pid = corePid(ev.core);
    const add = (
      track: { name: string; sort: number },
      name: string,
      cat: string,
      args: Record<string, unknown>,
    ) => slices.push({ pid, track: track.name, trackSort: track.sort, name, cat, s, e, args });
    const onGuest = (
      guest: number,
      vcpu: number,
      name: string,
      cat: string,
      args: Record<string, unknown>,
    ) => {
      if (guest < 0) return;
      guestsSeen.add(guest);
      slices.push({
        pid: guestPid(guest),
        track: vcpu >= 0 ? `vCPU ${vcpu}` : 'guest-wide hcalls',
        trackSort: vcpu >= 0 ? vcpu + 1 : 0,
        name,
        cat,
        s,
        e,
        args,
      });
    };
    switch (ev.kind) {
      case 'run': {
        const args = {
          core: ev.core,
          guest: guestName(ev.guest),
          guestId: ev.guest,
          vcpu: ev.vcpu,
          exit: exitName(ev.vector),
          exitVector: `0x${ev.vector.toString(16)}`,
          instructions: ev.instructions,
        };
        add(CoreTrack.runs, guestName(ev.guest), 'run', args);
        onGuest(ev.guest, ev.vcpu, `on core ${ev.core}`, 'run', args);
        break;
      }
      case 'hcall': {
        const args: Record<string, unknown> = {
          core: ev.core,
          level: LEVEL_NAMES[ev.level] ?? String(ev.level),
          returnCode: returnCodeName(ev.rc),
        };
        if (ev.guest >= 0) {
          args.guest = guestName(ev.guest);
          args.guestId = ev.guest;
        }
        if (ev.vcpu >= 0) args.vcpu = ev.vcpu;
        const name = hcallName(ev.opcode);
        add(ev.level === HcallLevel.L2_TO_L1 ? CoreTrack.l2Hcalls : CoreTrack.l1Hcalls, name, 'hcall', args);
        onGuest(ev.guest, ev.vcpu, name, 'hcall', args);
        break;
      }
      case 'invalidation':
        add(CoreTrack.invalidations, `invalidate LPID ${ev.lpid}`, 'invalidation', {
          core: ev.core,
          lpid: ev.lpid,
          acks: ev.acked,
          ackCount: ev.ackCount,
        });
        break;
      case 'invalidation-ack':
        add(CoreTrack.acks, `ack LPID ${ev.lpid}`, 'invalidation', {
          core: ev.core,
          lpid: ev.lpid,
          issuer: ev.issuer,
        });
        break;
      case 'wait':
        add(CoreTrack.waits, WAIT_NAMES[ev.what] ?? `wait ${ev.what}`, 'wait', { core: ev.core });
        break;
      case 'counter':
        counters.push({
          name: 'instructions',
          ph: 'C',
          pid,
          ts: s / 1000,
          args: { retired: ev.instructions },
        });
        break;
    }
  }

  const metadata: ChromeEvent[] = [];
  const processName = (pid: number, name: string, sort: number) => {
    metadata.push({ name: 'process_name', ph: 'M', pid, ts: 0, args: { name } });
    metadata.push({ name: 'process_sort_index', ph: 'M', pid, ts: 0, args: { sort_index: sort } });
  };
  for (let k = 0; k < cores; k++)
    processName(corePid(k), k === meta.coordinator ? 'coordinator (L0 global, L1 control)' : `core ${k}`, k);
  for (const id of [...guestsSeen].sort((a, b) => a - b))
    processName(guestPid(id), `guest ${guestName(id)} (id ${id})`, guestBase + id);

  const placed = placeOnThreads(slices, metadata);
  const timed = [...placed, ...counters].sort(
    (a, b) => a.ts - b.ts || (b.dur ?? -1) - (a.dur ?? -1) || (a.tid ?? 0) - (b.tid ?? 0),
  );
  const dropped = meta.dropped ?? [];
  return {
    traceEvents: [...metadata, ...timed],
    displayTimeUnit: 'ns',
    otherData: {
      producer: 'nestsim',
      clock: meta.clock,
      timebaseHz: TIMEBASE_HZ,
      cores,
      events: events.length,
      droppedEvents: dropped.reduce((a, b) => a + b, 0),
      droppedByCore: dropped.join(','),
      clampedDurations: clamped,
      invalidTimes: invalid,
    },
  };
}

/** Id → display name; a reused id shows every name it had. */
function guestNames(guests: TraceMeta['guests']): Map<number, string> {
  const m = new Map<number, string[]>();
  for (const g of guests) {
    const l = m.get(g.id) ?? [];
    if (!l.includes(g.name)) l.push(g.name);
    m.set(g.id, l);
  }
  return new Map([...m].map(([id, l]) => [id, l.join(', ')]));
}

/**
 * Puts each slice on a thread of its track so that slices of one thread nest exactly: the first
 * lane where the slice starts after the innermost open slice ended, or ends within it. Adds the
 * thread metadata to `meta`; returns the X events.
 */
function placeOnThreads(slices: Slice[], meta: ChromeEvent[]): ChromeEvent[] {
  const byTrack = new Map<string, Slice[]>();
  for (const s of slices) {
    const key = `${s.pid}\u0000${s.track}`;
    const l = byTrack.get(key);
    if (l) l.push(s);
    else byTrack.set(key, [s]);
  }
  const keys = [...byTrack.keys()].sort((a, b) => {
    const x = byTrack.get(a)![0]!;
    const y = byTrack.get(b)![0]!;
    return x.pid - y.pid || x.trackSort - y.trackSort;
  });
  let nextTid = 1;
  const out: ChromeEvent[] = [];
  for (const key of keys) {
    const list = byTrack.get(key)!.sort((a, b) => a.s - b.s || b.e - a.e);
    const first = list[0]!;
    const lanes: { tid: number; open: number[] }[] = [];
    for (const sl of list) {
      let lane = lanes.find((l) => fits(l.open, sl));
      if (!lane) {
        lane = { tid: nextTid++, open: [] };
        const n = lanes.length;
        lanes.push(lane);
        meta.push({
          name: 'thread_name',
          ph: 'M',
          pid: first.pid,
          tid: lane.tid,
          ts: 0,
          args: { name: n === 0 ? first.track : `${first.track} (lane ${n + 1})` },
        });
        meta.push({
          name: 'thread_sort_index',
          ph: 'M',
          pid: first.pid,
          tid: lane.tid,
          ts: 0,
          args: { sort_index: first.trackSort * 100 + n },
        });
      }
      lane.open.push(sl.e);
      out.push({
        name: sl.name,
        ph: 'X',
        cat: sl.cat,
        pid: sl.pid,
        tid: lane.tid,
        ts: sl.s / 1000,
        dur: (sl.e - sl.s) / 1000,
        args: sl.args,
      });
    }
  }
  return out;
}

/** Pops the slices of `open` (end times, innermost last) that ended; true if `s` then nests. */
function fits(open: number[], s: Slice): boolean {
  // Slices come sorted by start, so a popped slice ended before every later start too.
  let n = open.length;
  while (n > 0 && open[n - 1]! <= s.s) n--;
  if (n > 0 && open[n - 1]! < s.e) return false;
  open.length = n;
  return true;
}

/** The trace as JSON text, one event per line. */
export function chromeTraceJson(t: ChromeTrace): string {
  const parts: string[] = [];
  writeParts(t, (s) => parts.push(s));
  return parts.join('');
}

/** Writes the trace to `path`, one event per line, without building one string of the whole file. */
export function writeChromeTrace(path: string, t: ChromeTrace): void {
  const fd = openSync(path, 'w');
  try {
    let buf = '';
    writeParts(t, (s) => {
      buf += s;
      if (buf.length > 1 << 20) {
        writeSync(fd, buf);
        buf = '';
      }
    });
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
}

function writeParts(t: ChromeTrace, put: (s: string) => void): void {
  put('{"traceEvents":[\n');
  let sep = '';
  for (const e of t.traceEvents) {
    put(`${sep}${JSON.stringify(e)}`);
    sep = ',\n';
  }
  put(`\n],\n"displayTimeUnit":${JSON.stringify(t.displayTimeUnit)},\n`);
  put(`"otherData":${JSON.stringify(t.otherData)}}\n`);
}

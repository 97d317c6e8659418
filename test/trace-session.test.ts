/**
 * `--trace` / `--trace-clock` (src/trace/session.ts): no session without --trace; a path that
 * cannot be written is a UserError before any run; a bad clock is refused by the option parser;
 * a finished session writes a trace that parses, with the recorded events on the chosen clock and
 * the count of lost events.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { UserError } from '../src/errors.js';
import type { ChromeTrace } from '../src/trace/chrome.js';
import { HcallLevel } from '../src/trace/layout.js';
import { TraceRecorder } from '../src/trace/recorder.js';
import { type TraceArgs, TraceSession, traceNote, traceOptions } from '../src/trace/session.js';

const dir = mkdtempSync(join(tmpdir(), 'nestsim-trace-session-'));

/** Parses `argv` with only the trace options. */
function parse(argv: string[]): TraceArgs {
  return traceOptions(
    yargs(argv)
      .exitProcess(false)
      .fail((m) => {
        throw new Error(m);
      }),
  ).parseSync();
}

describe('trace flags', () => {
  it('default to no trace on the virtual clock, and refuse an unknown clock', () => {
    expect(parse([])).toMatchObject({ 'trace-clock': 'virtual' });
    expect(parse([]).trace).toBeUndefined();
    expect(parse(['--trace', 't.json', '--trace-clock', 'wall'])).toMatchObject({
      trace: 't.json',
      'trace-clock': 'wall',
    });
    expect(() => parse(['--trace-clock', 'cpu'])).toThrow(/Invalid values/);
  });

  it('make no session without --trace, and fail before the run on a path that cannot be written', () => {
    expect(TraceSession.open({ 'trace-clock': 'virtual' }, { cores: 1 })).toBeNull();
    const bad = join(dir, 'missing', 'dir', 't.json');
    expect(() => TraceSession.open({ trace: bad, 'trace-clock': 'virtual' }, { cores: 1 })).toThrow(
      UserError,
    );
    expect(() => TraceSession.open({ trace: bad, 'trace-clock': 'virtual' }, { cores: 1 })).toThrow(
      /--trace: cannot write .*t\.json \(ENOENT\)/,
    );
    expect(() => TraceSession.open({ trace: '', 'trace-clock': 'virtual' }, { cores: 1 })).toThrow(
      /needs a file/,
    );
  });

  it('write what the cores recorded when the session finishes, with lost events counted', () => {
    const path = join(dir, 'run.json');
    const s = TraceSession.open({ trace: path, 'trace-clock': 'wall' }, { cores: 2, capacity: 4 })!;
    expect(existsSync(path)).toBe(true);
    const local = s.collector.localRecorder(0);
    local.run(1, 0, 0xc00, 512, 0, 512, 100, 300);
    local.hcall(HcallLevel.L2_TO_L1, 1, 0, 0xe0, 0, 512, 512, 300, 310);
    // Core 1 as a worker would see it, with nobody draining: 4 fit, 2 are lost.
    const worker = new TraceRecorder(s.collector.buffers[1]!, { fullWaitMs: 0 });
    for (let k = 0; k < 6; k++) worker.counter(k, k, 400 + k);
    const written = s.finish([{ id: 1, name: 'sort' }]);
    expect(written).toEqual({ path, events: 6, dropped: 2 });
    expect(traceNote(written)).toBe(
      `trace: 6 events written to ${path} (open it in ui.perfetto.dev); 2 events were lost to full trace buffers`,
    );
    const t = JSON.parse(readFileSync(path, 'utf8')) as ChromeTrace;
    expect(t.otherData).toMatchObject({ clock: 'wall', droppedEvents: 2, droppedByCore: '0,2' });
    const run = t.traceEvents.find((e) => e.ph === 'X' && e.cat === 'run' && e.name === 'sort')!;
    expect([run.ts, run.dur]).toEqual([0, 200]);
    expect(t.traceEvents.filter((e) => e.ph === 'C').map((e) => e.args!.retired)).toEqual([0, 1, 2, 3]);
  });
});

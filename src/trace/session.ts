/**
 * `--trace out.json` and `--trace-clock virtual|wall` for the commands that run guests (run, exec,
 * stress): the yargs options, the checks of the flags before the run (a path that cannot be
 * written fails at once, not after a long run), and the end of a traced run: drain every core's
 * buffer, write the Chrome trace, say what was written. docs/traces.md, "Recording".
 *
 * Invoked from: src/commands/run.ts, exec.ts, stress.ts.
 */
import { closeSync, openSync } from 'node:fs';
import type { Argv } from 'yargs';
import { UserError } from '../errors.js';
import type { SimulationBase } from '../simulation.js';
import { chromeTrace, type TraceClock, writeChromeTrace } from './chrome.js';
import { type CollectorOptions, TraceCollector } from './collector.js';

/** The flags, as yargs hands them over. */
export interface TraceArgs {
  trace?: string;
  'trace-clock': TraceClock;
}

/** Adds --trace and --trace-clock to a command's options. */
export function traceOptions<T>(y: Argv<T>): Argv<T & TraceArgs> {
  return y
    .option('trace', {
      type: 'string',
      describe: 'write a Chrome trace-event JSON of the run (opens in ui.perfetto.dev)',
    })
    .option('trace-clock', {
      choices: ['virtual', 'wall'] as const,
      default: 'virtual' as const,
      describe: 'trace timestamps: virtual (timebase) or wall time',
    }) as unknown as Argv<T & TraceArgs>;
}

/** What a finished trace holds. */
export interface TraceWritten {
  /** The path as the user gave it (what the JSON report's `trace` field holds). */
  path: string;
  /** Events written (before slices were copied onto guest tracks). */
  events: number;
  /** Events lost to full buffers, over all cores. */
  dropped: number;
}

/** One traced run: the collector the simulation records into, and where the trace goes. */
export class TraceSession {
  readonly collector: TraceCollector;

  private constructor(
    readonly path: string,
    readonly clock: TraceClock,
    opts: CollectorOptions,
  ) {
    this.collector = new TraceCollector(opts);
  }

  /**
   * The session for these flags, or null without --trace. Creates (empties) the file now, so a
   * path that cannot be written is a UserError before the run.
   */
  static open(a: TraceArgs, opts: CollectorOptions): TraceSession | null {
    if (a.trace === undefined) return null;
    if (a.trace === '') throw new UserError('--trace', 'needs a file name');
    try {
      closeSync(openSync(a.trace, 'w'));
    } catch (e) {
      throw new UserError(
        '--trace',
        `cannot write ${a.trace} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
    return new TraceSession(a.trace, a['trace-clock'], opts);
  }

  /** Drains every core and writes the trace file; call once, after the run (also after a failed one). */
  finish(guests: readonly { id: number; name: string }[], coordinator?: number): TraceWritten {
    const c = this.collector;
    c.drain();
    const events = c.events();
    const dropped = c.dropped();
    writeChromeTrace(
      this.path,
      chromeTrace(events, {
        clock: this.clock,
        cores: c.buffers.length,
        guests,
        dropped,
        ...(coordinator === undefined ? {} : { coordinator }),
      }),
    );
    return { path: this.path, events: events.length, dropped: dropped.reduce((a, b) => a + b, 0) };
  }
}

/** The line a command prints (stderr, or a report note) about a written trace. */
export function traceNote(t: TraceWritten): string {
  const lost = t.dropped > 0 ? `; ${t.dropped} events were lost to full trace buffers` : '';
  return `trace: ${t.events} events written to ${t.path} (open it in ui.perfetto.dev)${lost}`;
}

/**
 * Opens the session for these flags and attaches it to `sim` (before guests are added: loops made
 * later record into it). Null without --trace.
 */
export function startTrace(sim: SimulationBase, a: TraceArgs): TraceSession | null {
  // One buffer per core, and one for the coordinator (its index is `cores`).
  const session = TraceSession.open(a, {
    cores: sim.cores + 1,
    ...(sim.traceBell ? { bell: sim.traceBell } : {}),
  });
  if (session) sim.attachTrace(session.collector);
  return session;
}

/** Drains and writes a session's trace after the run (also a failed one); undefined without one. */
export function finishTrace(session: TraceSession | null, sim: SimulationBase): TraceWritten | undefined {
  return session?.finish(
    sim.l1.guests.map((g) => ({ id: g.id, name: g.name })),
    sim.cores,
  );
}

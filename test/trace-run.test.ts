/**
 * Traces of real runs (the recorder wired into L0, the L1 vCPU loop, the cores and the
 * coordinator): the Chrome trace of a small deterministic run has the tracks and slices it must
 * have and agrees with the run's own statistics; tracing does not change a run's results; a
 * multicore run gives every core its track. The recorder and writer alone are tested in
 * trace-recorder.test.ts and trace-chrome.test.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readElfFile } from '../cores/elf.js';
import { H, Hcall } from '../hypervisor/papr.js';
import { MulticoreSimulation } from '../src/multicore.js';
import { SHIPPED_GUESTS } from '../src/scenario/load.js';
import { Simulation, type SimulationBase } from '../src/simulation.js';
import { type ChromeEvent, GUEST_PID_BASE } from '../src/trace/chrome.js';
import { finishTrace, startTrace } from '../src/trace/session.js';

const elf = (name: string) => readElfFile(`${SHIPPED_GUESTS}/${name}.elf`);

interface Traced {
  events: ChromeEvent[];
  processes: Map<number, string>;
  threads: Map<string, string>;
}

/** Runs `sim` with two guests (a sort and a 3-vCPU SMP counter), traced when `path` is given. */
async function runGuests(sim: SimulationBase, path?: string): Promise<Traced | undefined> {
  const session = path ? startTrace(sim, { trace: path, 'trace-clock': 'virtual' }) : null;
  sim.addGuest({
    name: 'sort',
    image: elf('sort-power9-O2'),
    vcpus: 1,
    memoryBytes: 16 << 20,
    paging: 'demand',
  });
  sim.addGuest({
    name: 'smp',
    image: elf('smp-counter-power8-O2'),
    vcpus: 3,
    memoryBytes: 16 << 20,
    paging: 'demand',
  });
  await sim.run();
  finishTrace(session, sim);
  if (!path) return undefined;
  const events = (JSON.parse(readFileSync(path, 'utf8')) as { traceEvents: ChromeEvent[] }).traceEvents;
  const processes = new Map<number, string>();
  const threads = new Map<string, string>();
  for (const e of events) {
    if (e.ph !== 'M') continue;
    const name = String((e.args as { name?: string }).name);
    if (e.name === 'process_name') processes.set(e.pid, name);
    if (e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, name);
  }
  return { events, processes, threads };
}

const options = { l1MemoryBytes: 128 << 20, maxInstructions: 1e9, sliceInstructions: 20_000, seed: 4 };
const dir = mkdtempSync(join(tmpdir(), 'nestsim-trace-'));

/** Count of hcalls of `opcode` that L0 answered with H_SUCCESS. */
const succeeded = (sim: SimulationBase, opcode: number) =>
  sim.l0.stats.hcalls.get(opcode)?.get(H.SUCCESS) ?? 0;

describe('the trace of a run', () => {
  it('a deterministic run: processes, threads and slices agree with the run', async () => {
    const sim = new Simulation(options);
    const t = (await runGuests(sim, join(dir, 'det.json')))!;
    expect(new Set(t.events.map((e) => e.ph))).toEqual(new Set(['M', 'X', 'C']));
    const names = [...t.processes.values()];
    expect(names).toContain('core 0');
    expect(names).toContain('coordinator (L0 global, L1 control)');
    expect(names.some((n) => n.startsWith('guest sort'))).toBe(true);
    expect(names.some((n) => n.startsWith('guest smp'))).toBe(true);
    // One thread per vCPU in each guest's process.
    const smpPid = [...t.processes].find(([, n]) => n.startsWith('guest smp'))![0];
    const smpThreads = [...t.threads].filter(([k]) => k.startsWith(`${smpPid}/`)).map(([, n]) => n);
    expect(smpThreads.filter((n) => /^vCPU [0-2]/.test(n)).length).toBe(3);

    const corePid = [...t.processes].find(([, n]) => n === 'core 0')![0];
    const runs = t.events.filter((e) => e.ph === 'X' && e.cat === 'run' && e.pid === corePid);
    // Every successful RUN_VCPU is one L2 run slice, and the instructions add up.
    expect(runs.length).toBe(succeeded(sim, Hcall.H_GUEST_RUN_VCPU));
    const retired = runs.reduce((n, e) => n + Number((e.args as { instructions: number }).instructions), 0);
    expect(retired).toBe(sim.l0.stats.instructions);
    for (const e of runs) {
      const a = e.args as { exit: string; guest: string; vcpu: number };
      expect(['sort', 'smp']).toContain(a.guest);
      expect(a.exit.length).toBeGreaterThan(0);
      expect(e.dur).toBeGreaterThanOrEqual(0);
    }
    // Slices are also copied onto the guests' tracks; count them on the cores' and coordinator's.
    const hcalls = t.events.filter((e) => e.ph === 'X' && e.cat === 'hcall' && e.pid < GUEST_PID_BASE);
    const l1l0 = hcalls.filter((e) => (e.args as { level: string }).level === 'L1→L0');
    const l2l1 = hcalls.filter((e) => (e.args as { level: string }).level === 'L2→L1');
    // L1→L0: every hcall L0 answered, with its return code name; L2→L1: every one L1 served.
    // (L1 negotiated its capabilities when it was made, before the trace was attached.)
    const negotiation = new Set<number>([Hcall.H_GUEST_GET_CAPABILITIES, Hcall.H_GUEST_SET_CAPABILITIES]);
    let total = 0;
    for (const [op, byRc] of sim.l0.stats.hcalls)
      if (!negotiation.has(op)) for (const n of byRc.values()) total += n;
    expect(l1l0.length).toBe(total);
    expect(
      l1l0
        .filter((e) => e.name === 'H_GUEST_RUN_VCPU')
        .every((e) => (e.args as { returnCode: string }).returnCode === 'H_SUCCESS'),
    ).toBe(true);
    const l2Served = sim.l1.guests.reduce(
      (n, g) => n + [...g.l2hcalls.values()].reduce((a, b) => a + b, 0),
      0,
    );
    expect(l2l1.length).toBe(l2Served);
    expect(l2l1.some((e) => e.name === 'NS_SYSCALL')).toBe(true);
    // Deleting each guest invalidates its partition: on the coordinator's track.
    const coordPid = [...t.processes].find(([, n]) => n.startsWith('coordinator'))![0];
    const invals = t.events.filter((e) => e.cat === 'invalidation' && e.pid === coordPid);
    expect(invals.length).toBe(sim.l0.stats.invalidations);
    const counters = t.events.filter((e) => e.ph === 'C' && e.pid === corePid);
    expect(counters.length).toBe(runs.length);
  });

  it('tracing does not change the run', async () => {
    const plain = new Simulation(options);
    await runGuests(plain);
    const traced = new Simulation(options);
    await runGuests(traced, join(dir, 'same.json'));
    const view = (s: SimulationBase) =>
      s.l1.guests.map((g) => ({ end: g.end, out: g.stdoutBytes().toString('latin1'), exits: [...g.exits] }));
    expect(view(traced)).toEqual(view(plain));
    expect([...traced.l0.stats.vcpus].map(([k, v]) => [k, v.instructions, v.runs])).toEqual(
      [...plain.l0.stats.vcpus].map(([k, v]) => [k, v.instructions, v.runs]),
    );
  });

  it('a multicore run: a track per core with its runs, and the coordinator’s', async () => {
    const sim = new MulticoreSimulation({ ...options, cores: 2 });
    const t = (await runGuests(sim, join(dir, 'mc.json')))!;
    for (const core of [0, 1]) {
      const pid = [...t.processes].find(([, n]) => n === `core ${core}`)![0];
      const runs = t.events.filter((e) => e.cat === 'run' && e.pid === pid);
      expect(runs.length).toBe(sim.coreActivity()[core]!.steps);
    }
    expect([...t.processes.values()]).toContain('coordinator (L0 global, L1 control)');
    const all = t.events.filter((e) => e.cat === 'run' && e.pid < GUEST_PID_BASE);
    expect(all.reduce((n, e) => n + Number((e.args as { instructions: number }).instructions), 0)).toBe(
      sim.l0.stats.instructions,
    );
  });
});

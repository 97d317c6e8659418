/**
 * The hcall-fuzz stressor (src/stress/stressors/hcall-fuzz.ts) and `--minimize`
 * (src/stress/minimize.ts): it passes alone in the deterministic mode and on 2 cores, and beside
 * other stressors without disturbing them; its agents never write L1 memory outside their scratch
 * region and name only opcodes L0 has no handler for when they aim at unknown ones; with a planted
 * L0 bug (RUN_VCPU answering QEMU's H_NOT_AVAILABLE, a code it may not give) the run fails, and
 * --minimize shrinks the failing sequence to the 4 calls the bug needs, whose replay on a fresh L0
 * fails the same way (and passes without the bug).
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allowedCodes } from '../hypervisor/allowed-codes.js';
import { HCALL_HANDLERS } from '../hypervisor/l0/hcalls/index.js';
import { defaultL0Config, L0, type Mutants } from '../hypervisor/l0/l0.js';
import { HcallRegs } from '../hypervisor/l0/regs.js';
import { fuzzCalls, UNOFFERED_OPCODES } from '../hypervisor/l1/agents/hcall-fuzz/calls.js';
import { FuzzExecutor } from '../hypervisor/l1/agents/hcall-fuzz/executor.js';
import { FUZZ_SCRATCH_BYTES } from '../hypervisor/l1/agents/hcall-fuzz/limits.js';
import { L1 } from '../hypervisor/l1/l1.js';
import { NestedApi } from '../hypervisor/l1/loop-table.js';
import type { L0Port } from '../hypervisor/l1/vcpu-loop.js';
import { H, Hcall, hcallName, returnCodeName } from '../hypervisor/papr.js';
import { GuestRam } from '../mem/ram.js';
import { packageRoot } from '../src/package-files.js';
import type { SimulationBase } from '../src/simulation.js';
import { formatMinimized, minimizeFuzz, REPLAY_RAM_BYTES, replayCalls } from '../src/stress/minimize.js';
import { runStress, type StressReport } from '../src/stress/run.js';
import { stressScenarioSchema } from '../src/stress/scenario.js';
import { spawnSync } from './support/spawn.js';

/** Runs a stress scenario given as an object; returns the report and the simulation. */
async function stress(
  doc: Record<string, unknown>,
  o: { deterministic?: boolean; mutants?: Mutants } = {},
): Promise<{ report: StressReport; sim: SimulationBase }> {
  const scenario = stressScenarioSchema.parse({
    name: 't',
    seed: 5,
    duration: '20s',
    l1: { memory: 64 << 20 },
    cores: 2,
    ...doc,
  });
  return runStress({
    scenario,
    file: 'test.yaml',
    overrides: o.deterministic !== undefined ? { deterministic: o.deterministic } : {},
    hostCores: 2,
    ...(o.mutants ? { mutants: o.mutants } : {}),
  });
}

/** Every failed check, "name: detail". */
const failures = (r: StressReport) =>
  [...r.checks, ...r.stressors.flatMap((s) => s.checks)]
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`);

const ALONE = { 'hcall-fuzz': { agents: 2, iterations: 2000, deleteAll: true } };

describe('the hcall-fuzz stressor passes', () => {
  for (const deterministic of [true, false])
    it(`alone (delete-all in the mix), ${deterministic ? 'deterministic mode' : '2 cores'}`, async () => {
      const { report, sim } = await stress({ stressors: ALONE }, { deterministic });
      expect(failures(report)).toEqual([]);
      // On 2 cores the two agents fuzz from both at once (one each: agents are placed, never moved).
      if (!deterministic) expect(sim.coreActivity().map((c) => c.steps > 0)).toEqual([true, true]);
      const s = report.stressors.find((x) => x.name === 'hcall-fuzz')!;
      // Every call was made and checked: 2000 each, plus the deletes of the cleanup.
      expect(s.opName).toBe('hcalls');
      expect(s.ops).toBeGreaterThanOrEqual(4000);
      const legal = s.checks.find((c) => c.name === 'hcall-fuzz: every answer legal')!;
      expect(legal.evaluated).toBe(s.ops);
      expect(s.checks.find((c) => c.name.includes('resources back'))!.detail).toMatch(/L0 holds no guest/);
    });

  it('beside other stressors, in the deterministic mode, and theirs pass too', async () => {
    const { report } = await stress(
      {
        stressors: {
          'hcall-fuzz': { agents: 2, iterations: 1500 },
          atomic: { guests: 2, vcpus: 2, iterations: 1000 },
          'state-races': { vcpus: 2, probers: 1, iterations: 500, trips: 2000 },
        },
      },
      { deterministic: true },
    );
    expect(failures(report)).toEqual([]);
    expect(report.stressors.map((s) => s.name).sort()).toEqual(['atomic', 'hcall-fuzz', 'state-races']);
  });
});

/** A fresh L0 on `ram`, an L1 that negotiated capabilities, and a port to L0. */
function machine(ram: GuestRam, mutants: Mutants = {}): { l0: L0; port: L0Port; l1: L1 } {
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: ram.size, mutants }), ram);
  const port: L0Port = { hcall: (r, core) => l0.hcall(r, core), timebase: () => 0 };
  const l1 = new L1(port, ram, l0.codeGen, { base: 0x10_0000, bytes: ram.size - 0x10_0000 }, 4, NestedApi.V2);
  return { l0, port, l1 };
}

describe('the agent', () => {
  it('writes no byte of L1 memory outside its scratch region, whatever it calls', () => {
    const ram = GuestRam.create(8 << 20);
    const { port, l1 } = machine(ram);
    const scratch = l1.pages.alloc(FUZZ_SCRATCH_BYTES);
    // Everything else holds a pattern: page-table-like words, addresses, sizes a stray write would break.
    const before = new Uint8Array(ram.size);
    for (let i = 0; i < ram.size; i++) before[i] = (i * 131 + (i >> 12)) & 0xff;
    before.fill(0, scratch, scratch + FUZZ_SCRATCH_BYTES);
    ram.u8.set(before);
    let calls = 0;
    for (const seed of [11, 12, 13]) {
      const ex = new FuzzExecutor({ port, ram, scratch, deleteAll: false, shared: false });
      for (const c of fuzzCalls(seed, 3000, false)) {
        const out = ex.call(c, 0);
        expect(out.problem, 'no rule broken on a correct L0').toBeUndefined();
        calls++;
      }
      for (let c = ex.cleanup(0); c; c = ex.cleanup(0)) expect(c.rc).toBe(H.SUCCESS);
    }
    expect(calls).toBe(9000);
    const after = ram.u8;
    let outside = 0;
    for (let i = 0; i < ram.size; i++)
      if ((i < scratch || i >= scratch + FUZZ_SCRATCH_BYTES) && after[i] !== before[i]) outside++;
    expect(outside).toBe(0);
  });

  it('covers the interface: every v2 opcode, neighbours, reserved flags, every RUN_VCPU check reached', () => {
    const machine = { l0: defaultL0Config(), api: NestedApi.V2 };
    const r = replayCalls(fuzzCalls(21, 3000, true), machine, true);
    expect(r.failure).toBeUndefined();
    const ops = new Set(r.issued.map((c) => c.opcode));
    for (const op of [
      Hcall.H_GUEST_GET_CAPABILITIES,
      Hcall.H_GUEST_SET_CAPABILITIES,
      Hcall.H_GUEST_CREATE,
      Hcall.H_GUEST_CREATE_VCPU,
      Hcall.H_GUEST_GET_STATE,
      Hcall.H_GUEST_SET_STATE,
      Hcall.H_GUEST_RUN_VCPU,
      Hcall.H_GUEST_DELETE,
      Hcall.H_RPT_INVALIDATE,
      Hcall.H_GUEST_COPY_MEMORY,
    ])
      expect(ops.has(BigInt(op)), hcallName(op)).toBe(true);
    expect(r.issued.filter((c) => c.rc === H.FUNCTION).length).toBeGreaterThan(50);
    const codes = (op: number) => new Set(r.issued.filter((c) => c.opcode === BigInt(op)).map((c) => c.rc));
    for (const rc of [
      H.SUCCESS,
      H.PARAMETER,
      H.P2,
      H.P3,
      H.INPUT_BUFFER_NOT_DEFINED,
      H.PARTITION_PAGE_TABLE_NOT_DEFINED,
    ])
      expect(codes(Hcall.H_GUEST_RUN_VCPU).has(rc), returnCodeName(rc)).toBe(true);
    for (const rc of [H.SUCCESS, H.P2, H.P3, H.IN_USE, H.UNSUPPORTED_FLAG])
      expect(codes(Hcall.H_GUEST_CREATE_VCPU).has(rc), returnCodeName(rc)).toBe(true);
    for (const rc of [H.INVALID_ELEMENT_ID, H.INVALID_ELEMENT_SIZE, H.INVALID_ELEMENT_VALUE, H.PARAMETER])
      expect(codes(Hcall.H_GUEST_SET_STATE).has(rc), returnCodeName(rc)).toBe(true);
    // Delete-all was made (and L0 was left empty by the cleanup: no failure).
    expect(r.issued.some((c) => c.opcode === BigInt(Hcall.H_GUEST_DELETE) && c.args[0] === 1n << 63n)).toBe(
      true,
    );
  });

  it("reports an L0 that lets reserved state flags through (QEMU's `flags & !WIDE`, bugs-to-catch C)", () => {
    const ram = GuestRam.create(8 << 20);
    const { port, l1 } = machine(ram);
    const scratch = l1.pages.alloc(FUZZ_SCRATCH_BYTES);
    // Between the agent and L0: GET/SET_STATE flags keep only the defined bits, as that bug does.
    const lax: L0Port = {
      ...port,
      hcall: (r, core) => {
        const op = r.num(3);
        if (op === Hcall.H_GUEST_GET_STATE || op === Hcall.H_GUEST_SET_STATE)
          r.setBig(4, r.big(4) & (3n << 62n));
        return port.hcall(r, core);
      },
    };
    const ex = new FuzzExecutor({ port: lax, ram, scratch, deleteAll: false, shared: false });
    const broken = fuzzCalls(22, 2000, false)
      .map((c) => ex.call(c, 0))
      .filter((c) => c.problem);
    expect(broken.length).toBeGreaterThan(0);
    for (const c of broken) {
      expect([Hcall.H_GUEST_GET_STATE, Hcall.H_GUEST_SET_STATE]).toContain(Number(c.opcode));
      expect(c.problem!.what).toMatch(/the spec's check order gives H_PARAMETER$/);
    }
  });

  it('aims at unknown opcodes only where L0 has no handler', () => {
    for (const op of UNOFFERED_OPCODES) {
      const n = op < 1n << 32n ? Number(op) : -1;
      expect(HCALL_HANDLERS.has(n) && n !== Hcall.H_GUEST_COPY_MEMORY, `0x${op.toString(16)}`).toBe(false);
      expect(n >= 0xf800 && n <= 0xf80c).toBe(false);
    }
  });
});

describe('a planted L0 bug', () => {
  const mutants: Mutants = { runWithoutTableNotAvailable: true };

  it('fails the run, and --minimize shrinks the failing sequence to the calls it needs', async () => {
    const { report, sim } = await stress({ stressors: ALONE }, { deterministic: true, mutants });
    expect(report.ok).toBe(false);
    expect(failures(report).join('\n')).toMatch(/hcall-fuzz: every answer legal/);
    expect(report.violations.join('\n')).toMatch(/H_GUEST_RUN_VCPU\(.*H_NOT_AVAILABLE is not a code/);

    const min = minimizeFuzz(sim);
    expect(min.minimized.length).toBeGreaterThan(0);
    for (const m of min.minimized) {
      // CREATE, CREATE_VCPU, SET_STATE of both run buffers, RUN_VCPU: nothing less reaches the check.
      expect(m.calls.map((c) => Number(c.opcode))).toEqual([
        Hcall.H_GUEST_CREATE,
        Hcall.H_GUEST_CREATE_VCPU,
        Hcall.H_GUEST_SET_STATE,
        Hcall.H_GUEST_RUN_VCPU,
      ]);
      expect(m.calls.at(-1)!.rc).toBe(H.NOT_AVAILABLE);
      expect(m.confirmed).toBe(true);
      expect(m.failedAt).toBeGreaterThan(m.calls.length);
    }
    const text = formatMinimized(min);
    expect(text).toMatch(/fast-check shrank it \(\d+ steps\) to 4 calls/);
    expect(text.split('\n').filter((l) => /^ +\d+ {2}H_GUEST_/.test(l))).toHaveLength(
      4 * min.minimized.length,
    );

    // The printed calls, made by hand on a fresh L0: the last answers a code RUN_VCPU may not give
    // with the bug, and every answer is legal without it.
    const m = min.minimized[0]!;
    for (const planted of [true, false]) {
      const ram = GuestRam.create(REPLAY_RAM_BYTES);
      const { port } = machine(ram, planted ? mutants : {});
      const illegal: string[] = [];
      const r = new HcallRegs();
      for (const c of m.calls) {
        for (const w of c.writes) ram.u8.set(w.bytes, w.addr);
        r.clear();
        r.setBig(3, c.opcode);
        c.args.forEach((a, i) => {
          r.setBig(4 + i, a);
        });
        const rc = port.hcall(r, 0);
        if (!allowedCodes(Number(c.opcode)).includes(rc)) illegal.push(returnCodeName(rc));
      }
      expect(illegal).toEqual(planted ? ['H_NOT_AVAILABLE'] : []);
    }
  });
});

describe('nestsim stress --minimize', () => {
  it('prints the minimal sequence of a failing run (JSON), and nothing more for a passing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestsim-fuzz-'));
    const file = join(dir, 'fuzz.yaml');
    writeFileSync(
      file,
      'name: fuzz\nseed: 3\nl1: { memory: 64M }\nstressors:\n  hcall-fuzz: { agents: 1, iterations: 1500, deleteAll: true }\n',
    );
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [join(packageRoot(), 'bin', 'nestsim.js'), 'stress', file, '--deterministic', '--json', ...args],
        {
          encoding: 'utf8',
        },
      );
    const ok = cli('--minimize');
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).minimized).toBeUndefined();
    // SET_STATE drops the run input buffer: RUN_VCPU then answers H_INPUT_BUFFER_NOT_DEFINED where
    // the spec's order (the agent registered it) gives a later code.
    const bad = cli('--minimize', '--mutant', 'set-state-drops=RUN_INPUT');
    expect(bad.status, bad.stderr).toBe(1);
    const r = JSON.parse(bad.stdout);
    expect(r.ok).toBe(false);
    const m = r.minimized.minimized[0];
    expect(m.rule).toBe('expected');
    expect(m.confirmed).toBe(true);
    expect(m.calls.map((c: { call: string }) => c.call.split('(')[0])).toEqual([
      'H_GUEST_CREATE',
      'H_GUEST_CREATE_VCPU',
      'H_GUEST_SET_STATE',
      'H_GUEST_RUN_VCPU',
    ]);
    expect(m.calls[3].problem).toMatch(
      /answered H_INPUT_BUFFER_NOT_DEFINED where the spec's check order gives/,
    );
  });
});

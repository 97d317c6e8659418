import { describe, expect, it } from 'vitest';
import { INSPECT, Perm, Pte, partitionScopedWalk, Translation } from '../mem/radix.js';
import { bumpAllocator, MapStatus, RadixWriter } from '../mem/radix-writer.js';
import { bswap32, GuestRam } from '../mem/ram.js';
import { Access, asL1RA, asL2RA } from '../mem/types.js';
import { type RaceJob, RaceLayout, type RaceReport } from './workers/mem-radix-worker.js';
import { allReady, runWorker, startLine } from './workers/mem-spawn.js';

describe('radix walker against a concurrent writer', () => {
  it('walks see only published states while a leaf is mapped, remapped, unmapped and protected', async () => {
    const ram = GuestRam.create(8 * 2 ** 20);
    const w = RadixWriter.create(ram, bumpAllocator(0x10000, 0x10_0000))!;
    expect(w.map(asL2RA(RaceLayout.L2RA), asL1RA(RaceLayout.A), 12, Perm.Read)).toBe(MapStatus.Ok);
    const line = startLine();
    const stop = new SharedArrayBuffer(4);
    const job = (role: RaceJob['role']): RaceJob => ({
      role,
      ram: ram.sab,
      root: w.root,
      start: line.sab,
      stop,
      rounds: 300_000,
    });
    const runs = [
      runWorker<RaceReport>('mem-radix-worker.js', job('write'), 60_000),
      runWorker<RaceReport>('mem-radix-worker.js', job('walk'), 60_000),
    ];
    await allReady(line.sab, 2);
    line.open();
    const [writer, walker] = await Promise.all(runs);
    expect(writer!.anomalies).toEqual([]);
    expect(walker!.anomalies).toEqual([]);
    // Every outcome was reached, so the walks really overlapped the edits.
    expect(walker!.toA).toBeGreaterThan(0);
    expect(walker!.toB).toBeGreaterThan(0);
    expect(walker!.unmapped).toBeGreaterThan(0);
  });
});

/** The (high, low) words of one entry after every store the writer makes to it while `edit` runs. */
function entryStates(ram: GuestRam, word: number, edit: () => void): Array<[number, number]> {
  const i32 = ram.i32;
  const states: Array<[number, number]> = [[Atomics.load(i32, word), Atomics.load(i32, word + 1)]];
  const note = (a: unknown, i: number) => {
    if (a === i32 && (i === word || i === word + 1))
      states.push([Atomics.load(i32, word), Atomics.load(i32, word + 1)]);
  };
  const store = Atomics.store;
  const cas = Atomics.compareExchange;
  const spy = Atomics as unknown as Record<string, (a: Int32Array, i: number, ...v: number[]) => number>;
  spy.store = (a, i, v) => {
    const r = store(a, i, v!);
    note(a, i);
    return r;
  };
  spy.compareExchange = (a, i, expected, next) => {
    const r = cas(a, i, expected!, next!);
    note(a, i);
    return r;
  };
  try {
    edit();
  } finally {
    spy.store = store as never;
    spy.compareExchange = cas as never;
  }
  return states;
}

describe("the writer's publication order, against every schedule of a walk", () => {
  // A walk reads high, low, high and keeps the pair when both high reads agree. Replaying the
  // writer's stores one by one, every such read (any three moments t1 ≤ t ≤ t2) must give an
  // entry the writer really published; a store order that exposes a half-written entry fails.
  it('a walk that reads the same valid high half twice always holds a published entry', () => {
    const ram = GuestRam.create(8 * 2 ** 20);
    const w = RadixWriter.create(ram, bumpAllocator(0x10000, 0x10_0000))!;
    const page = asL2RA(RaceLayout.L2RA);
    expect(w.map(page, asL1RA(RaceLayout.A), 12, Perm.Read)).toBe(MapStatus.Ok);
    const t = new Translation();
    expect(partitionScopedWalk(ram, w.root, page, Access.Read, INSPECT, t)).toBe(true);
    const word = t.entry >>> 2;
    const states = entryStates(ram, word, () => {
      for (let r = 0; r < 24; r++) {
        if (r % 3 === 0) w.unmap(page, 12);
        w.map(page, asL1RA(r & 1 ? RaceLayout.B : RaceLayout.A), 12, Perm.Read | Perm.Write);
        w.protect(page, 12, r & 2 ? Perm.Read | Perm.Exec : Perm.Read | Perm.Write);
      }
    });
    const valid = (hi: number) => (bswap32(hi) & Pte.V) !== 0;
    const published = new Set(states.filter(([hi]) => valid(hi)).map(([hi, lo]) => `${hi}:${lo}`));
    const torn: string[] = [];
    let reads = 0;
    for (let t1 = 0; t1 < states.length; t1++) {
      const hi = states[t1]![0];
      if (!valid(hi)) continue;
      for (let t2 = t1; t2 < states.length; t2++) {
        if (states[t2]![0] !== hi) continue;
        for (let k = t1; k <= t2; k++) {
          reads++;
          const lo = states[k]![1];
          if (!published.has(`${hi}:${lo}`) && torn.length < 3)
            torn.push(`high of states ${t1}..${t2}, low of ${k}`);
        }
      }
    }
    expect(states.length).toBeGreaterThan(24 * 3);
    expect(reads).toBeGreaterThan(1000);
    expect(torn).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { Perm } from '../mem/radix.js';
import { bumpAllocator, MapStatus, RadixWriter } from '../mem/radix-writer.js';
import { GuestRam } from '../mem/ram.js';
import { asL1RA, asL2RA } from '../mem/types.js';
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

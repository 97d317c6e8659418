import { describe, expect, it } from 'vitest';
import { GuestRam } from '../mem/ram.js';
import { asL1RA } from '../mem/types.js';
import { type CasJob, CasLayout, type CasReport } from './workers/mem-cas-worker.js';
import { allReady, runWorker, startLine } from './workers/mem-spawn.js';

const WORKERS = 4;
const ITERATIONS = 200_000;
/** Doubleword counters start just below a 2^32 carry so that carries race too. */
const D64_START = 0xffff_ffff - 1000;

describe('compare-exchange from several worker threads', () => {
  it(`${WORKERS} workers × ${ITERATIONS} increments of 1/2/4/8-byte counters lose nothing`, async () => {
    const ram = GuestRam.create(0x1_0000);
    ram.write64le(asL1RA(CasLayout.D64LE), 0, D64_START | 0);
    ram.write64be(asL1RA(CasLayout.D64BE), 0, D64_START | 0);
    const line = startLine();
    const job = (role: CasJob['role']): CasJob => ({
      ram: ram.sab,
      start: line.sab,
      role,
      iterations: role === 'plain' ? 2_000_000 : ITERATIONS,
    });
    const runs = [
      ...Array.from({ length: WORKERS }, () => runWorker<CasReport>('mem-cas-worker.js', job('cas'), 50_000)),
      runWorker<CasReport>('mem-cas-worker.js', job('plain'), 50_000),
    ];
    await allReady(line.sab, WORKERS + 1);
    line.open();
    const reports = await Promise.all(runs);
    // Contention really happened (else this test could not catch a non-atomic CAS).
    expect(reports.reduce((n, r) => n + r.failedCas, 0)).toBeGreaterThan(0);

    const total = WORKERS * ITERATIONS;
    expect(ram.read32le(asL1RA(CasLayout.W32LE))).toBe(total);
    expect(ram.read32be(asL1RA(CasLayout.W32BE))).toBe(total);
    const end = BigInt(D64_START + total);
    expect(ram.dv.getBigUint64(CasLayout.D64LE, true)).toBe(end);
    expect(ram.dv.getBigUint64(CasLayout.D64BE, false)).toBe(end);
    expect(ram.read8(asL1RA(CasLayout.WORD))).toBe(total & 0xff);
    expect(ram.read16le(asL1RA(CasLayout.WORD + 2))).toBe(total & 0xffff);
    expect(ram.read16be(asL1RA(CasLayout.BE16))).toBe(total & 0xffff);
    // The byte stored plainly between the two narrow counters survived every word CAS.
    expect(ram.read8(asL1RA(CasLayout.WORD + 1))).toBe(0x5a);

    // Each successful narrow CAS replaced a distinct counter value: two successes from the same
    // old value would be a lost update even when the final value wraps to the right number.
    for (const [key, width] of [
      ['h8', 256],
      ['h16le', 65536],
      ['h16be', 65536],
    ] as const) {
      const h = new Uint32Array(width);
      for (const r of reports) for (let v = 0; v < width; v++) h[v]! += r[key][v]!;
      for (let v = 0; v < width; v++) {
        const want = Math.floor(total / width) + (v < total % width ? 1 : 0);
        if (h[v] !== want) expect(`${key}[${v}] = ${h[v]}`).toBe(`${key}[${v}] = ${want}`);
      }
    }
  });
});

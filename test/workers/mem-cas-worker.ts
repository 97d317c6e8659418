/**
 * Worker for test/mem-cas.test.ts: hammers counters in one GuestRam with compare-exchange loops
 * (or, as role 'plain', with plain byte stores next to them) and reports what it saw.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GuestRam } from '../../mem/ram.js';
import { asL1RA } from '../../mem/types.js';
import { waitStart } from './mem-spawn.js';

/** Where the shared counters live (byte offsets into the RAM). */
export const CasLayout = {
  /** Byte counter at WORD+0, plain-stored byte at WORD+1, LE halfword counter at WORD+2. */
  WORD: 0x40,
  /** Big-endian halfword counter (its own word). */
  BE16: 0x46,
  /** LE word counter. */
  W32LE: 0x80,
  /** BE word counter. */
  W32BE: 0x84,
  /** LE doubleword counter. */
  D64LE: 0xc0,
  /** BE doubleword counter. */
  D64BE: 0xc8,
} as const;

/** workerData of this worker. */
export interface CasJob {
  ram: SharedArrayBuffer;
  start: SharedArrayBuffer;
  role: 'cas' | 'plain';
  iterations: number;
}

/** The result message: histograms of the old values each successful narrow CAS replaced. */
export interface CasReport {
  h8: Uint32Array;
  h16le: Uint32Array;
  h16be: Uint32Array;
  failedCas: number;
}

function main(job: CasJob): CasReport {
  const ram = GuestRam.attach(job.ram);
  const h8 = new Uint32Array(256);
  const h16le = new Uint32Array(65536);
  const h16be = new Uint32Array(65536);
  const pair = new Int32Array(2);
  let failedCas = 0;
  waitStart(job.start);
  if (job.role === 'plain') {
    for (let i = 0; i < job.iterations; i++) ram.u8[CasLayout.WORD + 1] = i & 0xff;
    ram.u8[CasLayout.WORD + 1] = 0x5a;
    return { h8, h16le, h16be, failedCas };
  }
  for (let i = 0; i < job.iterations; i++) {
    for (;;) {
      const v = ram.read8(asL1RA(CasLayout.WORD));
      if (ram.cas8(asL1RA(CasLayout.WORD), v, (v + 1) & 0xff) === v) {
        h8[v]!++;
        break;
      }
      failedCas++;
    }
    for (;;) {
      const v = ram.read16le(asL1RA(CasLayout.WORD + 2));
      if (ram.cas16le(asL1RA(CasLayout.WORD + 2), v, (v + 1) & 0xffff) === v) {
        h16le[v]!++;
        break;
      }
      failedCas++;
    }
    for (;;) {
      const v = ram.read16be(asL1RA(CasLayout.BE16));
      if (ram.cas16be(asL1RA(CasLayout.BE16), v, (v + 1) & 0xffff) === v) {
        h16be[v]!++;
        break;
      }
      failedCas++;
    }
    for (;;) {
      const v = ram.read32le(asL1RA(CasLayout.W32LE));
      if (ram.cas32le(asL1RA(CasLayout.W32LE), v, v + 1) === v) break;
      failedCas++;
    }
    for (;;) {
      const v = ram.read32be(asL1RA(CasLayout.W32BE));
      if (ram.cas32be(asL1RA(CasLayout.W32BE), v, v + 1) === v) break;
      failedCas++;
    }
    // 64-bit increments with carry between the halves: the halves must change together.
    for (const [addr, le] of [
      [CasLayout.D64LE, true],
      [CasLayout.D64BE, false],
    ] as const) {
      if (le) ram.read64le(asL1RA(addr), pair, 0);
      else ram.read64be(asL1RA(addr), pair, 0);
      for (;;) {
        const hi = pair[0]!;
        const lo = pair[1]!;
        const nlo = (lo + 1) | 0;
        const nhi = nlo === 0 ? (hi + 1) | 0 : hi;
        const ok = le
          ? ram.cas64le(asL1RA(addr), hi, lo, nhi, nlo, pair, 0)
          : ram.cas64be(asL1RA(addr), hi, lo, nhi, nlo, pair, 0);
        if (ok === 1) break;
        failedCas++;
      }
    }
  }
  return { h8, h16le, h16be, failedCas };
}

// Run only as a worker started with a CasJob (the test file imports this module for its types).
const job = workerData as CasJob | null;
if (parentPort && job?.role) parentPort.postMessage(main(job));

/**
 * Worker for test/mem-radix-race.test.ts: one thread edits a leaf of a radix tree (map, remap in
 * place, unmap, protect) while others walk it, checking that every walk sees one of the states the
 * writer published, never a torn entry.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StorageFault } from '../../hypervisor/papr.js';
import { GUEST_ACCESS, Perm, partitionScopedWalk, type RadixRoot, Translation } from '../../mem/radix.js';
import { bumpAllocator, MapStatus, RadixWriter } from '../../mem/radix-writer.js';
import { GuestRam } from '../../mem/ram.js';
import { Access, asL1RA, asL2RA } from '../../mem/types.js';
import { waitStart } from './mem-spawn.js';

/** The page under test and its two possible targets. */
export const RaceLayout = { L2RA: 0x4000_3000, A: 0x20_0000, B: 0x5f_f000 } as const;

/** workerData of this worker. */
export interface RaceJob {
  role: 'walk' | 'write';
  ram: SharedArrayBuffer;
  root: RadixRoot;
  start: SharedArrayBuffer;
  /** Word 0: set to 1 by the writer when done. */
  stop: SharedArrayBuffer;
  rounds: number;
}

/** The result message. */
export interface RaceReport {
  walks: number;
  /** Outcomes seen: ok to A, ok to B, NOPTE. */
  toA: number;
  toB: number;
  unmapped: number;
  anomalies: string[];
}

function write(job: RaceJob, ram: GuestRam): RaceReport {
  // The tables exist already (the test mapped the page once), so no allocation happens here.
  const w = RadixWriter.attach(ram, job.root, bumpAllocator(0, 0));
  const page = asL2RA(RaceLayout.L2RA);
  const anomalies: string[] = [];
  const stop = new Int32Array(job.stop);
  waitStart(job.start);
  for (let r = 0; r < job.rounds; r++) {
    const target = r & 1 ? RaceLayout.B : RaceLayout.A;
    if (r % 3 === 0) w.unmap(page, 12);
    if (w.map(page, asL1RA(target), 12, Perm.Read | Perm.Write) !== MapStatus.Ok) anomalies.push(`map ${r}`);
    w.protect(page, 12, r & 2 ? Perm.Read | Perm.Exec : Perm.Read | Perm.Write);
  }
  Atomics.store(stop, 0, 1);
  return { walks: 0, toA: 0, toB: 0, unmapped: 0, anomalies };
}

function walk(job: RaceJob, ram: GuestRam): RaceReport {
  const t = new Translation();
  const stop = new Int32Array(job.stop);
  const rep: RaceReport = { walks: 0, toA: 0, toB: 0, unmapped: 0, anomalies: [] };
  waitStart(job.start);
  while (Atomics.load(stop, 0) === 0) {
    rep.walks++;
    const ok = partitionScopedWalk(
      ram,
      job.root,
      asL2RA(RaceLayout.L2RA + 0x18),
      Access.Read,
      GUEST_ACCESS,
      t,
    );
    if (ok && t.l1ra === RaceLayout.A + 0x18) rep.toA++;
    else if (ok && t.l1ra === RaceLayout.B + 0x18) rep.toB++;
    else if (!ok && t.cause === StorageFault.NOPTE && !t.machineCheck) rep.unmapped++;
    else if (rep.anomalies.length < 5)
      rep.anomalies.push(
        `ok=${ok} l1ra=0x${t.l1ra.toString(16)} cause=0x${t.cause.toString(16)} mc=${t.machineCheck}`,
      );
  }
  return rep;
}

const job = workerData as RaceJob | null;
if (parentPort && job?.role) {
  const ram = GuestRam.attach(job.ram);
  parentPort.postMessage(job.role === 'write' ? write(job, ram) : walk(job, ram));
}

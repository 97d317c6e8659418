/**
 * Worker for test/l0-v1-race.test.ts: one simulated core on its own thread, with its own L0 view
 * attached to the shared L0 and v1 state, as a core of the multicore runtime has. Roles:
 *   create  enter a fresh LPID every round at the same moment as the other core (implicit creation
 *           of the L2 and of the vCPU race);
 *   fill    run one vCPU of an L2 whose other vCPU runs on the other core, over and over, each run
 *           summing a word from every page (concurrent shadow fills), optionally dropping the
 *           shadow tree between runs (retire and deferred free while the other core walks it; not
 *           after the last, so that the test can look at the tree);
 *   l1      play L1: remap a page to a new frame, H_TLB_INVALIDATE it, then publish the frame's
 *           number in L2 memory, many times;
 *   l2      run an L2 loop that reads the published number and then the page, counting reads of a
 *           frame older than the published one (there must be none).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { L0, type L0SharedState } from '../../hypervisor/l0/l0.js';
import { HcallRegs } from '../../hypervisor/l0/regs.js';
import { V1Host, type V1Shared } from '../../hypervisor/l0/v1/host.js';
import { installV1 } from '../../hypervisor/l0/v1/registry.js';
import { Hv, Regs } from '../../hypervisor/l0/v1/structs.js';
import { H, Hcall, Vector } from '../../hypervisor/papr.js';
import { Perm, type RadixRoot } from '../../mem/radix.js';
import { bumpAllocator, RadixWriter } from '../../mem/radix-writer.js';
import { asL1RA, asL2RA } from '../../mem/types.js';
import { waitStart } from './mem-spawn.js';

/** workerData of this worker. */
export interface V1Job {
  role: 'create' | 'fill' | 'l1' | 'l2';
  core: number;
  l0: L0SharedState;
  v1: V1Shared;
  start: SharedArrayBuffer;
  /** Word 0: a barrier counter (create), or a "done" flag the l2 role sets for the l1 role. */
  sync: SharedArrayBuffer;
  /** L1 addresses of this core's hv_guest_state and pt_regs. */
  hv: number;
  regs: number;
  rounds: number;
  /** create: the vCPU token this core uses (the same on both cores, or not). */
  token: number;
  /** fill: the sum every run must produce; drop the shadow tree after every run when set. */
  expected?: number;
  flush?: boolean;
  /** l1: the L2's tree, the page to remap, where frames come from, where the number is published. */
  root?: RadixRoot;
  page?: number;
  frames?: number;
  publish?: number;
  lpid?: number;
}

/** The result message. */
export interface V1Report {
  /** create: r3 of each round; fill/l2: r3 of each entry that ended the program. */
  rcs: number[];
  /** fill: runs whose sum was wrong; l2: stale reads counted by the L2 program. */
  bad: number;
  entries: number;
  /** l2: HDSIs forwarded to L1 (the page was unmapped for a moment during a remap). */
  faults: number;
  errors: string[];
}

function enter(l0: L0, job: V1Job, r: HcallRegs): number {
  r.clear();
  r.setInt(3, Hcall.H_ENTER_NESTED);
  r.setInt(4, job.hv);
  r.setInt(5, job.regs);
  return l0.hcall(r, job.core);
}

/**
 * Enters until the program's final hcall (H_INTERRUPT and H_BUSY: enter again). With `faults`, an
 * HDSI is L1's business done: the page was between L1's unmap and map (as L1's address space
 * answers a fault on a page it maps: run again); they are counted in rep.faults.
 */
function runToHcall(l0: L0, job: V1Job, r: HcallRegs, rep: V1Report, faults = false): number {
  for (;;) {
    const rc = enter(l0, job, r);
    rep.entries++;
    if (rc === H.INTERRUPT || rc === H.BUSY) continue;
    if (faults && rc === Vector.HV_DATA_STORAGE) {
      rep.faults++;
      continue;
    }
    return rc;
  }
}

function create(l0: L0, job: V1Job, rep: V1Report): void {
  const r = new HcallRegs();
  const bar = new Int32Array(job.sync);
  const dv = l0.ram.dv;
  waitStart(job.start);
  for (let round = 1; round <= job.rounds; round++) {
    // Both cores arrive, then both enter LPID `round` at once.
    Atomics.add(bar, 0, 1);
    while (Atomics.load(bar, 0) < 2 * round);
    dv.setUint32(job.hv + Hv.LPID, round, true);
    dv.setUint32(job.hv + Hv.VCPU_TOKEN, job.token, true);
    dv.setBigUint64(job.regs + Regs.NIP, 0x1000n, true);
    rep.rcs.push(enter(l0, job, r));
  }
}

function fill(l0: L0, job: V1Job, rep: V1Report): void {
  const r = new HcallRegs();
  const dv = l0.ram.dv;
  const regs0 = l0.ram.u8.slice(job.regs, job.regs + 352);
  waitStart(job.start);
  for (let round = 0; round < job.rounds; round++) {
    l0.ram.u8.set(regs0, job.regs); // the program from the start
    const rc = runToHcall(l0, job, r, rep);
    rep.rcs.push(rc);
    if (rc !== Vector.SYSTEM_CALL || Number(dv.getBigUint64(job.regs + 8 * 3, true)) !== job.expected)
      rep.bad++;
    if (job.flush && round < job.rounds - 1) {
      r.clear();
      r.setInt(3, Hcall.H_TLB_INVALIDATE);
      r.setInt(4, 1 << 16); // RIC 0, PRS 0, R 1
      r.setInt(5, 1);
      r.setInt(6, 2 << 10); // IS 2: the LPID
      if (l0.hcall(r, job.core) !== H.SUCCESS) rep.errors.push(`tlbie: ${l0.lastReason}`);
    }
  }
}

function l1(l0: L0, job: V1Job, rep: V1Report): void {
  const r = new HcallRegs();
  const w = RadixWriter.attach(l0.ram, job.root!, bumpAllocator(0, 0));
  const done = new Int32Array(job.sync);
  const dv = l0.ram.dv;
  const page = asL2RA(job.page!);
  waitStart(job.start);
  for (let k = 1; k <= job.rounds && Atomics.load(done, 0) === 0; k++) {
    const frame = job.frames! + k * 4096;
    dv.setInt32(frame, k, true);
    w.unmap(page, 12);
    if (w.map(page, asL1RA(frame), 12, Perm.Read | Perm.Write) !== 0) rep.errors.push(`map ${k}`);
    r.clear();
    r.setInt(3, Hcall.H_TLB_INVALIDATE);
    r.setInt(4, 1 << 16);
    r.setInt(5, job.lpid!);
    r.setInt(6, job.page!); // IS 0, AP 0 (4 KiB), EPN = the page
    const rc = l0.hcall(r, job.core);
    rep.rcs.push(rc);
    // Only now may the L2 know about frame k: the old translation must be gone everywhere.
    Atomics.store(l0.ram.i32, job.publish! >>> 2, k);
  }
  rep.entries = l0.stats.ackWaits;
  for (const v of l0.stats.violations) rep.errors.push(v);
}

function l2(l0: L0, job: V1Job, rep: V1Report): void {
  const r = new HcallRegs();
  const done = new Int32Array(job.sync);
  waitStart(job.start);
  const rc = runToHcall(l0, job, r, rep, true);
  rep.rcs.push(rc);
  rep.bad = Number(l0.ram.dv.getBigUint64(job.regs + 8 * 20, true));
  Atomics.store(done, 0, 1);
}

const job = workerData as V1Job | null;
if (parentPort && job?.role) {
  const l0 = L0.attach(job.l0, job.core);
  installV1(l0, V1Host.attach(job.v1));
  const rep: V1Report = { rcs: [], bad: 0, entries: 0, faults: 0, errors: [] };
  try {
    ({ create, fill, l1, l2 })[job.role](l0, job, rep);
  } catch (e) {
    rep.errors.push(String(e instanceof Error ? e.stack : e));
  }
  parentPort.postMessage(rep);
}

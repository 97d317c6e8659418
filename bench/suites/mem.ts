/**
 * `nestsim bench mem`: the costs the mem/ design rests on, measured side by side in one process
 * (docs/architecture.md "Why the L1 vCPU loop runs on the core…", mem/*.ts header comments):
 * cross-thread round trips (channel spinning, channel with a sleeping side, postMessage), a TLB
 * hit against a 4-level radix walk, resident memory of a mostly untouched 4 GiB RAM, and
 * Atomics against plain typed-array accesses.
 *
 * This module is also its own echo worker: started with `workerData.memBenchEcho`, it answers
 * round trips instead of exporting a suite (so the suite needs no second compiled file).
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  ChannelReceiver,
  ChannelSender,
  type ChannelShared,
  ChannelStatus,
  createChannel,
} from '../../mem/channel.js';
import { Generations } from '../../mem/generations.js';
import { GUEST_ACCESS, INSPECT, Perm, partitionScopedWalk, Translation } from '../../mem/radix.js';
import { bumpAllocator, RadixWriter } from '../../mem/radix-writer.js';
import { GuestRam } from '../../mem/ram.js';
import { CountingTlb, TLB_CTX, Tlb } from '../../mem/tlb.js';
import { Access, asL1RA, asL2RA, type L2RA } from '../../mem/types.js';
import { perRun, runsFor, sample } from '../stats.js';
import type { BenchMetric, BenchSuite } from '../types.js';

/** workerData of the echo worker. */
type EchoJob =
  | { memBenchEcho: 'channel'; req: ChannelShared; rep: ChannelShared; spin: number }
  | { memBenchEcho: 'postMessage' };

const RECORD_WORDS = 4;
/**
 * Word 1 of the record that ends the echo loop. A receiver spinning "forever" polls its ring
 * SPIN_FOREVER times before it looks at CLOSED (mem/channel.ts), about 30 s, so close() alone would
 * keep the worker alive that long.
 */
const STOP = -1;
/** Spin count meaning "never sleep" for the spinning measurements. */
const SPIN_FOREVER = 2 ** 30;

function runEcho(job: EchoJob): void {
  const port = parentPort!;
  if (job.memBenchEcho === 'postMessage') {
    port.on('message', (m: unknown) => {
      if (m === 'stop') port.close();
      else port.postMessage(m);
    });
    return;
  }
  const rx = new ChannelReceiver(job.req, job.spin);
  const tx = new ChannelSender(job.rep, job.spin);
  const rec = new Int32Array(RECORD_WORDS);
  while (rx.receive(rec, 0) === ChannelStatus.Ok && rec[1] !== STOP) tx.send(rec, 0);
}

if (!isMainThread && (workerData as EchoJob | null)?.memBenchEcho) runEcho(workerData as EchoJob);

const self = fileURLToPath(import.meta.url);

/** Uncounted runs before the counted ones, for every measurement of this suite but RSS. */
const WARMUP = 2;

function metric(name: string, unit: string, samples: number[], note: string, warmup = WARMUP): BenchMetric {
  return perRun({ suite: 'mem', name, unit, note }, samples, warmup);
}

/** Nanoseconds per iteration of `body` run `n` times (body returns a value so it is not dead code). */
function nsPer(n: number, body: (n: number) => number): number {
  const t0 = performance.now();
  const sink = body(n);
  const t1 = performance.now();
  if (sink === 0.5) process.stderr.write(''); // keep `sink` alive
  return ((t1 - t0) * 1e6) / n;
}

async function channelRoundTrip(
  opts: { mainSpin: number; echoSpin: number },
  perSample: number,
  runs: number,
): Promise<number[]> {
  const req = createChannel({ records: 16, recordWords: RECORD_WORDS });
  const rep = createChannel({ records: 16, recordWords: RECORD_WORDS });
  const job: EchoJob = { memBenchEcho: 'channel', req, rep, spin: opts.echoSpin };
  const w = new Worker(self, { workerData: job });
  const exited = new Promise((r) => w.once('exit', r));
  const tx = new ChannelSender(req, opts.mainSpin);
  const rx = new ChannelReceiver(rep, opts.mainSpin);
  const rec = new Int32Array(RECORD_WORDS);
  const once = () => {
    const t0 = performance.now();
    for (let i = 0; i < perSample; i++) {
      rec[0] = i;
      tx.send(rec, 0);
      if (rx.receive(rec, 0, 10_000) !== ChannelStatus.Ok || rec[0] !== i) throw new Error('echo lost');
    }
    return ((performance.now() - t0) * 1000) / perSample;
  };
  const out = await sample(runs, WARMUP, once);
  rec[1] = STOP;
  tx.send(rec, 0);
  tx.close();
  await exited;
  return out;
}

async function postMessageRoundTrip(perSample: number, runs: number): Promise<number[]> {
  const w = new Worker(self, { workerData: { memBenchEcho: 'postMessage' } satisfies EchoJob });
  const exited = new Promise((r) => w.once('exit', r));
  const once = async () => {
    const t0 = performance.now();
    for (let i = 0; i < perSample; i++) {
      const reply = new Promise((r) => w.once('message', r));
      w.postMessage(i);
      if ((await reply) !== i) throw new Error('echo lost');
    }
    return ((performance.now() - t0) * 1000) / perSample;
  };
  const out = await sample(runs, WARMUP, once);
  w.postMessage('stop');
  await exited;
  return out;
}

function residentMemory(log: (l: string) => void): { untouched: number; touched: number } {
  const mib = () => process.memoryUsage().rss / 2 ** 20;
  const before = mib();
  const ram = GuestRam.create(2 ** 32);
  const afterCreate = mib();
  // 1% of the 4 KiB pages: every 100th page gets one byte.
  for (let p = 0; p < 2 ** 20; p += 100) ram.u8[p * 4096] = 1;
  const afterTouch = mib();
  log(
    `RSS ${before.toFixed(0)} MiB → ${afterCreate.toFixed(0)} (4 GiB created) → ${afterTouch.toFixed(0)} (1% touched)`,
  );
  return { untouched: afterCreate - before, touched: afterTouch - before };
}

function tlbAndWalk(n: number, runs: number) {
  const ram = GuestRam.create(64 * 2 ** 20);
  const w = RadixWriter.create(ram, bumpAllocator(0x10000, 0x40_0000))!;
  const PAGES = 256;
  const lpid = 3;
  const tlb = new Tlb(Generations.create());
  const counting = new CountingTlb(Generations.create());
  const addrs = new Float64Array(PAGES);
  for (let k = 0; k < PAGES; k++) {
    // Pages spread over the L2RA space so that the walks touch different directories.
    const l2ra = asL2RA(k * 0x20_1000 + 0x1_0000_0000);
    w.map(l2ra, asL1RA(0x80_0000 + k * 0x1000), 12, Perm.Read | Perm.Write);
    addrs[k] = l2ra + 0x10;
    tlb.fill(lpid, l2ra, asL1RA(0x80_0000 + k * 0x1000), Access.Read);
    counting.fill(lpid, l2ra, asL1RA(0x80_0000 + k * 0x1000), Access.Read);
  }
  const t = new Translation();
  // Set R once so the measured walks are the steady state (no CAS).
  for (let k = 0; k < PAGES; k++)
    partitionScopedWalk(ram, w.root, addrs[k] as L2RA, Access.Read, GUEST_ACCESS, t);
  const inline = () =>
    nsPer(n, (m) => {
      const tagR = tlb.tagR;
      const delta = tlb.delta;
      const mask = tlb.mask;
      let s = 0;
      for (let i = 0; i < m; i++) {
        const l2ra = addrs[i & (PAGES - 1)]!;
        const pn = Math.floor(l2ra / 4096);
        const j = (pn ^ (lpid << 4)) & mask;
        s += tagR[j] === lpid * TLB_CTX + pn ? l2ra + delta[j]! : -1;
      }
      return s;
    });
  const method = (x: Tlb) => () =>
    nsPer(n, (m) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += x.lookup(lpid, addrs[i & (PAGES - 1)] as L2RA, Access.Read);
      return s;
    });
  const walk = (opts: typeof GUEST_ACCESS) => () =>
    nsPer(n / 10, (m) => {
      let s = 0;
      for (let i = 0; i < m; i++) {
        partitionScopedWalk(ram, w.root, addrs[i & (PAGES - 1)] as L2RA, Access.Read, opts, t);
        s += t.l1ra;
      }
      return s;
    });
  const flush = () => {
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) tlb.invalidateLpid(lpid + 1);
    return performance.now() - t0; // ms per 1000 = µs each
  };
  return {
    inline: samples(runs, inline),
    method: samples(runs, method(tlb)),
    counting: samples(runs, method(counting)),
    walk: samples(runs, walk(GUEST_ACCESS)),
    inspect: samples(runs, walk(INSPECT)),
    flush: samples(runs, flush),
  };
}

function samples(runs: number, f: () => number): number[] {
  for (let i = 0; i < WARMUP; i++) f();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(f());
  return out;
}

function atomicsVsPlain(n: number, runs: number) {
  const a = new Int32Array(new SharedArrayBuffer(4096 * 4));
  const M = 4095;
  const plainLoad = () =>
    nsPer(n, (m) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += a[i & M]!;
      return s;
    });
  const atomicLoad = () =>
    nsPer(n, (m) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += Atomics.load(a, i & M);
      return s;
    });
  const plainStore = () =>
    nsPer(n, (m) => {
      for (let i = 0; i < m; i++) a[i & M] = i;
      return a[7]!;
    });
  const atomicStore = () =>
    nsPer(n, (m) => {
      for (let i = 0; i < m; i++) Atomics.store(a, i & M, i);
      return a[7]!;
    });
  const ram = GuestRam.create(0x1_0000);
  const pair = new Int32Array(2);
  const cas32 = () =>
    nsPer(n / 10, (m) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += ram.cas32le(asL1RA(8 * (i & 255)), i - 1, i);
      return s;
    });
  const cas64 = () =>
    nsPer(n / 10, (m) => {
      let s = 0;
      for (let i = 0; i < m; i++) s += ram.cas64le(asL1RA(8 * (i & 255)), 0, i - 1, 0, i, pair, 0);
      return s;
    });
  return {
    plainLoad: samples(runs, plainLoad),
    atomicLoad: samples(runs, atomicLoad),
    plainStore: samples(runs, plainStore),
    atomicStore: samples(runs, atomicStore),
    cas32: samples(runs, cas32),
    cas64: samples(runs, cas64),
  };
}

/** The mem/ suite. */
export const suite: BenchSuite = {
  name: 'mem',
  describe: 'mem/: channel vs postMessage round trips, TLB hit vs radix walk, lazy RAM, Atomics cost',
  async run(ctx) {
    const { quick, log } = ctx;
    const runs = runsFor(ctx, 3, 9);
    const rt = quick ? 200 : 20_000;
    const rtSlow = quick ? 30 : 1_000;
    const n = quick ? 300_000 : 20_000_000;
    const out: BenchMetric[] = [];

    ctx.measuring('cross-thread round trips (channel, postMessage)');
    out.push(
      metric(
        'channel RTT, both spinning',
        'µs',
        await channelRoundTrip({ mainSpin: SPIN_FOREVER, echoSpin: SPIN_FOREVER }, rt, runs),
        'main ↔ echo worker over two mem/channel rings, 16-byte records, neither side ever sleeps',
      ),
      metric(
        'channel RTT, echo side blocks',
        'µs',
        await channelRoundTrip({ mainSpin: SPIN_FOREVER, echoSpin: 0 }, rtSlow, runs),
        'as above, but the echo worker sleeps in Atomics.wait for every request (spin 0)',
      ),
      metric(
        'channel RTT, both block',
        'µs',
        await channelRoundTrip({ mainSpin: 0, echoSpin: 0 }, rtSlow, runs),
        'as above, both sides sleep in Atomics.wait for every record',
      ),
      metric(
        'postMessage RTT',
        'µs',
        await postMessageRoundTrip(rtSlow, runs),
        'main → worker → main with postMessage of a number, awaiting each reply',
      ),
    );

    ctx.measuring('TLB hits, radix walks, TLB flush');
    const tw = tlbAndWalk(n, runs);
    out.push(
      metric(
        'TLB hit, inlined raw arrays',
        'ns',
        tw.inline,
        '256 cached 4K pages, lookup as documented in mem/tlb.ts',
      ),
      metric('TLB hit, Tlb.lookup()', 'ns', tw.method, 'same, through the method'),
      metric('TLB hit, CountingTlb.lookup()', 'ns', tw.counting, 'same, with hit/miss counters on'),
      metric(
        'radix walk 4-level (guest-visible)',
        'ns',
        tw.walk,
        'partitionScopedWalk of 256 4K pages in distinct directories, R already set',
      ),
      metric('radix walk 4-level (inspect)', 'ns', tw.inspect, 'same, guestVisible false'),
      metric('TLB flush LPID', 'µs', tw.flush, 'invalidateLpid scanning 1024 slots × 3 kinds'),
    );

    ctx.measuring('Atomics against plain accesses');
    const av = atomicsVsPlain(n, runs);
    out.push(
      metric('Int32Array plain load', 'ns', av.plainLoad, 'SAB-backed, sequential indices, summed'),
      metric('Int32Array Atomics.load', 'ns', av.atomicLoad, 'same loop with Atomics.load'),
      metric('Int32Array plain store', 'ns', av.plainStore, 'SAB-backed, sequential indices'),
      metric('Int32Array Atomics.store', 'ns', av.atomicStore, 'same loop with Atomics.store'),
      metric(
        'GuestRam.cas32le',
        'ns',
        av.cas32,
        'uncontended 4-byte compare-exchange through the checked accessor',
      ),
      metric(
        'GuestRam.cas64le',
        'ns',
        av.cas64,
        'uncontended 8-byte compare-exchange (BigUint64Array, BigInt boxing)',
      ),
    );

    ctx.measuring('resident memory of a 4 GiB RAM');
    const rss = residentMemory(log);
    out.push(
      metric(
        'RSS 4 GiB RAM untouched',
        'MiB',
        [rss.untouched],
        'process RSS delta after GuestRam.create(4 GiB)',
        0,
      ),
      metric(
        'RSS 4 GiB RAM 1% touched',
        'MiB',
        [rss.touched],
        'RSS delta after writing one byte in every 100th 4K page (41 MiB of pages)',
        0,
      ),
    );
    return out;
  },
};

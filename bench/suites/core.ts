/**
 * Interpreter speed: guest instructions per second on one core, for three loops assembled with
 * cores/encode.ts (integer arithmetic, load/store, branchy). Each loop runs in 64-bit LE guest real
 * mode through a partition-scoped tree built with mem/radix-writer.ts, so fetch and data
 * translation, predecode and check points are all on the measured path. Compiled C workloads and
 * the qemu-ppc64le comparison come from other suites.
 */
import { Core } from '../../cores/core.js';
import { encode as e } from '../../cores/encode.js';
import { invalidateCode } from '../../cores/isa/predecode.js';
import type { AccessKind, Partition } from '../../cores/mmu.js';
import { Vcpu } from '../../cores/vcpu.js';
import { GUEST_ACCESS, Perm, partitionScopedWalk, Translation } from '../../mem/radix.js';
import { bumpAllocator, RadixWriter } from '../../mem/radix-writer.js';
import { GuestRam } from '../../mem/ram.js';
import { asL1RA, asL2RA } from '../../mem/types.js';
import { perRun, runsFor, sample } from '../stats.js';
import type { BenchMetric, BenchSuite } from '../types.js';

const L2_BASE = 0x10_0000;
const L2_BYTES = 0x40_0000;
const CODE = 0x1000;
const SRC = 0x10_0000;
const DST = 0x20_0000;

/**
 * The three loops; each ends in `sc 1` after CTR trips. `trips` per run (quick, full) give each
 * loop some 30 million instructions in a full run (a branchy trip is a whole Collatz sequence of
 * 27: 111 steps, ~800 instructions).
 */
const LOOPS: { name: string; words: number[]; note: string; trips: { quick: number; full: number } }[] = [
  {
    name: 'integer loop',
    trips: { quick: 100_000, full: 3_000_000 },
    note: 'add, mulld, xor, rldicl, subf, addi, cmpd, isel, bdnz: 9 instructions per trip',
    words: [
      e.li!(3, 0),
      e.li!(4, 1),
      e.add!(3, 3, 4), // loop:
      e.mulld!(5, 3, 4),
      e.xor!(6, 5, 3),
      e.rldicl!(7, 6, 3, 0),
      e.subf!(8, 7, 3),
      e.addi!(4, 4, 1),
      e.cmpd!(0, 4, 8),
      e.isel!(3, 3, 8, 0),
      e.bdnz!(-32),
      e.sc!(1),
    ],
  },
  {
    name: 'load/store loop',
    trips: { quick: 100_000, full: 3_000_000 },
    note: 'ld, std, lwz, stw, addi ×2, bdnz (a copy loop over 1 MiB, wrapping): 7 per trip',
    words: [
      e.lis!(3, SRC >> 16),
      e.lis!(4, DST >> 16),
      e.ld!(5, 0, 3), // loop:
      e.std!(5, 0, 4),
      e.lwz!(6, 8, 3),
      e.stw!(6, 8, 4),
      e.addi!(3, 3, 16),
      e.rldicl!(3, 3, 0, 44), // wrap at 1 MiB: keep the low 20 bits, then rebase
      e.oris!(3, 3, SRC >> 16),
      e.addi!(4, 4, 16),
      e.rldicl!(4, 4, 0, 44),
      e.oris!(4, 4, DST >> 16),
      e.bdnz!(-40),
      e.sc!(1),
    ],
  },
  {
    name: 'branchy loop',
    trips: { quick: 1_000, full: 40_000 },
    note: 'Collatz steps with a call per trip: andi., beq, mulli/srdi, cmpdi, bne, bl/blr',
    words: [
      e.li!(3, 27), // 0
      e.andi_!(5, 3, 1), // 4 loop:
      e.beq!(16), // 8 → even
      e.mulli!(3, 3, 3), // 12
      e.addi!(3, 3, 1), // 16
      e.b!(8), // 20 → next
      e.srdi!(3, 3, 1), // 24 even:
      e.bl!(32), // 28 next: → fn at 60
      e.cmpdi!(0, 3, 1), // 32
      e.bne!(-32), // 36 → loop
      e.li!(3, 27), // 40 restart the sequence
      e.bdnz!(-40), // 44 → loop
      e.sc!(1), // 48
      e.nop!(), // 52
      e.nop!(), // 56
      e.addi!(9, 9, 1), // 60 fn:
      e.blr!(), // 64
    ],
  },
];

/** Partition over mem/'s walker; the core's EA TLB caches in front of it. */
class Walk implements Partition {
  cause = 0;
  machineCheck = false;
  private readonly t = new Translation();
  constructor(
    private readonly ram: GuestRam,
    private readonly w: RadixWriter,
  ) {}
  translate(l2ra: number, access: AccessKind): number {
    if (partitionScopedWalk(this.ram, this.w.root, asL2RA(l2ra), access, GUEST_ACCESS, this.t))
      return this.t.l1ra;
    this.cause = this.t.cause;
    this.machineCheck = this.t.machineCheck;
    return -1;
  }
  sync(): boolean {
    return false;
  }
}

function setup() {
  const ram = GuestRam.create(8 * 0x10_0000);
  const w = RadixWriter.create(ram, bumpAllocator(0, L2_BASE))!;
  for (let a = 0; a < L2_BYTES; a += 0x1_0000)
    w.map(asL2RA(a), asL1RA(L2_BASE + a), 16, Perm.Read | Perm.Write | Perm.Exec);
  const core = new Core({ ram });
  return { ram, core, partition: new Walk(ram, w) };
}

/** Runs one loop for `trips` trips; returns guest MIPS. */
function measure(loop: (typeof LOOPS)[number], trips: number): number {
  const { ram, core, partition } = setup();
  loop.words.forEach((word, k) => {
    ram.dv.setUint32(L2_BASE + CODE + 4 * k, word >>> 0, true);
  });
  invalidateCode(core.code.gen);
  const v = Vcpu.create();
  v.set(0x1022, 0x8000_0000_0000_0001n);
  v.set(0x1021, BigInt(CODE));
  v.set(0x1025, BigInt(trips)); // CTR
  v.set(0x102d, 0xffffn);
  const t0 = performance.now();
  const x = core.run(v, { core, partition }, 1e12);
  const dt = performance.now() - t0;
  if (x.vector !== 0xc00) throw new Error(`${loop.name}: ended with 0x${x.vector.toString(16)}`);
  return x.retired / dt / 1000;
}

/** The suite `nestsim bench core` runs. */
export const suite: BenchSuite = {
  name: 'core',
  describe: 'guest MIPS of the interpreter on one core (loops assembled with cores/encode.ts)',
  async run(ctx) {
    const runs = runsFor(ctx, 2, 7);
    const warmup = ctx.quick ? 1 : 2;
    const out: BenchMetric[] = [];
    for (const loop of LOOPS) {
      const name = `${loop.name} (MIPS)`;
      const trips = ctx.quick ? loop.trips.quick : loop.trips.full;
      ctx.measuring(name);
      const samples = await sample(runs, warmup, () => measure(loop, trips));
      const m = perRun(
        {
          suite: 'core',
          name,
          unit: 'MIPS',
          note: `${loop.note}; ${trips.toLocaleString('en-US')} trips per run, retired instructions over the wall time of Core.run`,
        },
        samples,
        warmup,
      );
      ctx.log(`${loop.name}: ${m.median.toFixed(1)} MIPS`);
      out.push(m);
    }
    return out;
  },
};

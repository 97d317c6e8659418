/**
 * Shared set-up for the core tests (not a test file): L1 RAM (mem/ram.ts), an L2 partition whose
 * partition-scoped radix tree L1 built with mem/radix-writer.ts, a core and a vCPU with a little
 * program loaded at CODE, in 64-bit little-endian guest real mode.
 *
 * Layout of the 4 MiB L1 RAM: radix tables in [0, 1 MiB), L2 memory (1 MiB, 4K pages, RWX) at
 * L1RA [L2_BASE, L2_BASE + 1 MiB) mapped at L2RA [0, 1 MiB), so L2RA ≠ L1RA in every test.
 */
import { Core, type ExitRecord } from '../cores/core.js';
import { assembleLE, encode } from '../cores/encode.js';
import { invalidateCode } from '../cores/isa/predecode.js';
import type { AccessKind, Partition } from '../cores/mmu.js';
import { R, Vcpu } from '../cores/vcpu.js';
import { GUEST_ACCESS, Perm, partitionScopedWalk, Translation } from '../mem/radix.js';
import { bumpAllocator, MapStatus, RadixWriter } from '../mem/radix-writer.js';
import { GuestRam } from '../mem/ram.js';
import { asL1RA, asL2RA } from '../mem/types.js';

/** Where test programs start (L2 real address). */
export const CODE = 0x1000;
/** A data area tests may use freely (L2 real address). */
export const DATA = 0x8000;
/** MSR for a 64-bit little-endian guest in real mode. */
export const MSR_SF_LE = 0x8000_0000_0000_0001n;
/** LPCR[ILE]. */
export const LPCR_ILE = 0x0200_0000n;
/** A DEC expiry no test reaches. */
export const DEC_NEVER = 0x4000_0000_0000_0000n;
/**
 * Vectors of the interrupts delivered inside the guest. `machine` puts an `attn` at each (an HEAI
 * exit that, unlike `sc`, leaves SRR0/SRR1 as the interrupt set them), so a guest interrupt ends
 * the run with exit 0xE40 at the vector (see `interrupted`).
 */
export const GUEST_VECTORS = [
  0x100, 0x300, 0x380, 0x400, 0x480, 0x500, 0x600, 0x700, 0x800, 0x900, 0xa00, 0xc00, 0xd00, 0xf00, 0xf20,
  0xf40, 0xf60,
];
/** L1RA of L2RA 0. */
export const L2_BASE = 0x10_0000;
/** Bytes of L2 memory mapped. */
export const L2_BYTES = 0x10_0000;

/**
 * The partition seam of cores/mmu.ts over mem/radix.ts's walker, with no TLB of its own (the
 * core's EA TLB caches in front). `dropped` lets a test play the coordinator's generation bump.
 */
export class WalkPartition implements Partition {
  cause = 0;
  machineCheck = false;
  dropped = false;
  private readonly t = new Translation();
  constructor(
    readonly ram: GuestRam,
    readonly writer: RadixWriter,
  ) {}
  translate(l2ra: number, access: AccessKind): number {
    if (partitionScopedWalk(this.ram, this.writer.root, asL2RA(l2ra), access, GUEST_ACCESS, this.t))
      return this.t.l1ra;
    this.cause = this.t.cause;
    this.machineCheck = this.t.machineCheck;
    return -1;
  }
  sync(): boolean {
    const d = this.dropped;
    this.dropped = false;
    return d;
  }
  /** Maps one 4K page (L1 then "invalidates": the next check point drops cached translations). */
  map(l2ra: number, l1ra: number, perms = Perm.Read | Perm.Write | Perm.Exec): void {
    if (this.writer.map(asL2RA(l2ra), asL1RA(l1ra), 12, perms) !== MapStatus.Ok)
      throw new Error('map failed');
    this.dropped = true;
  }
  /** Unmaps one 4K page. */
  unmap(l2ra: number): void {
    this.writer.unmap(asL2RA(l2ra), 12);
    this.dropped = true;
  }
  /** Changes the rights of one 4K page. */
  protect(l2ra: number, perms: number): void {
    this.writer.protect(asL2RA(l2ra), 12, perms);
    this.dropped = true;
  }
}

/** Builds the partition of the layout above. */
export function partition(ram: GuestRam): WalkPartition {
  const w = RadixWriter.create(ram, bumpAllocator(0, L2_BASE));
  if (!w) throw new Error('no memory for the radix root');
  const p = new WalkPartition(ram, w);
  for (let a = 0; a < L2_BYTES; a += 4096) p.map(a, L2_BASE + a);
  p.dropped = false;
  return p;
}

/** A machine with one core and one vCPU. */
export interface Machine {
  ram: GuestRam;
  part: WalkPartition;
  core: Core;
  vcpu: Vcpu;
  /** Writes little-endian words at an L2 real address. */
  load(l2ra: number, words: readonly number[]): void;
  /** Writes big-endian words at an L2 real address (code for MSR[LE] = 0). */
  loadBE(l2ra: number, words: readonly number[]): void;
  /** Runs the vCPU with an optional budget and HDEC expiry. */
  run(budget?: number, hdecExpiryTb?: number): ExitRecord;
}

/** A machine of the layout above with the program at CODE. */
export function machine(
  program: readonly number[] = [],
  opts: { ram?: GuestRam; part?: WalkPartition; core?: Core } = {},
): Machine {
  const ram = opts.ram ?? GuestRam.create(4 * 0x10_0000);
  const part = opts.part ?? partition(ram);
  const core = opts.core ?? new Core({ ram });
  const vcpu = Vcpu.create();
  vcpu.set(0x1022, MSR_SF_LE); // MSR
  vcpu.set(0x1021, BigInt(CODE)); // NIA
  vcpu.set(0x102d, 0xffffn); // HFSCR: every facility enabled (FP … TAR, MSGP)
  vcpu.set(0x102c, LPCR_ILE); // LPCR: interrupts are taken little-endian, as for every LE Linux
  vcpu.set(0x102a, DEC_NEVER); // DEC_EXPIRY_TB: no decrementer interrupt unless a test asks
  const m: Machine = {
    ram,
    part,
    core,
    vcpu,
    load(l2ra, words) {
      ram.u8.set(assembleLE(words), l2ra + L2_BASE);
      invalidateCode(core.code.gen); // a TypeScript writer of L2 code announces it, as a loader must
    },
    loadBE(l2ra, words) {
      words.forEach((w, k) => {
        ram.dv.setUint32(l2ra + L2_BASE + 4 * k, w >>> 0, false);
      });
      invalidateCode(core.code.gen);
    },
    run(budget = 1_000_000, hdecExpiryTb?: number) {
      return core.run(vcpu, { core, partition: part, hdecExpiryTb }, budget);
    },
  };
  for (const v of GUEST_VECTORS) m.load(v, [encode.attn!()]);
  m.load(CODE, program);
  return m;
}

/** GPRn of a machine as an unsigned bigint. */
export const gpr = (m: Machine, n: number): bigint => m.vcpu.gpr(n);

/** The CR as a 32-bit unsigned number. */
export const crOf = (m: Machine): number => m.vcpu.w[R.CR] >>> 0;

/** XER flags as a string "SO OV CA OV32 CA32" of 0/1. */
export const xerOf = (m: Machine): string =>
  [R.SO, R.OV, R.CA, R.OV32, R.CA32].map((k) => m.vcpu.w[k]).join('');

/** Unsigned 64-bit value of a signed bigint (test inputs like -1n). */
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Register state for `step`: GPRs by number, and optionally CR, XER, CTR, LR. */
export interface Regs {
  gpr?: Record<number, bigint>;
  cr?: number;
  xer?: bigint;
  ctr?: bigint;
  lr?: bigint;
}

/**
 * Runs `words` then `sc 1` from CODE on `m` after setting `regs` (other GPRs zeroed), and checks
 * that the run ended at that hcall having retired every instruction. Returns the exit record.
 */
export function step(m: Machine, words: readonly number[], regs: Regs = {}): ExitRecord {
  m.load(CODE, [...words, encode.sc!(1)]);
  const v = m.vcpu;
  for (let n = 0; n < 32; n++) v.setGpr(n, regs.gpr?.[n] ?? 0n);
  v.w[R.CR] = regs.cr ?? 0;
  v.set(0x1024, regs.xer ?? 0n);
  v.set64(R.CTR, regs.ctr ?? 0n);
  v.set64(R.LR, regs.lr ?? 0n);
  v.set(0x1021, BigInt(CODE));
  const x = m.run();
  if (x.vector !== 0xc00 || x.retired !== words.length + 1 || x.niaLo !== CODE + 4 * words.length + 4)
    throw new Error(
      `step: ended with vector 0x${x.vector.toString(16)} after ${x.retired} instructions at 0x${x.nia.toString(16)}`,
    );
  return x;
}

/** The guest vector a run was interrupted to (its stub's `attn` exited), or -1. */
export function interrupted(x: ExitRecord): number {
  return x.vector === 0xe40 && x.niaHi === 0 && GUEST_VECTORS.includes(x.niaLo) ? x.niaLo : -1;
}

/**
 * Shared set-up for the core tests (not a test file): L1 RAM, a partition, a core and a vCPU
 * with a little program loaded at CODE, in 64-bit little-endian guest real mode.
 *
 * `FlatPartition` is a stand-in until mem/radix.ts lands: L2RA → L1RA = L2RA + offset inside a
 * window, with pages that can be unmapped or made read-only to produce HDSI/HISI causes.
 */
import { Core, type Core as CoreT, type ExitRecord } from '../cores/core.js';
import { assembleLE, encode } from '../cores/encode.js';
import { invalidateCode } from '../cores/isa/predecode.js';
import { Access, type AccessKind, type Partition } from '../cores/mmu.js';
import { R, Vcpu } from '../cores/vcpu.js';
import { GuestRam } from '../mem/ram.js';

/** Where test programs start (L2 real address). */
export const CODE = 0x1000;
/** A data area tests may use freely (L2 real address). */
export const DATA = 0x8000;
/** MSR for a 64-bit little-endian guest in real mode. */
export const MSR_SF_LE = 0x8000_0000_0000_0001n;

/** L2RA → L1RA = L2RA + offset for L2RA below `size`; optional holes and read-only pages. */
export class FlatPartition implements Partition {
  cause = 0;
  readonly unmapped = new Set<number>();
  readonly readOnly = new Set<number>();
  constructor(
    readonly offset: number,
    readonly size: number,
  ) {}
  translate(l2ra: number, access: AccessKind): number {
    const pg = Math.floor(l2ra / 4096);
    if (l2ra >= this.size || this.unmapped.has(pg)) {
      this.cause = 0x4000_0000; // NOPTE
      return -1;
    }
    if (access === Access.WRITE && this.readOnly.has(pg)) {
      this.cause = 0x0800_0000; // PROTFAULT
      return -1;
    }
    return l2ra + this.offset;
  }
  dropped = false;
  sync(): boolean {
    const d = this.dropped;
    this.dropped = false;
    return d;
  }
}

/** A machine with one core and one vCPU. */
export interface Machine {
  ram: GuestRam;
  part: FlatPartition;
  core: CoreT;
  vcpu: Vcpu;
  /** Writes little-endian words at an L2 real address. */
  load(l2ra: number, words: readonly number[]): void;
  /** Runs the vCPU with an optional budget and HDEC expiry. */
  run(budget?: number, hdecExpiryTb?: number): ExitRecord;
}

/** 1 MiB of RAM, L2 memory at L1RA 0x10000 (so L2RA ≠ L1RA), the program at CODE. */
export function machine(program: readonly number[] = [], opts: { ramBytes?: number } = {}): Machine {
  const ram = GuestRam.create(opts.ramBytes ?? 0x10_0000);
  const part = new FlatPartition(0x1_0000, ram.size - 0x1_0000);
  const core = new Core({ ram });
  const vcpu = Vcpu.create();
  vcpu.set(0x1022, MSR_SF_LE); // MSR
  vcpu.set(0x1021, BigInt(CODE)); // NIA
  vcpu.set(0x102d, 0xffn); // HFSCR: every facility the core knows is enabled
  const m: Machine = {
    ram,
    part,
    core,
    vcpu,
    load(l2ra, words) {
      ram.u8.set(assembleLE(words), l2ra + part.offset);
      invalidateCode(core.code.gen); // a TypeScript writer of L2 code announces it, as a loader must
    },
    run(budget = 1_000_000, hdecExpiryTb?: number) {
      return core.run(vcpu, { core, partition: part, hdecExpiryTb }, budget);
    },
  };
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

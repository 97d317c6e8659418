/**
 * A minimal stand-in for the future L1 model (hypervisor/l1/): runs one static ppc64le program as
 * an L2 guest on one core and serves its hcalls. It builds the L2 partition-scoped tree with
 * mem's RadixWriter, loads the guest firmware (hypervisor/l1/firmware.ts) at L2 real address 0 and
 * the ELF segments at their addresses, sets up the vCPU as the firmware ABI expects
 * (docs/guests.md), then loops on the core's `run` and answers:
 *   NS_SYSCALL write(fd 1/2) → captured stdout/stderr; exit, exit_group → the exit code;
 *              any other syscall → -ENOSYS (and counted);
 *   NS_CRASH   → a reported crash (the firmware never resumes the program);
 *   anything else (another hcall, HEAI, HDSI, HISI, machine check, …) → a reported failure.
 * Every interaction goes through the architected path: `sc 0` in the program, the firmware's
 * `sc 1`, the core's exit 0xC00, registers in the vCPU area. Nothing is short-circuited.
 */
import { Core, type ExitRecord } from '../../cores/core.js';
import { type ElfImage, readElfFile } from '../../cores/elf.js';
import { disasm } from '../../cores/isa/decode.js';
import { invalidateCode } from '../../cores/isa/predecode.js';
import { R, Vcpu } from '../../cores/vcpu.js';
import { FIRMWARE_BASE, FIRMWARE_RESERVED, firmwareImage } from '../../hypervisor/l1/firmware.js';
import { H, NestsimHcall, Vector } from '../../hypervisor/papr.js';
import { Generations } from '../../mem/generations.js';
import { PartitionMmu } from '../../mem/partition.js';
import { Perm } from '../../mem/radix.js';
import { Tlb } from '../../mem/tlb.js';
import { L2Memory, PAGE, permsOf } from './l2-memory.js';

/** Linux syscall numbers (powerpc64) the harness serves. */
export const Syscall = { EXIT: 1, WRITE: 4, EXIT_GROUP: 234 } as const;
/** Linux errno values the harness returns (negated, as the kernel does internally). */
const Errno = { EBADF: 9, EFAULT: 14, ENOSYS: 38 } as const;

/** MSR of the L2: SF (64-bit) and LE; IR = DR = 0 (real mode), HV = PR = EE = 0. */
export const L2_MSR = 0x8000_0000_0000_0001n;
/** LPCR of the L2: ILE (interrupts taken little-endian); AIL = 0, so vectors are at real 0x0…. */
export const L2_LPCR = 0x0200_0000n;

/** Where the stack is, unless an option moves it. */
export const STACK_TOP = 0x0100_0000;
export const STACK_BYTES = 0x10_0000;

/** What the firmware reported with NS_CRASH. */
export interface GuestCrash {
  vector: number;
  srr0: bigint;
  srr1: bigint;
  dar: bigint;
  dsisr: number;
  lr: bigint;
  r1: bigint;
  /** One line for test messages. */
  text: string;
}

/** The outcome of one guest run. */
export interface GuestResult {
  /** Bytes written to fd 1, as a latin1 string (one character per byte, so any bytes round-trip). */
  stdout: string;
  /** Bytes written to fd 2, likewise. */
  stderr: string;
  /** Status of exit / exit_group (0..255), or undefined when the program did not exit. */
  exitCode: number | undefined;
  /** Instructions retired by the L2 (program and firmware). */
  instructions: number;
  /** Syscalls served, and those refused with ENOSYS (by number). */
  syscalls: number;
  unknownSyscalls: number[];
  /** Set when the firmware reported an interrupt in the program. */
  crash?: GuestCrash;
  /** Set when the run ended any other unexpected way (an exit the L1 does not serve, budget). */
  failure?: string;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
const latin1 = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString('latin1');
/** Real-mode EA → L2RA: the high-order 4 bits of the EA are ignored (Book III, real addressing). */
const realAddress = (ea: bigint): number => Number(ea & 0x0fff_ffff_ffff_ffffn);

/** Runs the program at `path` (a static ppc64le ELF) as an L2 guest. */
export function runGuestFile(path: string, opts: GuestOptions = {}): GuestResult {
  return runGuest(readElfFile(path), opts);
}

/** A loaded guest, ready to run: its memory, the core and partition it runs on, its vCPU. */
export interface LoadedGuest {
  readonly mem: L2Memory;
  readonly core: Core;
  readonly partition: PartitionMmu;
  readonly vcpu: Vcpu;
  /** One call of the core's run for at most `budget` instructions. */
  run(budget: number): ExitRecord;
}

/** Answer of a `serve` hook: the hcall status (r3) and the syscall result (r4). */
export interface SyscallAnswer {
  status: number;
  result: bigint;
}

/** Options of `runGuest`. */
export interface GuestOptions {
  /** Instructions after which the run is stopped and reported as a failure (default 2·10^9). */
  budget?: number;
  /** Instructions per call of the core's run (the L1 gets control back at least this often). */
  slice?: number;
  stackTop?: number;
  stackBytes?: number;
  /** Consulted first for every NS_SYSCALL (number, r5..r10); undefined falls back to the harness. */
  serve?: (nr: number, args: readonly bigint[], guest: LoadedGuest) => SyscallAnswer | undefined;
}

/** Places firmware, segments and stack in a fresh L2 and sets up its vCPU (docs/guests.md). */
export function loadGuest(image: ElfImage, opts: GuestOptions = {}): LoadedGuest {
  const stackTop = opts.stackTop ?? STACK_TOP;
  const stackBytes = opts.stackBytes ?? STACK_BYTES;
  const mem = buildMemory(image, stackTop, stackBytes);
  const core = new Core({ ram: mem.ram });
  invalidateCode(core.code.gen); // the loader wrote code: announce it, as any writer of L2 code must
  const partition = new PartitionMmu(mem.ram, new Tlb(Generations.create()));
  partition.enter(1, mem.writer.root);
  const vcpu = Vcpu.create();
  const sp = initialStack(mem, stackTop);
  vcpu.set(0x1022, L2_MSR);
  vcpu.set(0x102c, L2_LPCR);
  vcpu.set(0x102d, 0xffffn); // HFSCR: every facility the L1 may grant
  vcpu.set(0x102a, 0x4000_0000_0000_0000n); // DEC_EXPIRY_TB far away (EE is 0 anyway)
  vcpu.set(0x1021, BigInt(image.entry)); // NIA
  vcpu.setGpr(1, BigInt(sp));
  vcpu.setGpr(12, BigInt(image.entry)); // ELFv2: r12 = entry, from which _start derives its TOC
  const ctx = { core, partition };
  return { mem, core, partition, vcpu, run: (budget) => core.run(vcpu, ctx, budget) };
}

/** Runs `image` as an L2 guest until it exits, crashes or fails; see the file header. */
export function runGuest(image: ElfImage, opts: GuestOptions = {}): GuestResult {
  const guest = loadGuest(image, opts);
  const { mem, vcpu } = guest;
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const result: GuestResult = {
    stdout: '',
    stderr: '',
    exitCode: undefined,
    instructions: 0,
    syscalls: 0,
    unknownSyscalls: [],
  };
  const budget = opts.budget ?? 2e9;
  const slice = opts.slice ?? 50_000_000;
  for (;;) {
    const left = budget - result.instructions;
    if (left <= 0) {
      result.failure = `budget of ${budget} instructions exhausted at NIA ${hex(vcpu.get64(R.NIA))}`;
      break;
    }
    const x = guest.run(Math.min(slice, left));
    result.instructions += x.retired;
    if (x.reason !== 'interrupt') continue;
    if (x.vector !== Vector.SYSTEM_CALL) {
      result.failure = describeExit(x, vcpu);
      break;
    }
    const op = Number(vcpu.gpr(3));
    if (op === NestsimHcall.NS_CRASH) {
      result.crash = crashOf(vcpu);
      break;
    }
    if (op !== NestsimHcall.NS_SYSCALL) {
      result.failure = `unexpected hcall ${hex(op)} from NIA ${hex(x.nia - 4n)}`;
      break;
    }
    result.syscalls++;
    const nr = Number(vcpu.gpr(4));
    const args = [5, 6, 7, 8, 9, 10].map((n) => vcpu.gpr(n));
    const hooked = opts.serve?.(nr, args, guest);
    if (hooked) {
      vcpu.setGpr(3, BigInt(hooked.status));
      vcpu.setGpr(4, hooked.result);
      continue;
    }
    if (nr === Syscall.EXIT || nr === Syscall.EXIT_GROUP) {
      result.exitCode = Number(vcpu.gpr(5) & 0xffn);
      break;
    }
    let ret: bigint;
    if (nr === Syscall.WRITE) {
      ret = write(mem, vcpu, out, err);
    } else {
      result.unknownSyscalls.push(nr);
      ret = BigInt(-Errno.ENOSYS);
    }
    vcpu.setGpr(3, BigInt(H.SUCCESS));
    vcpu.setGpr(4, ret);
  }
  result.stdout = latin1(out);
  result.stderr = latin1(err);
  return result;
}

/** L1 RAM and the L2 tree: firmware (read/execute), the ELF segments, the stack. */
function buildMemory(image: ElfImage, stackTop: number, stackBytes: number): L2Memory {
  const stackBase = stackTop - stackBytes;
  for (const s of image.segments) {
    const end = s.vaddr + s.memsz;
    if (s.vaddr < FIRMWARE_BASE + FIRMWARE_RESERVED)
      throw new Error(`segment at ${hex(s.vaddr)} overlaps the firmware (below ${hex(FIRMWARE_RESERVED)})`);
    if (s.vaddr < stackTop && end > stackBase)
      throw new Error(`segment [${hex(s.vaddr)}, ${hex(end)}) overlaps the stack`);
  }
  const pagesOf = (a: number, n: number) => Math.floor((a + n - 1) / PAGE) - Math.floor(a / PAGE) + 1;
  let pages = pagesOf(FIRMWARE_BASE, FIRMWARE_RESERVED) + stackBytes / PAGE;
  for (const s of image.segments) pages += pagesOf(s.vaddr, s.memsz);
  const mem = new L2Memory(pages);

  const fw = firmwareImage();
  mem.map(FIRMWARE_BASE, FIRMWARE_RESERVED, Perm.Read | Perm.Exec); // a wild store into it is an HDSI
  if (!mem.write(FIRMWARE_BASE, fw)) throw new Error('firmware: not mapped');
  for (const s of image.segments) {
    mem.map(s.vaddr, s.memsz, permsOf(s.flags));
    // Frames come zeroed from a fresh SharedArrayBuffer, so the bss needs no explicit fill.
    if (!mem.write(s.vaddr, s.bytes)) throw new Error(`segment at ${hex(s.vaddr)}: not mapped`);
  }
  mem.map(stackBase, stackBytes, Perm.Read | Perm.Write);
  return mem;
}

/**
 * The initial stack of a Linux process with no arguments: at r1, argc = 0, argv = {NULL},
 * envp = {NULL}, auxv = {AT_NULL}. Returns r1 (16-byte aligned).
 */
function initialStack(mem: L2Memory, top: number): number {
  const sp = (top - 64) & ~15;
  mem.write(sp, new Uint8Array(40)); // five zero doublewords
  return sp;
}

/** write(fd, buf, count): the bytes at buf (through the tree) to stdout or stderr. */
function write(mem: L2Memory, vcpu: Vcpu, out: Uint8Array[], err: Uint8Array[]): bigint {
  const fd = vcpu.gpr(5);
  const sink = fd === 1n ? out : fd === 2n ? err : undefined;
  if (!sink) return BigInt(-Errno.EBADF);
  const count = vcpu.gpr(7);
  const len = count > 0x100_0000n ? 0x100_0000 : Number(count); // a partial write, as Linux may do
  const bytes = mem.read(realAddress(vcpu.gpr(6)), len);
  if (bytes.length === 0 && len > 0) return BigInt(-Errno.EFAULT);
  sink.push(bytes.slice());
  return BigInt(bytes.length);
}

/** The registers NS_CRASH carries (docs/guests.md). */
function crashOf(vcpu: Vcpu): GuestCrash {
  const c = {
    vector: Number(vcpu.gpr(4)),
    srr0: vcpu.gpr(5),
    srr1: vcpu.gpr(6),
    dar: vcpu.gpr(7),
    dsisr: Number(vcpu.gpr(8) & 0xffff_ffffn),
    lr: vcpu.gpr(9),
    r1: vcpu.gpr(10),
  };
  const name = VECTOR_NAMES.get(c.vector) ?? 'interrupt';
  const text =
    `${name} (${hex(c.vector)}) at ${hex(c.srr0)}: SRR1 ${hex(c.srr1)}, DAR ${hex(c.dar)}, ` +
    `DSISR ${hex(c.dsisr)}, LR ${hex(c.lr)}, r1 ${hex(c.r1)}`;
  return { ...c, text };
}

const VECTOR_NAMES = new Map<number, string>(
  Object.entries(Vector).map(([name, v]) => [v, name.toLowerCase().replaceAll('_', ' ')]),
);

/** One line for an exit the harness does not serve. */
export function describeExit(x: ExitRecord, vcpu: Vcpu): string {
  const name = VECTOR_NAMES.get(x.vector) ?? 'exit';
  const at = `at NIA ${hex(x.nia)}`;
  switch (x.vector) {
    case Vector.HV_EMULATION_ASSIST: {
      const insn = vcpu.w[R.HEIR + 1]! >>> 0;
      return `HEAI ${at}: instruction ${hex(insn)} (${disasm(insn)}) is not implemented or not allowed`;
    }
    case Vector.HV_DATA_STORAGE:
      return `HDSI ${at}: HDAR ${hex(vcpu.get64(R.HDAR))}, HDSISR ${hex(vcpu.w[R.HDSISR]! >>> 0)}`;
    case Vector.HV_INSTRUCTION_STORAGE:
      return `HISI ${at}: HSRR1 ${hex((BigInt(x.srr1Hi >>> 0) << 32n) | BigInt(x.srr1Lo >>> 0))}`;
    default:
      return `${name} (${hex(x.vector)}) ${at}`;
  }
}

/**
 * Tiny L2 programs for the exit and lifecycle suites, assembled with cores/encode.ts into an
 * ElfImage (what the ELF loader would produce), so that they run through the L1 model exactly as
 * a compiled guest does: firmware at 0, the program above it, demand paging, `sc 1` to L1.
 * Each program loops a fixed number of times, then calls exit(0) through NS_SYSCALL.
 */
import type { ElfImage } from '../../cores/elf.js';
import { assembleLE, encode as e } from '../../cores/encode.js';
import { Hcall, NestsimHcall } from '../../hypervisor/papr.js';

/** Where the programs are loaded (L2 real address, above the firmware). */
export const CODE_BASE = 0x10_0000;
/** Where the page-touching program's data segment starts. */
export const DATA_BASE = 0x40_0000;
/** Bytes of a page L1 maps on demand (hypervisor/l1/page-allocator.ts FRAME). */
export const PAGE_BYTES = 4096;

/** Linux syscall numbers the programs use (powerpc64). */
const SYS_EXIT = 1;
/** A syscall the L1 does not serve: it answers -ENOSYS (the whole NS_SYSCALL path, no work). */
const SYS_GETPID = 20;

const PF_R = 4;
const PF_W = 2;
const PF_X = 1;

/** CTR ← n (n < 2^31). */
function loadCtr(n: number): number[] {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 31) throw new Error(`loop count ${n} out of range`);
  return [e.lis!(31, n >>> 16), e.ori!(31, 31, n & 0xffff), e.mtspr!(9, 31)];
}

/** r3 ← NS_SYSCALL (0xf100 does not fit li's signed immediate). */
const loadNsSyscall = [e.li!(3, 0), e.ori!(3, 3, NestsimHcall.NS_SYSCALL)];

/** exit(0) through the firmware ABI's hcall (NS_SYSCALL, r4 = exit, r5 = code). */
const exitZero = [...loadNsSyscall, e.li!(4, SYS_EXIT), e.li!(5, 0), e.sc!(1)];

function image(code: number[], data?: { bytes: number }): ElfImage {
  const segments = [
    { vaddr: CODE_BASE, bytes: assembleLE(code), memsz: code.length * 4, flags: PF_R | PF_X },
  ];
  if (data)
    segments.push({ vaddr: DATA_BASE, bytes: new Uint8Array(0), memsz: data.bytes, flags: PF_R | PF_W });
  return { entry: CODE_BASE, segments };
}

/** `count` times H_CEDE (`li r3,H_CEDE; sc 1`): L1 answers H_SUCCESS and yields the core. */
export function cedeLoop(count: number): ElfImage {
  return image([...loadCtr(count), e.li!(3, Hcall.H_CEDE), e.sc!(1), e.bdnz!(-8), ...exitZero]);
}

/** `count` times NS_SYSCALL getpid: L1 answers -ENOSYS and runs the vCPU again at once. */
export function syscallLoop(count: number): ElfImage {
  return image([
    ...loadCtr(count),
    ...loadNsSyscall,
    e.li!(4, SYS_GETPID),
    e.sc!(1),
    e.bdnz!(-16),
    ...exitZero,
  ]);
}

/** `count` trips of a 2-instruction loop (`addi; bdnz`): only time slices interrupt it. */
export function spinLoop(count: number): ElfImage {
  return image([...loadCtr(count), e.addi!(5, 5, 1), e.bdnz!(-4), ...exitZero]);
}

/**
 * One store into each of `pages` fresh pages of a data segment: every store is a
 * partition-scoped data storage fault that L1 serves by mapping the page (demand paging).
 */
export function touchPages(pages: number): ElfImage {
  return image(
    [
      ...loadCtr(pages),
      e.lis!(6, DATA_BASE >>> 16),
      e.std!(0, 0, 6),
      e.addi!(6, 6, PAGE_BYTES),
      e.bdnz!(-8),
      ...exitZero,
    ],
    { bytes: pages * PAGE_BYTES },
  );
}

/** The smallest guest: exit(0) at once (lifecycle measurements never run it). */
export function exitAtOnce(): ElfImage {
  return image(exitZero);
}

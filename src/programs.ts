/**
 * Tiny L2 programs assembled with cores/encode.ts into an ElfImage (what the ELF loader would make
 * of a file), for tests, benchmarks and stressors that need an L2 doing one precise thing. They run
 * in 64-bit little-endian real mode (EA = L2 real address) like the compiled guests, above the
 * firmware, and end with exit(code) through the firmware ABI's NS_SYSCALL hcall.
 */
import type { ElfImage, ElfSegment } from '../cores/elf.js';
import { assembleLE, encode as e } from '../cores/encode.js';
import { NestsimHcall } from '../hypervisor/papr.js';

/** Where program code is loaded (L2 real address, above the firmware). */
export const CODE_BASE = 0x10_0000;

const PF_R = 4;
const PF_W = 2;
const PF_X = 1;

/** Linux's exit syscall number (powerpc64). */
const SYS_EXIT = 1;

/** exit(code) of this vCPU: NS_SYSCALL with r4 = exit, r5 = code (code < 2^15). */
export function exitWith(code: number): number[] {
  return [e.li!(3, 0), e.ori!(3, 3, NestsimHcall.NS_SYSCALL), e.li!(4, SYS_EXIT), e.li!(5, code), e.sc!(1)];
}

/** A data segment of `bytes` at `vaddr`, read-write, starting with `init` (zeros after it). */
export function dataSegment(vaddr: number, bytes: number, init: Uint8Array = new Uint8Array(0)): ElfSegment {
  return { vaddr, bytes: init, memsz: bytes, flags: PF_R | PF_W };
}

/** An image whose code (at CODE_BASE) is `code`, with extra data segments. */
export function imageOf(code: readonly number[], data: readonly ElfSegment[] = []): ElfImage {
  const text: ElfSegment = {
    vaddr: CODE_BASE,
    bytes: assembleLE([...code]),
    memsz: code.length * 4,
    flags: PF_R | PF_X,
  };
  return { entry: CODE_BASE, segments: [text, ...data].sort((a, b) => a.vaddr - b.vaddr) };
}

/** An L2 that never ends by itself (a counting loop): only time slices and L1 stop it. */
export function foreverImage(): ElfImage {
  return imageOf([e.addi!(9, 9, 1), e.b!(-4)]);
}

/**
 * Readers of a watched page: each vCPU reads the word at `watched` until the word at `flag` is
 * non-zero (then exit 0); reading `poison` means it reached a frame the page had left (exit
 * `staleExit`). The watched page starts with the word 1; both pages are in one data segment.
 */
export function watcherImage(o: {
  watched: number;
  flag: number;
  poison: number;
  staleExit: number;
}): ElfImage {
  if (o.poison >= 0x8000 || o.poison === 1) throw new Error('poison must be a 15-bit value other than 1');
  const code = [
    e.lis!(5, o.watched >>> 16),
    e.ori!(5, 5, o.watched & 0xffff),
    e.lis!(6, o.flag >>> 16),
    e.ori!(6, 6, o.flag & 0xffff),
    // loop:
    e.lwz!(7, 0, 5),
    e.cmpwi!(0, 7, o.poison),
    e.beq!(9 * 4), // to stale
    e.lwz!(8, 0, 6),
    e.cmpwi!(0, 8, 0),
    e.beq!(-5 * 4), // to loop
    ...exitWith(0),
    // stale:
    ...exitWith(o.staleExit),
  ];
  const lo = Math.min(o.watched, o.flag) & ~0xfff;
  const hi = (Math.max(o.watched, o.flag) & ~0xfff) + 0x1000;
  const init = new Uint8Array(o.watched - lo + 4);
  init[o.watched - lo] = 1;
  return imageOf(code, [dataSegment(lo, hi - lo, init)]);
}

/** Linux-style H_CEDE hcall number (the L1 model treats it as a yield). */
const H_CEDE = 0xe0;

/** CTR ← n (1 ≤ n < 2^31), through r31. */
function loadCtr(n: number): number[] {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 31) throw new Error(`loop count ${n} out of range`);
  return [e.lis!(31, n >>> 16), e.ori!(31, 31, n & 0xffff), e.mtspr!(9, 31)];
}

/** Where the compute and contention loops keep their data. */
export const LOOP_DATA = 0x20_0000;

/**
 * A compute loop for throughput measurements: `trips` trips of 12 instructions (integer ops, a
 * multiply, a load and a store walking 64 KiB of its data, a compare and a branch), then exit(0).
 * About 12·trips instructions; every vCPU of a guest has its own 64 KiB (by vCPU index in r3).
 */
export function computeLoopImage(trips: number, vcpus = 1): ElfImage {
  const code = [
    ...loadCtr(trips),
    e.lis!(5, LOOP_DATA >>> 16),
    e.rldicr!(6, 3, 16, 47), // r6 = vCPU index · 64 KiB
    e.add!(5, 5, 6),
    e.li!(7, 0),
    e.li!(8, 1),
    // loop:
    e.add!(7, 7, 8),
    e.mulld!(9, 7, 8),
    e.xor!(10, 9, 7),
    e.rldicl!(11, 7, 3, 48), // offset = (r7 · 8) mod 64 KiB, doubleword aligned
    e.add!(11, 11, 5),
    e.ld!(12, 0, 11),
    e.add!(12, 12, 10),
    e.std!(12, 0, 11),
    e.addi!(8, 8, 1),
    e.cmpd!(0, 8, 7),
    e.isel!(7, 7, 8, 0),
    e.bdnz!(-11 * 4),
    ...exitWith(0),
  ];
  return imageOf(code, [dataSegment(LOOP_DATA, vcpus * 0x1_0000)]);
}

/**
 * A contention loop: each vCPU does `trips` times — take a lwarx/stwcx. spinlock (ceding to L1
 * after 64 failed tries, as its holder may be off-core), increment a plain counter, release with
 * lwsync and a store, then increment a second counter lock-free with ldarx/stdcx., and, with
 * `shared`, a third one the same way at that L2 address (a page L1 maps into several guests).
 * Data at LOOP_DATA: the lock word, the locked counter at +8, the lock-free counter at +16.
 * exit(0). With n vCPUs the guest's counters must end at n·trips.
 */
export function contentionLoopImage(trips: number, shared = 0): ElfImage {
  const sharedInc = shared
    ? [
        e.lis!(11, shared >>> 16),
        e.ori!(11, 11, shared & 0xffff),
        e.ldarx!(10, 0, 11, 0),
        e.addi!(10, 10, 1),
        e.stdcx_!(10, 0, 11),
        e.bne!(-3 * 4), // to the ldarx
      ]
    : [];
  const code = [
    ...loadCtr(trips),
    e.lis!(5, LOOP_DATA >>> 16),
    e.li!(6, 1),
    // loop (index 5): r7 = failed tries
    e.li!(7, 0),
    // try (6):
    e.lwarx!(8, 0, 5, 0),
    e.cmpwi!(0, 8, 0),
    e.bne!(5 * 4), // held: to busy (13)
    e.stwcx_!(6, 0, 5),
    e.bne!(-4 * 4), // lost the reservation: to try (6)
    e.isync!(),
    e.b!(7 * 4), // to locked (19)
    // busy (13):
    e.addi!(7, 7, 1),
    e.andi_!(9, 7, 63),
    e.bne!(-9 * 4), // to try (6) unless 64 tries failed
    e.li!(3, H_CEDE),
    e.sc!(1),
    e.b!(-12 * 4), // to try (6)
    // locked (19):
    e.ld!(10, 8, 5),
    e.addi!(10, 10, 1),
    e.std!(10, 8, 5),
    e.sync!(1), // lwsync
    e.li!(8, 0),
    e.stw!(8, 0, 5),
    // lock-free (25):
    e.addi!(11, 5, 16),
    e.ldarx!(10, 0, 11, 0),
    e.addi!(10, 10, 1),
    e.stdcx_!(10, 0, 11),
    e.bne!(-3 * 4), // to the ldarx (26)
    ...sharedInc,
    e.bdnz!(-(25 + sharedInc.length) * 4), // to loop (5)
    ...exitWith(0),
  ];
  return imageOf(code, [dataSegment(LOOP_DATA, 0x1000)]);
}

/**
 * The TLB storm's L2: each vCPU walks `pages` data pages at `base` over and over: it reads word 0
 * of each (1, or a value L1 wrote; `poison` means it reached a frame the page had left: exit
 * `staleExit`) and stores a running counter into its own doubleword of the page (at 64 + 8·vCPU),
 * until the word at `flag` is non-zero (exit 0). The pages start with word 0 = 1.
 */
export function stormImage(o: {
  base: number;
  pages: number;
  flag: number;
  poison: number;
  staleExit: number;
}): ElfImage {
  if (o.base % 0x1_0000 !== 0) throw new Error('storm pages must start on a 64 KiB boundary');
  if (o.poison >= 0x8000 || o.poison === 1) throw new Error('poison must be a 15-bit value other than 1');
  const code = [
    e.lis!(5, o.base >>> 16),
    e.lis!(6, o.flag >>> 16),
    e.ori!(6, 6, o.flag & 0xffff),
    e.rldicr!(10, 3, 3, 60), // r10 = vCPU index · 8
    e.addi!(10, 10, 64),
    e.li!(9, 0),
    // loop (6):
    e.mr!(12, 5),
    e.li!(14, o.pages),
    e.mtspr!(9, 14),
    // page (9):
    e.lwz!(7, 0, 12),
    e.cmpwi!(0, 7, o.poison),
    e.beq!(13 * 4), // to stale (24)
    e.stdx!(9, 12, 10),
    e.addi!(12, 12, 4096),
    e.bdnz!(-5 * 4), // to page (9)
    e.addi!(9, 9, 1),
    e.lwz!(8, 0, 6),
    e.cmpwi!(0, 8, 0),
    e.beq!(-12 * 4), // to loop (6)
    ...exitWith(0), // (19..23)
    // stale (24):
    ...exitWith(o.staleExit),
  ];
  const init = new Uint8Array(o.pages * 4096);
  for (let p = 0; p < o.pages; p++) init[p * 4096] = 1;
  return imageOf(code, [dataSegment(o.base, o.pages * 4096, init), dataSegment(o.flag & ~0xfff, 4096)]);
}

/** Where signatureImage keeps its data. */
export const SIGNATURE_DATA = 0x20_0000;

/**
 * A guest that knows who it is: its data page starts with `signature` (31 bits, from its ELF), and
 * each of `trips` trips it reads it back (anything else — a page of another guest reached through
 * a stale translation of a reused guest id — ends it with exit `staleExit`) and bumps a counter
 * next to it. exit(0) at the end.
 */
export function signatureImage(signature: number, trips: number, staleExit: number): ElfImage {
  const sig = signature & 0x7fff_ffff;
  const code = [
    ...loadCtr(trips),
    e.lis!(5, SIGNATURE_DATA >>> 16),
    e.lis!(8, sig >>> 16),
    e.ori!(8, 8, sig & 0xffff),
    e.li!(9, 0),
    // loop (7):
    e.lwz!(7, 0, 5),
    e.cmpw!(0, 7, 8),
    e.bne!(5 * 4), // to stale (13)
    e.addi!(9, 9, 1),
    e.std!(9, 8, 5),
    e.bdnz!(-5 * 4), // to loop (7)
    ...exitWith(0),
    // stale:
    ...exitWith(staleExit),
  ];
  const init = new Uint8Array(4);
  new DataView(init.buffer).setUint32(0, sig, true);
  return imageOf(code, [dataSegment(SIGNATURE_DATA, 0x1000, init)]);
}

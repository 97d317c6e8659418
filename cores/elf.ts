/**
 * ELF loader for L2 programs: static ppc64le ELFv2 executables (ELF64, little-endian, EM_PPC64,
 * ET_EXEC, e_flags ABI version 2), reduced to what a loader places in memory: the entry point and
 * the PT_LOAD segments (file bytes plus zero fill up to memsz).
 *
 * Everything else is refused with an ElfError naming the file and the reason (a UserError: the CLI
 * prints it once and exits with code 2, docs/architecture.md "Errors"): not ELF, 32-bit,
 * big-endian, another machine, dynamic (ET_DYN, PT_INTERP, PT_DYNAMIC), thread-local storage,
 * truncated headers or segments, overlapping segments, sizes beyond `maxBytes`. Every field is
 * bounds-checked before it is read, so a bad file never surfaces as a RangeError.
 * Invoked from: the L1 model's loader (hypervisor/l1/), the CLI, test/support/harness.ts.
 * Facts: System V gABI ("ELF-64 Object File Format"), 64-bit ELF V2 ABI for Power (OpenPOWER).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../src/errors.js';

/** A bad ELF file: `where` is the file name, `reason` says what is wrong with it. */
export class ElfError extends UserError {
  constructor(file: string, reason: string) {
    super(file, reason);
    this.name = 'ElfError';
  }
}

/** Segment permission bits (p_flags). */
export const PF = { X: 1, W: 2, R: 4 } as const;

/** One PT_LOAD segment: `bytes` (p_filesz of them) at `vaddr`, then zeros up to `memsz`. */
export interface ElfSegment {
  readonly vaddr: number;
  readonly bytes: Uint8Array;
  readonly memsz: number;
  /** PF bits. */
  readonly flags: number;
}

/** What a loader needs of an executable. */
export interface ElfImage {
  readonly entry: number;
  /** PT_LOAD segments with memsz > 0, in ascending address order, never overlapping. */
  readonly segments: readonly ElfSegment[];
}

/** Limits of `parseElf`. */
export interface ElfLimits {
  /** Largest sum of the segments' memsz (default 1 GiB: L1 RAM is at most 4 GiB). */
  maxBytes?: number;
  /** Addresses must stay below this (default 2^52, the real-address space of the radix tree). */
  maxAddress?: number;
}

const DEFAULT_MAX_BYTES = 1 << 30;
const DEFAULT_MAX_ADDRESS = 2 ** 52;
/** More program headers than any static executable has; guards against a huge e_phnum. */
const MAX_PHDRS = 256;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const EM_PPC64 = 21;
const ET = { REL: 1, EXEC: 2, DYN: 3, CORE: 4 } as const;
const PT = { LOAD: 1, DYNAMIC: 2, INTERP: 3, TLS: 7 } as const;
/** e_flags bits 0..1: the Power ABI version (EF_PPC64_ABI). */
const EF_PPC64_ABI = 3;

/** Common machines, so that "wrong machine" names what the file is for. */
const MACHINES: Readonly<Record<number, string>> = {
  3: 'x86 (EM_386)',
  20: '32-bit PowerPC (EM_PPC)',
  40: 'ARM (EM_ARM)',
  62: 'x86-64 (EM_X86_64)',
  183: 'AArch64 (EM_AARCH64)',
  243: 'RISC-V (EM_RISCV)',
};

const hex = (n: number): string => `0x${n.toString(16)}`;

/**
 * Parses a static ppc64le ELFv2 executable. `file` names it in errors. Throws ElfError for
 * anything nestsim cannot load; the returned segment bytes are copies.
 */
export function parseElf(data: Uint8Array, file = '<elf>', limits: ElfLimits = {}): ElfImage {
  try {
    return parse(data, file, limits);
  } catch (e) {
    if (e instanceof ElfError) throw e;
    // Unreachable if the checks below are complete; kept so that a missed one still reports the
    // file rather than an internal error (fuzzed by test/elf-loader.test.ts).
    throw new ElfError(file, `malformed ELF (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Reads and parses an ELF file; an unreadable file is an ElfError too. */
export function readElfFile(path: string, limits: ElfLimits = {}): ElfImage {
  let data: Uint8Array;
  try {
    data = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ElfError(path, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
  }
  return parseElf(data, path, limits);
}

function parse(data: Uint8Array, file: string, limits: ElfLimits): ElfImage {
  const fail = (reason: string): never => {
    throw new ElfError(file, reason);
  };
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxAddress = limits.maxAddress ?? DEFAULT_MAX_ADDRESS;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  /** A 64-bit field as a number; larger than 2^53 cannot be a valid size or address here. */
  const u64 = (at: number, what: string): number => {
    const v = dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} 0x${v.toString(16)} is absurdly large`);
    return Number(v);
  };

  if (data.length < 4 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46)
    fail('not an ELF file (no \\x7fELF magic)');
  if (data.length < EHDR_SIZE) fail(`truncated ELF header (${data.length} bytes, need ${EHDR_SIZE})`);
  if (data[4] === 1) fail('32-bit ELF (ELFCLASS32); nestsim runs 64-bit ppc64le programs');
  if (data[4] !== 2) fail(`unknown ELF class ${data[4]}`);
  if (data[5] === 2) fail('big-endian ELF (ELFDATA2MSB); nestsim runs little-endian ppc64le programs');
  if (data[5] !== 1) fail(`unknown ELF data encoding ${data[5]}`);
  if (data[6] !== 1) fail(`unknown ELF version ${data[6]}`);

  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_PPC64)
    fail(`machine ${machine}${MACHINES[machine] ? ` = ${MACHINES[machine]}` : ''}, expected EM_PPC64 (21)`);
  if (type === ET.DYN) fail('dynamic or position-independent executable (ET_DYN); link with -static -no-pie');
  if (type === ET.REL) fail('relocatable object (ET_REL), not an executable; link it first');
  if (type === ET.CORE) fail('core dump (ET_CORE), not an executable');
  if (type !== ET.EXEC) fail(`ELF type ${type} is not an executable (ET_EXEC)`);
  const abi = dv.getUint32(48, true) & EF_PPC64_ABI;
  if (abi !== 2)
    fail(
      `Power ABI version ${abi} in e_flags, expected 2 (ELFv2, as every little-endian ppc64 toolchain emits)`,
    );

  const entry = u64(24, 'entry point');
  const phoff = u64(32, 'program header offset');
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) fail('no program headers: nothing to load');
  if (phnum > MAX_PHDRS) fail(`${phnum} program headers (at most ${MAX_PHDRS})`);
  if (phentsize !== PHDR_SIZE) fail(`program header size ${phentsize}, expected ${PHDR_SIZE}`);
  if (phoff + phnum * PHDR_SIZE > data.length)
    fail(`truncated program headers (${phnum} at offset ${hex(phoff)} in a file of ${data.length} bytes)`);

  const segments: ElfSegment[] = [];
  let total = 0;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * PHDR_SIZE;
    const ptype = dv.getUint32(at, true);
    if (ptype === PT.INTERP)
      fail('dynamically linked (PT_INTERP names a program interpreter); link with -static');
    if (ptype === PT.DYNAMIC) fail('dynamically linked (PT_DYNAMIC); link with -static -no-pie');
    if (ptype === PT.TLS) fail('uses thread-local storage (PT_TLS), which needs a C library to set up');
    if (ptype !== PT.LOAD) continue; // notes, GNU_STACK, GNU_RELRO, PHDR: nothing to place
    const flags = dv.getUint32(at + 4, true);
    const offset = u64(at + 8, `segment ${i} offset`);
    const vaddr = u64(at + 16, `segment ${i} address`);
    const filesz = u64(at + 32, `segment ${i} file size`);
    const memsz = u64(at + 40, `segment ${i} memory size`);
    const what = `segment ${i} (PT_LOAD at ${hex(vaddr)})`;
    if (filesz > memsz) fail(`${what}: file size ${hex(filesz)} exceeds memory size ${hex(memsz)}`);
    if (offset + filesz > data.length)
      fail(
        `${what}: truncated (bytes ${hex(offset)}..${hex(offset + filesz)} of a ${data.length}-byte file)`,
      );
    if (memsz === 0) continue;
    if (vaddr + memsz > maxAddress) fail(`${what}: ends at ${hex(vaddr + memsz)}, beyond ${hex(maxAddress)}`);
    total += memsz;
    if (total > maxBytes) fail(`${what}: segments need ${total} bytes, more than the limit of ${maxBytes}`);
    // A copy (Buffer's slice would be a view): the caller may drop or reuse the file buffer.
    segments.push({ vaddr, bytes: new Uint8Array(data.subarray(offset, offset + filesz)), memsz, flags });
  }
  if (segments.length === 0) fail('no loadable (PT_LOAD) segment');

  segments.sort((a, b) => a.vaddr - b.vaddr);
  for (let i = 1; i < segments.length; i++) {
    const p = segments[i - 1];
    const s = segments[i];
    if (s.vaddr < p.vaddr + p.memsz)
      fail(
        `segments overlap: [${hex(p.vaddr)}, ${hex(p.vaddr + p.memsz)}) and [${hex(s.vaddr)}, ${hex(s.vaddr + s.memsz)})`,
      );
  }
  if (entry % 4 !== 0) fail(`entry point ${hex(entry)} is not word-aligned`);
  const code = segments.find((s) => s.flags & PF.X && entry >= s.vaddr && entry < s.vaddr + s.bytes.length);
  if (!code) fail(`entry point ${hex(entry)} is not in the file bytes of an executable segment`);
  return { entry, segments };
}

/**
 * cores/elf.ts: every committed guest ELF parses to the layout its program headers give; every
 * kind of bad file is refused with an ElfError naming the file and the reason; random corruption
 * of a good file never escapes as anything but an ElfError.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElfError, PF, parseElf, readElfFile } from '../cores/elf.js';
import { UserError } from '../src/errors.js';

const BIN = join(import.meta.dirname, '..', 'guests', 'bin');
const elfs = readdirSync(BIN).filter((f) => f.endsWith('.elf'));
/** A file whose data segment has file bytes (the sieve's is all bss), mutated by the cases below. */
const good = readFileSync(join(BIN, 'sort-power9-O2.elf'));

/** A copy of the good ELF with `edit` applied through a little-endian DataView. */
function mutate(edit: (dv: DataView, b: Uint8Array) => void, from: Uint8Array = good): Uint8Array {
  const b = new Uint8Array(from);
  edit(new DataView(b.buffer), b);
  return b;
}
const phoff = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(32, true));
/** Byte offset of program header i of the good file. */
const ph = (i: number) => phoff + 56 * i;
/** Index of the n-th PT_LOAD header of the good file. */
function loadHeader(n: number): number {
  const dv = new DataView(good.buffer, good.byteOffset);
  const count = dv.getUint16(56, true);
  for (let i = 0, seen = 0; i < count; i++) if (dv.getUint32(ph(i), true) === 1 && seen++ === n) return i;
  throw new Error('no such PT_LOAD');
}

/** The ElfError message for `bytes`, or '' when it parses. */
function refusal(bytes: Uint8Array): string {
  try {
    parseElf(bytes, 'bad.elf');
    return '';
  } catch (e) {
    expect(e).toBeInstanceOf(ElfError);
    expect(e).toBeInstanceOf(UserError); // the CLI maps it to exit code 2
    return (e as Error).message;
  }
}

describe('committed guest ELFs', () => {
  it.each(elfs)('%s: entry in text, text RX and data RW, bss zero-filled', (name) => {
    const img = readElfFile(join(BIN, name));
    expect(img.segments.length).toBe(2);
    const [text, data] = img.segments;
    expect(text.flags).toBe(PF.R | PF.X);
    expect(data.flags).toBe(PF.R | PF.W);
    expect(img.entry).toBeGreaterThanOrEqual(text.vaddr);
    expect(img.entry).toBeLessThan(text.vaddr + text.bytes.length);
    expect(text.vaddr).toBe(0x1000_0000); // GNU ld's default for ppc64le
    expect(data.memsz).toBeGreaterThanOrEqual(data.bytes.length);
  });

  it('the sieve keeps its 100001-byte array in bss (memsz − filesz)', () => {
    const data = readElfFile(join(BIN, 'sieve-power9-O2.elf')).segments[1];
    expect(data.memsz - data.bytes.length).toBeGreaterThanOrEqual(100001);
  });

  it('segment bytes are copies of the file', () => {
    const img = parseElf(good);
    const text = img.segments[0];
    expect(Array.from(text.bytes.subarray(0, 4))).toEqual(Array.from(good.subarray(0, 4)));
    expect(text.bytes.buffer).not.toBe(good.buffer);
  });
});

describe('refused files name the file and the reason', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /not an ELF file/],
    ['text', new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file/],
    ['truncated header', good.subarray(0, 40), /truncated ELF header/],
    ['32-bit', mutate((_, b) => (b[4] = 1)), /32-bit ELF/],
    ['big-endian', mutate((_, b) => (b[5] = 2)), /big-endian/],
    ['bad class', mutate((_, b) => (b[4] = 7)), /unknown ELF class 7/],
    ['bad version', mutate((_, b) => (b[6] = 0)), /unknown ELF version/],
    ['x86-64', mutate((dv) => dv.setUint16(18, 62, true)), /machine 62 = x86-64.*expected EM_PPC64/],
    ['unknown machine', mutate((dv) => dv.setUint16(18, 999, true)), /machine 999, expected EM_PPC64/],
    ['ET_DYN', mutate((dv) => dv.setUint16(16, 3, true)), /ET_DYN.*-static -no-pie/],
    ['ET_REL', mutate((dv) => dv.setUint16(16, 1, true)), /relocatable object/],
    ['ET_CORE', mutate((dv) => dv.setUint16(16, 4, true)), /core dump/],
    ['ELFv1', mutate((dv) => dv.setUint32(48, 1, true)), /ABI version 1.*expected 2/],
    ['no program headers', mutate((dv) => dv.setUint16(56, 0, true)), /no program headers/],
    ['phentsize', mutate((dv) => dv.setUint16(54, 32, true)), /program header size 32/],
    ['many headers', mutate((dv) => dv.setUint16(56, 0xffff, true)), /65535 program headers/],
    [
      'phoff beyond file',
      mutate((dv) => dv.setBigUint64(32, BigInt(good.length), true)),
      /truncated program headers/,
    ],
    ['phoff 2^63', mutate((dv) => dv.setBigUint64(32, 1n << 63n, true)), /absurdly large/],
    ['PT_INTERP', mutate((dv) => dv.setUint32(ph(2), 3, true)), /PT_INTERP/],
    ['PT_DYNAMIC', mutate((dv) => dv.setUint32(ph(2), 2, true)), /PT_DYNAMIC/],
    ['PT_TLS', mutate((dv) => dv.setUint32(ph(2), 7, true)), /PT_TLS/],
    [
      'segment beyond file',
      mutate((dv) => dv.setBigUint64(ph(loadHeader(1)) + 8, BigInt(good.length - 2), true)),
      /segment 1 .*truncated/,
    ],
    [
      'truncated file',
      good.subarray(0, good.length >> 1),
      /truncated/, // the section headers are cut, and with them the data segment
    ],
    [
      'filesz > memsz',
      mutate((dv) => dv.setBigUint64(ph(loadHeader(0)) + 40, 16n, true)),
      /file size 0x[0-9a-f]+ exceeds memory size 0x10/,
    ],
    [
      'overlap',
      mutate((dv) => dv.setBigUint64(ph(loadHeader(1)) + 16, 0x1000_0100n, true)),
      /segments overlap: \[0x10000000, /,
    ],
    [
      'absurd memsz',
      mutate((dv) => dv.setBigUint64(ph(loadHeader(1)) + 40, 1n << 40n, true)),
      /beyond 0x10000000000000|more than the limit/,
    ],
    [
      'memsz 2^64-1',
      mutate((dv) => dv.setBigUint64(ph(loadHeader(1)) + 40, (1n << 64n) - 1n, true)),
      /absurdly/,
    ],
    ['entry outside', mutate((dv) => dv.setBigUint64(24, 0x2000n, true)), /entry point 0x2000 is not in/],
    ['entry in data', mutate((dv) => dv.setBigUint64(24, 0x1001_2600n, true)), /entry point .* executable/],
    [
      'entry unaligned',
      mutate((dv) => dv.setBigUint64(24, dv.getBigUint64(24, true) + 2n, true)),
      /word-aligned/,
    ],
    [
      'no PT_LOAD',
      mutate((dv) => {
        for (let i = 0; i < dv.getUint16(56, true); i++) dv.setUint32(ph(i), 4, true); // all PT_NOTE
      }),
      /no loadable/,
    ],
  ];
  it.each(cases)('%s', (_name, bytes, reason) => {
    const msg = refusal(bytes);
    expect(msg).toMatch(/^bad\.elf: /);
    expect(msg).toMatch(reason);
  });

  it('the good file itself is accepted (the cases above differ from it in one field)', () => {
    expect(refusal(good)).toBe('');
    expect(good.length).toBeGreaterThan(ph(loadHeader(1)) + 56);
  });

  it('limits are configurable', () => {
    expect(() => parseElf(good, 'x', { maxBytes: 4096 })).toThrow(/more than the limit of 4096/);
    expect(() => parseElf(good, 'x', { maxAddress: 0x1000_1000 })).toThrow(/beyond 0x10001000/);
  });

  it('a missing file is an ElfError naming the path', () => {
    expect(() => readElfFile('/nonexistent/prog.elf')).toThrow(
      new ElfError('/nonexistent/prog.elf', 'no such file'),
    );
  });
});

describe('corruption never escapes as anything but an ElfError', () => {
  it('random byte edits and truncations of a good ELF', () => {
    const headerBytes = ph(3); // the ELF header and the 3 program headers
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(headerBytes - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        fc.nat(good.length),
        (edits, cut) => {
          const b = mutate((_, bytes) => {
            for (const [at, v] of edits) bytes[at] = v;
          }).subarray(0, Math.max(cut, 64));
          try {
            const img = parseElf(b, 'fuzz.elf');
            for (const s of img.segments) expect(s.bytes.length).toBeLessThanOrEqual(s.memsz);
          } catch (e) {
            expect(e).toBeInstanceOf(ElfError);
          }
        },
      ),
      { numRuns: 3000, seed: 4 },
    );
  });

  it('random 64-bit values in the header and program header fields', () => {
    const fields = [24, 32, ph(0) + 8, ph(0) + 16, ph(0) + 32, ph(0) + 40, ph(1) + 8, ph(1) + 16, ph(1) + 40];
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (at, v) => {
        const b = mutate((dv) => dv.setBigUint64(at, v, true));
        try {
          parseElf(b, 'fuzz.elf');
        } catch (e) {
          expect(e).toBeInstanceOf(ElfError);
        }
      }),
      { numRuns: 2000, seed: 5 },
    );
  });
});

/**
 * The guest firmware (guests/firmware/firmware.S → hypervisor/l1/firmware.ts) through the real
 * machinery: hand-assembled L2 programs make `sc 0` and take interrupts on a core; the firmware's
 * `sc 1` exits reach the L1 stand-in (test/support/l2-harness.ts). Checks the ABI of
 * docs/guests.md: argument registers, the Linux result convention with CR0[SO], what is preserved,
 * the crash report registers, and that a crashed program never resumes.
 */
import { describe, expect, it } from 'vitest';
import { type ElfImage, PF } from '../cores/elf.js';
import { encode as e } from '../cores/encode.js';
import { decodeRow, disasm } from '../cores/isa/decode.js';
import { R } from '../cores/vcpu.js';
import {
  CRASH_ENTRY,
  CRASH_VECTORS,
  FIRMWARE_CHUNKS,
  FIRMWARE_HCALLS,
  FIRMWARE_MAGIC_AT,
  FIRMWARE_RESERVED,
  FIRMWARE_SIZE,
  FIRMWARE_VERSION,
  firmwareImage,
  SYSCALL_VECTOR,
} from '../hypervisor/l1/firmware.js';
import { H, NestsimHcall, Vector } from '../hypervisor/papr.js';
import { type LoadedGuest, loadGuest, runGuest, type SyscallAnswer } from './support/l2-harness.js';

const TEXT = 0x1000_0000;
const DATA = 0x1001_0000;
/** The hcall a test program makes when it is done (not a nestsim hcall: the loop below stops on it). */
const DONE = 0xf1f0;
const MSR_SF_LE = 0x8000_0000_0000_0001n;
const SO = 0x1000_0000; // CR0[SO] in the 32-bit CR

/** r = a 32-bit constant (two instructions). */
const load32 = (r: number, v: number) => [e.lis!(r, ((v >>> 16) << 16) >> 16), e.ori!(r, r, v & 0xffff)];
/** r3 = DONE; sc 1. */
const done = () => [e.li!(3, 0), e.ori!(3, 3, DONE), e.sc!(1)];

/** A program image: `words` at TEXT (R+X), `data` at DATA (R+W, 64 KiB). */
function image(words: readonly number[], data: Uint8Array = new Uint8Array(0)): ElfImage {
  const bytes = new Uint8Array(words.length * 4);
  const dv = new DataView(bytes.buffer);
  words.forEach((w, k) => {
    dv.setUint32(4 * k, w >>> 0, true);
  });
  return {
    entry: TEXT,
    segments: [
      { vaddr: TEXT, bytes, memsz: bytes.length, flags: PF.R | PF.X },
      { vaddr: DATA, bytes: data, memsz: 0x1_0000, flags: PF.R | PF.W },
    ],
  };
}

/**
 * Runs `g` serving NS_SYSCALL with `serve` until the program's DONE hcall (returns the syscall
 * numbers and arguments seen); any other exit fails the test.
 */
function untilDone(
  g: LoadedGuest,
  serve: (nr: number, args: bigint[]) => SyscallAnswer,
): [number, bigint[]][] {
  const seen: [number, bigint[]][] = [];
  for (let n = 0; n < 100; n++) {
    const x = g.run(1_000_000);
    expect(x.vector, `exit at 0x${x.nia.toString(16)}`).toBe(Vector.SYSTEM_CALL);
    const op = Number(g.vcpu.gpr(3));
    if (op === DONE) return seen;
    expect(op).toBe(NestsimHcall.NS_SYSCALL);
    const nr = Number(g.vcpu.gpr(4));
    const args = [5, 6, 7, 8, 9, 10].map((r) => g.vcpu.gpr(r));
    seen.push([nr, args]);
    const a = serve(nr, args);
    g.vcpu.setGpr(3, BigInt(a.status));
    g.vcpu.setGpr(4, a.result);
  }
  throw new Error('no DONE hcall');
}

const cr = (g: LoadedGuest) => g.vcpu.w[R.CR]! >>> 0;

describe('the generated module', () => {
  it('was assembled with the hcall numbers of hypervisor/papr.ts', () => {
    expect(FIRMWARE_HCALLS).toEqual({ NS_SYSCALL: NestsimHcall.NS_SYSCALL, NS_CRASH: NestsimHcall.NS_CRASH });
  });

  it('has the header: trap at 0, "NSFW", version, size', () => {
    const img = firmwareImage();
    const dv = new DataView(img.buffer);
    expect(img.length).toBe(FIRMWARE_SIZE);
    expect(FIRMWARE_SIZE).toBeLessThanOrEqual(FIRMWARE_RESERVED);
    expect(disasm(dv.getUint32(0, true))).toBe('tw 31,0,0');
    expect(new TextDecoder().decode(img.subarray(FIRMWARE_MAGIC_AT, FIRMWARE_MAGIC_AT + 4))).toBe('NSFW');
    expect(dv.getUint32(FIRMWARE_MAGIC_AT + 4, true)).toBe(FIRMWARE_VERSION);
    expect(dv.getUint32(FIRMWARE_MAGIC_AT + 8, true)).toBe(FIRMWARE_SIZE);
  });

  it('has a crash stub "li 4,vector; b crash_common" at every vector a guest can take', () => {
    const required = [
      0x100, 0x200, 0x300, 0x380, 0x400, 0x480, 0x500, 0x600, 0x700, 0x800, 0x900, 0xa00, 0xd00, 0xf00, 0xf20,
      0xf40, 0xf60,
    ];
    const vectors = Object.values(CRASH_VECTORS);
    for (const v of required) expect(vectors).toContain(v);
    const dv = new DataView(firmwareImage().buffer);
    for (const v of vectors) {
      expect(disasm(dv.getUint32(v, true))).toBe(`addi 4,0,${v}`);
      const b = dv.getUint32(v + 4, true);
      expect(b >>> 26).toBe(18); // I-form branch
      expect(v + 4 + (((b & 0x03ff_fffc) << 6) >> 6)).toBe(CRASH_ENTRY);
    }
    expect(vectors).not.toContain(SYSCALL_VECTOR);
  });

  it('is code the core decodes (every non-zero word outside the header is a fixed-point instruction)', () => {
    for (const { at, words } of FIRMWARE_CHUNKS)
      words.forEach((w, k) => {
        if ((at === 0 && k >= 2) || w === 0) return; // header data, padding between stubs
        expect(decodeRow(w).unit, `word at 0x${(at + 4 * k).toString(16)}`).toBe('fixed');
      });
  });
});

describe('system call: sc 0 → NS_SYSCALL → back to the program', () => {
  it('passes r0 and r3..r8 as r4 and r5..r10, returns r4 in r3, and preserves the rest', () => {
    const g = loadGuest(
      image([
        ...load32(9, 0x0123_4567),
        e.mtcrf!(0x7f, 9), // cr1..cr7 = 1,2,3,4,5,6,7
        ...load32(10, 0x1234),
        e.mtlr!(10),
        e.li!(2, 0x222),
        e.li!(13, 0x1313),
        e.li!(14, 0x1414),
        e.li!(31, 0x3131),
        e.li!(0, 999),
        ...[11, 12, 13, 14, 15, 16].map((v, k) => e.li!(3 + k, v)),
        e.sc!(0),
        e.mr!(20, 3), // the program continues after sc
        ...done(),
      ]),
    );
    const r1 = g.vcpu.gpr(1);
    const seen = untilDone(g, () => ({ status: H.SUCCESS, result: 77n }));
    expect(seen).toEqual([[999, [11n, 12n, 13n, 14n, 15n, 16n]]]);
    const v = g.vcpu;
    expect(v.gpr(20)).toBe(77n);
    expect(cr(g) & SO).toBe(0);
    expect(cr(g) & 0x0fff_ffff).toBe(0x0123_4567); // cr1..cr7 untouched
    expect([v.gpr(1), v.gpr(2), v.gpr(13), v.gpr(14), v.gpr(31)]).toEqual([
      r1,
      0x222n,
      0x1313n,
      0x1414n,
      0x3131n,
    ]);
    expect(v.get64(R.LR)).toBe(0x1234n);
    expect(v.get64(R.MSR)).toBe(MSR_SF_LE); // rfid restored the program's MSR
  });

  // [hypervisor status, syscall result] → [r3 in the program, CR0[SO]]
  const conventions: [string, number, bigint, bigint, number][] = [
    ['success', H.SUCCESS, 5n, 5n, 0],
    ['zero', H.SUCCESS, 0n, 0n, 0],
    ['-1 is EPERM', H.SUCCESS, -1n, 1n, 1],
    ['-EBADF', H.SUCCESS, -9n, 9n, 1],
    ['-4095 is the last errno', H.SUCCESS, -4095n, 4095n, 1],
    ['-4096 is a result', H.SUCCESS, -4096n, BigInt.asUintN(64, -4096n), 0],
    ['a high address is a result', H.SUCCESS, 1n << 63n, 1n << 63n, 0],
    ['H_FUNCTION → ENOSYS', H.FUNCTION, 5n, 38n, 1],
    ['H_PARAMETER → ENOSYS', H.PARAMETER, 0n, 38n, 1],
    ['H_BUSY → ENOSYS', H.BUSY, 0n, 38n, 1],
  ];
  it.each(conventions)('%s', (_name, status, result, r3, so) => {
    for (const before of [0, 0xf]) {
      // CR0 = `before` on entry: SO must come out as the result says, whatever it was.
      const g = loadGuest(
        image([e.li!(9, before), ...shiftCr0(9), e.li!(0, 4), e.sc!(0), e.mr!(20, 3), ...done()]),
      );
      untilDone(g, () => ({ status, result }));
      expect(g.vcpu.gpr(20)).toBe(r3);
      expect((cr(g) & SO) !== 0).toBe(so === 1);
    }
  });

  it('write(1, …) and write(2, …) reach stdout and stderr; a bad fd is EBADF', () => {
    const text = new TextEncoder().encode('out\nerr\n');
    const r = runGuest(
      image(
        [
          ...[
            [1, 0, 4],
            [2, 4, 4],
            [7, 0, 4],
          ].flatMap(([fd, off, len]) => [
            e.li!(0, 4),
            e.li!(3, fd!),
            ...load32(4, DATA + off!),
            e.li!(5, len!),
            e.sc!(0),
            e.mr!(20 + fd!, 3), // r21, r22, r27: results
          ]),
          e.li!(0, 234),
          e.mr!(3, 27), // exit_group(9): EBADF came back as 9
          e.sc!(0),
        ],
        text,
      ),
    );
    expect([r.stdout, r.stderr, r.exitCode, r.syscalls]).toEqual(['out\n', 'err\n', 9, 4]);
  });

  it('an unknown syscall is ENOSYS with SO set', () => {
    const r = runGuest(
      image([
        e.li!(0, 500),
        e.sc!(0),
        e.mfcr!(4),
        e.srwi!(4, 4, 28), // r4 = CR0
        e.andi_!(4, 4, 1), // SO
        e.slwi!(4, 4, 7),
        e.or!(3, 3, 4), // 38 | 0x80
        e.li!(0, 1),
        e.sc!(0),
      ]),
    );
    expect(r.unknownSyscalls).toEqual([500]);
    expect(r.exitCode).toBe(38 | 0x80);
  });
});

/** mtcrf 0x80 from the low nibble of r: CR0 = r & 0xf (shifted into CR bits 0..3). */
function shiftCr0(r: number): number[] {
  return [e.slwi!(r, r, 28), e.mtcrf!(0x80, r)];
}

describe('crash: every other vector → NS_CRASH, never back to the program', () => {
  const crashes: [string, number[], number, (at: number) => Record<string, bigint | number>][] = [
    ['trap → program interrupt', [e.nop!(), e.trap!()], Vector.PROGRAM, (at) => ({ srr0: BigInt(at + 4) })],
    [
      'call through a null pointer → program interrupt at 0',
      [e.li!(12, 0), e.mtctr!(12), e.bctrl!()],
      Vector.PROGRAM,
      (at) => ({ srr0: 0n, lr: BigInt(at + 12) }),
    ],
    [
      'lwarx at an unaligned address → alignment, DAR = the address',
      [...load32(4, DATA + 2), e.lwarx!(3, 0, 4, 0)],
      Vector.ALIGNMENT,
      () => ({ dar: BigInt(DATA + 2) }),
    ],
    [
      'FP load with MSR[FP] = 0 → FP unavailable',
      [...load32(4, DATA), 0xc8040000],
      Vector.FP_UNAVAILABLE,
      () => ({}),
    ],
    [
      'vector instruction with MSR[VEC] = 0 → VMX unavailable',
      [0x10000000],
      Vector.VMX_UNAVAILABLE,
      () => ({}),
    ],
    [
      'decrementer with MSR[EE] = 1',
      [
        e.li!(3, 100),
        e.mtdec!(3),
        e.li!(4, 0),
        e.ori!(4, 4, 0x8000),
        e.mfmsr!(5),
        e.or!(5, 5, 4),
        e.mtmsrd!(5, 1),
        e.b!(0),
      ],
      Vector.DECREMENTER,
      (at) => ({ srr0: BigInt(at + 28) }),
    ],
  ];
  it.each(crashes)('%s', (_name, words, vector, regs) => {
    const r = runGuest(image([e.li!(1, 0), e.ori!(1, 1, 0x7000), e.oris!(1, 1, 0x100 >> 4), ...words]));
    expect(r.failure).toBeUndefined();
    expect(r.crash?.vector, r.crash?.text).toBe(vector);
    expect(r.crash).toMatchObject(regs(TEXT + 12));
    expect(r.crash!.r1).toBe(0x10_7000n); // r1 as the program left it
    expect(r.crash!.text).toMatch(new RegExp(`^\\S.* \\(0x${vector.toString(16)}\\) at 0x`));
    expect(r.exitCode).toBeUndefined();
  });

  it('repeats NS_CRASH with the same registers if the L1 returns', () => {
    const g = loadGuest(image([e.trap!()]));
    const reports: bigint[][] = [];
    for (let k = 0; k < 3; k++) {
      const x = g.run(1000);
      expect([x.vector, Number(g.vcpu.gpr(3))]).toEqual([Vector.SYSTEM_CALL, NestsimHcall.NS_CRASH]);
      expect(Number(x.nia)).toBeGreaterThan(CRASH_ENTRY);
      expect(Number(x.nia)).toBeLessThanOrEqual(FIRMWARE_SIZE);
      reports.push([4, 5, 6, 7, 8, 9, 10].map((n) => g.vcpu.gpr(n)));
      for (let n = 3; n <= 12; n++) g.vcpu.setGpr(n, 0xdead_beefn); // a hypervisor may clobber them
    }
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);
    expect(reports[0]![0]).toBe(BigInt(Vector.PROGRAM));
    expect(reports[0]![1]).toBe(BigInt(TEXT));
  });
});

describe('what the firmware does not handle goes to the L1', () => {
  it('a store into the firmware is an HDSI (its pages are mapped read/execute)', () => {
    const r = runGuest(image([e.li!(3, 0x100), e.stw!(3, 0, 3)]));
    expect(r.failure).toMatch(/^HDSI at NIA 0x10000004: HDAR 0x100/);
  });

  it('an unimplemented instruction is an HEAI naming the word', () => {
    const r = runGuest(image([0x00000000]));
    expect(r.failure).toMatch(/^HEAI at NIA 0x10000000: instruction 0x0 /);
  });

  it('a program running off its stack is an HDSI below the stack', () => {
    const r = runGuest(image([e.stdu!(1, -4096, 1), e.b!(-4)]), { stackBytes: 0x4000 });
    expect(r.failure).toMatch(/^HDSI at NIA 0x10000000: HDAR 0xffb/);
  });
});

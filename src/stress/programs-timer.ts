/**
 * The L2 program of the timer-edges stressor (src/stress/stressors/timer-edges.ts), assembled with
 * cores/encode.ts, and the firmware it runs under: the shipped image with the decrementer vector
 * (0x900) branching to the program's own handler instead of reporting a crash.
 *
 * Each vCPU (r3 = its index) works on its own block of the data segment, which the stressor fills
 * with a seeded schedule and reads back when the guest is over:
 * - the arms: DEC expiries as L2 timebase offsets from T0 (the TB at the program's first
 *   instruction). The program arms the first, then turns MSR[EE] on; the handler re-arms the next
 *   one at each delivery (DEC ← T0 + expiry − now, so a late delivery does not push the rest back)
 *   until the table is exhausted, then parks DEC at 0x7fffffff;
 * - the steps: hcalls placed against an arm by reading DEC, so they stay on the chosen side of the
 *   expiry however long the vCPU waited off-core (Placement below). L1 answers each one (H_CEDE,
 *   or NS_SYSCALL getpid → ENOSYS), so every step is an exit to L1 and back;
 * - the records: for every exit the program makes, PURR and the delivery count just before the
 *   `sc 1` and just after it, and DEC at the hcall (negative: the expiry is pending across it).
 *
 * Checks the program makes itself, as counters in its block: the handler reads DEC first and counts
 * a delivery with DEC ≥ 0 as spurious (Book III: the interrupt is pending only while DEC is
 * negative); every main-program TB read is compared with the one before it (never backwards, across
 * exits and migrations); a wait that outlives its deadline (an expiry that never came) is counted
 * and ends the schedule.
 *
 * Registers: the handler uses only r24..r27 and CR7, and reads r20 (block) and r21 (T0); the main
 * program never touches those four, nor CTR's loop count from the handler's side, so an interrupt
 * anywhere leaves the main program's state alone. No stack: any vCPU count.
 */
import type { ElfImage } from '../../cores/elf.js';
import { encode as e } from '../../cores/encode.js';
import { Hcall, NestsimHcall, Vector } from '../../hypervisor/papr.js';
import { CODE_BASE, dataSegment, imageOf } from '../programs.js';
import { Code, increment } from './code.js';
import { firmwareWithHandler } from './handler-firmware.js';

/** Where the per-vCPU blocks start (L2 real address). */
export const TIMER_DATA = 0x20_0000;

/** Byte offsets in a vCPU's block header. Inputs are written by the stressor; the rest by L2. */
export const Hdr = {
  /** u64: L2 TB at the first instruction. */
  T0: 0,
  /** u64: PURR at the first instruction (start of the first exit interval). */
  PURR_START: 8,
  /** u32: decrementer interrupts taken. */
  DELIVERED: 16,
  /** u32: arms written to DEC (the first by the main program, the rest by the handler). */
  ARMED: 20,
  /** u32: deliveries that found DEC ≥ 0. */
  SPURIOUS: 24,
  /** i32: DEC at the last spurious delivery. */
  SPURIOUS_DEC: 28,
  /** u32: TB reads lower than the one before. */
  BACKWARDS: 32,
  /** u32: hcalls L1 answered with anything but H_SUCCESS. */
  BAD_ANSWERS: 36,
  /** u32: waits that passed their deadline (an expiry that never came). */
  TIMEOUTS: 40,
  /** u32: steps done (exits made, besides the final exit). */
  HCALLS: 44,
  /** u32 input: arms in the table. */
  ARMS: 48,
  /** u32 input: steps in the table. */
  STEPS: 52,
  /** u32 input: T0-relative TB after which the final wait for outstanding arms gives up. */
  FINAL_DEADLINE: 56,
  /** u32: 1 once the program reached its exit. */
  DONE: 60,
  /** u64: TB the handler read at the last delivery. */
  LAST_DELIVERY_TB: 64,
  /** u64: the last TB the main program read. */
  LAST_TB: 72,
  /** u64 pair: the last backwards TB read (the TB before it, and it). */
  BACK_FROM: 80,
  BACK_TO: 88,
  /** u32 input: byte offsets of the step table and of the records in the block. */
  STEPS_AT: 96,
  RECS_AT: 100,
  /** u64: r3 of the last hcall answered with an error. */
  BAD_R3: 104,
  /** u32: the step whose wait ran out last, and i32: DEC then. */
  TIMEOUT_STEP: 112,
  TIMEOUT_DEC: 116,
  /** At the last wait that ran out: deliveries seen, the arm waited for, TB, the deadline. */
  TIMEOUT_DELIVERED: 120,
  TIMEOUT_ARM: 124,
  TIMEOUT_TB: 128,
  TIMEOUT_DEADLINE: 136,
} as const;

/** Bytes of the header; the arm table follows (one u32 per arm). */
export const HEADER_BYTES = 192;
/** Bytes of one step: arm u32, kind u32, threshold i32, threshold i32, deadline u32, pad. */
export const STEP_BYTES = 24;
/** Bytes of one exit record: PURR before u64, PURR after u64, deliveries before/after u32, DEC i32, pad. */
export const RECORD_BYTES = 32;

/**
 * Where a step puts its hcall against its arm `a` (the low byte of the step's kind):
 * - BEFORE: when DEC ≤ t1 (t1 > 0): the expiry comes t1 ticks or so after the exit;
 * - AFTER: t1 ticks after arm a was delivered: the expiry was just before the exit;
 * - MASKED: MSR[EE] off once DEC ≤ t1, the hcall when DEC ≤ t2 (t2 < 0: the expiry is pending
 *   across the exit, and must be taken when EE comes back on after it);
 * - HDEC: when DEC ≤ t1 = L1's slice + δ: the HDEC exit that ends the next slice lands about δ
 *   from the expiry.
 * If arm a was delivered already (the vCPU was off-core when it expired), the hcall comes at once.
 */
export const Placement = { BEFORE: 1, AFTER: 2, MASKED: 3, HDEC: 4 } as const;
/** Kind bit: the hcall is H_CEDE (L1 yields the core) rather than NS_SYSCALL getpid. */
export const CEDE = 0x100;

/** One step of a vCPU's schedule. */
export interface TimerStep {
  arm: number;
  kind: number;
  t1: number;
  t2: number;
  /** T0-relative TB after which the wait gives up. */
  deadline: number;
}

/** One vCPU's schedule: arm expiries (T0-relative, increasing) and steps (by increasing arm). */
export interface TimerSchedule {
  arms: readonly number[];
  steps: readonly TimerStep[];
  finalDeadline: number;
}

/** Bytes of the block of a schedule with `arms` arms and `steps` steps. */
export function blockBytes(arms: number, steps: number): number {
  return recordsAt(arms, steps) + (steps + 1) * RECORD_BYTES;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;
const stepsAt = (arms: number) => align8(HEADER_BYTES + 4 * arms);
const recordsAt = (arms: number, steps: number) => align8(stepsAt(arms) + steps * STEP_BYTES);

/** The per-vCPU stride: a power of two (the program shifts the vCPU index), at least a page. */
export function strideFor(bytes: number): number {
  let s = 4096;
  while (s < bytes) s *= 2;
  return s;
}

const SPR_PURR = 309;
const TBR_TB = 268;
const SYS_GETPID = 20;
const SYS_EXIT = 1;
const EE = 0x8000;

// Registers of the main program (the handler's are r24..r27).
const BLK = 20;
const T0 = 21;
const STEP = 22;
const LAST = 23;
const REC = 19;
const ARM = 14;
const KIND = 15;
const T1 = 16;
const T2 = 17;
const DEADLINE = 18;

/** r8 += 1 at BLK+off (a u32 counter). */
function bump(a: Code, off: number): void {
  a.emit(...increment(8, off, BLK));
}

/** MSR[EE] ← on (through r8; mtmsrd L = 1 changes only EE and RI). */
function eeOn(a: Code): void {
  a.emit(e.li!(8, 0), e.ori!(8, 8, EE), e.mtmsrd!(8, 1));
}

function eeOff(a: Code): void {
  a.emit(e.li!(8, 0), e.mtmsrd!(8, 1));
}

/** The monotonic check of a TB value in `reg` against LAST, then LAST ← reg. */
function checkTb(a: Code, reg: number): void {
  const ok = a.fresh('tbok');
  a.emit(e.cmpld!(1, reg, LAST));
  a.branch(ok, (o) => e.bge!(1, o));
  bump(a, Hdr.BACKWARDS);
  a.emit(e.std!(LAST, Hdr.BACK_FROM, BLK), e.std!(reg, Hdr.BACK_TO, BLK));
  a.label(ok);
  a.emit(e.mr!(LAST, reg));
}

/** r5 ← TB, checked. */
function readTb(a: Code): void {
  a.emit(e.mftb!(5, TBR_TB));
  checkTb(a, 5);
}

/**
 * A wait with a deadline: `cond(skip)` branches out when the wait is over (and to `skip` when it
 * must go on without looking further); after it, the TB is read and compared with DEADLINE, and
 * once past it the condition is looked at one last time before `fail`. The last look matters: an
 * exit between the condition's reads and the TB read can move the vCPU to a core whose clock is
 * far ahead, and the deliveries that catch up with it happen at re-entry, after those reads.
 */
function waitUntil(a: Code, cond: (skip: string) => void, fail: string): void {
  const loop = a.fresh('wait');
  const skip = a.fresh('skip');
  a.label(loop);
  cond(skip);
  a.label(skip);
  readTb(a);
  a.emit(e.cmpld!(0, 5, DEADLINE));
  a.branch(loop, (o) => e.ble!(o));
  cond(fail);
  a.branch(fail, (o) => e.b!(o));
}

/** Over when arm ARM was delivered, or is the one in DEC and DEC ≤ `thr`: on to `go`. */
function armDue(a: Code, thr: number, go: string): (skip: string) => void {
  return (skip) => {
    a.emit(e.lwz!(9, Hdr.DELIVERED, BLK), e.cmplw!(0, 9, ARM));
    a.branch(go, (o) => e.bgt!(o));
    a.branch(skip, (o) => e.blt!(o)); // an earlier arm is in DEC
    a.emit(e.mfdec!(10), e.cmpd!(0, 10, thr));
    a.branch(go, (o) => e.ble!(o));
  };
}

/** Ticks between the TB read and the DEC write beyond which an arm is written again. */
const ARM_SLACK = 8;
/** Words of `armDec`. */
const ARM_WORDS = 7;

/**
 * DEC ← `target` − TB, so that DEC reaches 0 at TB = target. An exit between the TB read and the
 * mtdec can move the vCPU to a core whose clock is ahead (the multicore runtime catches a core up
 * to the machine's clock), which would leave the expiry late by the jump: the TB is read again
 * after the write and the arm redone if time moved by more than ARM_SLACK. Uses `t`, `u` and `cr`.
 */
function armDec(a: Code, target: number, t: number, u: number, cr: number): void {
  const retry = a.fresh('arm');
  a.label(retry);
  a.emit(e.mftb!(t, TBR_TB), e.subf!(u, t, target), e.mtdec!(u), e.mftb!(u, TBR_TB), e.subf!(u, t, u));
  a.emit(e.cmpldi!(cr, u, ARM_SLACK));
  a.branch(retry, (o) => e.bgt!(cr, o));
}

/** The decrementer handler (reached from 0x900): check, count, re-arm, return. */
function handler(a: Code): void {
  a.label('handler');
  a.emit(e.mfdec!(24), e.cmpdi!(7, 24, 0));
  a.branch('h.real', (o) => e.blt!(7, o));
  a.emit(e.lwz!(25, Hdr.SPURIOUS, BLK), e.addi!(25, 25, 1), e.stw!(25, Hdr.SPURIOUS, BLK));
  a.emit(e.stw!(24, Hdr.SPURIOUS_DEC, BLK));
  a.label('h.real');
  a.emit(e.lwz!(25, Hdr.DELIVERED, BLK), e.addi!(25, 25, 1), e.stw!(25, Hdr.DELIVERED, BLK));
  a.emit(e.mftb!(26, TBR_TB), e.std!(26, Hdr.LAST_DELIVERY_TB, BLK));
  a.emit(e.lwz!(25, Hdr.ARMED, BLK), e.lwz!(27, Hdr.ARMS, BLK), e.cmplw!(7, 25, 27));
  a.branch('h.exhausted', (o) => e.bge!(7, o));
  a.emit(
    e.slwi!(27, 25, 2),
    e.addi!(27, 27, HEADER_BYTES),
    e.lwzx!(27, BLK, 27), // expiry, T0-relative
    e.add!(27, 27, T0),
  );
  armDec(a, 27, 26, 24, 7);
  a.emit(e.addi!(25, 25, 1), e.stw!(25, Hdr.ARMED, BLK), e.rfid!());
  a.label('h.exhausted');
  a.emit(e.lis!(27, 0x7fff), e.ori!(27, 27, 0xffff), e.mtdec!(27), e.rfid!());
  a.label('h.end');
}

/** The program's code (main program, then the handler) and the handler's word index. */
function timerCode(stride: number): { code: number[]; handlerAt: number; handlerWords: number } {
  const a = new Code();
  // ---- setup: EE is off until everything the handler reads is in place ----
  a.emit(
    e.mfspr!(STEP, SPR_PURR), // PURR at the very first instruction
    e.mftb!(T0, TBR_TB),
    e.lis!(BLK, TIMER_DATA >>> 16),
    e.sldi!(8, 3, Math.log2(stride)),
    e.add!(BLK, BLK, 8),
    e.std!(T0, Hdr.T0, BLK),
    e.std!(STEP, Hdr.PURR_START, BLK),
    e.mr!(LAST, T0),
    // arm 0
    e.lwz!(8, HEADER_BYTES, BLK),
    e.add!(8, 8, T0),
  );
  armDec(a, 8, 9, 10, 0);
  a.emit(e.li!(8, 1), e.stw!(8, Hdr.ARMED, BLK));
  eeOn(a);
  a.emit(e.lwz!(8, Hdr.RECS_AT, BLK), e.add!(REC, BLK, 8));
  a.emit(e.lwz!(8, Hdr.STEPS, BLK), e.cmpwi!(0, 8, 0));
  a.branch('final', (o) => e.beq!(o));
  a.emit(e.mtspr!(9, 8), e.lwz!(8, Hdr.STEPS_AT, BLK), e.add!(STEP, BLK, 8));

  // ---- one step ----
  a.label('step');
  a.emit(
    e.lwz!(ARM, 0, STEP),
    e.lwz!(KIND, 4, STEP),
    e.lwa!(T1, 8, STEP),
    e.lwa!(T2, 12, STEP),
    e.lwz!(DEADLINE, 16, STEP),
    e.add!(DEADLINE, DEADLINE, T0),
    e.andi_!(7, KIND, 0xff),
    e.cmpwi!(0, 7, Placement.AFTER),
  );
  a.branch('after', (o) => e.beq!(o));
  // BEFORE / MASKED / HDEC: until arm ARM is delivered, or is the one in DEC and DEC ≤ T1.
  waitUntil(a, armDue(a, T1, 'go'), 'timeout');
  a.label('go');
  a.emit(e.cmpwi!(0, 7, Placement.MASKED));
  a.branch('hcall', (o) => e.bne!(o));
  eeOff(a);
  waitUntil(a, armDue(a, T2, 'hcall'), 'timeout');
  // AFTER: until arm ARM is delivered, then T1 ticks more.
  a.label('after');
  waitUntil(
    a,
    () => {
      a.emit(e.lwz!(9, Hdr.DELIVERED, BLK), e.cmplw!(0, 9, ARM));
      a.branch('delay', (o) => e.bgt!(o));
    },
    'timeout',
  );
  a.label('delay');
  a.emit(e.ld!(10, Hdr.LAST_DELIVERY_TB, BLK), e.add!(10, 10, T1));
  a.label('dwait');
  readTb(a);
  a.emit(e.cmpld!(0, 5, 10));
  a.branch('dwait', (o) => e.blt!(o));

  // ---- the exit: an hcall L1 answers, with PURR, deliveries, DEC and TB read around it ----
  a.label('hcall');
  a.emit(e.andi_!(9, KIND, CEDE));
  a.branch('getpid', (o) => e.beq!(o));
  a.emit(e.li!(3, Hcall.H_CEDE));
  a.branch('made', (o) => e.b!(o));
  a.label('getpid');
  a.emit(e.li!(3, 0), e.ori!(3, 3, NestsimHcall.NS_SYSCALL), e.li!(4, SYS_GETPID));
  a.label('made');
  a.emit(
    e.lwz!(9, Hdr.DELIVERED, BLK),
    e.mfdec!(12),
    e.mftb!(11, TBR_TB),
    e.mfspr!(10, SPR_PURR),
    e.sc!(1),
    e.mfspr!(13, SPR_PURR),
    e.mftb!(5, TBR_TB),
    e.lwz!(7, Hdr.DELIVERED, BLK),
    e.std!(10, 0, REC),
    e.std!(13, 8, REC),
    e.stw!(9, 16, REC),
    e.stw!(7, 20, REC),
    e.stw!(12, 24, REC),
  );
  checkTb(a, 11);
  checkTb(a, 5);
  a.emit(e.cmpdi!(0, 3, 0));
  a.branch('answered', (o) => e.beq!(o));
  bump(a, Hdr.BAD_ANSWERS);
  a.emit(e.std!(3, Hdr.BAD_R3, BLK));
  a.label('answered');
  bump(a, Hdr.HCALLS);
  eeOn(a); // after a masked step, the pending decrementer is taken right here
  a.emit(e.addi!(STEP, STEP, STEP_BYTES), e.addi!(REC, REC, RECORD_BYTES));
  a.branch('step', (o) => e.bdnz!(o));

  // ---- the end: wait for the arms still out, then exit(0) with EE off ----
  a.label('final');
  a.emit(e.lwz!(DEADLINE, Hdr.FINAL_DEADLINE, BLK), e.add!(DEADLINE, DEADLINE, T0));
  waitUntil(
    a,
    () => {
      a.emit(e.lwz!(9, Hdr.DELIVERED, BLK), e.lwz!(10, Hdr.ARMS, BLK), e.cmplw!(0, 9, 10));
      a.branch('fdone', (o) => e.bge!(o));
    },
    'flate',
  );
  a.label('flate');
  bump(a, Hdr.TIMEOUTS);
  a.label('fdone');
  eeOff(a);
  a.emit(
    e.lwz!(9, Hdr.DELIVERED, BLK),
    e.stw!(9, 16, REC),
    e.stw!(9, 20, REC),
    e.std!(LAST, Hdr.LAST_TB, BLK),
    e.li!(8, 1),
    e.stw!(8, Hdr.DONE, BLK),
    e.li!(3, 0),
    e.ori!(3, 3, NestsimHcall.NS_SYSCALL),
    e.li!(4, SYS_EXIT),
    e.li!(5, 0),
    e.mfspr!(10, SPR_PURR),
    e.std!(10, 0, REC),
    e.std!(10, 8, REC),
    e.sc!(1),
    e.trap!(), // exit never returns
  );
  a.label('timeout');
  bump(a, Hdr.TIMEOUTS);
  a.emit(e.mfspr!(8, 9), e.stw!(8, Hdr.TIMEOUT_STEP, BLK), e.mfdec!(10), e.stw!(10, Hdr.TIMEOUT_DEC, BLK));
  a.emit(e.stw!(9, Hdr.TIMEOUT_DELIVERED, BLK), e.stw!(ARM, Hdr.TIMEOUT_ARM, BLK));
  a.emit(e.std!(5, Hdr.TIMEOUT_TB, BLK), e.std!(DEADLINE, Hdr.TIMEOUT_DEADLINE, BLK));
  a.branch('final', (o) => e.b!(o));

  handler(a);
  const code = a.link();
  const handlerAt = a.at('handler');
  return { code, handlerAt, handlerWords: a.at('h.end') - handlerAt };
}

/**
 * Most instructions one decrementer interrupt costs the vCPU: the branch at 0x900, every word of
 * the handler, and one more try of its arm (a retry needs an exit inside the handler, and the
 * slice is far longer than the handler). The HDEC check uses it to bound the time handlers add to
 * an exit interval beyond the PURR reads.
 */
export const HANDLER_TICKS = timerCode(4096).handlerWords + ARM_WORDS + 1;

/** The program image for one guest (every vCPU's schedule in its data) and its firmware. */
export function timerImage(schedules: readonly TimerSchedule[]): {
  image: ElfImage;
  firmware: Uint8Array;
  stride: number;
} {
  const stride = strideFor(Math.max(...schedules.map((s) => blockBytes(s.arms.length, s.steps.length))));
  const { code, handlerAt } = timerCode(stride);
  const data = new Uint8Array(stride * schedules.length);
  const dv = new DataView(data.buffer);
  schedules.forEach((s, v) => {
    const b = v * stride;
    const n = s.arms.length;
    dv.setUint32(b + Hdr.ARMS, n, true);
    dv.setUint32(b + Hdr.STEPS, s.steps.length, true);
    dv.setUint32(b + Hdr.FINAL_DEADLINE, s.finalDeadline, true);
    dv.setUint32(b + Hdr.STEPS_AT, stepsAt(n), true);
    dv.setUint32(b + Hdr.RECS_AT, recordsAt(n, s.steps.length), true);
    s.arms.forEach((x, i) => {
      dv.setUint32(b + HEADER_BYTES + 4 * i, x, true);
    });
    s.steps.forEach((st, k) => {
      const at = b + stepsAt(n) + k * STEP_BYTES;
      dv.setUint32(at, st.arm, true);
      dv.setUint32(at + 4, st.kind, true);
      dv.setInt32(at + 8, st.t1, true);
      dv.setInt32(at + 12, st.t2, true);
      dv.setUint32(at + 16, st.deadline, true);
    });
  });
  return {
    image: imageOf(code, [dataSegment(TIMER_DATA, data.length, data)]),
    firmware: firmwareWithHandler(Vector.DECREMENTER, CODE_BASE + 4 * handlerAt),
    stride,
  };
}

/** What one vCPU's block says once the guest is over. */
export interface TimerBlock {
  t0: number;
  purrStart: number;
  delivered: number;
  armed: number;
  spurious: number;
  spuriousDec: number;
  backwards: number;
  backFrom: number;
  backTo: number;
  badAnswers: number;
  /** r3 of the last hcall answered with an error. */
  badR3: number;
  timeouts: number;
  /** Steps left when the last wait ran out, and DEC then. */
  timeoutStepsLeft: number;
  timeoutDec: number;
  /** The last wait that ran out, in words. */
  timeoutWhat: string;
  hcalls: number;
  done: boolean;
  /** One per exit the program made: its steps' hcalls, then the final exit. */
  exits: TimerExit[];
}

/** Readings around one exit. */
export interface TimerExit {
  purrBefore: number;
  purrAfter: number;
  deliveredBefore: number;
  deliveredAfter: number;
  /** DEC at the hcall (negative: the expiry is pending across the exit). */
  dec: number;
}

/** Decodes a block from its bytes (`read(offset, bytes)` reads the vCPU's block). */
export function readBlock(
  read: (offset: number, bytes: number) => Uint8Array | undefined,
): TimerBlock | undefined {
  const h = read(0, HEADER_BYTES);
  if (!h) return undefined;
  const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => Number(dv.getBigUint64(o, true));
  const hcalls = Math.min(u32(Hdr.HCALLS), u32(Hdr.STEPS));
  const block: TimerBlock = {
    t0: u64(Hdr.T0),
    purrStart: u64(Hdr.PURR_START),
    delivered: u32(Hdr.DELIVERED),
    armed: u32(Hdr.ARMED),
    spurious: u32(Hdr.SPURIOUS),
    spuriousDec: dv.getInt32(Hdr.SPURIOUS_DEC, true),
    backwards: u32(Hdr.BACKWARDS),
    backFrom: u64(Hdr.BACK_FROM),
    backTo: u64(Hdr.BACK_TO),
    badAnswers: u32(Hdr.BAD_ANSWERS),
    badR3: u64(Hdr.BAD_R3),
    timeouts: u32(Hdr.TIMEOUTS),
    timeoutStepsLeft: u32(Hdr.TIMEOUT_STEP),
    timeoutDec: dv.getInt32(Hdr.TIMEOUT_DEC, true),
    timeoutWhat: `waiting for arm ${u32(Hdr.TIMEOUT_ARM)} with ${u32(Hdr.TIMEOUT_DELIVERED)} delivered, at T0 + ${u64(Hdr.TIMEOUT_TB) - u64(Hdr.T0)} (deadline T0 + ${u64(Hdr.TIMEOUT_DEADLINE) - u64(Hdr.T0)})`,
    hcalls,
    done: u32(Hdr.DONE) === 1,
    exits: [],
  };
  const n = block.done ? hcalls + 1 : hcalls;
  const r = read(u32(Hdr.RECS_AT), n * RECORD_BYTES);
  if (!r) return undefined;
  const rv = new DataView(r.buffer, r.byteOffset, r.byteLength);
  for (let k = 0; k < n; k++) {
    const o = k * RECORD_BYTES;
    block.exits.push({
      purrBefore: Number(rv.getBigUint64(o, true)),
      purrAfter: Number(rv.getBigUint64(o + 8, true)),
      deliveredBefore: rv.getUint32(o + 16, true),
      deliveredAfter: rv.getUint32(o + 20, true),
      dec: rv.getInt32(o + 24, true),
    });
  }
  return block;
}

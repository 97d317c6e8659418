/**
 * The L2 program of the doorbells stressor (src/stress/stressors/doorbells.ts), assembled with
 * cores/encode.ts, and its firmware: the shipped image with the privileged doorbell vector (0xA00)
 * branching to the program's own handler.
 *
 * The guest's vCPUs are pairs of SMT siblings (vCPU 2k is thread 0 of virtual core k, 2k+1 its
 * thread 1). The siblings play ping-pong with directed privileged doorbells for `rounds` rounds:
 * thread 0 sends (msgsndp to thread 1) then waits for the answer, thread 1 waits then answers. A
 * wait has a deadline in timebase ticks: a doorbell that never comes is counted and ends the vCPU's
 * game. The handler clears its doorbell (msgclrp: DPDES is level, pending until cleared), counts
 * it and returns. Counters per vCPU, in its block: sent, received, timeouts, done.
 *
 * Registers: main r8..r10, r17 (thread), r18 (msgclrp operand), r19 (msgsndp operand), r20
 * (block), r21 (doorbells expected), r22 (deadline), CTR; the handler r25 only.
 */
import type { ElfImage } from '../../cores/elf.js';
import { encode as e } from '../../cores/encode.js';
import { Vector } from '../../hypervisor/papr.js';
import { CODE_BASE, dataSegment, exitWith, imageOf } from '../programs.js';
import { Code, increment } from './code.js';
import { firmwareWithHandler } from './handler-firmware.js';

/** Where the per-vCPU blocks start (L2 real address), BLOCK_BYTES each. */
export const DOORBELL_DATA = 0x20_0000;
export const BLOCK_BYTES = 64;
/** Byte offsets of a block's u32 counters (little-endian). */
export const DbBlock = { SENT: 0, RECEIVED: 4, TIMEOUTS: 8, DONE: 12 } as const;
/** Ticks a wait for the sibling's doorbell may last. */
export const WAIT_TICKS = 0x0100_0000;

/** RB of a directed privileged doorbell (type 5 in bits 32:36) to thread `tid`: high half of `lis`. */
const DPDES_TYPE_HI = 0x2800;
const TBR_TB = 268;
const EE = 0x8000;
const BLK = 20;

const bump = (reg: number, off: number) => increment(reg, off, BLK);

/** The program for `rounds` (< 2^31) rounds; the handler follows the main program. */
function doorbellCode(rounds: number): { code: number[]; handlerAt: number } {
  const c = new Code();
  c.emit(
    e.lis!(BLK, DOORBELL_DATA >>> 16),
    e.sldi!(8, 3, Math.log2(BLOCK_BYTES)),
    e.add!(BLK, BLK, 8),
    e.andi_!(17, 3, 1), // thread in the virtual core
    e.xori!(9, 17, 1), // the sibling
    e.lis!(19, DPDES_TYPE_HI),
    e.or!(19, 19, 9),
    e.lis!(18, DPDES_TYPE_HI),
    e.or!(18, 18, 17),
    e.li!(21, 0),
    e.lis!(8, rounds >>> 16),
    e.ori!(8, 8, rounds & 0xffff),
    e.mtctr!(8),
    e.li!(8, 0),
    e.ori!(8, 8, EE),
    e.mtmsrd!(8, 1), // doorbells on from here
  );
  const send = () => c.emit(e.msgsndp!(19), ...bump(8, DbBlock.SENT));
  c.label('round')
    .emit(e.cmpwi!(0, 17, 0))
    .branch('wait', (o) => e.bne!(0, o));
  send(); // thread 0 serves
  c.label('wait').emit(e.addi!(21, 21, 1), e.mftb!(22, TBR_TB), e.addis!(22, 22, WAIT_TICKS >>> 16));
  c.label('poll')
    .emit(e.lwz!(9, DbBlock.RECEIVED, BLK), e.cmplw!(0, 9, 21))
    .branch('got', (o) => e.bge!(0, o));
  c.emit(e.mftb!(10, TBR_TB), e.cmpld!(0, 10, 22)).branch('poll', (o) => e.ble!(0, o));
  c.emit(...bump(8, DbBlock.TIMEOUTS)).branch('done', (o) => e.b!(o));
  c.label('got')
    .emit(e.cmpwi!(0, 17, 0))
    .branch('next', (o) => e.beq!(0, o));
  send(); // thread 1 answers
  c.label('next').branch('round', (o) => e.bdnz!(o));
  c.label('done').emit(e.li!(8, 1), e.stw!(8, DbBlock.DONE, BLK), ...exitWith(0));
  const handlerAt = c.words.length;
  c.emit(e.msgclrp!(18), ...bump(25, DbBlock.RECEIVED), e.rfid!());
  return { code: c.link(), handlerAt };
}

/** The image for a guest of `vcpus` vCPUs (pairs of siblings) playing `rounds` rounds. */
export function doorbellImage(rounds: number, vcpus: number): { image: ElfImage; firmware: Uint8Array } {
  if (!Number.isInteger(rounds) || rounds < 1 || rounds >= 2 ** 31) throw new RangeError(`rounds ${rounds}`);
  const { code, handlerAt } = doorbellCode(rounds);
  return {
    image: imageOf(code, [dataSegment(DOORBELL_DATA, vcpus * BLOCK_BYTES)]),
    firmware: firmwareWithHandler(Vector.DOORBELL, CODE_BASE + 4 * handlerAt),
  };
}

/** One vCPU's counters as the program left them. */
export interface DoorbellCounters {
  sent: number;
  received: number;
  timeouts: number;
  done: boolean;
}

/** Reads vCPU `v`'s block through `read` (L2 memory; undefined when it cannot be read). */
export function readDoorbellBlock(
  read: (l2ra: number, bytes: number) => Uint8Array | undefined,
  v: number,
): DoorbellCounters | undefined {
  const b = read(DOORBELL_DATA + v * BLOCK_BYTES, BLOCK_BYTES);
  if (!b) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    sent: dv.getUint32(DbBlock.SENT, true),
    received: dv.getUint32(DbBlock.RECEIVED, true),
    timeouts: dv.getUint32(DbBlock.TIMEOUTS, true),
    done: dv.getUint32(DbBlock.DONE, true) === 1,
  };
}

/**
 * The L2 program of the irq-storm stressor (src/stress/stressors/irq-storm.ts), assembled with
 * cores/encode.ts, and its firmware: the shipped image with the external interrupt vector (0x500)
 * branching to the program's own handler.
 *
 * Each vCPU (r3 = its index) counts `trips` times with MSR[EE] = 1 and exits 0. Its handler is the
 * L2 side of L1's virtual interrupt source: it asks L1 for the pending interrupt with H_XIRR and
 * counts what it got, in the vCPU's block: handled (0x500 taken), taken (XISR ≠ 0), spurious
 * (XISR = 0: MER was set with nothing pending), bad (H_XIRR did not answer H_SUCCESS). The `sc 1`
 * overwrites SRR0/SRR1 as the hardware does, so the handler saves them (and r3, r4, which the
 * main program may be using for its exit call) in r23, r24, r26, r27 and restores them before
 * `rfid`. The main program uses r21, r22 and CTR; the handler r23..r27 and CR7.
 */
import type { ElfImage } from '../../cores/elf.js';
import { encode as e } from '../../cores/encode.js';
import { Hcall, Vector } from '../../hypervisor/papr.js';
import { CODE_BASE, dataSegment, exitWith, imageOf } from '../programs.js';
import { increment } from './code.js';
import { firmwareWithHandler } from './handler-firmware.js';

/** Where the per-vCPU blocks start (L2 real address); one block of BLOCK_BYTES per vCPU. */
export const IRQ_DATA = 0x20_0000;
export const BLOCK_BYTES = 64;

/** Byte offsets in a vCPU's block (u32 counters, little-endian; WORK a u64). */
export const IrqBlock = { HANDLED: 0, TAKEN: 4, SPURIOUS: 8, BAD: 12, WORK: 16, DONE: 24 } as const;

const SRR0 = 26;
const SRR1 = 27;
const EE = 0x8000;
const BLK = 22;

/** r25 += 1 at BLK+off. */
const bump = (off: number) => increment(25, off, BLK);

/** The program for vCPUs counting `trips` (< 2^31) times; its handler follows the main program. */
function irqCode(trips: number): { code: number[]; handlerAt: number } {
  const main = [
    e.lis!(BLK, IRQ_DATA >>> 16),
    e.sldi!(8, 3, Math.log2(BLOCK_BYTES)),
    e.add!(BLK, BLK, 8),
    e.li!(21, 0),
    e.lis!(8, trips >>> 16),
    e.ori!(8, 8, trips & 0xffff),
    e.mtctr!(8),
    e.li!(8, 0),
    e.ori!(8, 8, EE),
    e.mtmsrd!(8, 1), // interrupts on from here to the exit
    // loop:
    e.addi!(21, 21, 1),
    e.std!(21, IrqBlock.WORK, BLK),
    e.bdnz!(-8),
    e.li!(8, 1),
    e.stw!(8, IrqBlock.DONE, BLK),
    ...exitWith(0),
  ];
  const handler = [
    e.mr!(26, 3),
    e.mr!(27, 4),
    e.mfspr!(23, SRR0),
    e.mfspr!(24, SRR1),
    ...bump(IrqBlock.HANDLED),
    e.li!(3, Hcall.H_XIRR),
    e.sc!(1),
    e.cmpdi!(7, 3, 0),
    e.beq!(7, 16), // status H_SUCCESS: over the count of bad answers
    ...bump(IrqBlock.BAD),
    e.rlwinm!(25, 4, 0, 8, 31), // XISR: the low 24 bits of XIRR
    e.cmpwi!(7, 25, 0),
    e.beq!(7, 20), // none pending: to the spurious count
    ...bump(IrqBlock.TAKEN),
    e.b!(16),
    ...bump(IrqBlock.SPURIOUS),
    e.mtspr!(SRR0, 23),
    e.mtspr!(SRR1, 24),
    e.mr!(3, 26),
    e.mr!(4, 27),
    e.rfid!(),
  ];
  return { code: [...main, ...handler], handlerAt: main.length };
}

/** The image for a guest of `vcpus` vCPUs counting `trips` each, and its firmware. */
export function irqImage(trips: number, vcpus: number): { image: ElfImage; firmware: Uint8Array } {
  if (!Number.isInteger(trips) || trips < 1 || trips >= 2 ** 31) throw new RangeError(`trips ${trips}`);
  const { code, handlerAt } = irqCode(trips);
  return {
    image: imageOf(code, [dataSegment(IRQ_DATA, vcpus * BLOCK_BYTES)]),
    firmware: firmwareWithHandler(Vector.EXTERNAL, CODE_BASE + 4 * handlerAt),
  };
}

/** One vCPU's counters, as the program left them. */
export interface IrqCounters {
  handled: number;
  taken: number;
  spurious: number;
  bad: number;
  work: number;
  done: boolean;
}

/** Reads vCPU `v`'s block through `read` (L2 memory; undefined when it cannot be read). */
export function readIrqBlock(
  read: (l2ra: number, bytes: number) => Uint8Array | undefined,
  v: number,
): IrqCounters | undefined {
  const b = read(IRQ_DATA + v * BLOCK_BYTES, BLOCK_BYTES);
  if (!b) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    handled: dv.getUint32(IrqBlock.HANDLED, true),
    taken: dv.getUint32(IrqBlock.TAKEN, true),
    spurious: dv.getUint32(IrqBlock.SPURIOUS, true),
    bad: dv.getUint32(IrqBlock.BAD, true),
    work: Number(dv.getBigUint64(IrqBlock.WORK, true)),
    done: dv.getUint32(IrqBlock.DONE, true) === 1,
  };
}

/**
 * H_GUEST_RUN_VCPU (0x480), spec §5.6, §10, §11.6, §18 (PAPR-code column) and the decisions table.
 *
 * Check order: flags (reserved bits → H_PARAMETER) → guest (H_P2) → vCPU (H_P3) → run input
 * buffer registered (H_INPUT_BUFFER_NOT_DEFINED) → run output buffer registered
 * (H_OUTPUT_BUFFER_NOT_DEFINED) → partition table set (H_PARTITION_PAGE_TABLE_NOT_DEFINED) →
 * ownership (another core runs it: H_BUSY, nothing changed) → input buffer elements
 * (H_INVALID_ELEMENT_*, r4 = the element's byte offset; nothing applied) → run.
 *
 * On return: r3 = H_SUCCESS, r4 = the exit vector (0 when L0 stopped the run: time slice over or
 * the guest is being deleted — L1 just runs again), and the output buffer holds exactly the
 * elements of that exit (cores/core.ts EXIT_ELEMENTS). The flags make an external interrupt, a
 * privileged doorbell or a system reset pending in L2 before it runs.
 *
 * This is the per-vCPU fast path: it runs on the core that executes the vCPU, takes the slot by
 * compare-exchange, allocates nothing and uses no BigInt.
 */
import { Pending, R } from '../../../cores/vcpu.js';
import { wallMicros } from '../../../src/trace/recorder.js';
import { bumpDispatch } from '../../lppaca.js';
import { H } from '../../papr.js';
import type { HcallHandler, L0 } from '../l0.js';
import { G, GuestState, S } from '../partitions.js';
import type { HcallRegs } from '../regs.js';
import { setThreadState } from '../state.js';
import { FlagHi, hasReservedFlags } from './flags.js';

/** RunFlags (papr.ts) as high-word bits: external interrupt, privileged doorbell, system reset. */
const DEFINED_FLAGS_HI = FlagHi.BIT0 | FlagHi.BIT1 | FlagHi.BIT2;

/** Bytes of the GSB header (element count) and of one element's header (id, length). */
const GSB_HEADER = 4;
const ELEMENT_HEADER = 4;

export const hGuestRunVcpu: HcallHandler = (l0, r, core) => {
  if (hasReservedFlags(r, 4, DEFINED_FLAGS_HI))
    return l0.fail(H.PARAMETER, 'RUN_VCPU flags: bits 3..63 reserved');
  const flagsHi = r.hi(4);
  const guestId = r.num(5);
  const vcpuId = r.num(6);
  const { parts } = l0;
  const w = parts.w;
  if (!parts.guestActive(guestId)) return l0.fail(H.P2, `no guest ${guestId}`);
  const slot = parts.slotOf(guestId, vcpuId);
  if (slot < 0) return l0.fail(H.P3, `no vCPU ${vcpuId} in guest ${guestId}`);
  const v = l0.vcpu(slot).w;
  if (v[R.RUN_INPUT + 1] === 0 && v[R.RUN_INPUT] === 0)
    return l0.fail(H.INPUT_BUFFER_NOT_DEFINED, 'run input buffer (0x0C00) not registered');
  if (v[R.RUN_OUTPUT + 1] === 0 && v[R.RUN_OUTPUT] === 0)
    return l0.fail(H.OUTPUT_BUFFER_NOT_DEFINED, 'run output buffer (0x0C01) not registered');
  if (w[parts.guestWord(guestId, G.PT_ADDR_HI)] === 0 && w[parts.guestWord(guestId, G.PT_ADDR_LO)] === 0)
    return l0.fail(
      l0.config.mutants.runWithoutTableNotAvailable ? H.NOT_AVAILABLE : H.PARTITION_PAGE_TABLE_NOT_DEFINED,
      'partition table (0x0005) not set',
    );
  if (!parts.acquire(slot, core))
    return l0.fail(H.BUSY, `vCPU ${vcpuId} runs on core ${parts.holderOf(slot)}`);
  try {
    // The slot could have been deleted (and even reused) between the lookup and the acquire.
    if (
      Atomics.load(w, parts.guestWord(guestId, G.STATE)) !== GuestState.ACTIVE ||
      w[parts.slotWord(slot, S.GUEST_ID)] !== guestId ||
      w[parts.slotWord(slot, S.VCPU_ID)] !== vcpuId
    )
      return l0.fail(H.P2, `guest ${guestId} is being deleted`);
    const inAddr = v[R.RUN_INPUT + 1]! >>> 0;
    const inSize = v[R.RUN_INPUT + 3]! >>> 0;
    const rc = setThreadState(
      l0,
      guestId,
      slot,
      inAddr + v[R.RUN_INPUT]! * 4294967296,
      inSize,
      'run-input',
      r,
    );
    if (rc !== H.SUCCESS) return rc;
    if (flagsHi !== 0) makePending(v, flagsHi);
    return runAndReport(l0, r, core, guestId, vcpuId, slot);
  } finally {
    parts.release(slot, core);
  }
};

/** ORs the interrupts the flags ask for into the vCPU's PENDING word. */
function makePending(v: Int32Array, flagsHi: number): void {
  let p = v[R.PENDING]!;
  if (flagsHi & FlagHi.BIT0) p |= Pending.EXTERNAL;
  if (flagsHi & FlagHi.BIT1) p |= Pending.DOORBELL;
  if (flagsHi & FlagHi.BIT2) p |= Pending.SYSTEM_RESET;
  v[R.PENDING] = p;
}

/** Runs the vCPU on this core's seat for one time slice and writes r4 and the output buffer. */
function runAndReport(
  l0: L0,
  r: HcallRegs,
  core: number,
  guestId: number,
  vcpuId: number,
  slot: number,
): number {
  const { parts } = l0;
  const w = parts.w;
  const seat = l0.seat(core);
  const root = seat.root;
  root.base = (w[parts.guestWord(guestId, G.PT_ADDR_HI)]! * 4294967296 +
    (w[parts.guestWord(guestId, G.PT_ADDR_LO)]! >>> 0)) as typeof root.base;
  root.addrBits = w[parts.guestWord(guestId, G.PT_EA_BITS)]!;
  root.rootBits = 28 - Math.clz32(w[parts.guestWord(guestId, G.PT_ROOT_BYTES)]!); // log2(bytes) − 3
  seat.partition.enter(guestId, root);
  const vcpu = l0.vcpu(slot);
  const v = vcpu.w;
  seat.ctx.hdecExpiryTb = hdecExpiry(v);
  seat.stop.index = parts.slotWord(slot, S.STOP);
  const tr = l0.traces.size === 0 ? undefined : l0.traces.get(core);
  const tb0 = seat.core.tb;
  const w0 = tr === undefined ? 0 : wallMicros();
  // L0 owns the L2's dispatch count (spec §13): even while the vCPU runs, odd once it left.
  const vpa = vpaOf(v);
  if (vpa >= 0) bumpDispatch(l0.ram, vpa);
  const x = seat.core.run(vcpu, seat.ctx, l0.sliceFor(slot));
  if (vpa >= 0) bumpDispatch(l0.ram, vpa);
  seat.partition.leave();
  l0.stats.exit(guestId, vcpuId, x.vector, x.retired);
  if (tr !== undefined) {
    const w1 = wallMicros();
    tr.run(guestId, vcpuId, x.vector, x.retired, tb0, seat.core.tb, w0, w1);
    tr.counter(l0.stats.instructions, seat.core.tb, w1);
  }

  // Output buffer: header count, then each element (id, length, value) as on the wire.
  const outAddr = v[R.RUN_OUTPUT]! * 4294967296 + (v[R.RUN_OUTPUT + 1]! >>> 0);
  const outSize = v[R.RUN_OUTPUT + 3]! >>> 0;
  const ids = x.elements;
  let need = GSB_HEADER;
  for (let k = 0; k < ids.length; k++) need += ELEMENT_HEADER + elementBytes(ids[k]!);
  const ram = l0.ram;
  if (need > outSize || !ram.inBounds(outAddr, need)) {
    // Registration keeps the size ≥ 128 (the worst case is 124), so only a buffer outside L1
    // memory gets here. The exit is not lost: L1 can read every element with GET_STATE.
    r.setInt(4, x.vector);
    return l0.fail(
      H.OUTPUT_BUFFER_TOO_SMALL,
      `run output buffer cannot hold the ${need} bytes of exit 0x${x.vector.toString(16)}`,
    );
  }
  const dv = ram.dv;
  dv.setUint32(outAddr, ids.length, false);
  let at = outAddr + GSB_HEADER;
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k]!;
    dv.setUint16(at, id, false);
    const n = vcpu.readElement(id, dv, at + ELEMENT_HEADER);
    dv.setUint16(at + 2, n, false);
    at += ELEMENT_HEADER + n;
  }
  if (x.reason === 'stop') Atomics.store(w, parts.slotWord(slot, S.STOP), 0);
  r.setInt(4, x.vector);
  return H.SUCCESS;
}

/** The L1 address of the vCPU's registered VPA (element 0x0C02), or −1 when there is none. */
function vpaOf(v: Int32Array): number {
  const hi = v[R.VPA]!;
  const lo = v[R.VPA + 1]!;
  if ((hi === 0 && lo === 0) || (hi === -1 && lo === -1)) return -1;
  return hi * 4294967296 + (lo >>> 0); // checked at SET_STATE: 640 bytes inside L1 memory
}

/** Value bytes of an exit element: HEIR is 8 (decisions table), HDSISR 4, the rest 8. */
function elementBytes(id: number): number {
  return id === 0xf001 ? 4 : 8;
}

/** HDEC_EXPIRY_TB as an L1 timebase number; 0 (never set) means no time slice from L1. */
function hdecExpiry(v: Int32Array): number {
  const hi = v[R.HDEC_EXPIRY_TB]!;
  const lo = v[R.HDEC_EXPIRY_TB + 1]! >>> 0;
  if (hi === 0 && lo === 0) return Number.POSITIVE_INFINITY;
  if (hi < 0) return 0; // a negative expiry has already passed
  return hi * 4294967296 + lo;
}

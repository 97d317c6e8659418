/**
 * H_ENTER_NESTED (0xF804), spec §14.3: r4 = L1 address of hv_guest_state, r5 = L1 address of
 * pt_regs; the L2 vCPU runs with the state they hold until an exit for L1, then both are written
 * back and r3 = the exit vector. The first entry naming an LPID creates that L2 (its shadow tree
 * starts empty), the first naming (lpid, vcpu_token) creates that vCPU (spec §14.1).
 *
 * Checks in order (docs/v1.md, "v1 decisions", for the codes Linux and QEMU disagree on):
 *   v1 disabled → H_FUNCTION; no partition table → H_NOT_AVAILABLE; hv_guest_state not in L1
 *   memory → H_PARAMETER; version not 1 or 2 → H_PARAMETER; pt_regs not in L1 memory → H_P2;
 *   vcpu_token ≥ limit → H_PARAMETER; L2 MSR in a transaction (TS ≠ 0) → H_BAD_MODE; lpid 0,
 *   above the limit or beyond the partition table → H_PARAMETER; no shadow memory for a new L2 or
 *   no free vCPU slot → H_NO_MEM; the vCPU runs (or is being created) on another core → H_BUSY,
 *   nothing changed.
 *
 * Which exits go to L1 (Linux's L0, spec §14.3 and §11.6): hcalls (except H_RPT_INVALIDATE for the
 * L2's own process-scoped translations, which L0 serves and resumes), HDSI/HISI that L1's tree
 * cannot satisfy (the others L0 settles inside the access, shadow-partition.ts), HEAI, L1's HDEC
 * (0x980), machine check, and 0xF80 for a facility L1 itself turned off for the L2; a facility L0
 * never granted L1 becomes 0xE40 with the instruction in HEIR. L0's own time slice ending, or a
 * stop request, returns H_INTERRUPT with the state written back (Linux's answer when L0 needs the
 * CPU back); L1 enters again. System reset, HMI, PMU, doorbell and virtualization interrupts that
 * Linux resumes are never raised as exits by nestsim's core.
 *
 * This is a per-vCPU fast path: it runs on the core that serves the L1 vCPU loop, takes the slot
 * by compare-exchange and allocates nothing after the first entry.
 */
import { R } from '../../../cores/vcpu.js';
import { Access } from '../../../mem/types.js';
import { H, Hcall, RptType, Vector } from '../../papr.js';
import type { HcallHandler, L0 } from '../l0.js';
import { loadEntry, MSR_TS_HI, storeExit } from './entry-state.js';
import { abandonVcpu, drainRetired, GuestFor, guestFor, stillOurs, VcpuFor, vcpuFor } from './guests.js';
import { V1Host, VG, VS } from './host.js';
import { v1Of } from './registry.js';
import { type V1Seat, v1Seat } from './seat.js';
import { HV_BYTES, HV_VERSION, Hv, REGS_BYTES, Regs } from './structs.js';

/** HFSCR interrupt cause (bits 0:7) → facility number. */
const facilityOf = (hfscrHi: number) => hfscrHi >>> 24;

export const hEnterNested: HcallHandler = (l0, r, core) => {
  const host = v1Of(l0);
  if (!host.config.enabled) return l0.fail(H.FUNCTION, 'the v1 nested API is disabled');
  const ptcr = host.ptcr();
  if (ptcr === 0) return l0.fail(H.NOT_AVAILABLE, 'no partition table registered (H_SET_PARTITION_TABLE)');
  const ram = l0.ram;
  const hvAddr = r.num(4);
  const regsAddr = r.num(5);
  if (!ram.inBounds(hvAddr, 8)) return l0.fail(H.PARAMETER, 'hv_guest_state is not in L1 memory');
  const dv = ram.dv;
  const versionHi = dv.getInt32(hvAddr + 4, true);
  const version = dv.getInt32(hvAddr, true);
  if (versionHi !== 0 || (version !== 1 && version !== HV_VERSION))
    return l0.fail(H.PARAMETER, `hv_guest_state version ${dv.getBigUint64(hvAddr, true)} (1 or 2 supported)`);
  const hvBytes = HV_BYTES[version]!;
  if (!ram.inBounds(hvAddr, hvBytes)) return l0.fail(H.PARAMETER, 'hv_guest_state is not in L1 memory');
  if (!ram.inBounds(regsAddr, REGS_BYTES)) return l0.fail(H.P2, 'pt_regs is not in L1 memory');
  const lpid = dv.getUint32(hvAddr + Hv.LPID, true);
  const token = dv.getUint32(hvAddr + Hv.VCPU_TOKEN, true);
  if (token >= host.config.vcpuTokens)
    return l0.fail(H.PARAMETER, `vcpu_token ${token} ≥ limit ${host.config.vcpuTokens}`);
  if ((dv.getInt32(regsAddr + Regs.MSR + 4, true) & MSR_TS_HI) !== 0)
    return l0.fail(H.BAD_MODE, 'L2 MSR[TS] set: L1 cannot hand over a transaction');
  const entries = 2 ** ((ptcr & 0x1f) + 8);
  if (lpid === 0 || lpid > host.config.maxLpid || lpid >= entries)
    return l0.fail(
      H.PARAMETER,
      `lpid ${lpid} outside 1..${Math.min(host.config.maxLpid, entries - 1)} (limit, partition table entries)`,
    );
  const incarnation = guestFor(host, l0, lpid);
  if (incarnation === GuestFor.NO_MEMORY)
    return l0.fail(H.NO_MEM, `no shadow memory for L2 ${lpid}'s partition-scoped table`);
  if (incarnation === GuestFor.BUSY) return l0.fail(H.BUSY, `L2 ${lpid} is being created or removed`);
  const slot = vcpuFor(host, lpid, token, core, incarnation);
  if (slot === VcpuFor.NO_MEMORY)
    return l0.fail(H.NO_MEM, `all ${host.config.maxVcpus} v1 vCPU slots in use`);
  if (slot === VcpuFor.BUSY) return l0.fail(H.BUSY, `vCPU ${token} of L2 ${lpid} runs on another core`);
  if (!stillOurs(host, slot, lpid, token, incarnation)) {
    // Removed (and maybe created again) between the lookup and the acquire.
    abandonVcpu(host, slot, lpid, token, core);
    return l0.fail(H.BUSY, `L2 ${lpid} was removed meanwhile`);
  }
  const seat = v1Seat(host, l0, core);
  let rc: number;
  try {
    seat.hv.set(ram.u8.subarray(hvAddr, hvAddr + hvBytes));
    seat.regs.set(ram.u8.subarray(regsAddr, regsAddr + REGS_BYTES));
    rc = run(host, l0, seat, slot, lpid, token, hvBytes, incarnation);
    // Both structures go back whole (the fields L0 did not change keep L1's values).
    ram.u8.set(seat.hv.subarray(0, hvBytes), hvAddr);
    ram.u8.set(seat.regs, regsAddr);
    const t = l0.stats.stateBytes.v1;
    t.read += hvBytes + REGS_BYTES;
    t.written += hvBytes + REGS_BYTES;
    t.entries++;
  } finally {
    host.release(slot, core);
  }
  if (Atomics.load(host.w, host.guestWord(lpid, VG.RETIRED)) !== 0) drainRetired(host, lpid);
  return rc;
};

/** Runs the vCPU until an exit for L1; returns r3 (the vector, or H_INTERRUPT). */
function run(
  host: V1Host,
  l0: L0,
  seat: V1Seat,
  slot: number,
  lpid: number,
  token: number,
  hvBytes: number,
  incarnation: number,
): number {
  const vcpu = host.vcpu(slot);
  const v = vcpu.w;
  const hv = seat.hvDv;
  const c = seat.core;
  if (seat.lastSlot !== slot || seat.lastIncarnation !== incarnation) {
    // Another vCPU (or a slot reused by another L2) than this core ran last: cached effective
    // translations and the reservation belong to the old one.
    c.mmu.flush();
    c.cpu.resAddr = -1;
    seat.lastSlot = slot;
    seat.lastIncarnation = incarnation;
  }
  seat.ctx.hdecExpiryTb = loadEntry(hv, hvBytes, seat.regsDv, vcpu, host.config);
  seat.stop.index = host.slotWord(slot, VS.STOP);
  seat.shadow.enter(lpid);
  let budget = l0.sliceFor(slot);
  let vector = 0;
  let stopped = false;
  let retired = 0;
  try {
    for (;;) {
      const x = c.run(vcpu, seat.ctx, budget);
      retired += x.retired;
      budget -= x.retired;
      if (x.reason !== 'interrupt') {
        stopped = true;
        if (x.reason === 'stop') Atomics.store(host.w, seat.stop.index, 0);
        break;
      }
      vector = x.vector;
      if (vector === Vector.SYSTEM_CALL && settleHcall(seat, v)) continue;
      if (vector === Vector.HV_FACILITY_UNAVAILABLE && !permitted(host, v)) {
        // L0 never granted L1 this facility: the L2 gets what L1 would (spec §14.3).
        v[R.HEIR] = 0;
        v[R.HEIR + 1] = instructionAt(seat, v);
        vector = Vector.HV_EMULATION_ASSIST;
      }
      break;
    }
  } finally {
    seat.shadow.leave();
  }
  const x = c.exit;
  if (stopped) storeExit(hv, seat.regsDv, vcpu, 0, v[R.MSR]!, v[R.MSR + 1]!);
  else {
    const sh = seat.shadow;
    if (
      (vector === Vector.HV_DATA_STORAGE || vector === Vector.HV_INSTRUCTION_STORAGE) &&
      sh.prtableL2ra >= 0 &&
      v[R.ASDR]! * 4294967296 + (v[R.ASDR + 1]! >>> 0) === sh.prtableL2ra
    ) {
      // The fault was an L1 table L0 could not read: ASDR names that table entry (spec §14.7).
      v[R.ASDR] = Math.floor(sh.prtableAddr / 4294967296);
      v[R.ASDR + 1] = sh.prtableAddr | 0;
    }
    storeExit(hv, seat.regsDv, vcpu, vector, x.srr1Hi, x.srr1Lo);
  }
  l0.stats.exit(V1Host.shadowLpid(lpid), token, stopped ? Vector.STOPPED : vector, retired);
  return stopped ? H.INTERRUPT : vector;
}

/**
 * An hcall from the L2 that L0 serves itself (Linux's L0): H_RPT_INVALIDATE of the L2's own
 * process-scoped translations (type without NESTED). nestsim caches those only in the core's
 * effective-address TLB, which it drops; r3 = H_SUCCESS and the L2 continues after its sc.
 */
function settleHcall(seat: V1Seat, v: Int32Array): boolean {
  if (v[R.GPR0 + 6]! !== 0 || v[R.GPR0 + 7]! !== Hcall.H_RPT_INVALIDATE) return false;
  if ((v[R.GPR0 + 13]! & RptType.NESTED) !== 0) return false; // an L3's partition scope: L1's business
  seat.core.mmu.flush();
  v[R.GPR0 + 6] = 0;
  v[R.GPR0 + 7] = H.SUCCESS;
  return true;
}

/** True when the facility of an 0xF80 exit is one L0 permits L1. */
function permitted(host: V1Host, v: Int32Array): boolean {
  const f = facilityOf(v[R.HFSCR]!);
  return f < 32 && (host.config.l1Hfscr & (1 << f)) !== 0;
}

/** The instruction word at the vCPU's NIA (real mode), for HEIR; 0 when it cannot be read. */
function instructionAt(seat: V1Seat, v: Int32Array): number {
  const l2ra = (v[R.NIA]! & 0x3fff_ffff) * 4294967296 + (v[R.NIA + 1]! >>> 0);
  if (l2ra >= 2 ** 52) return 0;
  const l1ra = seat.shadow.translate(l2ra, Access.Fetch);
  if (l1ra < 0) return 0;
  const le = (v[R.MSR + 1]! & 1) !== 0;
  return seat.core.mmu.dv.getInt32(l1ra, le);
}

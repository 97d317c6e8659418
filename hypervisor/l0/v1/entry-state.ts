/**
 * What H_ENTER_NESTED moves between L1's two structures (structs.ts, copied by the caller into
 * scratch buffers) and the register area the core runs (cores/vcpu.ts), following Linux's L0
 * (spec §14.3):
 *
 * Entry — every field of both structures goes into the area, made safe for L0:
 *   MSR   = requested | ME, HV cleared, and the SRR1 cause-bit positions (reserved in the MSR, so a
 *           HISI's MSR handed back unchanged is harmless) cleared; TS ≠ 0 is refused before this;
 *   LPCR  = (L1's LPCR & ~M) | (requested & M), M = DPFD|ILE|TC|AIL|LD|LPES|MER; TC cleared (radix),
 *           AIL other than 0 or 3 cleared (spec §10.3);
 *   HFSCR = requested & (interrupt cause | the facilities L0 permits L1);
 *   DAWRX0/1 lose the hypervisor-match bit; CIABR loses hypervisor privilege matching;
 *   TB offset as requested (L1's own offset is 0: the core's timebase is L1's);
 *   PCR is not applied (nestsim's core has no compatibility modes) and not returned.
 *
 * Exit — pt_regs gets every register the L2 can change: GPRs, NIP (where it resumes), MSR as the
 * interrupt saved it (HSRR1, with a HISI's cause bits, or SRR1 for sc and machine check), CTR, LR,
 * XER (all 64 bits: the split flag words are composed back), CR, DAR, DSISR; hv_guest_state gets
 * DPDES, PURR, SPURR, IC, VTB, SRR0/1, SPRG0–3, PIDR, CFAR, PPR, and per vector: 0xE00 HDAR,
 * HDSISR, ASDR; 0xE20 ASDR; 0xE40 HEIR; 0xF80 the HFSCR interrupt-cause byte. Every other field is
 * written back as L1 wrote it (the structures are copied back whole, as Linux does).
 *
 * nestsim's choices where the structures have no field (docs/v1.md): DAR and DSISR travel in
 * pt_regs (Linux's L1 leaves them in the real registers across the hcall; nestsim's L1 has none);
 * registers in neither structure (DEC, FSCR, AMR, FP/VMX/VSX, PMU, …) are what the real thread's
 * registers would hold: they stay in L0's slot for (lpid, vcpu_token) from one entry to the next.
 */
import { R, type Vcpu } from '../../../cores/vcpu.js';
import { Vector } from '../../papr.js';
import { getPair, Hv, put64, putPair, Regs } from './structs.js';

/** MSR bits, by word (Book III; IBM bit n is LSB bit 63 − n). */
const MSR_HV_HI = 0x1000_0000;
/** TS, bits 29:30: a transaction L1 must not hand over (H_BAD_MODE). */
export const MSR_TS_HI = 0x6;
const MSR_ME_LO = 0x1000;
/** SRR1 bits 33:36 and 42:47 (cause bits of interrupts; reserved in the MSR). */
const MSR_RESERVED_LO = 0x783f_0000;

/** LPCR mask L1 controls for an L2 (Linux), by word. */
const LPCR_M_HI = 0x0070_0000; // DPFD
const LPCR_ILE = 0x0200_0000;
const LPCR_TC = 0x200;
const LPCR_AIL = 0x0180_0000;
const LPCR_LD = 0x0002_0000;
const LPCR_LPES = 0xc;
const LPCR_MER = 0x800;
const LPCR_M_LO = LPCR_ILE | LPCR_TC | LPCR_AIL | LPCR_LD | LPCR_LPES | LPCR_MER;

/** HFSCR interrupt cause, bits 0:7. */
const HFSCR_CAUSE_HI = 0xff00_0000 | 0;
/** DAWRX hypervisor-match bit, CIABR privilege field and its "hypervisor" value. */
const DAWRX_HYP = 0x4;
const CIABR_PRIV = 0x3;
const CIABR_PRIV_HYPER = 0x3;

/** Element IDs of the registers the area holds outside the `R` constants (cores/vcpu.ts). */
const DAWR0 = 0x1030;
const DAWR1 = 0x1031;
const CIABR = 0x1032;
const DAWRX0 = 0x2005;
const DAWRX1 = 0x2006;

/** What the entry needs from L0 that is not in the structures. */
export interface EntryPolicy {
  /** Facilities (HFSCR low word) L0 permits L1. */
  l1Hfscr: number;
  /** L1's own LPCR (low word) outside the mask L1 controls. */
  l1LpcrLo: number;
}

/** A scratch for element copies (8 bytes, big-endian as the element accessors want). */
const scratch = new DataView(new ArrayBuffer(8));

function putElement64(v: Vcpu, id: number, hi: number, lo: number): void {
  scratch.setInt32(0, hi, false);
  scratch.setInt32(4, lo, false);
  v.writeElement(id, scratch, 0);
}

function putElement32(v: Vcpu, id: number, x: number): void {
  scratch.setInt32(0, x, false);
  v.writeElement(id, scratch, 0);
}

/**
 * Loads L1's structures (`hv` of `hvBytes`, `regs`) into the area of `v`, sanitised (header).
 * Returns the HDEC expiry as an L1 timebase number (Infinity when beyond 2^53).
 */
export function loadEntry(hv: DataView, hvBytes: number, regs: DataView, v: Vcpu, p: EntryPolicy): number {
  const w = v.w;
  // pt_regs
  for (let n = 0; n < 32; n++) getPair(regs, 8 * n, w, 2 * n);
  getPair(regs, Regs.NIP, w, R.NIA);
  getPair(regs, Regs.MSR, w, R.MSR);
  w[R.MSR] = w[R.MSR]! & ~MSR_HV_HI;
  w[R.MSR + 1] = (w[R.MSR + 1]! | MSR_ME_LO) & ~MSR_RESERVED_LO;
  getPair(regs, Regs.CTR, w, R.CTR);
  getPair(regs, Regs.LINK, w, R.LR);
  w[R.XER] = regs.getInt32(Regs.XER + 4, true);
  v.setXerLow(regs.getInt32(Regs.XER, true));
  w[R.CR] = regs.getInt32(Regs.CCR, true);
  getPair(regs, Regs.DAR, w, R.DAR);
  w[R.DSISR] = regs.getInt32(Regs.DSISR, true);

  // hv_guest_state
  const lpcrHi = hv.getInt32(Hv.LPCR + 4, true);
  let lpcrLo = (p.l1LpcrLo & ~LPCR_M_LO) | (hv.getInt32(Hv.LPCR, true) & LPCR_M_LO);
  lpcrLo &= ~LPCR_TC;
  if ((lpcrLo & LPCR_AIL) !== 0 && (lpcrLo & LPCR_AIL) !== LPCR_AIL) lpcrLo &= ~LPCR_AIL;
  w[R.LPCR] = lpcrHi & LPCR_M_HI;
  w[R.LPCR + 1] = lpcrLo;
  getPair(hv, Hv.AMOR, w, R.AMOR);
  getPair(hv, Hv.DPDES, w, R.DPDES);
  w[R.HFSCR] = hv.getInt32(Hv.HFSCR + 4, true) & HFSCR_CAUSE_HI;
  w[R.HFSCR + 1] = hv.getInt32(Hv.HFSCR, true) & p.l1Hfscr;
  getPair(hv, Hv.TB_OFFSET, w, R.TB_OFFSET);
  putElement64(v, DAWR0, hv.getInt32(Hv.DAWR0 + 4, true), hv.getInt32(Hv.DAWR0, true));
  putElement32(v, DAWRX0, hv.getInt32(Hv.DAWRX0, true) & ~DAWRX_HYP);
  let ciabrLo = hv.getInt32(Hv.CIABR, true);
  if ((ciabrLo & CIABR_PRIV) === CIABR_PRIV_HYPER) ciabrLo &= ~CIABR_PRIV;
  putElement64(v, CIABR, hv.getInt32(Hv.CIABR + 4, true), ciabrLo);
  getPair(hv, Hv.HDEC_EXPIRY, w, R.HDEC_EXPIRY_TB);
  getPair(hv, Hv.PURR, w, R.PURR);
  getPair(hv, Hv.SPURR, w, R.SPURR);
  getPair(hv, Hv.IC, w, R.IC);
  getPair(hv, Hv.VTB, w, R.VTB);
  getPair(hv, Hv.HDAR, w, R.HDAR);
  w[R.HDSISR] = hv.getInt32(Hv.HDSISR, true);
  getPair(hv, Hv.HEIR, w, R.HEIR);
  getPair(hv, Hv.ASDR, w, R.ASDR);
  getPair(hv, Hv.SRR0, w, R.SRR0);
  getPair(hv, Hv.SRR1, w, R.SRR1);
  for (let k = 0; k < 4; k++) getPair(hv, Hv.SPRG0 + 8 * k, w, R.SPRG0 + 2 * k);
  w[R.PIDR] = hv.getInt32(Hv.PIDR, true);
  getPair(hv, Hv.CFAR, w, R.CFAR);
  getPair(hv, Hv.PPR, w, R.PPR);
  if (hvBytes > Hv.DAWR1) {
    putElement64(v, DAWR1, hv.getInt32(Hv.DAWR1 + 4, true), hv.getInt32(Hv.DAWR1, true));
    putElement32(v, DAWRX1, hv.getInt32(Hv.DAWRX1, true) & ~DAWRX_HYP);
  }
  const hi = w[R.HDEC_EXPIRY_TB]! >>> 0;
  return hi >= 0x20_0000 ? Number.POSITIVE_INFINITY : hi * 4294967296 + (w[R.HDEC_EXPIRY_TB + 1]! >>> 0);
}

/**
 * Stores the area of `v` into L1's structures after an exit with `vector` (header). `msrHi/Lo`
 * is the MSR to hand back (HSRR1 or SRR1 of the exit, or the MSR when L0 stopped the run).
 */
export function storeExit(
  hv: DataView,
  regs: DataView,
  v: Vcpu,
  vector: number,
  msrHi: number,
  msrLo: number,
): void {
  const w = v.w;
  for (let n = 0; n < 32; n++) putPair(regs, 8 * n, w, 2 * n);
  putPair(regs, Regs.NIP, w, R.NIA);
  put64(regs, Regs.MSR, msrHi, msrLo);
  putPair(regs, Regs.CTR, w, R.CTR);
  putPair(regs, Regs.LINK, w, R.LR);
  put64(regs, Regs.XER, w[R.XER]!, v.xerLow());
  put64(regs, Regs.CCR, 0, w[R.CR]!);
  putPair(regs, Regs.DAR, w, R.DAR);
  put64(regs, Regs.DSISR, 0, w[R.DSISR]!);

  putPair(hv, Hv.DPDES, w, R.DPDES);
  putPair(hv, Hv.PURR, w, R.PURR);
  putPair(hv, Hv.SPURR, w, R.SPURR);
  putPair(hv, Hv.IC, w, R.IC);
  putPair(hv, Hv.VTB, w, R.VTB);
  putPair(hv, Hv.SRR0, w, R.SRR0);
  putPair(hv, Hv.SRR1, w, R.SRR1);
  for (let k = 0; k < 4; k++) putPair(hv, Hv.SPRG0 + 8 * k, w, R.SPRG0 + 2 * k);
  put64(hv, Hv.PIDR, 0, w[R.PIDR]!);
  putPair(hv, Hv.CFAR, w, R.CFAR);
  putPair(hv, Hv.PPR, w, R.PPR);
  switch (vector) {
    case Vector.HV_DATA_STORAGE:
      putPair(hv, Hv.HDAR, w, R.HDAR);
      put64(hv, Hv.HDSISR, 0, w[R.HDSISR]!);
      putPair(hv, Hv.ASDR, w, R.ASDR);
      break;
    case Vector.HV_INSTRUCTION_STORAGE:
      putPair(hv, Hv.ASDR, w, R.ASDR);
      break;
    case Vector.HV_EMULATION_ASSIST:
      putPair(hv, Hv.HEIR, w, R.HEIR);
      break;
    case Vector.HV_FACILITY_UNAVAILABLE: {
      const hi = (hv.getInt32(Hv.HFSCR + 4, true) & ~HFSCR_CAUSE_HI) | (w[R.HFSCR]! & HFSCR_CAUSE_HI);
      hv.setInt32(Hv.HFSCR + 4, hi, true);
      break;
    }
  }
}

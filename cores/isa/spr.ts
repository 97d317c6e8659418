/**
 * The special purpose registers an L2 may name in mfspr/mtspr (Book III §5.4.4 SPR table, ISA 3.0),
 * with who may read and write each and where it lives in the vCPU area.
 *
 * Rules applied by mfspr/mtspr (system.ts), in this order:
 * 1. an SPR number with spr0 = 1 (n & 0x10) is privileged: in problem state → program interrupt
 *    (privileged instruction);
 * 2. an SPR that is not in this table, or not readable/writable in that direction → HEAI exit, the
 *    instruction image in HEIR (as with LPCR[EVIRT] = 1 on POWER9: the L1 hypervisor emulates or
 *    refuses it; linuxppc-dev, "KVM: PPC: Book3S HV: Handle hypervisor instructions in guests");
 * 3. a hypervisor resource (`hv`) → HEAI with HSRR1 bit 45 set;
 * 4. facility-controlled SPRs (TAR, DSCR, PMU, EBB) check HFSCR (→ exit 0xF80) and, in problem
 *    state, FSCR (→ facility unavailable 0xF60 in the guest).
 */
import { R } from '../vcpu.js';
import { Facility } from './cpu.js';

/** Who may access an SPR in one direction. */
export const Level = {
  /** Not accessible that way (read-only or write-only register). */
  NONE: 0,
  /** Problem and privileged state. */
  USER: 1,
  /** Privileged state only. */
  PRIV: 2,
  /** Hypervisor state only: HEAI from an L2. */
  HV: 3,
} as const;

/** How an SPR's value is stored or computed. */
export const Kind = {
  /** 64-bit register at word index `at`. */
  DWORD: 0,
  /** 32-bit register at word index `at` (zero-extended on read, low word on write). */
  WORD: 1,
  /** XER, split into flag words. */
  XER: 2,
  /** DEC, computed from DEC_EXPIRY_TB. */
  DEC: 3,
  /** TB (64-bit) or TBU (high word), computed from the L1 timebase and TB_OFFSET. */
  TB: 4,
  TBU: 5,
  /** A counter that advances with retired instructions (IC) or time (PURR, SPURR, VTB). */
  COUNTER: 6,
  /** The high word of a 64-bit register (PPR32). */
  HIGH: 7,
  /** Reads as zero, writes are ignored (reserved no-op SPRs). */
  NOP: 8,
} as const;

/** One SPR. */
export interface SprDef {
  readonly name: string;
  readonly read: number;
  readonly write: number;
  readonly kind: number;
  readonly at: number;
  /** Facility bit in HFSCR/FSCR that gates it, or -1. */
  readonly facility: number;
}

/** SPR number → definition (undefined: not implemented → HEAI). */
export const SPRS: (SprDef | undefined)[] = new Array(1024);

function def(
  n: number,
  name: string,
  read: number,
  write: number,
  kind: number,
  at = -1,
  facility = -1,
): void {
  SPRS[n] = { name, read, write, kind, at, facility };
}

const { NONE, USER, PRIV, HV } = Level;
const { DWORD, WORD } = Kind;

def(1, 'XER', USER, USER, Kind.XER);
def(3, 'DSCR', USER, USER, DWORD, R.DSCR, Facility.DSCR);
def(8, 'LR', USER, USER, DWORD, R.LR);
def(9, 'CTR', USER, USER, DWORD, R.CTR);
def(13, 'AMR', USER, USER, DWORD, R.AMR);
def(17, 'DSCR', PRIV, PRIV, DWORD, R.DSCR, Facility.DSCR);
def(18, 'DSISR', PRIV, PRIV, WORD, R.DSISR);
def(19, 'DAR', PRIV, PRIV, DWORD, R.DAR);
def(22, 'DEC', PRIV, PRIV, Kind.DEC);
def(26, 'SRR0', PRIV, PRIV, DWORD, R.SRR0);
def(27, 'SRR1', PRIV, PRIV, DWORD, R.SRR1);
def(28, 'CFAR', PRIV, PRIV, DWORD, R.CFAR);
def(29, 'AMR', PRIV, PRIV, DWORD, R.AMR);
def(48, 'PIDR', PRIV, PRIV, WORD, R.PIDR);
def(61, 'IAMR', PRIV, PRIV, DWORD, R.IAMR);
def(136, 'CTRL', USER, NONE, DWORD, R.CTRL);
def(152, 'CTRL', NONE, PRIV, DWORD, R.CTRL);
def(153, 'FSCR', PRIV, PRIV, DWORD, R.FSCR);
def(157, 'UAMOR', PRIV, PRIV, DWORD, R.UAMOR);
def(159, 'PSPB', PRIV, PRIV, WORD, R.PSPB);
def(176, 'DPDES', HV, HV, DWORD, R.DPDES);
def(180, 'DAWR0', HV, HV, DWORD);
def(181, 'DAWR1', HV, HV, DWORD);
def(186, 'RPR', HV, HV, DWORD);
def(187, 'CIABR', HV, HV, DWORD);
def(188, 'DAWRX0', HV, HV, WORD);
def(189, 'DAWRX1', HV, HV, WORD);
def(190, 'HFSCR', HV, HV, DWORD, R.HFSCR);
def(256, 'VRSAVE', USER, USER, WORD, R.VRSAVE);
def(259, 'SPRG3', USER, NONE, DWORD, R.SPRG0 + 6);
def(268, 'TB', USER, NONE, Kind.TB);
def(269, 'TBU', USER, NONE, Kind.TBU);
for (let k = 0; k < 4; k++) def(272 + k, `SPRG${k}`, PRIV, PRIV, DWORD, R.SPRG0 + 2 * k);
def(284, 'TBL', NONE, HV, DWORD);
def(285, 'TBU', NONE, HV, DWORD);
def(286, 'TBU40', NONE, HV, DWORD);
def(287, 'PVR', PRIV, NONE, WORD, R.PVR);
for (const [n, name] of [
  [304, 'HSPRG0'],
  [305, 'HSPRG1'],
  [306, 'HDSISR'],
  [307, 'HDAR'],
  [310, 'HDEC'],
  [312, 'HRMOR'],
  [313, 'HSRR0'],
  [314, 'HSRR1'],
  [316, 'MMCRH'],
  [318, 'LPCR'],
  [319, 'LPIDR'],
  [336, 'HMER'],
  [337, 'HMEER'],
  [338, 'PCR'],
  [339, 'HEIR'],
  [349, 'AMOR'],
  [816, 'ASDR'],
  [850, 'LDBAR'],
  [855, 'PSSCR'],
  [1008, 'HID0'],
] as const) {
  def(n, name, HV, HV, DWORD);
}
def(308, 'SPURR', PRIV, HV, Kind.COUNTER, R.SPURR);
def(309, 'PURR', PRIV, HV, Kind.COUNTER, R.PURR);
def(848, 'IC', PRIV, HV, Kind.COUNTER, R.IC);
def(849, 'VTB', PRIV, HV, Kind.COUNTER, R.VTB);
def(815, 'TAR', USER, USER, DWORD, R.TAR, Facility.TAR);
def(896, 'PPR', USER, USER, DWORD, R.PPR);
def(898, 'PPR32', USER, USER, Kind.HIGH, R.PPR);
def(1023, 'PIR', PRIV, NONE, WORD, R.PIR);

// Performance monitor: problem-state read-only aliases 768..782, privileged 784..798 (GSB 0x103B..).
const pmu: [number, string, number, number][] = [
  [0, 'SIER', DWORD, R.SIER],
  [1, 'MMCR2', DWORD, R.MMCR2],
  [2, 'MMCRA', DWORD, R.MMCRA],
  [11, 'MMCR0', DWORD, R.MMCR0],
  [12, 'SIAR', DWORD, R.SIAR],
  [13, 'SDAR', DWORD, R.SDAR],
  [14, 'MMCR1', DWORD, R.MMCR1],
];
for (let k = 0; k < 6; k++) pmu.push([3 + k, `PMC${k + 1}`, WORD, R.PMC1 + k]);
for (const [off, name, kind, at] of pmu) {
  def(768 + off, name, USER, NONE, kind, at, Facility.PM);
  def(784 + off, name, PRIV, PRIV, kind, at, Facility.PM);
}
// Event-based branches (problem-state SPRs 800..805, GSB BESCR 0x1043, EBBHR 0x1044, EBBRR 0x1045).
def(806, 'BESCR', USER, USER, DWORD, R.BESCR, Facility.EBB);
def(804, 'EBBHR', USER, USER, DWORD, R.EBBHR, Facility.EBB);
def(805, 'EBBRR', USER, USER, DWORD, R.EBBRR, Facility.EBB);
// Reserved no-op SPRs (Book III §5.4.4: 808–811 read as 0, writes ignored).
for (let n = 808; n <= 811; n++) def(n, 'NOP', USER, USER, Kind.NOP);

/**
 * The Guest State Buffer element table: one row per element ID (shared/spec/papr-nested.md §8),
 * with nestsim's decisions applied (HEIR is 8 bytes, BLANK takes any length, VPA implemented).
 * The codec, the validator, GET/SET_STATE, the run buffers and `nestsim gsb` all read this table;
 * adding an element is one row here.
 */

/** How an element's value bytes are laid out (all big-endian on the wire, spec §7). */
export type ElementKind =
  | 'blank' // 0x0000: any length, skipped
  | 'u32'
  | 'u64'
  | 'vec128' // two big-endian doublewords, dw0 first
  | 'partitionTable' // u64 root address, u64 EA bits, u64 root directory bytes
  | 'processTable' // u64 table address, u64 table bytes
  | 'buffer'; // u64 L1 real address, u64 bytes

/** Which request may carry an element: guest-wide (flag bit 0), host-wide (GET flag bit 1) or per vCPU. */
export type ElementScope = 'guest' | 'host' | 'thread';

/** The ID ranges of spec §9.1, in the order of the flat bitmap of §9.3. */
export type ElementClass = 'guestwide' | 'hostwide' | 'meta' | 'dword' | 'word' | 'vector' | 'intr';

export interface ElementDef {
  readonly id: number;
  /** Name as in Linux's guest-state-buffer.h, without the KVMPPC_GSID_ prefix. */
  readonly name: string;
  /** Value length in bytes; -1 for BLANK, which takes any length. */
  readonly size: number;
  readonly kind: ElementKind;
  readonly scope: ElementScope;
  /** False for elements only L0 writes (SET_STATE of them is H_INVALID_ELEMENT_VALUE). */
  readonly l1Settable: boolean;
  /**
   * Bits L1 may set; L0 masks the rest away silently (decisions table: the Linux client pre-masks,
   * so rejecting would break it). Undefined means every bit.
   */
  readonly settableMask?: bigint;
  readonly cls: ElementClass;
  /** One line for `nestsim gsb decode` and the docs. */
  readonly doc: string;
}

/** LPCR bits an L1 may set for its L2: DPFD | ILE | AIL | LD | MER | GTSE (spec §9.1, §10.3). */
export const LPCR_L1_SETTABLE = 0x0070_0000_0382_0c00n;
/** MSR bits an L1 may set: all but HV, S and ME (decisions table). */
export const MSR_L1_SETTABLE = 0xefff_ffff_ffbf_efffn;

type Row = Omit<ElementDef, 'cls'>;
const rows: Row[] = [];

function add(
  id: number,
  name: string,
  kind: ElementKind,
  scope: ElementScope,
  doc: string,
  extra?: Partial<Row>,
) {
  const size = { blank: -1, u32: 4, u64: 8, vec128: 16, partitionTable: 24, processTable: 16, buffer: 16 }[
    kind
  ];
  rows.push({ id, name, size, kind, scope, l1Settable: true, doc, ...extra });
}
const readOnly = { l1Settable: false } as const;

// Guest-wide and meta IDs (§8.1)
add(0x0000, 'BLANK', 'blank', 'thread', 'no-op element, any length, skipped');
add(0x0001, 'HOST_STATE_SIZE', 'u64', 'guest', "size of L0's internal vCPU state", readOnly);
add(0x0002, 'RUN_OUTPUT_MIN_SIZE', 'u64', 'guest', 'minimum bytes of the run output buffer', readOnly);
add(0x0003, 'LOGICAL_PVR', 'u32', 'guest', 'logical PVR of the L2');
add(0x0004, 'TB_OFFSET', 'u64', 'guest', 'L2 timebase = L1 timebase + offset');
add(0x0005, 'PARTITION_TABLE', 'partitionTable', 'guest', 'partition-scoped radix tree of the L2');
add(0x0006, 'PROCESS_TABLE', 'processTable', 'guest', 'process table of the L2');
add(0x0800, 'L0_GUEST_HEAP', 'u64', 'host', "bytes in use in L0's guest heap", readOnly);
add(0x0801, 'L0_GUEST_HEAP_MAX', 'u64', 'host', "maximum bytes of L0's guest heap", readOnly);
add(0x0802, 'L0_GUEST_PGTABLE_SIZE', 'u64', 'host', 'bytes used for L2 page tables in L0', readOnly);
add(0x0803, 'L0_GUEST_PGTABLE_SIZE_MAX', 'u64', 'host', 'maximum bytes for L2 page tables in L0', readOnly);
add(0x0804, 'L0_GUEST_PGTABLE_RECLAIM', 'u64', 'host', 'bytes of L2 page tables reclaimed', readOnly);
add(0x0c00, 'RUN_INPUT', 'buffer', 'thread', 'run input buffer of H_GUEST_RUN_VCPU');
add(0x0c01, 'RUN_OUTPUT', 'buffer', 'thread', 'run output buffer of H_GUEST_RUN_VCPU');
add(0x0c02, 'VPA', 'u64', 'thread', "L1 real address of the L2 vCPU's VPA (all ones: none)");

// Doubleword registers (§8.2)
for (let n = 0; n < 32; n++) add(0x1000 + n, `GPR${n}`, 'u64', 'thread', `general purpose register ${n}`);
const dwords: [string, string, Partial<Row>?][] = [
  ['HDEC_EXPIRY_TB', 'L1 timebase at which the run stops with exit 0x980'],
  ['NIA', 'next instruction address'],
  ['MSR', 'machine state register', { settableMask: MSR_L1_SETTABLE }],
  ['LR', 'link register'],
  ['XER', 'fixed-point exception register'],
  ['CTR', 'count register'],
  ['CFAR', 'come-from address register'],
  ['SRR0', 'save/restore register 0'],
  ['SRR1', 'save/restore register 1'],
  ['DAR', 'data address register'],
  ['DEC_EXPIRY_TB', 'L1 timebase at which the L2 decrementer reaches zero'],
  ['VTB', 'virtual timebase'],
  ['LPCR', 'logical partitioning control register', { settableMask: LPCR_L1_SETTABLE }],
  ['HFSCR', 'hypervisor facility status and control register'],
  ['FSCR', 'facility status and control register'],
  ['FPSCR', 'floating-point status and control register'],
  ['DAWR0', 'data address watchpoint register 0'],
  ['DAWR1', 'data address watchpoint register 1'],
  ['CIABR', 'completed instruction address breakpoint register'],
  ['PURR', 'processor utilization of resources register'],
  ['SPURR', 'scaled processor utilization of resources register'],
  ['IC', 'instruction counter'],
  ['SPRG0', 'software-use SPR 0'],
  ['SPRG1', 'software-use SPR 1'],
  ['SPRG2', 'software-use SPR 2'],
  ['SPRG3', 'software-use SPR 3'],
  ['PPR', 'program priority register'],
  ['MMCR0', 'monitor mode control register 0'],
  ['MMCR1', 'monitor mode control register 1'],
  ['MMCR2', 'monitor mode control register 2'],
  ['MMCR3', 'monitor mode control register 3'],
  ['MMCRA', 'monitor mode control register A'],
  ['SIER', 'sampled instruction event register'],
  ['SIER2', 'sampled instruction event register 2'],
  ['SIER3', 'sampled instruction event register 3'],
  ['BESCR', 'branch event status and control register'],
  ['EBBHR', 'event-based branch handler register'],
  ['EBBRR', 'event-based branch return register'],
  ['AMR', 'authority mask register'],
  ['IAMR', 'instruction authority mask register'],
  ['AMOR', 'authority mask override register'],
  ['UAMOR', 'user authority mask override register'],
  ['SDAR', 'sampled data address register'],
  ['SIAR', 'sampled instruction address register'],
  ['DSCR', 'data stream control register'],
  ['TAR', 'target address register'],
  ['DEXCR', 'dynamic execution control register'],
  ['HDEXCR', 'hypervisor dynamic execution control register'],
  ['HASHKEYR', 'hash key register'],
  ['HASHPKEYR', 'hash privileged key register'],
  ['CTRL', 'control register'],
  ['DPDES', 'directed privileged doorbell exception state'],
];
for (const [i, [name, doc, extra]] of dwords.entries()) add(0x1020 + i, name, 'u64', 'thread', doc, extra);

// Word registers (§8.3)
const words: [string, string][] = [
  ['CR', 'condition register'],
  ['PIDR', 'process id register'],
  ['DSISR', 'data storage interrupt status register'],
  ['VSCR', 'vector status and control register'],
  ['VRSAVE', 'VR save register'],
  ['DAWRX0', 'data address watchpoint extension 0'],
  ['DAWRX1', 'data address watchpoint extension 1'],
  ['PMC1', 'performance monitor counter 1'],
  ['PMC2', 'performance monitor counter 2'],
  ['PMC3', 'performance monitor counter 3'],
  ['PMC4', 'performance monitor counter 4'],
  ['PMC5', 'performance monitor counter 5'],
  ['PMC6', 'performance monitor counter 6'],
  ['WORT', 'workload optimization register thread'],
  ['PSPB', 'problem state priority boost'],
];
for (const [i, [name, doc]] of words.entries()) add(0x2000 + i, name, 'u32', 'thread', doc);

// Vector registers and interrupt registers (§8.4)
for (let n = 0; n < 64; n++) {
  add(
    0x3000 + n,
    `VSR${n}`,
    'vec128',
    'thread',
    n < 32 ? `VSX register ${n} (dw0 = FPR${n})` : `VSX register ${n} (= VR${n - 32})`,
  );
}
add(0xf000, 'HDAR', 'u64', 'thread', 'effective address of a hypervisor data storage interrupt', readOnly);
add(0xf001, 'HDSISR', 'u32', 'thread', 'cause of a hypervisor data storage interrupt', readOnly);
add(
  0xf002,
  'HEIR',
  'u64',
  'thread',
  'instruction image of a hypervisor emulation assistance interrupt',
  readOnly,
);
add(0xf003, 'ASDR', 'u64', 'thread', 'guest real address that failed partition-scoped translation', readOnly);

/** The flat bitmap ranges of spec §9.3, in bitmap order. */
export const ELEMENT_RANGES: readonly { cls: ElementClass; first: number; last: number }[] = [
  { cls: 'guestwide', first: 0x0000, last: 0x0006 },
  { cls: 'hostwide', first: 0x0800, last: 0x0804 },
  { cls: 'meta', first: 0x0c00, last: 0x0c02 },
  { cls: 'dword', first: 0x1000, last: 0x1053 },
  { cls: 'word', first: 0x2000, last: 0x200e },
  { cls: 'vector', first: 0x3000, last: 0x303f },
  { cls: 'intr', first: 0xf000, last: 0xf003 },
];

function classOf(id: number): ElementClass {
  const range = ELEMENT_RANGES.find((r) => id >= r.first && id <= r.last);
  if (!range) throw new Error(`element 0x${id.toString(16)} outside every range`);
  return range.cls;
}

/** Every defined element, in ID order. */
export const ELEMENTS: readonly ElementDef[] = rows
  .map((r) => ({ ...r, cls: classOf(r.id) }))
  .sort((a, b) => a.id - b.id);

const byId: (ElementDef | undefined)[] = new Array(0x10000);
const byName = new Map<string, ElementDef>();
for (const e of ELEMENTS) {
  byId[e.id] = e;
  byName.set(e.name, e);
}

/** The element with this ID, or undefined for a reserved ID. O(1): used per element on the hot path. */
export function elementById(id: number): ElementDef | undefined {
  return byId[id];
}

/** Look up by name (case-insensitive, with or without a KVMPPC_GSID_ prefix). */
export function elementByName(name: string): ElementDef | undefined {
  return byName.get(name.toUpperCase().replace(/^KVMPPC_GSID_/, ''));
}

/** Element IDs as the spec prints them: 0x1000. */
export function formatElementId(id: number): string {
  return `0x${id.toString(16).padStart(4, '0')}`;
}

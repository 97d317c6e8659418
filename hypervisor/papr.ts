/**
 * PAPR definitions for the nested-virtualization interface: hcall opcodes (v2 and v1), return
 * codes, flag bits, capability bits and the interrupt vectors that come back as exit reasons.
 * One source of truth; names follow Linux's hvcall.h and the PAPR text
 * (facts: shared/spec/papr-nested.md §2, §3, §5, §6, §16).
 *
 * 64-bit flag and capability words are kept as bigint constants: they are compared once per
 * hcall on the control path, never per instruction.
 */

/** IBM bit numbering: bit 0 is the most significant bit of a 64-bit doubleword. */
export const ibmBit = (n: number): bigint => 1n << BigInt(63 - n);

/** Hcall opcodes, passed in r3 (spec §3). */
export const Hcall = {
  H_GET_TERM_CHAR: 0x54,
  H_PUT_TERM_CHAR: 0x58,
  /** XICS: accept the highest-priority pending interrupt (r4 ← XIRR; XISR 0: none). */
  H_XIRR: 0x74,
  H_REGISTER_VPA: 0xdc,
  H_CEDE: 0xe0,
  H_RPT_INVALIDATE: 0x448,
  // nested v2 (PAPR)
  H_GUEST_GET_CAPABILITIES: 0x460,
  H_GUEST_SET_CAPABILITIES: 0x464,
  H_GUEST_CREATE: 0x470,
  H_GUEST_CREATE_VCPU: 0x474,
  H_GUEST_GET_STATE: 0x478,
  H_GUEST_SET_STATE: 0x47c,
  H_GUEST_RUN_VCPU: 0x480,
  H_GUEST_COPY_MEMORY: 0x484,
  H_GUEST_DELETE: 0x488,
  // nested v1 (KVM-HV), KVMPPC_HCALL_BASE 0xF000 + 0x800
  H_SET_PARTITION_TABLE: 0xf800,
  H_ENTER_NESTED: 0xf804,
  H_TLB_INVALIDATE: 0xf808,
  H_COPY_TOFROM_GUEST: 0xf80c,
} as const;
export type HcallName = keyof typeof Hcall;

/**
 * nestsim's own hcalls, made by the guest firmware and by guest test programs (`sc 1` from L2,
 * answered by the L1 model). They sit in the platform-specific range above KVM's 0xF000 base and
 * below the v1 nested calls at 0xF800, where neither Linux nor QEMU defines anything.
 */
export const NestsimHcall = {
  /**
   * Linux syscall forwarded by the firmware: r4 = syscall number, r5..r10 = arguments. Out: r3 =
   * hcall status (anything but H_SUCCESS makes the firmware return ENOSYS), r4 = result, -errno on
   * failure (the firmware turns [-4095, -1] into errno with CR0[SO] set). docs/guests.md.
   */
  NS_SYSCALL: 0xf100,
  /**
   * Unexpected interrupt in L2 reported by the firmware: r4 = vector, r5 = SRR0, r6 = SRR1, r7 = DAR,
   * r8 = DSISR, r9 = LR and r10 = r1 at the interrupt. Never returns: the firmware repeats it.
   */
  NS_CRASH: 0xf104,
} as const;

/** Hcall return codes in r3 (spec §2). Negative values are errors. */
export const H = {
  SUCCESS: 0,
  BUSY: 1,
  CLOSED: 2,
  NOT_AVAILABLE: 3,
  CONSTRAINED: 4,
  PARTIAL: 5,
  IN_PROGRESS: 14,
  LONG_BUSY_ORDER_1_MSEC: 9900,
  LONG_BUSY_ORDER_10_MSEC: 9901,
  LONG_BUSY_ORDER_100_MSEC: 9902,
  LONG_BUSY_ORDER_1_SEC: 9903,
  LONG_BUSY_ORDER_10_SEC: 9904,
  LONG_BUSY_ORDER_100_SEC: 9905,
  HARDWARE: -1,
  FUNCTION: -2,
  PRIVILEGE: -3,
  PARAMETER: -4,
  BAD_MODE: -5,
  NOT_FOUND: -7,
  NO_MEM: -9,
  AUTHORITY: -10,
  NOT_ENOUGH_RESOURCES: -44,
  ABORTED: -54,
  P2: -55,
  P3: -56,
  P4: -57,
  P5: -58,
  P6: -59,
  P7: -60,
  P8: -61,
  P9: -62,
  NOOP: -63,
  TOO_BIG: -64,
  UNSUPPORTED: -67,
  OVERLAP: -68,
  INTERRUPT: -69,
  STATE: -75,
  IN_USE: -77,
  INVALID_ELEMENT_ID: -79,
  INVALID_ELEMENT_SIZE: -80,
  INVALID_ELEMENT_VALUE: -81,
  INPUT_BUFFER_NOT_DEFINED: -82,
  INPUT_BUFFER_TOO_SMALL: -83,
  OUTPUT_BUFFER_NOT_DEFINED: -84,
  OUTPUT_BUFFER_TOO_SMALL: -85,
  PARTITION_PAGE_TABLE_NOT_DEFINED: -86,
  GUEST_VCPU_STATE_NOT_HV_OWNED: -87,
  UNSUPPORTED_FLAG: -256,
  MULTI_THREADS_ACTIVE: -9005,
} as const;
export type HReturnName = keyof typeof H;

const returnNames = new Map<number, string>(Object.entries(H).map(([name, code]) => [code, `H_${name}`]));

/** `H_P2` for -55 and so on; unknown codes print as their number. */
/**
 * The name of what hcall `opcode` returned in r3: a return code, or for H_ENTER_NESTED (whose r3
 * is the exit vector on success, spec §14.3) `exit 0x…`.
 */
export function hcallResultName(opcode: number, r3: number): string {
  return opcode === Hcall.H_ENTER_NESTED && r3 >= 0 ? `exit 0x${r3.toString(16)}` : returnCodeName(r3);
}

/**
 * True when hcall `opcode` returning `r3` failed. Not failures: H_SUCCESS, an H_ENTER_NESTED exit
 * vector, and H_INTERRUPT from H_ENTER_NESTED (L0 ended the L2's time slice; L1 enters again).
 */
export function hcallFailed(opcode: number, r3: number): boolean {
  if (r3 === H.SUCCESS) return false;
  return !(opcode === Hcall.H_ENTER_NESTED && (r3 > 0 || r3 === H.INTERRUPT));
}

export function returnCodeName(code: number): string {
  return returnNames.get(code) ?? String(code);
}

const hcallNames = new Map<number, string>(
  [...Object.entries(Hcall), ...Object.entries(NestsimHcall)].map(([name, op]) => [op, name]),
);

/** `H_GUEST_RUN_VCPU` for 0x480; unknown opcodes print in hex. */
export function hcallName(opcode: number): string {
  return hcallNames.get(opcode) ?? `0x${opcode.toString(16)}`;
}

/** Flags of H_GUEST_GET_STATE / H_GUEST_SET_STATE (spec §5.5 and the decisions table). */
export const StateFlags = {
  /** Bit 0: every element is guest-wide. */
  GUEST_WIDE: ibmBit(0),
  /** Bit 1, GET only: host-wide request (IDs 0x0800–0x0804); guest and vCPU ids ignored. */
  HOST_WIDE: ibmBit(1),
} as const;

/** Flags of H_GUEST_RUN_VCPU (spec §5.6): interrupts made pending in L2 before it runs. */
export const RunFlags = {
  EXTERNAL_INTERRUPT: ibmBit(0),
  PRIVILEGED_DOORBELL: ibmBit(1),
  SYSTEM_RESET: ibmBit(2),
} as const;
export const RUN_FLAGS_DEFINED =
  RunFlags.EXTERNAL_INTERRUPT | RunFlags.PRIVILEGED_DOORBELL | RunFlags.SYSTEM_RESET;

/** H_RPT_INVALIDATE r5 "target" bits (spec §14.6). */
export const RptTarget = {
  /** Every vCPU of the partition (the only target allowed with NESTED). */
  CMMU: 0x1,
  /** The calling vCPU only. */
  CMMU_LOCAL: 0x2,
  /** The nest MMU (accelerators). */
  NMMU: 0x4,
} as const;

/** H_RPT_INVALIDATE r6 "type" bits (spec §14.6). */
export const RptType = {
  /** Partition scope of a nested guest: r4 is its LPID (the v2 API's invalidation). */
  NESTED: 0x1,
  TLB: 0x2,
  /** Page walk cache. */
  PWC: 0x4,
  /** Process-table entries (partition-table entries with NESTED). */
  PRT: 0x8,
} as const;

/** Flags of H_GUEST_DELETE (spec §5.7). */
export const DeleteFlags = {
  /** Bit 0: delete every guest; the guest id is ignored. */
  ALL: ibmBit(0),
} as const;

/** Capability bitmap 1 of H_GUEST_GET/SET_CAPABILITIES (spec §6). */
export const Cap = {
  COPY_MEM: ibmBit(0),
  POWER9: ibmBit(1),
  POWER10: ibmBit(2),
  POWER11: ibmBit(3),
  BITMAP2: ibmBit(63),
} as const;
/** The CPU modes an L2 may run in; the only bits SET_CAPABILITIES accepts. */
export const CAP_MODES = Cap.POWER9 | Cap.POWER10 | Cap.POWER11;

/** Logical PVR values for guest-wide element 0x0003 (spec §6). */
export const LogicalPvr = {
  POWER9: 0x0f000005,
  POWER10: 0x0f000006,
  POWER11: 0x0f000007,
} as const;

/** Interrupt vectors (spec §16); the hypervisor ones come back from H_GUEST_RUN_VCPU in r4. */
export const Vector = {
  STOPPED: 0x000,
  SYSTEM_RESET: 0x100,
  MACHINE_CHECK: 0x200,
  DATA_STORAGE: 0x300,
  DATA_SEGMENT: 0x380,
  INSTRUCTION_STORAGE: 0x400,
  INSTRUCTION_SEGMENT: 0x480,
  EXTERNAL: 0x500,
  ALIGNMENT: 0x600,
  PROGRAM: 0x700,
  FP_UNAVAILABLE: 0x800,
  DECREMENTER: 0x900,
  HV_DECREMENTER: 0x980,
  DOORBELL: 0xa00,
  SYSTEM_CALL: 0xc00,
  TRACE: 0xd00,
  HV_DATA_STORAGE: 0xe00,
  HV_INSTRUCTION_STORAGE: 0xe20,
  HV_EMULATION_ASSIST: 0xe40,
  HV_MAINTENANCE: 0xe60,
  HV_DOORBELL: 0xe80,
  HV_VIRTUALIZATION: 0xea0,
  PERFORMANCE_MONITOR: 0xf00,
  VMX_UNAVAILABLE: 0xf20,
  VSX_UNAVAILABLE: 0xf40,
  FACILITY_UNAVAILABLE: 0xf60,
  HV_FACILITY_UNAVAILABLE: 0xf80,
} as const;

/** The exit reasons H_GUEST_RUN_VCPU can return in r4 (spec §5.6 and §11.6). */
export const EXIT_VECTORS: readonly number[] = [
  Vector.STOPPED,
  Vector.SYSTEM_RESET,
  Vector.MACHINE_CHECK,
  Vector.HV_DECREMENTER,
  Vector.SYSTEM_CALL,
  Vector.HV_DATA_STORAGE,
  Vector.HV_INSTRUCTION_STORAGE,
  Vector.HV_EMULATION_ASSIST,
  Vector.HV_MAINTENANCE,
  Vector.HV_DOORBELL,
  Vector.HV_VIRTUALIZATION,
  Vector.HV_FACILITY_UNAVAILABLE,
];

/** DSISR / HDSISR / SRR1 cause bits of storage interrupts (spec §15.6). */
export const StorageFault = {
  NOPTE: 0x4000_0000,
  PROTFAULT: 0x0800_0000,
  ISSTORE: 0x0200_0000,
  AMR: 0x0020_0000,
  R_BADCONFIG: 0x0008_0000,
  ATOMIC_RC: 0x0004_0000,
  PRTABLE_FAULT: 0x0002_0000,
  /** SRR1 bit for an instruction fetch from a no-execute or guarded page. */
  NOEXEC_GUARD: 0x1000_0000,
} as const;

/** Limits of nestsim's L0 (defaults from the decisions table of the spec; configurable). */
export const DefaultLimits = {
  /** Guest ids are 1..maxGuestId. */
  maxGuestId: 4095,
  vcpusPerGuest: 2048,
  /** Largest GSB accepted by GET/SET_STATE, bytes. */
  maxStateBufferBytes: 1 << 20,
  minRunBufferBytes: 128,
  maxRunBufferBytes: 16384,
} as const;
export type Limits = { -readonly [K in keyof typeof DefaultLimits]: number };

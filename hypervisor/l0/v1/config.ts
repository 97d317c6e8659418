/**
 * What configures L0's v1 (nested-HV) API: its limits (spec §14.7, defaults from Linux's L0), the
 * memory L0 keeps shadow tables in, and the two things L0 decides for its L1 that shape every L2
 * entry: the HFSCR facilities it permits L1, and the page size of its own mapping of L1 memory.
 */

import { LPIDS, SHADOW_LPID_BASE } from '../../../mem/generations.js';
import { UserError } from '../../../src/errors.js';

/** Configuration of the v1 API of one L0. */
export interface V1Config {
  /** false: the four v1 hcalls answer H_FUNCTION (nesting disabled, as Linux's L0 without nested=1). */
  enabled: boolean;
  /**
   * Highest L2 LPID L1 may use. Default 4095: Linux's KVM_MAX_NESTED_GUESTS_SHIFT 12 gives 4096
   * partition-table entries, entry 0 being L1 itself (spec §14.7). At most 8191 − SHADOW_LPID_BASE.
   */
  maxLpid: number;
  /** vcpu_token must be below this: Linux's NR_CPUS, 2048 by default (spec §14.7). */
  vcpuTokens: number;
  /** vCPU slots (register areas) over all v1 L2s; exhausted → H_NO_MEM. */
  maxVcpus: number;
  /** Bytes of L0's own memory for shadow partition-scoped tables (a multiple of 128 KiB). */
  shadowMemoryBytes: number;
  /**
   * log2 of the page size of L0's mapping of L1 memory (12, 21 or 30): L0 maps L1 one to one, in
   * pages of this size, as Linux's L0 backs a guest with transparent huge pages (2 MiB). It bounds
   * the shadow leaf size (spec §14.7).
   */
  l0PageShift: number;
  /** HFSCR facility bits (low 56 bits) L0 permits L1; an L2 gets at most these (spec §14.3). */
  l1Hfscr: number;
  /** LPCR bits L0 runs L1 with outside the mask L1 chooses for an L2 (spec §10.3, Linux's vcore LPCR). */
  l1LpcrLo: number;
  /** Largest H_COPY_TOFROM_GUEST in bytes (L0's bounce buffer); larger → H_NO_MEM. */
  copyBufferBytes: number;
}

/**
 * HFSCR facilities Linux's L0 permits an L1: FP, VECVSX, DSCR, PM, BHRB, EBB, TAR (IBM bits 63 − n
 * for facility n of cores/isa/cpu.ts Facility; TM and MSGP are not granted).
 */
export const LINUX_L1_HFSCR = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 7) | (1 << 8);

/** LPCR low-word bits L0 forces for a radix L1 (QEMU's list, spec §10.3): HR, UPRT, GTSE, HVICE, HDICE. */
export const L1_LPCR_LO = 0x0010_0000 | 0x0040_0000 | 0x400 | 0x2 | 0x1;

/** Defaults from Linux's L0 (spec §14.7). */
export function defaultV1Config(overrides: Partial<V1Config> = {}): V1Config {
  return {
    enabled: true,
    maxLpid: 4095,
    vcpuTokens: 2048,
    maxVcpus: 256,
    shadowMemoryBytes: 64 << 20,
    l0PageShift: 21,
    l1Hfscr: LINUX_L1_HFSCR,
    l1LpcrLo: L1_LPCR_LO,
    copyBufferBytes: 1 << 20,
    ...overrides,
  };
}

/** Throws a UserError naming the first field that cannot work. */
export function checkV1Config(c: V1Config): void {
  const bad = (field: string, why: string) => {
    throw new UserError(`v1.${field}`, why);
  };
  const int = (v: number) => Number.isInteger(v) && v > 0;
  if (!int(c.maxLpid) || c.maxLpid > LPIDS - 1 - SHADOW_LPID_BASE)
    bad('maxLpid', `${c.maxLpid} is not in 1..${LPIDS - 1 - SHADOW_LPID_BASE}`);
  if (!int(c.vcpuTokens) || c.vcpuTokens > 1 << 16) bad('vcpuTokens', `${c.vcpuTokens} is not in 1..65536`);
  if (!int(c.maxVcpus) || c.maxVcpus > 1 << 16) bad('maxVcpus', `${c.maxVcpus} is not in 1..65536`);
  if (!int(c.shadowMemoryBytes) || c.shadowMemoryBytes % (128 << 10) !== 0 || c.shadowMemoryBytes > 2 ** 31)
    bad('shadowMemoryBytes', `${c.shadowMemoryBytes} is not a multiple of 128 KiB up to 2 GiB`);
  if (![12, 21, 30].includes(c.l0PageShift)) bad('l0PageShift', `${c.l0PageShift} is not 12, 21 or 30`);
  if (!int(c.copyBufferBytes)) bad('copyBufferBytes', `${c.copyBufferBytes} is not a positive integer`);
}

/**
 * What an L1 does to drive L0's v1 API in tests, through the hcall ABI only: a partition table in
 * L1 memory registered with H_SET_PARTITION_TABLE, an L2 radix tree built with RadixWriter and
 * named by a PATE, the two structures of H_ENTER_NESTED at fixed L1 addresses, written and read
 * by field name. Fields are little-endian (L1's native order).
 */
import { invalidateCode } from '../../cores/isa/predecode.js';
import { defaultL0Config, L0, type L0Config } from '../../hypervisor/l0/l0.js';
import { HcallRegs } from '../../hypervisor/l0/regs.js';
import { defaultV1Config, type V1Config } from '../../hypervisor/l0/v1/config.js';
import { V1Host } from '../../hypervisor/l0/v1/host.js';
import { installV1 } from '../../hypervisor/l0/v1/registry.js';
import { get64, Hv, REGS_BYTES, Regs, set64 } from '../../hypervisor/l0/v1/structs.js';
import { H, Hcall } from '../../hypervisor/papr.js';
import { Perm, type RadixRoot } from '../../mem/radix.js';
import { pateDw0FromRoot } from '../../mem/radix-root.js';
import { bumpAllocator, RadixWriter } from '../../mem/radix-writer.js';
import { asL1RA, asL2RA } from '../../mem/types.js';
import { type CallResult, hcall } from './hcall.js';

/** L1 memory plan. */
export const V1Mem = {
  /** The partition table: 4096 entries of 16 bytes (PATS 4). */
  PTAB: 0x1_0000,
  /** hv_guest_state and pt_regs of vCPU 0; vCPU n's are n · 0x1000 further. */
  HV: 0x2_0000,
  REGS: 0x2_0800,
  /** Radix tables of the L2s. */
  TABLES: 0x10_0000,
  TABLES_END: 0x30_0000,
  /** L1 frames backing L2 pages: L2RA p → FRAMES + p (for the first L2). */
  FRAMES: 0x40_0000,
} as const;
/** PTCR value of the table at PTAB. */
export const PTCR = V1Mem.PTAB | 4;

/** MSR of an L2: SF | LE, real mode. LPCR: ILE. */
export const L2_MSR = 0x8000_0000_0000_1001n; // ME is what L0 adds anyway
export const L2_LPCR = 0x0200_0000n;

/** A test L1 on a v1 L0. */
export interface V1Rig {
  l0: L0;
  host: V1Host;
  writer: RadixWriter;
  lpid: number;
}

/** Options of `v1Rig`. */
export interface V1RigOptions {
  l0?: Partial<L0Config>;
  v1?: Partial<V1Config>;
  lpid?: number;
  /** L2 pages mapped (4 KiB each, from L2RA 0, read/write/execute). */
  pages?: number;
  /** Skip H_SET_PARTITION_TABLE. */
  noTable?: boolean;
}

/** An L0 with v1 state, one L2's tree (pages mapped), its PATE, the table registered, vCPU 0's structs set up. */
export function v1Rig(o: V1RigOptions = {}): V1Rig {
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: 16 << 20, ...o.l0 }));
  const host = installV1(
    l0,
    V1Host.create(defaultV1Config({ shadowMemoryBytes: 4 << 20, vcpuTokens: 64, maxVcpus: 32, ...o.v1 })),
  );
  const lpid = o.lpid ?? 1;
  const writer = RadixWriter.create(l0.ram, bumpAllocator(V1Mem.TABLES, V1Mem.TABLES_END))!;
  for (let p = 0; p < (o.pages ?? 16); p++)
    writer.map(asL2RA(p * 4096), asL1RA(V1Mem.FRAMES + p * 4096), 12, Perm.Read | Perm.Write | Perm.Exec);
  writePate(l0, lpid, writer.root);
  if (!o.noTable) {
    const rc = hcall(l0, Hcall.H_SET_PARTITION_TABLE, PTCR).rc;
    if (rc !== H.SUCCESS) throw new Error(`H_SET_PARTITION_TABLE: ${rc}`);
  }
  initStructs(l0, lpid, 0);
  return { l0, host, writer, lpid };
}

/** Writes PATE `lpid` (big-endian): dw0 for `root` (or 0 for none), dw1 = `dw1`. */
export function writePate(l0: L0, lpid: number, root: RadixRoot | undefined, dw1 = 0n): void {
  const at = V1Mem.PTAB + 16 * lpid;
  l0.ram.dv.setBigUint64(at, root ? pateDw0FromRoot(root) : 0n, false);
  l0.ram.dv.setBigUint64(at + 8, dw1, false);
}

/** Addresses of vCPU `n`'s structures. */
export const hvOf = (n: number) => V1Mem.HV + n * 0x1000;
export const regsOf = (n: number) => V1Mem.REGS + n * 0x1000;

/** Zeroes vCPU `n`'s structures and fills in version 2, lpid, token, MSR, LPCR, all of HFSCR, no HDEC. */
export function initStructs(l0: L0, lpid: number, token: number, n = token): void {
  const hv = hvOf(n);
  const regs = regsOf(n);
  l0.ram.u8.fill(0, hv, hv + 248);
  l0.ram.u8.fill(0, regs, regs + REGS_BYTES);
  const dv = l0.ram.dv;
  set64(dv, hv + Hv.VERSION, 2n);
  dv.setUint32(hv + Hv.LPID, lpid, true);
  dv.setUint32(hv + Hv.VCPU_TOKEN, token, true);
  set64(dv, hv + Hv.LPCR, L2_LPCR);
  set64(dv, hv + Hv.HFSCR, 0xffffn);
  set64(dv, hv + Hv.HDEC_EXPIRY, -1n);
  set64(dv, regs + Regs.MSR, L2_MSR);
}

/** Sets an hv_guest_state field of vCPU `n` (LPID and VCPU_TOKEN are 32-bit). */
export function setHv(l0: L0, field: keyof typeof Hv, v: bigint, n = 0): void {
  const at = hvOf(n) + Hv[field];
  if (field === 'LPID' || field === 'VCPU_TOKEN') l0.ram.dv.setUint32(at, Number(v), true);
  else set64(l0.ram.dv, at, v);
}

/** An hv_guest_state field of vCPU `n`. */
export function getHv(l0: L0, field: keyof typeof Hv, n = 0): bigint {
  const at = hvOf(n) + Hv[field];
  if (field === 'LPID' || field === 'VCPU_TOKEN') return BigInt(l0.ram.dv.getUint32(at, true));
  return get64(l0.ram.dv, at);
}

/** Sets a pt_regs field (`GPRn` or a Regs name) of vCPU `n`. */
export function setReg(l0: L0, field: string, v: bigint, n = 0): void {
  set64(l0.ram.dv, regsOf(n) + regOffset(field), v);
}

/** A pt_regs field of vCPU `n`. */
export function getReg(l0: L0, field: string, n = 0): bigint {
  return get64(l0.ram.dv, regsOf(n) + regOffset(field));
}

function regOffset(field: string): number {
  const m = /^GPR(\d+)$/.exec(field);
  if (m) return 8 * Number(m[1]);
  const off = (Regs as Record<string, number>)[field];
  if (off === undefined) throw new Error(`no pt_regs field ${field}`);
  return off;
}

/** H_ENTER_NESTED with vCPU `n`'s structures on core `core`. */
export function enter(l0: L0, n = 0, core = 0): CallResult {
  return hcallOn(l0, core, Hcall.H_ENTER_NESTED, hvOf(n), regsOf(n));
}

/** Starts vCPU `n` at `nip` and enters it. */
export function enterAt(l0: L0, nip: number, n = 0, core = 0): CallResult {
  setReg(l0, 'NIP', BigInt(nip), n);
  return enter(l0, n, core);
}

/** An hcall on a given core. */
export function hcallOn(l0: L0, core: number, opcode: number, ...args: (bigint | number)[]): CallResult {
  if (core === 0) return hcall(l0, opcode, ...args);
  // test/support/hcall.ts always uses core 0; this is the same with a core number.
  const r = new HcallRegs();
  r.setInt(3, opcode);
  args.forEach((a, i) => {
    r.setBig(4 + i, BigInt(a));
  });
  const rc = l0.hcall(r, core);
  const out: bigint[] = [];
  for (let k = 4; k <= 12; k++) out.push(r.big(k));
  return { rc, out };
}

/** Writes instruction words at L2RA `l2ra` of the first L2 (through the fixed frame mapping). */
export function program(l0: L0, l2ra: number, words: readonly number[]): void {
  for (const [k, w] of words.entries()) l0.ram.dv.setUint32(V1Mem.FRAMES + l2ra + 4 * k, w, true);
  invalidateCode(l0.codeGen);
}

/** tlbie images for H_TLB_INVALIDATE (spec §14.4): r4 = RIC, PRS, R; r6 = IS, AP. */
export const tlbieInsn = (ric: number, prs = 0, r = 1) => (ric << 18) | (prs << 17) | (r << 16);
export const tlbieRb = (is: number, ap = 0, ea = 0) => ea + ((is << 10) | (ap << 5));

/** H_TLB_INVALIDATE of the whole LPID with RIC 2 (what Linux's L1 sends after writing a PATE). */
export function flushLpid(l0: L0, lpid: number, ric = 2): number {
  return hcall(l0, Hcall.H_TLB_INVALIDATE, tlbieInsn(ric), lpid, tlbieRb(2)).rc;
}

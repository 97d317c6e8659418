/**
 * The L0 hypervisor: answers every hcall an L1 makes, with PAPR register semantics
 * (`hcall(opcode, regs)`: r3 in, status back in r3, outputs in r4..). Buffers are addresses in L1
 * memory, read and written there as a real L0 would.
 *
 * One L0 object owns the partition state in the deterministic mode; in the multicore runtime the
 * coordinator's L0 does the global operations and each core serves the per-vCPU fast path on the
 * same shared state (docs/architecture.md, "L0 state").
 */
import { R, VCPU_BYTES, Vcpu } from '../../cores/vcpu.js';
import { Generations } from '../../mem/generations.js';
import { GuestRam } from '../../mem/ram.js';
import { DefaultLimits, H, type Limits } from '../papr.js';
import { HCALL_HANDLERS } from './hcalls/index.js';
import { G, Partitions } from './partitions.js';
import type { HcallRegs } from './regs.js';
import { L0Stats } from './stats.js';

/** The most recent CPU mode this L0 offers its L1 for L2s (capability bits, spec §6). */
export type CpuMode = 'power9' | 'power10' | 'power11';

/** Switches that make L0 misbehave on purpose, as real L0s may, to test L1 retry paths. */
export interface FaultInjection {
  /** H_GUEST_CREATE answers H_BUSY (with a continue token) this many times before succeeding. */
  createBusy: number;
  /** H_GUEST_DELETE answers H_BUSY this many times per guest before deleting. */
  deleteBusy: number;
}

/** Everything that configures an L0. */
export interface L0Config {
  limits: Limits;
  /** vCPU slots over all guests (the pool; exhausted → H_NOT_ENOUGH_RESOURCES). */
  maxVcpus: number;
  maxMode: CpuMode;
  /** The L1's own PVR; new guests start with it as their logical PVR. */
  l1Pvr: number;
  faults: FaultInjection;
  /** Bytes of L1 memory when the caller does not hand L0 a RAM of its own (tests, tools). */
  l1MemoryBytes: number;
}

/** Defaults: QEMU's limits, a POWER10 L0. */
export function defaultL0Config(overrides: Partial<L0Config> = {}): L0Config {
  return {
    limits: { ...DefaultLimits },
    maxVcpus: 256,
    maxMode: 'power10',
    l1Pvr: 0x0080_0200, // a POWER10 DD2.0 PVR
    faults: { createBusy: 0, deleteBusy: 0 },
    l1MemoryBytes: 64 << 20,
    ...overrides,
  };
}

/** A handler: reads arguments from `r`, writes outputs to `r`, returns the status for r3. */
export type HcallHandler = (l0: L0, r: HcallRegs, core: number) => number;

/** The L0 hypervisor of one simulation. */
export class L0 {
  readonly parts: Partitions;
  /** The canonical register areas of every vCPU slot, VCPU_BYTES apart (cores/vcpu.ts). */
  readonly vcpuSab: SharedArrayBuffer;
  private readonly vcpuViews: Vcpu[] = [];
  readonly stats = new L0Stats();
  /** Why the last hcall failed, for logs and traces (empty after a success). */
  lastReason = '';
  /**
   * Pending H_GUEST_CREATE continuation (fault injection): the token L1 must pass back (0n: none),
   * the H_BUSY answers still to give, and the next token value to hand out.
   */
  createToken = { value: 0n, busyLeft: 0, next: 0x1000 };
  /** Guest id → H_BUSY answers still to give to H_GUEST_DELETE (fault injection). */
  readonly deleteBusyLeft = new Map<number, number>();

  /**
   * `ram` is L1's memory: every buffer address an hcall names is a real address in it.
   * `gens` are the per-LPID TLB generations every core checks (mem/generations.ts).
   */
  constructor(
    readonly config: L0Config = defaultL0Config(),
    readonly ram: GuestRam = GuestRam.create(config.l1MemoryBytes),
    readonly gens: Generations = Generations.create(),
  ) {
    this.parts = Partitions.create({ limits: config.limits, maxVcpus: config.maxVcpus });
    this.vcpuSab = new SharedArrayBuffer(config.maxVcpus * VCPU_BYTES);
    this.createToken.busyLeft = config.faults.createBusy;
  }

  /**
   * Executes one hcall. `r` holds r3 (opcode) and the arguments; on return r3 holds the status
   * (also returned) and r4.. the outputs. Unknown opcodes get H_FUNCTION. Never throws for any
   * value a guest can choose.
   */
  hcall(r: HcallRegs, core = 0): number {
    const opcode = r.num(3);
    const handler = HCALL_HANDLERS.get(opcode);
    this.lastReason = '';
    const rc = handler
      ? handler(this, r, core)
      : this.fail(H.FUNCTION, `hcall 0x${opcode.toString(16)} not offered`);
    r.setInt(3, rc);
    this.stats.hcall(opcode, rc);
    return rc;
  }

  /** The register area of vCPU slot `slot`. */
  vcpu(slot: number): Vcpu {
    let v = this.vcpuViews[slot];
    if (!v) {
      v = new Vcpu(this.vcpuSab, slot * VCPU_BYTES);
      this.vcpuViews[slot] = v;
    }
    return v;
  }

  /**
   * A slot is handed to a new vCPU: its registers start zeroed, with the guest's current TB offset
   * (decisions table: TB_OFFSET set before a vCPU exists applies to it too).
   */
  vcpuCreated(slot: number, guestId: number): void {
    const v = this.vcpu(slot);
    v.clear();
    v.w[R.TB_OFFSET] = this.parts.w[this.parts.guestWord(guestId, G.TB_OFFSET_HI)]!;
    v.w[R.TB_OFFSET + 1] = this.parts.w[this.parts.guestWord(guestId, G.TB_OFFSET_LO)]!;
  }

  /** Called once a guest is gone: its translations must go from every core. */
  guestDeleted(guestId: number): void {
    this.gens.bump(guestId);
  }

  /** Records why an hcall fails and returns its code (handlers: `return l0.fail(H.P2, '…')`). */
  fail(rc: number, reason: string): number {
    this.lastReason = reason;
    return rc;
  }
}

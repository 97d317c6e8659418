/**
 * What L0 counts: hcalls by opcode and return code, exits by reason, runs and instructions per
 * vCPU. Plain maps on the owning thread; the multicore runtime merges per-core copies at the end.
 */
import { hcallName, hcallResultName } from '../papr.js';

/** Violations kept verbatim (the count goes on). */
const MAX_VIOLATIONS = 100;

/** vCPU ids are below 4096 (the limit is 2048), so guest · 4096 + vCPU is unique. */
const VCPU_KEY = 4096;

/** The fields of L0Stats, as they survive a structured clone to another thread (Maps included). */
export type L0StatsData = Pick<
  L0Stats,
  | 'hcalls'
  | 'exits'
  | 'vcpus'
  | 'instructions'
  | 'invalidations'
  | 'ackWaits'
  | 'violations'
  | 'violationCount'
> &
  Partial<Pick<L0Stats, 'stateBytes' | 'shadowFaults'>>;

/** Bytes of L2 vCPU state moved between L1 memory and L0 by one API, and the entries that moved them. */
export interface StateTraffic {
  read: number;
  written: number;
  /** Calls that ran the L2 (each ended in one exit, "stopped" included). */
  entries: number;
}

/** What L0 counts per vCPU. */
export interface VcpuCounters {
  runs: number;
  instructions: number;
  /** exit vector → count */
  exits: Map<number, number>;
  /** opcode → count, for the hcalls that name this vCPU (RUN_VCPU, its GET/SET_STATE) */
  hcalls: Map<number, number>;
}

/** Counters of one L0 (or of one core's share of it). */
export class L0Stats {
  /** opcode → return code → count */
  readonly hcalls = new Map<number, Map<number, number>>();
  /** exit vector → count */
  readonly exits = new Map<number, number>();
  /** guest id · 4096 + vCPU id → its counters (a number key: no string per exit) */
  readonly vcpus = new Map<number, VcpuCounters>();
  /** Instructions retired by every L2 vCPU. */
  instructions = 0;
  /** Partition-scoped invalidations done (H_RPT_INVALIDATE NESTED, guest deletion). */
  invalidations = 0;
  /** Cores an invalidation had to wait for (they were running the partition). */
  ackWaits = 0;
  /** Broken invariants L0 noticed (a core that never acked, ...); the first MAX_VIOLATIONS kept. */
  readonly violations: string[] = [];
  /** Invariant violations noticed in all (also those not kept). */
  violationCount = 0;
  /**
   * vCPU state L0 read from and wrote to L1 memory for L2 entries and exits, by API, for "bytes
   * moved per exit": v1 the hv_guest_state and pt_regs of H_ENTER_NESTED; v2 the run input and
   * output buffers of H_GUEST_RUN_VCPU and the buffers of thread-wide H_GUEST_GET/SET_STATE
   * (hypervisor/l0/v1/traffic.ts).
   */
  readonly stateBytes: { v1: StateTraffic; v2: StateTraffic } = {
    v1: { read: 0, written: 0, entries: 0 },
    v2: { read: 0, written: 0, entries: 0 },
  };
  /**
   * v1 shadow-table faults (hypervisor/l0/v1/shadow-partition.ts): fixed by L0 from L1's tree with
   * no exit, forwarded to L1 as an exit; `uncached` of the fixed ones got no shadow entry (in the
   * way, or `noMemory`: shadow memory full).
   */
  readonly shadowFaults = { fixed: 0, forwarded: 0, uncached: 0, noMemory: 0 };

  /** Records a broken invariant. */
  violation(what: string): void {
    this.violationCount++;
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(what);
  }

  /** Counts `n` hcalls of `opcode` answered with `rc`. */
  hcall(opcode: number, rc: number, n = 1): void {
    let byRc = this.hcalls.get(opcode);
    if (!byRc) {
      byRc = new Map();
      this.hcalls.set(opcode, byRc);
    }
    byRc.set(rc, (byRc.get(rc) ?? 0) + n);
  }

  /** Counts one exit of a run of vCPU `vcpuId` of guest `guestId`. */
  exit(guestId: number, vcpuId: number, vector: number, instructions: number): void {
    this.exits.set(vector, (this.exits.get(vector) ?? 0) + 1);
    this.instructions += instructions;
    const v = this.vcpu(guestId, vcpuId);
    v.runs++;
    v.instructions += instructions;
    v.exits.set(vector, (v.exits.get(vector) ?? 0) + 1);
  }

  /** Counts one hcall of `opcode` that names vCPU `vcpuId` of guest `guestId`. */
  vcpuHcall(guestId: number, vcpuId: number, opcode: number): void {
    const h = this.vcpu(guestId, vcpuId).hcalls;
    h.set(opcode, (h.get(opcode) ?? 0) + 1);
  }

  /** The counters of one vCPU (created empty on first use). */
  vcpu(guestId: number, vcpuId: number): VcpuCounters {
    const key = guestId * VCPU_KEY + vcpuId;
    let v = this.vcpus.get(key);
    if (!v) {
      v = { runs: 0, instructions: 0, exits: new Map(), hcalls: new Map() };
      this.vcpus.set(key, v);
    }
    return v;
  }

  /** Adds another set of counters into this one (an L0Stats, or one cloned from another thread). */
  merge(other: L0StatsData): void {
    for (const [op, byRc] of other.hcalls) for (const [rc, n] of byRc) this.hcall(op, rc, n);
    this.invalidations += other.invalidations;
    this.ackWaits += other.ackWaits;
    this.violationCount += other.violationCount;
    for (const v of other.violations) if (this.violations.length < MAX_VIOLATIONS) this.violations.push(v);
    this.instructions += other.instructions;
    if (other.stateBytes)
      for (const api of ['v1', 'v2'] as const) {
        const mine = this.stateBytes[api];
        const theirs = other.stateBytes[api];
        mine.read += theirs.read;
        mine.written += theirs.written;
        mine.entries += theirs.entries;
      }
    if (other.shadowFaults) {
      const f = this.shadowFaults;
      f.fixed += other.shadowFaults.fixed;
      f.forwarded += other.shadowFaults.forwarded;
      f.uncached += other.shadowFaults.uncached;
      f.noMemory += other.shadowFaults.noMemory;
    }
    for (const [vec, n] of other.exits) this.exits.set(vec, (this.exits.get(vec) ?? 0) + n);
    for (const [key, v] of other.vcpus) {
      const mine = this.vcpu(Math.floor(key / VCPU_KEY), key % VCPU_KEY);
      mine.runs += v.runs;
      mine.instructions += v.instructions;
      for (const [k, n] of v.exits) mine.exits.set(k, (mine.exits.get(k) ?? 0) + n);
      for (const [k, n] of v.hcalls) mine.hcalls.set(k, (mine.hcalls.get(k) ?? 0) + n);
    }
  }

  /** A JSON-friendly snapshot with names instead of numbers. */
  toJSON(): {
    hcalls: Record<string, Record<string, number>>;
    exits: Record<string, number>;
    vcpus: Record<string, { runs: number; instructions: number }>;
    invalidations: number;
    stateBytes: { v1: StateTraffic; v2: StateTraffic };
    shadowFaults: { fixed: number; forwarded: number; uncached: number; noMemory: number };
  } {
    const hcalls: Record<string, Record<string, number>> = {};
    for (const [op, byRc] of this.hcalls) {
      hcalls[hcallName(op)] = Object.fromEntries([...byRc].map(([rc, n]) => [hcallResultName(op, rc), n]));
    }
    const exits = Object.fromEntries([...this.exits].map(([v, n]) => [`0x${v.toString(16)}`, n]));
    const vcpus = Object.fromEntries(
      [...this.vcpus].map(([k, v]) => [
        `${Math.floor(k / VCPU_KEY)}/${k % VCPU_KEY}`,
        { runs: v.runs, instructions: v.instructions },
      ]),
    );
    return {
      hcalls,
      exits,
      vcpus,
      invalidations: this.invalidations,
      stateBytes: { v1: { ...this.stateBytes.v1 }, v2: { ...this.stateBytes.v2 } },
      shadowFaults: { ...this.shadowFaults },
    };
  }
}

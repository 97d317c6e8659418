/**
 * One L2 guest as its L1 sees it: the vCPU loops, the console output, how it ended, and the
 * per-guest counters a report needs. It receives the loops' events (GuestEvents).
 */
import type { AddressSpace } from './address-space.js';
import type { GuestEvents, L1VcpuLoop } from './vcpu-loop.js';

/** How a guest ended. */
export type GuestEnd =
  | { kind: 'running' }
  | { kind: 'exited'; code: number }
  | { kind: 'failed'; vcpu: number; report: string }
  | { kind: 'stopped'; reason: string };

export class L1Guest implements GuestEvents {
  readonly loops: L1VcpuLoop[] = [];
  /** Run buffers [address, bytes] to give back at deletion. */
  readonly buffers: [number, number][] = [];
  readonly stdout: Uint8Array[] = [];
  readonly stderr: Uint8Array[] = [];
  end: GuestEnd = { kind: 'running' };
  deleted = false;
  /** Exit code of each vCPU that called exit(). */
  readonly vcpuCodes = new Map<number, number>();
  /** exits by vector, L2 hcalls by number */
  readonly exits = new Map<number, number>();
  readonly l2hcalls = new Map<number, number>();
  /** vCPU id → L2 hcall number → count */
  readonly vcpuL2hcalls = new Map<number, Map<number, number>>();
  /** Wall seconds each vCPU spent being stepped (entering L2 and handling its exits). */
  readonly vcpuRunningSeconds: number[] = [];
  /** performance.now() when the guest was created, and when it was deleted (NaN: not yet). */
  readonly createdAt = performance.now();
  deletedAt = Number.NaN;
  /** Called with every console write, as it happens (stdout streaming). */
  onConsole: ((fd: number, bytes: Uint8Array) => void) | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly vcpus: number,
    readonly space: AddressSpace,
    /** The guest's entries in L1's loop table, one per vCPU. */
    readonly entries: number[],
  ) {}

  get finished(): boolean {
    return this.end.kind !== 'running';
  }

  console(fd: number, bytes: Uint8Array): void {
    (fd === 2 ? this.stderr : this.stdout).push(bytes);
    this.onConsole?.(fd, bytes);
  }

  // The first end is the one that counts: with vCPUs on several cores, a second vCPU may report
  // (exit, failure) before it learns that the guest is already over.

  vcpuExit(vcpuId: number, code: number): void {
    this.vcpuCodes.set(vcpuId, code);
    // Over when every vCPU has said so: counted from the exits themselves, not from the loops'
    // done flags, which another core sets before its exit reaches this thread.
    if (!this.finished && this.vcpuCodes.size === this.vcpus)
      this.end = { kind: 'exited', code: this.vcpuCodes.get(0) ?? code };
  }

  groupExit(_vcpuId: number, code: number): void {
    for (const l of this.loops) l.finish();
    if (!this.finished) this.end = { kind: 'exited', code };
  }

  failed(vcpuId: number, report: string): void {
    for (const l of this.loops) l.finish();
    if (!this.finished) this.end = { kind: 'failed', vcpu: vcpuId, report };
  }

  exit(vcpuId: number, vector: number, l2hcall: number): void {
    this.exits.set(vector, (this.exits.get(vector) ?? 0) + 1);
    if (l2hcall >= 0) {
      this.l2hcalls.set(l2hcall, (this.l2hcalls.get(l2hcall) ?? 0) + 1);
      countInto(this.vcpuL2hcalls, vcpuId, l2hcall, 1);
    }
  }

  /** Adds counts that another thread kept for vCPU `vcpuId` (multicore runtime). */
  addCounts(
    vcpuId: number,
    exits: Map<number, number>,
    l2hcalls: Map<number, number>,
    runningSeconds: number,
  ): void {
    for (const [v, n] of exits) this.exits.set(v, (this.exits.get(v) ?? 0) + n);
    for (const [op, n] of l2hcalls) {
      this.l2hcalls.set(op, (this.l2hcalls.get(op) ?? 0) + n);
      countInto(this.vcpuL2hcalls, vcpuId, op, n);
    }
    this.vcpuRunningSeconds[vcpuId] = (this.vcpuRunningSeconds[vcpuId] ?? 0) + runningSeconds;
  }

  /** Broken invariants L1's checks saw in this guest (stress). */
  readonly violations: string[] = [];

  violation(what: string): void {
    if (this.violations.length < 100) this.violations.push(what);
  }

  /** Stops a guest that has not finished (instruction limit, interrupted run). */
  stop(reason: string): void {
    if (this.finished) return;
    for (const l of this.loops) l.finish();
    this.end = { kind: 'stopped', reason };
  }

  /** Console output of fd 1 as one buffer. */
  stdoutBytes(): Buffer {
    return Buffer.concat(this.stdout);
  }
}

/** Adds `n` to map[outer][inner]. */
function countInto(map: Map<number, Map<number, number>>, outer: number, inner: number, n: number): void {
  let m = map.get(outer);
  if (!m) {
    m = new Map();
    map.set(outer, m);
  }
  m.set(inner, (m.get(inner) ?? 0) + n);
}

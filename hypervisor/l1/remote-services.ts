/**
 * The L1 services a vCPU loop needs, as seen from a core thread of the multicore runtime. L2
 * memory management (the page allocator, the guest's regions and ELF image) and the guest records
 * (console, how it ended) belong to L1's control part on the main thread, so what changes them is
 * asked of the coordinator (cores/coordinator-link.ts); what only reads shared memory is done
 * here: reading L2 memory through the guest's tree, counting exits, marking loops finished.
 */
import type { CoordinatorLink } from '../../cores/coordinator-link.js';
import type { RadixRoot } from '../../mem/radix.js';
import { Translation } from '../../mem/radix.js';
import type { GuestRam } from '../../mem/ram.js';
import { readThroughTree, resolveThroughTree } from './address-space.js';
import type { LoopTable } from './loop-table.js';
import type { GuestEvents, GuestMemory } from './vcpu-loop.js';

/** L2 memory of one loop's guest, from a core thread. */
export class RemoteGuestMemory implements GuestMemory {
  private readonly t = new Translation();

  constructor(
    private readonly link: CoordinatorLink,
    private readonly entry: number,
    readonly ram: GuestRam,
    private readonly root: RadixRoot,
  ) {}

  fault(l2ra: number, write: boolean, fetch: boolean): string | undefined {
    return this.link.fault(this.entry, l2ra, write, fetch);
  }

  read(l2ra: number, bytes: number): Uint8Array | undefined {
    return readThroughTree(this.ram, this.root, l2ra, bytes, this.t, (a) => this.fault(a, false, false));
  }

  l1Address(l2ra: number): number {
    return resolveThroughTree(this.ram, this.root, l2ra, this.t, (a) => this.fault(a, true, false));
  }
}

/** Per-loop exit counters kept on the core (merged over cores when the run ends). */
export interface ExitCounters {
  exits: Map<number, number>;
  l2hcalls: Map<number, number>;
}

/** What one loop reports about its guest, from a core thread. */
export class RemoteGuestEvents implements GuestEvents {
  constructor(
    private readonly link: CoordinatorLink,
    private readonly entry: number,
    private readonly table: LoopTable,
    private readonly guestId: number,
    readonly counters: ExitCounters,
  ) {}

  console(fd: number, bytes: Uint8Array): void {
    this.link.console(this.entry, fd, bytes);
  }

  vcpuExit(_vcpuId: number, code: number): void {
    this.link.vcpuExit(this.entry, code);
  }

  groupExit(_vcpuId: number, code: number): void {
    // The other vCPUs stop at their next step, whichever core runs them.
    this.table.finishGuest(this.guestId);
    this.link.groupExit(this.entry, code);
  }

  failed(_vcpuId: number, report: string): void {
    this.table.finishGuest(this.guestId);
    this.link.failed(this.entry, report);
  }

  violation(what: string): void {
    this.link.violation(this.entry, what);
  }

  exit(_vcpuId: number, vector: number, l2hcall: number): void {
    const c = this.counters;
    c.exits.set(vector, (c.exits.get(vector) ?? 0) + 1);
    if (l2hcall >= 0) c.l2hcalls.set(l2hcall, (c.l2hcalls.get(l2hcall) ?? 0) + 1);
  }
}

/**
 * One L2 guest's memory as its L1 builds it: a partition-scoped radix tree in L1 memory (the
 * format L0's cores walk) whose leaves point at L1 frames holding the guest firmware at L2 real
 * address 0, the ELF's PT_LOAD segments, and one private stack per vCPU.
 *
 * Paging modes: `eager` maps and fills every page before the guest runs; `demand` maps nothing and
 * fills a page when the L2 first touches it (the L1 vCPU loop calls `fault` on a partition-scoped
 * storage exit). Both give the L2 the same bytes. An access outside every region, or against the
 * region's rights, gets a report instead: the L1 ends the guest with it.
 *
 * Frames and radix tables come from L1's PageAllocator and all go back in `destroy`.
 */

import type { ElfImage } from '../../cores/elf.js';
import { type CodeGeneration, invalidateCode } from '../../cores/isa/predecode.js';
import { INSPECT, Perm, partitionScopedWalk, type RadixRoot, Translation } from '../../mem/radix.js';
import { elementFromRoot, type PartitionTableElement } from '../../mem/radix-root.js';
import { MapStatus, RadixWriter } from '../../mem/radix-writer.js';
import type { GuestRam } from '../../mem/ram.js';
import { Access, asL1RA, asL2RA } from '../../mem/types.js';
import { FIRMWARE_RESERVED, firmwareImage } from './firmware.js';
import { FRAME, OutOfL1Memory, type PageAllocator } from './page-allocator.js';
import type { GuestMemory } from './vcpu-loop.js';

/** Where the vCPU stacks end: stack i is [STACKS_TOP − (i+1)·stackBytes, STACKS_TOP − i·stackBytes). */
export const STACKS_TOP = 0x0800_0000;

/** How an L2's pages get mapped. */
export type Paging = 'eager' | 'demand';

/** What an address space is built from. */
export interface AddressSpaceSpec {
  image: ElfImage;
  vcpus: number;
  /** Most L2 memory (bytes) L1 gives the guest; a fault beyond it ends the guest. */
  memoryBytes: number;
  stackBytes: number;
  paging: Paging;
  /**
   * The image at L2 real address 0 (at most FIRMWARE_RESERVED bytes): default the shipped firmware
   * (guests/firmware/). A program that handles an interrupt itself passes a copy with that vector
   * changed (src/stress/programs-timer.ts takes the decrementer at 0x900).
   */
  firmware?: Uint8Array;
}

/** A contiguous range of L2 real memory with its rights and initial content. */
interface Region {
  start: number;
  end: number;
  perms: number;
  name: string;
  /** Bytes at `start` (shorter than the region: the rest is zero). */
  content: Uint8Array;
}

const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const permsOf = (pf: number) =>
  (pf & PF_R ? Perm.Read : 0) | (pf & PF_W ? Perm.Write : 0) | (pf & PF_X ? Perm.Exec : 0);

/** The memory of one L2 guest. */
export class AddressSpace implements GuestMemory {
  readonly writer: RadixWriter;
  private readonly regions: Region[] = [];
  /** L2 page number → L1 frame, for every mapped page. */
  private readonly frames = new Map<number, number>();
  /** Frames taken out of the guest by remap/unmap and not released yet. */
  private readonly detached = new Set<number>();
  /** Table blocks the writer allocated: address → bytes. */
  private readonly tables: [number, number][] = [];
  private readonly t = new Translation();
  private readonly maxPages: number;
  private destroyed = false;

  constructor(
    readonly ram: GuestRam,
    private readonly pages: PageAllocator,
    private readonly codeGen: CodeGeneration,
    readonly spec: AddressSpaceSpec,
  ) {
    const firmware = spec.firmware ?? firmwareImage();
    if (firmware.length > FIRMWARE_RESERVED)
      throw new Error(
        `firmware of ${firmware.length} bytes: at most ${FIRMWARE_RESERVED} fit below the program`,
      );
    this.maxPages = Math.floor(spec.memoryBytes / FRAME);
    const tables = {
      alloc: (bytes: number) => {
        const a = pages.tryAlloc(bytes, bytes);
        if (a >= 0) this.tables.push([a, bytes]);
        return a < 0 ? (-1 as const) : asL1RA(a);
      },
    };
    const w = RadixWriter.create(ram, tables);
    if (!w) throw new OutOfL1Memory('L1 memory exhausted: no room for an L2 radix root');
    this.writer = w;
    this.regions.push({
      start: 0,
      end: FIRMWARE_RESERVED,
      perms: Perm.Read | Perm.Exec,
      name: 'firmware',
      content: firmware,
    });
    for (const s of spec.image.segments) {
      this.regions.push({
        start: s.vaddr,
        end: s.vaddr + s.memsz,
        perms: permsOf(s.flags),
        name: `segment at 0x${s.vaddr.toString(16)}`,
        content: s.bytes,
      });
    }
    for (let i = 0; i < spec.vcpus; i++) {
      const top = this.stackTop(i);
      this.regions.push({
        start: top - spec.stackBytes,
        end: top,
        perms: Perm.Read | Perm.Write,
        name: `stack of vCPU ${i}`,
        content: new Uint8Array(0),
      });
    }
    if (spec.paging === 'eager') {
      for (const r of this.regions)
        for (let a = r.start - (r.start % FRAME); a < r.end; a += FRAME) {
          const why = this.fault(a, false, false);
          if (why) throw new OutOfL1Memory(`eager load of ${r.name}: ${why}`);
        }
    }
  }

  /** Top of vCPU `i`'s stack (exclusive). */
  stackTop(i: number): number {
    return STACKS_TOP - i * this.spec.stackBytes;
  }

  /** The value of GSB element 0x0005 L1 sets for this guest. */
  partitionTable(): PartitionTableElement {
    return elementFromRoot(this.writer.root);
  }

  /** Pages mapped now. */
  get mappedPages(): number {
    return this.frames.size;
  }

  fault(l2ra: number, write: boolean, fetch: boolean): string | undefined {
    const pn = Math.floor(l2ra / FRAME);
    const pageStart = pn * FRAME;
    const perms = this.permsAt(pn);
    if (perms === 0) return 'outside the guest\u2019s memory';
    const left = this.restricted.get(pn);
    if (left !== undefined && ((write && !(left & Perm.Write)) || (fetch && !(left & Perm.Exec)))) {
      // L1 took that right away for now (it gives it back later): the vCPU retries until then.
      this.protectionFaults++;
      return undefined;
    }
    if (this.frames.has(pn) || this.shared.has(pn)) {
      if (write && !(perms & Perm.Write)) return 'store to a read-only page';
      if (fetch && !(perms & Perm.Exec)) return 'instruction fetch from a page without execute rights';
      // Mapped with these rights already: the fault was on a stale translation; run again.
      return undefined;
    }
    if (this.frames.size >= this.maxPages)
      return `guest memory limit reached (${this.maxPages} pages of ${FRAME} bytes)`;
    const frame = this.pages.tryAlloc(FRAME);
    if (frame < 0) return 'L1 memory exhausted';
    for (const r of this.regions) {
      const from = Math.max(r.start, pageStart);
      const to = Math.min(r.start + r.content.length, pageStart + FRAME);
      if (from < to)
        this.ram.u8.set(r.content.subarray(from - r.start, to - r.start), frame + (from - pageStart));
    }
    const st = this.writer.map(asL2RA(pageStart), asL1RA(frame), 12, perms);
    if (st !== MapStatus.Ok) {
      this.pages.free(frame, FRAME);
      return st === MapStatus.NoMemory ? 'L1 memory exhausted (radix tables)' : `cannot map (status ${st})`;
    }
    this.frames.set(pn, frame);
    // The frame may have held code another guest ran: cores must not run stale predecoded code.
    if (perms & Perm.Exec) invalidateCode(this.codeGen);
    if (write && !(perms & Perm.Write)) return 'store to a read-only page';
    if (fetch && !(perms & Perm.Exec)) return 'instruction fetch from a page without execute rights';
    return undefined;
  }

  read(l2ra: number, bytes: number): Uint8Array | undefined {
    return readThroughTree(this.ram, this.writer.root, l2ra, bytes, this.t, (a) =>
      this.fault(a, false, false),
    );
  }

  l1Address(l2ra: number): number {
    return resolveThroughTree(this.ram, this.writer.root, l2ra, this.t, (a) => this.fault(a, true, false));
  }

  /** L1 address of `l2ra` through the tree (no side effects), or -1. */
  translate(l2ra: number): number {
    return translateInspect(this.ram, this.writer.root, l2ra, this.t);
  }

  /**
   * Moves the page at `l2ra` to a fresh frame holding the same bytes (L1 migrating guest memory).
   * Returns the old and new frame, or why it cannot be done. The old translation stays cached in
   * the cores until L1 invalidates; the old frame stays allocated until `releaseFrame`, so the
   * caller can check nobody uses it after the invalidation.
   */
  remap(l2ra: number): { oldFrame: number; newFrame: number } | string {
    const pn = Math.floor(l2ra / FRAME);
    const oldFrame = this.frames.get(pn);
    if (oldFrame === undefined) return 'page not mapped';
    const newFrame = this.pages.tryAlloc(FRAME);
    if (newFrame < 0) return 'L1 memory exhausted';
    this.ram.u8.copyWithin(newFrame, oldFrame, oldFrame + FRAME);
    const st = this.writer.map(asL2RA(pn * FRAME), asL1RA(newFrame), 12, this.permsAt(pn));
    if (st !== MapStatus.Ok) {
      this.pages.free(newFrame, FRAME);
      return `cannot map (status ${st})`;
    }
    this.frames.set(pn, newFrame);
    this.detached.add(oldFrame);
    return { oldFrame, newFrame };
  }

  /**
   * Maps L1 frame `frame`, which this guest does not own (memory L1 shares between guests), at
   * `l2ra` with `perms`; it is never freed with the guest. False if the page is taken or the
   * tree cannot grow.
   */
  mapShared(l2ra: number, frame: number, perms: number): boolean {
    const pn = Math.floor(l2ra / FRAME);
    if (this.frames.has(pn) || this.shared.has(pn)) return false;
    if (this.writer.map(asL2RA(pn * FRAME), asL1RA(frame), 12, perms) !== MapStatus.Ok) return false;
    this.shared.set(pn, frame);
    this.regions.push({
      start: pn * FRAME,
      end: pn * FRAME + FRAME,
      perms,
      name: 'shared page',
      content: new Uint8Array(0),
    });
    return true;
  }

  /** Shared pages: L2 page number → the L1 frame (owned by whoever shared it). */
  private readonly shared = new Map<number, number>();

  /** Gives back a frame `remap` took out of the guest. */
  releaseFrame(frame: number): void {
    if (!this.detached.delete(frame)) throw new Error(`frame 0x${frame.toString(16)} was not remapped away`);
    this.pages.free(frame, FRAME);
  }

  /**
   * Sets the rights of the mapped page at `l2ra` (a subset of its region's: write-protecting a
   * page, or giving write back). False when the page is not mapped.
   */
  protect(l2ra: number, perms: number): boolean {
    const pn = Math.floor(l2ra / FRAME);
    if (!this.frames.has(pn)) return false;
    const full = this.permsAt(pn);
    if (!this.writer.protect(asL2RA(pn * FRAME), 12, perms & full)) return false;
    if ((perms & full) === full) this.restricted.delete(pn);
    else this.restricted.set(pn, perms & full);
    return true;
  }

  /** Pages L1 took rights away from (L2 page number → the rights left). */
  private readonly restricted = new Map<number, number>();
  /** Faults on a page for a right L1 took away (a store to a write-protected page …). */
  protectionFaults = 0;

  /** Unmaps the page at `l2ra` and frees its frame (a later touch maps it again, zeroed or reloaded). */
  unmap(l2ra: number): boolean {
    const pn = Math.floor(l2ra / FRAME);
    const frame = this.frames.get(pn);
    if (frame === undefined) return false;
    this.writer.unmap(asL2RA(pn * FRAME), 12);
    this.frames.delete(pn);
    this.restricted.delete(pn);
    this.detached.add(frame);
    return true;
  }

  /** The rights of the regions page `pn` lies in. */
  private permsAt(pn: number): number {
    const start = pn * FRAME;
    let perms = 0;
    for (const r of this.regions) if (r.start < start + FRAME && r.end > start) perms |= r.perms;
    return perms;
  }

  /** The L1 frame of the page at `l2ra`, or undefined when it is not mapped. */
  frameOf(l2ra: number): number | undefined {
    const pn = Math.floor(l2ra / FRAME);
    return this.frames.get(pn) ?? this.shared.get(pn);
  }

  /** Returns every frame and table to the allocator. Call after L0 deleted the guest. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const f of this.frames.values()) this.pages.free(f, FRAME);
    this.frames.clear();
    for (const f of this.detached) this.pages.free(f, FRAME);
    this.detached.clear();
    for (const [a, b] of this.tables) this.pages.free(a, b);
    this.tables.length = 0;
  }
}

/** L1 address of `l2ra` through the tree rooted at `root`, without side effects, or -1. */
export function translateInspect(ram: GuestRam, root: RadixRoot, l2ra: number, t: Translation): number {
  return partitionScopedWalk(ram, root, asL2RA(l2ra), Access.Read, INSPECT, t) ? t.l1ra : -1;
}

/** L1 address of `l2ra` through the tree, its page mapped by `fault` if need be; −1 when outside. */
export function resolveThroughTree(
  ram: GuestRam,
  root: RadixRoot,
  l2ra: number,
  t: Translation,
  fault: (l2ra: number) => string | undefined,
): number {
  const l1 = translateInspect(ram, root, l2ra, t);
  if (l1 >= 0) return l1;
  return fault(l2ra) === undefined ? translateInspect(ram, root, l2ra, t) : -1;
}

/**
 * Copies `bytes` bytes of L2 memory at `l2ra` out of L1 RAM through the guest's tree; a page that
 * is not mapped yet is mapped by `fault` (demand paging) and read again. Undefined when a page
 * cannot be mapped (outside the guest). Used by L1 on the main thread and on core threads.
 */
export function readThroughTree(
  ram: GuestRam,
  root: RadixRoot,
  l2ra: number,
  bytes: number,
  t: Translation,
  fault: (l2ra: number) => string | undefined,
): Uint8Array | undefined {
  const out = new Uint8Array(bytes);
  for (let done = 0; done < bytes; ) {
    const a = l2ra + done;
    const n = Math.min(FRAME - (a % FRAME), bytes - done);
    let l1 = translateInspect(ram, root, a, t);
    if (l1 < 0) {
      if (fault(a) !== undefined) return undefined;
      l1 = translateInspect(ram, root, a, t);
      if (l1 < 0) return undefined;
    }
    out.set(ram.u8.subarray(l1, l1 + n), done);
    done += n;
  }
  return out;
}

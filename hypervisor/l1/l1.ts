/**
 * The L1 guest hypervisor: a small KVM-like model that runs ppc64le programs as L2 guests on L0
 * through the nested-v2 hcalls, exactly in the order Linux's nestedv2 client uses them (spec §13):
 * GET/SET_CAPABILITIES once; per guest H_GUEST_CREATE (retrying H_BUSY with the continue token),
 * the partition table set guest-wide before any vCPU exists; per vCPU H_GUEST_CREATE_VCPU, the
 * output-buffer minimum read, output then input buffer registered, the initial registers set;
 * then one L1VcpuLoop per vCPU (run on whichever thread runs the vCPU); H_GUEST_DELETE when the
 * guest is over.
 *
 * The control part here runs on the coordinator; it allocates nothing on the run path.
 */
import type { ElfImage } from '../../cores/elf.js';
import type { CodeGeneration } from '../../cores/isa/predecode.js';
import type { GuestRam } from '../../mem/ram.js';
import type { TraceRecorder } from '../../src/trace/recorder.js';
import { elementByName } from '../gsb/elements.js';
import { type ElementValue, encodeGsb } from '../gsb/values.js';
import { COORDINATOR_CORE } from '../l0/partitions.js';
import { HcallRegs } from '../l0/regs.js';
import { Cap, DeleteFlags, H, Hcall, RptTarget, RptType, StateFlags } from '../papr.js';
import { AddressSpace, type Paging } from './address-space.js';
import { type AgentContext, AgentLoop } from './agent.js';
import { AGENTS } from './agents/index.js';
import { Doorbells } from './doorbells.js';
import { L1Guest } from './guest.js';
import { L, type LoopPolicy, LoopTable, NestedApi } from './loop-table.js';
import type { NestedVcpu } from './nested-vcpu.js';
import { FRAME, PageAllocator } from './page-allocator.js';
import { RunInput, RunOutput } from './run-buffers.js';
import { ownerPolicy, REFRESH_BUFFER_BYTES } from './state-refresh.js';
import { V1PartitionTable } from './v1-partition-table.js';
import { V1_HV_BYTES, V1_REGS_BYTES, V1Vcpu } from './v1-vcpu.js';
import { V2Vcpu } from './v2-vcpu.js';
import { type L0Port, L1VcpuLoop, type OwnerPolicy } from './vcpu-loop.js';
import { VirtualIrq } from './virtual-irq.js';

/** MSR of an L2 vCPU at entry: SF (64-bit), LE; real mode, not privileged-off (docs/guests.md). */
const L2_MSR = 0x8000_0000_0000_0001n;
/** LPCR: ILE (interrupts little-endian), AIL = 0 (vectors at 0). */
const L2_LPCR = 0x0200_0000n;
/** HFSCR: every facility the L1 may grant. */
const L2_HFSCR = 0xffffn;
/** HFSCR[MSGP]: withheld when L1 emulates doorbells among the guest's SMT siblings. */
const HFSCR_MSGP = 1n << 10n;

/** The HFSCR L1 gives the guest's vCPUs. */
const hfscrFor = (spec: GuestSpec) =>
  (spec.policy?.doorbellThreads ?? 0) > 0 ? L2_HFSCR & ~HFSCR_MSGP : L2_HFSCR;
/** DEC far in the future (EE is 0 anyway). */
const FAR_DEC = 0x4000_0000_0000_0000n;

/** Where a v1 vCPU's pt_regs sits in its frame (its hv_guest_state is at the frame's start). */
const V1_REGS_AT = 0x400;

/** Bytes of each run buffer L1 registers (Linux rounds its buffers to a power of two, ≈4 KiB). */
const RUN_BUFFER_BYTES = 4096;

/** An agent to run (hypervisor/l1/agent.ts; stress). */
export interface AgentSpec {
  name: string;
  kind: number;
  seed: number;
  iterations: number;
  /** The guest it works on (0: none) and an argument of its own. */
  target: number;
  arg: number;
  /** Bytes of L1 memory of its own (state buffers); default one frame. */
  scratchBytes?: number;
}

/** An agent as L1 keeps it. */
export interface L1Agent {
  readonly name: string;
  readonly entry: number;
  readonly scratch: number;
  readonly scratchBytes: number;
  /** For the deterministic mode (cores make their own from the loop table). */
  readonly loop: AgentLoop;
}

/** vCPU loops L1 can run at once (entries of its loop table). */
export const DEFAULT_LOOP_CAPACITY = 1024;

/** A refused hcall on L1's control path: L1 cannot go on with this guest. */
export class L1Error extends Error {}

/** One guest to create. */
export interface GuestSpec {
  name: string;
  image: ElfImage;
  vcpus: number;
  memoryBytes: number;
  paging: Paging;
  stackBytes?: number;
  /** L1's time slice per run in timebase ticks (0: only L0's slices). */
  hdecTicks?: number;
  /**
   * Stress: the owner's full-state refresh every N entries, an external interrupt pending (run
   * flag) every M, one raised on L1's virtual interrupt source (LPCR[MER]) every `irqEvery`, with
   * test-only L1 bugs `irqBugs` (virtual-irq.ts IrqBug); doorbell emulation among SMT siblings.
   */
  policy?: {
    refreshEvery: number;
    pendingEvery: number;
    irqEvery?: number;
    irqBugs?: number;
    /** L1 emulates msgsndp/msgclrp among SMT siblings of this many threads (doorbells.ts). */
    doorbellThreads?: number;
    doorbellBugs?: number;
    /** Test-only L1 bugs of the VPA path (vcpu-loop.ts VpaBug). */
    vpaBugs?: number;
  };
  /** The image at L2 real address 0 instead of the shipped firmware (AddressSpaceSpec.firmware). */
  firmware?: Uint8Array;
}

/** The L1 hypervisor. */
export class L1 {
  readonly pages: PageAllocator;
  private readonly regs = new HcallRegs();
  /** A page of L1 memory for the control path's state buffers. */
  private readonly scratch: number;
  /** Every guest L1 made, deleted ones included (reports). */
  readonly guests: L1Guest[] = [];
  /** The guests not deleted yet (what schedulers walk; kept short under guest churn). */
  live: L1Guest[] = [];
  /** Every vCPU loop L1 runs, in shared memory (cores rebuild loops from it). */
  readonly loops: LoopTable;
  /** Called with a guest when L0 deleted it, just before L1 frees its memory (stress checks). */
  onGuestOver: ((g: L1Guest) => void) | undefined;
  /** Agents not yet reclaimed (running, or finished with a core still holding them). */
  agents: L1Agent[] = [];
  /** Invariants agents stepped on this thread saw broken (the deterministic mode). */
  readonly violations: string[] = [];
  /** Recorder for the loops L1 makes on this thread (the deterministic mode's core 0), or null. */
  trace: TraceRecorder | null = null;

  /** Under v1: L1's partition table, registered with L0 (H_SET_PARTITION_TABLE). */
  private readonly v1Table: V1PartitionTable | undefined;

  constructor(
    readonly port: L0Port,
    readonly ram: GuestRam,
    readonly codeGen: CodeGeneration,
    /** Region of L1 RAM this L1 may hand out (the rest is its "kernel"). */
    region: { base: number; bytes: number },
    loopCapacity = DEFAULT_LOOP_CAPACITY,
    /** The nested API this L1 uses: v2 (H_GUEST_*, state in L0) or v1 (H_ENTER_NESTED, state in L1). */
    readonly api: NestedApi = NestedApi.V2,
  ) {
    this.loops = LoopTable.create(loopCapacity);
    this.pages = new PageAllocator(ram, region.base, region.bytes);
    this.scratch = this.pages.alloc(FRAME);
    if (api === NestedApi.V2) this.negotiate();
    else {
      try {
        this.v1Table = new V1PartitionTable(port, ram, this.pages, COORDINATOR_CORE);
      } catch (e) {
        throw new L1Error((e as Error).message);
      }
    }
  }

  /** GET_CAPABILITIES, then SET_CAPABILITIES with the newest mode offered (spec §5.1, §5.2). */
  private negotiate(): void {
    const r = this.call(Hcall.H_GUEST_GET_CAPABILITIES, 0n);
    if (r !== H.SUCCESS) throw new L1Error(`H_GUEST_GET_CAPABILITIES failed (${r}): L0 offers no nested v2`);
    const offered = this.regs.big(4);
    const modes = [Cap.POWER11, Cap.POWER10, Cap.POWER9];
    const mode = modes.find((m) => (offered & m) !== 0n);
    if (mode === undefined) throw new L1Error('L0 offers no POWER9/10/11 mode');
    const s = this.call(Hcall.H_GUEST_SET_CAPABILITIES, 0n, mode);
    if (s !== H.SUCCESS) throw new L1Error(`H_GUEST_SET_CAPABILITIES failed (${s})`);
  }

  /** Creates a guest with its memory, vCPUs and loops; it is ready to run. */
  createGuest(spec: GuestSpec): L1Guest {
    return this.api === NestedApi.V2 ? this.createV2Guest(spec) : this.createV1Guest(spec);
  }

  /**
   * A guest under v1 (spec §14): no creation hcall (L0 makes the L2 on its first H_ENTER_NESTED);
   * L1 writes the guest's partition-table entry, and keeps each vCPU's whole state in an
   * hv_guest_state and a pt_regs of its own memory, passed on every entry.
   */
  private createV1Guest(spec: GuestSpec): L1Guest {
    const table = this.v1Table!;
    const lpid = table.allocLpid();
    if (lpid < 0) throw new L1Error(`all ${table.entries - 1} v1 LPIDs in use`);
    let space: AddressSpace | undefined;
    const buffers: [number, number][] = [];
    const guestEntries: number[] = [];
    try {
      space = this.addressSpace(spec);
      table.set(lpid, space.writer.root, COORDINATOR_CORE);
      const guest = new L1Guest(lpid, spec.name, spec.vcpus, space, guestEntries);
      for (let v = 0; v < spec.vcpus; v++) {
        const frame = this.pages.alloc(FRAME);
        buffers.push([frame, FRAME]);
        const regs = frame + V1_REGS_AT;
        const top = space.stackTop(v);
        const vcpu = V1Vcpu.create(this.port, this.ram, frame, regs, lpid, v, {
          nia: BigInt(spec.image.entry),
          msr: L2_MSR,
          lpcr: L2_LPCR,
          hfscr: hfscrFor(spec),
          gprs: { 1: BigInt(top - 64), 3: BigInt(v), 4: BigInt(spec.vcpus), 12: BigInt(spec.image.entry) },
        });
        const loop = this.addLoop(guest, v, vcpu, space, spec, {
          inAddr: frame,
          inBytes: V1_HV_BYTES,
          outAddr: regs,
          outBytes: V1_REGS_BYTES,
          api: NestedApi.V1,
        });
        guest.loops.push(loop);
      }
      return this.adopt(guest, buffers);
    } catch (e) {
      this.abandon(guestEntries, space, buffers, () => table.clear(lpid, COORDINATOR_CORE));
      throw e;
    }
  }

  /** A guest made whole: L1's from now on. */
  private adopt(guest: L1Guest, buffers: [number, number][]): L1Guest {
    guest.buffers.push(...buffers);
    this.guests.push(guest);
    this.live.push(guest);
    return guest;
  }

  /** Undoes a creation that failed half-way: loop entries, L0's side (`dropInL0`), memory. */
  private abandon(
    entries: number[],
    space: AddressSpace | undefined,
    buffers: [number, number][],
    dropInL0: () => void,
  ): void {
    for (const entry of entries) this.loops.free(entry);
    dropInL0();
    space?.destroy();
    for (const [a, b] of buffers) this.pages.free(a, b);
  }

  /** The guest's memory as `spec` asks. */
  private addressSpace(spec: GuestSpec): AddressSpace {
    return new AddressSpace(this.ram, this.pages, this.codeGen, {
      image: spec.image,
      vcpus: spec.vcpus,
      memoryBytes: spec.memoryBytes,
      stackBytes: spec.stackBytes ?? 0x4_0000,
      paging: spec.paging,
      ...(spec.firmware ? { firmware: spec.firmware } : {}),
    });
  }

  /** Records vCPU `v`'s loop in the loop table and makes it (for the deterministic mode). */
  private addLoop(
    guest: L1Guest,
    v: number,
    vcpu: NestedVcpu,
    space: AddressSpace,
    spec: GuestSpec,
    at: { inAddr: number; inBytes: number; outAddr: number; outBytes: number; api: NestedApi },
  ): L1VcpuLoop {
    const hdecTicks = spec.hdecTicks ?? 0;
    let policy: LoopPolicy | undefined;
    const sp = spec.policy;
    const irqEvery = sp?.irqEvery ?? 0;
    const doorbellThreads = sp?.doorbellThreads ?? 0;
    if (
      sp &&
      (sp.refreshEvery > 0 ||
        sp.pendingEvery > 0 ||
        irqEvery > 0 ||
        doorbellThreads > 0 ||
        (sp.vpaBugs ?? 0) > 0)
    ) {
      let refreshAddr = 0;
      if (sp.refreshEvery > 0) {
        refreshAddr = this.pages.alloc(REFRESH_BUFFER_BYTES);
        guest.buffers.push([refreshAddr, REFRESH_BUFFER_BYTES]);
      }
      policy = {
        refreshEvery: sp.refreshEvery,
        pendingEvery: sp.pendingEvery,
        refreshAddr,
        refreshBytes: refreshAddr === 0 ? 0 : REFRESH_BUFFER_BYTES,
        irqEvery,
        irqFlags: sp.irqBugs ?? 0,
        lpcrHi: 0,
        lpcrLo: Number(L2_LPCR),
        doorbellThreads,
        doorbellFlags: sp.doorbellBugs ?? 0,
        vpaFlags: sp.vpaBugs ?? 0,
      };
    }
    const entry = this.loops.add({
      guestId: guest.id,
      vcpuId: v,
      hdecTicks,
      root: space.writer.root,
      ...at,
      ...(policy ? { policy } : {}),
    });
    if (entry < 0) throw new L1Error(`L1 runs at most ${this.loops.capacity} vCPUs at once`);
    guest.entries.push(entry);
    const owner: OwnerPolicy | null = policy
      ? ownerPolicy(this.port, this.ram, policy, guest.id, v, {
          irq: irqEvery > 0 ? new VirtualIrq(this.loops, entry) : null,
          doorbells: doorbellThreads > 0 ? new Doorbells(this.loops, entry, guest.id, v) : null,
        })
      : null;
    return new L1VcpuLoop(
      (core) => this.port.timebase(core),
      guest.id,
      v,
      vcpu,
      space,
      guest,
      hdecTicks,
      this.loops,
      entry,
      this.trace,
      owner,
    );
  }

  /** A guest under v2 (spec §13's sequence). */
  private createV2Guest(spec: GuestSpec): L1Guest {
    const id = this.createPartition();
    let space: AddressSpace | undefined;
    const buffers: [number, number][] = [];
    const guestEntries: number[] = [];
    try {
      space = this.addressSpace(spec);
      this.setState(id, 0, { PARTITION_TABLE: space.partitionTable() }, true);
      const guest = new L1Guest(id, spec.name, spec.vcpus, space, guestEntries);
      for (let v = 0; v < spec.vcpus; v++) {
        this.check(
          this.call(Hcall.H_GUEST_CREATE_VCPU, 0n, BigInt(id), BigInt(v)),
          `H_GUEST_CREATE_VCPU ${v}`,
        );
        const min = Number(this.getGuestU64(id, v, 'RUN_OUTPUT_MIN_SIZE'));
        const outBytes = Math.max(min, RUN_BUFFER_BYTES);
        const out = this.pages.alloc(outBytes);
        const inp = this.pages.alloc(RUN_BUFFER_BYTES);
        buffers.push([out, outBytes], [inp, RUN_BUFFER_BYTES]);
        const top = space.stackTop(v);
        this.setState(id, v, {
          RUN_OUTPUT: { address: BigInt(out), bytes: BigInt(outBytes) },
          RUN_INPUT: { address: BigInt(inp), bytes: BigInt(RUN_BUFFER_BYTES) },
          NIA: BigInt(spec.image.entry),
          MSR: L2_MSR,
          LPCR: L2_LPCR,
          HFSCR: hfscrFor(spec),
          DEC_EXPIRY_TB: FAR_DEC,
          GPR1: BigInt(top - 64),
          GPR3: BigInt(v),
          GPR4: BigInt(spec.vcpus),
          GPR12: BigInt(spec.image.entry),
        });
        const vcpu = new V2Vcpu(
          this.port,
          id,
          v,
          new RunInput(this.ram, inp, RUN_BUFFER_BYTES),
          new RunOutput(this.ram, out, outBytes),
        );
        const loop = this.addLoop(guest, v, vcpu, space, spec, {
          inAddr: inp,
          inBytes: RUN_BUFFER_BYTES,
          outAddr: out,
          outBytes,
          api: NestedApi.V2,
        });
        guest.loops.push(loop);
      }
      return this.adopt(guest, buffers);
    } catch (e) {
      this.abandon(guestEntries, space, buffers, () => this.call(Hcall.H_GUEST_DELETE, 0n, BigInt(id)));
      throw e;
    }
  }

  /**
   * Deletes a guest in L0 and returns its memory to L1; its vCPUs may still be running (L0 stops
   * them before H_GUEST_DELETE returns). The run buffers and loop table entries wait until no core
   * is stepping one of its loops any more (`reclaim`): a core that just left RUN_VCPU still writes
   * the input buffer's header once.
   */
  deleteGuest(g: L1Guest): void {
    if (g.deleted) return;
    g.stop('deleted by L1 while running');
    if (this.v1Table) this.v1Table.clear(g.id, COORDINATOR_CORE);
    else
      for (let tries = 0; ; tries++) {
        const rc = this.call(Hcall.H_GUEST_DELETE, 0n, BigInt(g.id));
        if (rc === H.SUCCESS) break;
        if (rc !== H.BUSY || tries > 1000)
          throw new L1Error(`H_GUEST_DELETE of guest ${g.id} failed (${rc})`);
      }
    this.forget(g);
  }

  /** L1's side of a guest L0 no longer has: results read, memory back, run buffers queued. */
  private forget(g: L1Guest): void {
    g.deleted = true;
    g.deletedAt = performance.now();
    // Its memory is still there (L0 let go of it): whoever wants its results reads them now.
    this.onGuestOver?.(g);
    this.live = this.live.filter((x) => x !== g);
    g.space.destroy();
    this.zombies.push(g);
    this.reclaim();
  }

  /** Starts an agent (stress): an L1 vCPU doing hcalls of its own, on whichever core it is placed. */
  addAgent(spec: AgentSpec): L1Agent {
    const factory = AGENTS.get(spec.kind);
    if (!factory) throw new L1Error(`no agent of kind ${spec.kind}`);
    const scratchBytes = Math.ceil((spec.scratchBytes ?? FRAME) / FRAME) * FRAME;
    const scratch = this.pages.alloc(scratchBytes);
    const entry = this.loops.add({
      guestId: spec.target,
      vcpuId: this.agentCount++,
      inAddr: scratch,
      inBytes: scratchBytes,
      outAddr: 0,
      outBytes: 0,
      hdecTicks: 0,
      root: { base: 0, addrBits: 0, rootBits: 0 },
      api: NestedApi.AGENT,
      agent: { kind: spec.kind, seed: spec.seed, iterations: spec.iterations, arg: spec.arg },
    });
    if (entry < 0) {
      this.pages.free(scratch, scratchBytes);
      throw new L1Error(`L1 runs at most ${this.loops.capacity} loops at once`);
    }
    const agent = factory(agentContext(this.loops, entry, this.port, this.ram, (v) => this.violation(v)));
    const a: L1Agent = {
      name: spec.name,
      entry,
      scratch,
      scratchBytes,
      loop: new AgentLoop(agent, spec.target, this.loops.get(entry, L.VCPU_ID), this.loops, entry),
    };
    this.agents.push(a);
    return a;
  }

  /** Records a broken invariant seen on this thread. */
  violation(what: string): void {
    if (this.violations.length < 100) this.violations.push(what);
  }

  private agentCount = 0;

  /**
   * Deletes every guest at once (H_GUEST_DELETE with the delete-all flag, spec §5.7; v1: each
   * partition-table entry cleared), running or not, and returns their memory to L1.
   */
  deleteAllGuests(): void {
    const victims = [...this.live];
    for (const g of victims) g.stop('deleted by L1 (delete-all) while running');
    if (this.v1Table) for (const g of victims) this.v1Table.clear(g.id, COORDINATOR_CORE);
    else {
      const rc = this.call(Hcall.H_GUEST_DELETE, DeleteFlags.ALL);
      if (rc !== H.SUCCESS) throw new L1Error(`H_GUEST_DELETE (all) failed (${rc})`);
    }
    for (const g of victims) this.forget(g);
  }

  /** Frees the run buffers and loop entries of deleted guests and finished agents no core holds. */
  reclaim(): void {
    this.agents = this.agents.filter((a) => {
      if (!this.loops.isDone(a.entry) || this.loops.runner(a.entry) >= 0) return true;
      this.loops.free(a.entry);
      this.pages.free(a.scratch, a.scratchBytes);
      return false;
    });
    this.zombies = this.zombies.filter((g) => {
      if (g.entries.some((e) => this.loops.runner(e) >= 0)) return true;
      for (const entry of g.entries) this.loops.free(entry);
      for (const [a, b] of g.buffers) this.pages.free(a, b);
      g.buffers.length = 0;
      return false;
    });
  }

  /** Deleted guests whose buffers are not back yet. */
  private zombies: L1Guest[] = [];

  /**
   * Drops every translation of guest `g` from every core: H_RPT_INVALIDATE with type NESTED (spec
   * §14.6), the v2 API's partition-scoped invalidation. When it returns, no core uses a
   * translation older than L1's latest change to the guest's tree.
   */
  invalidate(g: L1Guest): void {
    // v1: a tlbie of every translation of the LPID (H_TLB_INVALIDATE IS=2, spec §14.4).
    if (this.v1Table) {
      this.v1Table.flushAll(g.id, COORDINATOR_CORE);
      return;
    }
    const rc = this.call(
      Hcall.H_RPT_INVALIDATE,
      BigInt(g.id),
      BigInt(RptTarget.CMMU),
      BigInt(RptType.NESTED | RptType.TLB | RptType.PWC | RptType.PRT),
      -1n,
      0n,
      -1n,
    );
    this.check(rc, `H_RPT_INVALIDATE of guest ${g.id}`);
  }

  /**
   * Moves one page of `g` to a fresh frame and invalidates (L1 migrating guest memory). Returns the
   * frame the page left, still allocated: give it back with `g.space.releaseFrame`.
   */
  remapPage(g: L1Guest, l2ra: number): { oldFrame: number; newFrame: number } {
    const r = g.space.remap(l2ra);
    if (typeof r === 'string') throw new L1Error(`remap of L2 page 0x${l2ra.toString(16)}: ${r}`);
    this.invalidate(g);
    return r;
  }

  /** H_GUEST_CREATE, retrying H_BUSY with the continue token as Linux does. */
  private createPartition(): number {
    let token = -1n;
    for (let tries = 0; tries < 1000; tries++) {
      const rc = this.call(Hcall.H_GUEST_CREATE, 0n, token);
      if (rc === H.SUCCESS) return Number(this.regs.big(4));
      if (rc !== H.BUSY) throw new L1Error(`H_GUEST_CREATE failed (${rc})`);
      token = this.regs.big(4);
    }
    throw new L1Error('H_GUEST_CREATE stayed busy');
  }

  /** SET_STATE of named elements through the scratch page. */
  private setState(
    guestId: number,
    vcpuId: number,
    values: Record<string, ElementValue>,
    wide = false,
  ): void {
    const e = encodeGsb(
      Object.entries(values).map(([name, value]) => ({ id: elementByName(name)!.id, value })),
    );
    if (!e.ok) throw new L1Error(`state buffer: ${e.reason}`);
    this.ram.u8.set(e.bytes, this.scratch);
    const rc = this.call(
      Hcall.H_GUEST_SET_STATE,
      wide ? StateFlags.GUEST_WIDE : 0n,
      BigInt(guestId),
      BigInt(vcpuId),
      BigInt(this.scratch),
      BigInt(FRAME),
    );
    this.check(rc, `H_GUEST_SET_STATE ${Object.keys(values).join(',')}`);
  }

  /** GET_STATE of one 8-byte guest-wide element (Linux passes the vCPU id too). */
  private getGuestU64(guestId: number, vcpuId: number, name: string): bigint {
    const id = elementByName(name)!.id;
    const dv = this.ram.dv;
    dv.setUint32(this.scratch, 1);
    dv.setUint16(this.scratch + 4, id);
    dv.setUint16(this.scratch + 6, 8);
    const rc = this.call(
      Hcall.H_GUEST_GET_STATE,
      StateFlags.GUEST_WIDE,
      BigInt(guestId),
      BigInt(vcpuId),
      BigInt(this.scratch),
      BigInt(FRAME),
    );
    this.check(rc, `H_GUEST_GET_STATE ${name}`);
    return dv.getBigUint64(this.scratch + 8);
  }

  private check(rc: number, what: string): void {
    if (rc !== H.SUCCESS) throw new L1Error(`${what} failed (${rc})`);
  }

  /** One hcall from L1's control path (the coordinator, core −1 is never a core: use 0). */
  private call(opcode: number, ...args: bigint[]): number {
    const r = this.regs;
    r.clear();
    r.setInt(3, opcode);
    args.forEach((a, i) => {
      r.setBig(4 + i, a);
    });
    return this.port.hcall(r, COORDINATOR_CORE);
  }
}

/** The context of the agent of loop-table entry `e` (any thread: everything comes from the table). */
export function agentContext(
  t: LoopTable,
  e: number,
  port: L0Port,
  ram: GuestRam,
  violation: (what: string) => void,
): AgentContext {
  return {
    port,
    ram,
    scratch: t.get(e, L.IN_ADDR) >>> 0,
    scratchBytes: t.get(e, L.IN_BYTES),
    target: t.get(e, L.GUEST_ID),
    index: t.get(e, L.VCPU_ID),
    seed: t.get(e, L.AGENT_SEED),
    iterations: t.get(e, L.AGENT_ITERATIONS),
    arg: t.get(e, L.AGENT_ARG),
    violation,
  };
}

/**
 * One L1 vCPU loop, as KVM runs it for each L2 vCPU: H_GUEST_RUN_VCPU, handle the exit, run again.
 * `step(core)` does one round trip and may run on any thread that can reach L0's per-vCPU fast path
 * (the deterministic scheduler calls it on the main thread; the multicore runtime on the core
 * worker that executes the vCPU). It talks to L0 only through hcalls with buffers in L1 memory.
 *
 * Exit handlers (issue: the L1 model):
 *   0x000 stopped by L0 (time slice over, guest being deleted) → run again;
 *   0x980 HDEC (L1's own time slice)                            → yield to other vCPUs;
 *   0xC00 hcall from L2: NS_SYSCALL write/exit/exit_group, H_PUT_TERM_CHAR, H_CEDE (yield), NS_CRASH
 *         (report), H_XIRR (L1's virtual interrupt source, when the stress policy gives the vCPU
 *         one: virtual-irq.ts), anything else → H_FUNCTION as a real L1 answers unknown hcalls;
 *   0xE00/0xE20 partition-scoped fault → demand paging, or a report when outside the guest;
 *   0xE40 HEAI → report the instruction; anything else → report the vector.
 * Results for L2 (GPR3/GPR4 of a served hcall) are queued for the next entry (NestedVcpu.setGpr:
 * under v2 the run input buffer, the way Linux's nestedv2 client sends dirty registers).
 *
 * The loop keeps no state of its own between steps: the vCPU's in L1 memory (NestedVcpu), whether
 * it is finished in L1's loop table. So the multicore runtime can rebuild it on another core.
 */
import { Facility } from '../../cores/isa/cpu.js';
import { disasm } from '../../cores/isa/decode.js';
import type { GuestRam } from '../../mem/ram.js';
import { HcallLevel } from '../../src/trace/layout.js';
import { type TraceRecorder, wallMicros } from '../../src/trace/recorder.js';
import type { HcallRegs } from '../l0/regs.js';
import { bumpDispatch, LPPACA_SIZE, LPPACA_YIELD_COUNT, VPA_MIN_BYTES } from '../lppaca.js';
import { H, Hcall, NestsimHcall, Vector } from '../papr.js';
import { type Doorbells, MSGCLRP_XO, MSGSNDP_XO } from './doorbells.js';
import { L, type LoopTable, RunRequest } from './loop-table.js';
import type { NestedVcpu } from './nested-vcpu.js';
import { FLOOD_LIMIT, type VirtualIrq } from './virtual-irq.js';

/** How L1 reaches L0: an hcall with PAPR register semantics, on behalf of core `core`. */
export interface L0Port {
  hcall(r: HcallRegs, core: number): number;
  /** L1 timebase of core `core` now (what `mftb` would read in L1). */
  timebase(core: number): number;
}

/** What the loop needs from the L2's memory, as L1 manages it (hypervisor/l1/ address space). */
export interface GuestMemory {
  /**
   * Makes the page of L2 real address `l2ra` accessible after a partition-scoped fault (demand
   * paging). Returns undefined when done (run again), or why the access cannot be satisfied.
   */
  fault(l2ra: number, write: boolean, fetch: boolean): string | undefined;
  /** Copies `bytes` bytes of L2 memory at `l2ra` (mapping pages on demand); undefined if outside. */
  read(l2ra: number, bytes: number): Uint8Array | undefined;
  /** The L1 address of L2 real address `l2ra` (its page mapped on demand), or −1 if outside. */
  l1Address(l2ra: number): number;
  /** L1 memory (where L1 writes structures it shares with the L2, such as its VPA). */
  readonly ram: GuestRam;
}

/** What the loop reports to the guest it belongs to. */
export interface GuestEvents {
  console(fd: number, bytes: Uint8Array): void;
  /** The vCPU called exit(code). */
  vcpuExit(vcpuId: number, code: number): void;
  /** The vCPU called exit_group(code): the whole guest ends. */
  groupExit(vcpuId: number, code: number): void;
  /** The vCPU cannot continue; `report` says why in one line. */
  failed(vcpuId: number, report: string): void;
  /** Counts one exit of vCPU `vcpuId` by vector, and one L2 hcall by number when vector is 0xC00. */
  exit(vcpuId: number, vector: number, l2hcall: number): void;
  /** An invariant the L1 checks broke (stress checks); `what` in one line. */
  violation(what: string): void;
}

/**
 * What the L1 does with its own vCPU between entries besides running it (stress policies): a
 * full-state refresh every `refreshEvery` entries, an external interrupt made pending (run flag)
 * every `pendingEvery` entries, one raised on L1's virtual interrupt source (delivered through
 * LPCR[MER], taken by L2 with H_XIRR) every `irqEvery` entries; 0 turns one off.
 */
export interface OwnerPolicy {
  refreshEvery: number;
  /** One refresh on core `core`: undefined when it went as it must, else what broke. */
  refresh(core: number): string | undefined;
  pendingEvery: number;
  irqEvery: number;
  /** The vCPU's virtual interrupt source (null: L1 has none for it, H_XIRR is unknown). */
  irq: VirtualIrq | null;
  /** L1's doorbell emulation for the vCPU (null: msgsndp/msgclrp exits are not expected). */
  doorbells: Doorbells | null;
}

/** Outcome of one step. */
export const Step = {
  /** Run it again soon. */
  RUN: 0,
  /** The vCPU gave the core up (HDEC, H_CEDE, L0 busy): schedule others first. */
  YIELD: 1,
  /** The vCPU is finished (exited or failed). */
  DONE: 2,
} as const;
export type Step = (typeof Step)[keyof typeof Step];

/** Linux syscall numbers (powerpc64) the L1 serves, and errno values it answers. */
const Sys = { EXIT: 1, WRITE: 4, EXIT_GROUP: 234 } as const;
const Errno = { EBADF: 9, EFAULT: 14, ENOSYS: 38, EINVAL: 22 } as const;
/** Largest write the L1 copies in one syscall (Linux caps a write at 0x7ffff000 bytes; a console less). */
const MAX_WRITE = 1 << 20;

const hex = (v: number) => `0x${v.toString(16)}`;
/** H_REGISTER_VPA: the subfunction is flags bits 16:18 (IBM), i.e. (flags >> 45) & 7. */
const VPA_FUNC_SHIFT = 45;
const VpaFunc = { REGISTER: 1, DEREGISTER: 5 } as const;

/** Test-only L1 bugs of the VPA path (L.VPA_FLAGS bits). */
export const VpaBug = {
  /** Deregistration answers H_SUCCESS but L1 forgets it: the old VPA goes on being counted. */
  KEEP_AFTER_DEREGISTER: 1,
} as const;

/** Whether `word` is msgsndp or msgclrp (primary opcode 31 and their XO). */
function isDoorbellInstruction(word: number): boolean {
  const xo = (word >>> 1) & 0x3ff;
  return word >>> 26 === 31 && (xo === MSGSNDP_XO || xo === MSGCLRP_XO);
}

/** The L1 vCPU loop of one L2 vCPU. */
export class L1VcpuLoop {
  constructor(
    private readonly timebase: (core: number) => number,
    readonly guestId: number,
    readonly vcpuId: number,
    private readonly vcpu: NestedVcpu,
    private readonly mem: GuestMemory,
    private readonly events: GuestEvents,
    /** L1's time slice in timebase ticks (HDEC), or 0 for none (L0's slices only). */
    private readonly hdecTicks: number,
    /** Where L1 records that this loop is finished, and the loop's entry there. */
    private readonly table: LoopTable,
    readonly entry: number,
    /** The recorder of the core the loop runs on when the run is traced (L2→L1 hcalls). */
    private readonly trace: TraceRecorder | null = null,
    /** Stress: what L1 also does with the vCPU between entries. */
    private readonly policy: OwnerPolicy | null = null,
  ) {}

  /** Status of the last hcall L1 answered for L2 (what the trace records). */
  private answered = 0;

  /** True once the vCPU exited or failed, or L1 stopped it. */
  get done(): boolean {
    return this.table.isDone(this.entry);
  }

  /** Marks the loop finished (its next step does nothing). */
  finish(): void {
    this.table.markDone(this.entry);
  }

  /** One entry into the L2 vCPU and the handling of its exit, on core `core`. */
  step(core: number): Step {
    if (this.done) return Step.DONE;
    const v = this.vcpu;
    // Counted in the loop table: it moves with the loop, and the stress watchdog reads it.
    const n = this.table.countStep(this.entry);
    if (this.policy !== null) this.applyPolicy(this.policy, core, n);
    if (this.hdecTicks > 0) v.setHdecExpiry(this.timebase(core) + this.hdecTicks);
    const requests = this.table.runRequests(this.entry);
    if (requests & RunRequest.EXTERNAL) v.requestExternal?.();
    // v1: L1 keeps the L2's dispatch count, +1 as it enters and +1 as it leaves (even while in).
    const vpa = v.l0KeepsDispatchCount ? -1 : this.table.vpa(this.entry);
    if (vpa >= 0) bumpDispatch(this.mem.ram, vpa);
    const rc = v.enter(core);
    if (vpa >= 0) bumpDispatch(this.mem.ram, vpa);
    if (rc === H.BUSY) return Step.YIELD; // another core holds it: what was queued stays queued
    if (requests !== 0) this.table.setRunRequests(this.entry, requests, false);
    // L1 itself may have ended the loop meanwhile (exit_group on another vCPU, guest deleted).
    if (this.done) return Step.DONE;
    if (rc !== H.SUCCESS) return this.fail(`entering the L2 vCPU failed with ${rc}`);
    const vector = v.vector;
    if (v.exitError) return this.fail(`malformed exit data: ${v.exitError}`);
    const o = v.exit;
    const l2hcall = vector === Vector.SYSTEM_CALL ? o.gprLo(3) : -1;
    this.events.exit(this.vcpuId, vector, l2hcall);
    if (l2hcall !== Hcall.H_XIRR) this.policy?.irq?.progress();
    switch (vector) {
      case Vector.STOPPED:
        return Step.RUN;
      case Vector.HV_DECREMENTER:
        return Step.YIELD;
      case Vector.SYSTEM_CALL: {
        const tr = this.trace;
        if (tr === null) return this.hcallFromL2(core);
        const w0 = wallMicros();
        this.answered = H.SUCCESS;
        const st = this.hcallFromL2(core);
        const tb = this.timebase(core);
        tr.hcall(
          HcallLevel.L2_TO_L1,
          this.guestId,
          this.vcpuId,
          o.gprLo(3),
          this.answered,
          tb,
          tb,
          w0,
          wallMicros(),
        );
        return st;
      }
      case Vector.HV_DATA_STORAGE:
      case Vector.HV_INSTRUCTION_STORAGE:
        return this.storageFault(vector);
      case Vector.HV_FACILITY_UNAVAILABLE:
        return this.facilityUnavailable(core);
      case Vector.HV_EMULATION_ASSIST: {
        const word = o.heirLo >>> 0;
        // v1: L0 never grants MSGP to L1, so the L2's msgsndp/msgclrp arrive as HEAI (spec §14.3).
        if (this.policy?.doorbells && isDoorbellInstruction(word)) return this.emulateDoorbell(word, core);
        return this.fail(
          `illegal instruction 0x${word.toString(16).padStart(8, '0')} (${disasm(word)}) at NIA ${this.nia()}`,
        );
      }
      default:
        return this.fail(`unexpected exit ${hex(vector)} at NIA ${this.nia()}`);
    }
  }

  /** The owner's policy before an entry (the entry count lives in the loop table: it moves with the loop). */
  private applyPolicy(p: OwnerPolicy, core: number, n: number): void {
    if (p.refreshEvery > 0 && n % p.refreshEvery === 0) {
      const why = p.refresh(core);
      if (why !== undefined) this.events.violation(`guest ${this.guestId} vCPU ${this.vcpuId}: ${why}`);
    }
    if (p.pendingEvery > 0 && n % p.pendingEvery === 0)
      this.table.setRunRequests(this.entry, RunRequest.EXTERNAL, true);
    if (p.irq !== null) {
      if (p.irqEvery > 0 && n % p.irqEvery === 0) p.irq.raise();
      p.irq.sync(this.vcpu);
    }
    p.doorbells?.sync(this.vcpu);
  }

  /** 0xF80: a facility L1 withheld: MSGP is emulated when L1 keeps doorbells for the vCPU. */
  private facilityUnavailable(core: number): Step {
    const o = this.vcpu.exit;
    const facility = o.hfscrHi >>> 24;
    if (facility !== Facility.MSGP || this.policy?.doorbells == null)
      return this.fail(`hypervisor facility ${facility} unavailable at NIA ${this.nia()}`);
    const bytes = this.mem.read(o.niaHi * 4294967296 + (o.niaLo >>> 0), 4);
    if (!bytes) return this.fail(`msgsndp/msgclrp exit at NIA ${this.nia()}: the instruction cannot be read`);
    const word = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
    if (!isDoorbellInstruction(word))
      return this.fail(`facility MSGP unavailable for ${disasm(word)} at NIA ${this.nia()}`);
    return this.emulateDoorbell(word, core);
  }

  /** Emulates msgsndp/msgclrp `word` at the exit's NIA (RB from L0); L2 goes on after it. */
  private emulateDoorbell(word: number, core: number): Step {
    const o = this.vcpu.exit;
    const rb = this.vcpu.readGpr((word >>> 11) & 31, core);
    if (rb === undefined) return this.fail(`msgsndp/msgclrp at NIA ${this.nia()}: L0 would not give RB`);
    this.policy!.doorbells!.emulate((word >>> 1) & 0x3ff, rb.lo);
    const niaHi = o.niaHi;
    const next = ((o.niaLo >>> 0) + 4) >>> 0;
    this.vcpu.setNia(next === 0 ? niaHi + 1 : niaHi, next | 0);
    return Step.RUN;
  }

  /** H_XIRR from L2's external interrupt handler: which interrupt is pending (0: none). */
  private xirr(): Step {
    const irq = this.policy?.irq ?? null;
    if (irq === null) return this.answer(H.FUNCTION, 0);
    const a = irq.accept();
    if (a.flooded) {
      const why = `guest ${this.guestId} vCPU ${this.vcpuId}: ${FLOOD_LIMIT} external interrupts in a row and nothing else (${irq.spurious} with none pending in all): flooded, stopped`;
      this.events.violation(why);
      return this.fail(why);
    }
    return this.answer(H.SUCCESS, a.xirr);
  }

  /** An `sc 1` from L2: the hcall number is in GPR3, its arguments in GPR4... */
  private hcallFromL2(core: number): Step {
    const o = this.vcpu.exit;
    const op = o.gprLo(3);
    switch (op) {
      case NestsimHcall.NS_SYSCALL:
        return this.syscall();
      case NestsimHcall.NS_CRASH:
        return this.fail(
          `crashed: interrupt ${hex(o.gprLo(4))} at ${hex(o.gprNumber(5))} (SRR1 ${hex(o.gprNumber(6))}, DAR ${hex(o.gprNumber(7))}, DSISR ${hex(o.gprLo(8))}, LR ${hex(o.gprNumber(9))})`,
        );
      case Hcall.H_PUT_TERM_CHAR: {
        const n = Math.min(16, o.gprLo(5));
        const bytes = new Uint8Array(n);
        for (let k = 0; k < n; k++) {
          const reg = k < 8 ? 6 : 7; // r6, r7 hold the characters, first one in the high byte
          const word = (k & 7) < 4 ? o.gpr[2 * (reg - 3)]! : o.gpr[2 * (reg - 3) + 1]!;
          bytes[k] = (word >>> (24 - 8 * (k & 3))) & 0xff;
        }
        this.events.console(1, bytes);
        return this.answer(H.SUCCESS, 0);
      }
      case Hcall.H_CEDE:
        this.answer(H.SUCCESS, 0);
        return Step.YIELD;
      case Hcall.H_XIRR:
        return this.xirr();
      case Hcall.H_REGISTER_VPA:
        return this.registerVpa(core);
      default:
        return this.answer(H.FUNCTION, 0);
    }
  }

  /**
   * H_REGISTER_VPA(flags, proc, addr) for the VPA (PAPR subfunctions 1 and 5), with Linux's checks
   * (the ones kvm-unit-tests' spapr_vpa exercises): H_PARAMETER for a reserved or unsupported
   * subfunction, another vCPU's proc (nestsim's L1 registers only the caller's own), an address
   * not on a 128-byte line, a size field below 640, a VPA crossing a 4 KiB page or outside the
   * guest. Registering marks the VPA "not running" (yield_count 1) and, under v2, hands its L1
   * address to L0, which keeps the count from then on; deregistering with none is H_SUCCESS.
   */
  private registerVpa(core: number): Step {
    const o = this.vcpu.exit;
    const fn = (o.gpr[2 * (4 - 3)]! >>> (VPA_FUNC_SHIFT - 32)) & 7;
    const proc = o.gprNumber(5);
    const addr = o.gprNumber(6);
    if (proc !== this.vcpuId) return this.answer(H.PARAMETER, 0);
    if (fn === VpaFunc.DEREGISTER) {
      const bugs = this.table.get(this.entry, L.VPA_FLAGS);
      if (this.table.vpa(this.entry) >= 0 && !(bugs & VpaBug.KEEP_AFTER_DEREGISTER)) {
        const rc = this.vcpu.setVpa(-1, core);
        if (rc !== H.SUCCESS) return this.l0Refused('deregistering the VPA', rc);
        this.table.setVpa(this.entry, -1);
      }
      return this.answer(H.SUCCESS, 0);
    }
    if (fn !== VpaFunc.REGISTER) return this.answer(H.PARAMETER, 0);
    if (addr % 128 !== 0) return this.answer(H.PARAMETER, 0);
    const size = this.mem.read(addr + LPPACA_SIZE, 2);
    if (!size) return this.answer(H.PARAMETER, 0);
    const bytes = (size[0]! << 8) | size[1]!;
    if (bytes < VPA_MIN_BYTES || (addr % 4096) + bytes > 4096) return this.answer(H.PARAMETER, 0);
    const l1 = this.mem.l1Address(addr);
    if (l1 < 0) return this.answer(H.PARAMETER, 0);
    this.mem.ram.dv.setUint32(l1 + LPPACA_YIELD_COUNT, 1, false); // not running
    const rc = this.vcpu.setVpa(l1, core);
    if (rc !== H.SUCCESS) return this.l0Refused('registering the VPA', rc);
    this.table.setVpa(this.entry, l1);
    return this.answer(H.SUCCESS, 0);
  }

  /** L0 refused what the owner of an idle vCPU asked: an invariant of L0's broke. */
  private l0Refused(what: string, rc: number): Step {
    this.events.violation(`guest ${this.guestId} vCPU ${this.vcpuId}: ${what}: L0 answered ${rc}`);
    return this.answer(H.HARDWARE, 0);
  }

  /** NS_SYSCALL: r4 = Linux syscall number, r5..r10 = arguments. */
  private syscall(): Step {
    const o = this.vcpu.exit;
    const nr = o.gprNumber(4);
    switch (nr) {
      case Sys.WRITE: {
        const fd = o.gprNumber(5);
        const len = o.gprNumber(7);
        if (fd !== 1 && fd !== 2) return this.answer(H.SUCCESS, -Errno.EBADF);
        if (len < 0 || len > MAX_WRITE) return this.answer(H.SUCCESS, -Errno.EINVAL);
        // Real mode: the top four bits of the EA are ignored (Book III real addressing).
        const addr = o.gprNumber(6) % 2 ** 52;
        const bytes = this.mem.read(addr, len);
        if (!bytes) return this.answer(H.SUCCESS, -Errno.EFAULT);
        this.events.console(fd, bytes);
        return this.answer(H.SUCCESS, len);
      }
      case Sys.EXIT:
        this.finish();
        this.events.vcpuExit(this.vcpuId, o.gprLo(5) & 0xff);
        return Step.DONE;
      case Sys.EXIT_GROUP:
        this.finish();
        this.events.groupExit(this.vcpuId, o.gprLo(5) & 0xff);
        return Step.DONE;
      default:
        return this.answer(H.SUCCESS, -Errno.ENOSYS);
    }
  }

  /** HDSI / HISI: map the page on demand, or end the vCPU with a report. */
  private storageFault(vector: number): Step {
    const o = this.vcpu.exit;
    const l2ra = o.asdrHi * 4294967296 + (o.asdrLo >>> 0);
    const fetch = vector === Vector.HV_INSTRUCTION_STORAGE;
    const write = !fetch && (o.hdsisr & 0x0200_0000) !== 0;
    const why = this.mem.fault(l2ra, write, fetch);
    if (why === undefined) return Step.RUN;
    const what = fetch ? 'instruction fetch' : write ? 'store' : 'load';
    return this.fail(`${what} at L2 address ${hex(l2ra)} (NIA ${this.nia()}): ${why}`);
  }

  /** Answers the L2's hcall: r3 = status, r4 = value, sent in the next run input buffer. */
  private answer(status: number, value: number): Step {
    this.answered = status;
    this.vcpu.setGpr(3, status < 0 ? -1 : 0, status);
    this.vcpu.setGpr(4, Math.floor(value / 4294967296), value >>> 0);
    return Step.RUN;
  }

  private fail(report: string): Step {
    this.finish();
    this.events.failed(this.vcpuId, report);
    return Step.DONE;
  }

  private nia(): string {
    const o = this.vcpu.exit;
    return hex(o.niaHi * 4294967296 + (o.niaLo >>> 0));
  }
}

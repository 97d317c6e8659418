/**
 * Makes the hcall-fuzz agent's calls: resolves each description against the guests the agent
 * holds, writes its buffers into the agent's scratch region (and points every L1 address L0 would
 * follow there, or outside L1 memory), calls L0 and checks the answer against the codes the spec
 * allows and, where the arguments alone decide it, the one its check order gives.
 */
import type { GuestRam } from '../../../../mem/ram.js';
import { allowedCodes } from '../../../allowed-codes.js';
import { forEachElement } from '../../../gsb/codec.js';
import { elementById } from '../../../gsb/elements.js';
import { HcallRegs } from '../../../l0/regs.js';
import {
  CAP_MODES,
  Cap,
  DefaultLimits,
  EXIT_VECTORS,
  H,
  Hcall,
  hcallName,
  LogicalPvr,
  returnCodeName,
} from '../../../papr.js';
import type { L0Port } from '../../vcpu-loop.js';
import {
  BIT0,
  BIT1,
  BIT2,
  type BufferDesc,
  type Content,
  type FuzzCall,
  type GuestRef,
  MAX64,
  type Token,
  type VcpuRef,
} from './calls.js';
import { hex } from './format.js';
import { BUFFER_ZONE, MAX_GUESTS, MAX_VCPUS, TABLE_ZONE } from './limits.js';

/** DELETE answers H_BUSY at most this many times per guest in the cleanup before it gives up. */
const CLEANUP_TRIES = 1000;

/** Elements whose values L0 takes as L1 addresses (the agent rewrites them to safe ones). */
const RUN_INPUT = 0x0c00;
const RUN_OUTPUT = 0x0c01;
const VPA = 0x0c02;
const PARTITION_TABLE = 0x0005;

/** A call as L0 saw it, what it answered, and the rule it broke (if any). */
export interface IssuedCall {
  opcode: bigint;
  /** r4, r5, … as passed. */
  args: bigint[];
  /** L1 memory written just before the call: its buffers as L0 read them. */
  writes: { addr: number; bytes: Uint8Array }[];
  rc: number;
  /** r4 after the call. */
  r4: bigint;
  /** The broken rule: its kind (a minimizer keeps to the same one) and one line. */
  problem?: { rule: string; what: string };
}

/** What the executor needs: L0, L1 memory and the agent's scratch region. */
export interface FuzzEnv {
  port: L0Port;
  ram: GuestRam;
  scratch: number;
  /** Delete-all is in the agent's mix. */
  deleteAll: boolean;
  /** Another agent's delete-all may delete this one's guests at any time (its view may be stale). */
  shared: boolean;
}

interface OwnVcpu {
  id: number;
  input: { addr: number; size: number } | undefined;
  output: boolean;
}
interface OwnGuest {
  id: number;
  vcpus: OwnVcpu[];
  /** A partition table (0x0005) is set. */
  table: boolean;
  busy: number;
}

/** What a buffer would set if L0 accepted it. */
interface Settings {
  input?: { addr: number; size: number };
  output?: boolean;
  table?: boolean;
}

const ELEMENT_CODES: readonly number[] = [
  H.INVALID_ELEMENT_ID,
  H.INVALID_ELEMENT_SIZE,
  H.INVALID_ELEMENT_VALUE,
];

/**
 * Resolves call descriptions against what the agent holds, writes their buffers, makes the call,
 * checks the answer and tracks the agent's guests. Deterministic: the same calls on a fresh L0
 * give the same hcalls.
 */
export class FuzzExecutor {
  readonly guests: OwnGuest[] = [];
  private lastToken: bigint | undefined;
  private readonly r = new HcallRegs();
  private readonly ramSize: bigint;
  private readonly sure: boolean;
  private writes: IssuedCall['writes'] = [];

  constructor(private readonly env: FuzzEnv) {
    this.ramSize = BigInt(env.ram.size);
    // When another agent may delete its guests, its view of them may be stale: expect less.
    this.sure = !env.shared;
  }

  /** vCPUs the agent holds. */
  get vcpus(): number {
    return this.guests.reduce((n, g) => n + g.vcpus.length, 0);
  }

  /** Makes call `c` on `core`. */
  call(c: FuzzCall, core: number): IssuedCall {
    this.writes = [];
    switch (c.k) {
      case 'getCaps': {
        const out = this.issue(
          Hcall.H_GUEST_GET_CAPABILITIES,
          [c.flags],
          core,
          c.flags ? [H.PARAMETER] : [H.SUCCESS],
        );
        if (out.rc === H.SUCCESS && (out.r4 === 0n || (out.r4 & ~CAP_MODES) !== 0n))
          out.problem ??= { rule: 'output', what: `capabilities 0x${out.r4.toString(16)} are not modes` };
        return out;
      }
      case 'setCaps': {
        const b = c.bitmap;
        const bad = b === 0n || (b & Cap.COPY_MEM) !== 0n || (b & ~CAP_MODES) !== 0n;
        const expect = c.flags ? [H.PARAMETER] : bad ? [H.P2] : [H.SUCCESS, H.STATE, H.P2];
        const out = this.issue(Hcall.H_GUEST_SET_CAPABILITIES, [c.flags, b], core, expect);
        if (out.rc === H.P2 && out.r4 !== 1n)
          out.problem ??= { rule: 'output', what: `H_P2 with r4 = ${out.r4}, not 1 (one bad bitmap)` };
        return out;
      }
      case 'create':
        return this.create(c.flags, c.token, core);
      case 'createVcpu':
        return this.createVcpu(c.flags, c.guest, c.vcpu, core);
      case 'getState':
      case 'setState':
        return this.state(c.k === 'setState', c.flags, c.guest, c.vcpu, c.buf, core);
      case 'run':
        return this.run(c.flags, c.guest, c.vcpu, c.input, core);
      case 'delete':
        return this.delete(this.env.deleteAll ? c.flags : c.flags & ~BIT0, c.guest, core);
      case 'rpt': {
        const { target, type, start, end } = c;
        const expect =
          end < start
            ? [H.P5]
            : (target & ~7n) !== 0n
              ? [H.P2]
              : (type & ~0xfn) !== 0n
                ? [H.P3]
                : (type & 1n) !== 0n && target !== 1n
                  ? [H.P2]
                  : [H.SUCCESS];
        const lpid = this.guestArg(c.lpid, true).arg;
        return this.issue(Hcall.H_RPT_INVALIDATE, [lpid, target, type, c.sizes, start, end], core, expect);
      }
      case 'other':
        return this.issue(c.opcode, [c.r4, c.r5, c.r6], core, [H.FUNCTION]);
    }
  }

  /**
   * One step of the final cleanup: DELETE of one of the agent's guests (H_BUSY retried by the
   * next step). Undefined once it holds none.
   */
  cleanup(core: number): IssuedCall | undefined {
    const g = this.guests[this.guests.length - 1];
    if (!g) return undefined;
    this.writes = [];
    const out = this.delete(0n, { k: 'own', n: 0 }, core); // own 0: the newest, g
    if (out.rc === H.BUSY && ++g.busy > CLEANUP_TRIES) {
      this.drop(g);
      out.problem ??= { rule: 'cleanup', what: `guest ${g.id} still busy after ${CLEANUP_TRIES} deletes` };
    } else if (out.rc !== H.SUCCESS && out.rc !== H.BUSY) this.drop(g);
    return out;
  }

  private create(flags: bigint, t: Token, core: number): IssuedCall {
    let token = t.k === 'fresh' ? MAX64 : t.k === 'last' ? (this.lastToken ?? MAX64) : t.v;
    // At the limit, a token L0 never handed out: the call is made but can create nothing.
    const full = this.guests.length >= MAX_GUESTS && flags === 0n;
    if (full) token = 0n;
    const expect = flags
      ? [H.UNSUPPORTED_FLAG]
      : full || t.k === 'raw'
        ? [H.P2]
        : t.k === 'fresh'
          ? [H.SUCCESS, H.BUSY, H.STATE, H.NOT_ENOUGH_RESOURCES]
          : undefined;
    const out = this.issue(Hcall.H_GUEST_CREATE, [flags, token], core, expect);
    if (out.rc === H.BUSY) this.lastToken = out.r4;
    if (out.rc === H.SUCCESS) {
      const id = out.r4;
      const stale = id <= BigInt(DefaultLimits.maxGuestId) ? this.ownGuest(Number(id)) : undefined;
      // When shared, an id of its own handed out again means another agent deleted that guest.
      if (stale && !this.sure) this.drop(stale);
      if (id < 1n || id > BigInt(DefaultLimits.maxGuestId) || (stale && this.sure))
        out.problem ??= { rule: 'output', what: `new guest id ${id} is out of range or in use` };
      else this.guests.push({ id: Number(id), vcpus: [], table: false, busy: 0 });
    }
    return out;
  }

  private createVcpu(flags: bigint, ref: GuestRef, vref: VcpuRef, core: number): IssuedCall {
    let { arg: guest, g } = this.guestArg(ref, true);
    const id = this.vcpuArg(vref, g);
    const v = id < 2048n ? Number(id) : -1;
    const dup = g !== undefined && v >= 0 && g.vcpus.some((x) => x.id === v);
    if (g && v >= 0 && !dup && (g.vcpus.length >= MAX_VCPUS || this.vcpus >= 2 * MAX_VCPUS)) {
      guest = 0n; // at the limit: name no guest, so nothing is created
      g = undefined;
    }
    const expect = flags
      ? [H.UNSUPPORTED_FLAG]
      : ref.k === 'nobody' || guest === 0n
        ? [H.P2]
        : !g || !this.sure
          ? undefined
          : v < 0
            ? [H.P3]
            : dup
              ? [H.IN_USE]
              : [H.SUCCESS, H.NOT_ENOUGH_RESOURCES];
    const out = this.issue(Hcall.H_GUEST_CREATE_VCPU, [flags, guest, id], core, expect);
    if (out.rc === H.SUCCESS && g && v >= 0 && !dup) g.vcpus.push({ id: v, input: undefined, output: false });
    this.forget(out, g);
    return out;
  }

  private state(set: boolean, flags: bigint, ref: GuestRef, vref: VcpuRef, b: BufferDesc, core: number) {
    const wideBits = flags & (BIT0 | BIT1);
    const reserved = (flags & ~(set ? BIT0 : BIT0 | BIT1)) !== 0n || wideBits === (BIT0 | BIT1);
    const host = !set && wideBits === BIT1;
    const wide = wideBits === BIT0;
    const { arg: guest, g } = this.guestArg(ref, set);
    const id = this.vcpuArg(vref, g);
    const vcpu = g && id < 2048n ? g.vcpus.find((x) => x.id === Number(id)) : undefined;
    const buf = this.placeBuffer(b);
    const settings = set && buf.inScratch ? this.sanitize(buf.addr, buf.region) : {};
    if (buf.inScratch) this.record(buf.addr, buf.region);
    const over = buf.size > BigInt(DefaultLimits.maxStateBufferBytes);
    // The spec's order (§18): flags → guest → vCPU → buffer → elements.
    const bufferCodes = (thread: boolean): number[] =>
      over || !buf.inScratch
        ? thread
          ? [H.P3, H.BUSY]
          : [H.P3]
        : [H.SUCCESS, H.P3, ...(thread ? [H.BUSY] : []), ...ELEMENT_CODES];
    const expect = reserved
      ? [H.PARAMETER]
      : host
        ? bufferCodes(false)
        : ref.k === 'nobody' || guest === 0n
          ? [H.P2]
          : !g || !this.sure
            ? undefined
            : wide
              ? over
                ? [H.P3]
                : bufferCodes(false)
              : !vcpu || over
                ? [H.P3]
                : bufferCodes(true);
    const opcode = set ? Hcall.H_GUEST_SET_STATE : Hcall.H_GUEST_GET_STATE;
    const out = this.issue(opcode, [flags, guest, id, buf.arg, buf.size], core, expect);
    if (ELEMENT_CODES.includes(out.rc) && buf.count !== undefined && out.r4 >= BigInt(buf.count))
      out.problem ??= { rule: 'output', what: `bad element index ${out.r4} of ${buf.count} elements` };
    if (out.rc === H.SUCCESS && set && g) {
      if (wide && settings.table !== undefined) g.table = settings.table;
      if (!wide && vcpu) this.apply(vcpu, settings);
    }
    this.forget(out, g);
    return out;
  }

  private run(flags: bigint, ref: GuestRef, vref: VcpuRef, input: Content, core: number): IssuedCall {
    const { arg: guest, g } = this.guestArg(ref, true);
    const id = this.vcpuArg(vref, g);
    const vcpu = g && id < 2048n ? g.vcpus.find((x) => x.id === Number(id)) : undefined;
    let settings: Settings = {};
    const inBuf = vcpu?.input;
    if (inBuf) {
      const bytes = input.k === 'keep' ? undefined : encode(input, this);
      if (bytes && bytes.length <= inBuf.size) this.env.ram.u8.set(bytes, inBuf.addr);
      settings = this.sanitize(inBuf.addr, inBuf.size);
      this.record(inBuf.addr, inBuf.size);
    }
    const expect =
      (flags & ~(BIT0 | BIT1 | BIT2)) !== 0n
        ? [H.PARAMETER]
        : ref.k === 'nobody' || guest === 0n
          ? [H.P2]
          : !g || !this.sure
            ? undefined
            : !vcpu
              ? [H.P3]
              : !vcpu.input
                ? [H.INPUT_BUFFER_NOT_DEFINED]
                : !vcpu.output
                  ? [H.OUTPUT_BUFFER_NOT_DEFINED]
                  : !g.table
                    ? [H.PARTITION_PAGE_TABLE_NOT_DEFINED]
                    : undefined;
    const out = this.issue(Hcall.H_GUEST_RUN_VCPU, [flags, guest, id], core, expect);
    if (out.rc === H.SUCCESS && !EXIT_VECTORS.includes(Number(out.r4)))
      out.problem ??= {
        rule: 'output',
        what: `exit vector 0x${out.r4.toString(16)} is not one RUN_VCPU reports`,
      };
    if (ELEMENT_CODES.includes(out.rc) && inBuf && (out.r4 < 4n || out.r4 >= BigInt(inBuf.size)))
      out.problem ??= {
        rule: 'output',
        what: `bad element offset ${out.r4} in a ${inBuf.size}-byte input buffer`,
      };
    if ((out.rc === H.SUCCESS || out.rc === H.OUTPUT_BUFFER_TOO_SMALL) && vcpu) this.apply(vcpu, settings);
    this.forget(out, g);
    return out;
  }

  private delete(flags: bigint, ref: GuestRef, core: number): IssuedCall {
    const all = flags === BIT0;
    const { arg: guest, g } = this.guestArg(ref, true);
    const expect =
      (flags & ~BIT0) !== 0n
        ? [H.UNSUPPORTED_FLAG]
        : all
          ? [H.SUCCESS]
          : ref.k === 'nobody' || guest === 0n
            ? [H.P2]
            : this.sure
              ? [H.SUCCESS, H.BUSY]
              : undefined;
    const out = this.issue(Hcall.H_GUEST_DELETE, [flags, guest], core, expect);
    if (out.rc === H.SUCCESS && all) this.guests.length = 0;
    else if (out.rc === H.SUCCESS && g) this.drop(g);
    this.forget(out, g);
    return out;
  }

  /** The r-value naming guest `ref`, and the agent's record of it when it is its own. */
  private guestArg(ref: GuestRef, mutating: boolean): { arg: bigint; g: OwnGuest | undefined } {
    if (ref.k === 'nobody') return { arg: ref.id, g: undefined };
    if (ref.k === 'anyone') {
      // Only reads may name a guest the agent does not own.
      if (!mutating) return { arg: BigInt(ref.id), g: this.ownGuest(ref.id) };
      return { arg: 0n, g: undefined };
    }
    // Newest first: a sequence shrunk by dropping older calls still names the same guest.
    const n = this.guests.length;
    const g = n === 0 ? undefined : this.guests[n - 1 - (ref.n % n)];
    return { arg: g ? BigInt(g.id) : 0n, g };
  }

  private vcpuArg(ref: VcpuRef, g: OwnGuest | undefined): bigint {
    if (ref.k === 'id') return ref.id;
    const n = g ? g.vcpus.length : 0;
    const v = g && n > 0 ? g.vcpus[n - 1 - (ref.n % n)] : undefined;
    return BigInt(v ? v.id : ref.n);
  }

  private ownGuest(id: number): OwnGuest | undefined {
    return this.guests.find((g) => g.id === id);
  }

  private drop(g: OwnGuest): void {
    const i = this.guests.indexOf(g);
    if (i >= 0) this.guests.splice(i, 1);
  }

  /** When shared, H_P2 for a guest of its own means another agent deleted it. */
  private forget(out: IssuedCall, g: OwnGuest | undefined): void {
    if (!this.sure && g && out.rc === H.P2) this.drop(g);
  }

  private apply(v: OwnVcpu, s: Settings): void {
    if (s.input) v.input = s.input;
    if (s.output) v.output = true;
  }

  /** Where a buffer goes: into the buffer zone if it fits there, else outside L1 memory. */
  private placeBuffer(b: BufferDesc): {
    addr: number;
    arg: bigint;
    size: bigint;
    region: number;
    inScratch: boolean;
    count: number | undefined;
  } {
    const bytes = b.content.k === 'keep' ? undefined : encode(b.content, this);
    const n = bytes?.length ?? 0;
    const c = b.size;
    const size =
      c.k === 'fit'
        ? BigInt(n + c.extra)
        : c.k === 'pow2'
          ? BigInt(2 ** Math.ceil(Math.log2(Math.max(n, 4))))
          : c.v;
    const region = Math.max(n, size > BigInt(BUFFER_ZONE) ? Number.POSITIVE_INFINITY : Number(size));
    const count =
      bytes && bytes.length >= 4 && size >= 4n ? new DataView(bytes.buffer).getUint32(0) : undefined;
    if (b.at.k === 'scratch' && region <= BUFFER_ZONE) {
      const addr = this.env.scratch + Math.min(b.at.offset, BUFFER_ZONE - region);
      if (bytes) this.env.ram.u8.set(bytes, addr);
      return { addr, arg: BigInt(addr), size, region, inScratch: true, count };
    }
    const arg =
      b.at.k === 'absolute'
        ? b.at.addr
        : this.ramSize + (b.at.k === 'outside' ? b.at.past : BigInt(b.at.offset));
    return { addr: -1, arg, size, region: 0, inScratch: false, count };
  }

  /**
   * Walks the buffer at `addr` as L0 will and rewrites every value that would point L0 at L1
   * memory outside this agent's zones (to an address past L1 memory, which L0 refuses). Returns
   * what the buffer sets if L0 accepts it.
   */
  private sanitize(addr: number, capacity: number): Settings {
    const dv = this.env.ram.dv;
    const s = BigInt(this.env.scratch);
    const inBuffers = (a: bigint, n: bigint) => a >= s && a + n <= s + BigInt(BUFFER_ZONE);
    const out: Settings = {};
    forEachElement(dv, addr, capacity, (id, at, len) => {
      if ((id === RUN_INPUT || id === RUN_OUTPUT) && len === 16) {
        const a = dv.getBigUint64(at);
        const n = dv.getBigUint64(at + 8);
        if (!inBuffers(a, n)) {
          if (a < this.ramSize) dv.setBigUint64(at, this.ramSize + (a & 0xfffn));
        } else if (id === RUN_INPUT) out.input = { addr: Number(a), size: Number(n) };
        else out.output = true;
      } else if (id === PARTITION_TABLE && len === 24) {
        const a = dv.getBigUint64(at);
        const unset = a === 0n && dv.getBigUint64(at + 8) === 0n && dv.getBigUint64(at + 16) === 0n;
        const t = s + BigInt(BUFFER_ZONE);
        const inTables = a >= t && a + dv.getBigUint64(at + 16) <= t + BigInt(TABLE_ZONE);
        if (!unset && !inTables && a < this.ramSize) dv.setBigUint64(at, this.ramSize);
        out.table = !unset;
      } else if (id === VPA && len === 8) {
        const a = dv.getBigUint64(at);
        if (a !== MAX64 && !inBuffers(a, 1n) && a < this.ramSize) dv.setBigUint64(at, MAX64);
      }
      return true;
    });
    return out;
  }

  private record(addr: number, bytes: number): void {
    this.writes.push({ addr, bytes: this.env.ram.u8.slice(addr, addr + bytes) });
  }

  /** A legal value for element `id` made from `n`, as `len` big-endian bytes (cut or zero-padded). */
  validValue(id: number, n: number, len: number): Uint8Array {
    const v = new DataView(new ArrayBuffer(Math.max(len, 24)));
    const s = this.env.scratch;
    switch (id) {
      case 0x0003:
        v.setUint32(0, [LogicalPvr.POWER9, LogicalPvr.POWER10, LogicalPvr.POWER11][n % 3]!);
        break;
      case PARTITION_TABLE:
        if (n % 5 === 4) break; // unset
        v.setBigUint64(0, BigInt(s + BUFFER_ZONE));
        v.setBigUint64(8, 52n);
        v.setBigUint64(16, BigInt([8, 256, 4096, TABLE_ZONE][n % 4]!));
        break;
      case 0x0006:
        v.setBigUint64(0, BigInt((n + 1) * 0x10000));
        v.setBigUint64(8, BigInt(4096 << (n % 3)));
        break;
      case RUN_INPUT:
      case RUN_OUTPUT: {
        const size = [128, 256, 1024, 4096][n % 4]!;
        v.setBigUint64(0, BigInt(s + (((n * 1544) % (BUFFER_ZONE - size)) & ~7)));
        v.setBigUint64(8, BigInt(size));
        break;
      }
      case VPA:
        v.setBigUint64(0, n % 2 ? MAX64 : BigInt(s + n * 64));
        break;
      default:
        for (let k = 0; k < len; k++) v.setUint8(k, ((n + 1) * 0x11 + k * 0x3b) & 0xff);
    }
    return new Uint8Array(v.buffer, 0, len);
  }

  /** Issues one hcall and judges its answer. */
  private issue(
    code: number | bigint,
    args: bigint[],
    core: number,
    expect: readonly number[] | undefined,
  ): IssuedCall {
    const opcode = BigInt(code);
    const r = this.r;
    r.clear();
    r.setBig(3, opcode);
    for (let i = 0; i < args.length; i++) r.setBig(4 + i, args[i]!);
    const out: IssuedCall = { opcode, args, writes: this.writes, rc: Number.NaN, r4: 0n };
    try {
      out.rc = this.env.port.hcall(r, core);
      out.r4 = r.big(4);
    } catch (e) {
      out.problem = { rule: 'throw', what: `threw ${(e as Error).message?.split('\n')[0] ?? String(e)}` };
      return out;
    }
    const op = opcode < 1n << 32n ? Number(opcode) : -1;
    const allowed = allowedCodes(op);
    if (!allowed.includes(out.rc))
      out.problem = {
        rule: 'code',
        what: `${returnCodeName(out.rc)} is not a code ${op >= 0 ? hcallName(op) : hex(opcode)} may give (${allowed.map(returnCodeName).join(', ')})`,
      };
    else if (expect && !expect.includes(out.rc))
      out.problem = {
        rule: 'expected',
        what: `answered ${returnCodeName(out.rc)} where the spec's check order gives ${expect.map(returnCodeName).join(' or ')}`,
      };
    return out;
  }
}

/** The bytes of a GSB or raw content; values of 'valid' elements come from the executor. */
function encode(c: Exclude<Content, { k: 'keep' }>, ex: FuzzExecutor): Uint8Array {
  if (c.k === 'bytes') return Uint8Array.from(c.bytes);
  const lens = c.elements.map((e) => (e.len >= 0 ? e.len : Math.max(0, elementById(e.id)?.size ?? 8)));
  const total = 4 + lens.reduce((n, l) => n + 4 + l, 0);
  const bytes = new Uint8Array(total);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, (c.elements.length + c.extraCount) >>> 0);
  let at = 4;
  c.elements.forEach((e, i) => {
    const len = lens[i]!;
    dv.setUint16(at, e.id);
    dv.setUint16(at + 2, len);
    if (e.value.k === 'valid') bytes.set(ex.validValue(e.id, e.value.n, len), at + 4);
    else
      e.value.w.forEach((w, k) => {
        for (let b = 0; b < 8 && 8 * k + b < len; b++)
          bytes[at + 4 + 8 * k + b] = Number((w >> BigInt(56 - 8 * b)) & 0xffn);
      });
    at += 4 + len;
  });
  return bytes;
}

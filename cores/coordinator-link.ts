/**
 * A core's side of the request plane (src/protocol.ts): the few things an L1 vCPU loop on a core
 * needs from the coordinator, as records over the core's request/reply channels. Nothing here is
 * on the per-exit path; each call that needs an answer blocks the core until it comes (spinning
 * briefly, then sleeping on the reply channel's doorbell), and counts the time as waiting.
 *
 * Invoked from: cores/core-runtime.ts (global hcalls), hypervisor/l1/remote-services.ts (L1
 * services: demand paging, console, a vCPU's end).
 */
import type { HcallRegs } from '../hypervisor/l0/regs.js';
import type { ChannelShared } from '../mem/channel.js';
import { ChannelReceiver, ChannelSender, ChannelStatus } from '../mem/channel.js';
import { putText, REP, REQ, Req, type ReqKind, TEXT_BYTES } from '../src/protocol.js';
import { WaitFor } from '../src/trace/layout.js';
import type { TraceRecorder } from '../src/trace/recorder.js';

/** How long a core waits for an answer before it calls the coordinator dead (a nestsim bug). */
const REPLY_DEADLINE_MS = 120_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The request/reply channels of one core. */
export class CoordinatorLink {
  private readonly tx: ChannelSender;
  private readonly rx: ChannelReceiver;
  private readonly req = new Int32Array(REQ.WORDS);
  private readonly rep = new Int32Array(REP.WORDS);
  private seq = 0;
  /** Seconds spent waiting for answers. */
  waitingSeconds = 0;
  /** The core's trace recorder and timebase, when the run is traced (waits for replies). */
  trace: TraceRecorder | null = null;
  timebase: () => number = () => 0;

  constructor(requests: ChannelShared, replies: ChannelShared) {
    this.tx = new ChannelSender(requests);
    this.rx = new ChannelReceiver(replies);
  }

  /** A global hcall served by the coordinator's L0; `r` gets the status and outputs. */
  hcall(r: HcallRegs, entry: number): number {
    const q = this.begin(Req.HCALL, entry);
    q.set(r.words, REQ.REGS);
    this.call();
    r.words.set(this.rep.subarray(REP.REGS, REP.REGS + r.words.length));
    return this.rep[REP.STATUS]!;
  }

  /** Demand paging by L1 on the main thread: undefined when mapped, else why it cannot be. */
  fault(entry: number, l2ra: number, write: boolean, fetch: boolean): string | undefined {
    const q = this.begin(Req.FAULT, entry);
    q[REQ.A0] = Math.floor(l2ra / 4294967296);
    q[REQ.A1] = l2ra | 0;
    q[REQ.A2] = write ? 1 : 0;
    q[REQ.A3] = fetch ? 1 : 0;
    this.call();
    if (this.rep[REP.STATUS] === 0) return undefined;
    const n = Math.max(0, Math.min(TEXT_BYTES, this.rep[REP.TEXT_LEN]!));
    return decoder.decode(new Uint8Array(this.rep.buffer, REP.TEXT * 4, n));
  }

  /**
   * Console output of a loop's vCPU: chunks without replies, the last one answered, so the bytes
   * are with the coordinator before the vCPU goes on (and before any output it makes later, on
   * whichever core).
   */
  console(entry: number, fd: number, bytes: Uint8Array): void {
    let at = 0;
    do {
      const last = bytes.length - at <= TEXT_BYTES;
      const q = this.begin(last ? Req.CONSOLE_END : Req.CONSOLE, entry);
      q[REQ.A0] = fd;
      at += putText(q, REQ.TEXT_LEN, REQ.TEXT, bytes, at);
      if (last) this.call();
      else this.send();
    } while (at < bytes.length);
  }

  /** The loop's vCPU called exit(code). */
  vcpuExit(entry: number, code: number): void {
    this.begin(Req.VCPU_EXIT, entry)[REQ.A0] = code;
    this.send();
  }

  /** The loop's vCPU called exit_group(code). */
  groupExit(entry: number, code: number): void {
    this.begin(Req.GROUP_EXIT, entry)[REQ.A0] = code;
    this.send();
  }

  /** The loop's vCPU cannot go on. */
  failed(entry: number, report: string): void {
    putText(this.begin(Req.FAILED, entry), REQ.TEXT_LEN, REQ.TEXT, encoder.encode(report));
    this.send();
  }

  /** An invariant L1's checks (or an agent) saw broken; `what` in one line. */
  violation(entry: number, what: string): void {
    putText(this.begin(Req.VIOLATION, entry), REQ.TEXT_LEN, REQ.TEXT, encoder.encode(what));
    this.send();
  }

  /** This core hit a nestsim bug; `report` says what and where. Best effort: never blocks long. */
  crash(entry: number, report: string): void {
    putText(this.begin(Req.CRASH, entry), REQ.TEXT_LEN, REQ.TEXT, encoder.encode(report));
    this.tx.send(this.req, 0, 1000);
  }

  private begin(kind: ReqKind, entry: number): Int32Array {
    const q = this.req;
    q.fill(0);
    q[REQ.KIND] = kind;
    q[REQ.SEQ] = ++this.seq;
    q[REQ.ENTRY] = entry;
    return q;
  }

  private send(): void {
    const t0 = performance.now();
    const st = this.tx.send(this.req, 0, REPLY_DEADLINE_MS);
    this.waitingSeconds += (performance.now() - t0) / 1000;
    if (st !== ChannelStatus.Ok)
      throw new Error(`coordinator took no request for ${REPLY_DEADLINE_MS} ms (${st})`);
  }

  private call(): void {
    const t0 = performance.now();
    this.send();
    const r0 = performance.now();
    const st = this.rx.receive(this.rep, 0, REPLY_DEADLINE_MS);
    const t1 = performance.now();
    this.waitingSeconds += (t1 - r0) / 1000;
    if (this.trace !== null) {
      const tb = this.timebase();
      this.trace.wait(WaitFor.COORDINATOR_REPLY, tb, tb, t0 * 1000, t1 * 1000);
    }
    if (st !== ChannelStatus.Ok)
      throw new Error(`coordinator did not answer within ${REPLY_DEADLINE_MS} ms (${st})`);
    if (this.rep[REP.SEQ] !== this.seq)
      throw new Error(`coordinator answered request ${this.rep[REP.SEQ]} to request ${this.seq}`);
  }
}

/**
 * The state prober: another L1 vCPU that reads and writes per-vCPU state of a guest whose vCPUs
 * run on other cores, through H_GUEST_GET_STATE / H_GUEST_SET_STATE (the race of bugs-to-catch.md
 * A: HFSCR clobbered across vCPUs, elements not synced). It owns a set of spare elements the guest's
 * programs never touch (breakpoints, PMU, hash keys, vector registers); it writes to each (vCPU,
 * element) a pattern that names the vCPU, the element and a sequence number, and every read must
 * give the answer of the spec:
 *   - H_BUSY while another core runs the vCPU, H_SUCCESS otherwise, nothing else;
 *   - a value written for that vCPU and that element (never another vCPU's: per-vCPU state must
 *     not leak), and the last one this prober wrote (no lost update: it is their only writer).
 * One operation is one GET or one SET of one element of one vCPU, chosen by the seed. Several
 * probers may share a guest: prober i of n writes only the vCPUs v with v mod n = i, and of the
 * others checks only that a value belongs to that vCPU and element. A prober ends after its
 * operations, or once its guest is gone (H_P2).
 */
import { elementByName } from '../../gsb/elements.js';
import { HcallRegs } from '../../l0/regs.js';
import { H, Hcall } from '../../papr.js';
import { SplitMix32 } from '../../prng.js';
import type { Agent, AgentContext } from '../agent.js';
import { Step } from '../vcpu-loop.js';

/** Elements the guests' programs never read or write (integer code, real mode, no PMU use). */
const SPARE_NAMES = [
  'DAWR0',
  'DAWR1',
  'CIABR',
  'MMCR3',
  'SIER2',
  'SIER3',
  'BESCR',
  'EBBHR',
  'EBBRR',
  'SDAR',
  'SIAR',
  'TAR',
  'DEXCR',
  'HASHKEYR',
  'HASHPKEYR',
  'DAWRX0',
  'DAWRX1',
  'PMC1',
  'PMC2',
  'PMC3',
  'PMC4',
  'PMC5',
  'PMC6',
  'WORT',
  'PSPB',
  'VSR0',
  'VSR7',
  'VSR31',
  'VSR32',
  'VSR63',
] as const;
const SPARE = SPARE_NAMES.map((n) => {
  const d = elementByName(n);
  if (!d) throw new Error(`state prober: no element ${n}`);
  return d;
});

/** AGENT_ARG of a prober: its guest's vCPU count, its number among the guest's probers, how many. */
export function proberArg(vcpus: number, index: number, count: number): number {
  if (!(vcpus >= 1 && vcpus < 4096 && index >= 0 && index < count && count < 256))
    throw new RangeError(`prober ${index} of ${count} on ${vcpus} vCPUs`);
  return vcpus | (index << 12) | (count << 20);
}

/** The words of a pattern: [vCPU · 2^16 + element index, sequence number, …]: any size ≥ 4. */
function pattern(vcpu: number, e: number, seq: number, words: number, out: Uint32Array): void {
  out[0] = ((vcpu & 0xffff) << 16) | (e & 0xffff);
  for (let k = 1; k < words; k++) out[k] = k === 1 ? seq >>> 0 : ~seq >>> 0;
}

export function stateProber(ctx: AgentContext): Agent {
  const rng = new SplitMix32(ctx.seed);
  const vcpus = Math.max(1, ctx.arg & 0xfff);
  const mine = (ctx.arg >>> 12) & 0xff;
  const probers = Math.max(1, (ctx.arg >>> 20) & 0xff);
  const owns = (v: number) => v % probers === mine;
  const r = new HcallRegs();
  const dv = ctx.ram.dv;
  const buf = ctx.scratch;
  /** Last sequence number written per (vCPU, element); 0: never written (the value is then 0). */
  const last = new Uint32Array(vcpus * SPARE.length);
  const want = new Uint32Array(4);
  let seq = 0;
  let done = 0;
  const call = (opcode: number, vcpu: number, bytes: number, core: number) => {
    r.clear();
    r.setInt(3, opcode);
    r.setInt(5, ctx.target);
    r.setInt(6, vcpu);
    r.setInt(7, buf);
    r.setInt(8, bytes);
    return ctx.port.hcall(r, core);
  };
  return {
    step(core: number) {
      if (done >= ctx.iterations) return Step.DONE;
      done++;
      const v = rng.below(vcpus);
      const e = rng.below(SPARE.length);
      const d = SPARE[e]!;
      const words = d.size / 4;
      const bytes = 4 + 4 + d.size;
      dv.setUint32(buf, 1, false);
      dv.setUint16(buf + 4, d.id, false);
      dv.setUint16(buf + 6, d.size, false);
      const write = owns(v) && rng.below(2) === 0;
      if (write) {
        const next = seq + 1;
        pattern(v, e, next, words, want);
        for (let k = 0; k < words; k++) dv.setUint32(buf + 8 + 4 * k, want[k]!, false);
        const rc = call(Hcall.H_GUEST_SET_STATE, v, bytes, core);
        if (rc === H.SUCCESS) {
          seq = next;
          last[v * SPARE.length + e] = next;
        } else if (rc === H.P2)
          return Step.DONE; // the guest is gone
        else if (rc !== H.BUSY)
          ctx.violation(
            `prober ${ctx.index}: SET_STATE ${d.name} of vCPU ${v} answered ${rc}, not H_SUCCESS or H_BUSY`,
          );
        return Step.RUN;
      }
      for (let k = 0; k < words; k++) dv.setUint32(buf + 8 + 4 * k, 0xdeadbeef, false);
      const rc = call(Hcall.H_GUEST_GET_STATE, v, bytes, core);
      if (rc === H.BUSY) return Step.RUN;
      if (rc === H.P2) return Step.DONE;
      if (rc !== H.SUCCESS) {
        ctx.violation(
          `prober ${ctx.index}: GET_STATE ${d.name} of vCPU ${v} answered ${rc}, not H_SUCCESS or H_BUSY`,
        );
        return Step.RUN;
      }
      if (!owns(v)) {
        // Another prober's vCPU: the value must be 0 or one written for this vCPU and element.
        const head = dv.getUint32(buf + 8, false);
        const expected = ((v & 0xffff) << 16) | (e & 0xffff);
        if (head !== 0 && head !== expected) {
          const whose = head >>> 16 !== v ? ` (vCPU ${head >>> 16}'s: per-vCPU state leaked)` : '';
          ctx.violation(`prober ${ctx.index}: ${d.name} of vCPU ${v} holds 0x${head.toString(16)}${whose}`);
        }
        return Step.RUN;
      }
      const s = last[v * SPARE.length + e]!;
      if (s === 0) {
        for (let k = 0; k < words; k++)
          if (dv.getUint32(buf + 8 + 4 * k, false) !== 0) {
            ctx.violation(`prober ${ctx.index}: ${d.name} of vCPU ${v} holds a value nobody wrote for it`);
            break;
          }
        return Step.RUN;
      }
      pattern(v, e, s, words, want);
      for (let k = 0; k < words; k++) {
        const got = dv.getUint32(buf + 8 + 4 * k, false);
        if (got === want[k]) continue;
        const head = dv.getUint32(buf + 8, false);
        const whose =
          k > 0 || head === want[0]
            ? ' (a torn or lost update)'
            : head === 0
              ? ' (the SET that wrote it was lost)'
              : head >>> 16 !== v
                ? ` (vCPU ${head >>> 16}'s value: per-vCPU state leaked)`
                : " (another element's value)";
        ctx.violation(
          `prober ${ctx.index}: ${d.name} of vCPU ${v} reads 0x${got.toString(16)} in word ${k}, last written 0x${want[k]!.toString(16)}${whose}`,
        );
        break;
      }
      return Step.RUN;
    },
  };
}

/** One line per hcall-fuzz call: the call as L0 saw it, its buffers, the answer, the rule broken. */
import { Hcall, hcallName, returnCodeName } from '../../../papr.js';
import type { IssuedCall } from './executor.js';

const ARG_NAMES = new Map<number, string[]>([
  [Hcall.H_GUEST_GET_CAPABILITIES, ['flags']],
  [Hcall.H_GUEST_SET_CAPABILITIES, ['flags', 'bitmap']],
  [Hcall.H_GUEST_CREATE, ['flags', 'token']],
  [Hcall.H_GUEST_CREATE_VCPU, ['flags', 'guest', 'vcpu']],
  [Hcall.H_GUEST_GET_STATE, ['flags', 'guest', 'vcpu', 'buffer', 'size']],
  [Hcall.H_GUEST_SET_STATE, ['flags', 'guest', 'vcpu', 'buffer', 'size']],
  [Hcall.H_GUEST_RUN_VCPU, ['flags', 'guest', 'vcpu']],
  [Hcall.H_GUEST_DELETE, ['flags', 'guest']],
  [Hcall.H_RPT_INVALIDATE, ['lpid', 'target', 'type', 'sizes', 'start', 'end']],
]);

/** `0x…` of a 64-bit value. */
export const hex = (v: bigint) => `0x${v.toString(16)}`;

/** `H_GUEST_CREATE_VCPU(flags=0x0, guest=0x1, vcpu=0x7)`: the call as L0 saw it. */
export function formatCall(c: Pick<IssuedCall, 'opcode' | 'args'>): string {
  const op = c.opcode < 1n << 32n ? Number(c.opcode) : -1;
  const names = ARG_NAMES.get(op);
  const args = c.args.map((a, i) => `${names?.[i] ?? `r${4 + i}`}=${hex(a)}`).join(', ');
  return `${op >= 0 ? hcallName(op) : hex(c.opcode)}(${args})`;
}

/** The call, what it answered and, if so, the rule it broke, in one line. */
export function formatIssued(c: IssuedCall, bufferBytes = 24): string {
  const bufs = c.writes.map((w) => {
    const shown = Array.from(w.bytes.subarray(0, bufferBytes), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
    return ` [0x${w.addr.toString(16)}: ${shown}${w.bytes.length > bufferBytes ? `… (${w.bytes.length} bytes)` : ''}]`;
  });
  const answer = Number.isNaN(c.rc) ? 'threw' : `${returnCodeName(c.rc)}, r4=${hex(c.r4)}`;
  return `${formatCall(c)}${bufs.join('')} → ${answer}${c.problem ? `: ${c.problem.what}` : ''}`;
}

/**
 * What an L1 does to drive L0 in tests, through the hcall ABI only: state buffers written into L1
 * memory and passed by address, exactly as Linux's nestedv2 client does (spec §13). Elements are
 * named (GSB table names), so tests read like the spec.
 */
import { elementByName } from '../../hypervisor/gsb/elements.js';
import { decodeGsb, type ElementValue, encodeGsb } from '../../hypervisor/gsb/values.js';
import type { L0 } from '../../hypervisor/l0/l0.js';
import { Cap, H, Hcall, StateFlags } from '../../hypervisor/papr.js';
import { type CallResult, hcall } from './hcall.js';

/** Where tests put the state buffer of GET/SET_STATE in L1 memory (away from their data). */
export const STATE_BUFFER = 0x8_0000;
export const STATE_BUFFER_BYTES = 0x1_0000;

/** Element id of a GSB name, or a test failure. */
export function idOf(name: string): number {
  const d = elementByName(name);
  if (!d) throw new Error(`no element named ${name}`);
  return d.id;
}

/** Name → value pairs as encodable elements. */
function inputs(values: Record<string, ElementValue | number>): { id: number; value: ElementValue }[] {
  return Object.entries(values).map(([name, value]) => ({ id: idOf(name), value }));
}

/** Writes a GSB of `values` at `addr` in L1 memory; returns its byte length. */
export function writeGsb(l0: L0, addr: number, values: Record<string, ElementValue | number>): number {
  const e = encodeGsb(inputs(values));
  if (!e.ok) throw new Error(`encode: ${e.reason}`);
  l0.ram.u8.set(e.bytes, addr);
  return e.bytes.length;
}

/** H_GUEST_SET_STATE of named values; `guestWide` sets the flag. */
export function setState(
  l0: L0,
  guestId: number,
  vcpuId: number,
  values: Record<string, ElementValue | number>,
  guestWide = false,
): CallResult {
  const n = writeGsb(l0, STATE_BUFFER, values);
  return hcall(
    l0,
    Hcall.H_GUEST_SET_STATE,
    guestWide ? StateFlags.GUEST_WIDE : 0n,
    guestId,
    vcpuId,
    STATE_BUFFER,
    n,
  );
}

/** H_GUEST_GET_STATE of named elements; the decoded values by name (throws unless H_SUCCESS). */
export function getState(
  l0: L0,
  guestId: number,
  vcpuId: number,
  names: readonly string[],
  guestWide = false,
): Record<string, ElementValue> {
  const zeroes: Record<string, ElementValue | number> = {};
  for (const name of names) zeroes[name] = zeroValue(name);
  const n = writeGsb(l0, STATE_BUFFER, zeroes);
  const r = hcall(
    l0,
    Hcall.H_GUEST_GET_STATE,
    guestWide ? StateFlags.GUEST_WIDE : 0n,
    guestId,
    vcpuId,
    STATE_BUFFER,
    n,
  );
  if (r.rc !== H.SUCCESS) throw new Error(`GET_STATE ${names.join(',')}: rc ${r.rc} (${l0.lastReason})`);
  return decodeBuffer(l0, STATE_BUFFER, n);
}

/** A placeholder value of the right kind for element `name` (GET_STATE overwrites it). */
function zeroValue(name: string): ElementValue | number {
  const d = elementByName(name)!;
  switch (d.kind) {
    case 'u32':
      return 0;
    case 'u64':
      return 0n;
    case 'vec128':
      return { dw0: 0n, dw1: 0n };
    case 'partitionTable':
      return { address: 0n, eaBits: 0n, rootBytes: 0n };
    case 'processTable':
      return { address: 0n, bytes: 0n };
    case 'buffer':
      return { address: 0n, bytes: 0n };
    default:
      return new Uint8Array(d.size);
  }
}

/** Decodes the GSB at `addr` (capacity `bytes`) into name → value. */
export function decodeBuffer(l0: L0, addr: number, bytes: number): Record<string, ElementValue> {
  const d = decodeGsb(l0.ram.u8.subarray(addr, addr + bytes));
  if (!d.ok) throw new Error(`decode: ${d.reason}`);
  const out: Record<string, ElementValue> = {};
  for (const e of d.elements) out[e.name] = e.value;
  return out;
}

/** Negotiates POWER10 and creates a guest; returns its id. */
export function createGuest(l0: L0): number {
  const caps = hcall(l0, Hcall.H_GUEST_SET_CAPABILITIES, 0, Cap.POWER10);
  if (caps.rc !== H.SUCCESS && caps.rc !== H.STATE) throw new Error(`SET_CAPABILITIES: ${caps.rc}`);
  const c = hcall(l0, Hcall.H_GUEST_CREATE, 0, -1);
  if (c.rc !== H.SUCCESS) throw new Error(`CREATE: ${c.rc} (${l0.lastReason})`);
  return Number(c.out[0]);
}

/**
 * Text forms of Guest State Buffers for people: hex in and out, and the JSON element shape that
 * `nestsim gsb decode --json` prints and `nestsim gsb encode` reads (documented in docs/gsb.md).
 *
 * JSON element: { "id": "0x1000", "name": "GPR0", "size": 8, "value": "0x00000000deadbeef" }.
 * Register values are hex strings zero-padded to the element width (8 or 16 digits), so every bit
 * survives JSON. Structured values are objects: addresses are hex strings, counts (eaBits, bytes,
 * rootBytes) are JSON numbers when exact (≤ 2^53 − 1), else hex strings. Vectors are
 * {"dw0": "0x…", "dw1": "0x…"}. BLANK's value is its raw bytes as one hex string ("0x" if empty).
 * On input, numbers, "0x" hex strings and decimal strings are all accepted wherever a value is.
 */
import { type ElementDef, elementById, elementByName, formatElementId } from './elements.js';
import type { DecodedElement, ElementInput, ElementValue } from './values.js';

/** Result of a text conversion: a value or the reason it failed. */
export type TextResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const isSep = (ch: string) => ch === ':' || ch === '-' || ch === ',' || /\s/.test(ch);
const HEX_DIGIT = /^[0-9a-fA-F]$/;

/**
 * Bytes of a hex text. Tolerates whitespace, ':' and '-' separators and a "0x" prefix on every
 * group ("0x00000001 1001:0008 …"). Errors name the 1-based column of the first bad character.
 */
export function parseHex(text: string): TextResult<Uint8Array> {
  const digits: number[] = [];
  let atGroupStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (isSep(ch)) {
      atGroupStart = true;
      continue;
    }
    if (atGroupStart && ch === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      i++;
      atGroupStart = false;
      continue;
    }
    atGroupStart = false;
    if (!HEX_DIGIT.test(ch))
      return { ok: false, reason: `${JSON.stringify(ch)} at column ${i + 1} is not a hex digit` };
    digits.push(Number.parseInt(ch, 16));
  }
  if (digits.length % 2 !== 0) {
    return { ok: false, reason: `odd number of hex digits (${digits.length}); every byte needs two` };
  }
  const bytes = new Uint8Array(digits.length / 2);
  for (let k = 0; k < bytes.length; k++) bytes[k] = (digits[2 * k]! << 4) | digits[2 * k + 1]!;
  return { ok: true, value: bytes };
}

/** Lowercase hex of `bytes`, no prefix, no separators. */
export function formatHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** "0x" + `v` in hex, zero-padded to `digits`. */
export function hexWidth(v: bigint | number, digits: number): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

/** A count as a JSON number when exact, else a hex string. */
function countJson(v: bigint): number | string {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : hexWidth(v, 16);
}

/** A JSON value of an element (see the file comment). */
export type JsonValue = string | number | { [field: string]: string | number };

/** An element as `nestsim gsb decode --json` prints it. */
export interface JsonElement {
  id: string;
  name: string;
  size: number;
  value: JsonValue;
}

/** The JSON form of one decoded element. */
export function toJsonElement(e: DecodedElement): JsonElement {
  return { id: formatElementId(e.id), name: e.name, size: e.size, value: toJsonValue(e) };
}

function toJsonValue(e: DecodedElement): JsonValue {
  switch (e.kind) {
    case 'blank':
      return `0x${formatHex(e.value)}`;
    case 'u32':
      return hexWidth(e.value, 8);
    case 'u64':
      return hexWidth(e.value, 16);
    case 'vec128':
      return { dw0: hexWidth(e.value.dw0, 16), dw1: hexWidth(e.value.dw1, 16) };
    case 'partitionTable':
      return {
        address: hexWidth(e.value.address, 16),
        eaBits: countJson(e.value.eaBits),
        rootBytes: countJson(e.value.rootBytes),
      };
    case 'processTable':
    case 'buffer':
      return { address: hexWidth(e.value.address, 16), bytes: countJson(e.value.bytes) };
  }
}

/** The value of a decoded element on one line, for the table of `nestsim gsb decode`. */
export function formatValueText(e: DecodedElement): string {
  const v = toJsonValue(e);
  if (typeof v !== 'object') return e.kind === 'blank' && e.size === 0 ? '(empty)' : String(v);
  return Object.entries(v)
    .map(([k, x]) => `${k}=${x}`)
    .join(' ');
}

/** An unsigned integer below 2^bits from a JSON number, a "0x" hex string or a decimal string. */
export function parseUnsigned(v: unknown, bits: number): TextResult<bigint> {
  let n: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return { ok: false, reason: `${v} is not an unsigned integer` };
    if (!Number.isSafeInteger(v))
      return { ok: false, reason: `${v} is not exact in JSON; write it as a hex string` };
    n = BigInt(v);
  } else if (typeof v === 'bigint') {
    if (v < 0n) return { ok: false, reason: `${v} is negative` };
    n = v;
  } else if (typeof v === 'string') {
    const s = v.trim().replaceAll('_', '');
    if (/^0[xX][0-9a-fA-F]+$/.test(s) || /^[0-9]+$/.test(s)) n = BigInt(s);
    else return { ok: false, reason: `${JSON.stringify(v)} is neither "0x" hex nor decimal` };
  } else {
    return { ok: false, reason: `expected a number or a hex string, got ${describeJson(v)}` };
  }
  if (n >> BigInt(bits) !== 0n)
    return { ok: false, reason: `${hexWidth(n, 0)} does not fit in ${bits} bits` };
  return { ok: true, value: n };
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads an object's named fields as unsigned 64-bit values; refuses missing and extra fields. */
function parseFields<K extends string>(v: unknown, fields: readonly K[]): TextResult<Record<K, bigint>> {
  if (!isRecord(v)) {
    return { ok: false, reason: `expected an object with ${fields.join(', ')}, got ${describeJson(v)}` };
  }
  for (const k of Object.keys(v)) {
    if (!(fields as readonly string[]).includes(k))
      return { ok: false, reason: `unknown field "${k}" (expected ${fields.join(', ')})` };
  }
  const out = {} as Record<K, bigint>;
  for (const f of fields) {
    if (!(f in v)) return { ok: false, reason: `missing field "${f}"` };
    const r = parseUnsigned(v[f], 64);
    if (!r.ok) return { ok: false, reason: `${f}: ${r.reason}` };
    out[f] = r.value;
  }
  return { ok: true, value: out };
}

const MASK64 = (1n << 64n) - 1n;

/** The typed value of element `def` from its JSON form; `size` is the given size (BLANK only). */
export function parseJsonValue(
  def: ElementDef,
  v: unknown,
  size: number | undefined,
): TextResult<ElementValue> {
  switch (def.kind) {
    case 'blank': {
      if (v === undefined) return { ok: true, value: new Uint8Array(size ?? 0) };
      if (typeof v !== 'string')
        return { ok: false, reason: `BLANK takes a hex string, got ${describeJson(v)}` };
      const r = parseHex(v);
      if (!r.ok) return r;
      if (size !== undefined && size !== r.value.length)
        return { ok: false, reason: `size ${size} but the value has ${r.value.length} bytes` };
      return r;
    }
    case 'u32': {
      const r = parseUnsigned(v, 32);
      return r.ok ? { ok: true, value: Number(r.value) } : r;
    }
    case 'u64':
      return parseUnsigned(v, 64);
    case 'vec128': {
      if (isRecord(v)) return parseFields(v, ['dw0', 'dw1'] as const);
      const r = parseUnsigned(v, 128);
      return r.ok ? { ok: true, value: { dw0: r.value >> 64n, dw1: r.value & MASK64 } } : r;
    }
    case 'partitionTable':
      return parseFields(v, ['address', 'eaBits', 'rootBytes'] as const);
    case 'processTable':
    case 'buffer':
      return parseFields(v, ['address', 'bytes'] as const);
  }
}

/** Resolves an element named by `id` (number, "0x…" hex, decimal string or a name) and/or `name`. */
function resolveElement(id: unknown, name: unknown): TextResult<ElementDef> {
  let byId: ElementDef | undefined;
  if (id !== undefined) {
    if (typeof id === 'string' && !/^(0[xX][0-9a-fA-F_]+|[0-9]+)$/.test(id.trim())) {
      byId = elementByName(id.trim());
      if (!byId) return { ok: false, reason: `unknown element name "${id}"` };
    } else {
      const r = parseUnsigned(id, 16);
      if (!r.ok) return { ok: false, reason: `id: ${r.reason}` };
      byId = elementById(Number(r.value));
      if (!byId)
        return { ok: false, reason: `unknown element ID ${formatElementId(Number(r.value))} (reserved)` };
    }
  }
  if (name !== undefined) {
    if (typeof name !== 'string')
      return { ok: false, reason: `name must be a string, got ${describeJson(name)}` };
    const byName = elementByName(name.trim());
    if (!byName) return { ok: false, reason: `unknown element name "${name}"` };
    if (byId && byId !== byName)
      return {
        ok: false,
        reason: `id ${formatElementId(byId.id)} is ${byId.name}, but name says ${byName.name}`,
      };
    return { ok: true, value: byName };
  }
  if (!byId) return { ok: false, reason: 'needs an "id" or a "name"' };
  return { ok: true, value: byId };
}

const ELEMENT_KEYS = ['id', 'name', 'size', 'value'];

/** A failure of fromJsonElements: the element index (−1: the list itself), what we know of it, why. */
export interface JsonFailure {
  ok: false;
  index: number;
  /** "0x1001 GPR1" when the element was identified, else "". */
  element: string;
  reason: string;
}

/** Elements to encode from parsed JSON (an array of elements, or one element object). */
export function fromJsonElements(input: unknown): { ok: true; elements: ElementInput[] } | JsonFailure {
  const list = Array.isArray(input) ? input : isRecord(input) ? [input] : undefined;
  if (!list)
    return {
      ok: false,
      index: -1,
      element: '',
      reason: `expected a JSON array of elements, got ${describeJson(input)}`,
    };
  const elements: ElementInput[] = [];
  for (const [index, item] of list.entries()) {
    const bad = (reason: string, element = ''): JsonFailure => ({ ok: false, index, element, reason });
    if (!isRecord(item)) return bad(`expected an object, got ${describeJson(item)}`);
    const extra = Object.keys(item).find((k) => !ELEMENT_KEYS.includes(k));
    if (extra !== undefined) return bad(`unknown key "${extra}" (expected id, name, size, value)`);
    const def = resolveElement(item.id, item.name);
    if (!def.ok) return bad(def.reason);
    const label = `${formatElementId(def.value.id)} ${def.value.name}`;
    let size: number | undefined;
    if (item.size !== undefined) {
      const s = item.size;
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffff)
        return bad(`size must be an integer 0..65535, got ${describeJson(s)}`, label);
      if (def.value.size >= 0 && s !== def.value.size)
        return bad(`size ${s}, but ${def.value.name} is ${def.value.size} bytes`, label);
      size = s;
    }
    if (item.value === undefined && def.value.kind !== 'blank') return bad('missing "value"', label);
    const value = parseJsonValue(def.value, item.value, size);
    if (!value.ok) return bad(`value: ${value.reason}`, label);
    elements.push({ id: def.value.id, value: value.value });
  }
  return { ok: true, elements };
}

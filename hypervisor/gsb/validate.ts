/**
 * The checks an L0 makes on a Guest State Buffer before it applies anything, returning the exact
 * answer L1 gets (spec §5.5, §5.6, §9.2, §18 and the decisions table). Never throws on any bytes.
 *
 * Per element, in header order, the first failure wins:
 *   1. the element must fit in the buffer             → buffer-level code (below), R4 = its index/offset
 *   2. ID 0x0000 (BLANK): any length, skipped          (decisions table; no further checks)
 *   3. the ID must be in the element table             → H_INVALID_ELEMENT_ID
 *   4. the length must equal the table size            → H_INVALID_ELEMENT_SIZE
 *   5. the scope must match the request                → H_INVALID_ELEMENT_VALUE
 *      (guest-wide request: guest-wide IDs only; host-wide GET: 0x0800–0x0804 only;
 *       thread request and RUN_VCPU input: thread-wide IDs only)
 *   6. SET / RUN_VCPU input: the element must be L1-settable → H_INVALID_ELEMENT_VALUE
 *   7. an optional caller check of the value           → H_INVALID_ELEMENT_VALUE
 * R4 = the element's index for GET/SET_STATE, its byte offset from the buffer start for the
 * RUN_VCPU input buffer (decisions table; KD says "offset" there).
 *
 * Buffer-level failures (no single element is at fault, or the buffer cannot hold what its header
 * claims). Why these codes:
 *   - GET/SET_STATE: H_P3. The PAPR text defines no dedicated code for a malformed buffer; QEMU
 *     answers H_P3 for every buffer problem, spec §18 recommends H_P3 for "buffer readable" in both
 *     its QEMU and PAPR columns, and §11.5 recommends H_P3 for a buffer over 1 MiB. Keeping every
 *     buffer-level problem (unmappable, too large, header count past R8) on one code lets L1 treat
 *     them alike, and Linux does (any failure is an error). Strict parameter numbering would say
 *     H_P5 (R8 is the fifth parameter), so the code is the single constant STATE_BUFFER_RC.
 *   - RUN_VCPU input buffer: H_INPUT_BUFFER_TOO_SMALL (−83). The buffer is not an hcall parameter
 *     there (it was registered with element 0x0C00), so an H_Pn would blame an innocent register
 *     (H_P3 is the vCPU id); a header count that runs past the registered size is precisely an
 *     input buffer too small for its contents.
 *   - a capacity over the limit (1 MiB for GET/SET_STATE, DefaultLimits) → H_P3 for every request.
 */
import { DefaultLimits, H } from '../papr.js';
import { GsbCursor } from './codec.js';
import { type ElementDef, type ElementScope, elementById, formatElementId } from './elements.js';

/** The requests whose buffers L0 validates. */
export const Request = {
  /** H_GUEST_GET_STATE with flag bit 0: guest-wide IDs. */
  GET_GUEST: 'get-guest',
  /** H_GUEST_GET_STATE with flag bit 1: host-wide IDs 0x0800–0x0804. */
  GET_HOST: 'get-host',
  /** H_GUEST_GET_STATE without flags: thread-wide IDs of one vCPU. */
  GET_THREAD: 'get-thread',
  /** H_GUEST_SET_STATE with flag bit 0: settable guest-wide IDs. */
  SET_GUEST: 'set-guest',
  /** H_GUEST_SET_STATE without flags: settable thread-wide IDs. */
  SET_THREAD: 'set-thread',
  /** The run input buffer of H_GUEST_RUN_VCPU: settable thread-wide IDs, R4 = byte offset. */
  RUN_INPUT: 'run-input',
  /** Structure only (IDs known, sizes right, count fits): what `nestsim gsb decode` checks. */
  ANY: 'any',
} as const;
/** One of the Request kinds. */
export type RequestKind = (typeof Request)[keyof typeof Request];

/** Every request kind, in a stable order (CLI choices, tests). */
export const REQUEST_KINDS: readonly RequestKind[] = Object.values(Request);

/** The code for a malformed GET/SET_STATE buffer (see the header comment for why H_P3). */
export const STATE_BUFFER_RC: number = H.P3;

interface Rule {
  /** Scope every element must have; null: any. */
  readonly scope: ElementScope | null;
  /** SET-like: read-only elements are refused. */
  readonly settable: boolean;
  /** R4 carries the byte offset rather than the index. */
  readonly r4IsOffset: boolean;
  /** rc when the buffer cannot hold what its header claims. */
  readonly bufferRc: number;
  /** Default capacity limit. */
  readonly maxBytes: number;
  /** Words for messages. */
  readonly what: string;
}

const RULES: Record<RequestKind, Rule> = {
  'get-guest': rule('guest', false, 'guest-wide GET_STATE'),
  'get-host': rule('host', false, 'host-wide GET_STATE'),
  'get-thread': rule('thread', false, 'thread-wide GET_STATE'),
  'set-guest': rule('guest', true, 'guest-wide SET_STATE'),
  'set-thread': rule('thread', true, 'thread-wide SET_STATE'),
  'run-input': {
    scope: 'thread',
    settable: true,
    r4IsOffset: true,
    bufferRc: H.INPUT_BUFFER_TOO_SMALL,
    maxBytes: DefaultLimits.maxRunBufferBytes,
    what: 'RUN_VCPU input buffer',
  },
  any: { ...rule(null, false, 'buffer'), maxBytes: Number.POSITIVE_INFINITY },
};

function rule(scope: ElementScope | null, settable: boolean, what: string): Rule {
  return {
    scope,
    settable,
    r4IsOffset: false,
    bufferRc: STATE_BUFFER_RC,
    maxBytes: DefaultLimits.maxStateBufferBytes,
    what,
  };
}

const SCOPE_WORDS: Record<ElementScope, string> = {
  guest: 'guest-wide',
  host: 'host-wide',
  thread: 'thread-wide',
};

/** A caller's check of an element's value; returns the reason it is refused, or undefined. */
export type ValueCheck = (def: ElementDef, view: DataView, valueOffset: number) => string | undefined;

/** Options of checkGsb / validateGsb. */
export interface CheckOptions {
  /** Largest capacity accepted (default: 1 MiB, 16384 for the run input buffer, none for `any`). */
  maxBytes?: number;
  /** Extra value checks (e.g. run buffer sizes, process table sizes), after the table's checks. */
  checkValue?: ValueCheck;
}

/** A caller-owned result record, filled by checkGsb (so a check on the hot path allocates nothing). */
export interface GsbCheck {
  ok: boolean;
  /** H.SUCCESS, or the code L0 returns in R3. */
  rc: number;
  /** What L0 returns in R4 on failure: the element index, or its byte offset for RUN_VCPU; 0 if none. */
  r4: number;
  /** Index of the element at fault; −1 when the buffer as a whole is. */
  index: number;
  /** Offset of that element's header from the buffer start; −1 when the buffer as a whole is. */
  byteOffset: number;
  /** ID of that element; −1 when unknown or unreadable. */
  id: number;
  /** Why, in one line (empty on success). */
  reason: string;
  /** Elements in the buffer (header count), on success. */
  count: number;
  /** Bytes used, header included, on success. */
  used: number;
}

/** A fresh result record for checkGsb. */
export function newGsbCheck(): GsbCheck {
  return { ok: true, rc: H.SUCCESS, r4: 0, index: -1, byteOffset: -1, id: -1, reason: '', count: 0, used: 0 };
}

/** The outcome of validateGsb. */
export type GsbValidation =
  | { ok: true; count: number; used: number }
  | { ok: false; rc: number; r4: number; index: number; byteOffset: number; id: number; reason: string };

/**
 * Cursors by nesting depth, reused: a walk allocates nothing (RUN_VCPU checks its input buffer on
 * every exit), and a caller's checkValue that calls checkGsb again gets the next depth's cursor.
 */
const cursors: GsbCursor[] = [new GsbCursor()];
let depth = 0;

/**
 * Checks the buffer at `view[offset]` of `capacity` bytes for request `kind` and fills `out`.
 * Returns out.ok. Allocates only to build the reason string of a failure.
 */
export function checkGsb(
  view: DataView,
  offset: number,
  capacity: number,
  kind: RequestKind,
  out: GsbCheck,
  opts?: CheckOptions,
): boolean {
  const r = RULES[kind];
  const maxBytes = opts?.maxBytes ?? r.maxBytes;
  if (capacity > maxBytes) {
    return fail(out, H.P3, -1, -1, -1, 0, `buffer of ${capacity} bytes is over the ${maxBytes}-byte limit`);
  }
  let c = cursors[depth];
  if (!c) {
    c = new GsbCursor();
    cursors[depth] = c;
  }
  depth++;
  try {
    return walk(c, view, offset, capacity, r, out, opts?.checkValue);
  } finally {
    depth--;
  }
}

/** checkGsb's walk over the elements with cursor `c`. */
function walk(
  c: GsbCursor,
  view: DataView,
  offset: number,
  capacity: number,
  r: (typeof RULES)[RequestKind],
  out: GsbCheck,
  checkValue: CheckOptions['checkValue'],
): boolean {
  if (!c.start(view, offset, capacity)) {
    const have = c.end - offset;
    return fail(out, r.bufferRc, -1, -1, -1, 0, `${have}-byte buffer cannot hold the 4-byte header`);
  }
  while (c.next()) {
    const id = c.id;
    if (id === 0) continue;
    const def = elementById(id);
    const r4 = r.r4IsOffset ? c.byteOffset : c.index;
    if (!def) return fail(out, H.INVALID_ELEMENT_ID, c.index, c.byteOffset, id, r4, 'reserved element ID');
    if (c.length !== def.size) {
      const reason = `length ${c.length}, ${def.name} is ${def.size} bytes`;
      return fail(out, H.INVALID_ELEMENT_SIZE, c.index, c.byteOffset, id, r4, reason);
    }
    if (r.scope !== null && def.scope !== r.scope) {
      const reason = `${SCOPE_WORDS[def.scope]} element in a ${r.what}`;
      return fail(out, H.INVALID_ELEMENT_VALUE, c.index, c.byteOffset, id, r4, reason);
    }
    if (r.settable && !def.l1Settable) {
      const reason = `${def.name} is read-only (only L0 sets it)`;
      return fail(out, H.INVALID_ELEMENT_VALUE, c.index, c.byteOffset, id, r4, reason);
    }
    if (checkValue) {
      const why = checkValue(def, view, c.valueOffset);
      if (why !== undefined) return fail(out, H.INVALID_ELEMENT_VALUE, c.index, c.byteOffset, id, r4, why);
    }
  }
  if (c.overrun) {
    const r4 = r.r4IsOffset ? c.byteOffset : c.index;
    const need = c.length < 0 ? 4 : 4 + c.length;
    const left = c.end - offset - c.byteOffset;
    const reason = `header count ${c.count} runs past the ${c.end - offset}-byte buffer (this element needs ${need} bytes, ${left} remain)`;
    return fail(out, r.bufferRc, c.index, c.byteOffset, c.id, r4, reason);
  }
  out.ok = true;
  out.rc = H.SUCCESS;
  out.r4 = 0;
  out.index = -1;
  out.byteOffset = -1;
  out.id = -1;
  out.reason = '';
  out.count = c.count;
  out.used = c.used;
  return true;
}

function fail(
  out: GsbCheck,
  rc: number,
  index: number,
  byteOffset: number,
  id: number,
  r4: number,
  reason: string,
): false {
  out.ok = false;
  out.rc = rc;
  out.r4 = r4;
  out.index = index;
  out.byteOffset = byteOffset;
  out.id = id;
  out.reason = reason;
  out.count = 0;
  out.used = 0;
  return false;
}

/**
 * Validates a buffer for request `kind`: a whole Uint8Array, or (view, offset, capacity) through
 * `region`. Returns the L0 answer as a value; never throws.
 */
export function validateGsb(
  bytes: Uint8Array | DataView,
  kind: RequestKind,
  opts?: CheckOptions & { offset?: number; capacity?: number },
): GsbValidation {
  const view =
    bytes instanceof DataView ? bytes : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = opts?.offset ?? 0;
  const capacity = opts?.capacity ?? view.byteLength - offset;
  const out = newGsbCheck();
  if (checkGsb(view, offset, capacity, kind, out, opts))
    return { ok: true, count: out.count, used: out.used };
  const { rc, r4, index, byteOffset, id, reason } = out;
  return { ok: false, rc, r4, index, byteOffset, id, reason };
}

/** Where a failure lies: "element 2 (0x1001 GPR1) at byte 16", or "" when the buffer as a whole is at fault. */
export function failureLocation(f: { index: number; byteOffset: number; id: number }): string {
  if (f.index < 0) return '';
  const def = f.id >= 0 ? elementById(f.id) : undefined;
  const name = f.id < 0 ? '' : ` (${formatElementId(f.id)}${def ? ` ${def.name}` : ''})`;
  return `element ${f.index}${name} at byte ${f.byteOffset}`;
}

/** "element 2 (0x1001 GPR1) at byte 16: reason", or the reason alone for a buffer-wide failure. */
export function describeFailure(f: {
  index: number;
  byteOffset: number;
  id: number;
  reason: string;
}): string {
  const where = failureLocation(f);
  return where ? `${where}: ${f.reason}` : f.reason;
}

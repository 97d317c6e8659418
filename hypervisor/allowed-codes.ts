/**
 * The return codes each hcall of nestsim's L0 may give in r3: spec §2, §5, §14.6, §18 (the
 * PAPR-code column) and the decisions table, with the two H_BUSY answers nestsim defines (a vCPU
 * held by another core for GET/SET_STATE and RUN_VCPU; CREATE and DELETE under fault injection).
 * A code outside this table is an L0 bug whatever the arguments were: the property test of L0 and
 * the hcall-fuzz stressor both check every answer against it.
 *
 * Only the nested-v2 calls and H_RPT_INVALIDATE are here; any other opcode L0 does not offer
 * answers H_FUNCTION (H_GUEST_COPY_MEMORY included: decisions table). The v1 calls are not
 * listed (their r3 is an exit vector on success, spec §14.3).
 */
import { H, Hcall } from './papr.js';

/** Codes of the element checks of a state buffer, r4 = the element's index (or byte offset). */
const ELEMENT_CODES = [H.INVALID_ELEMENT_ID, H.INVALID_ELEMENT_SIZE, H.INVALID_ELEMENT_VALUE] as const;

/** Opcode → the codes it may give. */
export const ALLOWED_CODES: ReadonlyMap<number, readonly number[]> = new Map<number, readonly number[]>([
  [Hcall.H_GUEST_GET_CAPABILITIES, [H.SUCCESS, H.PARAMETER]],
  [Hcall.H_GUEST_SET_CAPABILITIES, [H.SUCCESS, H.PARAMETER, H.P2, H.STATE]],
  [Hcall.H_GUEST_CREATE, [H.SUCCESS, H.UNSUPPORTED_FLAG, H.P2, H.STATE, H.NOT_ENOUGH_RESOURCES, H.BUSY]],
  [Hcall.H_GUEST_CREATE_VCPU, [H.SUCCESS, H.UNSUPPORTED_FLAG, H.P2, H.P3, H.IN_USE, H.NOT_ENOUGH_RESOURCES]],
  [Hcall.H_GUEST_GET_STATE, [H.SUCCESS, H.PARAMETER, H.P2, H.P3, H.BUSY, ...ELEMENT_CODES]],
  [Hcall.H_GUEST_SET_STATE, [H.SUCCESS, H.PARAMETER, H.P2, H.P3, H.BUSY, ...ELEMENT_CODES]],
  [
    Hcall.H_GUEST_RUN_VCPU,
    [
      H.SUCCESS,
      H.PARAMETER,
      H.P2,
      H.P3,
      H.BUSY,
      H.INPUT_BUFFER_NOT_DEFINED,
      H.INPUT_BUFFER_TOO_SMALL,
      H.OUTPUT_BUFFER_NOT_DEFINED,
      H.OUTPUT_BUFFER_TOO_SMALL,
      H.PARTITION_PAGE_TABLE_NOT_DEFINED,
      ...ELEMENT_CODES,
    ],
  ],
  [Hcall.H_GUEST_DELETE, [H.SUCCESS, H.UNSUPPORTED_FLAG, H.P2, H.BUSY]],
  [Hcall.H_RPT_INVALIDATE, [H.SUCCESS, H.P2, H.P3, H.P5]],
  [Hcall.H_GUEST_COPY_MEMORY, [H.FUNCTION]],
]);

const NOT_OFFERED: readonly number[] = [H.FUNCTION];

/** The codes hcall `opcode` may give: H_FUNCTION alone for an opcode L0 has no handler for. */
export function allowedCodes(opcode: number): readonly number[] {
  return ALLOWED_CODES.get(opcode) ?? NOT_OFFERED;
}

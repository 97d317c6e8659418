/** Opcode → handler for every hcall L0 offers. Opcodes absent here answer H_FUNCTION. */
import { Hcall } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { hGuestGetCapabilities, hGuestSetCapabilities } from './capabilities.js';
import { hGuestCreate } from './guest-create.js';
import { hGuestCreateVcpu } from './guest-create-vcpu.js';
import { hGuestDelete } from './guest-delete.js';
import { hGuestRunVcpu } from './guest-run-vcpu.js';
import { hGuestGetState, hGuestSetState } from './guest-state.js';
import { hRptInvalidate } from './rpt-invalidate.js';

export const HCALL_HANDLERS: ReadonlyMap<number, HcallHandler> = new Map<number, HcallHandler>([
  [Hcall.H_GUEST_GET_CAPABILITIES, hGuestGetCapabilities],
  [Hcall.H_GUEST_SET_CAPABILITIES, hGuestSetCapabilities],
  [Hcall.H_GUEST_CREATE, hGuestCreate],
  [Hcall.H_GUEST_CREATE_VCPU, hGuestCreateVcpu],
  [Hcall.H_GUEST_DELETE, hGuestDelete],
  [Hcall.H_GUEST_GET_STATE, hGuestGetState],
  [Hcall.H_GUEST_SET_STATE, hGuestSetState],
  [Hcall.H_GUEST_RUN_VCPU, hGuestRunVcpu],
  [Hcall.H_RPT_INVALIDATE, hRptInvalidate],
]);

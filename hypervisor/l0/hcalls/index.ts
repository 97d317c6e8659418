/** Opcode → handler for every hcall L0 offers. Opcodes absent here answer H_FUNCTION. */
import { Hcall } from '../../papr.js';
import type { HcallHandler } from '../l0.js';
import { hCopyTofromGuest } from '../v1/copy-tofrom-guest.js';
import { hEnterNested } from '../v1/enter-nested.js';
import { withV1Nested } from '../v1/rpt-nested.js';
import { hSetPartitionTable } from '../v1/set-partition-table.js';
import { hTlbInvalidate } from '../v1/tlb-invalidate.js';
import { countRunTraffic, countStateTraffic } from '../v1/traffic.js';
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
  // Wrapped to count the state they move (L0Stats.stateBytes, for the v1/v2 bench).
  [Hcall.H_GUEST_GET_STATE, countStateTraffic(hGuestGetState, true)],
  [Hcall.H_GUEST_SET_STATE, countStateTraffic(hGuestSetState, false)],
  [Hcall.H_GUEST_RUN_VCPU, countRunTraffic(hGuestRunVcpu)],
  [Hcall.H_RPT_INVALIDATE, withV1Nested(hRptInvalidate)],
  // nested v1 (hypervisor/l0/v1/)
  [Hcall.H_SET_PARTITION_TABLE, hSetPartitionTable],
  [Hcall.H_ENTER_NESTED, hEnterNested],
  [Hcall.H_TLB_INVALIDATE, hTlbInvalidate],
  [Hcall.H_COPY_TOFROM_GUEST, hCopyTofromGuest],
]);

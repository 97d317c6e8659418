/** The shipped guest firmware with one interrupt vector handed to a stress program's own handler. */
import { encode as e } from '../../cores/encode.js';
import { firmwareImage } from '../../hypervisor/l1/firmware.js';

/**
 * The firmware image with `vector` branching to `handler` (an L2 real address) instead of
 * reporting a crash; a trap follows the branch, so a mistake can never fall through.
 */
export function firmwareWithHandler(vector: number, handler: number): Uint8Array {
  const fw = firmwareImage();
  const dv = new DataView(fw.buffer, fw.byteOffset, fw.byteLength);
  dv.setUint32(vector, e.b!(handler - vector), true);
  dv.setUint32(vector + 4, e.trap!(), true);
  return fw;
}

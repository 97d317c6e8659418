/** What an hcall-fuzz agent may hold, and how its scratch region of L1 memory is laid out. */

/** Bytes of scratch an agent needs: buffers, then the zeroed root directories of its guests. */
export const FUZZ_SCRATCH_BYTES = 64 << 10;
/** Buffers and its vCPUs' run buffers lie in [0, BUFFER_ZONE) of the scratch region. */
export const BUFFER_ZONE = 48 << 10;
/** [BUFFER_ZONE, FUZZ_SCRATCH_BYTES): partition-table root directories, never written. */
export const TABLE_ZONE = FUZZ_SCRATCH_BYTES - BUFFER_ZONE;
/** Guests, and vCPUs per guest, an agent holds at most. */
export const MAX_GUESTS = 3;
export const MAX_VCPUS = 3;

/** Drives an L0 through the hcall ABI only (no back doors into its objects). */
import type { L0 } from '../../hypervisor/l0/l0.js';
import { HcallRegs } from '../../hypervisor/l0/regs.js';

/** Result of one hcall: r3 and the output registers r4..r12 as unsigned bigints. */
export interface CallResult {
  rc: number;
  out: bigint[]; // out[0] = r4
}

/** Calls `opcode` with r4.. = args (bigint or number; -1 gives all ones). */
export function hcall(l0: L0, opcode: number, ...args: (bigint | number)[]): CallResult {
  const r = new HcallRegs();
  r.setInt(3, opcode);
  args.forEach((a, i) => {
    r.setBig(4 + i, BigInt(a));
  });
  const rc = l0.hcall(r);
  const out: bigint[] = [];
  for (let n = 4; n <= 12; n++) out.push(r.big(n));
  return { rc, out };
}

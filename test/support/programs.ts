/** Small L2 programs (encoded words) more than one test runs. */
import { encode as e } from '../../cores/encode.js';

/** r3 counts from 0 to `limit` (at most 0xffff), then `sc 1`: a long run with nothing but work. */
export function countTo(limit: number): number[] {
  return [
    e.li!(3, 0),
    e.lis!(4, 0),
    e.ori!(4, 4, limit),
    e.addi!(3, 3, 1),
    e.cmpd!(0, 3, 4),
    e.bne!(0, -8),
    e.sc!(1),
  ];
}

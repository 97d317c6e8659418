/**
 * The results of a guest running src/programs.ts `contentionLoopImage`, read from its memory when
 * it is over (L1 reads them just before it frees the guest's frames), and the check that every
 * count is exact. Shared by the stressors whose guests run that loop.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import type { GuestRam } from '../../../mem/ram.js';
import { asL1RA } from '../../../mem/types.js';
import { LOOP_DATA } from '../../programs.js';

/** What a contention guest left. */
export interface ContentionResult {
  lock: number;
  locked: number;
  lockFree: number;
}

/** Reads the counters of contention guest `g` (undefined when its data page was never mapped). */
export function readContention(ram: GuestRam, g: L1Guest): ContentionResult | undefined {
  const f = g.space.frameOf(LOOP_DATA);
  if (f === undefined) return undefined;
  return {
    lock: ram.read32le(asL1RA(f)),
    locked: Number(ram.dv.getBigUint64(f + 8, true)),
    lockFree: Number(ram.dv.getBigUint64(f + 16, true)),
  };
}

/** What is wrong with contention guest `g`'s end and counters, given `trips` per vCPU; [] when all is right. */
export function contentionProblems(g: L1Guest, r: ContentionResult | undefined, trips: number): string[] {
  const want = g.vcpus * trips;
  if (g.end.kind !== 'exited' || g.end.code !== 0) return [`${g.name} ended ${JSON.stringify(g.end)}`];
  if (!r) return [`${g.name}: results never read`];
  const bad: string[] = [];
  if (r.locked !== want) bad.push(`${g.name}: locked counter ${r.locked}, expected ${want}`);
  if (r.lockFree !== want) bad.push(`${g.name}: ldarx/stdcx. counter ${r.lockFree}, expected ${want}`);
  if (r.lock !== 0) bad.push(`${g.name}: lock word ${r.lock} at the end`);
  return bad;
}

/**
 * The TLB storm (bugs-to-catch.md B, the shapes of the never-merged tlbiel selftest): vCPUs on
 * several cores read and write a set of L2 pages while L1, at a seeded rate, remaps them to other
 * frames, write-protects them and unmaps them, each time followed by the partition-scoped
 * invalidation of the API in use (H_RPT_INVALIDATE NESTED under v2, H_TLB_INVALIDATE under v1);
 * with --chaos the guest's vCPUs are also moved to other cores right after each invalidation.
 * What must hold once an invalidation has returned:
 *   - remap / unmap: no vCPU reaches the frame the page left: L1 fills it with poison, and a read
 *     of poison ends the vCPU with the stale exit code; a store through a stale translation shows
 *     as a change in the poisoned frame, verified when L1 frees it a few ticks later;
 *   - write-protect: a store faults (L1 counts the protection faults and gives the right back
 *     later), and the page's bytes do not change while it is protected.
 */
import type { L1Guest } from '../../../hypervisor/l1/guest.js';
import { Perm } from '../../../mem/radix.js';
import type { GuestRam } from '../../../mem/ram.js';
import { stormImage } from '../../programs.js';
import type { StressCheck, StressContext, Stressor } from '../stressor.js';

/** Parameters (scenario `stressors.tlb-storm`). */
export interface TlbStormParams {
  vcpus: number;
  pages: number;
  /** L1 operations (remap, protect, unmap) per tick, at most. */
  rate: number;
  /** Operations in all; --iterations overrides. */
  iterations: number;
}

const BASE = 0x20_0000;
const FLAG = 0x40_0000;
const POISON = 0x0bad;
const STALE_EXIT = 99;
/** Ticks a frame a page left stays poisoned and watched before L1 frees it. */
const QUARANTINE_TICKS = 8;
/** Ticks a page stays write-protected. */
const PROTECT_TICKS = 4;

/** One poisoned frame being watched. */
interface Quarantined {
  frame: number;
  page: number;
  until: number;
  how: 'remap' | 'unmap';
}

export class TlbStormStressor implements Stressor {
  readonly name = 'tlb-storm';
  readonly opName = 'remaps/protects/unmaps';
  readonly deletesAllGuests = false;
  ops = 0;
  private g: L1Guest | undefined;
  private ticks = 0;
  private readonly quarantine: Quarantined[] = [];
  private readonly protectedPages = new Map<number, { until: number; snapshot: Uint8Array }>();
  private readonly counts = { remap: 0, protect: 0, unmap: 0, framesChecked: 0, pagesChecked: 0 };
  private readonly broken: string[] = [];
  private wound = false;
  private ram: GuestRam | undefined;

  constructor(private readonly p: TlbStormParams) {}

  get finished(): boolean {
    return this.g?.finished ?? true;
  }

  setup(ctx: StressContext): void {
    this.ram = ctx.sim.ram;
    this.g = ctx.sim.addGuest({
      name: 'tlb-storm',
      image: stormImage({
        base: BASE,
        pages: this.p.pages,
        flag: FLAG,
        poison: POISON,
        staleExit: STALE_EXIT,
      }),
      vcpus: this.p.vcpus,
      memoryBytes: 8 << 20,
      paging: 'eager',
    });
  }

  tick(ctx: StressContext): void {
    const g = this.g!;
    if (g.finished || this.wound) return;
    this.ticks++;
    this.age(ctx);
    // Start once the vCPUs run (a first look at the pages happened), so the storm meets them.
    if (ctx.sim.instructions < 10_000) return;
    for (let k = 0; k < this.p.rate && this.ops < this.p.iterations; k++) this.operate(ctx);
    if (this.ops >= this.p.iterations) this.stop(ctx);
  }

  /** One seeded operation on one page that is not write-protected now. */
  private operate(ctx: StressContext): void {
    const g = this.g!;
    const sim = ctx.sim;
    const page = ctx.rng.below(this.p.pages);
    if (this.protectedPages.has(page)) return;
    const l2ra = BASE + page * 4096;
    const what = ctx.rng.below(3);
    if (what === 0) {
      if (g.space.frameOf(l2ra) === undefined) return; // unmapped earlier, not touched since
      const r = sim.l1.remapPage(g, l2ra); // remaps, then invalidates: the old frame is out of reach
      this.poison(r.oldFrame, page, 'remap');
      this.counts.remap++;
    } else if (what === 1) {
      if (!g.space.protect(l2ra, Perm.Read)) return; // not mapped right now (unmapped earlier)
      sim.l1.invalidate(g);
      const f = g.space.frameOf(l2ra)!;
      this.protectedPages.set(page, {
        until: this.ticks + PROTECT_TICKS,
        snapshot: sim.ram.u8.slice(f, f + 4096),
      });
      this.counts.protect++;
    } else {
      const frame = g.space.frameOf(l2ra);
      if (frame === undefined || !g.space.unmap(l2ra)) return;
      sim.l1.invalidate(g);
      this.poison(frame, page, 'unmap');
      this.counts.unmap++;
    }
    this.ops++;
    if (ctx.chaos) sim.moveLoopsOf(g);
  }

  /** Fills a frame the page left with poison and watches it. */
  private poison(frame: number, page: number, how: 'remap' | 'unmap'): void {
    const dv = this.ram!.dv;
    for (let a = 0; a < 4096; a += 4) dv.setUint32(frame + a, POISON, true);
    this.quarantine.push({ frame, page, until: this.ticks + QUARANTINE_TICKS, how });
  }

  /** Frees watched frames whose time is up (checking them), and gives write rights back. */
  private age(ctx: StressContext, all = false): void {
    const g = this.g!;
    const ram = ctx.sim.ram;
    for (let i = this.quarantine.length - 1; i >= 0; i--) {
      const q = this.quarantine[i]!;
      if (!all && q.until > this.ticks) continue;
      this.quarantine.splice(i, 1);
      this.counts.framesChecked++;
      for (let a = 0; a < 4096; a += 4)
        if (ram.dv.getUint32(q.frame + a, true) !== POISON) {
          this.broken.push(
            `page ${q.page}: a store reached its old frame at +0x${a.toString(16)} after the ${q.how} and its invalidation returned`,
          );
          break;
        }
      g.space.releaseFrame(q.frame);
    }
    for (const [page, pr] of this.protectedPages) {
      if (!all && pr.until > this.ticks) continue;
      const l2ra = BASE + page * 4096;
      const f = g.space.frameOf(l2ra);
      this.counts.pagesChecked++;
      if (f !== undefined) {
        const now = ram.u8.subarray(f, f + 4096);
        const at = now.findIndex((b, k) => b !== pr.snapshot[k]);
        if (at >= 0)
          this.broken.push(
            `page ${page}: changed at +0x${at.toString(16)} while write-protected (a store used a stale writable translation)`,
          );
      }
      this.protectedPages.delete(page);
      g.space.protect(l2ra, Perm.Read | Perm.Write); // more rights: no invalidation needed
    }
  }

  /** Ends the storm: rights back, the vCPUs told to stop. */
  private stop(ctx: StressContext): void {
    if (this.wound) return;
    this.wound = true;
    this.age(ctx, true);
    const g = this.g!;
    const f = g.space.frameOf(FLAG);
    if (f !== undefined) ctx.sim.ram.dv.setUint32(f, 1, true);
    else if (!g.finished) ctx.sim.deleteGuest(g); // the flag page was never touched: cannot tell it
  }

  wind(ctx: StressContext): void {
    this.stop(ctx);
  }

  guestOver(ctx: StressContext, g: L1Guest): void {
    if (g !== this.g) return;
    // Its memory goes now: check what is still watched first.
    this.age(ctx, true);
  }

  finish(): StressCheck[] {
    const g = this.g!;
    const stale = [...g.vcpuCodes].filter(([, code]) => code === STALE_EXIT).map(([v]) => v);
    const ended = g.end.kind === 'exited' && stale.length === 0;
    const c = this.counts;
    const checks: StressCheck[] = [
      {
        name: 'tlb-storm: no read of a frame a page left',
        ok: ended,
        detail: ended
          ? `${g.vcpus} vCPUs read ${this.p.pages} pages through ${c.remap} remaps and ${c.unmap} unmaps`
          : stale.length > 0
            ? `vCPU ${stale.join(', ')} read poison: a stale translation was used after the invalidation returned`
            : `the guest ended ${JSON.stringify(g.end)}`,
        evaluated: c.remap + c.unmap,
      },
      {
        name: 'tlb-storm: no store through a stale translation',
        ok: this.broken.length === 0,
        detail:
          this.broken.length === 0
            ? `${c.framesChecked} left frames and ${c.pagesChecked} write-protected pages unchanged`
            : this.broken.slice(0, 5).join('; '),
        evaluated: c.framesChecked + c.pagesChecked,
      },
      {
        name: 'tlb-storm: stores to write-protected pages fault',
        ok: c.protect < 20 || g.space.protectionFaults > 0,
        detail: `${g.space.protectionFaults} protection faults over ${c.protect} write-protections`,
        evaluated: c.protect,
      },
    ];
    return checks;
  }
}

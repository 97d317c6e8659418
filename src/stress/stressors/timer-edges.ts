/**
 * Timer edges (bugs-to-catch §D, checklist item 9): L2 vCPUs that take decrementer interrupts
 * while they also exit to L1, with the expiries placed by the seed on both sides of those exits.
 * Each vCPU runs src/stress/programs-timer.ts: it arms DEC from a seeded table (its own handler at
 * 0x900 re-arms the next expiry at each delivery) and makes hcalls L1 answers just before an
 * expiry, just after one, with MSR[EE] off across one (so the interrupt is pending through the
 * exit), or one L1 time slice before one (so the HDEC exit that ends the slice lands next to it).
 * L1 gives each guest a seeded HDEC slice (GuestSpec.hdecTicks).
 *
 * Checks, from what the guests counted and what L1 saw:
 * - no spurious DEC interrupt: DEC was negative at every delivery (Book III: pending only while
 *   negative) — a core that delivers early, or keeps delivering after the handler re-armed;
 * - none lost: every arm delivered exactly once, no wait for an expiry ran out — a core or L0 that
 *   drops a pending DEC across an exit (the nestedv2 "cancel pending decrementer" bug class);
 * - the guest timebase never went backwards, across exits and moves between cores;
 * - L1's HDEC slices respected: an HDEC exit never before the expiry L1 set, nor missing after it.
 *   L1 sets expiry = its TB at entry + slice and TB advances with the vCPU's instructions, so every
 *   run that ends in HDEC is exactly one slice of the vCPU's own time (PURR), and none is longer.
 *   The program reads PURR around each of its own exits, so for each interval between two of them
 *   the number of HDEC exits is at most ⌊time / slice⌋ and at least ⌈time / slice⌉ − 1 − the other
 *   exits (L0 slices, faults) in it; summed over the guest, against the HDEC exits L1 counted.
 */

import { STACKS_TOP } from '../../../hypervisor/l1/address-space.js';
import type { GuestEnd, L1Guest } from '../../../hypervisor/l1/guest.js';
import { Hcall, NestsimHcall, Vector } from '../../../hypervisor/papr.js';
import type { SplitMix32 } from '../../../hypervisor/prng.js';
import { UserError } from '../../errors.js';
import {
  blockBytes,
  CEDE,
  HANDLER_TICKS,
  Placement,
  readBlock,
  strideFor,
  TIMER_DATA,
  type TimerBlock,
  type TimerSchedule,
  type TimerStep,
  timerImage,
} from '../programs-timer.js';
import { checkFrom, type StressCheck, type StressContext, type Stressor } from '../stressor.js';

/** Parameters (scenario `stressors.timer-edges`). */
export interface TimerEdgesParams {
  guests: number;
  vcpus: number;
  /** DEC expiries per vCPU. */
  arms: number;
  /** Ticks between consecutive expiries, drawn from [gapMin, gapMax]. */
  gapMin: number;
  gapMax: number;
  /** L1's HDEC slice of each guest, drawn from [hdecMin, hdecMax]. */
  hdecMin: number;
  hdecMax: number;
  /** How far (ticks) from an exit an expiry is placed. */
  window: number;
}

/** Stacks are never used: one page each. */
const STACK_BYTES = 0x1000;
/** Ticks a wait for an expiry may outlast it before the program calls it lost. */
const GRACE = 50_000;
/** Where the first expiry may come at the earliest (the program's setup takes ~20 instructions). */
const FIRST_EXPIRY = 256;
/** Per exit interval, instructions retired beyond the PURR reads: the mfspr and the sc, and margin. */
const EXIT_SLACK = 4;

/** One guest's outcome, as the checks take it. */
export interface TimerGuestResult {
  name: string;
  end: GuestEnd;
  /** L1's HDEC slice for the guest, in ticks. */
  hdecTicks: number;
  /** Exits of the guest's vCPUs by vector, as L1 counted them. */
  exits: ReadonlyMap<number, number>;
  /** Arms and steps each vCPU was given. */
  arms: number;
  steps: readonly number[];
  /** What each vCPU's block held when the guest was over (undefined: could not be read). */
  blocks: readonly (TimerBlock | undefined)[];
}

/** How many exits the edges actually landed on. */
export interface TimerCoverage {
  /** Exits the program made (hcalls and final exits). */
  exits: number;
  /** Exits with an expiry pending across them (DEC negative at the hcall, EE off). */
  pendingAcross: number;
  /** Exits with the expiry at most `window` ticks after them. */
  justAfter: number;
  /** Steps placed just after a delivery, and one HDEC slice before an expiry. */
  afterPlaced: number;
  hdecPlaced: number;
  /** HDEC exits L1 saw. */
  hdecExits: number;
}

export class TimerEdgesStressor implements Stressor {
  readonly name = 'timer-edges';
  readonly opName = 'DEC interrupts';
  readonly deletesAllGuests = false;
  private readonly guests: { g: L1Guest; hdecTicks: number; schedules: TimerSchedule[]; stride: number }[] =
    [];
  private readonly blocks = new Map<L1Guest, (TimerBlock | undefined)[]>();

  constructor(private readonly p: TimerEdgesParams) {
    const where = 'stressors.timer-edges';
    if (p.gapMin > p.gapMax)
      throw new UserError(`${where}.gapMin`, `${p.gapMin} is above gapMax ${p.gapMax}`);
    if (p.hdecMin > p.hdecMax)
      throw new UserError(`${where}.hdecMin`, `${p.hdecMin} is above hdecMax ${p.hdecMax}`);
    // The HDEC bounds count a handler as at most HANDLER_TICKS next to an exit: a slice must be
    // far longer than that.
    if (p.hdecMin < 8 * HANDLER_TICKS)
      throw new UserError(
        `${where}.hdecMin`,
        `${p.hdecMin} ticks: a slice must be at least ${8 * HANDLER_TICKS}`,
      );
    if (p.window >= p.gapMin)
      throw new UserError(`${where}.window`, `${p.window} ticks must be below gapMin (${p.gapMin})`);
    // DEC is 32 bits wide (LPCR[LD] = 0) and the table holds u32 offsets.
    if (FIRST_EXPIRY + p.arms * p.gapMax + GRACE >= 2 ** 31)
      throw new UserError(
        `${where}.arms`,
        `${p.arms} arms × gapMax ${p.gapMax} ticks overflow the 32-bit DEC`,
      );
    const stride = strideFor(blockBytes(p.arms, p.arms));
    if (TIMER_DATA + p.vcpus * stride > STACKS_TOP - p.vcpus * STACK_BYTES)
      throw new UserError(
        `${where}.arms`,
        `${p.arms} arms × ${p.vcpus} vCPUs do not fit in the guest's memory`,
      );
  }

  get ops(): number {
    let n = 0;
    for (const bs of this.blocks.values()) for (const b of bs) n += b?.delivered ?? 0;
    return n;
  }

  get finished(): boolean {
    return this.guests.every(({ g }) => g.finished);
  }

  setup(ctx: StressContext): void {
    const p = this.p;
    for (let k = 0; k < p.guests; k++) {
      const hdecTicks = p.hdecMin + ctx.rng.below(p.hdecMax - p.hdecMin + 1);
      const schedules: TimerSchedule[] = [];
      for (let v = 0; v < p.vcpus; v++) schedules.push(timerSchedule(ctx.rng, p, hdecTicks));
      const { image, firmware, stride } = timerImage(schedules);
      const g = ctx.sim.addGuest({
        name: `timer-edges#${k + 1}`,
        image,
        firmware,
        vcpus: p.vcpus,
        memoryBytes: 0x40_0000 + p.vcpus * (stride + STACK_BYTES),
        stackBytes: STACK_BYTES,
        paging: k % 2 === 0 ? 'eager' : 'demand',
        hdecTicks,
      });
      this.guests.push({ g, hdecTicks, schedules, stride });
    }
  }

  tick(): void {}

  wind(): void {}

  guestOver(_ctx: StressContext, g: L1Guest): void {
    const mine = this.guests.find((x) => x.g === g);
    if (!mine) return;
    const blocks: (TimerBlock | undefined)[] = [];
    for (let v = 0; v < g.vcpus; v++) {
      const base = TIMER_DATA + v * mine.stride;
      blocks.push(readBlock((off, bytes) => g.space.read(base + off, bytes)));
    }
    this.blocks.set(g, blocks);
  }

  /** The guests' outcomes (after the run). */
  results(): TimerGuestResult[] {
    return this.guests.map(({ g, hdecTicks, schedules }) => ({
      name: g.name,
      end: g.end,
      hdecTicks,
      exits: g.exits,
      arms: this.p.arms,
      steps: schedules.map((s) => s.steps.length),
      blocks: this.blocks.get(g) ?? schedules.map(() => undefined),
    }));
  }

  /** Where the edges landed (after the run). */
  coverage(): TimerCoverage {
    const c: TimerCoverage = {
      exits: 0,
      pendingAcross: 0,
      justAfter: 0,
      afterPlaced: 0,
      hdecPlaced: 0,
      hdecExits: 0,
    };
    for (const { g, schedules } of this.guests) {
      c.hdecExits += g.exits.get(Vector.HV_DECREMENTER) ?? 0;
      const blocks = this.blocks.get(g) ?? [];
      schedules.forEach((s, v) => {
        const b = blocks[v];
        if (!b) return;
        c.exits += b.exits.length;
        b.exits.slice(0, b.hcalls).forEach((x, k) => {
          const kind = s.steps[k]!.kind & 0xff;
          if (x.dec < 0) c.pendingAcross++;
          else if (x.dec <= this.p.window && kind !== Placement.HDEC) c.justAfter++;
          if (kind === Placement.AFTER) c.afterPlaced++;
          if (kind === Placement.HDEC) c.hdecPlaced++;
        });
      });
    }
    return c;
  }

  finish(): StressCheck[] {
    const checks = timerChecks(this.results());
    const c = this.coverage();
    const lost = checks.find((x) => x.name === LOST_CHECK);
    if (lost?.ok)
      lost.detail += ` (edges: ${c.pendingAcross} expiries pending across an exit, ${c.justAfter} within ${this.p.window} ticks after one, ${c.afterPlaced} just before one, ${c.hdecPlaced} one HDEC slice ahead)`;
    return checks;
  }
}

/** One vCPU's seeded schedule: expiries, and a step (an exit placed against it) for most of them. */
export function timerSchedule(rng: SplitMix32, p: TimerEdgesParams, hdecTicks: number): TimerSchedule {
  const arms: number[] = [];
  let t = FIRST_EXPIRY;
  for (let i = 0; i < p.arms; i++) {
    t += p.gapMin + rng.below(p.gapMax - p.gapMin + 1);
    arms.push(t);
  }
  const w = p.window;
  const steps: TimerStep[] = [];
  for (let a = 0; a < p.arms; a++) {
    if (rng.below(5) === 0) continue; // a fifth of the expiries land wherever the run is
    const placement = 1 + rng.below(4);
    const kind = placement | (rng.below(2) === 0 ? CEDE : 0);
    const side = () => rng.below(2 * w + 1) - w;
    let t1 = 0;
    let t2 = 0;
    switch (placement) {
      case Placement.BEFORE:
        t1 = 1 + rng.below(w);
        break;
      case Placement.AFTER:
        t1 = rng.below(w + 1);
        break;
      case Placement.MASKED:
        t2 = side();
        t1 = Math.max(t2, 0) + 8 + rng.below(w);
        break;
      default:
        t1 = hdecTicks + side();
    }
    steps.push({ arm: a, kind, t1, t2, deadline: arms[a]! + GRACE });
  }
  return { arms, steps, finalDeadline: arms[arms.length - 1]! + GRACE };
}

/** The HDEC exits one vCPU's exit intervals allow: at most `most`, at least `least` (before other exits). */
export function hdecBounds(b: TimerBlock, hdecTicks: number): { most: number; least: number } {
  let most = 0;
  let least = 0;
  let prevAfter = b.purrStart;
  let prevHandlers = 0;
  for (const x of b.exits) {
    // Deliveries between the reads around an exit ran handlers the PURR reads may not include.
    const here = x.deliveredAfter - x.deliveredBefore;
    const tMin = x.purrBefore - prevAfter;
    const tMax = tMin + EXIT_SLACK + HANDLER_TICKS * (here + prevHandlers);
    most += Math.floor(tMax / hdecTicks);
    least += Math.max(0, Math.ceil(tMin / hdecTicks) - 1);
    prevAfter = x.purrAfter;
    prevHandlers = here;
  }
  return { most, least };
}

const LOST_CHECK = 'timer-edges: no lost DEC interrupt';

/** The hcalls the program makes: r3 still holding one after the exit means no answer came. */
const OWN_HCALLS: readonly number[] = [Hcall.H_CEDE, NestsimHcall.NS_SYSCALL];

const vcpuName = (g: TimerGuestResult, v: number) => `${g.name} vCPU ${v}`;

/** The stressor's checks over the guests' outcomes (pure: tests drive it with crafted values). */
export function timerChecks(guests: readonly TimerGuestResult[]): StressCheck[] {
  const ran: string[] = [];
  const answers: string[] = [];
  const spurious: string[] = [];
  const lost: string[] = [];
  const backwards: string[] = [];
  const hdec: string[] = [];
  let deliveries = 0;
  let tbReads = 0;
  let hdecExits = 0;
  let vcpus = 0;
  let hcalls = 0;
  for (const g of guests) {
    if (g.end.kind !== 'exited' || g.end.code !== 0) ran.push(`${g.name} ended ${JSON.stringify(g.end)}`);
    let most = 0;
    let least = 0;
    let intervals = 0;
    let readable = true;
    g.blocks.forEach((b, v) => {
      vcpus++;
      const who = vcpuName(g, v);
      if (!b) {
        ran.push(`${who}: counters never read`);
        readable = false;
        return;
      }
      if (!b.done) ran.push(`${who}: never reached its exit`);
      if (b.hcalls !== g.steps[v]) ran.push(`${who}: ${b.hcalls} of ${g.steps[v]} steps done`);
      hcalls += b.hcalls;
      if (b.badAnswers > 0)
        answers.push(
          `${who}: ${b.badAnswers} hcalls came back with r3 ≠ H_SUCCESS (last 0x${b.badR3.toString(16)}${OWN_HCALLS.includes(b.badR3) ? ': the hcall’s own number, L1’s answer never reached L2' : ''})`,
        );
      deliveries += b.delivered;
      tbReads += 2 * b.hcalls;
      if (b.spurious > 0)
        spurious.push(
          `${who}: ${b.spurious} of ${b.delivered} deliveries with DEC ≥ 0 (last DEC ${b.spuriousDec})`,
        );
      if (b.delivered !== g.arms || b.armed !== g.arms || b.timeouts > 0)
        lost.push(
          `${who}: ${b.delivered} deliveries of ${g.arms} arms (${b.armed} armed, ${b.timeouts} waits ran out${b.timeouts > 0 ? `, the last with ${b.timeoutStepsLeft} steps left and DEC ${b.timeoutDec}: ${b.timeoutWhat}` : ''})`,
        );
      if (b.backwards > 0)
        backwards.push(`${who}: ${b.backwards} TB reads went back (last: ${b.backFrom} then ${b.backTo})`);
      const bounds = hdecBounds(b, g.hdecTicks);
      most += bounds.most;
      least += bounds.least;
      intervals += b.exits.length;
    });
    const h = g.exits.get(Vector.HV_DECREMENTER) ?? 0;
    hdecExits += h;
    if (!readable || g.end.kind !== 'exited') continue;
    let other = 0;
    for (const [vec, n] of g.exits)
      if (vec !== Vector.HV_DECREMENTER && vec !== Vector.SYSTEM_CALL) other += n;
    const hcallExits = g.exits.get(Vector.SYSTEM_CALL) ?? 0;
    if (hcallExits !== intervals)
      hdec.push(`${g.name}: L1 saw ${hcallExits} hcall exits, the program made ${intervals}`);
    else if (h > most)
      hdec.push(
        `${g.name}: ${h} HDEC exits, but its vCPUs' time allows at most ${most} slices of ${g.hdecTicks} ticks: some came before L1's expiry`,
      );
    else if (h < least - other)
      hdec.push(
        `${g.name}: ${h} HDEC exits, but its vCPUs ran long enough for at least ${least - other} slices of ${g.hdecTicks} ticks: some runs went past L1's expiry`,
      );
  }
  const check = checkFrom;
  return [
    check(
      'timer-edges: guests ran their schedules',
      ran,
      `${guests.length} guests × their vCPUs: every step done`,
      vcpus,
    ),
    check(
      'timer-edges: every hcall answered',
      answers,
      `L1's answer (H_SUCCESS) reached L2 after all ${hcalls} hcalls`,
      hcalls,
    ),
    check(
      'timer-edges: no spurious DEC interrupt',
      spurious,
      `DEC negative at all ${deliveries} deliveries`,
      deliveries,
    ),
    check(LOST_CHECK, lost, `every arm delivered exactly once (${deliveries} on ${vcpus} vCPUs)`, vcpus),
    check(
      'timer-edges: guest timebase monotonic',
      backwards,
      `${tbReads} TB reads around exits in order`,
      tbReads,
    ),
    check(
      'timer-edges: HDEC slices respected',
      hdec,
      `${hdecExits} HDEC exits, each within the bounds of the vCPUs' time`,
      guests.length,
    ),
  ];
}

/**
 * msgsndp / msgclrp and DPDES (Book III directed privileged doorbells) in the core: with
 * HFSCR[MSGP] granted the instructions act on this vCPU's own thread (nestsim's vCPUs are
 * one-thread cores), a set DPDES bit 0 raises 0xA00 while MSR[EE] = 1 and stays until msgclrp;
 * without MSGP they exit to the hypervisor (the path L1's emulation takes, test/stress.test.ts
 * doorbells). Programs run under test/support/l2-harness.ts (HFSCR 0xffff: MSGP granted), whose
 * firmware reports a 0xA00 as a crash of that vector.
 */
import { describe, expect, it } from 'vitest';
import { encode as e } from '../cores/encode.js';
import { Vector } from '../hypervisor/papr.js';
import { exitWith, imageOf } from '../src/programs.js';
import { runGuest } from './support/l2-harness.js';

/** r9 ← RB of a directed privileged doorbell (type 5) to thread `tid`. */
const rbFor = (tid: number) => [e.lis!(9, 0x2800), e.ori!(9, 9, tid)];
const eeOn = [e.li!(8, 0), e.ori!(8, 8, 0x8000), e.mtmsrd!(8, 1)];

describe('directed privileged doorbells', () => {
  it('msgsndp to its own thread with EE on: the doorbell interrupt (0xA00) is taken at once', () => {
    const r = runGuest(imageOf([...rbFor(0), ...eeOn, e.msgsndp!(9), e.nop!(), ...exitWith(7)]));
    expect(r.crash?.vector).toBe(Vector.DOORBELL);
    expect(r.exitCode).toBeUndefined();
  });

  it('sent with EE off, it stays pending until EE comes on', () => {
    const r = runGuest(imageOf([...rbFor(0), e.msgsndp!(9), e.nop!(), e.nop!(), ...eeOn, ...exitWith(7)]));
    expect(r.crash?.vector).toBe(Vector.DOORBELL);
  });

  it('msgclrp before EE comes on: nothing is taken', () => {
    const r = runGuest(imageOf([...rbFor(0), e.msgsndp!(9), e.msgclrp!(9), ...eeOn, ...exitWith(7)]));
    expect(r.crash, r.crash?.text).toBeUndefined();
    expect(r.exitCode).toBe(7);
  });

  it('a thread the core does not have, or another message type: no-op', () => {
    const toThread1 = runGuest(imageOf([...rbFor(1), ...eeOn, e.msgsndp!(9), ...exitWith(7)]));
    expect(toThread1.exitCode).toBe(7);
    const otherType = runGuest(imageOf([e.lis!(9, 0x2000), ...eeOn, e.msgsndp!(9), ...exitWith(7)]));
    expect(otherType.exitCode).toBe(7);
  });
});

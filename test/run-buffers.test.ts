import { describe, expect, it } from 'vitest';
import { forEachElement } from '../hypervisor/gsb/codec.js';
import { RunInput } from '../hypervisor/l1/run-buffers.js';
import { GuestRam } from '../mem/ram.js';

const AT = 0x1000;
const BYTES = 256;

/** The buffer as L0 would parse it: [id, length, first value word] per element. */
function parsed(ram: GuestRam): [number, number, number][] {
  const out: [number, number, number][] = [];
  const ok = forEachElement(ram.dv, AT, BYTES, (id, at, len) => {
    out.push([id, len, ram.dv.getUint32(at, false)]);
    return true;
  });
  expect(ok).toBe(true);
  return out;
}

describe('RunInput', () => {
  it('writes a well-formed buffer of 8- and 4-byte elements', () => {
    const ram = GuestRam.create(0x10_0000);
    const a = new RunInput(ram, AT, BYTES);
    a.reset();
    a.putU64(0x1003, 1, 2);
    a.putU32(0x1004, 7);
    expect(a.length).toBe(2);
    expect(parsed(ram)).toEqual([
      [0x1003, 8, 1],
      [0x1004, 4, 7],
    ]);
  });

  // Cores keep a RunInput per loop: when the loop moves A→B→A, A's object must see what B did.
  it('two RunInputs of one buffer (the loop moved cores and back) never overwrite each other', () => {
    const ram = GuestRam.create(0x10_0000);
    const a = new RunInput(ram, AT, BYTES);
    a.reset();
    a.putU64(0x1003, 0, 1); // A queued an 8-byte element
    const b = new RunInput(ram, AT, BYTES);
    b.putU32(0x1005, 2); // B adds to it...
    b.reset(); // ...the run consumed the buffer...
    b.putU32(0x1006, 3); // ...and B queued one 4-byte element: as many elements as A remembers
    a.putU64(0x1007, 0, 4); // back on A
    expect(a.length).toBe(2);
    expect(parsed(ram)).toEqual([
      [0x1006, 4, 3],
      [0x1007, 8, 0],
    ]);
  });

  it('says when the buffer is full instead of writing past it', () => {
    const ram = GuestRam.create(0x10_0000);
    const a = new RunInput(ram, AT, 4 + 12 * 2);
    a.reset();
    a.putU64(0x1003, 0, 1);
    a.putU64(0x1004, 0, 2);
    expect(() => a.putU32(0x1005, 3)).toThrow(/run input buffer of 28 bytes is full/);
  });
});

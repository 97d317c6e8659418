import { describe, expect, it } from 'vitest';
import { hasElement, R, VCPU_BYTES, Vcpu, XerBit } from '../cores/vcpu.js';
import { ELEMENTS, elementByName } from '../hypervisor/gsb/elements.js';

/** A seeded xorshift32, so a failure names the values that broke it. */
function prng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const threadWide = ELEMENTS.filter((e) => e.scope === 'thread' && e.id !== 0);

describe('vCPU register area', () => {
  it('holds every thread-wide GSB element', () => {
    for (const e of threadWide) expect(hasElement(e.id), e.name).toBe(true);
    for (const e of ELEMENTS.filter((x) => x.scope !== 'thread'))
      expect(hasElement(e.id), e.name).toBe(false);
  });

  it('round-trips random wire bytes through every element, 20 patterns each', () => {
    const v = Vcpu.create();
    const rnd = prng(0x5eed);
    for (let round = 0; round < 20; round++) {
      const written = new Map<number, Uint8Array>();
      for (const e of threadWide) {
        const b = new Uint8Array(e.size);
        for (let k = 0; k < b.length; k++) b[k] = rnd() & 0xff;
        expect(v.writeElement(e.id, b, 0)).toBe(e.size);
        written.set(e.id, b);
      }
      // Read back after all writes: proves no two elements share storage.
      for (const e of threadWide) {
        const out = new Uint8Array(e.size + 3);
        expect(v.readElement(e.id, out, 3)).toBe(e.size);
        expect([...out.subarray(3)], e.name).toEqual([...written.get(e.id)!]);
      }
    }
  });

  it('accepts DataView as well as Uint8Array, at an offset', () => {
    const v = Vcpu.create();
    const dv = new DataView(new ArrayBuffer(32));
    dv.setBigUint64(4, 0x0123_4567_89ab_cdefn, false);
    expect(v.writeElement(0x1023 /* LR */, dv, 4)).toBe(8);
    expect(v.get64(R.LR)).toBe(0x0123_4567_89ab_cdefn);
    const dv2 = new DataView(new ArrayBuffer(16));
    v.readElement(0x1023, dv2, 8);
    expect(dv2.getBigUint64(8, false)).toBe(0x0123_4567_89ab_cdefn);
  });

  it('splits XER into SO/OV/CA/OV32/CA32 words and composes it back', () => {
    const v = Vcpu.create();
    v.set(0x1024, 0xdead_beef_0000_0000n | BigInt((XerBit.SO | XerBit.CA32 | 0x7f) >>> 0));
    expect([v.w[R.SO], v.w[R.OV], v.w[R.CA], v.w[R.OV32], v.w[R.CA32]]).toEqual([1, 0, 0, 0, 1]);
    v.w[R.CA] = 1;
    v.w[R.SO] = 0;
    expect(v.get(0x1024)).toBe(0xdead_beef_0000_0000n | BigInt((XerBit.CA | XerBit.CA32 | 0x7f) >>> 0));
    for (const bit of Object.values(XerBit)) {
      v.set(0x1024, BigInt(bit >>> 0));
      expect(v.get(0x1024)).toBe(BigInt(bit >>> 0));
    }
  });

  it('places the hot registers where R says', () => {
    const v = Vcpu.create();
    const at: [string, number][] = [
      ['NIA', R.NIA],
      ['MSR', R.MSR],
      ['LR', R.LR],
      ['CTR', R.CTR],
      ['SRR0', R.SRR0],
      ['SRR1', R.SRR1],
      ['LPCR', R.LPCR],
      ['HFSCR', R.HFSCR],
      ['DEC_EXPIRY_TB', R.DEC_EXPIRY_TB],
      ['HDEC_EXPIRY_TB', R.HDEC_EXPIRY_TB],
      ['SPRG0', R.SPRG0],
      ['TAR', R.TAR],
      ['DSCR', R.DSCR],
      ['HDAR', R.HDAR],
      ['HEIR', R.HEIR],
      ['ASDR', R.ASDR],
      ['DAR', R.DAR],
      ['AMR', R.AMR],
      ['PPR', R.PPR],
      ['IC', R.IC],
      ['PURR', R.PURR],
      ['VTB', R.VTB],
      ['CFAR', R.CFAR],
      ['DPDES', R.DPDES],
      ['MMCR0', R.MMCR0],
      ['MMCR1', R.MMCR1],
      ['MMCR2', R.MMCR2],
      ['MMCRA', R.MMCRA],
      ['SIER', R.SIER],
      ['SDAR', R.SDAR],
      ['SIAR', R.SIAR],
      ['BESCR', R.BESCR],
      ['EBBHR', R.EBBHR],
      ['EBBRR', R.EBBRR],
    ];
    for (const [name, idx] of at) {
      const e = elementByName(name)!;
      v.clear();
      v.set(e.id, 0x1122_3344_5566_7788n);
      expect([v.w[idx], v.w[idx + 1]], name).toEqual([0x1122_3344, 0x5566_7788]);
    }
    for (const [name, idx] of [
      ['CR', R.CR],
      ['DSISR', R.DSISR],
      ['PIDR', R.PIDR],
      ['HDSISR', R.HDSISR],
      ['PMC1', R.PMC1],
      ['PSPB', R.PSPB],
      ['VRSAVE', R.VRSAVE],
    ] as const) {
      const e = elementByName(name)!;
      v.clear();
      v.set(e.id, 0x8765_4321n);
      expect(v.w[idx], name).toBe(0x8765_4321 | 0);
    }
    for (let n = 0; n < 32; n++) {
      v.clear();
      v.setGpr(n, BigInt(n) * 0x1_0000_0001n);
      expect(v.get(0x1000 + n)).toBe(BigInt(n) * 0x1_0000_0001n);
    }
  });

  it('keeps several vCPUs apart in one SharedArrayBuffer', () => {
    const sab = new SharedArrayBuffer(VCPU_BYTES * 3);
    const vs = [0, 1, 2].map((k) => new Vcpu(sab, k * VCPU_BYTES));
    for (const [k, v] of vs.entries()) {
      v.setGpr(31, BigInt(k + 1));
      v.set(0x200e /* PSPB, the last word register */, BigInt(k + 7));
    }
    for (const [k, v] of vs.entries())
      expect([v.gpr(31), v.get(0x200e)]).toEqual([BigInt(k + 1), BigInt(k + 7)]);
  });

  it('answers -1 for IDs that are not thread-wide registers', () => {
    const v = Vcpu.create();
    const b = new Uint8Array(32);
    for (const id of [0x0000, 0x0003, 0x0005, 0x0800, 0x1054, 0x200f, 0x3040, 0xf004]) {
      expect(v.readElement(id, b, 0)).toBe(-1);
      expect(v.writeElement(id, b, 0)).toBe(-1);
    }
  });
});

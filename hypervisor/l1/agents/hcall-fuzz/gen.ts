/**
 * Generators described as data: a tree the hcall-fuzz agent samples with its seeded SplitMix32 and
 * that src/stress/minimize.ts turns into fast-check arbitraries, so one description gives both the
 * agent's stream and the shrinker's search space.
 */
import type { SplitMix32 } from '../../../prng.js';

/** A generator described as data: the agent samples it, the minimizer makes arbitraries of it. */

/** A generator described as data: the agent samples it, the minimizer makes arbitraries of it. */
export type GenNode =
  | { readonly g: 'const'; readonly v: unknown }
  | { readonly g: 'int'; readonly min: number; readonly max: number }
  | { readonly g: 'big'; readonly min: bigint; readonly max: bigint }
  | { readonly g: 'pick'; readonly of: readonly unknown[] }
  | { readonly g: 'one'; readonly of: readonly (readonly [number, GenNode])[] }
  | { readonly g: 'rec'; readonly of: Readonly<Record<string, GenNode>> }
  | { readonly g: 'arr'; readonly of: GenNode; readonly max: number }
  | { readonly g: 'tuple'; readonly of: readonly GenNode[] };

/** A GenNode whose values have type T. */
export type Gen<T> = GenNode & { readonly __values?: T };

export const constant = <const T>(v: T): Gen<T> => ({ g: 'const', v });
export const int = (min: number, max: number): Gen<number> => ({ g: 'int', min, max });
export const big = (min: bigint, max: bigint): Gen<bigint> => ({ g: 'big', min, max });
export const pick = <const T>(...of: T[]): Gen<T> => ({ g: 'pick', of });
/** One of the alternatives, with weights. */
export const one = <T>(...of: (readonly [number, Gen<T>])[]): Gen<T> => ({ g: 'one', of });
export const rec = <T extends object>(of: { [K in keyof T]-?: Gen<T[K]> }): Gen<T> => ({
  g: 'rec',
  of: of as Record<string, GenNode>,
});
export const arr = <T>(of: Gen<T>, max: number): Gen<T[]> => ({ g: 'arr', of, max });
export const tuple = <T>(...of: Gen<T>[]): Gen<T[]> => ({ g: 'tuple', of });
/** A record whose `k` is `tag` (the descriptions' discriminated unions). */
export const tagged = <const K extends string, T extends object = Record<never, never>>(
  tag: K,
  of: { [F in keyof T]-?: Gen<T[F]> } = {} as { [F in keyof T]-?: Gen<T[F]> },
): Gen<{ k: K } & T> => ({ g: 'rec', of: { k: constant(tag), ...(of as Record<string, GenNode>) } });

/** A value of `gen`, drawn with `rng`. */
export function sample<T>(gen: Gen<T>, rng: SplitMix32): T {
  return sampleNode(gen, rng) as T;
}

function sampleNode(n: GenNode, rng: SplitMix32): unknown {
  switch (n.g) {
    case 'const':
      return n.v;
    case 'int':
      return n.min + rng.below(n.max - n.min + 1);
    case 'big': {
      const span = n.max - n.min + 1n;
      if (span <= 0x1_0000_0000n) return n.min + BigInt(rng.below(Number(span)));
      return n.min + (((BigInt(rng.next()) << 32n) | BigInt(rng.next())) % span);
    }
    case 'pick':
      return n.of[rng.below(n.of.length)];
    case 'one': {
      let total = 0;
      for (const [w] of n.of) total += w;
      let x = rng.below(total);
      for (const [w, g] of n.of) {
        if (x < w) return sampleNode(g, rng);
        x -= w;
      }
      return sampleNode(n.of[n.of.length - 1]![1], rng);
    }
    case 'rec': {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(n.of)) o[k] = sampleNode(n.of[k]!, rng);
      return o;
    }
    case 'arr': {
      const len = rng.below(n.max + 1);
      const a: unknown[] = [];
      for (let i = 0; i < len; i++) a.push(sampleNode(n.of, rng));
      return a;
    }
    case 'tuple':
      return n.of.map((g) => sampleNode(g, rng));
  }
}

/** A tiny assembler for the stressors' L2 programs: instruction words and branches to labels. */

import { encode as e } from '../../cores/encode.js';

/** The u32 counter at `base` + `off` += 1, through register `scratch`. */
export function increment(scratch: number, off: number, base: number): number[] {
  return [e.lwz!(scratch, off, base), e.addi!(scratch, scratch, 1), e.stw!(scratch, off, base)];
}

/** Words with forward/backward branches to labels, resolved at the end. */
export class Code {
  readonly words: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; label: string; enc: (off: number) => number }[] = [];
  emit(...w: number[]): this {
    this.words.push(...w);
    return this;
  }
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.words.length);
    return this;
  }
  branch(label: string, enc: (off: number) => number): this {
    this.fixups.push({ at: this.words.length, label, enc });
    this.words.push(0);
    return this;
  }
  /** A label per name, or a fresh one for snippets emitted more than once. */
  private n = 0;
  fresh(stem: string): string {
    return `${stem}.${this.n++}`;
  }
  /** Word index of `label`. */
  at(label: string): number {
    const t = this.labels.get(label);
    if (t === undefined) throw new Error(`label ${label} not defined`);
    return t;
  }

  link(): number[] {
    for (const f of this.fixups) {
      const t = this.labels.get(f.label);
      if (t === undefined) throw new Error(`label ${f.label} not defined`);
      this.words[f.at] = f.enc((t - f.at) * 4);
    }
    return this.words;
  }
}

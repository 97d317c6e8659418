/**
 * What L0 keeps per simulated core to run L2 vCPUs there: the core (interpreter, EA TLB,
 * predecoded code), its partition-scoped TLB and walker, and a reusable radix root. One seat per
 * core per L0 view; in the multicore runtime each worker has its own L0 view and so its own seats,
 * and the TLB generations (mem/generations.ts) reach all of them.
 */

import type { StopWord } from '../../cores/core.js';
import { Core } from '../../cores/core.js';
import type { CodeGeneration } from '../../cores/isa/predecode.js';
import type { Generations } from '../../mem/generations.js';
import { PartitionMmu } from '../../mem/partition.js';
import type { RadixRoot, WalkOptions } from '../../mem/radix.js';
import type { GuestRam } from '../../mem/ram.js';
import { Tlb } from '../../mem/tlb.js';
import type { L1RA } from '../../mem/types.js';

/** A core and the partition-scoped translation state L0 gives it. */
export class CoreSeat {
  readonly core: Core;
  readonly partition: PartitionMmu;
  /** Root of the tree of the partition the seat runs; rewritten in place before each run. */
  readonly root: RadixRoot = { base: 0 as L1RA, addrBits: 52, rootBits: 13 };
  /** The stop word of the vCPU being run (its slot's STOP word in the partition state). */
  readonly stop: { words: Int32Array; index: number };
  /** The run context handed to the core; fields are updated, the object is reused. */
  readonly ctx: { core: Core; partition: PartitionMmu; hdecExpiryTb: number; stop: StopWord };

  constructor(
    readonly index: number,
    ram: GuestRam,
    gens: Generations,
    partitionWords: Int32Array,
    walk: WalkOptions | undefined,
    codeGeneration: CodeGeneration | undefined,
  ) {
    this.core = new Core({ ram, codeGeneration });
    this.partition = new PartitionMmu(ram, new Tlb(gens), walk);
    this.stop = { words: partitionWords, index: 0 };
    this.ctx = {
      core: this.core,
      partition: this.partition,
      hdecExpiryTb: Number.POSITIVE_INFINITY,
      stop: this.stop,
    };
  }
}

/**
 * An L1 on the v1 API for tests, built from the L1 model's own parts: the guest's AddressSpace
 * (firmware, ELF, stacks, eager or demand paging), one L1VcpuLoop per vCPU driving a V1Vcpu, and
 * a V1PartitionTable naming the guest's tree. The loops are stepped round robin on core 0, as the
 * deterministic mode does, until the guest ends. Initial registers as hypervisor/l1/l1.ts sets
 * them for v2 (docs/guests.md).
 */
import type { ElfImage } from '../../cores/elf.js';
import { defaultL0Config, L0 } from '../../hypervisor/l0/l0.js';
import { AddressSpace, type Paging } from '../../hypervisor/l1/address-space.js';
import { L1Guest } from '../../hypervisor/l1/guest.js';
import { LoopTable, NestedApi } from '../../hypervisor/l1/loop-table.js';
import { PageAllocator } from '../../hypervisor/l1/page-allocator.js';
import { V1PartitionTable } from '../../hypervisor/l1/v1-partition-table.js';
import { V1Vcpu } from '../../hypervisor/l1/v1-vcpu.js';
import { type L0Port, L1VcpuLoop } from '../../hypervisor/l1/vcpu-loop.js';

/** Options of `runV1Guest`. */
export interface V1GuestOptions {
  vcpus?: number;
  paging?: Paging;
  /** L0's time slice (instructions per H_ENTER_NESTED before H_INTERRUPT). */
  slice?: number;
  /** Steps of all loops at most. */
  maxSteps?: number;
}

/** Runs `image` as an L2 guest of a v1 L1; returns the guest (console, end, exits) and its L0. */
export function runV1Guest(image: ElfImage, o: V1GuestOptions = {}): { guest: L1Guest; l0: L0 } {
  const vcpus = o.vcpus ?? 1;
  const l0 = new L0(defaultL0Config({ l1MemoryBytes: 128 << 20, sliceInstructions: o.slice ?? 50_000 }));
  const port: L0Port = { hcall: (r, core) => l0.hcall(r, core), timebase: (core) => l0.seat(core).core.tb };
  const pages = new PageAllocator(l0.ram, 0x10_0000, 120 << 20);
  const table = new V1PartitionTable(port, l0.ram, pages, 0);
  const space = new AddressSpace(l0.ram, pages, l0.codeGen, {
    image,
    vcpus,
    memoryBytes: 32 << 20,
    stackBytes: 0x4_0000,
    paging: o.paging ?? 'demand',
  });
  const lpid = table.allocLpid();
  table.set(lpid, space.writer.root, 0);
  const loops = LoopTable.create(64);
  const guest = new L1Guest(lpid, 'guest', vcpus, space, []);
  for (let v = 0; v < vcpus; v++) {
    const frame = pages.alloc(4096);
    const vcpu = V1Vcpu.create(port, l0.ram, frame, frame + 0x400, lpid, v, {
      nia: BigInt(image.entry),
      msr: 0x8000_0000_0000_0001n,
      lpcr: 0x0200_0000n,
      hfscr: 0xffffn,
      gprs: { 1: BigInt(space.stackTop(v) - 64), 3: BigInt(v), 4: BigInt(vcpus), 12: BigInt(image.entry) },
    });
    const entry = loops.add({
      guestId: lpid,
      vcpuId: v,
      inAddr: frame,
      inBytes: 0,
      outAddr: frame + 0x400,
      outBytes: 0,
      hdecTicks: 0,
      root: space.writer.root,
      api: NestedApi.V1,
    });
    guest.entries.push(entry);
    guest.loops.push(new L1VcpuLoop(port.timebase, lpid, v, vcpu, space, guest, 0, loops, entry));
  }
  const max = o.maxSteps ?? 5_000_000;
  for (let steps = 0; steps < max && !guest.finished; steps++)
    for (const loop of guest.loops) if (!loop.done) loop.step(0);
  return { guest, l0 };
}

/*
 * What a guest program may use of nestsim beyond Linux's write/exit/exit_group (guests/runtime):
 * which vCPU it runs on, how many there are, and nestsim's hcalls. Include it after rt.h.
 *
 * Every vCPU of a guest starts at _start with its own stack; r3 = vCPU index and r4 = vCPU count
 * as the L1 sets them, kept by the runtime in r13 (guests/runtime/start.S).
 */
#ifndef NESTSIM_H
#define NESTSIM_H

#include "../runtime/rt.h"

static inline unsigned long nestsim__r13(void) {
  unsigned long v;
  __asm__ volatile("mr %0, 13" : "=r"(v));
  return v;
}

/* Number of vCPUs of this guest (1 under a loader that passes none, such as qemu-ppc64le). */
static inline long nestsim_vcpu_count(void) {
  unsigned long v = nestsim__r13();
  unsigned long count = v >> 32, index = v & 0xffffffffUL;
  return (count == 0 || count > 4096 || index >= count) ? 1 : (long)count;
}

/* Index of this vCPU, 0 .. count-1. */
static inline long nestsim_vcpu_index(void) {
  return nestsim_vcpu_count() == 1 ? 0 : (long)(nestsim__r13() & 0xffffffffUL);
}

/* Ends this vCPU only (Linux `exit`), without touching the shared stdout buffer. */
__attribute__((noreturn)) static inline void nestsim_exit_vcpu(int code) {
  __rt_syscall(SYS_exit, code, 0, 0, 0, 0, 0);
  __builtin_unreachable();
}

/* An hcall from L2 to its L1 (sc 1): r3 = opcode, r4.. = arguments; returns r3. */
static inline long nestsim_hcall(long op, long a0, long a1) {
  register long r3 __asm__("r3") = op;
  register long r4 __asm__("r4") = a0;
  register long r5 __asm__("r5") = a1;
  __asm__ volatile("sc 1" : "+r"(r3), "+r"(r4), "+r"(r5) : : "r0", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr", "xer", "cr0", "memory");
  return r3;
}

/* H_CEDE: give the core to other vCPUs for a while (the L1 model treats it as a yield). */
#define NESTSIM_H_CEDE 0xe0
static inline void nestsim_cede(void) { nestsim_hcall(NESTSIM_H_CEDE, 0, 0); }

#endif

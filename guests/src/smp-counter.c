/*
 * SMP workload: every vCPU adds 1 to one shared counter ITERATIONS times with larx/stcx. (gcc's
 * __atomic builtins), then checks in; vCPU 0 waits for all of them and prints the total. A lost
 * update on any core shows as a wrong total and exit code 1. Under a loader without vCPUs
 * (qemu-ppc64le) it runs as one vCPU.
 */
#include "../include/nestsim.h"

#define ITERATIONS 20000

static long counter;
static long arrived;

int main(void) {
  long me = nestsim_vcpu_index();
  long n = nestsim_vcpu_count();
  for (int i = 0; i < ITERATIONS; i++) __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
  if (me != 0) nestsim_exit_vcpu(0);
  while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < n) nestsim_cede();
  long total = __atomic_load_n(&counter, __ATOMIC_RELAXED);
  rt_printf("smp-counter: %ld vCPUs x %d increments = %ld (expected %ld)\n", n, ITERATIONS, total, n * ITERATIONS);
  return total == n * ITERATIONS ? 0 : 1;
}

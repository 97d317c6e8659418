/*
 * SMP workload: a spinlock built on lwarx/stwcx. guards a plain (non-atomic) counter and a pair of
 * fields that must move together, while a second counter is bumped lock-free with ldarx/stdcx.
 * (gcc's __atomic builtins on a long). vCPU 0 waits for every vCPU, prints the totals and exits 0
 * only if all three are exact: a lock that admits two vCPUs, or a store-conditional that succeeds
 * without a reservation, shows as a lost update. Under a loader without vCPUs (qemu-ppc64le) it
 * runs as one vCPU.
 */
#include "../include/nestsim.h"

#define ITERATIONS 5000
/* Failed lock attempts before giving the core to another vCPU (the holder may be off-core). */
#define SPINS_BEFORE_CEDE 64

static volatile int lock_word;
static long guarded;
static long pair[2];
static long torn;
static long lockfree;
static long arrived;

/* Takes the lock: lwarx/stwcx. loop, isync after success (acquire). Returns the failed attempts. */
static long lock(volatile int *l) {
  long spins = 0;
  for (;;) {
    int old;
    __asm__ volatile("1: lwarx   %0,0,%1\n"
                     "   cmpwi   %0,0\n"
                     "   bne-    2f\n"
                     "   stwcx.  %2,0,%1\n"
                     "   bne-    1b\n"
                     "   isync\n"
                     "2:\n"
                     : "=&r"(old)
                     : "r"(l), "r"(1)
                     : "cr0", "memory");
    if (old == 0) return spins;
    if (++spins % SPINS_BEFORE_CEDE == 0) nestsim_cede();
  }
}

/* Releases the lock: lwsync orders the critical section's stores before the releasing store. */
static void unlock(volatile int *l) {
  __asm__ volatile("lwsync" : : : "memory");
  *l = 0;
}

int main(void) {
  long me = nestsim_vcpu_index();
  long n = nestsim_vcpu_count();
  for (int i = 0; i < ITERATIONS; i++) {
    lock(&lock_word);
    long a = pair[0], b = pair[1];
    if (a != b) torn++;
    guarded++;
    pair[0] = a + 1;
    pair[1] = b + 1;
    unlock(&lock_word);
    __atomic_fetch_add(&lockfree, 1, __ATOMIC_RELAXED);
  }
  __atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
  if (me != 0) nestsim_exit_vcpu(0);
  while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < n) nestsim_cede();
  long want = n * ITERATIONS;
  rt_printf("smp-spinlock: %ld vCPUs x %d: locked %ld, pair %ld/%ld, torn %ld, lock-free %ld (expected %ld)\n", n,
            ITERATIONS, guarded, pair[0], pair[1], torn, lockfree, want);
  return guarded == want && pair[0] == want && pair[1] == want && torn == 0 && lockfree == want ? 0 : 1;
}

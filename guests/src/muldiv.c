/* 64-bit and 32-bit multiply and divide, signed and unsigned, on edge values. */
#include "../runtime/rt.h"

static volatile int64_t vals[] = {0,
                                  1,
                                  -1,
                                  2,
                                  -2,
                                  3,
                                  7,
                                  -7,
                                  10,
                                  1000000007,
                                  0xffffffffLL,
                                  0x100000000LL,
                                  -0x100000000LL,
                                  0x7fffffffffffffffLL,
                                  (int64_t)0x8000000000000000ULL,
                                  0x123456789abcdefLL,
                                  -0x0fedcba987654321LL};
#define NV (sizeof vals / sizeof vals[0])
static const int64_t MIN64 = (int64_t)0x8000000000000000ULL;

/* A running checksum, so that every result matters even when it is not printed. */
static uint64_t sum;
static void mix(uint64_t v) { sum = (sum ^ v) * 0x100000001b3ULL + 1; }

int main(void) {
  rt_puts("muldiv: 64-bit products (low, signed high, unsigned high)\n");
  for (unsigned i = 0; i < NV; i++) {
    for (unsigned j = 0; j < NV; j++) {
      int64_t a = vals[i], b = vals[j];
      uint64_t lo = (uint64_t)a * (uint64_t)b;
      int64_t hs = (int64_t)(((__int128)a * (__int128)b) >> 64);
      uint64_t hu = (uint64_t)(((unsigned __int128)(uint64_t)a * (uint64_t)b) >> 64);
      mix(lo);
      mix((uint64_t)hs);
      mix(hu);
      if (i == j || j == 2 || j == 13) rt_printf("%x*%x lo=%lx hs=%lx hu=%lx\n", i, j, lo, hs, hu);
    }
  }
  rt_printf("sum after mul: %016lx\n", sum);

  rt_puts("muldiv: 64-bit quotients and remainders\n");
  for (unsigned i = 0; i < NV; i++) {
    for (unsigned j = 0; j < NV; j++) {
      int64_t a = vals[i], b = vals[j];
      if (b == 0) continue; /* undefined in C; the hardware result is unspecified */
      uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
      uint64_t uq = ua / ub, ur = ua % ub;
      mix(uq);
      mix(ur);
      if (a == MIN64 && b == -1) continue; /* overflows in C */
      int64_t q = a / b, r = a % b;
      mix((uint64_t)q);
      mix((uint64_t)r);
      if (j == 1 || j == 5 || j == 7 || j == 11)
        rt_printf("%x/%x q=%ld r=%ld uq=%lu ur=%lu\n", i, j, (long)q, (long)r, uq, ur);
    }
  }
  rt_printf("sum after div: %016lx\n", sum);

  rt_puts("muldiv: 32-bit\n");
  for (unsigned i = 0; i < NV; i++) {
    for (unsigned j = 0; j < NV; j++) {
      int32_t a = (int32_t)vals[i], b = (int32_t)vals[j];
      uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
      uint32_t p = ua * ub;
      int32_t hs = (int32_t)(((int64_t)a * b) >> 32);
      uint32_t hu = (uint32_t)(((uint64_t)ua * ub) >> 32);
      mix(p);
      mix((uint32_t)hs);
      mix(hu);
      if (b == 0) continue;
      mix(ua / ub);
      mix(ua % ub);
      if (a == (int32_t)0x80000000u && b == -1) continue;
      mix((uint32_t)(a / b));
      mix((uint32_t)(a % b));
    }
  }
  rt_printf("sum after 32-bit: %016lx\n", sum);

  /* Division by constants, which the compiler turns into multiply-high sequences. */
  uint64_t c = 0;
  for (int64_t k = -300; k <= 300; k += 7) {
    c = c * 31 + (uint64_t)(k / 3) + (uint64_t)(k % 7) * 5 + (uint64_t)(k / 10) + (uint64_t)(k / 1000);
    c += ((uint64_t)k * 0x9e3779b97f4a7c15ULL) / 1000003ULL;
  }
  rt_printf("constant divisions: %016lx\n", c);
  rt_exit_group(3);
}

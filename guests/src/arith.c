/* Integer arithmetic: add/sub/logic, shifts and rotates, sign and zero extension, gcd, Collatz. */
#include "../runtime/rt.h"

/* Inputs read through volatile so that the compiler cannot fold the work away at -O2. */
static volatile int64_t in64[] = {0, 1, -1, 2, 0x7fffffffffffffffLL, (int64_t)0x8000000000000000ULL,
                                  0x123456789abcdef0LL, -0x5555555555555556LL, 255, -256};
static volatile int32_t in32[] = {0, 1, -1, 0x7fffffff, (int32_t)0x80000000u, 0x12345678, -1000, 77};
#define N64 (sizeof in64 / sizeof in64[0])
#define N32 (sizeof in32 / sizeof in32[0])

static uint64_t rotl64(uint64_t x, unsigned n) {
  n &= 63;
  return n ? (x << n) | (x >> (64 - n)) : x;
}

static uint32_t rotl32(uint32_t x, unsigned n) {
  n &= 31;
  return n ? (x << n) | (x >> (32 - n)) : x;
}

static int popcount64(uint64_t x) {
  int n = 0;
  while (x) {
    x &= x - 1;
    n++;
  }
  return n;
}

static int clz64(uint64_t x) {
  int n = 0;
  if (!x) return 64;
  while (!(x & 0x8000000000000000ULL)) {
    x <<= 1;
    n++;
  }
  return n;
}

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static int collatz_steps(uint64_t n) {
  int steps = 0;
  while (n != 1) {
    n = (n & 1) ? 3 * n + 1 : n / 2;
    steps++;
  }
  return steps;
}

int main(void) {
  rt_puts("arith: 64-bit add/sub/logic\n");
  for (unsigned i = 0; i < N64; i++) {
    uint64_t a = (uint64_t)in64[i], b = (uint64_t)in64[(i + 3) % N64];
    rt_printf("%2u add=%016lx sub=%016lx and=%016lx or=%016lx xor=%016lx nand=%016lx\n", i, a + b, a - b,
              a & b, a | b, a ^ b, ~(a & b));
  }
  rt_puts("arith: shifts and rotates\n");
  for (unsigned i = 0; i < N64; i++) {
    uint64_t a = (uint64_t)in64[i];
    int64_t s = in64[i];
    for (unsigned sh = 0; sh < 64; sh += 13)
      rt_printf("%u.%u shl=%lx shr=%lx sra=%lx rotl=%lx\n", i, sh, a << sh, a >> sh, (uint64_t)(s >> sh),
                rotl64(a, sh));
  }
  for (unsigned i = 0; i < N32; i++) {
    uint32_t a = (uint32_t)in32[i];
    int32_t s = in32[i];
    rt_printf("w%u shl=%x shr=%x sra=%x rotl=%x ext=%ld zext=%lu neg=%d not=%x\n", i, a << 5, a >> 7,
              (uint32_t)(s >> 9), rotl32(a, 11), (long)s, (unsigned long)a, (int)(0u - a), ~a);
  }
  rt_puts("arith: bits\n");
  int total = 0;
  for (unsigned i = 0; i < N64; i++) {
    uint64_t a = (uint64_t)in64[i];
    total += popcount64(a);
    rt_printf("pop=%d clz=%d lowbit=%lx\n", popcount64(a), clz64(a), a & (0 - a));
  }
  rt_puts("arith: compares\n");
  for (unsigned i = 0; i < N64; i++) {
    int64_t a = in64[i], b = in64[(i + 1) % N64];
    rt_printf("%d%d%d %d%d%d\n", a < b, a == b, a > b, (uint64_t)a < (uint64_t)b, (int32_t)a < (int32_t)b,
              (uint32_t)a < (uint32_t)b);
  }
  rt_puts("arith: gcd and collatz\n");
  uint64_t g = gcd(1071, 462) + gcd(0x123456789ULL * 97, 0x123456789ULL * 89) + gcd(17, 5);
  rt_printf("gcd sum=%lu\n", g);
  int best = 0, arg = 0;
  for (int n = 1; n < 3000; n++) {
    int s = collatz_steps((uint64_t)n);
    if (s > best) {
      best = s;
      arg = n;
    }
  }
  rt_printf("collatz longest below 3000: n=%d steps=%d\n", arg, best);
  uint64_t acc = 0; /* unsigned: wraps by definition */
  for (int k = -50; k <= 50; k++) acc = acc * 3 + (uint64_t)(int64_t)(k * k - 7 * k);
  rt_printf("acc=%ld popsum=%d\n", (long)acc, total);
  return 0;
}

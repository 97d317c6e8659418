/* Sieve of Eratosthenes over a zero-filled (bss) byte array; prime counts, twins and gaps. */
#include "../runtime/rt.h"

#define LIMIT 100000
static unsigned char composite[LIMIT + 1]; /* bss: the loader must zero it */

int main(void) {
  composite[0] = composite[1] = 1;
  for (unsigned i = 2; i * i <= LIMIT; i++)
    if (!composite[i])
      for (unsigned j = i * i; j <= LIMIT; j += i) composite[j] = 1;

  rt_puts("primes below 100:");
  for (unsigned i = 0; i < 100; i++)
    if (!composite[i]) rt_printf(" %u", i);
  rt_putc('\n');

  unsigned count = 0, twins = 0, last = 0, gap = 0, gap_at = 0;
  unsigned long long sum = 0;
  for (unsigned i = 2; i <= LIMIT; i++) {
    if (composite[i]) continue;
    count++;
    sum += i;
    if (last && i - last == 2) twins++;
    if (last && i - last > gap) {
      gap = i - last;
      gap_at = last;
    }
    last = i;
    if (count % 1000 == 0) rt_printf("prime #%u = %u\n", count, i);
  }
  rt_printf("pi(%u) = %u, sum = %llu, twin pairs = %u\n", LIMIT, count, sum, twins);
  rt_printf("largest gap %u after %u, largest prime %u\n", gap, gap_at, last);
  return (int)(count & 0xff);
}

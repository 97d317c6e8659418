/* Sorting: a generic recursive quicksort (qsort-style, comparator by function pointer), merge sort. */
#include "../runtime/rt.h"

typedef int (*cmp_fn)(const void *, const void *);

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size) {
  while (size--) {
    unsigned char t = *a;
    *a++ = *b;
    *b++ = t;
  }
}

static unsigned long calls;

/* Quicksort with median-of-three pivot and insertion sort below 8 elements; recursion on both sides. */
static void quick(unsigned char *base, size_t n, size_t size, cmp_fn cmp) {
  calls++;
  if (n < 8) {
    for (size_t i = 1; i < n; i++)
      for (size_t j = i; j > 0 && cmp(base + (j - 1) * size, base + j * size) > 0; j--)
        swap_bytes(base + (j - 1) * size, base + j * size, size);
    return;
  }
  unsigned char *lo = base, *mid = base + (n / 2) * size, *hi = base + (n - 1) * size;
  if (cmp(mid, lo) < 0) swap_bytes(mid, lo, size);
  if (cmp(hi, mid) < 0) swap_bytes(hi, mid, size);
  if (cmp(mid, lo) < 0) swap_bytes(mid, lo, size);
  swap_bytes(mid, hi - size, size); /* pivot just before the last element */
  unsigned char *pivot = hi - size;
  size_t i = 0, j = n - 2;
  for (;;) {
    while (cmp(base + (++i) * size, pivot) < 0) {
    }
    while (j > 0 && cmp(base + (--j) * size, pivot) > 0) {
    }
    if (i >= j) break;
    swap_bytes(base + i * size, base + j * size, size);
  }
  swap_bytes(base + i * size, pivot, size);
  quick(base, i, size, cmp);
  quick(base + (i + 1) * size, n - i - 1, size, cmp);
}

static void sort(void *base, size_t n, size_t size, cmp_fn cmp) { quick(base, n, size, cmp); }

static int by_int_up(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}
static int by_int_down(const void *a, const void *b) { return by_int_up(b, a); }
static int by_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

struct rec {
  uint32_t key;
  char name[6];
  int16_t weight;
};
static int by_key_then_weight(const void *a, const void *b) {
  const struct rec *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return (x->weight > y->weight) - (x->weight < y->weight);
}

/* Merge sort of ints through a scratch buffer, recursive, stable. */
static int scratch[600];
static void merge_sort(int *a, size_t n) {
  if (n < 2) return;
  size_t h = n / 2;
  merge_sort(a, h);
  merge_sort(a + h, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) scratch[k++] = a[j] < a[i] ? a[j++] : a[i++];
  while (i < h) scratch[k++] = a[i++];
  while (j < n) scratch[k++] = a[j++];
  for (k = 0; k < n; k++) a[k] = scratch[k];
}

static uint32_t seed = 12345;
static uint32_t lcg(void) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}

static int ints[500], copy[500];
static uint64_t wide[200];
static struct rec recs[64];

static int check(const void *base, size_t n, size_t size, cmp_fn cmp) {
  for (size_t i = 1; i < n; i++)
    if (cmp((const unsigned char *)base + (i - 1) * size, (const unsigned char *)base + i * size) > 0) return 0;
  return 1;
}

int main(void) {
  for (int i = 0; i < 500; i++) ints[i] = (int)(lcg() % 20001) - 10000;
  for (int i = 0; i < 500; i++) copy[i] = ints[i];
  sort(ints, 500, sizeof ints[0], by_int_up);
  rt_printf("ints up: sorted=%d first=%d %d %d last=%d calls=%lu\n", check(ints, 500, 4, by_int_up), ints[0],
            ints[1], ints[2], ints[499], calls);
  unsigned long s = 0; /* unsigned: wraps by definition */
  for (int i = 0; i < 500; i++) s = s * 7 + (unsigned long)(long)ints[i];
  rt_printf("ints up checksum=%lx\n", s);
  sort(ints, 500, sizeof ints[0], by_int_down);
  rt_printf("ints down: sorted=%d first=%d last=%d\n", check(ints, 500, 4, by_int_down), ints[0], ints[499]);
  merge_sort(copy, 500);
  int same = 1;
  for (int i = 0; i < 500; i++) same &= copy[i] == ints[499 - i];
  rt_printf("merge sort agrees: %d\n", same);

  for (int i = 0; i < 200; i++) wide[i] = ((uint64_t)lcg() << 40) ^ ((uint64_t)lcg() << 16) ^ lcg();
  wide[17] = ~0ULL;
  wide[18] = 0;
  sort(wide, 200, sizeof wide[0], by_u64);
  rt_printf("u64: sorted=%d min=%lx max=%lx median=%lx\n", check(wide, 200, 8, by_u64), wide[0], wide[199],
            wide[100]);

  for (int i = 0; i < 64; i++) {
    recs[i].key = lcg() % 10;
    recs[i].weight = (int16_t)(lcg() % 2000 - 1000);
    for (int k = 0; k < 5; k++) recs[i].name[k] = (char)('a' + lcg() % 26);
    recs[i].name[5] = 0;
  }
  sort(recs, 64, sizeof recs[0], by_key_then_weight);
  rt_printf("records: sorted=%d\n", check(recs, 64, sizeof recs[0], by_key_then_weight));
  for (int i = 0; i < 64; i += 9) rt_printf("  %u %-5s %6d\n", recs[i].key, recs[i].name, recs[i].weight);
  rt_printf("quick calls=%lu\n", calls);
  return 0;
}

/* String and byte loops: length, compare, copy, search, reversal, byte swapping, number conversion. */
#include "../runtime/rt.h"

static size_t str_len(const char *s) {
  const char *p = s;
  while (*p) p++;
  return (size_t)(p - s);
}

static int str_cmp(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (unsigned char)*a - (unsigned char)*b;
}

static char *str_cpy(char *d, const char *s) {
  char *r = d;
  while ((*d++ = *s++)) {
  }
  return r;
}

static void byte_copy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  for (size_t i = 0; i < n; i++) d[i] = s[i];
}

static const char *str_str(const char *hay, const char *needle) {
  size_t n = str_len(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] == needle[i]) i++;
    if (i == n) return hay;
  }
  return 0;
}

static void reverse(char *s, size_t n) {
  for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
    char t = s[i];
    s[i] = s[j];
    s[j] = t;
  }
}

static uint32_t swap32(uint32_t x) {
  return (x >> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24);
}

static uint64_t swap64(uint64_t x) { return (uint64_t)swap32((uint32_t)x) << 32 | swap32((uint32_t)(x >> 32)); }

static long parse(const char *s, int *ok) {
  long sign = 1, v = 0;
  *ok = 0;
  while (*s == ' ') s++;
  if (*s == '-' || *s == '+') sign = *s++ == '-' ? -1 : 1;
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (*s++ - '0');
    *ok = 1;
  }
  return sign * v;
}

static int count_words(const char *s) {
  int n = 0, in = 0;
  for (; *s; s++) {
    int sp = *s == ' ' || *s == '\n' || *s == '\t';
    if (!sp && !in) n++;
    in = !sp;
  }
  return n;
}

static const char *text =
    "The quick brown fox jumps over the lazy dog.\n"
    "Pack my box with five dozen liquor jugs!\tSphinx of black quartz, judge my vow.";

static char buf[256], buf2[256];

int main(void) {
  rt_printf("len=%lu words=%d\n", (unsigned long)str_len(text), count_words(text));
  const char *words[] = {"apple", "apples", "banana", "Apple", "", "apple", "zebra", "appla"};
  for (int i = 0; i < 7; i++) {
    int c = str_cmp(words[i], words[i + 1]);
    rt_printf("cmp(\"%s\",\"%s\") %s\n", words[i], words[i + 1], c < 0 ? "<" : c > 0 ? ">" : "==");
  }
  str_cpy(buf, text);
  for (size_t i = 0; buf[i]; i++)
    if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = (char)(buf[i] - 32);
  rt_printf("upper: %s\n", buf);
  const char *needles[] = {"fox", "lazy dog", "quartz", "cat", "Pack my"};
  for (int i = 0; i < 5; i++) {
    const char *at = str_str(text, needles[i]);
    rt_printf("find \"%s\": %ld\n", needles[i], at ? (long)(at - text) : -1L);
  }
  str_cpy(buf, "nestsim runs real ppc64le code");
  reverse(buf, str_len(buf));
  rt_printf("reversed: %s\n", buf);
  /* Overlapping and unaligned copies. */
  for (int i = 0; i < 64; i++) buf2[i] = (char)('A' + i % 26);
  buf2[64] = 0;
  byte_copy(buf, buf2 + 3, 40);
  buf[40] = 0;
  rt_printf("copy+3: %s\n", buf);
  memmove(buf2 + 5, buf2, 30);
  rt_printf("memmove: %s\n", buf2);
  uint32_t w = 0x11223344u;
  uint64_t d = 0x0102030405060708ULL;
  rt_printf("swap32=%08x swap64=%016lx builtin32=%08x builtin64=%016lx\n", swap32(w), swap64(d),
            __builtin_bswap32(w), __builtin_bswap64(d));
  /* Bytes of a 64-bit value in memory order: little-endian. */
  unsigned char bytes[8];
  byte_copy(bytes, &d, 8);
  rt_printf("memory order: %02x %02x %02x %02x %02x %02x %02x %02x\n", bytes[0], bytes[1], bytes[2], bytes[3],
            bytes[4], bytes[5], bytes[6], bytes[7]);
  const char *nums[] = {"0", "42", "-17", "  +9000", "123456789012", "-9223372036854775807", "x1"};
  long total = 0;
  for (int i = 0; i < 7; i++) {
    int ok;
    long v = parse(nums[i], &ok);
    char back[32];
    rt_snprintf(back, sizeof back, "%ld", v);
    rt_printf("parse \"%s\" -> %ld ok=%d back=\"%s\"\n", nums[i], v, ok, back);
    total += v / 7;
  }
  rt_printf("total=%ld\n", total);
  rt_eprintf("strings: done (this line goes to stderr)\n");
  rt_exit(7);
}

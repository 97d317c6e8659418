/* The guest runtime: system-call wrappers, buffered stdout and a small printf. No libc. */
#include "rt.h"

long rt_write(int fd, const void *buf, size_t len) {
  return __rt_syscall(SYS_write, fd, (long)buf, (long)len, 0, 0, 0);
}

static char out_buf[512];
static size_t out_len;

void rt_flush(void) {
  size_t done = 0;
  while (done < out_len) {
    long n = rt_write(1, out_buf + done, out_len - done);
    if (n <= 0) break; /* nothing sensible to do without a console */
    done += (size_t)n;
  }
  out_len = 0;
}

void rt_putc(char c) {
  if (out_len == sizeof out_buf) rt_flush();
  out_buf[out_len++] = c;
}

void rt_puts(const char *s) {
  while (*s) rt_putc(*s++);
}

void rt_exit(int code) {
  rt_flush();
  for (;;) __rt_syscall(SYS_exit, code, 0, 0, 0, 0, 0);
}

void rt_exit_group(int code) {
  rt_flush();
  for (;;) __rt_syscall(SYS_exit_group, code, 0, 0, 0, 0, 0);
}

/* Called by _start: the program's exit status comes back to _start, which calls exit_group. */
int rt_main(void);
int rt_main(void) {
  int code = main();
  rt_flush();
  return code;
}

/* ---- formatting ---- */

/* A sink: either buffered stdout or a bounded buffer. */
struct sink {
  char *buf; /* NULL: stdout */
  size_t size;
  size_t len; /* characters produced, including any that did not fit */
};

static void emit(struct sink *s, char c) {
  if (!s->buf)
    rt_putc(c);
  else if (s->len + 1 < s->size)
    s->buf[s->len] = c;
  s->len++;
}

/* Digits of v in base 10 or 16, most significant first, into tmp; returns the count. */
static int digits(char *tmp, unsigned long long v, unsigned base, int upper) {
  const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char rev[24];
  int n = 0;
  do {
    rev[n++] = set[v % base];
    v /= base;
  } while (v);
  for (int i = 0; i < n; i++) tmp[i] = rev[n - 1 - i];
  return n;
}

static void pad(struct sink *s, char c, int count) {
  while (count-- > 0) emit(s, c);
}

static void format(struct sink *s, const char *fmt, va_list ap) {
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      emit(s, *fmt);
      continue;
    }
    fmt++;
    int left = 0, zero = 0, width = 0, longs = 0;
    for (;; fmt++) {
      if (*fmt == '-')
        left = 1;
      else if (*fmt == '0')
        zero = 1;
      else
        break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') {
      longs++;
      fmt++;
    }
    char tmp[24];
    const char *text = tmp;
    int len = 0, neg = 0;
    switch (*fmt) {
    case 'd':
    case 'i': {
      long long v = longs ? va_arg(ap, long long) : va_arg(ap, int);
      unsigned long long m = (unsigned long long)v;
      if (v < 0) {
        neg = 1;
        m = 0 - m;
      }
      len = digits(tmp, m, 10, 0);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      unsigned long long v = longs ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned);
      len = digits(tmp, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
      break;
    }
    case 'p':
      emit(s, '0');
      emit(s, 'x');
      len = digits(tmp, (unsigned long long)(uintptr_t)va_arg(ap, void *), 16, 0);
      break;
    case 'c':
      tmp[0] = (char)va_arg(ap, int);
      len = 1;
      break;
    case 's':
      text = va_arg(ap, const char *);
      if (!text) text = "(null)";
      while (text[len]) len++;
      break;
    case '%':
      emit(s, '%');
      continue;
    case '\0':
      return;
    default: /* unknown conversion: print it as written */
      emit(s, '%');
      emit(s, *fmt);
      continue;
    }
    int fill = width - len - neg;
    if (!left && !zero) pad(s, ' ', fill);
    if (neg) emit(s, '-');
    if (!left && zero) pad(s, '0', fill);
    for (int i = 0; i < len; i++) emit(s, text[i]);
    if (left) pad(s, ' ', fill);
  }
}

void rt_vprintf(const char *fmt, va_list ap) {
  struct sink s = {0, 0, 0};
  format(&s, fmt, ap);
}

void rt_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rt_vprintf(fmt, ap);
  va_end(ap);
}

int rt_snprintf(char *buf, size_t size, const char *fmt, ...) {
  struct sink s = {buf, size, 0};
  va_list ap;
  va_start(ap, fmt);
  format(&s, fmt, ap);
  va_end(ap);
  if (size) buf[s.len < size ? s.len : size - 1] = '\0';
  return (int)s.len;
}

void rt_eprintf(const char *fmt, ...) {
  char line[160];
  struct sink s = {line, sizeof line, 0};
  va_list ap;
  va_start(ap, fmt);
  format(&s, fmt, ap);
  va_end(ap);
  size_t n = s.len < sizeof line ? s.len : sizeof line - 1;
  rt_write(2, line, n);
}

/* ---- what the compiler may call ---- */

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *p = src;
  while (n--) *d++ = *p++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *p = src;
  if (d < p) {
    while (n--) *d++ = *p++;
  } else {
    while (n--) d[n] = p[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  unsigned char *d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x - *y;
  return 0;
}

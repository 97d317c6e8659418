/* The guest runtime: Linux system calls through `sc`, buffered output and a small formatter. */
#ifndef NESTSIM_RT_H
#define NESTSIM_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Linux system call numbers on powerpc64 (arch/powerpc syscall table). */
#define SYS_exit 1
#define SYS_write 4
#define SYS_exit_group 234

/* Raw system call; returns the result, or -errno on failure. */
long __rt_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

long rt_write(int fd, const void *buf, size_t len);
/* Flushes stdout, then ends the thread (`exit`) or the whole process (`exit_group`). */
__attribute__((noreturn)) void rt_exit(int code);
__attribute__((noreturn)) void rt_exit_group(int code);

/* Buffered stdout (flushed when full, by rt_flush and before exiting). */
void rt_putc(char c);
void rt_puts(const char *s);
void rt_flush(void);
/*
 * printf subset: %d %i %u %x %X %c %s %p %%, length l (long) and ll, flags '-' and '0', a width.
 * Writes to buffered stdout.
 */
void rt_printf(const char *fmt, ...);
void rt_vprintf(const char *fmt, va_list ap);
/* Formats into buf (at most size-1 characters and a NUL); returns the untruncated length. */
int rt_snprintf(char *buf, size_t size, const char *fmt, ...);
/* Writes a formatted line straight to fd 2 (unbuffered). */
void rt_eprintf(const char *fmt, ...);

/* What gcc may call even in freestanding code (struct copies, large initializers). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* Each program defines this; its return value is the exit status. */
int main(void);

#endif

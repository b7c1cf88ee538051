/* SPDX-License-Identifier: ISC */
/*
 * util.h - small helpers shared by every module: attributes, invariants,
 * allocation that cannot fail silently, fd flags.
 */
#ifndef SOCKEYE_UTIL_H
#define SOCKEYE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define MUST_CHECK   __attribute__((warn_unused_result))
#define PRINTF_FMT(a, b) __attribute__((format(printf, a, b)))
#define NORETURN     __attribute__((noreturn))
#define UNUSED       __attribute__((unused))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Always-on invariant check: logs file:line and aborts. Cheap by design. */
#define BUG_ON(cond) do { \
		if (__builtin_expect(!!(cond), 0)) \
			util_bug(__FILE__, __LINE__, #cond); \
	} while (0)

void util_bug(const char *file, int line, const char *what) NORETURN;

/*
 * Allocation that aborts (with a log line) on failure. Used for small,
 * bounded allocations only; anything sized by a peer must use plain
 * malloc and handle NULL.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t nmemb, size_t n);
char *xstrdup(const char *s);

/* fcntl helpers: 0 on success, -1 with errno. */
int util_set_nonblock(int fd) MUST_CHECK;
int util_set_cloexec(int fd) MUST_CHECK;

/* Monotonic clock in milliseconds. */
uint64_t util_now_ms(void);

/* strlcpy-like: copies at most size-1 bytes, always terminates, returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

#endif

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
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Always-on invariant check: logs file:line and aborts. Cheap by design. */
#define BUG_ON(cond) do { \
		if (__builtin_expect(!!(cond), 0)) \
			util_bug(__FILE__, __LINE__, #cond); \
	} while (0)

void util_bug(const char *file, int line, const char *what) NORETURN;

/*
 * Where util's own fatal errors (a BUG_ON, an allocation that failed) are
 * told before the process aborts or exits: log.c installs log_msg() here
 * in log_init(), so util stays a leaf that includes no other module. With
 * no hook the message goes to stderr.
 */
typedef void (*util_fatal_hook)(const char *file, int line, const char *func,
    const char *msg);
void util_set_fatal_hook(util_fatal_hook hook);

/*
 * Allocation that aborts (with a log line) on failure. Used for small,
 * bounded allocations only; anything sized by a peer must use plain
 * malloc and handle NULL.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t nmemb, size_t n);
char *xstrdup(const char *s);

/* O_NONBLOCK on fd: 0 on success, -1 with errno. */
int util_set_nonblock(int fd) MUST_CHECK;

/* Monotonic clock in milliseconds. */
uint64_t util_now_ms(void);

/*
 * FNV-1a over len bytes, continuing from h: start with UTIL_FNV1A32_INIT
 * (UTIL_FNV1A64_INIT), or that value mixed with a seed for a keyed table;
 * pass the result back in to hash several fields as one.
 */
#define UTIL_FNV1A32_INIT 2166136261u
#define UTIL_FNV1A64_INIT 14695981039346656037ull
uint32_t util_fnv1a32(uint32_t h, const void *p, size_t len);
uint64_t util_fnv1a64(uint64_t h, const void *p, size_t len);

/*
 * SipHash-2-4 (Aumasson and Bernstein) of len bytes under the 128-bit key
 * k: the keyed hash for tables whose keys a client chooses, so that it
 * cannot aim at one chain.
 */
uint64_t util_siphash24(const uint64_t k[2], const void *in, size_t len);

/* murmur3's 64-bit finaliser: every input bit reaches every output bit. */
uint64_t util_mix64(uint64_t h);

/* strlcpy-like: copies at most size-1 bytes, always terminates, returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);

#endif

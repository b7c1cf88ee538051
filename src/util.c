/* SPDX-License-Identifier: ISC */
/*
 * util.c - see util.h.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static util_fatal_hook fatal_hook;

void
util_set_fatal_hook(util_fatal_hook hook)
{
	fatal_hook = hook;
}

static void
tell(const char *file, int line, const char *func, const char *msg)
{
	if (fatal_hook != NULL)
		fatal_hook(file, line, func, msg);
	else
		fprintf(stderr, "%s:%d: %s\n", file, line, msg);
}

void
util_bug(const char *file, int line, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "BUG: %s", what);
	tell(file, line, "BUG_ON", msg);
	abort();
}

static void
die(const char *func, const char *msg) NORETURN;

static void
die(const char *func, const char *msg)
{
	tell(__FILE__, __LINE__, func, msg);
	exit(1);
}

static void *
check_alloc(void *p)
{
	if (p == NULL)
		die(__func__, "out of memory");
	return p;
}

void *
xmalloc(size_t n)
{
	return check_alloc(malloc(n == 0 ? 1 : n));
}

void *
xcalloc(size_t nmemb, size_t n)
{
	return check_alloc(calloc(nmemb == 0 ? 1 : nmemb, n == 0 ? 1 : n));
}

void *
xrealloc(void *p, size_t nmemb, size_t n)
{
	if (n != 0 && nmemb > SIZE_MAX / n)
		die(__func__, "allocation overflow");
	return check_alloc(realloc(p, nmemb * n == 0 ? 1 : nmemb * n));
}

char *
xstrdup(const char *s)
{
	return check_alloc(strdup(s));
}

int
util_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ? -1 : 0;
}

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint32_t
util_fnv1a32(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

uint64_t
util_fnv1a64(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len-- > 0)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
	} while (0)

uint64_t
util_siphash24(const uint64_t k[2], const void *p, size_t len)
{
	const uint8_t *in = p;
	uint64_t v0 = 0x736f6d6570736575ULL ^ k[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ k[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ k[0];
	uint64_t v3 = 0x7465646279746573ULL ^ k[1];
	uint64_t m, b = (uint64_t)len << 56;
	size_t i, left = len & 7;
	int j;

	for (i = 0; i + 8 <= len; i += 8) {
		for (m = 0, j = 7; j >= 0; j--)
			m = (m << 8) | in[i + (size_t)j];
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (j = (int)left - 1; j >= 0; j--)
		b |= (uint64_t)in[i + (size_t)j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
util_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

size_t
util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

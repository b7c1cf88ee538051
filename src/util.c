/* SPDX-License-Identifier: ISC */
/*
 * util.c - see util.h.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

void
util_bug(const char *file, int line, const char *what)
{
	log_msg(LOG_LEVEL_ERROR, file, line, "BUG_ON", "BUG: %s", what);
	abort();
}

static void *
check_alloc(void *p)
{
	if (p == NULL)
		fatal("out of memory");
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
		fatal("allocation overflow");
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

int
util_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1 ? -1 : 0;
}

uint64_t
util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
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

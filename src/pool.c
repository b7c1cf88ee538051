/* SPDX-License-Identifier: ISC */
/*
 * pool.c - see pool.h.
 *
 * The spares are two small stacks: the last pipe or buffer given back is
 * the first handed out (still warm in the caches). Buffers come from
 * malloc; pool_trim() frees the spares and calls malloc_trim(0), which
 * returns the free pages inside the heap as well as at its top.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pool.h"

/* Spares kept between takers: enough for a busy moment, little memory. */
#define POOL_SPARE_PIPES 16
#define POOL_SPARE_BIG 8
#define POOL_SPARE_BUFS 32
/* The most big pipes a process may have, whatever its share. */
#define POOL_BIG_MAX 1024

static struct {
	int spare_pipe[POOL_SPARE_PIPES][2];
	size_t n_spare_pipes;
	size_t pipes_used, pipes_peak;
	size_t pipe_cap;
	int cap_set;
	int spare_big[POOL_SPARE_BIG][2];
	size_t n_spare_big;
	int big_fd[POOL_BIG_MAX];	/* read ends of the big pipes, used or spare */
	size_t n_big, big_cap;
	int big_cap_set;
	uint8_t *spare_buf[POOL_SPARE_BUFS];
	size_t n_spare_bufs;
	size_t bufs_used, bufs_peak;
} pool;

void
pool_set_pipe_cap(size_t cap)
{
	pool.pipe_cap = cap;
	pool.cap_set = 1;
}

static size_t
pool_default_pipe_cap(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return 256;
	/* Two descriptors a pipe: half of a quarter of the descriptors. */
	return (size_t)(rl.rlim_cur / 8);
}

void
pool_set_big_pipe_cap(size_t cap)
{
	pool.big_cap = cap < POOL_BIG_MAX ? cap : POOL_BIG_MAX;
	pool.big_cap_set = 1;
}

size_t
pool_big_pipe_share(int workers)
{
	FILE *f = fopen("/proc/sys/fs/pipe-user-pages-soft", "r");
	unsigned long pages = 16384;
	long cpus;
	size_t n;

	if (f != NULL) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 16384;
		fclose(f);
	}
	if (workers <= 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		workers = cpus > 0 ? (int)cpus : 1;
	}
	if (pages == 0)
		return 64;
	n = pages / 4 / (POOL_BIG_PIPE_BYTES / 4096) / (size_t)workers;
	return n;
}

int
pool_pipe_get(int fds[2])
{
	if (!pool.cap_set)
		pool_set_pipe_cap(pool_default_pipe_cap());
	if (pool.pipes_used >= pool.pipe_cap) {
		errno = EMFILE;
		return -1;
	}
	if (pool.n_spare_big > 0) {
		pool.n_spare_big--;
		fds[0] = pool.spare_big[pool.n_spare_big][0];
		fds[1] = pool.spare_big[pool.n_spare_big][1];
	} else if (pool.n_spare_pipes > 0) {
		pool.n_spare_pipes--;
		fds[0] = pool.spare_pipe[pool.n_spare_pipes][0];
		fds[1] = pool.spare_pipe[pool.n_spare_pipes][1];
	} else if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) {
		fds[0] = fds[1] = -1;
		return -1;
	}
	if (++pool.pipes_used > pool.pipes_peak)
		pool.pipes_peak = pool.pipes_used;
	return 0;
}

/* fd's index in big_fd, or -1: not a big pipe's. */
static int
big_index(int fd)
{
	size_t i;

	for (i = 0; i < pool.n_big; i++)
		if (pool.big_fd[i] == fd)
			return (int)i;
	return -1;
}

static void
close_pipe(int fds[2])
{
	int i = big_index(fds[0]);

	if (i != -1)
		pool.big_fd[i] = pool.big_fd[--pool.n_big];
	close(fds[0]);
	close(fds[1]);
}

void
pool_pipe_put(int fds[2], int empty)
{
	if (fds[0] == -1)
		return;
	pool.pipes_used--;
	if (empty && big_index(fds[0]) != -1) {
		if (pool.n_spare_big < POOL_SPARE_BIG) {
			pool.spare_big[pool.n_spare_big][0] = fds[0];
			pool.spare_big[pool.n_spare_big][1] = fds[1];
			pool.n_spare_big++;
		} else {
			close_pipe(fds);
		}
	} else if (empty && pool.n_spare_pipes < POOL_SPARE_PIPES) {
		pool.spare_pipe[pool.n_spare_pipes][0] = fds[0];
		pool.spare_pipe[pool.n_spare_pipes][1] = fds[1];
		pool.n_spare_pipes++;
	} else {
		close_pipe(fds);
	}
	fds[0] = fds[1] = -1;
}

int
pool_pipe_grow(int fds[2])
{
	if (!pool.big_cap_set)
		pool_set_big_pipe_cap(pool_big_pipe_share(0));
	if (fds[0] == -1 || pool.n_big >= pool.big_cap ||
	    big_index(fds[0]) != -1)
		return 0;
	if (fcntl(fds[0], F_SETPIPE_SZ, POOL_BIG_PIPE_BYTES) < POOL_BIG_PIPE_BYTES)
		return 0;
	pool.big_fd[pool.n_big++] = fds[0];
	return 1;
}

int
pool_pipe_is_big(const int fds[2])
{
	return fds[0] != -1 && big_index(fds[0]) != -1;
}

uint8_t *
pool_buf_get(void)
{
	uint8_t *b;

	if (pool.n_spare_bufs > 0)
		b = pool.spare_buf[--pool.n_spare_bufs];
	else if ((b = malloc(POOL_BUFSZ)) == NULL)
		return NULL;
	if (++pool.bufs_used > pool.bufs_peak)
		pool.bufs_peak = pool.bufs_used;
	return b;
}

void
pool_buf_put(uint8_t *buf)
{
	if (buf == NULL)
		return;
	pool.bufs_used--;
	if (pool.n_spare_bufs < POOL_SPARE_BUFS)
		pool.spare_buf[pool.n_spare_bufs++] = buf;
	else
		free(buf);
}

void
pool_trim(void)
{
	while (pool.n_spare_pipes > 0) {
		pool.n_spare_pipes--;
		close_pipe(pool.spare_pipe[pool.n_spare_pipes]);
	}
	while (pool.n_spare_big > 0) {
		pool.n_spare_big--;
		close_pipe(pool.spare_big[pool.n_spare_big]);
	}
	while (pool.n_spare_bufs > 0)
		free(pool.spare_buf[--pool.n_spare_bufs]);
	pool.pipes_peak = pool.pipes_used;
	pool.bufs_peak = pool.bufs_used;
	(void)malloc_trim(0);
}

void
pool_stats(struct pool_stats *out)
{
	out->pipes_used = pool.pipes_used;
	out->pipes_spare = pool.n_spare_pipes + pool.n_spare_big;
	out->bufs_used = pool.bufs_used;
	out->bufs_spare = pool.n_spare_bufs;
	out->pipes_peak = pool.pipes_peak;
	out->pipes_big = pool.n_big;
	out->bufs_peak = pool.bufs_peak;
}

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
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pool.h"

/* Spares kept between takers: enough for a busy moment, little memory. */
#define POOL_SPARE_PIPES 16
#define POOL_SPARE_BUFS 32

static struct {
	int spare_pipe[POOL_SPARE_PIPES][2];
	size_t n_spare_pipes;
	size_t pipes_used, pipes_peak;
	size_t pipe_cap;
	int cap_set;
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

int
pool_pipe_get(int fds[2])
{
	if (!pool.cap_set)
		pool_set_pipe_cap(pool_default_pipe_cap());
	if (pool.pipes_used >= pool.pipe_cap) {
		errno = EMFILE;
		return -1;
	}
	if (pool.n_spare_pipes > 0) {
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

void
pool_pipe_put(int fds[2], int empty)
{
	if (fds[0] == -1)
		return;
	pool.pipes_used--;
	if (empty && pool.n_spare_pipes < POOL_SPARE_PIPES) {
		pool.spare_pipe[pool.n_spare_pipes][0] = fds[0];
		pool.spare_pipe[pool.n_spare_pipes][1] = fds[1];
		pool.n_spare_pipes++;
	} else {
		close(fds[0]);
		close(fds[1]);
	}
	fds[0] = fds[1] = -1;
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
		close(pool.spare_pipe[pool.n_spare_pipes][0]);
		close(pool.spare_pipe[pool.n_spare_pipes][1]);
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
	out->pipes_spare = pool.n_spare_pipes;
	out->bufs_used = pool.bufs_used;
	out->bufs_spare = pool.n_spare_bufs;
	out->pipes_peak = pool.pipes_peak;
	out->bufs_peak = pool.bufs_peak;
}

/* SPDX-License-Identifier: ISC */
/*
 * pool.h - the relay's pipes and buffers, per process (each worker has its
 * own; nothing here is shared or locked).
 *
 * A relayed session holds a pipe (splice) or a buffer (the copy path) only
 * while bytes are in flight in one direction, and gives it back as soon as
 * that direction is drained: an idle session holds neither. Given-back
 * pipes and buffers wait here for the next taker, up to a small number;
 * pool_trim() lets even those go once the worker is quiet, so that a burst
 * does not leave the worker bigger for good.
 *
 * Pipes are capped (each costs two descriptors): when the cap is reached
 * pool_pipe_get() says no and the relay copies instead.
 *
 * A pipe holds POOL_PIPE_BYTES; one that a direction keeps full (a bulk
 * transfer) may grow to POOL_BIG_PIPE_BYTES, a quarter of the system
 * calls per byte. Big pipes are capped too: the kernel counts every pipe's
 * pages against its user (fs.pipe-user-pages-soft, 16,384 pages by
 * default), and once over, gives each new pipe of that user two pages.
 */
#ifndef SOCKEYE_POOL_H
#define SOCKEYE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Bytes in a relay buffer. */
#define POOL_BUFSZ (16 * 1024)

/* Bytes a pipe holds (Linux's default: 16 pages), and a grown one. */
#define POOL_PIPE_BYTES (64 * 1024)
#define POOL_BIG_PIPE_BYTES (256 * 1024)

/*
 * An empty pipe, both ends non-blocking and close-on-exec, in fds[0]
 * (read end) and fds[1] (write end). Returns 0, or -1 when the cap is
 * reached or pipe2(2) failed (errno says which: EMFILE, ENFILE, ...).
 */
int pool_pipe_get(int fds[2]) MUST_CHECK;

/*
 * Give back a pipe from pool_pipe_get(). `empty`: nothing is left in it,
 * so it may be handed out again; a pipe that still holds bytes is closed.
 * Sets both fds to -1.
 */
void pool_pipe_put(int fds[2], int empty);

/*
 * Let a pipe from pool_pipe_get() hold POOL_BIG_PIPE_BYTES. 1: it does
 * now; 0: it stays as it was (the cap of big pipes is reached, it is big
 * already, or the kernel refused). A big pipe given back waits as a big
 * spare, which pool_pipe_get() hands out first.
 */
int pool_pipe_grow(int fds[2]) MUST_CHECK;

/* 1: the pipe holds POOL_BIG_PIPE_BYTES, 0: POOL_PIPE_BYTES. */
int pool_pipe_is_big(const int fds[2]);

/* A buffer of POOL_BUFSZ bytes, or NULL when out of memory. */
uint8_t *pool_buf_get(void) MUST_CHECK;

/* Give back a buffer from pool_buf_get(); NULL is a no-op. */
void pool_buf_put(uint8_t *buf);

/*
 * Let go of what waits unused (close the spare pipes, free the spare
 * buffers) and hand the heap's free pages back to the system
 * (malloc_trim). For a worker's quiet moments.
 */
void pool_trim(void);

/*
 * In use now, waiting as spares, and the most in use since pool_trim();
 * big: pipes grown, in use or spare.
 */
struct pool_stats {
	size_t pipes_used, pipes_spare, pipes_peak, pipes_big;
	size_t bufs_used, bufs_spare, bufs_peak;
};

void pool_stats(struct pool_stats *out);

/*
 * The most pipes in use at once (set before the first get; 0: none, every
 * relay copies). The default is a quarter of RLIMIT_NOFILE's soft limit.
 */
void pool_set_pipe_cap(size_t cap);

/*
 * The most big pipes at once. The default, pool_big_pipe_share(0), is a
 * quarter of the user's pipe pages shared by one worker per CPU.
 */
void pool_set_big_pipe_cap(size_t cap);

/*
 * A worker's share of big pipes when `workers` workers (0: one per CPU)
 * run as one user: a quarter of fs.pipe-user-pages-soft between them
 * (when that is 0, no limit: 64 each).
 */
size_t pool_big_pipe_share(int workers);

#endif

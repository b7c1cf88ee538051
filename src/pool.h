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
 */
#ifndef SOCKEYE_POOL_H
#define SOCKEYE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Bytes in a relay buffer. */
#define POOL_BUFSZ (16 * 1024)

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

/* In use now, waiting as spares, and the most in use since pool_trim(). */
struct pool_stats {
	size_t pipes_used, pipes_spare, pipes_peak;
	size_t bufs_used, bufs_spare, bufs_peak;
};

void pool_stats(struct pool_stats *out);

/*
 * The most pipes in use at once (set before the first get; 0: none, every
 * relay copies). The default is a quarter of RLIMIT_NOFILE's soft limit.
 */
void pool_set_pipe_cap(size_t cap);

#endif

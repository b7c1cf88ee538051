/* SPDX-License-Identifier: ISC */
/*
 * relay.h - move bytes both ways between two connected sockets.
 *
 * Non-blocking, on the worker's libev loop. Back-pressure: a side is read
 * only while the buffer towards the other side has room. A half-close is
 * passed on: EOF read from one side, once everything read before it has been
 * written, becomes shutdown(SHUT_WR) on the other side; never a reset. The
 * relay is done when both directions have ended (or on an error or idle
 * timeout) and then calls its callback once.
 *
 * A reset is passed on as a reset: when one side resets (or its socket
 * fails the same way, EPIPE), what was already received from it is still
 * delivered to the other side, and then the relay ends with
 * RELAY_END_RESET_CLIENT or _REMOTE, having set the other side's socket to
 * abort on close (SO_LINGER 0): closing it sends a reset, so that a
 * truncated transfer is seen as truncated, not as a clean end.
 *
 * The relay borrows the fds: the caller (the session) owns and closes them,
 * after relay_free(). Bytes move with splice(2) through a pipe from the
 * worker's pool (pool.h), or, when splice cannot be used (the pool's cap,
 * a socket that does not splice, the copy switch below), through a buffer
 * from the pool; either is held only while bytes are in flight. splice(2)
 * cannot be told not to raise SIGPIPE: the process must ignore it.
 */
#ifndef SOCKEYE_RELAY_H
#define SOCKEYE_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct ev_loop;
struct relay;

enum relay_end {
	/*
	 * Both directions ended cleanly: the first to end was half-closed
	 * (shutdown SHUT_WR), the last is left for the caller's close() to
	 * end with a FIN, which it does when nothing is left unread.
	 */
	RELAY_END_CLOSED = 0,
	RELAY_END_IDLE,		/* idle timeout */
	RELAY_END_ERROR,	/* a read/write error (errno in `err`) */
	RELAY_END_RESET_CLIENT,	/* the client reset (`err` ECONNRESET or EPIPE) */
	RELAY_END_RESET_REMOTE,	/* the remote reset */
};

struct relay_stats {
	uint64_t bytes_up;	/* client -> remote, written to remote */
	uint64_t bytes_down;	/* remote -> client, written to client */
};

typedef void (*relay_done_cb)(void *arg, enum relay_end how, int err,
    const struct relay_stats *st);

/*
 * Start relaying between client_fd and remote_fd (both non-blocking).
 * `pending`/`pending_len`: bytes already read from the client that must go
 * to the remote first (a client that sent data right after its request);
 * copied. `idle_timeout_s` 0 means none. Returns NULL on allocation failure.
 * The callback may call relay_free() and close the fds.
 */
struct relay *relay_new(struct ev_loop *loop, int client_fd, int remote_fd,
    const uint8_t *pending, size_t pending_len, int idle_timeout_s,
    relay_done_cb cb, void *arg) MUST_CHECK;

/*
 * Cap this relay's reads by `rl` (a user's bandwidth bucket, shared with
 * the user's other relays; NULL: no cap). The caller keeps the reference
 * and must keep it alive as long as the relay.
 */
struct ratelimit;
void relay_set_ratelimit(struct relay *r, struct ratelimit *rl);

/*
 * Move bytes through buffers only (on) or with splice(2) where it can
 * (off, the default). For every relay this process starts from now on.
 * The environment variable SOCKEYE_RELAY=copy turns it on at the first
 * relay_new() (tests run both paths).
 */
void relay_force_copy(int on);

/* Counts so far. */
void relay_stats(const struct relay *r, struct relay_stats *out);

/* Stop watching and free. relay_free(NULL) is a no-op. Does not close fds. */
void relay_free(struct relay *r);

#endif

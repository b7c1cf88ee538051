/* SPDX-License-Identifier: ISC */
/*
 * relay.c - see relay.h.
 *
 *   dir[RELAY_UP]:   client_fd -> remote_fd   (bytes_up)
 *   dir[RELAY_DOWN]: remote_fd -> client_fd   (bytes_down)
 *
 * A direction holds its bytes in flight in one place at a time: a pipe
 * (splice: socket -> pipe -> socket, the bytes never cross into user
 * space) or a buffer (read/send). Which one is chosen when the direction
 * is empty; once it is drained the pipe or buffer goes back to the pool,
 * so an idle direction holds nothing, and bytes can never overtake each
 * other. The bytes a client sent behind its request start the up
 * direction in a buffer.
 *
 * A direction reads from its source only while its pipe or buffer has
 * room and writes to its sink only while it holds bytes, so a slow reader
 * on one side stops us reading the other side (back-pressure) instead of
 * making us buffer without bound; the kernel's socket buffers then fill up
 * and the fast sender blocks. A pipe counts its room in pages, not bytes:
 * a splice that finds it full says EAGAIN like an empty socket does, so
 * after an EAGAIN with bytes in the pipe the direction stops reading until
 * the sink has taken some. Every watcher is level-triggered and started
 * only when its condition can make progress, so an idle relay costs no
 * wake-ups.
 *
 * A direction ends when its source said EOF, everything read before the
 * EOF has been written, and the sink has been shut for writing (the
 * half-close is passed on, never turned into a close or a reset). The
 * relay ends when both directions have, at the idle timeout, on an error,
 * or after a reset: the direction into the side that reset is dropped,
 * the one out of it is read to its end and drained, and the other side's
 * socket is set to send a reset when it is closed.
 */
#include "config_auto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "pool.h"
#include "ratelimit.h"
#include "relay.h"

/* The most one read asks for (a grown pipe's size). */
#define RELAY_READ_MAX POOL_BIG_PIPE_BYTES

enum {
	RELAY_UP = 0,
	RELAY_DOWN = 1,
};

/*
 * struct relay's reset_by: the side that reset, named by the direction
 * that reads from it (RELAY_UP: the client, RELAY_DOWN: the remote).
 */
#define RELAY_NO_RESET (-1)

struct relay_dir {
	struct relay *r;
	int from, to;
	ev_io rd;		/* `from` readable: only while there is room */
	ev_io wr;		/* `to` writable: only while bytes wait */
	int pipe[2];		/* from the pool while bytes are in it, else -1 */
	size_t inpipe;		/* bytes in the pipe */
	bool pipe_full;		/* a splice in said EAGAIN with bytes in the pipe */
	bool pipe_big;		/* grown (pool_pipe_grow()): POOL_BIG_PIPE_BYTES */
	bool grow_tried;	/* asked once for this pipe: not again on each fill */
	bool nosplice;		/* a socket refused splice: copy from now on */
	/* Bytes waiting in the buffer are buf[off..len); buf NULL when none. */
	uint8_t *buf;
	size_t cap, off, len;
	bool own_buf;		/* buf is a malloc'd pending block, not the pool's */
	bool eof;		/* `from` returned EOF (or was reset) */
	bool shut;		/* shutdown(to, SHUT_WR) done: direction ended */
	bool dropped;		/* its sink reset: nothing more is moved */
	bool stalled;		/* out of bandwidth: `stall` restarts reading */
	ev_timer stall;
	uint64_t bytes;		/* written to `to` */
};

struct relay {
	struct ev_loop *loop;
	relay_done_cb cb;
	void *arg;
	ev_timer idle;
	double idle_timeout;	/* seconds, 0: none */
	ev_tstamp last_active;	/* loop time of the last byte moved */
	struct relay_dir dir[2];
	struct ratelimit *rl;	/* the user's bandwidth cap, or NULL */
	int reset_by;		/* RELAY_UP (client) / RELAY_DOWN (remote) */
	int reset_err;
};

/* Outcome of pumping one direction. */
enum relay_step {
	RELAY_STEP_OK = 0,	/* keep going */
	RELAY_STEP_ERROR,	/* errno set */
};

/* -1 until the first relay_new() has looked at SOCKEYE_RELAY. */
static int relay_copy_only = -1;

void
relay_force_copy(int on)
{
	relay_copy_only = on != 0;
}

static bool
dir_has_bytes(const struct relay_dir *d)
{
	return d->off < d->len || d->inpipe > 0;
}

static size_t
pipe_bytes(const struct relay_dir *d)
{
	return d->pipe_big ? POOL_BIG_PIPE_BYTES : POOL_PIPE_BYTES;
}

/* Room to read into: the pipe or buffer in use, or a fresh one. */
static bool
dir_has_room(const struct relay_dir *d)
{
	if (d->pipe[0] != -1)
		return !d->pipe_full && d->inpipe < pipe_bytes(d);
	if (d->buf != NULL)
		return d->len < d->cap;
	return true;
}

static void
relay_watch(struct ev_loop *loop, ev_io *w, bool on)
{
	if (on && !ev_is_active(w))
		ev_io_start(loop, w);
	else if (!on && ev_is_active(w))
		ev_io_stop(loop, w);
}

/* Start exactly the watchers that can make progress for `d`. */
static void
relay_dir_update(struct relay *r, struct relay_dir *d)
{
	bool live = !d->dropped;

	relay_watch(r->loop, &d->rd,
	    live && !d->eof && !d->stalled && dir_has_room(d));
	relay_watch(r->loop, &d->wr, live && dir_has_bytes(d));
}

/* Give the pipe back (kept for the next taker when empty). */
static void
dir_pipe_put(struct relay_dir *d)
{
	pool_pipe_put(d->pipe, d->inpipe == 0);
	d->pipe_big = false;
	d->grow_tried = false;
}

/* Give the pipe and the buffer back; bytes still in them are dropped. */
static void
relay_dir_release(struct relay_dir *d)
{
	dir_pipe_put(d);
	d->inpipe = 0;
	d->pipe_full = false;
	if (d->own_buf)
		free(d->buf);
	else
		pool_buf_put(d->buf);
	d->buf = NULL;
	d->own_buf = false;
	d->cap = d->off = d->len = 0;
}

static void
relay_stop_all(struct relay *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		ev_io_stop(r->loop, &r->dir[i].rd);
		ev_io_stop(r->loop, &r->dir[i].wr);
		ev_timer_stop(r->loop, &r->dir[i].stall);
	}
	ev_timer_stop(r->loop, &r->idle);
}

/*
 * Stop everything and tell the owner. Must be the last thing a caller
 * does with `r`: the callback may free it and close both fds.
 */
static void
relay_finish(struct relay *r, enum relay_end how, int err)
{
	struct relay_stats st;
	int i;

	relay_stop_all(r);
	for (i = 0; i < 2; i++)
		relay_dir_release(&r->dir[i]);
	relay_stats(r, &st);
	r->cb(r->arg, how, err, &st);
}

static void
relay_moved(struct relay *r, struct relay_dir *d, size_t n)
{
	d->bytes += n;
	r->last_active = ev_now(r->loop);
}

/* Write what the buffer or the pipe holds until empty or the sink is full. */
static enum relay_step
relay_flush(struct relay *r, struct relay_dir *d)
{
	ssize_t n;

	while (d->off < d->len) {
		n = send(d->to, d->buf + d->off, d->len - d->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			d->off += (size_t)n;
			relay_moved(r, d, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return RELAY_STEP_OK;	/* the write watcher waits */
		if (n == 0)
			errno = EIO;	/* send() of >0 bytes never does this */
		return RELAY_STEP_ERROR;
	}
	while (d->inpipe > 0) {
		n = splice(d->pipe[0], NULL, d->to, NULL, d->inpipe,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			d->inpipe -= (size_t)n;
			d->pipe_full = false;
			relay_moved(r, d, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return RELAY_STEP_OK;
		if (n == 0)
			errno = EIO;
		return RELAY_STEP_ERROR;
	}
	/* Drained: what held the bytes goes back to the pool. */
	relay_dir_release(d);
	return RELAY_STEP_OK;
}

/*
 * One splice from the source into the pipe; false: splice is not for us.
 * A pipe that this fills up grows, when the pool allows: a direction that
 * keeps its pipe full is a bulk transfer.
 */
static bool
relay_fill_pipe(struct relay_dir *d, size_t want, ssize_t *n)
{
	if (d->pipe[0] == -1) {
		if (pool_pipe_get(d->pipe) == -1)
			return false;
		d->pipe_big = pool_pipe_is_big(d->pipe);
	}
	if (want > pipe_bytes(d) - d->inpipe)
		want = pipe_bytes(d) - d->inpipe;
	do
		*n = splice(d->from, NULL, d->pipe[1], NULL, want,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (*n < 0 && errno == EINTR);
	if (*n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM) &&
	    d->inpipe == 0) {
		/* This socket does not splice: copy from now on. */
		d->nosplice = true;
		dir_pipe_put(d);
		return false;
	}
	if (*n > 0)
		d->inpipe += (size_t)*n;
	else if (*n < 0 && errno == EAGAIN && d->inpipe > 0)
		d->pipe_full = true;	/* or the source is empty: see above */
	if (!d->pipe_big && !d->grow_tried &&
	    (d->pipe_full || d->inpipe >= POOL_PIPE_BYTES)) {
		int err = errno;

		d->grow_tried = true;
		if (pool_pipe_grow(d->pipe)) {
			d->pipe_big = true;
			d->pipe_full = false;
		}
		errno = err;
	}
	return true;
}

/* One read from the source into the buffer's free tail. */
static enum relay_step
relay_fill_buf(struct relay_dir *d, size_t want, ssize_t *n)
{
	if (d->buf == NULL) {
		d->buf = pool_buf_get();
		if (d->buf == NULL) {
			errno = ENOMEM;
			return RELAY_STEP_ERROR;
		}
		d->cap = POOL_BUFSZ;
		d->off = d->len = 0;
	}
	if (want > d->cap - d->len)
		want = d->cap - d->len;
	do
		*n = read(d->from, d->buf + d->len, want);
	while (*n < 0 && errno == EINTR);
	if (*n > 0) {
		d->len += (size_t)*n;
	} else if (d->len == 0) {
		int err = errno;

		relay_dir_release(d);	/* nothing came: hold nothing */
		errno = err;
	}
	return RELAY_STEP_OK;
}

/*
 * One read from the source (splice into the pipe where it can, else into
 * the buffer), no more than the bandwidth cap allows: when it allows
 * nothing, stop reading this side until the bucket has refilled (the
 * kernel's buffers then push back on the sender).
 */
static enum relay_step
relay_fill(struct relay *r, struct relay_dir *d)
{
	enum ratelimit_dir rd = d == &r->dir[RELAY_UP] ? RATELIMIT_UP : RATELIMIT_DOWN;
	size_t want = RELAY_READ_MAX;
	ssize_t n;
	int err;

	if (d->stalled)
		return RELAY_STEP_OK;	/* the stall timer brings us back */
	if (r->rl != NULL) {
		ev_tstamp now = ev_now(r->loop);
		size_t got = ratelimit_take(r->rl, rd, now, POOL_BUFSZ);

		if (got == 0) {
			d->stalled = true;
			ev_timer_set(&d->stall,
			    ratelimit_wait(r->rl, rd, now, POOL_BUFSZ) + 0.001,
			    0.);
			ev_timer_start(r->loop, &d->stall);
			return RELAY_STEP_OK;
		}
		want = got;
	}
	if (d->buf != NULL || d->nosplice || relay_copy_only ||
	    !relay_fill_pipe(d, want, &n)) {
		if (relay_fill_buf(d, want, &n) != RELAY_STEP_OK)
			return RELAY_STEP_ERROR;
	}
	err = errno;
	if (r->rl != NULL && (size_t)(n > 0 ? n : 0) < want)
		ratelimit_refund(r->rl, rd, want - (size_t)(n > 0 ? n : 0));
	if (n > 0) {
		r->last_active = ev_now(r->loop);
	} else if (n == 0) {
		d->eof = true;
	} else if (err != EAGAIN && err != EWOULDBLOCK) {
		errno = err;
		return RELAY_STEP_ERROR;
	}
	return RELAY_STEP_OK;
}

/*
 * Move what can be moved now for one direction, then pass on a drained EOF.
 * One read per call at most: a fast pair of peers must not keep the loop
 * to itself; level-triggered watchers bring us back for the rest. On an
 * error, *side says whose socket failed: d's source or its sink.
 */
static enum relay_step
relay_pump(struct relay *r, struct relay_dir *d, int *sink)
{
	*sink = 1;
	if (relay_flush(r, d) != RELAY_STEP_OK)
		return RELAY_STEP_ERROR;
	if (!d->eof && dir_has_room(d)) {
		*sink = 0;
		if (relay_fill(r, d) != RELAY_STEP_OK)
			return RELAY_STEP_ERROR;
		/* Try to pass it on right away; usually the sink has room. */
		*sink = 1;
		if (relay_flush(r, d) != RELAY_STEP_OK)
			return RELAY_STEP_ERROR;
	}
	if (d->eof && !dir_has_bytes(d) && !d->shut &&
	    r->reset_by == RELAY_NO_RESET) {
		const struct relay_dir *o = &r->dir[d == &r->dir[RELAY_UP] ?
		    RELAY_DOWN : RELAY_UP];

		/*
		 * Everything before the EOF is out: half-close the sink. A
		 * peer that is already gone (ENOTCONN) has nothing left to
		 * tell; any error on it shows up in the other direction.
		 * When the other direction has ended already, the relay ends
		 * now and the caller's close() sends this FIN (RELAY_END_CLOSED):
		 * one system call fewer a session.
		 */
		if (o->shut) {
			d->shut = true;
		} else {
			if (shutdown(d->to, SHUT_WR) == -1 && errno != ENOTCONN)
				return RELAY_STEP_ERROR;
			d->shut = true;
		}
	}
	relay_dir_update(r, d);
	return RELAY_STEP_OK;
}

static bool
is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE;
}

/*
 * Side `side` (RELAY_UP: the client, RELAY_DOWN: the remote) reset. Drop
 * what was going to it; what came from it is still read to its end and
 * delivered (relay_after_reset()).
 */
static void
relay_reset(struct relay *r, int side, int err, bool on_read)
{
	struct relay_dir *into = &r->dir[1 - side];
	struct relay_dir *out = &r->dir[side];

	r->reset_by = side;
	r->reset_err = err;
	if (on_read)
		out->eof = true;	/* its read failed: that was its end */
	into->dropped = true;
	relay_dir_update(r, into);
	relay_dir_release(into);
	relay_dir_update(r, out);
}

/* Bytes the kernel holds for `fd` that have not gone out (0: none or n/a). */
static int
relay_unsent(int fd)
{
	int n;

	if (ioctl(fd, SIOCOUTQNSD, &n) == -1)
		return 0;	/* not TCP: nothing a reset could discard */
	return n;
}

/* End after a reset: the survivor's socket is set to abort on close. */
static void
relay_end_reset(struct relay *r)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(r->dir[r->reset_by].to, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg));
	relay_finish(r, r->reset_by == RELAY_UP ? RELAY_END_RESET_CLIENT :
	    RELAY_END_RESET_REMOTE, r->reset_err);
}

/*
 * After a reset: done once the direction out of the reset side is read to
 * its end and drained, and the kernel has sent all of it to the survivor
 * (an abort discards what is still queued). A socket with
 * TCP_NOTSENT_LOWAT 1 is writable only when nothing is left unsent, so
 * the write watcher says when; a survivor that never reads is left to the
 * idle timeout.
 */
static void
relay_after_reset(struct relay *r)
{
	struct relay_dir *out = &r->dir[r->reset_by];
	int one = 1;

	if (!out->dropped && (!out->eof || dir_has_bytes(out)))
		return;
	if (!out->dropped && relay_unsent(out->to) > 0) {
		(void)setsockopt(out->to, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
		    &one, sizeof(one));
		relay_watch(r->loop, &out->wr, true);
		return;
	}
	relay_end_reset(r);
}

/* Both watchers of a direction land here: either can unblock the other. */
static void
relay_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_dir *d = w->data;
	struct relay *r = d->r;
	int side = d == &r->dir[RELAY_UP] ? RELAY_UP : RELAY_DOWN;
	int sink;

	(void)loop;
	(void)revents;
	if (relay_pump(r, d, &sink) != RELAY_STEP_OK) {
		int err = errno;
		/* The side whose socket failed: d's source is `side`. */
		int who = sink ? 1 - side : side;

		if (r->reset_by != RELAY_NO_RESET && !sink &&
		    side == r->reset_by) {
			/* Reading the reset side's tail ended. */
			d->eof = true;
			relay_dir_update(r, d);
		} else if (r->reset_by != RELAY_NO_RESET) {
			/* The survivor failed too: nothing more to deliver. */
			d->dropped = true;
			relay_dir_update(r, d);
			relay_dir_release(d);
		} else if (is_reset(err)) {
			relay_reset(r, who, err, !sink);
		} else {
			relay_finish(r, RELAY_END_ERROR, err);
			return;
		}
	}
	if (r->reset_by != RELAY_NO_RESET) {
		relay_after_reset(r);
		return;
	}
	if (r->dir[RELAY_UP].shut && r->dir[RELAY_DOWN].shut)
		relay_finish(r, RELAY_END_CLOSED, 0);
}

/*
 * The idle timer is not touched on traffic (that would be a heap update
 * per read); traffic only stamps last_active, and when the timer fires it
 * either ends the relay or re-arms itself for the time still left.
 */
static void
relay_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay *r = w->data;
	ev_tstamp left = r->last_active + r->idle_timeout - ev_now(loop);

	(void)revents;
	if (left > 0.) {
		w->repeat = left;
		ev_timer_again(loop, w);
		return;
	}
	debug("relay idle for %.0f s", r->idle_timeout);
	if (r->reset_by != RELAY_NO_RESET)
		relay_end_reset(r);	/* what was left is abandoned */
	else
		relay_finish(r, RELAY_END_IDLE, 0);
}

static void
relay_stall_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay_dir *d = w->data;

	(void)loop;
	(void)revents;
	d->stalled = false;
	relay_dir_update(d->r, d);
}

static void
relay_dir_init(struct relay *r, struct relay_dir *d, int from, int to)
{
	d->r = r;
	d->from = from;
	d->to = to;
	d->pipe[0] = d->pipe[1] = -1;
	ev_io_init(&d->rd, relay_io_cb, from, EV_READ);
	ev_io_init(&d->wr, relay_io_cb, to, EV_WRITE);
	d->rd.data = d;
	d->wr.data = d;
	ev_timer_init(&d->stall, relay_stall_cb, 0., 0.);
	d->stall.data = d;
}

/* The bytes the client sent behind its request start the up direction. */
static int
relay_set_pending(struct relay_dir *up, const uint8_t *pending, size_t len)
{
	if (len == 0)
		return 0;
	if (len > POOL_BUFSZ) {
		up->buf = malloc(len);
		up->own_buf = true;
	} else {
		up->buf = pool_buf_get();
	}
	if (up->buf == NULL)
		return -1;
	up->cap = len > POOL_BUFSZ ? len : POOL_BUFSZ;
	memcpy(up->buf, pending, len);
	up->len = len;
	return 0;
}

struct relay *
relay_new(struct ev_loop *loop, int client_fd, int remote_fd,
    const uint8_t *pending, size_t pending_len, int idle_timeout_s,
    relay_done_cb cb, void *arg)
{
	struct relay *r;

	if (relay_copy_only == -1) {
		const char *e = getenv("SOCKEYE_RELAY");

		relay_copy_only = e != NULL && strcmp(e, "copy") == 0;
		if (relay_copy_only)
			verbose("relay: SOCKEYE_RELAY=copy: buffers only, "
			    "no splice");
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->loop = loop;
	r->cb = cb;
	r->arg = arg;
	r->reset_by = RELAY_NO_RESET;
	relay_dir_init(r, &r->dir[RELAY_UP], client_fd, remote_fd);
	relay_dir_init(r, &r->dir[RELAY_DOWN], remote_fd, client_fd);
	if (relay_set_pending(&r->dir[RELAY_UP], pending, pending_len) == -1) {
		free(r);
		return NULL;
	}
	r->last_active = ev_now(loop);
	r->idle_timeout = idle_timeout_s > 0 ? idle_timeout_s : 0;
	ev_timer_init(&r->idle, relay_idle_cb, 0., r->idle_timeout);
	r->idle.data = r;
	if (r->idle_timeout > 0.)
		ev_timer_again(loop, &r->idle);
	/*
	 * Only watchers here, no I/O: the callback must never run before
	 * relay_new() has returned the handle to the caller.
	 */
	relay_dir_update(r, &r->dir[RELAY_UP]);
	relay_dir_update(r, &r->dir[RELAY_DOWN]);
	return r;
}

void
relay_set_ratelimit(struct relay *r, struct ratelimit *rl)
{
	r->rl = rl;
}

void
relay_stats(const struct relay *r, struct relay_stats *out)
{
	out->bytes_up = r->dir[RELAY_UP].bytes;
	out->bytes_down = r->dir[RELAY_DOWN].bytes;
}

void
relay_free(struct relay *r)
{
	int i;

	if (r == NULL)
		return;
	relay_stop_all(r);
	for (i = 0; i < 2; i++)
		relay_dir_release(&r->dir[i]);
	free(r);
}

/* SPDX-License-Identifier: ISC */
/*
 * relay.c - see relay.h.
 *
 * Copy version: each direction owns one fixed buffer. A direction reads
 * from its source only while its buffer has room and writes to its sink
 * only while the buffer holds bytes, so a slow reader on one side stops us
 * reading the other side (back-pressure) instead of making us buffer
 * without bound; the kernel's socket buffers then fill up and the fast
 * sender blocks. Every watcher is level-triggered and is started only when
 * its condition can make progress, so an idle relay costs no wake-ups.
 *
 *   dir[RELAY_UP]:   client_fd -> remote_fd   (bytes_up)
 *   dir[RELAY_DOWN]: remote_fd -> client_fd   (bytes_down)
 *
 * A direction ends when its source said EOF, everything read before the
 * EOF has been written, and the sink has been shut for writing (the
 * half-close is passed on, never turned into a close or a reset). The relay
 * ends when both directions have, on the first error, or at the idle
 * timeout.
 */
#include "config_auto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "log.h"
#include "ratelimit.h"
#include "relay.h"

/* Per direction; small enough for many thousand sessions a worker. */
#define RELAY_BUFSZ (16 * 1024)

enum {
	RELAY_UP = 0,
	RELAY_DOWN = 1,
};

struct relay_dir {
	struct relay *r;
	int from, to;
	ev_io rd;		/* `from` readable: only while buf has room */
	ev_io wr;		/* `to` writable: only while buf holds bytes */
	/*
	 * Bytes waiting are buf[off..len). `buf` is `store`, except while a
	 * pending block larger than the store is being sent first.
	 */
	uint8_t *buf;
	size_t cap, off, len;
	bool eof;		/* `from` returned EOF */
	bool shut;		/* shutdown(to, SHUT_WR) done: direction ended */
	bool stalled;		/* out of bandwidth: `stall` restarts reading */
	ev_timer stall;
	uint64_t bytes;		/* written to `to` */
	uint8_t store[RELAY_BUFSZ];
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
};

/* Outcome of pumping one direction. */
enum relay_step {
	RELAY_STEP_OK = 0,	/* keep going */
	RELAY_STEP_ERROR,	/* errno set */
};

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
	relay_watch(r->loop, &d->rd, !d->eof && !d->stalled && d->len < d->cap);
	relay_watch(r->loop, &d->wr, d->off < d->len);
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

	relay_stop_all(r);
	relay_stats(r, &st);
	r->cb(r->arg, how, err, &st);
}

/* Write what the buffer holds until it is empty or the sink is full. */
static enum relay_step
relay_flush(struct relay *r, struct relay_dir *d)
{
	while (d->off < d->len) {
		ssize_t n = send(d->to, d->buf + d->off, d->len - d->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			d->off += (size_t)n;
			d->bytes += (uint64_t)n;
			r->last_active = ev_now(r->loop);
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
	/* Drained: rewind, and drop an oversized pending block for good. */
	d->off = d->len = 0;
	if (d->buf != d->store) {
		free(d->buf);
		d->buf = d->store;
		d->cap = sizeof(d->store);
	}
	return RELAY_STEP_OK;
}

/*
 * One read into the free tail of the buffer, no more than the bandwidth
 * cap allows: when it allows nothing, stop reading this side until the
 * bucket has refilled (the kernel's buffers then push back on the sender).
 */
static enum relay_step
relay_fill(struct relay *r, struct relay_dir *d)
{
	enum ratelimit_dir rd = d == &r->dir[RELAY_UP] ? RATELIMIT_UP : RATELIMIT_DOWN;
	size_t want = d->cap - d->len;
	ssize_t n;

	if (d->stalled)
		return RELAY_STEP_OK;	/* the stall timer brings us back */
	if (r->rl != NULL) {
		ev_tstamp now = ev_now(r->loop);
		size_t got = ratelimit_take(r->rl, rd, now, want);

		if (got == 0) {
			d->stalled = true;
			ev_timer_set(&d->stall,
			    ratelimit_wait(r->rl, rd, now, want) + 0.001, 0.);
			ev_timer_start(r->loop, &d->stall);
			return RELAY_STEP_OK;
		}
		want = got;
	}
	do
		n = read(d->from, d->buf + d->len, want);
	while (n < 0 && errno == EINTR);
	if (r->rl != NULL && (size_t)(n > 0 ? n : 0) < want)
		ratelimit_refund(r->rl, rd, want - (size_t)(n > 0 ? n : 0));
	if (n > 0) {
		d->len += (size_t)n;
		r->last_active = ev_now(r->loop);
	} else if (n == 0) {
		d->eof = true;
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		return RELAY_STEP_ERROR;
	}
	return RELAY_STEP_OK;
}

/*
 * Move what can be moved now for one direction, then pass on a drained EOF.
 * One read per call at most: a fast pair of peers must not keep the loop
 * to itself; level-triggered watchers bring us back for the rest.
 */
static enum relay_step
relay_pump(struct relay *r, struct relay_dir *d)
{
	if (relay_flush(r, d) != RELAY_STEP_OK)
		return RELAY_STEP_ERROR;
	if (!d->eof && d->len < d->cap) {
		if (relay_fill(r, d) != RELAY_STEP_OK)
			return RELAY_STEP_ERROR;
		/* Try to pass it on right away; usually the sink has room. */
		if (relay_flush(r, d) != RELAY_STEP_OK)
			return RELAY_STEP_ERROR;
	}
	if (d->eof && d->off == d->len && !d->shut) {
		/*
		 * Everything before the EOF is out: half-close the sink. A
		 * peer that is already gone (ENOTCONN) has nothing left to
		 * tell; any error on it shows up in the other direction.
		 */
		if (shutdown(d->to, SHUT_WR) == -1 && errno != ENOTCONN)
			return RELAY_STEP_ERROR;
		d->shut = true;
	}
	relay_dir_update(r, d);
	return RELAY_STEP_OK;
}

/* Both watchers of a direction land here: either can unblock the other. */
static void
relay_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_dir *d = w->data;
	struct relay *r = d->r;

	(void)loop;
	(void)revents;
	if (relay_pump(r, d) != RELAY_STEP_OK) {
		relay_finish(r, RELAY_END_ERROR, errno);
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
	d->buf = d->store;
	d->cap = sizeof(d->store);
	ev_io_init(&d->rd, relay_io_cb, from, EV_READ);
	ev_io_init(&d->wr, relay_io_cb, to, EV_WRITE);
	d->rd.data = d;
	d->wr.data = d;
	ev_timer_init(&d->stall, relay_stall_cb, 0., 0.);
	d->stall.data = d;
}

struct relay *
relay_new(struct ev_loop *loop, int client_fd, int remote_fd,
    const uint8_t *pending, size_t pending_len, int idle_timeout_s,
    relay_done_cb cb, void *arg)
{
	struct relay *r;
	struct relay_dir *up;

	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->loop = loop;
	r->cb = cb;
	r->arg = arg;
	relay_dir_init(r, &r->dir[RELAY_UP], client_fd, remote_fd);
	relay_dir_init(r, &r->dir[RELAY_DOWN], remote_fd, client_fd);

	/*
	 * Bytes the client sent behind its request go out before anything
	 * read from now on: they simply start the up buffer. A block bigger
	 * than the buffer gets its own allocation until it has been sent.
	 */
	up = &r->dir[RELAY_UP];
	if (pending_len > up->cap) {
		up->buf = malloc(pending_len);
		if (up->buf == NULL) {
			free(r);
			return NULL;
		}
		up->cap = pending_len;
	}
	if (pending_len > 0)
		memcpy(up->buf, pending, pending_len);
	up->len = pending_len;

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
		if (r->dir[i].buf != r->dir[i].store)
			free(r->dir[i].buf);
	free(r);
}

/* SPDX-License-Identifier: ISC */
/*
 * gsstun.c - see gsstun.h.
 *
 *   up:   outer (client) -> parse, unwrap -> inner (session)   (up_*)
 *   down: inner (session) -> wrap, frame -> outer (client)     (down_*)
 *
 * Each direction has at most one unit in flight, and reads its source
 * only while that unit is gone:
 *
 * Down reads at most GSSTUN_CHUNK plain bytes from the inner end, wraps
 * them into a shared scratch buffer right behind the 4-byte header and
 * sends the message straight from there; only what the client did not
 * take is copied into `out`, and the inner end is not read again until
 * `out` has been sent. So a client that keeps up costs no buffer at all,
 * and one that does not costs one message.
 *
 * Up reads the client's bytes into `in` (messages arrive in pieces;
 * a token is unwrapped whole) and parses the whole messages there, each
 * unwrapped into the scratch buffer and sent straight to the inner end;
 * what the session did not take goes into `plain`, and parsing stops
 * until it has been taken. The client is read only while `in` has room,
 * so a session that stops reading fills `in` (at most one message beyond
 * what it holds) and then the client's socket buffers: back-pressure.
 *
 * Watchers are level-triggered and started only when their callback can
 * make progress (tun_update()), as in relay.c: an idle tunnel costs no
 * wake-ups. Every callback ends with tun_settle(): a tunnel whose sockets
 * are closed and which the session has released is freed there and only
 * there, so no function below frees `t` under its caller.
 */
#include "config_auto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <ev.h>

#include "gss_msg.h"
#include "gsstun.h"
#include "log.h"
#include "util.h"

struct gsstun {
	struct gsstun *prev, *next;	/* every tunnel of the process */
	struct ev_loop *loop;
	const struct gsstun_ops *ops;
	void *ctx;
	bool ctx_owned;		/* ops->free not called yet */
	int outer, inner;	/* -1 once closed */
	ev_io outer_rd;		/* only while `in` has room (or dropping) */
	ev_io outer_wr;		/* only while `out` holds bytes */
	ev_io inner_rd;		/* only while `out` is empty */
	ev_io inner_wr;		/* only while `plain` holds bytes */
	ev_timer linger;	/* bound on a released or aborting tunnel */

	/* Up: the client's bytes, unparsed, are in[in_off..in_len). */
	uint8_t *in;
	size_t in_cap, in_off, in_len;
	/* Unwrapped bytes the session has not taken: plain[plain_off..len). */
	uint8_t *plain;
	size_t plain_off, plain_len;
	bool up_eof;		/* the client's EOF was read */
	bool up_shut;		/* shutdown(inner, SHUT_WR) done */
	bool up_drop;		/* no one takes the client's bytes: drop them */

	/* Down: a framed message the client has not taken: out[off..len). */
	uint8_t *out;
	size_t out_off, out_len;
	bool down_eof;		/* the session's EOF was read (or it is cut off) */
	bool down_shut;		/* shutdown(outer, SHUT_WR) done */
	bool aborting;		/* 01 FF queued behind `out` */
	bool reset_end;		/* end with a reset, not a FIN (gsstun_reset_end) */

	bool released;		/* the session let go: free when closed */
	bool closed;		/* sockets closed, watchers stopped */
	struct gsstun_stats st;
};

static struct gsstun *tunnels;
static unsigned ntunnels;
static double linger_s = GSSTUN_LINGER_S;

/*
 * Shared by every tunnel: the loop runs one callback at a time and a
 * scratch buffer never holds anything across a return to the loop.
 * scratch_wire holds a framed message (header, then the wrapped token) on
 * the way down, and an unwrapped token on the way up.
 */
static uint8_t scratch_plain[GSSTUN_CHUNK];
static uint8_t scratch_wire[GSS_MSG_MAX];

void
gsstun_set_linger(double secs)
{
	linger_s = secs > 0. ? secs : GSSTUN_LINGER_S;
}

unsigned
gsstun_count(void)
{
	return ntunnels;
}

void
gsstun_stats(const struct gsstun *t, struct gsstun_stats *out)
{
	*out = t->st;
}

static void
tun_watch(struct ev_loop *loop, ev_io *w, bool on)
{
	if (on && !ev_is_active(w))
		ev_io_start(loop, w);
	else if (!on && ev_is_active(w))
		ev_io_stop(loop, w);
}

/* Start exactly the watchers that can make progress. */
static void
tun_update(struct gsstun *t)
{
	if (t->closed)
		return;
	tun_watch(t->loop, &t->outer_rd, t->outer != -1 && !t->up_eof &&
	    (t->up_drop || t->in == NULL || t->in_len < t->in_cap));
	tun_watch(t->loop, &t->outer_wr, t->outer != -1 && t->out != NULL);
	tun_watch(t->loop, &t->inner_rd, t->inner != -1 && !t->down_eof &&
	    !t->aborting && t->out == NULL);
	tun_watch(t->loop, &t->inner_wr, t->inner != -1 && t->plain != NULL);
}

static void
tun_free_in(struct gsstun *t)
{
	free(t->in);
	t->in = NULL;
	t->in_cap = t->in_off = t->in_len = 0;
}

static void
tun_free_plain(struct gsstun *t)
{
	free(t->plain);
	t->plain = NULL;
	t->plain_off = t->plain_len = 0;
}

static void
tun_free_out(struct gsstun *t)
{
	free(t->out);
	t->out = NULL;
	t->out_off = t->out_len = 0;
}

static void
tun_close_inner(struct gsstun *t)
{
	ev_io_stop(t->loop, &t->inner_rd);
	ev_io_stop(t->loop, &t->inner_wr);
	if (t->inner != -1)
		close(t->inner);
	t->inner = -1;
}

/*
 * Close everything now: the session sees EOF on its end, the client a
 * close (a reset if it had sent bytes not read yet). Does not free `t`:
 * tun_settle() does, once the session has released it.
 */
static void
tun_close(struct gsstun *t)
{
	if (t->closed)
		return;
	t->closed = true;
	ev_io_stop(t->loop, &t->outer_rd);
	ev_io_stop(t->loop, &t->outer_wr);
	ev_timer_stop(t->loop, &t->linger);
	tun_close_inner(t);
	if (t->outer != -1)
		close(t->outer);
	t->outer = -1;
	tun_free_in(t);
	tun_free_plain(t);
	tun_free_out(t);
	if (t->ctx_owned && t->ops->free != NULL)
		t->ops->free(t->ctx);
	t->ctx_owned = false;
}

static void
tun_destroy(struct gsstun *t)
{
	tun_close(t);
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		tunnels = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	ntunnels--;
	free(t);
}

/* The end of every callback: `t` may be gone after it. */
static void
tun_settle(struct gsstun *t)
{
	if (t->closed && t->released)
		tun_destroy(t);
	else
		tun_update(t);
}

/* Both directions have ended cleanly: nothing more to move. */
static void
tun_check_done(struct gsstun *t)
{
	if (!t->closed && t->down_shut && t->up_eof &&
	    (t->up_shut || t->up_drop))
		tun_close(t);
}

static void
tun_start_linger(struct gsstun *t)
{
	if (t->closed || ev_is_active(&t->linger))
		return;
	ev_timer_set(&t->linger, linger_s, 0.);
	ev_timer_start(t->loop, &t->linger);
}

/*
 * From now on the client's bytes go nowhere: they are read (so that the
 * client's EOF is seen and closing its socket does not reset what it was
 * sent) and dropped.
 */
static void
tun_drop_up(struct gsstun *t)
{
	t->up_drop = true;
	tun_free_in(t);
	tun_free_plain(t);
}

/* Send what `out` holds; then pass on the session's EOF or the abort. */
static int
down_flush(struct gsstun *t)
{
	ssize_t n;

	while (t->out_off < t->out_len) {
		n = send(t->outer, t->out + t->out_off, t->out_len - t->out_off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			t->out_off += (size_t)n;
			t->st.down_wire += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n == 0)
			errno = EIO;
		return -1;
	}
	tun_free_out(t);
	if (t->down_eof && !t->aborting && t->reset_end) {
		/*
		 * Everything the session had is out, and the remote had
		 * reset: so does the client's socket, rather than a FIN
		 * that would make a cut-off transfer look complete.
		 */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		(void)setsockopt(t->outer, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
		tun_close(t);
		return 0;
	}
	if ((t->down_eof || t->aborting) && !t->down_shut) {
		/* Everything before the EOF (or the abort) is out. */
		(void)shutdown(t->outer, SHUT_WR);
		t->down_shut = true;
	}
	return 0;
}

/*
 * Send a framed message straight from the scratch buffer; only what the
 * client did not take is copied, into `out`. -1 with errno: the client's
 * socket failed.
 */
static int
down_send(struct gsstun *t, const uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	BUG_ON(t->out != NULL);
	while (off < len) {
		n = send(t->outer, p + off, len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			t->st.down_wire += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == 0)
			errno = EIO;
		return -1;
	}
	if (off == len)
		return 0;
	t->out = malloc(len - off);
	if (t->out == NULL) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(t->out, p + off, len - off);
	t->out_off = 0;
	t->out_len = len - off;
	return 0;
}

/*
 * The tunnel gives up on the client (its fault, or a wrap that failed):
 * the session sees EOF at once and what it still sends is dropped; the
 * message being sent to the client is finished, then 01 FF follows and
 * the client's socket is shut for writing (down_flush()); the tunnel
 * closes when the client has closed too, or at the linger bound.
 */
static void
tun_abort(struct gsstun *t, const char *why)
{
	size_t rest, n;
	uint8_t *p;

	if (t->closed || t->aborting)
		return;
	if (t->down_shut) {
		/* The session's EOF went out already: no room for 01 FF. */
		debug("gsstun: %s: closing", why);
		tun_close(t);
		return;
	}
	debug("gsstun: %s: abort", why);
	t->aborting = true;
	t->down_eof = true;
	tun_drop_up(t);
	tun_close_inner(t);
	rest = t->out_len - t->out_off;
	p = malloc(rest + GSS_MSG_ABORT_LEN);
	if (p == NULL) {
		tun_close(t);
		return;
	}
	if (rest > 0)
		memcpy(p, t->out + t->out_off, rest);
	n = gss_msg_encode_abort(p + rest, GSS_MSG_ABORT_LEN);
	BUG_ON(n != GSS_MSG_ABORT_LEN);
	free(t->out);
	t->out = p;
	t->out_off = 0;
	t->out_len = rest + GSS_MSG_ABORT_LEN;
	tun_start_linger(t);
}

/* Writing to the session's end failed: it has closed it. */
static void
up_inner_gone(struct gsstun *t, int err)
{
	debug("gsstun: the session's end is gone (%s): dropping the "
	    "client's bytes", strerror(err));
	tun_drop_up(t);
}

/*
 * Send unwrapped bytes straight from the scratch buffer to the session;
 * only what it did not take is copied, into `plain`. -1: out of memory.
 */
static int
up_deliver(struct gsstun *t, const uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	BUG_ON(t->plain != NULL);
	while (off < len) {
		n = send(t->inner, p + off, len - off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			off += (size_t)n;
			t->st.up_plain += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		up_inner_gone(t, n < 0 ? errno : EIO);
		return 0;
	}
	if (off == len)
		return 0;
	t->plain = malloc(len - off);
	if (t->plain == NULL)
		return -1;
	memcpy(t->plain, p + off, len - off);
	t->plain_off = 0;
	t->plain_len = len - off;
	return 0;
}

/*
 * Move the unparsed bytes to the front of `in` (or free it when there are
 * none), and make room for the whole of a message whose header says it is
 * bigger than `in`. -1: out of memory.
 */
static int
up_compact(struct gsstun *t)
{
	size_t avail = t->in_len - t->in_off;
	size_t need;
	uint8_t *p;

	if (t->in == NULL)
		return 0;
	if (avail == 0) {
		tun_free_in(t);
		return 0;
	}
	if (t->in_off > 0) {
		memmove(t->in, t->in + t->in_off, avail);
		t->in_off = 0;
		t->in_len = avail;
	}
	if (avail < GSS_MSG_HDR_LEN || t->in[0] != GSS_MSG_VERSION ||
	    t->in[1] < GSS_MTYP_CONTEXT || t->in[1] > GSS_MTYP_DATA)
		return 0;	/* no length to go by (or not parsed yet) */
	need = GSS_MSG_HDR_LEN + ((size_t)t->in[2] << 8 | t->in[3]);
	if (need <= t->in_cap)
		return 0;
	p = realloc(t->in, need);
	if (p == NULL)
		return -1;
	t->in = p;
	t->in_cap = need;
	return 0;
}

/*
 * Unwrap and pass on the whole messages in `in`, as long as the session
 * takes what it is given; then pass on the client's EOF when it came at a
 * message boundary and everything before it has been taken.
 */
static void
up_process(struct gsstun *t)
{
	while (!t->closed && !t->up_drop && t->plain == NULL &&
	    t->in_off < t->in_len) {
		const uint8_t *p = t->in + t->in_off;
		size_t avail = t->in_len - t->in_off;
		struct gss_msg m;
		size_t used = 0, n = 0;
		enum gss_msg_status st;

		st = gss_msg_parse(p, avail, &m, &used);
		if (st == GSS_MSG_NEED_MORE)
			break;
		if (st != GSS_MSG_OK) {
			tun_abort(t, "a message that does not parse");
			return;
		}
		if (m.mtyp == GSS_MTYP_ABORT) {
			debug("gsstun: the client aborted");
			tun_close(t);
			return;
		}
		if (m.mtyp != GSS_MTYP_DATA) {
			tun_abort(t, "a message other than MTYP 3");
			return;
		}
		if (m.len == 0) {
			tun_abort(t, "an empty token");
			return;
		}
		if (t->ops->unwrap(t->ctx, m.token, m.len, scratch_wire,
		    GSS_MSG_TOKEN_MAX, &n) != 0 || n > GSS_MSG_TOKEN_MAX) {
			tun_abort(t, "a token that does not unwrap");
			return;
		}
		t->in_off += used;
		t->st.up_wire += used;
		if (n > 0 && up_deliver(t, scratch_wire, n) == -1) {
			tun_close(t);
			return;
		}
	}
	if (t->closed || t->up_drop)
		return;
	if (up_compact(t) == -1) {
		error("gsstun: out of memory for a message");
		tun_close(t);
		return;
	}
	if (t->up_eof && t->plain == NULL) {
		if (t->in != NULL) {
			debug("gsstun: the client's EOF in the middle of a "
			    "message");
			tun_close(t);
			return;
		}
		if (!t->up_shut) {
			(void)shutdown(t->inner, SHUT_WR);
			t->up_shut = true;
		}
	}
}

/* The client's socket is readable: one read. */
static void
outer_rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gsstun *t = w->data;
	uint8_t *buf;
	size_t room;
	ssize_t n;

	(void)loop;
	(void)revents;
	if (t->up_drop) {
		buf = scratch_wire;
		room = sizeof(scratch_wire);
	} else {
		if (t->in == NULL) {
			t->in = malloc(GSSTUN_IN_MIN);
			if (t->in == NULL) {
				error("gsstun: out of memory");
				tun_close(t);
				tun_settle(t);
				return;
			}
			t->in_cap = GSSTUN_IN_MIN;
		}
		buf = t->in + t->in_len;
		room = t->in_cap - t->in_len;
	}
	do
		n = recv(t->outer, buf, room, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if (!t->up_drop && t->in_len == 0)
			tun_free_in(t);
		tun_settle(t);
		return;
	}
	if (n < 0) {
		debug("gsstun: reading the client: %s", strerror(errno));
		tun_close(t);
		tun_settle(t);
		return;
	}
	if (n == 0)
		t->up_eof = true;
	else if (!t->up_drop)
		t->in_len += (size_t)n;
	if (!t->up_drop)
		up_process(t);
	tun_check_done(t);
	tun_settle(t);
}

/* The client's socket is writable: send what waits for it. */
static void
outer_wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gsstun *t = w->data;

	(void)loop;
	(void)revents;
	if (down_flush(t) == -1) {
		debug("gsstun: writing to the client: %s", strerror(errno));
		tun_close(t);
	}
	tun_check_done(t);
	tun_settle(t);
}

/* The session's end is readable: one chunk, wrapped and framed. */
static void
inner_rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gsstun *t = w->data;
	size_t tl = 0;
	ssize_t n;

	(void)loop;
	(void)revents;
	do
		n = recv(t->inner, scratch_plain, sizeof(scratch_plain),
		    MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		tun_settle(t);
		return;
	}
	if (n < 0) {
		debug("gsstun: reading the session's end: %s",
		    strerror(errno));
		tun_close(t);
	} else if (n == 0) {
		t->down_eof = true;
		if (down_flush(t) == -1)	/* nothing waits: shuts `outer` */
			tun_close(t);
	} else {
		t->st.down_plain += (uint64_t)n;
		if (t->ops->wrap(t->ctx, scratch_plain, (size_t)n,
		    scratch_wire + GSS_MSG_HDR_LEN, GSS_MSG_TOKEN_MAX, &tl) != 0 ||
		    tl == 0 || tl > GSS_MSG_TOKEN_MAX) {
			tun_abort(t, "wrap failed");
		} else {
			size_t hl = gss_msg_encode_header(scratch_wire,
			    GSS_MSG_HDR_LEN, GSS_MTYP_DATA, tl);

			BUG_ON(hl != GSS_MSG_HDR_LEN);
			if (down_send(t, scratch_wire,
			    GSS_MSG_HDR_LEN + tl) == -1) {
				debug("gsstun: writing to the client: %s",
				    strerror(errno));
				tun_close(t);
			}
		}
	}
	tun_check_done(t);
	tun_settle(t);
}

/* The session's end is writable: pass on what it did not take. */
static void
inner_wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct gsstun *t = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	while (t->plain != NULL && t->plain_off < t->plain_len) {
		n = send(t->inner, t->plain + t->plain_off,
		    t->plain_len - t->plain_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			t->plain_off += (size_t)n;
			t->st.up_plain += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		up_inner_gone(t, n < 0 ? errno : EIO);
	}
	if (t->plain != NULL && t->plain_off == t->plain_len) {
		tun_free_plain(t);
		up_process(t);	/* what waited behind it */
	}
	tun_check_done(t);
	tun_settle(t);
}

static void
linger_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gsstun *t = w->data;

	(void)loop;
	(void)revents;
	debug("gsstun: not finished after %.1f s: closing", linger_s);
	tun_close(t);
	tun_settle(t);
}

struct gsstun *
gsstun_new(struct ev_loop *loop, int outer_fd, const struct gsstun_ops *ops,
    void *ctx, const uint8_t *pending, size_t pending_len, int *inner_fd)
{
	struct gsstun *t;
	int sv[2];

	if (ops == NULL || ops->wrap == NULL || ops->unwrap == NULL ||
	    outer_fd < 0 || inner_fd == NULL) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	if (pending_len > 0) {
		t->in_cap = pending_len > GSSTUN_IN_MIN ?
		    pending_len : GSSTUN_IN_MIN;
		t->in = malloc(t->in_cap);
		if (t->in == NULL) {
			free(t);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(t->in, pending, pending_len);
		t->in_len = pending_len;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		int err = errno;

		free(t->in);
		free(t);
		errno = err;
		return NULL;
	}
	t->loop = loop;
	t->ops = ops;
	t->ctx = ctx;
	t->ctx_owned = true;
	t->outer = outer_fd;
	t->inner = sv[0];
	ev_io_init(&t->outer_rd, outer_rd_cb, t->outer, EV_READ);
	ev_io_init(&t->outer_wr, outer_wr_cb, t->outer, EV_WRITE);
	ev_io_init(&t->inner_rd, inner_rd_cb, t->inner, EV_READ);
	ev_io_init(&t->inner_wr, inner_wr_cb, t->inner, EV_WRITE);
	ev_timer_init(&t->linger, linger_cb, 0., 0.);
	t->outer_rd.data = t->outer_wr.data = t;
	t->inner_rd.data = t->inner_wr.data = t;
	t->linger.data = t;
	t->next = tunnels;
	if (tunnels != NULL)
		tunnels->prev = t;
	tunnels = t;
	ntunnels++;
	/*
	 * The pending messages go to the session's end now: its buffer is
	 * empty and takes them (what it does not is kept, as ever). A
	 * pending abort or error closes the tunnel here already; the
	 * session then reads EOF, as it would a moment later.
	 */
	up_process(t);
	tun_update(t);
	*inner_fd = sv[1];
	return t;
}

void
gsstun_reset_end(struct gsstun *t)
{
	t->reset_end = true;
}

void
gsstun_release(struct gsstun *t)
{
	if (t == NULL)
		return;
	BUG_ON(t->released);
	t->released = true;
	if (!t->closed) {
		tun_drop_up(t);
		tun_start_linger(t);
		tun_check_done(t);
	}
	tun_settle(t);
}

void
gsstun_free_all(void)
{
	struct gsstun *t, *next;

	for (t = tunnels; t != NULL; t = next) {
		next = t->next;
		tun_destroy(t);
	}
	BUG_ON(tunnels != NULL || ntunnels != 0);
}

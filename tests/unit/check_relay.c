/* SPDX-License-Identifier: ISC */
/*
 * check_relay.c - the relay between two socket pairs on a real libev loop:
 *
 *   client peer <-> [client_fd  relay  remote_fd] <-> remote peer
 *
 * The peers are driven by watchers on the same loop, so the relay sees
 * real readiness, partial writes and EAGAIN. Pairs are AF_UNIX socketpairs
 * or loopback TCP. Every loop run is bounded by a timer, so a relay that
 * stalls fails the test instead of hanging it.
 *
 * Every test runs twice: through pipes (splice, the default) and through
 * buffers (relay_force_copy), and each checks which one moved the bytes
 * and that nothing is left held or open afterwards.
 */
#include "config_auto.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "pool.h"
#include "relay.h"
#include "unit_util.h"
#include "util.h"

#define MIB (1024 * 1024)

/* --- loop helpers -------------------------------------------------------- */

static struct ev_loop *loop;

/* Counts loop iterations: a relay with nothing to do must not spin. */
static int iterations;

static void
count_cb(struct ev_loop *l, ev_prepare *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	iterations++;
}

/* --- data ---------------------------------------------------------------- */

/* Deterministic bytes, different per seed. */
static uint8_t *
make_data(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

/* FNV-1a, continued over a stream. */
static uint64_t
hash_more(uint64_t h, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211u;
	}
	return h;
}

#define HASH_INIT 14695981039346656037u

/* --- peers --------------------------------------------------------------- */

static int peer_ends;		/* EOFs and read errors seen by any peer */

struct peer {
	int fd;
	ev_io rio, wio;
	const uint8_t *out;		/* what to send, then shut if asked */
	size_t out_len, out_off;
	bool shut_after;
	bool shut_done;
	bool blocked;			/* a send() said EAGAIN */
	uint64_t in_bytes;
	uint64_t in_hash;
	uint8_t head[64];		/* first bytes received */
	bool eof;
	int err;			/* errno of a failed read/send */
	int events;			/* reads + EOF + errors, for unit_loop_until */
};

static void
peer_write_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct peer *p = w->data;

	(void)revents;
	while (p->out_off < p->out_len) {
		ssize_t n = send(p->fd, p->out + p->out_off,
		    p->out_len - p->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			p->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			p->blocked = true;
			return;
		}
		if (n < 0 && errno == EINTR)
			continue;
		p->err = errno;
		p->events++;
		ev_io_stop(l, w);
		return;
	}
	ev_io_stop(l, w);
	if (p->shut_after && !p->shut_done) {
		ck_assert_int_eq(shutdown(p->fd, SHUT_WR), 0);
		p->shut_done = true;
	}
}

static void
peer_read_cb(struct ev_loop *l, ev_io *w, int revents)
{
	struct peer *p = w->data;
	uint8_t buf[65536];
	ssize_t n;

	(void)revents;
	n = read(p->fd, buf, sizeof(buf));
	if (n > 0) {
		if (p->in_bytes < sizeof(p->head)) {
			size_t c = sizeof(p->head) - p->in_bytes;

			memcpy(p->head + p->in_bytes, buf,
			    c < (size_t)n ? c : (size_t)n);
		}
		p->in_bytes += (uint64_t)n;
		p->in_hash = hash_more(p->in_hash, buf, (size_t)n);
		p->events++;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0)
		p->eof = true;
	else
		p->err = errno;
	p->events++;
	peer_ends++;
	ev_io_stop(l, w);
}

static void
peer_init(struct peer *p, int fd)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->in_hash = HASH_INIT;
	ev_io_init(&p->rio, peer_read_cb, fd, EV_READ);
	ev_io_init(&p->wio, peer_write_cb, fd, EV_WRITE);
	p->rio.data = p;
	p->wio.data = p;
}

static void
peer_read(struct peer *p, bool on)
{
	if (on && !p->eof && p->err == 0)
		ev_io_start(loop, &p->rio);
	else if (!on)
		ev_io_stop(loop, &p->rio);
}

static void
peer_send(struct peer *p, const uint8_t *data, size_t len, bool shut_after)
{
	p->out = data;
	p->out_len = len;
	p->out_off = 0;
	p->shut_after = shut_after;
	ev_io_start(loop, &p->wio);
}

static void
peer_stop(struct peer *p)
{
	ev_io_stop(loop, &p->rio);
	ev_io_stop(loop, &p->wio);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* --- socket pairs -------------------------------------------------------- */

static void
unix_pair(int *a, int *b)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	*a = sv[0];
	*b = sv[1];
}

static void
tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int l, c, s, one = 1;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &slen), 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	s = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ck_assert_int_ge(s, 0);
	close(l);
	ck_assert_int_eq(util_set_nonblock(c), 0);
	(void)setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*a = c;
	*b = s;
}

/* --- fixture ------------------------------------------------------------- */

struct done {
	int calls;
	enum relay_end how;
	int err;
	struct relay_stats st;
	ev_tstamp at;
	bool free_in_cb;		/* free the relay and close its fds */
};

/* The relay's own fds and the test's ends, for every test. */
static int client_fd, remote_fd;
static int fds_pairs;		/* open before make_pairs() */
static struct peer cpeer, rpeer;
static struct relay *relay;
static struct done done;
static ev_prepare counter;

static void
done_cb(void *arg, enum relay_end how, int err, const struct relay_stats *st)
{
	struct done *d = arg;

	d->calls++;
	d->how = how;
	d->err = err;
	d->st = *st;
	d->at = ev_now(loop);
	if (d->free_in_cb) {
		/* What the session does: tear down from inside the callback. */
		relay_free(relay);
		relay = NULL;
		close(client_fd);
		close(remote_fd);
		client_fd = remote_fd = -1;
	}
}

static void
make_pairs(bool tcp)
{
	int a, b;

	fds_pairs = unit_open_fds();
	if (tcp)
		tcp_pair(&a, &client_fd);
	else
		unix_pair(&a, &client_fd);
	peer_init(&cpeer, a);
	if (tcp)
		tcp_pair(&remote_fd, &b);
	else
		unix_pair(&remote_fd, &b);
	peer_init(&rpeer, b);
}

static void
start_relay(const uint8_t *pending, size_t len, int idle_s)
{
	relay = relay_new(loop, client_fd, remote_fd, pending, len, idle_s,
	    done_cb, &done);
	ck_assert_ptr_nonnull(relay);
}

static void assert_pool_idle(void);

static bool copy_mode;		/* this test case's path */
static int fds_before;

static void
setup(void)
{
	relay_force_copy(copy_mode);
	pool_trim();		/* no spares, peaks from here */
	fds_before = unit_open_fds();
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	memset(&done, 0, sizeof(done));
	done.free_in_cb = true;
	client_fd = remote_fd = -1;
	relay = NULL;
	iterations = 0;
	peer_ends = 0;
	ev_prepare_init(&counter, count_cb);
	ev_prepare_start(loop, &counter);
}

static void
teardown(void)
{
	relay_free(relay);
	relay = NULL;
	if (client_fd >= 0)
		close(client_fd);
	if (remote_fd >= 0)
		close(remote_fd);
	peer_stop(&cpeer);
	peer_stop(&rpeer);
	ev_prepare_stop(loop, &counter);
	ev_loop_destroy(loop);
	loop = NULL;
	assert_pool_idle();
	/* The pool's spare pipes are the process's, not the test's. */
	pool_trim();
	ck_assert_int_eq(unit_open_fds(), fds_before);
}

static void
setup_splice(void)
{
	copy_mode = false;
	setup();
}

static void
setup_copy(void)
{
	copy_mode = true;
	setup();
}

/* Nothing held: a relay gives its pipes and buffers back when drained. */
static void
assert_pool_idle(void)
{
	struct pool_stats ps;

	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_used, 0);
	ck_assert_uint_eq(ps.bufs_used, 0);
}

/* The path this test case asked for moved the bytes (none were pending). */
static void
assert_path(void)
{
	struct pool_stats ps;

	pool_stats(&ps);
	if (copy_mode) {
		ck_assert_uint_eq(ps.pipes_peak, 0);
		ck_assert_uint_gt(ps.bufs_peak, 0);
	} else {
		ck_assert_uint_gt(ps.pipes_peak, 0);
		ck_assert_uint_eq(ps.bufs_peak, 0);
	}
}

/*
 * The callback freed the relay and closed its fds: of what make_pairs()
 * opened, only the peers' that the test has not closed stay open.
 */
static void
assert_fds_closed_by_callback(void)
{
	ck_assert_ptr_null(relay);
	ck_assert_int_eq(client_fd, -1);
	ck_assert_int_eq(remote_fd, -1);
	struct pool_stats ps;

	pool_stats(&ps);
	/* The pipes the relay gave back wait in the pool (its spares). */
	ck_assert_int_eq(unit_open_fds(), fds_pairs + (cpeer.fd >= 0) +
	    (rpeer.fd >= 0) + 2 * (int)ps.pipes_spare);
}

/* --- tests --------------------------------------------------------------- */

/* Megabytes both ways at once; _i: 0 socketpair, 1 loopback TCP. */
START_TEST(test_bulk)
{
	size_t up_len = 5 * MIB + 123, down_len = 3 * MIB + 7;
	uint8_t *up = make_data(up_len, 1), *down = make_data(down_len, 2);

	make_pairs(_i == 1);
	start_relay(NULL, 0, 0);
	peer_send(&cpeer, up, up_len, true);
	peer_send(&rpeer, down, down_len, true);
	peer_read(&cpeer, true);
	peer_read(&rpeer, true);
	ck_assert_msg(unit_loop_until(loop, &done.calls, 1, 20.),
	    "relay never finished: remote got %lu of %zu, "
	    "client got %lu of %zu",
	    (unsigned long)rpeer.in_bytes, up_len,
	    (unsigned long)cpeer.in_bytes, down_len);
	ck_assert_int_eq(done.how, RELAY_END_CLOSED);
	ck_assert_uint_eq(done.st.bytes_up, up_len);
	ck_assert_uint_eq(done.st.bytes_down, down_len);
	assert_fds_closed_by_callback();
	/* What the relay wrote before closing still arrives, then EOF. */
	ck_assert(unit_loop_until(loop, &peer_ends, 2, 10.));
	ck_assert_uint_eq(rpeer.in_bytes, up_len);
	ck_assert_uint_eq(cpeer.in_bytes, down_len);
	ck_assert(rpeer.in_hash == hash_more(HASH_INIT, up, up_len));
	ck_assert(cpeer.in_hash == hash_more(HASH_INIT, down, down_len));
	ck_assert(rpeer.eof);
	ck_assert(cpeer.eof);
	assert_path();
	free(up);
	free(down);
}
END_TEST

/* No pipe to be had (the pool's cap): the bytes go through buffers. */
START_TEST(test_no_pipe)
{
	size_t len = 3 * MIB + 5;
	uint8_t *up = make_data(len, 8);
	struct pool_stats ps;

	pool_set_pipe_cap(0);
	make_pairs(true);
	start_relay(NULL, 0, 0);
	peer_send(&cpeer, up, len, true);
	peer_send(&rpeer, NULL, 0, true);
	peer_read(&cpeer, true);
	peer_read(&rpeer, true);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 20.));
	pool_set_pipe_cap(256);
	ck_assert_int_eq(done.how, RELAY_END_CLOSED);
	ck_assert_uint_eq(done.st.bytes_up, len);
	ck_assert(unit_loop_until(loop, &peer_ends, 2, 10.));
	ck_assert(rpeer.in_hash == hash_more(HASH_INIT, up, len));
	pool_stats(&ps);
	ck_assert_uint_eq(ps.pipes_peak, 0);
	ck_assert_uint_gt(ps.bufs_peak, 0);
	free(up);
}
END_TEST

/*
 * Bytes the client sent behind its request go out first. _i: 0 a small
 * block, 1 one larger than the relay's buffer.
 */
START_TEST(test_pending_first)
{
	size_t plen = _i == 0 ? 100 : 40000, dlen = 300000;
	uint8_t *pending = make_data(plen, 3), *data = make_data(dlen, 4);
	uint64_t want;

	make_pairs(false);
	/* The client's next bytes are already waiting when the relay starts. */
	ck_assert_int_eq(send(cpeer.fd, data, 1000, 0), 1000);
	start_relay(pending, plen, 0);
	/* relay_new() copied the block: scribbling on ours changes nothing. */
	want = hash_more(HASH_INIT, pending, plen);
	memset(pending, 0, plen);
	cpeer.out_off = 1000;
	cpeer.out = data;
	cpeer.out_len = dlen;
	cpeer.shut_after = true;
	ev_io_start(loop, &cpeer.wio);
	peer_send(&rpeer, NULL, 0, true);
	peer_read(&rpeer, true);
	peer_read(&cpeer, true);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 10.));
	ck_assert_int_eq(done.how, RELAY_END_CLOSED);
	ck_assert_uint_eq(done.st.bytes_up, plen + dlen);
	ck_assert_uint_eq(done.st.bytes_down, 0);
	ck_assert(unit_loop_until(loop, &peer_ends, 2, 5.));
	ck_assert_uint_eq(rpeer.in_bytes, plen + dlen);
	ck_assert(rpeer.in_hash == hash_more(want, data, dlen));
	free(pending);
	free(data);
}
END_TEST

/*
 * The client shuts its write side: the remote sees EOF, can still answer,
 * and the relay is done only when the remote closes too. _i: unix, TCP.
 */
START_TEST(test_half_close)
{
	struct relay_stats st;

	make_pairs(_i == 1);
	start_relay(NULL, 0, 0);
	peer_read(&rpeer, true);
	peer_read(&cpeer, true);
	peer_send(&cpeer, (const uint8_t *)"ping", 4, true);
	ck_assert(unit_loop_until(loop, &peer_ends, 1, 5.));
	ck_assert(rpeer.eof);
	ck_assert_uint_eq(rpeer.in_bytes, 4);
	ck_assert_mem_eq(rpeer.head, "ping", 4);
	ck_assert_int_eq(done.calls, 0);
	relay_stats(relay, &st);
	ck_assert_uint_eq(st.bytes_up, 4);
	ck_assert_uint_eq(st.bytes_down, 0);

	/* The other direction still works after the half-close. */
	peer_send(&rpeer, (const uint8_t *)"pong!", 5, false);
	ck_assert(unit_loop_until(loop, &cpeer.events, 1, 5.));
	unit_loop_for(loop, 0.05);
	ck_assert_uint_eq(cpeer.in_bytes, 5);
	ck_assert_mem_eq(cpeer.head, "pong!", 5);
	ck_assert(!cpeer.eof);
	ck_assert_int_eq(done.calls, 0);
	/* Quiet both ways: the relay holds no pipe and no buffer. */
	assert_pool_idle();
	assert_path();

	/* Now the remote is done as well. */
	ck_assert_int_eq(shutdown(rpeer.fd, SHUT_WR), 0);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 5.));
	ck_assert_int_eq(done.how, RELAY_END_CLOSED);
	ck_assert_int_eq(done.err, 0);
	ck_assert_uint_eq(done.st.bytes_up, 4);
	ck_assert_uint_eq(done.st.bytes_down, 5);
	assert_fds_closed_by_callback();
	ck_assert(unit_loop_until(loop, &peer_ends, 2, 5.));
	ck_assert(cpeer.eof);
	ck_assert_int_eq(cpeer.err, 0);
}
END_TEST

static void
small_buffers(int fd)
{
	int sz = 32 * 1024;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/*
 * A remote that doesn't read: the relay stops reading the client, so the
 * client's sends hit EAGAIN after a bounded amount (socket buffers plus
 * one relay buffer), and nothing spins meanwhile. Once the remote reads,
 * everything arrives intact. _i: unix, TCP.
 */
START_TEST(test_backpressure)
{
	size_t len = 16 * MIB, stalled;
	uint8_t *data = make_data(len, 5);
	int it;

	make_pairs(_i == 1);
	small_buffers(cpeer.fd);
	small_buffers(client_fd);
	small_buffers(remote_fd);
	small_buffers(rpeer.fd);
	start_relay(NULL, 0, 0);
	peer_send(&cpeer, data, len, true);
	peer_send(&rpeer, NULL, 0, true);
	peer_read(&cpeer, true);
	unit_loop_for(loop, 0.5);
	ck_assert(cpeer.blocked);
	/*
	 * On a busy machine the relay may still be filling the buffers:
	 * wait until a turn of 0.3 s moves nothing (at most 6 s).
	 */
	for (it = 0; it < 20; it++) {
		stalled = cpeer.out_off;
		unit_loop_for(loop, 0.3);
		if (cpeer.out_off == stalled)
			break;
	}
	stalled = cpeer.out_off;
	ck_assert_msg(stalled < 4 * MIB, "client wrote %zu bytes into a "
	    "relay whose remote reads nothing", stalled);
	ck_assert_int_eq(done.calls, 0);

	it = iterations;
	unit_loop_for(loop, 0.3);
	ck_assert_uint_eq(cpeer.out_off, stalled);	/* still stuck */
	ck_assert_msg(iterations - it < 30, "%d loop iterations while stalled",
	    iterations - it);

	peer_read(&rpeer, true);
	ck_assert_msg(unit_loop_until(loop, &done.calls, 1, 20.),
	    "stuck at %lu bytes", (unsigned long)rpeer.in_bytes);
	ck_assert_int_eq(done.how, RELAY_END_CLOSED);
	ck_assert_uint_eq(done.st.bytes_up, len);
	ck_assert(unit_loop_until(loop, &peer_ends, 2, 5.));
	ck_assert_uint_eq(rpeer.in_bytes, len);
	ck_assert(rpeer.in_hash == hash_more(HASH_INIT, data, len));
	free(data);
}
END_TEST

static void
abort_on_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
}

/*
 * A peer that goes away hard ends the relay as a reset, and the other
 * side is reset too, never given a clean end.
 * _i 0: the remote resets (TCP, SO_LINGER 0) while idle: the relay reads
 *       ECONNRESET, the client reads ECONNRESET.
 * _i 1: the client resets while idle: the same the other way round.
 * _i 2: the unix remote is closed while the client still sends: EPIPE
 *       (a unix socket cannot be reset; the client sees its end).
 */
START_TEST(test_reset)
{
	size_t len = 2 * MIB;
	uint8_t *data = make_data(len, 6);
	struct peer *gone = _i == 1 ? &cpeer : &rpeer;
	struct peer *left = _i == 1 ? &rpeer : &cpeer;

	make_pairs(_i != 2);
	start_relay(NULL, 0, 0);
	peer_read(left, true);
	if (_i != 2) {
		unit_loop_for(loop, 0.05);
		abort_on_close(gone->fd);
	} else {
		peer_send(&cpeer, data, len, false);
		unit_loop_for(loop, 0.05);
	}
	peer_stop(gone);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 5.));
	ck_assert_int_eq(done.how, _i == 1 ? RELAY_END_RESET_CLIENT :
	    RELAY_END_RESET_REMOTE);
	ck_assert_msg(done.err == ECONNRESET || done.err == EPIPE,
	    "err %d (%s)", done.err, strerror(done.err));
	assert_fds_closed_by_callback();
	ck_assert(unit_loop_until(loop, &peer_ends, 1, 5.));
	if (_i != 2) {
		ck_assert_msg(left->err == ECONNRESET, "the other side got "
		    "%s", left->eof ? "a clean EOF" : strerror(left->err));
	}
	free(data);
}
END_TEST

/* Bytes the socket has not sent yet (SIOCOUTQ). */
static int
unsent(int fd)
{
	int n = -1;

	ck_assert_int_eq(ioctl(fd, SIOCOUTQ, &n), 0);
	return n;
}

/*
 * What was received from a side before it reset is still delivered, and
 * only then is the other side reset. The client does not read at first,
 * so the remote's bytes wait in the relay and the kernel buffers when the
 * remote resets. _i: 0 the remote resets (download cut short), 1 the
 * client (upload).
 */
START_TEST(test_reset_flushes_first)
{
	size_t len = 200 * 1000;
	uint8_t *data = make_data(len, 7);
	struct peer *src = _i == 0 ? &rpeer : &cpeer;
	struct peer *dst = _i == 0 ? &cpeer : &rpeer;
	int it;

	make_pairs(true);
	small_buffers(dst->fd);
	start_relay(NULL, 0, 0);
	peer_send(src, data, len, false);
	/* Everything has left the sender (a reset would discard the rest). */
	for (it = 0; it < 100 && (src->out_off < len || unsent(src->fd) > 0);
	    it++)
		unit_loop_for(loop, 0.05);
	ck_assert_uint_eq(src->out_off, len);
	ck_assert_int_eq(unsent(src->fd), 0);
	ck_assert_int_eq(done.calls, 0);
	abort_on_close(src->fd);
	peer_stop(src);
	unit_loop_for(loop, 0.1);
	peer_read(dst, true);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 10.));
	ck_assert_int_eq(done.how, _i == 0 ? RELAY_END_RESET_REMOTE :
	    RELAY_END_RESET_CLIENT);
	ck_assert(unit_loop_until(loop, &peer_ends, 1, 5.));
	ck_assert_uint_eq(dst->in_bytes, len);
	ck_assert(dst->in_hash == hash_more(HASH_INIT, data, len));
	ck_assert_uint_eq(_i == 0 ? done.st.bytes_down : done.st.bytes_up,
	    len);
	ck_assert_msg(dst->err == ECONNRESET, "after the bytes, %s",
	    dst->eof ? "a clean EOF" : strerror(dst->err));
	free(data);
}
END_TEST

START_TEST(test_idle)
{
	ev_tstamp t0;

	make_pairs(false);
	ev_now_update(loop);
	t0 = ev_now(loop);
	start_relay(NULL, 0, 1);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 5.));
	ck_assert_int_eq(done.how, RELAY_END_IDLE);
	ck_assert_msg(done.at - t0 >= 0.95 && done.at - t0 < 2.5,
	    "idle after %.3f s", done.at - t0);
	ck_assert_msg(iterations < 20, "%d loop iterations while idle",
	    iterations);
	assert_fds_closed_by_callback();
}
END_TEST

static void
send_byte_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	peer_send(&cpeer, (const uint8_t *)"x", 1, false);
}

/* Traffic pushes the idle deadline back. */
START_TEST(test_idle_reset_by_traffic)
{
	ev_timer kick;
	ev_tstamp t0;

	make_pairs(false);
	ev_now_update(loop);
	t0 = ev_now(loop);
	start_relay(NULL, 0, 1);
	peer_read(&rpeer, true);
	ev_timer_init(&kick, send_byte_cb, 0.6, 0.);
	ev_timer_start(loop, &kick);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 5.));
	ev_timer_stop(loop, &kick);
	ck_assert_int_eq(done.how, RELAY_END_IDLE);
	ck_assert_uint_eq(done.st.bytes_up, 1);
	ck_assert_uint_eq(rpeer.in_bytes, 1);
	ck_assert_msg(done.at - t0 >= 1.55 && done.at - t0 < 3.,
	    "idle after %.3f s", done.at - t0);
}
END_TEST

/*
 * relay_new() does no I/O, so even a relay that is over before it starts
 * calls back from the loop; a callback that keeps the relay gets no more
 * calls.
 */
START_TEST(test_callback_keeps_relay)
{
	struct relay_stats st;

	make_pairs(_i == 1);
	done.free_in_cb = false;
	ck_assert_int_eq(shutdown(cpeer.fd, SHUT_WR), 0);
	ck_assert_int_eq(shutdown(rpeer.fd, SHUT_WR), 0);
	start_relay((const uint8_t *)"abc", 3, 1);
	ck_assert_int_eq(done.calls, 0);
	peer_read(&rpeer, true);
	peer_read(&cpeer, true);
	ck_assert(unit_loop_until(loop, &done.calls, 1, 5.));
	ck_assert_int_eq(done.how, RELAY_END_CLOSED);
	ck_assert_uint_eq(done.st.bytes_up, 3);
	ck_assert_uint_eq(done.st.bytes_down, 0);
	/* Past the idle timeout: nothing fires. */
	unit_loop_for(loop, 1.3);
	ck_assert_int_eq(done.calls, 1);
	relay_stats(relay, &st);
	ck_assert_uint_eq(st.bytes_up, 3);
	ck_assert_uint_eq(rpeer.in_bytes, 3);
	/*
	 * The direction that ended first was half-closed; the last one's
	 * FIN is the caller's close() (RELAY_END_CLOSED).
	 */
	ck_assert(rpeer.eof != cpeer.eof);
	relay_free(relay);
	relay = NULL;
	relay_free(NULL);
	close(client_fd);
	close(remote_fd);
	client_fd = remote_fd = -1;
	unit_loop_for(loop, 0.2);
	ck_assert(rpeer.eof && cpeer.eof);
}
END_TEST

static void
add_tests(Suite *s, const char *name, void (*setup_fn)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup_fn, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_bulk, 0, 2);
	tcase_add_loop_test(tc, test_pending_first, 0, 2);
	tcase_add_loop_test(tc, test_half_close, 0, 2);
	tcase_add_loop_test(tc, test_backpressure, 0, 2);
	tcase_add_loop_test(tc, test_reset, 0, 3);
	tcase_add_loop_test(tc, test_reset_flushes_first, 0, 2);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_idle_reset_by_traffic);
	tcase_add_loop_test(tc, test_callback_keeps_relay, 0, 2);
	tcase_add_test(tc, test_no_pipe);
	suite_add_tcase(s, tc);
}

static Suite *
relay_suite(void)
{
	Suite *s = suite_create("relay");

	add_tests(s, "splice", setup_splice);
	add_tests(s, "copy", setup_copy);
	return s;
}

int
main(void)
{
	/* splice(2) cannot be told not to raise it (relay.h). */
	signal(SIGPIPE, SIG_IGN);
	return unit_run(relay_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_gsstun.c - the RFC 1961 tunnel on a real libev loop:
 *
 *   client peer <-> [outer  tunnel  inner] <-> session peer
 *      (framed, wrapped)                  (plain)
 *
 * The client's pair is an AF_UNIX socketpair, or loopback TCP with small
 * fixed buffers (a TCP send takes part of a message where a unix one takes
 * all of it or nothing); the session's end is the one gsstun_new()
 * returns. Both peers are watchers on the same loop as
 * the tunnel, so it sees real readiness, partial writes and EAGAIN. The
 * wrap is a toy: a 4-byte magic, then the bytes XORed with a running
 * key; the unwrap refuses a token without the magic. Every loop run is
 * bounded by a timer that fails the test.
 */
#include "config_auto.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "gss_msg.h"
#include "gsstun.h"
#include "unit_util.h"
#include "util.h"

#define MIB (1024 * 1024)

static struct ev_loop *loop;

/* --- growing byte strings ------------------------------------------------ */

struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void
bytes_add(struct bytes *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + len)
			cap *= 2;
		b->p = realloc(b->p, cap);
		ck_assert_ptr_nonnull(b->p);
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void
bytes_free(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

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

/* --- the toy wrap -------------------------------------------------------- */

static const uint8_t toy_magic[4] = { 'G', 'S', 'S', '!' };

struct toy {
	int frees;		/* ops->free calls */
	size_t wraps;		/* wrap calls */
	size_t max_wrap_in;	/* the biggest chunk it was given */
	size_t max_token;	/* the biggest token it made */
	bool fail_wrap;
};

static struct toy toy;

static void
toy_xor(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = in[i] ^ (uint8_t)(0x5a + i * 7);
}

static int
toy_wrap(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	struct toy *ty = ctx;

	if (ty != NULL) {
		ty->wraps++;
		if (len > ty->max_wrap_in)
			ty->max_wrap_in = len;
		if (ty->fail_wrap)
			return -1;
	}
	if (len + sizeof(toy_magic) > cap)
		return -1;
	memcpy(out, toy_magic, sizeof(toy_magic));
	toy_xor(in, len, out + sizeof(toy_magic));
	*outlen = len + sizeof(toy_magic);
	if (ty != NULL && *outlen > ty->max_token)
		ty->max_token = *outlen;
	return 0;
}

static int
toy_unwrap(void *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
    size_t *outlen)
{
	(void)ctx;
	if (len < sizeof(toy_magic) || memcmp(in, toy_magic,
	    sizeof(toy_magic)) != 0 || len - sizeof(toy_magic) > cap)
		return -1;
	toy_xor(in + sizeof(toy_magic), len - sizeof(toy_magic), out);
	*outlen = len - sizeof(toy_magic);
	return 0;
}

static void
toy_free(void *ctx)
{
	((struct toy *)ctx)->frees++;
}

static const struct gsstun_ops toy_ops = {
	.wrap = toy_wrap,
	.unwrap = toy_unwrap,
	.free = toy_free,
};

/* The largest plain chunk that fits one toy token. */
#define TOY_PLAIN_MAX (GSS_MSG_TOKEN_MAX - sizeof(toy_magic))

/* --- the client's side of the encapsulation ------------------------------ */

/* One MTYP 3 message of `len` plain bytes, as a client sends it. */
static void
frame_one(struct bytes *wire, const uint8_t *plain, size_t len)
{
	static uint8_t msg[GSS_MSG_MAX];
	uint8_t tok[GSS_MSG_TOKEN_MAX];
	size_t tl = 0, n;

	ck_assert_int_eq(toy_wrap(NULL, plain, len, tok, sizeof(tok), &tl), 0);
	n = gss_msg_encode(msg, sizeof(msg), GSS_MTYP_DATA, tok, tl);
	ck_assert_uint_eq(n, GSS_MSG_HDR_LEN + tl);
	bytes_add(wire, msg, n);
}

/* `plain` cut into messages of the sizes in `sizes`, in turn. */
static void
frame_stream(struct bytes *wire, const uint8_t *plain, size_t len,
    const size_t *sizes, size_t nsizes)
{
	size_t off = 0, i = 0;

	while (off < len) {
		size_t c = sizes[i++ % nsizes];

		if (c > len - off)
			c = len - off;
		frame_one(wire, plain + off, c);
		off += c;
	}
}

static void
frame_str(struct bytes *wire, const char *s)
{
	frame_one(wire, (const uint8_t *)s, strlen(s));
}

/*
 * What the tunnel sent the client, decoded: every message is MTYP 3 with
 * a non-empty token that unwraps to at most GSSTUN_CHUNK bytes, except a
 * final 01 FF (*aborted); nothing is left over. The plain bytes go to
 * `plain`; the number of messages is returned.
 */
static size_t
decode_down(const struct bytes *wire, struct bytes *plain, bool *aborted)
{
	uint8_t out[GSS_MSG_TOKEN_MAX];
	size_t off = 0, msgs = 0;

	*aborted = false;
	while (off < wire->len) {
		struct gss_msg m;
		size_t used = 0, n = 0;

		ck_assert_msg(!*aborted, "bytes after the abort");
		ck_assert_int_eq(gss_msg_parse(wire->p + off, wire->len - off,
		    &m, &used), GSS_MSG_OK);
		off += used;
		if (m.mtyp == GSS_MTYP_ABORT) {
			*aborted = true;
			continue;
		}
		ck_assert_uint_eq(m.mtyp, GSS_MTYP_DATA);
		ck_assert_uint_gt(m.len, 0);
		ck_assert_uint_le(m.len, GSS_MSG_TOKEN_MAX);
		ck_assert_int_eq(toy_unwrap(NULL, m.token, m.len, out,
		    sizeof(out), &n), 0);
		ck_assert_uint_gt(n, 0);
		ck_assert_uint_le(n, GSSTUN_CHUNK);
		bytes_add(plain, out, n);
		msgs++;
	}
	return msgs;
}

/* Plain bytes in the whole messages of `wire` so far (toy tokens). */
static size_t
decoded_len(const struct bytes *wire)
{
	size_t off = 0, n = 0;
	struct gss_msg m;
	size_t used;

	while (gss_msg_parse(wire->p + off, wire->len - off, &m, &used) ==
	    GSS_MSG_OK && m.mtyp == GSS_MTYP_DATA) {
		n += m.len - sizeof(toy_magic);
		off += used;
	}
	return n;
}

/* --- peers --------------------------------------------------------------- */

struct peer {
	int fd;
	ev_io rio, wio;
	const uint8_t *out;		/* what to send, then shut if asked */
	size_t out_len, out_off;
	bool shut_after, shut_done;
	bool close_on_eof;		/* close the socket at EOF */
	bool blocked;			/* a send() said EAGAIN */
	struct bytes in;		/* everything received */
	bool eof;
	int err;			/* errno of a failed read/send */
};

static struct peer client, sess;

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
		bytes_add(&p->in, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0)
		p->eof = true;
	else
		p->err = errno;
	ev_io_stop(l, w);
	if (p->close_on_eof) {
		ev_io_stop(l, &p->wio);
		close(p->fd);
		p->fd = -1;
	}
}

static void
peer_init(struct peer *p, int fd)
{
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	ev_io_init(&p->rio, peer_read_cb, fd, EV_READ);
	ev_io_init(&p->wio, peer_write_cb, fd, EV_WRITE);
	p->rio.data = p;
	p->wio.data = p;
}

static void
peer_read(struct peer *p, bool on)
{
	if (on && !p->eof && p->err == 0 && p->fd >= 0)
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

/* Write now, all of it (small amounts into an empty socket). */
static void
peer_put(struct peer *p, const void *data, size_t len)
{
	ck_assert_int_eq(send(p->fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Stop sending what is left. */
static void
peer_stop_sending(struct peer *p)
{
	ev_io_stop(loop, &p->wio);
	p->out_len = p->out_off;
}

static void
peer_close(struct peer *p)
{
	ev_io_stop(loop, &p->rio);
	ev_io_stop(loop, &p->wio);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static void
peer_fini(struct peer *p)
{
	peer_close(p);
	bytes_free(&p->in);
}

/* The peer has seen its end of the stream (EOF, or a reset). */
static bool
peer_ended(const struct peer *p)
{
	return p->eof || p->err != 0;
}

/* --- bounded loop runs --------------------------------------------------- */

static void
expire_cb(struct ev_loop *l, ev_timer *w, int revents)
{
	(void)l;
	(void)revents;
	*(bool *)w->data = true;
}

/* Run the loop until `cond` holds; fail the test after `secs`. */
#define WAIT_FOR(cond, secs) do { \
		ev_timer tm_; \
		bool exp_ = false; \
		ev_timer_init(&tm_, expire_cb, (secs), 0.); \
		tm_.data = &exp_; \
		ev_timer_start(loop, &tm_); \
		while (!(cond) && !exp_) \
			ev_run(loop, EVRUN_ONCE); \
		ev_timer_stop(loop, &tm_); \
		ck_assert_msg((cond), "timed out after %.1f s waiting for %s", \
		    (double)(secs), #cond); \
	} while (0)

/* A few turns of the loop without waiting: what is ready runs. */
static void
spin(int turns)
{
	while (turns-- > 0)
		ev_run(loop, EVRUN_NOWAIT);
}

/* --- fixture ------------------------------------------------------------- */

static struct gsstun *tun;
static int fds_before;
static bool use_tcp;		/* this test's client pair: loopback TCP */

/* Loop iterations: a tunnel with nothing to do must not spin. */
static int iterations;
static ev_prepare counter;

static void
count_cb(struct ev_loop *l, ev_prepare *w, int revents)
{
	(void)l;
	(void)w;
	(void)revents;
	iterations++;
}

/* Nothing to do for a while: the loop sleeps (its own timer aside). */
static void
assert_idle(void)
{
	int before = iterations;

	unit_loop_for(loop, 0.2);
	ck_assert_int_le(iterations - before, 3);
}

static void
setup(void)
{
	fds_before = unit_open_fds();
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	memset(&toy, 0, sizeof(toy));
	gsstun_set_linger(0);
	use_tcp = false;
	tun = NULL;
	peer_init(&client, -1);
	peer_init(&sess, -1);
	iterations = 0;
	ev_prepare_init(&counter, count_cb);
	ev_prepare_start(loop, &counter);
}

static void
teardown(void)
{
	gsstun_free_all();
	tun = NULL;
	peer_fini(&client);
	peer_fini(&sess);
	ev_prepare_stop(loop, &counter);
	ev_loop_destroy(loop);
	loop = NULL;
	ck_assert_uint_eq(gsstun_count(), 0);
	ck_assert_int_eq(unit_open_fds(), fds_before);
}

/* --- client pairs ------------------------------------------------------- */

/* Small buffers, no autotuning: partial writes, bounded in-flight bytes. */
static void
small_bufs(int fd)
{
	int sz = 64 * 1024;

	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz,
	    sizeof(sz)), 0);
}

static void
tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int l, c, s, one = 1;

	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(l, 0);
	small_bufs(l);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &slen), 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c, 0);
	small_bufs(c);
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

static void
client_pair(int *a, int *b)
{
	int sv[2];

	if (use_tcp) {
		tcp_pair(a, b);
		return;
	}
	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	*a = sv[0];
	*b = sv[1];
}

/* A tunnel in front of a fresh client pair; both peers read. */
static struct gsstun *
start_on(struct peer *c, struct peer *se, struct toy *ctx,
    const uint8_t *pending, size_t len)
{
	int sv[2], inner = -1;
	struct gsstun *t;

	client_pair(&sv[0], &sv[1]);
	peer_init(c, sv[0]);
	t = gsstun_new(loop, sv[1], &toy_ops, ctx, pending, len, &inner);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_ge(inner, 0);
	peer_init(se, inner);
	peer_read(c, true);
	peer_read(se, true);
	return t;
}

static void
start(const uint8_t *pending, size_t len)
{
	tun = start_on(&client, &sess, &toy, pending, len);
}

/* The session is done: it releases the tunnel and closes its end. */
static void
release(void)
{
	gsstun_release(tun);
	tun = NULL;
	peer_close(&sess);
}

/* The client received exactly 01 FF, then EOF. */
static void
assert_client_got_abort(void)
{
	static const uint8_t abort_msg[] = { 0x01, 0xff };

	WAIT_FOR(peer_ended(&client), 5);
	ck_assert_int_eq(client.err, 0);
	ck_assert_uint_eq(client.in.len, sizeof(abort_msg));
	ck_assert_mem_eq(client.in.p, abort_msg, sizeof(abort_msg));
}

static void
assert_sess_got(const char *s)
{
	ck_assert_uint_eq(sess.in.len, strlen(s));
	if (sess.in.len > 0)
		ck_assert_mem_eq(sess.in.p, s, strlen(s));
}

/* --- round trips --------------------------------------------------------- */

START_TEST(test_new_fds)
{
	int fl;

	start(NULL, 0);
	fl = fcntl(sess.fd, F_GETFL);
	ck_assert_int_ne(fl & O_NONBLOCK, 0);
	fl = fcntl(sess.fd, F_GETFD);
	ck_assert_int_ne(fl & FD_CLOEXEC, 0);
	ck_assert_uint_eq(gsstun_count(), 1);
	release();
	/* Nothing to deliver: the client sees EOF, closes, the tunnel goes. */
	client.close_on_eof = true;
	WAIT_FOR(gsstun_count() == 0, 5);
	ck_assert_uint_eq(client.in.len, 0);
	ck_assert_int_eq(toy.frees, 1);
}
END_TEST

START_TEST(test_new_refuses)
{
	static const struct gsstun_ops no_unwrap = { .wrap = toy_wrap };
	int sv[2], inner = -1;

	ck_assert_int_eq(socketpair(AF_UNIX,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_ptr_null(gsstun_new(loop, sv[1], &no_unwrap, &toy, NULL, 0,
	    &inner));
	ck_assert_ptr_null(gsstun_new(loop, sv[1], NULL, &toy, NULL, 0,
	    &inner));
	ck_assert_int_eq(inner, -1);
	ck_assert_uint_eq(gsstun_count(), 0);
	/* Nothing was owned: the fd is still ours, the ctx not freed. */
	ck_assert_int_eq(fcntl(sv[1], F_GETFD) == -1, 0);
	ck_assert_int_eq(toy.frees, 0);
	close(sv[0]);
	close(sv[1]);
	gsstun_release(NULL);
}
END_TEST

START_TEST(test_small_both_ways)
{
	struct bytes wire = { 0 }, got = { 0 };
	struct gsstun_stats st;
	bool aborted;
	size_t msgs;

	start(NULL, 0);
	frame_one(&wire, (const uint8_t *)"\x05\x01\x00\x01", 4);
	frame_str(&wire, "hello");
	peer_send(&client, wire.p, wire.len, false);
	WAIT_FOR(sess.in.len == 9, 5);
	ck_assert_mem_eq(sess.in.p, "\x05\x01\x00\x01" "hello", 9);
	peer_put(&sess, "\x05\x00", 2);
	peer_put(&sess, "world", 5);
	WAIT_FOR(decoded_len(&client.in) >= 7, 5);
	msgs = decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_ge(msgs, 1);
	ck_assert_uint_eq(got.len, 7);
	ck_assert_mem_eq(got.p, "\x05\x00" "world", 7);

	gsstun_stats(tun, &st);
	ck_assert_uint_eq(st.up_wire, wire.len);
	ck_assert_uint_eq(st.up_plain, 9);
	ck_assert_uint_eq(st.down_plain, 7);
	ck_assert_uint_eq(st.down_wire, client.in.len);
	/* Nothing ended, nothing to do. */
	ck_assert(!client.eof && !sess.eof);
	assert_idle();
	bytes_free(&wire);
	bytes_free(&got);
}
END_TEST

/*
 * Megabytes each way at once, the client's messages of every size up to
 * the largest token: each side's bytes arrive whole and in order, the
 * tunnel's own messages carry at most GSSTUN_CHUNK plain bytes.
 */
START_TEST(test_large_both_ways)
{
	static const size_t sizes[] = { 1, 100, TOY_PLAIN_MAX, 16384, 7,
	    40000, TOY_PLAIN_MAX - 1, 3, 65000, 512 };
	const size_t up_len = 6 * MIB + 12345, down_len = 7 * MIB + 321;
	uint8_t *up = make_data(up_len, 1), *down = make_data(down_len, 2);
	struct bytes wire = { 0 }, got = { 0 };
	struct gsstun_stats st;
	bool aborted;
	size_t msgs;

	use_tcp = _i == 1;
	frame_stream(&wire, up, up_len, sizes, ARRAY_SIZE(sizes));
	start(NULL, 0);
	peer_send(&client, wire.p, wire.len, true);
	peer_send(&sess, down, down_len, true);
	WAIT_FOR(sess.eof && client.eof, 60);
	ck_assert_int_eq(client.err, 0);
	ck_assert_int_eq(sess.err, 0);
	ck_assert(client.blocked || sess.blocked);	/* it did push back */

	ck_assert_uint_eq(sess.in.len, up_len);
	ck_assert(memcmp(sess.in.p, up, up_len) == 0);
	msgs = decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, down_len);
	ck_assert(memcmp(got.p, down, down_len) == 0);
	ck_assert_uint_ge(msgs, down_len / GSSTUN_CHUNK);
	ck_assert_uint_le(toy.max_wrap_in, GSSTUN_CHUNK);
	ck_assert_uint_le(toy.max_token, GSS_MSG_TOKEN_MAX);

	gsstun_stats(tun, &st);
	ck_assert_uint_eq(st.up_wire, wire.len);
	ck_assert_uint_eq(st.up_plain, up_len);
	ck_assert_uint_eq(st.down_plain, down_len);
	ck_assert_uint_eq(st.down_wire, client.in.len);

	/* Both directions closed: the tunnel has closed its sockets. */
	ck_assert_int_eq(toy.frees, 1);
	ck_assert_uint_eq(gsstun_count(), 1);
	release();
	ck_assert_uint_eq(gsstun_count(), 0);
	free(up);
	free(down);
	bytes_free(&wire);
	bytes_free(&got);
}
END_TEST

/*
 * A side that does not read stops the other: what the sender got rid of
 * is bounded (the socket buffers and one message or so in the tunnel),
 * and all of it arrives once the reader reads.
 */
START_TEST(test_backpressure_up)
{
	static const size_t sizes[] = { TOY_PLAIN_MAX, 1000, 16384 };
	const size_t len = 16 * MIB;
	uint8_t *data = make_data(len, 3);
	struct bytes wire = { 0 };

	use_tcp = _i == 1;
	frame_stream(&wire, data, len, sizes, ARRAY_SIZE(sizes));
	start(NULL, 0);
	peer_read(&sess, false);
	peer_send(&client, wire.p, wire.len, true);
	WAIT_FOR(client.blocked, 5);
	unit_loop_for(loop, 0.3);
	ck_assert_uint_lt(client.out_off, 3 * MIB);
	ck_assert_uint_eq(sess.in.len, 0);
	peer_read(&sess, true);
	WAIT_FOR(sess.eof, 60);
	ck_assert_uint_eq(sess.in.len, len);
	ck_assert(memcmp(sess.in.p, data, len) == 0);
	free(data);
	bytes_free(&wire);
}
END_TEST

START_TEST(test_backpressure_down)
{
	const size_t len = 16 * MIB;
	uint8_t *data = make_data(len, 4);
	struct bytes got = { 0 };
	bool aborted;

	use_tcp = _i == 1;
	start(NULL, 0);
	peer_read(&client, false);
	peer_send(&sess, data, len, true);
	WAIT_FOR(sess.blocked, 5);
	unit_loop_for(loop, 0.3);
	ck_assert_uint_lt(sess.out_off, 3 * MIB);
	peer_read(&client, true);
	WAIT_FOR(client.eof, 60);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, len);
	ck_assert(memcmp(got.p, data, len) == 0);
	free(data);
	bytes_free(&got);
}
END_TEST

/* --- messages in pieces -------------------------------------------------- */

/* Three messages (one a single byte, one of 300) and what they carry. */
static void
pieces_stream(struct bytes *wire, struct bytes *plain)
{
	uint8_t *big = make_data(300, 5);

	frame_str(wire, "hello");
	frame_str(wire, "!");
	frame_one(wire, big, 300);
	bytes_add(plain, "hello!", 6);
	bytes_add(plain, big, 300);
	free(big);
}

/*
 * The stream cut in two at every byte: the first part written (and read
 * by the tunnel) before the second, or handed over as the pending bytes.
 */
START_TEST(test_split_everywhere)
{
	struct bytes wire = { 0 }, plain = { 0 };
	size_t k;
	int pending;

	pieces_stream(&wire, &plain);
	for (pending = 0; pending <= 1; pending++) {
		for (k = 0; k <= wire.len; k++) {
			if (pending) {
				start(wire.p, k);
			} else {
				start(NULL, 0);
				if (k > 0)
					peer_put(&client, wire.p, k);
				spin(4);
			}
			if (k < wire.len)
				peer_put(&client, wire.p + k, wire.len - k);
			WAIT_FOR(sess.in.len >= plain.len, 5);
			ck_assert_uint_eq(sess.in.len, plain.len);
			ck_assert_mem_eq(sess.in.p, plain.p, plain.len);
			ck_assert(!sess.eof);
			gsstun_free_all();
			tun = NULL;
			peer_fini(&client);
			peer_fini(&sess);
		}
	}
	ck_assert_int_eq(toy.frees, 2 * (int)(wire.len + 1));
	bytes_free(&wire);
	bytes_free(&plain);
}
END_TEST

/* One byte at a time, each read by the tunnel on its own. */
START_TEST(test_dribble)
{
	struct bytes wire = { 0 }, plain = { 0 };
	size_t i;

	pieces_stream(&wire, &plain);
	start(NULL, 0);
	for (i = 0; i < wire.len; i++) {
		peer_put(&client, wire.p + i, 1);
		spin(3);
	}
	WAIT_FOR(sess.in.len >= plain.len, 5);
	ck_assert_uint_eq(sess.in.len, plain.len);
	ck_assert_mem_eq(sess.in.p, plain.p, plain.len);
	bytes_free(&wire);
	bytes_free(&plain);
}
END_TEST

/* Pending bytes hold whole messages, then part of one; the rest follows. */
START_TEST(test_pending)
{
	struct bytes wire = { 0 };
	size_t cut;

	frame_str(&wire, "req");
	cut = wire.len + 3;
	frame_str(&wire, "uest");
	start(wire.p, cut);
	/* The whole message went to the session's end before new() returned. */
	ck_assert_uint_eq(recv(sess.fd, (uint8_t[8]){ 0 }, 8, MSG_PEEK), 3);
	peer_put(&client, wire.p + cut, wire.len - cut);
	WAIT_FOR(sess.in.len >= 7, 5);
	assert_sess_got("request");
	bytes_free(&wire);
}
END_TEST

/*
 * Pending bytes bigger than the tunnel's first buffer, in messages of the
 * largest token: more than the session's end takes at once, so the rest
 * waits in the tunnel; the last message is completed by the client.
 */
START_TEST(test_pending_large)
{
	static const size_t sizes[] = { TOY_PLAIN_MAX };
	const size_t len = 600 * 1000;
	uint8_t *data = make_data(len, 11);
	struct bytes wire = { 0 };

	frame_stream(&wire, data, len, sizes, ARRAY_SIZE(sizes));
	start(wire.p, wire.len - 1000);
	peer_put(&client, wire.p + wire.len - 1000, 1000);
	WAIT_FOR(sess.in.len >= len, 10);
	ck_assert_uint_eq(sess.in.len, len);
	ck_assert(memcmp(sess.in.p, data, len) == 0);
	free(data);
	bytes_free(&wire);
}
END_TEST

/* --- half-close ---------------------------------------------------------- */

/* The client ends first; the session still answers; then it ends too. */
START_TEST(test_halfclose_client_first)
{
	struct bytes wire = { 0 }, got = { 0 };
	bool aborted;

	start(NULL, 0);
	frame_str(&wire, "question");
	peer_send(&client, wire.p, wire.len, true);
	WAIT_FOR(sess.eof, 5);
	assert_sess_got("question");
	ck_assert(!client.eof);
	assert_idle();		/* the client's EOF is not read again and again */
	peer_send(&sess, (const uint8_t *)"answer", 6, true);
	WAIT_FOR(client.eof, 5);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, 6);
	ck_assert_mem_eq(got.p, "answer", 6);
	/* Both ended: closed, but kept until the session lets go. */
	WAIT_FOR(toy.frees == 1, 5);
	ck_assert_uint_eq(gsstun_count(), 1);
	release();
	ck_assert_uint_eq(gsstun_count(), 0);
	bytes_free(&wire);
	bytes_free(&got);
}
END_TEST

/* The session ends first, after a megabyte: all of it is out before the
 * client's EOF; the client still sends, then ends too. */
START_TEST(test_halfclose_session_first)
{
	const size_t len = MIB + 17;
	uint8_t *data = make_data(len, 6);
	struct bytes wire = { 0 }, got = { 0 };
	bool aborted;

	use_tcp = _i == 1;
	start(NULL, 0);
	peer_send(&sess, data, len, true);
	WAIT_FOR(client.eof, 30);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, len);
	ck_assert(memcmp(got.p, data, len) == 0);
	ck_assert(!sess.eof);
	frame_str(&wire, "more");
	frame_str(&wire, " after");
	peer_send(&client, wire.p, wire.len, true);
	WAIT_FOR(sess.eof, 5);
	assert_sess_got("more after");
	WAIT_FOR(toy.frees == 1, 5);
	release();
	ck_assert_uint_eq(gsstun_count(), 0);
	free(data);
	bytes_free(&wire);
	bytes_free(&got);
}
END_TEST

/* The client's EOF inside a message: an error, both sides closed. */
START_TEST(test_eof_mid_message)
{
	struct bytes wire = { 0 };

	start(NULL, 0);
	frame_str(&wire, "whole");
	frame_str(&wire, "cut short");
	peer_send(&client, wire.p, wire.len - 3, true);
	WAIT_FOR(sess.eof, 5);
	assert_sess_got("whole");
	WAIT_FOR(peer_ended(&client), 5);
	ck_assert_uint_eq(client.in.len, 0);
	ck_assert_int_eq(toy.frees, 1);
	bytes_free(&wire);
}
END_TEST

/* --- aborts -------------------------------------------------------------- */

static const struct {
	const char *what;
	uint8_t bytes[8];
	size_t len;
} bad_msgs[] = {
	{ "MTYP 1 (context)", { 0x01, 0x01, 0x00, 0x01, 0x60 }, 5 },
	{ "MTYP 2 (protection)", { 0x01, 0x02, 0x00, 0x01, 0x02 }, 5 },
	{ "unknown MTYP", { 0x01, 0x04, 0x00, 0x01, 0x00 }, 5 },
	{ "bad version", { 0x05, 0x01, 0x00 }, 3 },
	{ "empty token", { 0x01, 0x03, 0x00, 0x00 }, 4 },
	{ "no magic", { 0x01, 0x03, 0x00, 0x04, 'X', 'S', 'S', '!' }, 8 },
	{ "short token", { 0x01, 0x03, 0x00, 0x02, 'G', 'S' }, 6 },
};

/*
 * A good message, a bad one, another good one: the session gets the first
 * and EOF, the client exactly 01 FF and EOF, once written and once as the
 * pending bytes.
 */
START_TEST(test_abort_bad_message)
{
	struct bytes wire = { 0 };
	int pending;

	frame_str(&wire, "ok");
	bytes_add(&wire, bad_msgs[_i].bytes, bad_msgs[_i].len);
	frame_str(&wire, "ignored");
	for (pending = 0; pending <= 1; pending++) {
		memset(&toy, 0, sizeof(toy));
		if (pending) {
			start(wire.p, wire.len);
		} else {
			start(NULL, 0);
			peer_send(&client, wire.p, wire.len, false);
		}
		WAIT_FOR(sess.eof, 5);
		assert_sess_got("ok");
		assert_client_got_abort();
		/* The client closes: so does the tunnel; freed at release. */
		peer_close(&client);
		WAIT_FOR(toy.frees == 1, 5);
		release();
		ck_assert_uint_eq(gsstun_count(), 0);
		peer_fini(&client);
		peer_fini(&sess);
	}
	bytes_free(&wire);
}
END_TEST

/*
 * An abort while a message to the client is half sent: the message is
 * finished first, then 01 FF, so the client can still parse its stream.
 */
START_TEST(test_abort_after_partial_message)
{
	const size_t len = 4 * MIB;
	uint8_t *data = make_data(len, 7);
	struct bytes got = { 0 };
	bool aborted;

	use_tcp = _i == 1;
	start(NULL, 0);
	peer_read(&client, false);
	peer_send(&sess, data, len, false);
	WAIT_FOR(sess.blocked, 5);
	unit_loop_for(loop, 0.1);
	peer_put(&client, bad_msgs[0].bytes, bad_msgs[0].len);
	WAIT_FOR(peer_ended(&sess), 5);
	peer_read(&client, true);
	WAIT_FOR(client.eof, 30);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(aborted);
	ck_assert_uint_gt(got.len, 0);
	ck_assert_uint_lt(got.len, len);
	ck_assert(memcmp(got.p, data, got.len) == 0);
	free(data);
	bytes_free(&got);
}
END_TEST

/* A wrap that fails: the client gets 01 FF, the session EOF. */
START_TEST(test_abort_wrap_fails)
{
	start(NULL, 0);
	toy.fail_wrap = true;
	peer_put(&sess, "reply", 5);
	WAIT_FOR(sess.eof, 5);
	assert_client_got_abort();
}
END_TEST

/*
 * A bad message after the session's EOF went out: there is no room for
 * 01 FF after it, so the tunnel just closes.
 */
START_TEST(test_abort_after_shut)
{
	start(NULL, 0);
	ck_assert_int_eq(shutdown(sess.fd, SHUT_WR), 0);
	WAIT_FOR(client.eof, 5);
	peer_put(&client, bad_msgs[0].bytes, bad_msgs[0].len);
	WAIT_FOR(sess.eof, 5);
	ck_assert_uint_eq(client.in.len, 0);
	ck_assert_int_eq(toy.frees, 1);
}
END_TEST

/* The client's 01 FF: the session sees EOF, the client a close. */
START_TEST(test_client_abort)
{
	struct bytes wire = { 0 };
	static const uint8_t abort_msg[] = { 0x01, 0xff };

	start(NULL, 0);
	frame_str(&wire, "bye");
	bytes_add(&wire, abort_msg, sizeof(abort_msg));
	frame_str(&wire, "ignored");
	peer_send(&client, wire.p, wire.len, false);
	WAIT_FOR(sess.eof, 5);
	assert_sess_got("bye");
	WAIT_FOR(peer_ended(&client), 5);
	ck_assert_uint_eq(client.in.len, 0);
	ck_assert_int_eq(toy.frees, 1);
	bytes_free(&wire);
}
END_TEST

/* The session closes its end without a word: what it sent still goes out,
 * what the client sends is dropped, the client sees EOF. */
START_TEST(test_session_closes)
{
	struct bytes wire = { 0 }, got = { 0 };
	bool aborted;

	start(NULL, 0);
	peer_put(&sess, "last words", 10);
	peer_close(&sess);
	frame_str(&wire, "nobody listens");
	peer_send(&client, wire.p, wire.len, false);
	WAIT_FOR(client.eof, 5);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, 10);
	ck_assert_mem_eq(got.p, "last words", 10);
	peer_close(&client);
	WAIT_FOR(toy.frees == 1, 5);
	gsstun_release(tun);
	tun = NULL;
	ck_assert_uint_eq(gsstun_count(), 0);
	bytes_free(&wire);
	bytes_free(&got);
}
END_TEST

/* --- release ------------------------------------------------------------- */

/*
 * The session writes what it can while the client does not read, then
 * releases and closes: the client still gets every byte, then EOF; the
 * tunnel is gone once the client has closed.
 */
START_TEST(test_release_delivers)
{
	const size_t len = 8 * MIB;
	uint8_t *data = make_data(len, 8);
	struct bytes wire = { 0 }, got = { 0 };
	size_t sent;
	bool aborted;

	use_tcp = _i == 1;
	start(NULL, 0);
	peer_read(&client, false);
	peer_send(&sess, data, len, false);
	WAIT_FOR(sess.blocked, 5);
	unit_loop_for(loop, 0.1);
	peer_stop_sending(&sess);
	sent = sess.out_off;
	ck_assert_uint_gt(sent, GSSTUN_CHUNK);
	release();
	/* What the client sends now goes nowhere, and stops nothing. */
	frame_str(&wire, "too late");
	peer_put(&client, wire.p, wire.len);
	client.close_on_eof = true;
	peer_read(&client, true);
	WAIT_FOR(client.eof, 30);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, sent);
	ck_assert(memcmp(got.p, data, sent) == 0);
	WAIT_FOR(gsstun_count() == 0, 5);
	ck_assert_int_eq(toy.frees, 1);
	free(data);
	bytes_free(&wire);
	bytes_free(&got);
}
END_TEST

/* Released after both directions had ended: freed at once. */
/*
 * The remote reset (gsstun_reset_end): what the session wrote still
 * reaches the client, then its socket is reset, not half-closed, so a
 * cut-off transfer is not mistaken for a complete one.
 */
START_TEST(test_reset_end)
{
	static const char msg[] = "the last bytes before the reset";
	struct bytes got = { 0 };
	bool aborted;

	use_tcp = true;
	start(NULL, 0);
	peer_put(&sess, msg, strlen(msg));
	WAIT_FOR(client.in.len > 0, 5);
	gsstun_reset_end(tun);
	release();
	WAIT_FOR(peer_ended(&client), 5);
	ck_assert_int_eq(client.err, ECONNRESET);
	ck_assert(!client.eof);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert(!aborted);
	ck_assert_uint_eq(got.len, strlen(msg));
	ck_assert_mem_eq(got.p, msg, strlen(msg));
	WAIT_FOR(gsstun_count() == 0, 5);
	ck_assert_int_eq(toy.frees, 1);
	bytes_free(&got);
}
END_TEST

START_TEST(test_release_after_close)
{
	start(NULL, 0);
	ck_assert_int_eq(shutdown(client.fd, SHUT_WR), 0);
	ck_assert_int_eq(shutdown(sess.fd, SHUT_WR), 0);
	WAIT_FOR(client.eof && sess.eof, 5);
	WAIT_FOR(toy.frees == 1, 5);
	ck_assert_uint_eq(gsstun_count(), 1);
	release();
	ck_assert_uint_eq(gsstun_count(), 0);
}
END_TEST

/* A client that never reads: the tunnel gives up at the linger bound. */
START_TEST(test_release_linger_reader)
{
	const size_t len = 8 * MIB;
	uint8_t *data = make_data(len, 9);
	ev_tstamp t0;

	gsstun_set_linger(0.4);
	start(NULL, 0);
	peer_read(&client, false);
	peer_send(&sess, data, len, false);
	WAIT_FOR(sess.blocked, 5);
	peer_stop_sending(&sess);
	release();
	ev_now_update(loop);
	t0 = ev_now(loop);
	unit_loop_for(loop, 0.2);
	ck_assert_uint_eq(gsstun_count(), 1);
	WAIT_FOR(gsstun_count() == 0, 5);
	ev_now_update(loop);
	ck_assert_double_ge(ev_now(loop) - t0, 0.35);
	ck_assert_int_eq(toy.frees, 1);
	/* The client is cut off: it sees its stream end short. */
	peer_read(&client, true);
	WAIT_FOR(peer_ended(&client), 5);
	free(data);
}
END_TEST

/* A client that reads everything but never closes: the same bound. */
START_TEST(test_release_linger_closer)
{
	struct bytes got = { 0 };
	bool aborted;

	gsstun_set_linger(0.3);
	start(NULL, 0);
	peer_put(&sess, "bye", 3);
	release();
	WAIT_FOR(client.eof, 5);
	(void)decode_down(&client.in, &got, &aborted);
	ck_assert_uint_eq(got.len, 3);
	ck_assert_uint_eq(gsstun_count(), 1);	/* waiting for the client */
	assert_idle();
	WAIT_FOR(gsstun_count() == 0, 5);
	bytes_free(&got);
}
END_TEST

/* An abort is bounded the same way before any release. */
START_TEST(test_abort_linger)
{
	gsstun_set_linger(0.3);
	start(NULL, 0);
	peer_put(&client, bad_msgs[0].bytes, bad_msgs[0].len);
	assert_client_got_abort();
	/* The client does not close: the tunnel closes on its own. */
	WAIT_FOR(toy.frees == 1, 5);
	ck_assert_uint_eq(gsstun_count(), 1);
	release();
	ck_assert_uint_eq(gsstun_count(), 0);
}
END_TEST

/* --- free_all ------------------------------------------------------------ */

/* Three tunnels: idle; released with megabytes on their way; closed. */
START_TEST(test_free_all)
{
	const size_t len = 4 * MIB;
	uint8_t *data = make_data(len, 10);
	static struct peer cl[3], se[3];
	struct gsstun *t[3];
	struct toy ctx[3];
	int i;

	memset(ctx, 0, sizeof(ctx));
	for (i = 0; i < 3; i++)
		t[i] = start_on(&cl[i], &se[i], &ctx[i], NULL, 0);
	peer_read(&cl[1], false);
	peer_send(&se[1], data, len, false);
	WAIT_FOR(se[1].blocked, 5);
	peer_stop_sending(&se[1]);
	gsstun_release(t[1]);
	peer_close(&se[1]);
	ck_assert_int_eq(shutdown(cl[2].fd, SHUT_WR), 0);
	ck_assert_int_eq(shutdown(se[2].fd, SHUT_WR), 0);
	WAIT_FOR(cl[2].eof && se[2].eof && ctx[2].frees == 1, 5);
	ck_assert_uint_eq(gsstun_count(), 3);

	gsstun_free_all();
	ck_assert_uint_eq(gsstun_count(), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ctx[i].frees, 1);
	/* Their sockets are closed: every peer's stream ends. */
	peer_read(&cl[1], true);
	WAIT_FOR(peer_ended(&cl[0]) && peer_ended(&cl[1]) &&
	    peer_ended(&se[0]), 5);
	for (i = 0; i < 3; i++) {
		peer_fini(&cl[i]);
		peer_fini(&se[i]);
	}
	free(data);
}
END_TEST

static Suite *
gsstun_suite(void)
{
	Suite *s = suite_create("gsstun");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_new_fds);
	tcase_add_test(tc, test_new_refuses);
	tcase_add_test(tc, test_small_both_ways);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_pending_large);
	tcase_add_test(tc, test_split_everywhere);
	tcase_add_test(tc, test_dribble);
	suite_add_tcase(s, tc);

	tc = tcase_create("bulk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_large_both_ways, 0, 2);	/* unix, tcp */
	tcase_add_loop_test(tc, test_backpressure_up, 0, 2);	/* unix, tcp */
	tcase_add_loop_test(tc, test_backpressure_down, 0, 2);	/* unix, tcp */
	suite_add_tcase(s, tc);

	tc = tcase_create("ends");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_halfclose_client_first);
	tcase_add_loop_test(tc, test_halfclose_session_first, 0, 2);	/* unix, tcp */
	tcase_add_test(tc, test_eof_mid_message);
	tcase_add_loop_test(tc, test_abort_bad_message, 0,
	    (int)ARRAY_SIZE(bad_msgs));
	tcase_add_loop_test(tc, test_abort_after_partial_message, 0, 2);	/* unix, tcp */
	tcase_add_test(tc, test_abort_wrap_fails);
	tcase_add_test(tc, test_abort_after_shut);
	tcase_add_test(tc, test_client_abort);
	tcase_add_test(tc, test_session_closes);
	tcase_add_test(tc, test_abort_linger);
	suite_add_tcase(s, tc);

	tc = tcase_create("release");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_release_delivers, 0, 2);	/* unix, tcp */
	tcase_add_test(tc, test_release_after_close);
	tcase_add_test(tc, test_reset_end);
	tcase_add_test(tc, test_release_linger_reader);
	tcase_add_test(tc, test_release_linger_closer);
	tcase_add_test(tc, test_free_all);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(gsstun_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_bind.c - the BIND command's module (bind.h): the pure helpers
 * (expected peers, the external address of a family) and a bind on a
 * real libev loop over loopback: the first reply's address, a stranger
 * closed and counted while the expected peer gets through, the accept
 * timeout, a wildcard request (anyone; or refused with
 * bind.require_peer_match), the access check refusing a peer,
 * bind.external_addresses, IPv6, and bind_free() while waiting. Every
 * loop run is bounded by a safety timer.
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "bind.h"
#include "config.h"
#include "socks5.h"
#include "unit_util.h"

static struct config cfg;
static struct ev_loop *loop;

/* Is a's address `ip` (port ignored)? */
static int
is_ip(const union sockaddr_any *a, const char *ip)
{
	union sockaddr_any b = unit_addr(ip, 0);

	return sockaddr_equal_ip(&a->sa, &b.sa);
}

/* What the callback saw. */
struct seen {
	int listening, accepted, failed;
	struct bind_result last;
	union sockaddr_any at;		/* the listening address */
	int fd;
	struct bind *b;
	int free_in_cb;
};

static void
cb(void *arg, const struct bind_result *r)
{
	struct seen *s = arg;

	s->last = *r;
	switch (r->ev) {
	case BIND_LISTENING:
		s->listening++;
		s->at = r->addr;
		break;
	case BIND_ACCEPTED:
		s->accepted++;
		s->fd = r->fd;
		break;
	case BIND_FAILED:
		s->failed++;
		break;
	}
	if (s->free_in_cb && r->ev != BIND_LISTENING) {
		bind_free(s->b);
		s->b = NULL;
	}
	ev_break(loop, EVBREAK_ALL);
}

static int refuse_all;

static int
check_cb(void *arg, const struct sockaddr *peer)
{
	(void)arg;
	(void)peer;
	return !refuse_all;
}

static struct bind *
start(struct seen *s, const char *dst_ip, int with_check)
{
	union sockaddr_any d = unit_addr(dst_ip, 21);
	union sockaddr_any local = unit_addr("127.0.0.1", 1080);
	struct socks5_addr dst;
	struct bind_params p;

	if (d.sa.sa_family == AF_INET6)
		local = unit_addr("::1", 1080);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&dst, &d.sa), 0);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	memset(&p, 0, sizeof(p));
	p.loop = loop;
	p.cfg = &cfg;
	p.dst = &dst;
	p.local = &local.sa;
	p.check = with_check ? check_cb : NULL;
	p.cb = cb;
	p.arg = s;
	s->b = bind_start(&p);
	ck_assert_ptr_nonnull(s->b);
	/* Never from inside bind_start(). */
	ck_assert_int_eq(s->listening + s->failed, 0);
	return s->b;
}

/* A non-blocking connect from `src` to `to`; the fd. */
static int
connect_from(const char *src, const union sockaddr_any *to)
{
	union sockaddr_any a = unit_addr(src, 0);
	int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, &a.sa, sockaddr_len(&a.sa)), 0);
	if (connect(fd, &to->sa, sockaddr_len(&to->sa)) == -1)
		ck_assert_int_eq(errno, EINPROGRESS);
	return fd;
}

/* Did the server close fd (EOF or reset) within `secs`, running the loop? */
static int
closed_within(int fd, double secs)
{
	char c;
	int i;

	for (i = 0; i < (int)(secs * 50); i++) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0 || (n == -1 && errno != EAGAIN))
			return 1;
		unit_loop_run(loop, 0.02);
	}
	return 0;
}

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.bind.accept_timeout_s = 10;
	cfg.connect.prefer_family = AF_INET6;
	loop = ev_loop_new(EVFLAG_AUTO);
	refuse_all = 0;
}

static void
teardown(void)
{
	ev_loop_destroy(loop);
}

START_TEST(test_pure)
{
	union sockaddr_any e[2], out;
	union sockaddr_any p1 = unit_addr("192.0.2.1", 20);
	union sockaddr_any p2 = unit_addr("::ffff:192.0.2.1", 40000);
	union sockaddr_any p3 = unit_addr("192.0.2.2", 20);
	union sockaddr_any p4 = unit_addr("2001:db8::7", 20);

	e[0] = unit_addr("192.0.2.1", 0);
	e[1] = unit_addr("2001:db8::7", 0);
	/* The port never matters; a mapped address is the IPv4 one. */
	ck_assert(bind_peer_expected(e, 2, &p1.sa));
	ck_assert(bind_peer_expected(e, 2, &p2.sa));
	ck_assert(!bind_peer_expected(e, 2, &p3.sa));
	ck_assert(bind_peer_expected(e, 2, &p4.sa));
	ck_assert(!bind_peer_expected(e, 1, &p4.sa));
	ck_assert(!bind_peer_expected(e, 0, &p1.sa));

	e[0] = unit_addr("2001:db8::1", 0);
	e[1] = unit_addr("198.51.100.1", 0);
	ck_assert(bind_pick_external(e, 2, AF_INET, &out));
	ck_assert(sockaddr_equal_ip(&out.sa, &e[1].sa));
	ck_assert(bind_pick_external(e, 2, AF_INET6, &out));
	ck_assert(sockaddr_equal_ip(&out.sa, &e[0].sa));
	ck_assert(!bind_pick_external(e, 1, AF_INET, &out));
	ck_assert(!bind_pick_external(NULL, 0, AF_INET, &out));
}
END_TEST

START_TEST(test_stranger_then_peer)
{
	struct seen s;
	union sockaddr_any peer_addr;
	socklen_t len = sizeof(peer_addr);
	int stray, peer, fds = unit_open_fds();

	start(&s, "127.0.0.1", 1);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	ck_assert(is_ip(&s.at, "127.0.0.1"));
	ck_assert_uint_ne(sockaddr_port(&s.at.sa), 0);
	/* 127.0.0.2 is not who the client named: closed, counted. */
	stray = connect_from("127.0.0.2", &s.at);
	ck_assert(closed_within(stray, 5));
	ck_assert_int_eq(s.accepted + s.failed, 0);
	peer = connect_from("127.0.0.1", &s.at);
	unit_loop_run(loop, 5);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_int_ge(s.fd, 0);
	ck_assert_uint_eq(s.last.refused, 1);
	ck_assert_int_eq(getsockname(peer, &peer_addr.sa, &len), 0);
	ck_assert(sockaddr_equal(&s.last.addr.sa, &peer_addr.sa));
	/* The listener is gone once the peer is in: ours, and its. */
	ck_assert_int_eq(unit_open_fds(), fds + 3);
	bind_free(s.b);
	ck_assert_int_eq(unit_open_fds(), fds + 3);
	close(s.fd);
	close(stray);
	close(peer);
}
END_TEST

START_TEST(test_timeout)
{
	struct seen s;
	int fds = unit_open_fds();

	cfg.bind.accept_timeout_s = 1;
	start(&s, "127.0.0.1", 0);
	s.free_in_cb = 1;
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	unit_loop_run(loop, 5);
	ck_assert_int_eq(s.failed, 1);
	ck_assert_int_eq(s.last.rep, SOCKS5_REP_TTL_EXPIRED);
	ck_assert_str_eq(s.last.why, "accept-timeout");
	ck_assert_ptr_null(s.b);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

START_TEST(test_wildcard)
{
	struct seen s;
	int peer;

	/* 0.0.0.0: anyone, on the control connection's address. */
	start(&s, "0.0.0.0", 0);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	ck_assert(is_ip(&s.at, "127.0.0.1"));
	peer = connect_from("127.0.0.2", &s.at);
	unit_loop_run(loop, 5);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert(is_ip(&s.last.addr, "127.0.0.2"));
	bind_free(s.b);
	close(s.fd);
	close(peer);

	/* ... unless the admin requires the peer to be named. */
	cfg.bind.require_peer_match = true;
	start(&s, "0.0.0.0", 0);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 0);
	ck_assert_int_eq(s.failed, 1);
	ck_assert_int_eq(s.last.rep, SOCKS5_REP_NOT_ALLOWED);
	ck_assert_str_eq(s.last.why, "not-allowed");
	bind_free(s.b);
}
END_TEST

START_TEST(test_check_refuses)
{
	struct seen s;
	int peer;

	refuse_all = 1;
	start(&s, "127.0.0.1", 1);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	peer = connect_from("127.0.0.1", &s.at);
	unit_loop_run(loop, 5);
	ck_assert_int_eq(s.failed, 1);
	ck_assert_int_eq(s.last.rep, SOCKS5_REP_NOT_ALLOWED);
	ck_assert_str_eq(s.last.why, "peer-denied");
	ck_assert(closed_within(peer, 5));
	bind_free(s.b);
	close(peer);
}
END_TEST

START_TEST(test_external)
{
	union sockaddr_any ext[2];
	struct seen s;

	ext[0] = unit_addr("::1", 0);
	ext[1] = unit_addr("127.0.0.3", 0);
	cfg.bind.external = ext;
	cfg.bind.n_external = 2;
	start(&s, "127.0.0.1", 0);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	ck_assert(sockaddr_equal_ip(&s.at.sa, &ext[1].sa));
	bind_free(s.b);
	cfg.bind.external = NULL;
	cfg.bind.n_external = 0;
}
END_TEST

START_TEST(test_ipv6)
{
	struct seen s;
	int peer;

	ck_assert_msg(unit_have_ipv6_loopback(), "no IPv6 loopback");
	start(&s, "::1", 0);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	ck_assert_int_eq(s.at.sa.sa_family, AF_INET6);
	peer = connect_from("::1", &s.at);
	unit_loop_run(loop, 5);
	ck_assert_int_eq(s.accepted, 1);
	ck_assert_int_eq(s.last.addr.sa.sa_family, AF_INET6);
	bind_free(s.b);
	close(s.fd);
	close(peer);
}
END_TEST

START_TEST(test_free_while_waiting)
{
	struct seen s;
	int fd, fds = unit_open_fds();

	start(&s, "127.0.0.1", 0);
	unit_loop_run(loop, 2);
	ck_assert_int_eq(s.listening, 1);
	ck_assert_int_eq(unit_open_fds(), fds + 1);
	bind_free(s.b);
	/* The listener is closed: a connection is refused. */
	ck_assert_int_eq(unit_open_fds(), fds);
	fd = connect_from("127.0.0.1", &s.at);
	ck_assert(closed_within(fd, 5));
	unit_loop_run(loop, 0.1);
	ck_assert_int_eq(s.accepted + s.failed, 0);
	close(fd);
	bind_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- config */

START_TEST(test_config_bind)
{
	struct config *c;
	char buf[SOCKADDR_STRLEN];

	c = unit_cfg_load("");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->bind.accept_timeout_s, 120);
	/* RFC 1928: the server checks the peer against DST.ADDR. */
	ck_assert(c->bind.require_peer_match);
	ck_assert_uint_eq(c->bind.n_external, 0);
	config_free(c);

	c = unit_cfg_load("bind = { external_addresses = "
	    "[ \"192.0.2.1\", \"2001:db8::1\" ];\n"
	    "  accept_timeout_s = 30; require_peer_match = false; };\n");
	ck_assert_msg(c != NULL, "%s", unit_cfg_msgs());
	ck_assert_int_eq(c->bind.accept_timeout_s, 30);
	ck_assert(!c->bind.require_peer_match);
	ck_assert_uint_eq(c->bind.n_external, 2);
	ck_assert_str_eq(sockaddr_format_ip(&c->bind.external[0].sa, buf,
	    sizeof(buf)), "192.0.2.1");
	ck_assert_str_eq(sockaddr_format_ip(&c->bind.external[1].sa, buf,
	    sizeof(buf)), "2001:db8::1");
	config_free(c);

	unit_cfg_refused("bind = { external_addresses = "
	    "[ \"192.0.2.1:21\" ]; };\n",
	    "3: 'bind.external_addresses': \"192.0.2.1:21\" is not an IPv4 or "
	    "IPv6 address");
	unit_cfg_refused("bind = { external_addresses = \"192.0.2.1\"; };\n",
	    "3: 'bind.external_addresses' must be a list");
	unit_cfg_refused("bind = { accept_timeout_s = 0; };\n",
	    "3: 'bind.accept_timeout_s' must be between 1 and 86400");
	unit_cfg_refused("bind = { require_peer_match = 1; };\n",
	    "3: 'bind.require_peer_match' must be true or false");
	unit_cfg_refused("bind = { accept_timeout = 5; };\n",
	    "3: unknown key 'bind.accept_timeout'");
}
END_TEST



static Suite *
bind_suite(bool ipv6)
{
	Suite *s = suite_create("bind");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pure);
	tcase_add_test(tc, test_config_bind);
	tcase_add_test(tc, test_stranger_then_peer);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_wildcard);
	tcase_add_test(tc, test_check_refuses);
	tcase_add_test(tc, test_external);
	if (ipv6)
		tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_free_while_waiting);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	bool ipv6 = unit_have_ipv6_loopback();

	return unit_run(bind_suite(ipv6), ipv6 ? NULL :
	    "no IPv6 loopback: test_ipv6 not run");
}

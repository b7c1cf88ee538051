/* SPDX-License-Identifier: ISC */
/*
 * check_connector.c - the connector on a real libev loop, against loopback
 * listeners: literals, names from /etc/hosts, refusals, a name that does
 * not resolve, the overall timeout, cancellation, and Happy Eyeballs with
 * "localhost" (::1 and 127.0.0.1 without DNS) when one or both addresses
 * are black-holed: a listener with backlog 0 whose queue is full, so that
 * new SYNs go unanswered. The access-check hook and the bind address.
 * Every loop run is bounded by a safety timer so a connector that never
 * calls back fails.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "config.h"
#include "connector.h"
#include "resolver.h"
#include "socks5.h"
#include "unit_util.h"

struct outcome {
	int called;
	struct connector_result res;
	struct ev_loop *loop;
};

static struct config cfg;
static struct ev_loop *loop;
static struct resolver *hosts;	/* no servers: literals, /etc/hosts */

static void
done_cb(void *arg, const struct connector_result *res)
{
	struct outcome *o = arg;

	o->called++;
	o->res = *res;
	ev_break(o->loop, EVBREAK_ALL);
}

/* The loopback address of `family` (AF_INET or AF_INET6). */
static union sockaddr_any
loopback(int family, uint16_t port)
{
	return unit_addr(family == AF_INET ? "127.0.0.1" : "::1", port);
}

/* A listener on the loopback address of `family`, port *port (0: any). */
static int
listen_at(int family, uint16_t *port, int backlog)
{
	union sockaddr_any a = loopback(family, *port);
	socklen_t len;
	int fd, one = 1;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a.sa, sockaddr_len(&a.sa)) == -1 ||
	    listen(fd, backlog) == -1) {
		close(fd);
		return -1;
	}
	len = sizeof(a);
	ck_assert_int_eq(getsockname(fd, &a.sa, &len), 0);
	*port = sockaddr_port(&a.sa);
	return fd;
}

/*
 * A black hole: a listener with backlog 0 that never accepts, its queue
 * filled until a connection attempt hangs. fds[0] is the listener, the
 * rest the fillers; returns how many fds, 0 when this host cannot.
 */
#define HOLE_MAX 10
static size_t
black_hole(int family, uint16_t *port, int *fds)
{
	union sockaddr_any a;
	size_t n = 0;

	fds[n] = listen_at(family, port, 0);
	if (fds[n] == -1)
		return 0;
	n++;
	a = loopback(family, *port);
	while (n < HOLE_MAX) {
		struct pollfd p;
		int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);

		ck_assert_int_ge(fd, 0);
		fds[n++] = fd;
		if (connect(fd, &a.sa, sockaddr_len(&a.sa)) == 0)
			continue;
		ck_assert_int_eq(errno, EINPROGRESS);
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, 300) == 0)
			return n;	/* this one hangs: the hole is ready */
	}
	ck_abort_msg("the listen queue never filled");
	return 0;
}

static void
close_all(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* A listener on any free port of the loopback address of `family`. */
static int
listen_on(int family, uint16_t *port)
{
	*port = 0;
	return listen_at(family, port, 16);
}

/* A port on 127.0.0.1 with nothing listening (bound, never listened). */
static uint16_t
closed_port(int *keep)
{
	union sockaddr_any a = loopback(AF_INET, 0);
	socklen_t len = sizeof(a);

	*keep = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*keep, 0);
	ck_assert_int_eq(bind(*keep, &a.sa, sizeof(a.sin)), 0);
	ck_assert_int_eq(getsockname(*keep, &a.sa, &len), 0);
	return sockaddr_port(&a.sa);
}

static struct resolver *
make_resolver(const union sockaddr_any *servers, size_t n, int timeout_ms)
{
	struct resolver_options opt;
	char err[256];
	struct resolver *r;

	memset(&opt, 0, sizeof(opt));
	opt.servers = servers;
	opt.n_servers = n;
	opt.timeout_ms = timeout_ms;
	opt.tries = 1;
	r = resolver_new(loop, &opt, err, sizeof(err));
	ck_assert_msg(r != NULL, "resolver_new: %s", err);
	return r;
}

/*
 * Start connecting to `dst` through `r`; `o` gets the result. The callback
 * never comes from inside connector_start().
 */
static struct connector *
start(struct resolver *r, const struct socks5_addr *dst, struct outcome *o)
{
	struct connector *c = connector_start(loop, r, &cfg, dst, done_cb, o);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(o->called, 0);
	return c;
}

/* start() and run the loop until the result or `secs`; the time it took. */
static double
start_timed(struct resolver *r, const struct socks5_addr *dst,
    struct outcome *o, double secs)
{
	ev_tstamp t0;

	ev_now_update(loop);
	t0 = ev_now(loop);
	(void)start(r, dst, o);
	unit_loop_run(loop, secs);
	ev_now_update(loop);
	return ev_now(loop) - t0;
}

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.connect.timeout_s = 5;
	cfg.connect.prefer_family = AF_INET6;
	cfg.connect.attempt_delay_ms = 250;
	cfg.connect.resolution_delay_ms = 50;
	cfg.connect.first_family_count = 1;
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	hosts = make_resolver(NULL, 0, 1000);
}

static void
teardown(void)
{
	resolver_free(hosts);
	ev_loop_destroy(loop);
}

START_TEST(test_errno_to_rep)
{
	ck_assert_int_eq(connector_errno_to_rep(0), SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(connector_errno_to_rep(ENETUNREACH), SOCKS5_REP_NET_UNREACHABLE);
	ck_assert_int_eq(connector_errno_to_rep(EHOSTUNREACH), SOCKS5_REP_HOST_UNREACHABLE);
	ck_assert_int_eq(connector_errno_to_rep(ECONNREFUSED), SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(connector_errno_to_rep(ETIMEDOUT), SOCKS5_REP_TTL_EXPIRED);
	ck_assert_int_eq(connector_errno_to_rep(EAFNOSUPPORT), SOCKS5_REP_ATYP_NOT_SUPPORTED);
	ck_assert_int_eq(connector_errno_to_rep(ENOMEM), SOCKS5_REP_GENERAL_FAILURE);
}
END_TEST

START_TEST(test_ipv4_literal)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);

	ck_assert_int_ge(lfd, 0);
	dst = unit_saddr("127.0.0.1", port);
	(void)start(hosts, &dst, &o);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_ge(o.res.fd, 0);
	ck_assert_int_eq(o.res.attempts, 1);
	ck_assert(o.res.has_addr);
	ck_assert_int_eq(sockaddr_port(&o.res.addr.sa), port);
	close(o.res.fd);
	close(lfd);
}
END_TEST

START_TEST(test_refused)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int keep;

	dst = unit_saddr("127.0.0.1", closed_port(&keep));
	(void)start(hosts, &dst, &o);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(o.res.err, ECONNREFUSED);
	close(keep);
}
END_TEST

START_TEST(test_name_literals)
{
	static const char *const names[] = { "127.0.0.1", "[::1]", "::1" };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct outcome o = { .loop = loop };
		struct socks5_addr dst;
		uint16_t port;
		int lfd = listen_on(i == 0 ? AF_INET : AF_INET6, &port);

		if (lfd == -1)
			continue;	/* no IPv6 on this host */
		dst = unit_sname(names[i], port);
		(void)start(hosts, &dst, &o);
		unit_loop_run(loop, 5.);
		ck_assert_int_eq(o.called, 1);
		ck_assert_msg(o.res.rep == 0, "%s: rep %d", names[i], o.res.rep);
		ck_assert_int_eq(o.res.attempts, 1);
		ck_assert_int_eq(o.res.addr.sa.sa_family, i == 0 ? AF_INET : AF_INET6);
		close(o.res.fd);
		close(lfd);
	}
}
END_TEST

/* "localhost" from /etc/hosts; falls through to the address that listens. */
START_TEST(test_localhost_fallback)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);

	ck_assert_int_ge(lfd, 0);
	dst = unit_sname("localhost", port);
	(void)start(hosts, &dst, &o);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET);
	ck_assert_int_ge(o.res.attempts, 1);
	close(o.res.fd);
	close(lfd);
}
END_TEST

/* The DNS server refuses (closed UDP port): the name is unreachable. */
START_TEST(test_unresolvable)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	union sockaddr_any srv;
	struct resolver *r;
	int keep = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t len = sizeof(srv);

	srv = loopback(AF_INET, 0);
	ck_assert_int_eq(bind(keep, &srv.sa, sizeof(srv.sin)), 0);
	ck_assert_int_eq(getsockname(keep, &srv.sa, &len), 0);
	close(keep);		/* now nothing answers on that port */
	r = make_resolver(&srv, 1, 300);
	dst = unit_sname("nothing.invalid", 80);
	(void)start(r, &dst, &o);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_HOST_UNREACHABLE);
	ck_assert_int_eq(o.res.attempts, 0);
	resolver_free(r);
}
END_TEST

/* A DNS server that never answers: connect.timeout_s ends it with TTL expired. */
START_TEST(test_overall_timeout)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	union sockaddr_any srv;
	struct resolver *r;
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t len = sizeof(srv);
	double dt;

	srv = loopback(AF_INET, 0);
	ck_assert_int_eq(bind(silent, &srv.sa, sizeof(srv.sin)), 0);
	ck_assert_int_eq(getsockname(silent, &srv.sa, &len), 0);
	r = make_resolver(&srv, 1, 10000);
	cfg.connect.timeout_s = 1;
	dst = unit_sname("silent.test", 80);
	dt = start_timed(r, &dst, &o, 8.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_TTL_EXPIRED);
	ck_assert_msg(dt < 5., "took %.3f s", dt);
	resolver_free(r);
	close(silent);
}
END_TEST

START_TEST(test_cancel)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	uint16_t port;
	int lfd = listen_on(AF_INET, &port), fds;
	struct connector *c;

	ck_assert_int_ge(lfd, 0);
	fds = unit_open_fds();
	dst = unit_saddr("127.0.0.1", port);
	c = start(hosts, &dst, &o);
	connector_cancel(c);
	/* Its socket is closed at once, not at the next loop turn. */
	ck_assert_int_eq(unit_open_fds(), fds);
	unit_loop_run(loop, 0.3);
	ck_assert_int_eq(o.called, 0);
	/* And a name lookup in flight. */
	dst = unit_sname("localhost", port);
	c = start(hosts, &dst, &o);
	connector_cancel(c);
	ck_assert_int_eq(unit_open_fds(), fds);
	unit_loop_run(loop, 0.3);
	ck_assert_int_eq(o.called, 0);
	ck_assert_int_eq(unit_open_fds(), fds);
	close(lfd);
}
END_TEST

/*
 * [::1]:P black-holed, 127.0.0.1:P listening, "localhost": IPv6 first,
 * then IPv4 one attempt delay later, and the IPv4 connection wins.
 */
START_TEST(test_he_fallback)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int hole[HOLE_MAX], lfd = -1, tries, fds;
	size_t nhole = 0;
	uint16_t port = 0;
	double dt;

	for (tries = 0; tries < 20 && lfd == -1; tries++) {
		port = 0;
		nhole = black_hole(AF_INET6, &port, hole);
		if (nhole == 0)
			break;
		lfd = listen_at(AF_INET, &port, 16);
		if (lfd == -1)
			close_all(hole, nhole);
	}
	ck_assert_msg(nhole > 0, "no black hole on the IPv6 loopback");
	ck_assert_int_ge(lfd, 0);
	cfg.connect.attempt_delay_ms = 100;
	dst = unit_sname("localhost", port);
	fds = unit_open_fds();
	dt = start_timed(hosts, &dst, &o, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET);
	ck_assert_int_eq(o.res.attempts, 2);
	ck_assert_int_eq(o.res.denied, 0);
	ck_assert(!o.res.nat64);
	/* Not before the attempt delay; well before any TCP timeout. */
	ck_assert_msg(dt >= 0.09 && dt < 3., "took %.3f s", dt);
	ck_assert_uint_ge(o.res.ms, 90);
	/* The winner is handed over, the IPv6 attempt closed. */
	ck_assert_int_eq(unit_open_fds(), fds + 1);
	close(o.res.fd);
	close(lfd);
	close_all(hole, nhole);
}
END_TEST

/* Both healthy: IPv6 is used, with one attempt. */
START_TEST(test_he_both_healthy)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int l6, l4 = -1, tries;
	uint16_t port = 0;

	for (tries = 0; tries < 20 && l4 == -1; tries++) {
		port = 0;
		l6 = listen_at(AF_INET6, &port, 16);
		ck_assert_msg(l6 != -1, "cannot listen on the IPv6 loopback");
		l4 = listen_at(AF_INET, &port, 16);
		if (l4 == -1)
			close(l6);
	}
	ck_assert_int_ge(l4, 0);
	dst = unit_sname("localhost", port);
	(void)start(hosts, &dst, &o);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET6);
	ck_assert_int_eq(o.res.attempts, 1);
	close(o.res.fd);
	close(l4);
	close(l6);
}
END_TEST

/* Both black-holed: REP 6 when connect.timeout_s runs out. */
START_TEST(test_he_all_black_holed)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int h6[HOLE_MAX], h4[HOLE_MAX], tries, fds;
	size_t n6 = 0, n4 = 0;
	uint16_t port = 0;
	double dt;

	for (tries = 0; tries < 20 && n4 == 0; tries++) {
		port = 0;
		n6 = black_hole(AF_INET6, &port, h6);
		ck_assert_msg(n6 > 0, "no black hole on the IPv6 loopback");
		n4 = black_hole(AF_INET, &port, h4);
		if (n4 == 0)
			close_all(h6, n6);
	}
	ck_assert_uint_gt(n4, 0);
	cfg.connect.timeout_s = 1;
	cfg.connect.attempt_delay_ms = 100;
	dst = unit_sname("localhost", port);
	fds = unit_open_fds();
	dt = start_timed(hosts, &dst, &o, 8.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_TTL_EXPIRED);
	ck_assert_int_eq(o.res.err, ETIMEDOUT);
	ck_assert_int_eq(o.res.attempts, 2);
	ck_assert(o.res.has_addr);
	ck_assert_msg(dt >= 0.95 && dt < 5., "took %.3f s", dt);
	/* Both attempts are closed with the failure. */
	ck_assert_int_eq(unit_open_fds(), fds);
	close_all(h6, n6);
	close_all(h4, n4);
}
END_TEST

/* Both refused (nothing listens): REP 5 after two quick attempts. */
START_TEST(test_he_all_refused)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int keep;
	double dt;

	/*
	 * The second starts when the first fails, not after the attempt
	 * delay: made the longest there is (2 s), so that a loaded machine
	 * has a second of slack and a second attempt that waited still
	 * fails the bound.
	 */
	cfg.connect.attempt_delay_ms = 2000;
	dst = unit_sname("localhost", closed_port(&keep));
	dt = start_timed(hosts, &dst, &o, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(o.res.err, ECONNREFUSED);
	ck_assert_int_eq(o.res.attempts, 2);
	ck_assert_msg(dt < 1., "took %.3f s", dt);
	close(keep);
}
END_TEST

static int denied_calls;

static enum connector_verdict
deny_ipv6(void *arg, const struct sockaddr *sa)
{
	(void)arg;
	denied_calls++;
	return sa->sa_family == AF_INET6 ? CONNECTOR_DENY : CONNECTOR_ALLOW;
}

static enum connector_verdict
deny_all(void *arg, const struct sockaddr *sa)
{
	int *port = arg;

	ck_assert_int_eq(sockaddr_port(sa), *port);
	denied_calls++;
	return CONNECTOR_DENY;
}

/* The access-check hook: a refused address is never tried. */
START_TEST(test_check_hook)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	uint16_t port;
	int lfd = listen_on(AF_INET, &port), p;
	struct connector *c;

	ck_assert_int_ge(lfd, 0);
	/* localhost: ::1 refused by the hook, 127.0.0.1 allowed. */
	denied_calls = 0;
	dst = unit_sname("localhost", port);
	c = start(hosts, &dst, &o);
	connector_set_check(c, deny_ipv6, NULL);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET);
	ck_assert_int_eq(o.res.attempts, 1);
	ck_assert_int_eq(o.res.denied, 1);
	ck_assert_int_eq(denied_calls, 2);
	close(o.res.fd);

	/* A literal refused: REP 2, nothing tried. */
	memset(&o, 0, sizeof(o));
	o.loop = loop;
	denied_calls = 0;
	p = port;
	dst = unit_saddr("127.0.0.1", port);
	c = start(hosts, &dst, &o);
	connector_set_check(c, deny_all, &p);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_NOT_ALLOWED);
	ck_assert_int_eq(o.res.attempts, 0);
	ck_assert(!o.res.has_addr);
	ck_assert_int_eq(denied_calls, 1);
	close(lfd);
}
END_TEST

/* connect.bind_ipv4: the outbound socket has that source address. */
START_TEST(test_bind_source)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	union sockaddr_any local;
	socklen_t len = sizeof(local);
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(sockaddr_parse_ip("127.0.0.2", 0,
	    &cfg.connect.bind_ipv4), 0);
	cfg.connect.has_bind_ipv4 = true;
	dst = unit_saddr("127.0.0.1", port);
	(void)start(hosts, &dst, &o);
	unit_loop_run(loop, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(getsockname(o.res.fd, &local.sa, &len), 0);
	ck_assert_uint_eq(ntohl(local.sin.sin_addr.s_addr), 0x7f000002);
	close(o.res.fd);
	close(lfd);
}
END_TEST

/* Cancel in the middle of a race: no callback, nothing left behind. */
START_TEST(test_cancel_racing)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int h6[HOLE_MAX], h4[HOLE_MAX];
	size_t n6, n4 = 0;
	uint16_t port = 0;
	struct connector *c;
	int fds;

	n6 = black_hole(AF_INET6, &port, h6);
	if (n6 > 0)
		n4 = black_hole(AF_INET, &port, h4);
	ck_assert_msg(n4 > 0, "no IPv4 and IPv6 black holes on one port");
	cfg.connect.attempt_delay_ms = 50;
	dst = unit_sname("localhost", port);
	fds = unit_open_fds();
	c = start(hosts, &dst, &o);
	unit_loop_run(loop, 0.3);	/* both attempts are running now */
	ck_assert_int_eq(o.called, 0);
	ck_assert_int_eq(unit_open_fds(), fds + 2);
	connector_cancel(c);
	ck_assert_int_eq(unit_open_fds(), fds);
	unit_loop_run(loop, 0.2);
	ck_assert_int_eq(o.called, 0);
	ck_assert_int_eq(unit_open_fds(), fds);
	close_all(h6, n6);
	close_all(h4, n4);
}
END_TEST


/*
 * Cancelled at every loop turn before its result is delivered, including
 * the turn after the race is won (the winner's fd is then held for the
 * delivery): nothing is left open. First, how many turns the delivery
 * takes; then cancel after 0, 1, ... that many minus one.
 */
START_TEST(test_cancel_undelivered)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);
	struct connector *c;
	int turns, k, base, fd;

	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	dst = unit_saddr("127.0.0.1", port);
	c = start(hosts, &dst, &o);
	for (turns = 1; turns < 50; turns++) {
		ev_run(loop, EVRUN_ONCE);
		if (o.called)
			break;
	}
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_ge(o.res.fd, 0);
	close(o.res.fd);
	ck_assert_int_ge(turns, 2);	/* won, then delivered */
	while ((fd = accept(lfd, NULL, NULL)) >= 0)
		close(fd);
	base = unit_open_fds();
	for (k = 0; k < turns; k++) {
		int i;

		o.called = 0;
		c = start(hosts, &dst, &o);
		for (i = 0; i < k; i++)
			ev_run(loop, EVRUN_ONCE);
		ck_assert_msg(o.called == 0, "delivered after %d of %d turns",
		    k, turns);
		connector_cancel(c);
		ck_assert_msg(unit_open_fds() == base,
		    "cancelled after %d turns: %d fds open, %d before", k,
		    unit_open_fds(), base);
		while ((fd = accept(lfd, NULL, NULL)) >= 0)
			close(fd);
	}
	unit_loop_run(loop, 0.2);
	ck_assert_int_eq(o.called, 0);
	close(lfd);
}
END_TEST



/* --- Happy Eyeballs off (connector_set_happy) ------------------------- */

/* start() with Happy Eyeballs off, run to the result; the time it took. */
static double
start_off(struct resolver *r, const struct socks5_addr *dst,
    struct outcome *o, connector_check_fn check, double secs)
{
	struct connector *c;
	ev_tstamp t0;

	ev_now_update(loop);
	t0 = ev_now(loop);
	c = start(r, dst, o);
	connector_set_happy(c, false);
	if (check != NULL)
		connector_set_check(c, check, NULL);
	unit_loop_run(loop, secs);
	ev_now_update(loop);
	return ev_now(loop) - t0;
}

/*
 * Off, ::1 black-holed and 127.0.0.1 listening (test_he_fallback's world,
 * where Happy Eyeballs reaches IPv4): one family, so the one IPv6 attempt
 * has until connect.timeout_s, and the timeout reads ETIMEDOUT.
 */
START_TEST(test_he_off_one_family)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int hole[HOLE_MAX], lfd = -1, tries, fds;
	size_t nhole = 0;
	uint16_t port = 0;
	double dt;

	for (tries = 0; tries < 20 && lfd == -1; tries++) {
		port = 0;
		nhole = black_hole(AF_INET6, &port, hole);
		if (nhole == 0)
			break;
		lfd = listen_at(AF_INET, &port, 16);
		if (lfd == -1)
			close_all(hole, nhole);
	}
	ck_assert_msg(nhole > 0, "no black hole on the IPv6 loopback");
	ck_assert_int_ge(lfd, 0);
	cfg.connect.timeout_s = 1;
	cfg.connect.attempt_delay_ms = 100;
	dst = unit_sname("localhost", port);
	fds = unit_open_fds();
	dt = start_off(hosts, &dst, &o, NULL, 8.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_TTL_EXPIRED);
	ck_assert_int_eq(o.res.err, ETIMEDOUT);
	ck_assert_int_eq(o.res.attempts, 1);
	ck_assert(o.res.has_addr);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET6);
	ck_assert_msg(dt >= 0.95 && dt < 5., "took %.3f s", dt);
	ck_assert_int_eq(unit_open_fds(), fds);
	close(lfd);
	close_all(hole, nhole);
}
END_TEST

/*
 * Off, ::1 refuses and 127.0.0.1 listens (test_localhost_fallback's
 * world): the IPv6 refusal is the answer, IPv4 is not tried.
 */
START_TEST(test_he_off_no_race)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);

	ck_assert_int_ge(lfd, 0);
	dst = unit_sname("localhost", port);
	(void)start_off(hosts, &dst, &o, NULL, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(o.res.err, ECONNREFUSED);
	ck_assert_int_eq(o.res.attempts, 1);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET6);
	close(lfd);
}
END_TEST

/*
 * Off, the preferred family has nothing to try: the other is the
 * fallback. A name with only an IPv4 address (a hosts file of our own),
 * and "localhost" with ::1 refused by the check hook.
 */
START_TEST(test_he_off_fallback)
{
	struct outcome o = { .loop = loop };
	struct resolver_options opt;
	struct socks5_addr dst;
	struct resolver *r;
	char path[] = "/tmp/check_connector.XXXXXX", err[256];
	uint16_t port;
	int lfd = listen_on(AF_INET, &port), fd;

	ck_assert_int_ge(lfd, 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, "127.0.0.1 v4only.test\n", 22), 0);
	close(fd);
	memset(&opt, 0, sizeof(opt));
	opt.timeout_ms = 1000;
	opt.tries = 1;
	opt.hosts_file = path;
	r = resolver_new(loop, &opt, err, sizeof(err));
	ck_assert_msg(r != NULL, "resolver_new: %s", err);
	unlink(path);

	dst = unit_sname("v4only.test", port);
	(void)start_off(r, &dst, &o, NULL, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET);
	ck_assert_int_eq(o.res.attempts, 1);
	close(o.res.fd);

	memset(&o, 0, sizeof(o));
	o.loop = loop;
	denied_calls = 0;
	dst = unit_sname("localhost", port);
	(void)start_off(hosts, &dst, &o, deny_ipv6, 5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET);
	ck_assert_int_eq(o.res.attempts, 1);
	ck_assert_int_eq(o.res.denied, 1);
	ck_assert_int_eq(denied_calls, 2);
	close(o.res.fd);
	resolver_free(r);
	close(lfd);
}
END_TEST

/*
 * Happy Eyeballs on, ::1 refuses at once and 127.0.0.1 is a black hole:
 * the refusal still picks the reply (REP 5), but the overall timeout
 * ended the request, and err says so.
 */
START_TEST(test_timeout_after_refusal)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	int h4[HOLE_MAX];
	size_t n4;
	uint16_t port = 0;

	n4 = black_hole(AF_INET, &port, h4);
	ck_assert_uint_gt(n4, 0);
	cfg.connect.timeout_s = 1;
	dst = unit_sname("localhost", port);
	(void)start_timed(hosts, &dst, &o, 8.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(o.res.err, ETIMEDOUT);
	ck_assert_int_eq(o.res.attempts, 2);
	close_all(h4, n4);
}
END_TEST

static Suite *
connector_suite(bool ipv6)
{
	Suite *s = suite_create("connector");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_errno_to_rep);
	tcase_add_test(tc, test_ipv4_literal);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_name_literals);
	tcase_add_test(tc, test_localhost_fallback);
	tcase_add_test(tc, test_unresolvable);
	tcase_add_test(tc, test_overall_timeout);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_undelivered);
	suite_add_tcase(s, tc);

	tc = tcase_create("happy-eyeballs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	if (ipv6) {
		tcase_add_test(tc, test_he_fallback);
		tcase_add_test(tc, test_he_both_healthy);
		tcase_add_test(tc, test_he_all_black_holed);
		tcase_add_test(tc, test_he_all_refused);
	}
	tcase_add_test(tc, test_check_hook);
	tcase_add_test(tc, test_bind_source);
	if (ipv6)
		tcase_add_test(tc, test_cancel_racing);
	suite_add_tcase(s, tc);

	tc = tcase_create("happy-eyeballs-off");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	if (ipv6) {
		tcase_add_test(tc, test_he_off_one_family);
		tcase_add_test(tc, test_he_off_no_race);
		tcase_add_test(tc, test_timeout_after_refusal);
	}
	tcase_add_test(tc, test_he_off_fallback);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	bool ipv6 = unit_have_ipv6_loopback();

	return unit_run(connector_suite(ipv6), ipv6 ? NULL :
	    "no IPv6 loopback: 8 Happy Eyeballs tests not run");
}

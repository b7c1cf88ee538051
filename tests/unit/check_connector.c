/*
 * check_connector.c - the connector on a real libev loop, against loopback
 * listeners: literals, names from /etc/hosts, refusals, a name that does
 * not resolve, the overall timeout, cancellation. Every loop run is
 * bounded by a safety timer so a connector that never calls back fails.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
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

struct outcome {
	int called;
	struct connector_result res;
	struct ev_loop *loop;
};

static struct config cfg;
static struct ev_loop *loop;

static void
done_cb(void *arg, const struct connector_result *res)
{
	struct outcome *o = arg;

	o->called++;
	o->res = *res;
	ev_break(o->loop, EVBREAK_ALL);
}

static void
safety_cb(struct ev_loop *l, ev_timer *t, int revents)
{
	(void)t;
	(void)revents;
	ev_break(l, EVBREAK_ALL);
}

/* Run the loop until the callback or `limit` seconds. */
static void
run_for(double limit)
{
	ev_timer safety;

	ev_timer_init(&safety, safety_cb, limit, 0.);
	ev_timer_start(loop, &safety);
	ev_run(loop, 0);
	ev_timer_stop(loop, &safety);
}

static int
listen_on(int family, uint16_t *port)
{
	union sockaddr_any a;
	socklen_t len;
	int fd, one = 1;

	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.sin.sin_family = AF_INET;
		a.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(a.sin);
	} else {
		a.sin6.sin6_family = AF_INET6;
		a.sin6.sin6_addr = in6addr_loopback;
		len = sizeof(a.sin6);
	}
	fd = socket(family, SOCK_STREAM, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a.sa, len) == -1 || listen(fd, 16) == -1) {
		close(fd);
		return -1;
	}
	len = sizeof(a);
	ck_assert_int_eq(getsockname(fd, &a.sa, &len), 0);
	*port = sockaddr_port(&a.sa);
	return fd;
}

/* A port on 127.0.0.1 with nothing listening (bound, never listened). */
static uint16_t
closed_port(int *keep)
{
	union sockaddr_any a;
	socklen_t len = sizeof(a.sin);

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	a.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*keep = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(*keep, 0);
	ck_assert_int_eq(bind(*keep, &a.sa, len), 0);
	len = sizeof(a);
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

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.connect.timeout_s = 5;
	cfg.connect.prefer_family = AF_INET6;
	cfg.connect.attempt_delay_ms = 250;
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
}

static void
teardown(void)
{
	ev_loop_destroy(loop);
}

static void
addr_v4(struct socks5_addr *a, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->atyp = SOCKS5_ATYP_IPV4;
	a->u.ipv4[0] = 127;
	a->u.ipv4[3] = 1;
	a->port = port;
}

static void
addr_name(struct socks5_addr *a, const char *name, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->atyp = SOCKS5_ATYP_DOMAIN;
	a->name_len = (uint8_t)strlen(name);
	memcpy(a->u.name, name, a->name_len);
	a->port = port;
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
	struct resolver *r = make_resolver(NULL, 0, 1000);
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);
	struct connector *c;

	ck_assert_int_ge(lfd, 0);
	addr_v4(&dst, port);
	c = connector_start(loop, r, &cfg, &dst, done_cb, &o);
	ck_assert_ptr_nonnull(c);
	/* Never from inside connector_start. */
	ck_assert_int_eq(o.called, 0);
	run_for(5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_ge(o.res.fd, 0);
	ck_assert_int_eq(o.res.attempts, 1);
	ck_assert(o.res.has_addr);
	ck_assert_int_eq(sockaddr_port(&o.res.addr.sa), port);
	close(o.res.fd);
	close(lfd);
	resolver_free(r);
}
END_TEST

START_TEST(test_refused)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	struct resolver *r = make_resolver(NULL, 0, 1000);
	int keep;
	struct connector *c;

	addr_v4(&dst, closed_port(&keep));
	c = connector_start(loop, r, &cfg, &dst, done_cb, &o);
	ck_assert_ptr_nonnull(c);
	run_for(5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.fd, -1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_CONN_REFUSED);
	ck_assert_int_eq(o.res.err, ECONNREFUSED);
	close(keep);
	resolver_free(r);
}
END_TEST

START_TEST(test_name_literals)
{
	static const char *const names[] = { "127.0.0.1", "[::1]", "::1" };
	struct resolver *r = make_resolver(NULL, 0, 1000);
	size_t i;

	for (i = 0; i < 3; i++) {
		struct outcome o = { .loop = loop };
		struct socks5_addr dst;
		uint16_t port;
		int lfd = listen_on(i == 0 ? AF_INET : AF_INET6, &port);

		if (lfd == -1)
			continue;	/* no IPv6 on this host */
		addr_name(&dst, names[i], port);
		ck_assert_ptr_nonnull(connector_start(loop, r, &cfg, &dst,
		    done_cb, &o));
		run_for(5.);
		ck_assert_int_eq(o.called, 1);
		ck_assert_msg(o.res.rep == 0, "%s: rep %d", names[i], o.res.rep);
		ck_assert_int_eq(o.res.attempts, 1);
		ck_assert_int_eq(o.res.addr.sa.sa_family, i == 0 ? AF_INET : AF_INET6);
		close(o.res.fd);
		close(lfd);
	}
	resolver_free(r);
}
END_TEST

/* "localhost" from /etc/hosts; falls through to the address that listens. */
START_TEST(test_localhost_fallback)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	struct resolver *r = make_resolver(NULL, 0, 1000);
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);

	ck_assert_int_ge(lfd, 0);
	addr_name(&dst, "localhost", port);
	ck_assert_ptr_nonnull(connector_start(loop, r, &cfg, &dst, done_cb, &o));
	run_for(5.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_SUCCEEDED);
	ck_assert_int_eq(o.res.addr.sa.sa_family, AF_INET);
	ck_assert_int_ge(o.res.attempts, 1);
	close(o.res.fd);
	close(lfd);
	resolver_free(r);
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

	memset(&srv, 0, sizeof(srv));
	srv.sin.sin_family = AF_INET;
	srv.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(keep, &srv.sa, sizeof(srv.sin)), 0);
	ck_assert_int_eq(getsockname(keep, &srv.sa, &len), 0);
	close(keep);		/* now nothing answers on that port */
	r = make_resolver(&srv, 1, 300);
	addr_name(&dst, "nothing.invalid", 80);
	ck_assert_ptr_nonnull(connector_start(loop, r, &cfg, &dst, done_cb, &o));
	run_for(5.);
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
	ev_tstamp t0;

	memset(&srv, 0, sizeof(srv));
	srv.sin.sin_family = AF_INET;
	srv.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(silent, &srv.sa, sizeof(srv.sin)), 0);
	ck_assert_int_eq(getsockname(silent, &srv.sa, &len), 0);
	r = make_resolver(&srv, 1, 10000);
	cfg.connect.timeout_s = 1;
	addr_name(&dst, "silent.test", 80);
	ev_now_update(loop);
	t0 = ev_now(loop);
	ck_assert_ptr_nonnull(connector_start(loop, r, &cfg, &dst, done_cb, &o));
	run_for(8.);
	ck_assert_int_eq(o.called, 1);
	ck_assert_int_eq(o.res.rep, SOCKS5_REP_TTL_EXPIRED);
	ck_assert(ev_now(loop) - t0 < 5.);
	resolver_free(r);
	close(silent);
}
END_TEST

START_TEST(test_cancel)
{
	struct outcome o = { .loop = loop };
	struct socks5_addr dst;
	struct resolver *r = make_resolver(NULL, 0, 1000);
	uint16_t port;
	int lfd = listen_on(AF_INET, &port);
	struct connector *c;

	addr_v4(&dst, port);
	c = connector_start(loop, r, &cfg, &dst, done_cb, &o);
	ck_assert_ptr_nonnull(c);
	connector_cancel(c);
	run_for(0.3);
	ck_assert_int_eq(o.called, 0);
	/* And a name lookup in flight. */
	addr_name(&dst, "localhost", port);
	c = connector_start(loop, r, &cfg, &dst, done_cb, &o);
	connector_cancel(c);
	run_for(0.3);
	ck_assert_int_eq(o.called, 0);
	close(lfd);
	resolver_free(r);
}
END_TEST

static Suite *
connector_suite(void)
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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(connector_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

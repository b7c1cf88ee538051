/* SPDX-License-Identifier: ISC */
/*
 * check_resolver.c - the resolver against a real libev loop and a tiny DNS
 * server on 127.0.0.1 that lives in the same loop.
 *
 * The server knows a fixed set of names (see dns_answer_for()); it can stay
 * silent ("slow.test") or answer late ("delay.test"), which is what the
 * timeout, cancel and free tests need. Every loop run is bounded by a timer,
 * so a resolver that never calls back fails the test instead of hanging it.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "resolver.h"
#include "unit_util.h"

/* --- the DNS server ------------------------------------------------------ */

#define DNS_T_A		1
#define DNS_T_AAAA	28
#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3
#define DNS_DELAY_S	0.15

struct dns_rr {
	int type;
	const char *addr;
	uint32_t ttl;
};

struct dns_delayed {
	ev_timer t;
	struct dns_server *srv;
	struct dns_delayed *next;
	struct sockaddr_in to;
	size_t len;
	uint8_t buf[512];
};

struct dns_server {
	struct ev_loop *loop;
	int fd;
	uint16_t port;
	ev_io io;
	int queries;			/* received, any name */
	int answered;			/* sent, including late ones */
	struct dns_delayed *delayed;
};

static const struct dns_rr dns_a_test[] = {
	{ DNS_T_A, "192.0.2.1", 300 },
	{ DNS_T_A, "192.0.2.2", 60 },
	{ DNS_T_AAAA, "2001:db8::1", 120 },
	{ DNS_T_AAAA, "2001:db8::2", 500 },
};
static const struct dns_rr dns_v4_test[] = {
	{ DNS_T_A, "192.0.2.10", 30 },
};
static const struct dns_rr dns_ttl0_test[] = {
	{ DNS_T_A, "192.0.2.20", 0 },
};
static const struct dns_rr dns_delay_test[] = {
	{ DNS_T_A, "192.0.2.99", 10 },
	{ DNS_T_AAAA, "2001:db8::99", 10 },
};

enum dns_behaviour {
	DNS_ANSWER,
	DNS_NXDOMAIN,
	DNS_SERVFAIL,
	DNS_SILENT,
	DNS_LATE,
};

static enum dns_behaviour
dns_answer_for(const char *name, const struct dns_rr **rrs, size_t *n)
{
	*rrs = NULL;
	*n = 0;
	if (strcmp(name, "a.test") == 0) {
		*rrs = dns_a_test;
		*n = ARRAY_SIZE(dns_a_test);
		return DNS_ANSWER;
	}
	if (strcmp(name, "v4.test") == 0) {
		*rrs = dns_v4_test;
		*n = ARRAY_SIZE(dns_v4_test);
		return DNS_ANSWER;
	}
	if (strcmp(name, "ttl0.test") == 0) {
		*rrs = dns_ttl0_test;
		*n = ARRAY_SIZE(dns_ttl0_test);
		return DNS_ANSWER;
	}
	if (strcmp(name, "many.test") == 0)
		return DNS_ANSWER;	/* generated in dns_build() */
	if (strcmp(name, "delay.test") == 0) {
		*rrs = dns_delay_test;
		*n = ARRAY_SIZE(dns_delay_test);
		return DNS_LATE;
	}
	if (strcmp(name, "slow.test") == 0)
		return DNS_SILENT;
	if (strcmp(name, "fail.test") == 0)
		return DNS_SERVFAIL;
	return DNS_NXDOMAIN;
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* Append one answer (name = pointer to the question). */
static size_t
dns_put_rr(uint8_t *out, size_t len, size_t cap, int type, const char *addr,
    uint32_t ttl)
{
	size_t alen = type == DNS_T_A ? 4 : 16;

	if (len + 12 + alen > cap)
		return len;
	put16(out + len, 0xc00c);
	put16(out + len + 2, (unsigned)type);
	put16(out + len + 4, 1);
	put32(out + len + 6, ttl);
	put16(out + len + 10, (unsigned)alen);
	ck_assert_int_eq(inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, addr,
	    out + len + 12), 1);
	put16(out + 6, (unsigned)(((out[6] << 8) | out[7]) + 1));
	return len + 12 + alen;
}

/*
 * Build the answer to query q/qlen into out. Returns its length, 0 to
 * stay silent; *late is set when it must be sent after DNS_DELAY_S.
 */
static size_t
dns_build(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, bool *late)
{
	char name[256];
	size_t pos = 12, nlen = 0, len, i, n;
	const struct dns_rr *rrs;
	enum dns_behaviour b;
	int qtype;
	unsigned rcode = DNS_RCODE_NOERROR;

	*late = false;
	if (qlen < 12 || (q[2] & 0x80) || q[4] != 0 || q[5] != 1)
		return 0;
	while (pos < qlen && q[pos] != 0) {
		size_t l = q[pos];

		if (l > 63 || pos + 1 + l >= qlen || nlen + l + 1 >= sizeof(name))
			return 0;
		if (nlen > 0)
			name[nlen++] = '.';
		for (i = 0; i < l; i++) {
			char c = (char)q[pos + 1 + i];

			name[nlen++] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
		}
		pos += 1 + l;
	}
	name[nlen] = '\0';
	if (pos + 5 > qlen)
		return 0;
	qtype = (q[pos + 1] << 8) | q[pos + 2];
	pos += 5;		/* root label, type, class */

	b = dns_answer_for(name, &rrs, &n);
	if (b == DNS_SILENT)
		return 0;
	if (b == DNS_NXDOMAIN)
		rcode = DNS_RCODE_NXDOMAIN;
	else if (b == DNS_SERVFAIL)
		rcode = DNS_RCODE_SERVFAIL;
	*late = b == DNS_LATE;

	/* Header: same id, QR|RD, RA|rcode, the question, no NS or AR. */
	memcpy(out, q, pos);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x01));
	out[3] = (uint8_t)(0x80 | rcode);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	len = pos;
	if (rcode != DNS_RCODE_NOERROR)
		return len;
	if (strcmp(name, "many.test") == 0 && qtype == DNS_T_A) {
		for (i = 1; i <= 20; i++) {
			char a[32];

			snprintf(a, sizeof(a), "198.51.100.%zu", i);
			len = dns_put_rr(out, len, cap, DNS_T_A, a, 100);
		}
	}
	for (i = 0; i < n; i++)
		if (rrs[i].type == qtype)
			len = dns_put_rr(out, len, cap, rrs[i].type,
			    rrs[i].addr, rrs[i].ttl);
	return len;
}

static void
dns_late_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dns_delayed *d = (struct dns_delayed *)w;
	struct dns_server *srv = d->srv;

	(void)loop;
	(void)revents;
	if (sendto(srv->fd, d->buf, d->len, 0, (struct sockaddr *)&d->to,
	    sizeof(d->to)) == (ssize_t)d->len)
		srv->answered++;
}

static void
dns_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_server *srv = w->data;
	uint8_t q[512], out[512];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;
	size_t len;
	bool late;

	(void)revents;
	while ((n = recvfrom(srv->fd, q, sizeof(q), MSG_DONTWAIT,
	    (struct sockaddr *)&from, &flen)) > 0) {
		srv->queries++;
		len = dns_build(q, (size_t)n, out, sizeof(out), &late);
		if (len == 0)
			continue;
		if (late) {
			struct dns_delayed *d = calloc(1, sizeof(*d));

			ck_assert_ptr_nonnull(d);
			d->srv = srv;
			d->to = from;
			d->len = len;
			memcpy(d->buf, out, len);
			d->next = srv->delayed;
			srv->delayed = d;
			ev_timer_init(&d->t, dns_late_cb, DNS_DELAY_S, 0.);
			ev_timer_start(loop, &d->t);
			continue;
		}
		if (sendto(srv->fd, out, len, 0, (struct sockaddr *)&from,
		    flen) == (ssize_t)len)
			srv->answered++;
		flen = sizeof(from);
	}
}

static void
dns_start(struct dns_server *srv, struct ev_loop *loop)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);

	memset(srv, 0, sizeof(*srv));
	srv->loop = loop;
	srv->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(srv->fd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(srv->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(srv->fd, (struct sockaddr *)&sin, &slen), 0);
	srv->port = ntohs(sin.sin_port);
	ev_io_init(&srv->io, dns_read_cb, srv->fd, EV_READ);
	srv->io.data = srv;
	ev_io_start(loop, &srv->io);
}

static void
dns_stop(struct dns_server *srv)
{
	ev_io_stop(srv->loop, &srv->io);
	while (srv->delayed != NULL) {
		struct dns_delayed *d = srv->delayed;

		srv->delayed = d->next;
		ev_timer_stop(srv->loop, &d->t);
		free(d);
	}
	close(srv->fd);
}

/* --- loop helpers -------------------------------------------------------- */

static void
expire_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	*(bool *)w->data = true;
	ev_break(loop, EVBREAK_ONE);
}

/*
 * Does the loop still hold active watchers besides the ones the test
 * stopped? ev_run() without flags returns as soon as none are left; the
 * unref'd safety timer doesn't count, but breaks the run if something
 * (a leaked resolver watcher) keeps the loop alive.
 */
static bool
loop_is_empty(struct ev_loop *loop, double max_s)
{
	bool expired = false;
	ev_timer t;

	ev_timer_init(&t, expire_cb, max_s, 0.);
	t.data = &expired;
	ev_timer_start(loop, &t);
	ev_unref(loop);
	ev_run(loop, 0);
	ev_ref(loop);
	ev_timer_stop(loop, &t);
	return !expired;
}

/* --- fixtures ------------------------------------------------------------ */

struct rec {
	int calls;
	enum resolver_status st;
	struct resolver_result res;
	bool had_res;
};

static bool in_lookup;		/* set around resolver_lookup() calls */
static bool reentered;		/* a callback ran inside resolver_lookup() */
static int total_calls;		/* rec_cb calls, all lookups */

static void
rec_cb(void *arg, enum resolver_status st, const struct resolver_result *res)
{
	struct rec *rc = arg;

	if (in_lookup)
		reentered = true;
	total_calls++;
	rc->calls++;
	rc->st = st;
	rc->had_res = res != NULL;
	if (res != NULL)
		rc->res = *res;
}

static struct resolver_query *
lookup(struct resolver *r, const char *name, int family, resolver_cb cb,
    void *arg)
{
	struct resolver_query *q;

	in_lookup = true;
	q = resolver_lookup(r, name, family, cb, arg);
	in_lookup = false;
	ck_assert_ptr_nonnull(q);
	return q;
}

static struct ev_loop *loop;
static struct dns_server srv;
static struct resolver *res;

static struct resolver *
make_resolver_with(int timeout_ms, int tries, const char *hosts_file,
    size_t cache_entries)
{
	union sockaddr_any server = unit_addr("127.0.0.1", srv.port);
	struct resolver_options opt;
	struct resolver *r;
	char err[256] = "";

	memset(&opt, 0, sizeof(opt));
	opt.servers = &server;
	opt.n_servers = 1;
	opt.timeout_ms = timeout_ms;
	opt.tries = tries;
	opt.hosts_file = hosts_file;
	opt.cache_entries = cache_entries;
	r = resolver_new(loop, &opt, err, sizeof(err));
	ck_assert_msg(r != NULL, "resolver_new: %s", err);
	return r;
}

static struct resolver *
make_resolver(int timeout_ms, int tries)
{
	return make_resolver_with(timeout_ms, tries, NULL, 0);
}

static void
setup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	dns_start(&srv, loop);
	res = make_resolver(500, 2);
	in_lookup = reentered = false;
	total_calls = 0;
}

static void
teardown(void)
{
	resolver_free(res);
	res = NULL;
	dns_stop(&srv);
	ev_loop_destroy(loop);
	loop = NULL;
}

static void
assert_addr(const union sockaddr_any *a, int family, const char *text)
{
	char buf[INET6_ADDRSTRLEN];
	const void *p = family == AF_INET ? (const void *)&a->sin.sin_addr :
	    (const void *)&a->sin6.sin6_addr;

	ck_assert_int_eq(a->sa.sa_family, family);
	ck_assert_ptr_nonnull(inet_ntop(family, p, buf, sizeof(buf)));
	ck_assert_str_eq(buf, text);
	if (family == AF_INET)
		ck_assert_int_eq(a->sin.sin_port, 0);
	else
		ck_assert_int_eq(a->sin6.sin6_port, 0);
}

/* --- tests --------------------------------------------------------------- */

START_TEST(test_ipv4)
{
	struct rec rc = { 0 };

	(void)lookup(res, "a.test", AF_INET, rec_cb, &rc);
	ck_assert_int_eq(rc.calls, 0);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert(rc.had_res);
	ck_assert_uint_eq(rc.res.n, 2);
	assert_addr(&rc.res.addrs[0], AF_INET, "192.0.2.1");
	assert_addr(&rc.res.addrs[1], AF_INET, "192.0.2.2");
	ck_assert_uint_eq(rc.res.ttl, 60);
	ck_assert(!reentered);
	unit_loop_for(loop, 0.05);
	ck_assert_int_eq(rc.calls, 1);
}
END_TEST

START_TEST(test_ipv6)
{
	struct rec rc = { 0 };

	(void)lookup(res, "a.test", AF_INET6, rec_cb, &rc);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert_uint_eq(rc.res.n, 2);
	assert_addr(&rc.res.addrs[0], AF_INET6, "2001:db8::1");
	assert_addr(&rc.res.addrs[1], AF_INET6, "2001:db8::2");
	ck_assert_uint_eq(rc.res.ttl, 120);
}
END_TEST

/* Happy Eyeballs asks for both families at once on one resolver. */
START_TEST(test_parallel)
{
	struct rec r4 = { 0 }, r6 = { 0 }, rn = { 0 };

	(void)lookup(res, "a.test", AF_INET6, rec_cb, &r6);
	(void)lookup(res, "a.test", AF_INET, rec_cb, &r4);
	(void)lookup(res, "nx.test", AF_INET, rec_cb, &rn);
	ck_assert(unit_loop_until(loop, &total_calls, 3, 3.));
	ck_assert_int_eq(r4.calls + r6.calls + rn.calls, 3);
	ck_assert_int_eq(r4.st, RESOLVER_OK);
	ck_assert_int_eq(r6.st, RESOLVER_OK);
	ck_assert_int_eq(rn.st, RESOLVER_NOTFOUND);
	assert_addr(&r4.res.addrs[0], AF_INET, "192.0.2.1");
	assert_addr(&r6.res.addrs[0], AF_INET6, "2001:db8::1");
}
END_TEST

START_TEST(test_nxdomain)
{
	struct rec rc = { 0 };

	(void)lookup(res, "nx.test", AF_INET, rec_cb, &rc);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ck_assert_int_eq(rc.st, RESOLVER_NOTFOUND);
	ck_assert(!rc.had_res);
	ck_assert_int_ge(srv.queries, 1);
}
END_TEST

/* The name exists, but has no address of the asked family (NODATA). */
START_TEST(test_nodata)
{
	struct rec r6 = { 0 }, r4 = { 0 };

	(void)lookup(res, "v4.test", AF_INET6, rec_cb, &r6);
	ck_assert(unit_loop_until(loop, &r6.calls, 1, 3.));
	ck_assert_int_eq(r6.st, RESOLVER_NOTFOUND);
	ck_assert(!r6.had_res);

	(void)lookup(res, "v4.test", AF_INET, rec_cb, &r4);
	ck_assert(unit_loop_until(loop, &r4.calls, 1, 3.));
	ck_assert_int_eq(r4.st, RESOLVER_OK);
	ck_assert_uint_eq(r4.res.n, 1);
	assert_addr(&r4.res.addrs[0], AF_INET, "192.0.2.10");
	ck_assert_uint_eq(r4.res.ttl, 30);
}
END_TEST

START_TEST(test_servfail)
{
	struct rec rc = { 0 };

	(void)lookup(res, "fail.test", AF_INET, rec_cb, &rc);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ck_assert_int_eq(rc.st, RESOLVER_FAIL);
	ck_assert(!rc.had_res);
}
END_TEST

/* 20 answers: the first RESOLVER_MAX_ADDRS, in answer order. */
START_TEST(test_many)
{
	struct rec rc = { 0 };
	size_t i;

	(void)lookup(res, "many.test", AF_INET, rec_cb, &rc);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert_uint_eq(rc.res.n, RESOLVER_MAX_ADDRS);
	for (i = 0; i < RESOLVER_MAX_ADDRS; i++) {
		char a[32];

		snprintf(a, sizeof(a), "198.51.100.%zu", i + 1);
		assert_addr(&rc.res.addrs[i], AF_INET, a);
	}
	ck_assert_uint_eq(rc.res.ttl, 100);
}
END_TEST

START_TEST(test_timeout)
{
	struct rec rc = { 0 };
	struct resolver *fast;
	ev_tstamp t0;

	fast = make_resolver(100, 1);
	ev_now_update(loop);
	t0 = ev_now(loop);
	(void)lookup(fast, "slow.test", AF_INET, rec_cb, &rc);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ev_now_update(loop);
	ck_assert_int_eq(rc.st, RESOLVER_TIMEOUT);
	ck_assert(!rc.had_res);
	ck_assert_msg(ev_now(loop) - t0 >= 0.09, "timed out after %.3f s",
	    ev_now(loop) - t0);
	ck_assert_int_ge(srv.queries, 1);
	resolver_free(fast);
}
END_TEST

/* A cancelled lookup whose answer still arrives: silence, then freed. */
START_TEST(test_cancel)
{
	struct rec rc = { 0 }, other = { 0 };
	struct resolver_query *q;

	q = lookup(res, "delay.test", AF_INET, rec_cb, &rc);
	unit_loop_for(loop, 0.02);
	ck_assert_int_ge(srv.queries, 1);
	resolver_cancel(q);
	/* The late answer comes and goes; the resolver carries on. */
	unit_loop_for(loop, DNS_DELAY_S + 0.2);
	ck_assert_int_ge(srv.answered, 1);
	ck_assert_int_eq(rc.calls, 0);
	(void)lookup(res, "a.test", AF_INET, rec_cb, &other);
	ck_assert(unit_loop_until(loop, &other.calls, 1, 3.));
	ck_assert_int_eq(other.st, RESOLVER_OK);
	ck_assert_int_eq(rc.calls, 0);
}
END_TEST


/*
 * A silent server: once the last lookup still waiting is cancelled,
 * c-ares' queries end at once and its socket is closed, long before
 * their timeout (0.5 s, two tries); a later lookup works.
 */
START_TEST(test_cancel_ends_queries)
{
	struct rec rc = { 0 }, other = { 0 };
	struct resolver_query *q6, *q4;
	int base = unit_open_fds();

	q6 = lookup(res, "slow.test", AF_INET6, rec_cb, &rc);
	q4 = lookup(res, "slow.test", AF_INET, rec_cb, &rc);
	unit_loop_for(loop, 0.05);
	ck_assert_int_ge(srv.queries, 2);
	ck_assert_int_gt(unit_open_fds(), base);
	resolver_cancel(q6);
	unit_loop_for(loop, 0.02);
	/* One still waits: c-ares keeps asking. */
	ck_assert_int_gt(unit_open_fds(), base);
	resolver_cancel(q4);
	ck_assert_int_eq(unit_open_fds(), base);
	unit_loop_for(loop, 1.5);
	ck_assert_int_eq(rc.calls, 0);
	ck_assert_int_eq(unit_open_fds(), base);
	(void)lookup(res, "a.test", AF_INET, rec_cb, &other);
	ck_assert(unit_loop_until(loop, &other.calls, 1, 3.));
	ck_assert_int_eq(other.st, RESOLVER_OK);
}
END_TEST

/*
 * Cancel before the loop ever ran: answers already parked are dropped,
 * and the query sent for slow.test ends with its socket.
 */
START_TEST(test_cancel_immediate)
{
	struct rec rc = { 0 };
	int fds = unit_open_fds();

	resolver_cancel(lookup(res, "localhost", AF_INET, rec_cb, &rc));
	resolver_cancel(lookup(res, "", AF_INET, rec_cb, &rc));
	resolver_cancel(lookup(res, "192.0.2.7", AF_INET, rec_cb, &rc));
	resolver_cancel(lookup(res, "a.test", AF_INET, rec_cb, &rc));
	resolver_cancel(lookup(res, "slow.test", AF_INET6, rec_cb, &rc));
	ck_assert_int_eq(unit_open_fds(), fds);
	unit_loop_for(loop, 0.2);
	ck_assert_int_eq(rc.calls, 0);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

/*
 * The fixture's resolver replaced by a new one; the descriptors open
 * without it, so that freeing the new one can be seen to close all it
 * opened.
 */
static int
renew_resolver(void)
{
	int fds;

	resolver_free(res);
	fds = unit_open_fds();
	res = make_resolver(500, 2);
	return fds;
}

/* The resolver is gone: it left no watcher on the loop. */
static void
assert_no_watchers(void)
{
	dns_stop(&srv);
	ck_assert_msg(loop_is_empty(loop, 2.), "resolver left watchers behind");
	dns_start(&srv, loop);	/* for teardown */
}

/* Freeing with lookups in every state: no callback, no leak, no watcher. */
START_TEST(test_free_pending)
{
	struct rec rc = { 0 };
	int fds = renew_resolver();

	(void)lookup(res, "slow.test", AF_INET, rec_cb, &rc);
	(void)lookup(res, "delay.test", AF_INET6, rec_cb, &rc);
	unit_loop_for(loop, 0.02);	/* both on the wire */
	(void)lookup(res, "localhost", AF_INET, rec_cb, &rc);	/* parked */
	(void)lookup(res, "", AF_INET, rec_cb, &rc);	/* parked */
	(void)lookup(res, "a.test", AF_INET, rec_cb, &rc);	/* just sent */
	resolver_free(res);
	res = NULL;
	ck_assert_int_eq(unit_open_fds(), fds);
	unit_loop_for(loop, DNS_DELAY_S + 0.1);
	ck_assert_int_eq(rc.calls, 0);
	assert_no_watchers();
}
END_TEST

static int free_cb_calls;

/* A callback may free the whole resolver (worker shutting down). */
static void
free_cb(void *arg, enum resolver_status st, const struct resolver_result *r)
{
	(void)r;
	ck_assert_int_eq(st, RESOLVER_OK);
	free_cb_calls++;
	resolver_free(arg);
	res = NULL;
}

START_TEST(test_free_from_callback)
{
	struct rec rc = { 0 };
	int fds = renew_resolver();

	(void)lookup(res, "slow.test", AF_INET, rec_cb, &rc);
	(void)lookup(res, "delay.test", AF_INET, rec_cb, &rc);
	(void)lookup(res, "a.test", AF_INET, free_cb, res);
	(void)lookup(res, "localhost", AF_INET6, rec_cb, &rc);
	ck_assert(unit_loop_until(loop, &free_cb_calls, 1, 3.));
	ck_assert_ptr_null(res);
	ck_assert_int_eq(unit_open_fds(), fds);
	unit_loop_for(loop, DNS_DELAY_S + 0.1);
	ck_assert_int_eq(free_cb_calls, 1);
	/* localhost may have been parked ahead of a.test; nothing else runs. */
	ck_assert_int_le(rc.calls, 1);
	assert_no_watchers();
}
END_TEST

struct chain {
	struct resolver *r;
	struct rec second;
	int first_calls;
};

static void
chain_cb(void *arg, enum resolver_status st, const struct resolver_result *r)
{
	struct chain *c = arg;

	(void)r;
	ck_assert_int_eq(st, RESOLVER_NOTFOUND);
	c->first_calls++;
	(void)lookup(c->r, "a.test", AF_INET6, rec_cb, &c->second);
	ck_assert_int_eq(c->second.calls, 0);
}

/* A callback may start the next lookup (AAAA failed, try again...). */
START_TEST(test_lookup_from_callback)
{
	struct chain c = { .r = res };

	(void)lookup(res, "nx.test", AF_INET, chain_cb, &c);
	ck_assert(unit_loop_until(loop, &c.second.calls, 1, 3.));
	ck_assert_int_eq(c.first_calls, 1);
	ck_assert_int_eq(c.second.st, RESOLVER_OK);
	ck_assert(!reentered);
}
END_TEST

/* "localhost" is the loopback address, and never reaches the DNS server. */
START_TEST(test_localhost)
{
	struct rec r4 = { 0 }, r6 = { 0 }, rd = { 0 };

	(void)lookup(res, "localhost", AF_INET, rec_cb, &r4);
	(void)lookup(res, "LocalHost.", AF_INET6, rec_cb, &r6);
	(void)lookup(res, "localhost", AF_INET6, rec_cb, &rd);
	/* Answered at once, but never inside resolver_lookup(). */
	ck_assert_int_eq(total_calls, 0);
	ck_assert(unit_loop_until(loop, &total_calls, 3, 3.));
	ck_assert(!reentered);
	ck_assert_int_eq(r4.st, RESOLVER_OK);
	ck_assert_uint_eq(r4.res.n, 1);
	assert_addr(&r4.res.addrs[0], AF_INET, "127.0.0.1");
	ck_assert_int_eq(r6.st, RESOLVER_OK);
	ck_assert_uint_eq(r6.res.n, 1);
	assert_addr(&r6.res.addrs[0], AF_INET6, "::1");
	ck_assert_int_eq(rd.st, RESOLVER_OK);
	ck_assert_int_eq(srv.queries, 0);
}
END_TEST

/*
 * Callers handle IP literals, but one that slips through is answered by
 * c-ares inside ares_getaddrinfo(): still delivered from the loop.
 */
START_TEST(test_literal_deferred)
{
	struct rec rc = { 0 };

	(void)lookup(res, "192.0.2.7", AF_INET, rec_cb, &rc);
	ck_assert_int_eq(rc.calls, 0);
	ck_assert(unit_loop_until(loop, &rc.calls, 1, 3.));
	ck_assert(!reentered);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert_uint_eq(rc.res.n, 1);
	assert_addr(&rc.res.addrs[0], AF_INET, "192.0.2.7");
	ck_assert_int_eq(srv.queries, 0);
}
END_TEST

/* Look name/family up and wait for the answer. */
static void
lookup_wait(struct resolver *r, const char *name, int family,
    struct rec *rc)
{
	memset(rc, 0, sizeof(*rc));
	(void)lookup(r, name, family, rec_cb, rc);
	ck_assert_int_eq(rc->calls, 0);
	ck_assert(unit_loop_until(loop, &rc->calls, 1, 3.));
	ck_assert(!reentered);
}

/*
 * The hosts file comes before DNS: read once, names without regard to
 * case or a trailing dot, a name's addresses in the file's order, a line
 * that does not parse passed over. A name the file has only for the other
 * family goes on to DNS.
 */
START_TEST(test_hosts_file)
{
	char path[] = "/tmp/check_resolver_hosts.XXXXXX";
	const char text[] =
	    "# a test hosts file\n"
	    "192.0.2.50\tHosted.Test alias.test  # comment\n"
	    "not-an-address hosted.test\n"
	    "2001:db8::50 hosted.test\n"
	    "192.0.2.51 hosted.test\n";
	struct resolver *r;
	struct rec rc;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1),
	    (ssize_t)sizeof(text) - 1);
	close(fd);
	r = make_resolver_with(500, 1, path, 0);
	/* Read once: the file may go, the names stay. */
	ck_assert_int_eq(unlink(path), 0);

	lookup_wait(r, "HOSTED.test.", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert_uint_eq(rc.res.n, 2);
	assert_addr(&rc.res.addrs[0], AF_INET, "192.0.2.50");
	assert_addr(&rc.res.addrs[1], AF_INET, "192.0.2.51");
	lookup_wait(r, "hosted.test", AF_INET6, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert_uint_eq(rc.res.n, 1);
	assert_addr(&rc.res.addrs[0], AF_INET6, "2001:db8::50");
	lookup_wait(r, "alias.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	assert_addr(&rc.res.addrs[0], AF_INET, "192.0.2.50");
	ck_assert_int_eq(srv.queries, 0);

	/* alias.test has no IPv6 address in the file: DNS is asked. */
	lookup_wait(r, "alias.test", AF_INET6, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_NOTFOUND);
	ck_assert_int_ge(srv.queries, 1);
	resolver_free(r);
}
END_TEST

/*
 * With a cache, an answer is asked of DNS once while its TTL lasts, and
 * so is "no such name"; a failure and a TTL of 0 are not kept.
 */
START_TEST(test_cache)
{
	struct resolver *r = make_resolver_with(500, 1, "", 64);
	struct rec rc;
	int q;

	lookup_wait(r, "a.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	q = srv.queries;
	ck_assert_int_ge(q, 1);
	lookup_wait(r, "A.Test.", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	ck_assert_uint_eq(rc.res.n, 2);
	assert_addr(&rc.res.addrs[0], AF_INET, "192.0.2.1");
	assert_addr(&rc.res.addrs[1], AF_INET, "192.0.2.2");
	ck_assert_uint_le(rc.res.ttl, 60);
	ck_assert_uint_ge(rc.res.ttl, 55);
	ck_assert_int_eq(srv.queries, q);
	/* the other family is another entry */
	lookup_wait(r, "a.test", AF_INET6, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	assert_addr(&rc.res.addrs[0], AF_INET6, "2001:db8::1");
	ck_assert_int_gt(srv.queries, q);

	q = srv.queries;
	lookup_wait(r, "nx.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_NOTFOUND);
	ck_assert_int_gt(srv.queries, q);
	q = srv.queries;
	lookup_wait(r, "nx.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_NOTFOUND);
	ck_assert_int_eq(srv.queries, q);

	lookup_wait(r, "fail.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_FAIL);
	q = srv.queries;
	lookup_wait(r, "fail.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_FAIL);
	ck_assert_int_gt(srv.queries, q);

	lookup_wait(r, "ttl0.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	q = srv.queries;
	lookup_wait(r, "ttl0.test", AF_INET, &rc);
	ck_assert_int_eq(rc.st, RESOLVER_OK);
	assert_addr(&rc.res.addrs[0], AF_INET, "192.0.2.20");
	ck_assert_int_gt(srv.queries, q);
	resolver_free(r);
}
END_TEST

static void
make_name(char *buf, size_t len)
{
	size_t i;

	/* Labels of 63: "xxx...x.xxx...x...", no dot at the end. */
	for (i = 0; i < len; i++)
		buf[i] = (i % 64 == 63) ? '.' : 'x';
	if (buf[len - 1] == '.')
		buf[len - 1] = 'y';
	buf[len] = '\0';
}

START_TEST(test_invalid_name)
{
	struct rec empty = { 0 }, longer = { 0 }, longest = { 0 }, fam = { 0 };
	char name[400];

	(void)lookup(res, "", AF_INET, rec_cb, &empty);
	make_name(name, 254);
	(void)lookup(res, name, AF_INET, rec_cb, &longer);
	(void)lookup(res, "a.test", AF_UNIX, rec_cb, &fam);
	/* Refused, but only from the loop. */
	ck_assert_int_eq(empty.calls + longer.calls + fam.calls, 0);
	ck_assert(unit_loop_until(loop, &empty.calls, 1, 3.));
	ck_assert(unit_loop_until(loop, &longer.calls, 1, 3.));
	ck_assert(unit_loop_until(loop, &fam.calls, 1, 3.));
	ck_assert_int_eq(empty.st, RESOLVER_FAIL);
	ck_assert_int_eq(longer.st, RESOLVER_FAIL);
	ck_assert_int_eq(fam.st, RESOLVER_FAIL);
	ck_assert(!empty.had_res && !longer.had_res && !fam.had_res);
	ck_assert(!reentered);
	ck_assert_int_eq(srv.queries, 0);

	/* 253 characters is a legal name: asked, and not found. */
	make_name(name, 253);
	(void)lookup(res, name, AF_INET, rec_cb, &longest);
	ck_assert(unit_loop_until(loop, &longest.calls, 1, 3.));
	ck_assert_int_eq(longest.st, RESOLVER_NOTFOUND);
	ck_assert_int_ge(srv.queries, 1);
}
END_TEST

START_TEST(test_bad_server)
{
	union sockaddr_any server;
	struct resolver_options opt;
	char err[256] = "";

	memset(&server, 0, sizeof(server));
	server.sa.sa_family = AF_UNIX;
	memset(&opt, 0, sizeof(opt));
	opt.servers = &server;
	opt.n_servers = 1;
	ck_assert_ptr_null(resolver_new(loop, &opt, err, sizeof(err)));
	ck_assert_str_ne(err, "");
}
END_TEST

START_TEST(test_status_str)
{
	ck_assert_str_eq(resolver_status_str(RESOLVER_NOTFOUND), "not found");
	ck_assert_ptr_nonnull(resolver_status_str(RESOLVER_OK));
	ck_assert_ptr_nonnull(resolver_status_str(RESOLVER_TIMEOUT));
	ck_assert_ptr_nonnull(resolver_status_str(RESOLVER_FAIL));
	ck_assert_ptr_nonnull(resolver_status_str((enum resolver_status)42));
}
END_TEST

static Suite *
resolver_suite(void)
{
	Suite *s = suite_create("resolver");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_ipv4);
	tcase_add_test(tc, test_ipv6);
	tcase_add_test(tc, test_parallel);
	tcase_add_test(tc, test_nxdomain);
	tcase_add_test(tc, test_nodata);
	tcase_add_test(tc, test_servfail);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_cancel_ends_queries);
	tcase_add_test(tc, test_cancel_immediate);
	tcase_add_test(tc, test_free_pending);
	tcase_add_test(tc, test_free_from_callback);
	tcase_add_test(tc, test_lookup_from_callback);
	tcase_add_test(tc, test_localhost);
	tcase_add_test(tc, test_hosts_file);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_literal_deferred);
	tcase_add_test(tc, test_invalid_name);
	tcase_add_test(tc, test_bad_server);
	tcase_add_test(tc, test_status_str);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(resolver_suite(), NULL);
}

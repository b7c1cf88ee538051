/* SPDX-License-Identifier: ISC */
/*
 * check_udp.c - the UDP ASSOCIATE relay (udp.h): the drop reasons' names,
 * the udp settings, and the association on a real libev loop over
 * loopback sockets: an echo with the exact header, drops counted by
 * reason (another source, FRAG, malformed, a refused destination, names
 * with no resolver), address-dependent filtering, udp.port_range,
 * udp.external_address and the idle timeout. Every loop run is bounded
 * by a safety timer. Its pure tables are tested in check_udp_table.c.
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "config.h"
#include "socks5.h"
#include "udp.h"
#include "unit_util.h"

static struct config cfg;
static struct ev_loop *loop;

/* ---------------------------------------------------------------- pure */

START_TEST(test_drop_names)
{
	int i;

	for (i = 0; i < UDP_DROP_MAX; i++) {
		ck_assert_ptr_nonnull(udp_drop_name((enum udp_drop)i));
		ck_assert_str_ne(udp_drop_name((enum udp_drop)i), "?");
		ck_assert_ptr_null(strchr(udp_drop_name((enum udp_drop)i), ' '));
	}
	ck_assert_str_eq(udp_drop_name(UDP_DROP_FRAG), "frag");
	ck_assert_str_eq(udp_drop_name(UDP_DROP_MAX), "?");
}
END_TEST

/* ---------------------------------------------------------------- loop */

struct done_state {
	int called;
	enum udp_end how;
};

static void
done_cb(void *arg, enum udp_end how)
{
	struct done_state *d = arg;

	d->called++;
	d->how = how;
	ev_break(loop, EVBREAK_ALL);
}

static int deny_port;		/* the check refuses this destination port */
static int checks;

static int
check_cb(void *arg, const struct sockaddr *sa)
{
	(void)arg;
	checks++;
	return sockaddr_port(sa) != deny_port;
}

static int
udp_bound(const char *ip, union sockaddr_any *out)
{
	union sockaddr_any a = unit_addr(ip, 0);
	socklen_t len = sizeof(*out);
	int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, &a.sa, sockaddr_len(&a.sa)), 0);
	ck_assert_int_eq(getsockname(fd, &out->sa, &len), 0);
	return fd;
}

/* Receive one datagram on fd, running the loop up to `secs`; its length or -1. */
static ssize_t
recv_within(int fd, uint8_t *buf, size_t cap, double secs,
    union sockaddr_any *from)
{
	int i;

	for (i = 0; i < (int)(secs * 100); i++) {
		socklen_t flen = sizeof(*from);
		ssize_t n = recvfrom(fd, buf, cap, 0, &from->sa, &flen);

		if (n >= 0)
			return n;
		unit_loop_run(loop, 0.01);
	}
	return -1;
}

/* An association for a client at `cl` whose control connection is on 127.0.0.1. */
static struct udp_assoc *
start(const union sockaddr_any *cl, struct socks5_addr *req,
    struct socks5_addr *bnd, struct done_state *d, int with_check)
{
	union sockaddr_any local = unit_addr("127.0.0.1", 1080);
	struct udp_params p;
	struct udp_assoc *a;
	uint8_t rep = 0xff;

	memset(&p, 0, sizeof(p));
	p.loop = loop;
	p.cfg = &cfg;
	p.client = &cl->sa;
	p.local = &local.sa;
	p.req = req;
	p.check = with_check ? check_cb : NULL;
	p.done = done_cb;
	p.arg = d;
	a = udp_start(&p, bnd, &rep);
	ck_assert_ptr_nonnull(a);
	return a;
}

static void
send_via(int fd, const struct socks5_addr *relay, uint8_t frag,
    const struct socks5_addr *dst, const char *payload)
{
	uint8_t buf[600];
	union sockaddr_any to;
	socklen_t len = sizeof(to);
	size_t h = socks5_encode_udp_header(buf, sizeof(buf), frag, dst);

	ck_assert_uint_gt(h, 0);
	memcpy(buf + h, payload, strlen(payload));
	ck_assert_int_eq(socks5_addr_to_sockaddr(relay, &to.sa, &len), 0);
	ck_assert_int_eq(sendto(fd, buf, h + strlen(payload), 0, &to.sa, len),
	    (ssize_t)(h + strlen(payload)));
}

static void
setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.udp.idle_timeout_s = 300;
	cfg.udp.filtering = CONFIG_UDP_ADDRESS_DEPENDENT;
	cfg.connect.prefer_family = AF_INET6;
	loop = ev_loop_new(EVFLAG_AUTO);
	deny_port = -1;
	checks = 0;
}

static void
teardown(void)
{
	ev_loop_destroy(loop);
}

START_TEST(test_echo)
{
	union sockaddr_any cl, srv, from;
	struct socks5_addr req = unit_saddr("0.0.0.0", 0), bnd, dst;
	struct done_state d = { 0, UDP_END_IDLE };
	struct udp_stats st;
	struct udp_assoc *a;
	uint8_t buf[600], want[64];
	int cfd = udp_bound("127.0.0.1", &cl);
	int sfd = udp_bound("127.0.0.1", &srv);
	int other, fds = unit_open_fds();
	ssize_t n;
	size_t h;

	a = start(&cl, &req, &bnd, &d, 1);
	ck_assert_int_eq(bnd.atyp, SOCKS5_ATYP_IPV4);
	ck_assert_uint_ne(bnd.port, 0);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&dst, &srv.sa), 0);
	send_via(cfd, &bnd, 0, &dst, "hello");
	n = recv_within(sfd, buf, sizeof(buf), 5, &from);
	ck_assert_int_eq(n, 5);
	ck_assert(memcmp(buf, "hello", 5) == 0);
	/* The answer comes back wrapped in a header naming the server. */
	ck_assert_int_eq(sendto(sfd, "world", 5, 0, &from.sa,
	    sockaddr_len(&from.sa)), 5);
	n = recv_within(cfd, buf, sizeof(buf), 5, &from);
	h = socks5_encode_udp_header(want, sizeof(want), 0, &dst);
	ck_assert_int_eq(n, (ssize_t)(h + 5));
	ck_assert(memcmp(buf, want, h) == 0);
	ck_assert(memcmp(buf + h, "world", 5) == 0);

	/* Another port of the client's IP is another program: dropped. */
	other = udp_bound("127.0.0.1", &from);
	send_via(other, &bnd, 0, &dst, "intruder");
	/* A fragment, a malformed header (address type 9). */
	send_via(cfd, &bnd, 1, &dst, "frag");
	{
		union sockaddr_any to;
		socklen_t len = sizeof(to);

		ck_assert_int_eq(socks5_addr_to_sockaddr(&bnd, &to.sa, &len), 0);
		ck_assert_int_eq(sendto(cfd, "\0\0\0\x09zz", 6, 0, &to.sa, len), 6);
	}
	/* A refused destination port. */
	deny_port = 9;
	dst.port = 9;
	send_via(cfd, &bnd, 0, &dst, "denied");
	unit_loop_run(loop, 0.3);
	n = recv(sfd, buf, sizeof(buf), 0);
	ck_assert_int_eq(n, -1);
	udp_stats(a, &st);
	ck_assert_uint_eq(st.dgrams_up, 1);
	ck_assert_uint_eq(st.bytes_up, 5);
	ck_assert_uint_eq(st.dgrams_down, 1);
	ck_assert_uint_eq(st.bytes_down, 5);
	ck_assert_uint_eq(st.drops[UDP_DROP_SOURCE], 1);
	ck_assert_uint_eq(st.drops[UDP_DROP_FRAG], 1);
	ck_assert_uint_eq(st.drops[UDP_DROP_MALFORMED], 1);
	ck_assert_uint_eq(st.drops[UDP_DROP_DENIED], 1);
	/* Each destination is asked about once: srv, srv's answer, port 9. */
	ck_assert_int_eq(checks, 2);
	ck_assert_int_eq(d.called, 0);
	udp_free(a);
	ck_assert_int_eq(unit_open_fds(), fds + 1);	/* other */
	close(cfd);
	close(sfd);
	close(other);
}
END_TEST

/*
 * Datagrams that arrive together are read and sent in batches: every one
 * arrives, in order, and one that cannot be sent (a broadcast address,
 * refused without SO_BROADCAST) is dropped alone, not its neighbours.
 */
START_TEST(test_batch)
{
	union sockaddr_any cl, srv, from, bcast = unit_addr("255.255.255.255", 9);
	struct socks5_addr req = unit_saddr("0.0.0.0", 0), bnd, dst, bad;
	struct done_state d = { 0, UDP_END_IDLE };
	struct udp_stats st;
	struct udp_assoc *a;
	uint8_t buf[600], want[64];
	char p[16];
	int cfd = udp_bound("127.0.0.1", &cl);
	int sfd = udp_bound("127.0.0.1", &srv);
	int i, good = 0, fds = unit_open_fds();
	ssize_t n;
	size_t h;

	a = start(&cl, &req, &bnd, &d, 0);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&dst, &srv.sa), 0);
	ck_assert_int_eq(socks5_addr_from_sockaddr(&bad, &bcast.sa), 0);
	/* 40 datagrams queued before the relay reads any: 3 batches. */
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "up%02d", i);
		send_via(cfd, &bnd, 0, i % 7 == 3 ? &bad : &dst, p);
	}
	for (i = 0; i < 40; i++) {
		if (i % 7 == 3)
			continue;
		snprintf(p, sizeof(p), "up%02d", i);
		n = recv_within(sfd, buf, sizeof(buf), 5, &from);
		ck_assert_int_eq(n, 4);
		ck_assert(memcmp(buf, p, 4) == 0);
		good++;
	}
	udp_stats(a, &st);
	ck_assert_uint_eq(st.dgrams_up, (uint64_t)good);
	ck_assert_uint_eq(st.bytes_up, (uint64_t)good * 4);
	ck_assert_uint_eq(st.drops[UDP_DROP_SEND_UP], 40 - (uint64_t)good);
	/* 40 answers, all wrapped, in order. */
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "dn%02d", i);
		ck_assert_int_eq(sendto(sfd, p, 4, 0, &from.sa,
		    sockaddr_len(&from.sa)), 4);
	}
	h = socks5_encode_udp_header(want, sizeof(want), 0, &dst);
	for (i = 0; i < 40; i++) {
		union sockaddr_any f;

		snprintf(p, sizeof(p), "dn%02d", i);
		n = recv_within(cfd, buf, sizeof(buf), 5, &f);
		ck_assert_int_eq(n, (ssize_t)(h + 4));
		ck_assert(memcmp(buf, want, h) == 0);
		ck_assert(memcmp(buf + h, p, 4) == 0);
	}
	udp_stats(a, &st);
	ck_assert_uint_eq(st.dgrams_down, 40);
	ck_assert_uint_eq(st.bytes_down, 160);
	ck_assert_uint_eq(st.drops[UDP_DROP_SEND_DOWN], 0);
	udp_free(a);
	ck_assert_int_eq(unit_open_fds(), fds);
	close(cfd);
	close(sfd);
}
END_TEST

START_TEST(test_filtering)
{
	union sockaddr_any cl, srv, from, stranger_a, same_a;
	struct socks5_addr req = unit_saddr("0.0.0.0", 0), bnd, dst;
	struct done_state d = { 0, UDP_END_IDLE };
	struct udp_stats st;
	struct udp_assoc *a;
	uint8_t buf[600];
	int cfd = udp_bound("127.0.0.1", &cl);
	int sfd = udp_bound("127.0.0.1", &srv);
	int same = udp_bound("127.0.0.1", &same_a);
	int stranger = udp_bound("127.0.0.2", &stranger_a);
	int mode, fds = unit_open_fds();

	for (mode = 0; mode < 2; mode++) {
		cfg.udp.filtering = mode == 0 ? CONFIG_UDP_ADDRESS_DEPENDENT :
		    CONFIG_UDP_ENDPOINT_INDEPENDENT;
		a = start(&cl, &req, &bnd, &d, 0);
		ck_assert_int_eq(socks5_addr_from_sockaddr(&dst, &srv.sa), 0);
		send_via(cfd, &bnd, 0, &dst, "hi");
		ck_assert_int_eq(recv_within(sfd, buf, sizeof(buf), 5, &from), 2);
		/* `from` is the outbound socket: reach it from elsewhere. */
		ck_assert_int_eq(sendto(stranger, "x", 1, 0, &from.sa,
		    sockaddr_len(&from.sa)), 1);
		ck_assert_int_eq(sendto(same, "y", 1, 0, &from.sa,
		    sockaddr_len(&from.sa)), 1);
		ck_assert_int_eq(recv_within(cfd, buf, sizeof(buf), 5, &from),
		    10 + 1);
		if (mode == 1)
			ck_assert_int_eq(recv_within(cfd, buf, sizeof(buf), 5,
			    &from), 10 + 1);
		unit_loop_run(loop, 0.2);
		ck_assert_int_eq(recv(cfd, buf, sizeof(buf), MSG_DONTWAIT), -1);
		udp_stats(a, &st);
		ck_assert_uint_eq(st.drops[UDP_DROP_FILTERED], mode == 0 ? 1 : 0);
		ck_assert_uint_eq(st.dgrams_down, mode == 0 ? 1 : 2);
		udp_free(a);
		ck_assert_int_eq(unit_open_fds(), fds);
	}
	close(cfd);
	close(sfd);
	close(same);
	close(stranger);
}
END_TEST

START_TEST(test_names_no_resolver)
{
	union sockaddr_any cl, srv, from;
	struct socks5_addr req = unit_saddr("0.0.0.0", 0), bnd, dst;
	struct done_state d = { 0, UDP_END_IDLE };
	struct udp_stats st;
	struct udp_assoc *a;
	uint8_t buf[600];
	int cfd = udp_bound("127.0.0.1", &cl);
	int sfd = udp_bound("127.0.0.1", &srv);

	/* A name with no resolver: dropped as unresolved, and the port learnt. */
	cfg.udp.filtering = CONFIG_UDP_ENDPOINT_INDEPENDENT;
	a = start(&cl, &req, &bnd, &d, 0);
	dst = unit_sname("nowhere.test", 53);
	send_via(cfd, &bnd, 0, &dst, "q");
	unit_loop_run(loop, 0.2);
	udp_stats(a, &st);
	ck_assert_uint_eq(st.drops[UDP_DROP_RESOLVE], 1);
	/* The failure is cached: asked again, dropped again at once. */
	send_via(cfd, &bnd, 0, &dst, "q");
	unit_loop_run(loop, 0.2);
	udp_stats(a, &st);
	ck_assert_uint_eq(st.drops[UDP_DROP_RESOLVE], 2);
	ck_assert_uint_eq(st.dgrams_up, 0);
	(void)from;
	(void)buf;
	udp_free(a);
	close(cfd);
	close(sfd);
}
END_TEST

START_TEST(test_port_range_external)
{
	union sockaddr_any cl, srv, from;
	struct socks5_addr req = unit_saddr("0.0.0.0", 0), bnd, dst;
	struct done_state d = { 0, UDP_END_IDLE };
	struct udp_assoc *a[3];
	uint8_t buf[600];
	int cfd = udp_bound("127.0.0.1", &cl);
	int sfd = udp_bound("127.0.0.1", &srv);
	int i, fds = unit_open_fds();

	cfg.udp.port_lo = 47100;
	cfg.udp.port_hi = 47109;
	ck_assert_int_eq(sockaddr_parse_ip("127.0.0.3", 0, &cfg.udp.external), 0);
	cfg.udp.has_external = true;
	for (i = 0; i < 3; i++) {
		a[i] = start(&cl, &req, &bnd, &d, 0);
		ck_assert_uint_ge(bnd.port, 47100);
		ck_assert_uint_le(bnd.port, 47109);
		/* 127.0.0.3 is local (127/8): advertised and listened on. */
		ck_assert_int_eq(bnd.atyp, SOCKS5_ATYP_IPV4);
		ck_assert_int_eq(bnd.u.ipv4[3], 3);
	}
	ck_assert_int_eq(socks5_addr_from_sockaddr(&dst, &srv.sa), 0);
	send_via(cfd, &bnd, 0, &dst, "range");
	ck_assert_int_eq(recv_within(sfd, buf, sizeof(buf), 5, &from), 5);
	/* The outbound socket's port is from the range too. */
	ck_assert_uint_ge(sockaddr_port(&from.sa), 47100);
	ck_assert_uint_le(sockaddr_port(&from.sa), 47109);
	for (i = 0; i < 3; i++)
		udp_free(a[i]);
	ck_assert_int_eq(unit_open_fds(), fds);
	close(cfd);
	close(sfd);
}
END_TEST

START_TEST(test_idle)
{
	union sockaddr_any cl;
	struct socks5_addr req = unit_saddr("0.0.0.0", 0), bnd;
	struct done_state d = { 0, UDP_END_ERROR };
	struct udp_assoc *a;
	int cfd = udp_bound("127.0.0.1", &cl);
	int fds = unit_open_fds();

	cfg.udp.idle_timeout_s = 1;
	a = start(&cl, &req, &bnd, &d, 0);
	unit_loop_run(loop, 5);
	ck_assert_int_eq(d.called, 1);
	ck_assert_int_eq(d.how, UDP_END_IDLE);
	udp_free(a);
	ck_assert_int_eq(unit_open_fds(), fds);
	close(cfd);
}
END_TEST

START_TEST(test_strict_refused)
{
	union sockaddr_any cl = unit_addr("127.0.0.1", 40000), local;
	struct socks5_addr req = unit_sname("client.example", 1), bnd;
	struct udp_params p;
	uint8_t rep = 0;
	int fds = unit_open_fds();

	cfg.udp.strict_source = true;
	local = unit_addr("127.0.0.1", 1080);
	memset(&p, 0, sizeof(p));
	p.loop = loop;
	p.cfg = &cfg;
	p.client = &cl.sa;
	p.local = &local.sa;
	p.req = &req;
	p.done = done_cb;
	ck_assert_ptr_null(udp_start(&p, &bnd, &rep));
	ck_assert_int_eq(rep, SOCKS5_REP_ATYP_NOT_SUPPORTED);
	ck_assert_int_eq(unit_open_fds(), fds);
	udp_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------- config */

START_TEST(test_config_udp)
{
	struct config *c;
	char buf[SOCKADDR_STRLEN];

	c = unit_cfg_load("");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->udp.idle_timeout_s, 300);
	ck_assert_int_eq(c->udp.filtering, CONFIG_UDP_ADDRESS_DEPENDENT);
	ck_assert(!c->udp.strict_source);
	ck_assert(!c->udp.has_external);
	ck_assert_uint_eq(c->udp.port_lo, 0);
	ck_assert_uint_eq(c->udp.port_hi, 0);
	config_free(c);

	c = unit_cfg_load("udp = { idle_timeout_s = 0; filtering = "
	    "\"endpoint-independent\"; strict_source = true;\n"
	    "  external_address = \"2001:db8::5\"; port_range = \"40000-40999\"; };\n");
	ck_assert_msg(c != NULL, "%s", unit_cfg_msgs());
	ck_assert_int_eq(c->udp.idle_timeout_s, 0);
	ck_assert_int_eq(c->udp.filtering, CONFIG_UDP_ENDPOINT_INDEPENDENT);
	ck_assert(c->udp.strict_source);
	ck_assert(c->udp.has_external);
	ck_assert_str_eq(sockaddr_format_ip(&c->udp.external.sa, buf,
	    sizeof(buf)), "2001:db8::5");
	ck_assert_uint_eq(c->udp.port_lo, 40000);
	ck_assert_uint_eq(c->udp.port_hi, 40999);
	config_free(c);

	/* One port is a range of one; "" is none. */
	c = unit_cfg_load("udp = { port_range = \"5000\"; "
	    "external_address = \"\"; };\n");
	ck_assert_msg(c != NULL, "%s", unit_cfg_msgs());
	ck_assert_uint_eq(c->udp.port_lo, 5000);
	ck_assert_uint_eq(c->udp.port_hi, 5000);
	ck_assert(!c->udp.has_external);
	config_free(c);

	unit_cfg_refused("udp = { idle_timeout_s = -1; };\n",
	    "3: 'udp.idle_timeout_s' must be between 0 and 86400");
	unit_cfg_refused("udp = { filtering = \"full-cone\"; };\n",
	    "3: 'udp.filtering' must be \"address-dependent\" or "
	    "\"endpoint-independent\", not \"full-cone\"");
	unit_cfg_refused("udp = { strict_source = \"yes\"; };\n",
	    "3: 'udp.strict_source' must be true or false");
	unit_cfg_refused("udp = { external_address = \"192.0.2.1:53\"; };\n",
	    "3: 'udp.external_address' must be \"\" or an IPv4 or IPv6 "
	    "address, not \"192.0.2.1:53\"");
	unit_cfg_refused("udp = { port_range = \"0-10\"; };\n",
	    "3: 'udp.port_range' must be \"\", a port or a range such as "
	    "\"40000-40999\", not \"0-10\"");
	unit_cfg_refused("udp = { port_range = \"2000-1000\"; };\n",
	    "'udp.port_range' must be");
	unit_cfg_refused("udp = { portrange = \"1000\"; };\n",
	    "3: unknown key 'udp.portrange'");
	unit_cfg_refused("udp = 5;\n", "3: 'udp' must be a group");
}
END_TEST

static Suite *
udp_suite(void)
{
	Suite *s = suite_create("udp");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_drop_names);
	tcase_add_test(tc, test_config_udp);
	suite_add_tcase(s, tc);

	tc = tcase_create("loop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_batch);
	tcase_add_test(tc, test_filtering);
	tcase_add_test(tc, test_names_no_resolver);
	tcase_add_test(tc, test_port_range_external);
	tcase_add_test(tc, test_idle);
	tcase_add_test(tc, test_strict_refused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(udp_suite(), NULL);
}

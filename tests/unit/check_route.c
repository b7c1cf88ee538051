/* SPDX-License-Identifier: ISC */
/*
 * check_route.c - route.h: the source address the kernel picks for a
 * destination (and no route, no source), and the choice between a
 * name's answers by whether this host can reach them. Loopback only;
 * the IPv6 tests need an IPv6 loopback (without one they are not added
 * and the suite exits 77).
 */
#include "config_auto.h"

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "route.h"
#include "sockaddr.h"
#include "unit_util.h"

static const char *
name(const union sockaddr_any *a)
{
	static char buf[SOCKADDR_STRLEN];

	return sockaddr_format(&a->sa, buf, sizeof(buf));
}

START_TEST(test_source_v4)
{
	union sockaddr_any to = unit_addr("127.0.0.1", 0), src;
	int fds = unit_open_fds();

	ck_assert_int_eq(route_source(&to, &src), 0);
	ck_assert_str_eq(name(&src), "127.0.0.1:0");
	/* a port in the destination changes nothing; the source has none */
	to = unit_addr("127.0.0.2", 8080);
	ck_assert_int_eq(route_source(&to, &src), 0);
	ck_assert_int_eq(src.sa.sa_family, AF_INET);
	ck_assert_uint_eq(sockaddr_port(&src.sa), 0);
	ck_assert_int_eq(unit_open_fds(), fds);	/* the probe is closed */
}
END_TEST

START_TEST(test_no_route)
{
	union sockaddr_any to, src;
	int fds = unit_open_fds();

	/* a family no socket can have: an errno, and the source zeroed */
	memset(&to, 0, sizeof(to));
	to.sa.sa_family = AF_UNSPEC;
	memset(&src, 0xa5, sizeof(src));
	ck_assert_int_ne(route_source(&to, &src), 0);
	ck_assert_int_eq(src.sa.sa_family, 0);
	ck_assert_int_eq(unit_open_fds(), fds);
}
END_TEST

START_TEST(test_choose)
{
	union sockaddr_any v4 = unit_addr("127.0.0.1", 53), bad;
	const union sockaddr_any *c[3];

	memset(&bad, 0, sizeof(bad));
	bad.sa.sa_family = AF_UNSPEC;
	/* none at all */
	c[0] = c[1] = NULL;
	ck_assert_int_eq(route_choose(c, 2), -1);
	ck_assert_int_eq(route_choose(c, 0), -1);
	/* the preferred one when it is reachable */
	c[0] = &v4;
	c[1] = &v4;
	ck_assert_int_eq(route_choose(c, 2), 0);
	/* a missing answer is passed over */
	c[0] = NULL;
	ck_assert_int_eq(route_choose(c, 2), 1);
	/* one that cannot be reached gives way to one that can */
	c[0] = &bad;
	ck_assert_int_eq(route_choose(c, 2), 1);
	c[1] = NULL;
	c[2] = &v4;
	ck_assert_int_eq(route_choose(c, 3), 2);
	/* when none can be reached, the first there is */
	c[1] = &bad;
	ck_assert_int_eq(route_choose(c, 2), 0);
	c[0] = NULL;
	ck_assert_int_eq(route_choose(c, 2), 1);
}
END_TEST

/* The AAAA/A choice: `bad` stands for an answer with no route. */
START_TEST(test_prefer)
{
	union sockaddr_any v4 = unit_addr("127.0.0.1", 53), bad;

	memset(&bad, 0, sizeof(bad));
	bad.sa.sa_family = AF_UNSPEC;
	ck_assert_int_eq(route_prefer(AF_INET6, NULL, NULL), AF_UNSPEC);
	ck_assert_int_eq(route_prefer(AF_INET, NULL, NULL), AF_UNSPEC);
	/* only one family answered: that one, whatever the preference */
	ck_assert_int_eq(route_prefer(AF_INET6, NULL, &v4), AF_INET);
	ck_assert_int_eq(route_prefer(AF_INET, &bad, NULL), AF_INET6);
	/* the preferred family gives way to one with a route */
	ck_assert_int_eq(route_prefer(AF_INET6, &bad, &v4), AF_INET);
	ck_assert_int_eq(route_prefer(AF_INET, &bad, &v4), AF_INET);
	/* neither has a route: the preferred one */
	ck_assert_int_eq(route_prefer(AF_INET6, &bad, &bad), AF_INET6);
	ck_assert_int_eq(route_prefer(AF_INET, &bad, &bad), AF_INET);
}
END_TEST

START_TEST(test_source_v6)
{
	union sockaddr_any to = unit_addr("::1", 0), src;
	union sockaddr_any v6 = unit_addr("::1", 53), v4;
	const union sockaddr_any *c[2] = { NULL, &v6 };

	ck_assert_int_eq(route_source(&to, &src), 0);
	ck_assert_str_eq(name(&src), "[::1]:0");
	ck_assert_int_eq(route_choose(c, 2), 1);
	/* both families reachable: the preference decides */
	v4 = unit_addr("127.0.0.1", 53);
	ck_assert_int_eq(route_prefer(AF_INET6, &v6, &v4), AF_INET6);
	ck_assert_int_eq(route_prefer(AF_INET, &v6, &v4), AF_INET);
	/* an IPv4-mapped destination: the source comes back as IPv4 */
	to = unit_addr("::ffff:127.0.0.1", 0);
	ck_assert_int_eq(route_source(&to, &src), 0);
	ck_assert_int_eq(src.sa.sa_family, AF_INET);
	ck_assert_str_eq(name(&src), "127.0.0.1:0");
}
END_TEST

static Suite *
route_suite(bool ipv6)
{
	Suite *s = suite_create("route");
	TCase *tc = tcase_create("loopback");

	tcase_add_test(tc, test_source_v4);
	tcase_add_test(tc, test_no_route);
	tcase_add_test(tc, test_choose);
	tcase_add_test(tc, test_prefer);
	if (ipv6)
		tcase_add_test(tc, test_source_v6);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	bool ipv6 = unit_have_ipv6_loopback();

	return unit_run(route_suite(ipv6), ipv6 ? NULL :
	    "no IPv6 loopback: test_source_v6 not run");
}

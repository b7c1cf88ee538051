/* SPDX-License-Identifier: ISC */
/*
 * check_sockaddr.c - unit tests for src/sockaddr.c (suite "sockaddr").
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sockaddr.h"
#include "unit_util.h"

/* Parse `s` as host:port and format it back. */
static const char *
roundtrip(const char *s, char *buf, size_t cap)
{
	union sockaddr_any a;

	ck_assert_msg(sockaddr_parse_hostport(s, &a) == 0, "parse %s", s);
	return sockaddr_format(&a.sa, buf, cap);
}

static bool
is_loopback(const char *ip)
{
	union sockaddr_any a;

	ck_assert_msg(sockaddr_parse_ip(ip, 0, &a) == 0, "parse %s", ip);
	return sockaddr_is_loopback(&a.sa);
}

/* Does network `net` contain address `ip`? */
static bool
in_net(const char *net, const char *ip)
{
	struct cidr c;
	union sockaddr_any a;

	ck_assert_msg(cidr_parse(net, &c) == 0, "parse %s", net);
	ck_assert_msg(sockaddr_parse_ip(ip, 0, &a) == 0, "parse %s", ip);
	return cidr_match(&c, &a.sa);
}

START_TEST(test_hostport_good)
{
	union sockaddr_any a;
	char buf[SOCKADDR_STRLEN];

	ck_assert_int_eq(sockaddr_parse_hostport("127.0.0.1:1080", &a), 0);
	ck_assert_int_eq(a.sa.sa_family, AF_INET);
	ck_assert_uint_eq(sockaddr_port(&a.sa), 1080);
	ck_assert_uint_eq(ntohl(a.sin.sin_addr.s_addr), 0x7f000001);
	ck_assert_uint_eq(sockaddr_len(&a.sa), sizeof(struct sockaddr_in));

	ck_assert_int_eq(sockaddr_parse_hostport("[::1]:80", &a), 0);
	ck_assert_int_eq(a.sa.sa_family, AF_INET6);
	ck_assert_uint_eq(sockaddr_port(&a.sa), 80);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&a.sin6.sin6_addr));
	ck_assert_uint_eq(sockaddr_len(&a.sa), sizeof(struct sockaddr_in6));

	ck_assert_int_eq(sockaddr_parse_hostport("0.0.0.0:0", &a), 0);
	ck_assert_uint_eq(sockaddr_port(&a.sa), 0);
	ck_assert_int_eq(sockaddr_parse_hostport("[::]:65535", &a), 0);
	ck_assert_uint_eq(sockaddr_port(&a.sa), 65535);
	ck_assert_int_eq(sockaddr_parse_hostport("[fe80::1%2]:22", &a), 0);
	ck_assert_uint_eq(a.sin6.sin6_scope_id, 2);
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)),
	    "[fe80::1%2]:22");
}
END_TEST

START_TEST(test_hostport_bad)
{
	static const char *const bad[] = {
		"",
		"127.0.0.1",		/* missing port */
		"127.0.0.1:",		/* empty port */
		"127.0.0.1:65536",	/* port too large */
		"127.0.0.1:99999999999999999999",
		"127.0.0.1:-1",
		"127.0.0.1:+80",
		"127.0.0.1: 80",
		"127.0.0.1:80 ",	/* trailing junk */
		"127.0.0.1:80x",
		"127.0.0.1:0x50",
		"::1:80",		/* bare IPv6: ambiguous */
		"::1",
		"[::1",			/* unclosed */
		"[::1]",		/* no port */
		"[::1]:",
		"[::1]80",
		"[::1]:80]",
		"[::1]]:80",
		"[127.0.0.1]:80",	/* brackets are for IPv6 */
		"[]:80",
		":80",
		"localhost:80",		/* names are not addresses */
		"1.2.3:80",
		"1.2.3.256:80",
		" 1.2.3.4:80",
		"[fe80::1%eth0]:80",	/* zone names need an ioctl */
		"[fe80::1%]:80",
	};
	union sockaddr_any a;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sockaddr_parse_hostport(bad[i], &a) == -1,
		    "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(test_parse_ip)
{
	union sockaddr_any a;
	char buf[SOCKADDR_STRLEN];

	ck_assert_int_eq(sockaddr_parse_ip("1.2.3.4", 443, &a), 0);
	ck_assert_int_eq(a.sa.sa_family, AF_INET);
	ck_assert_uint_eq(sockaddr_port(&a.sa), 443);
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)),
	    "1.2.3.4:443");

	ck_assert_int_eq(sockaddr_parse_ip("::1", 53, &a), 0);
	ck_assert_int_eq(a.sa.sa_family, AF_INET6);
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)),
	    "[::1]:53");

	/* PuTTY sends "[::1]" as a DOMAINNAME. */
	ck_assert_int_eq(sockaddr_parse_ip("[::1]", 80, &a), 0);
	ck_assert_int_eq(a.sa.sa_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_LOOPBACK(&a.sin6.sin6_addr));
	ck_assert_uint_eq(sockaddr_port(&a.sa), 80);

	ck_assert_int_eq(sockaddr_parse_ip("::ffff:10.0.0.1", 0, &a), 0);
	ck_assert_int_eq(a.sa.sa_family, AF_INET6);

	ck_assert_int_eq(sockaddr_parse_ip("", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("[]", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("[::1", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("::1]", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("[1.2.3.4]", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("1.2.3.4:80", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("example.com", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("1.2.3.4 ", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip("01.2.3.4", 0, &a), -1);
	ck_assert_int_eq(sockaddr_parse_ip(":::", 0, &a), -1);
}
END_TEST

START_TEST(test_format)
{
	union sockaddr_any a;
	char buf[SOCKADDR_STRLEN], small[8];

	ck_assert_str_eq(roundtrip("127.0.0.1:1080", buf, sizeof(buf)),
	    "127.0.0.1:1080");
	ck_assert_str_eq(roundtrip("[::1]:1080", buf, sizeof(buf)),
	    "[::1]:1080");
	ck_assert_str_eq(roundtrip("[2001:DB8:0:0::1]:443", buf, sizeof(buf)),
	    "[2001:db8::1]:443");
	ck_assert_str_eq(roundtrip("[::ffff:1.2.3.4]:9", buf, sizeof(buf)),
	    "[::ffff:1.2.3.4]:9");
	ck_assert_str_eq(roundtrip("0.0.0.0:0", buf, sizeof(buf)),
	    "0.0.0.0:0");

	ck_assert_int_eq(sockaddr_parse_hostport("[::1]:1080", &a), 0);
	ck_assert_str_eq(sockaddr_format_ip(&a.sa, buf, sizeof(buf)), "::1");
	ck_assert_int_eq(sockaddr_parse_hostport("10.1.2.3:1", &a), 0);
	ck_assert_str_eq(sockaddr_format_ip(&a.sa, buf, sizeof(buf)),
	    "10.1.2.3");

	/* Truncated, but terminated. */
	ck_assert_int_eq(sockaddr_parse_hostport("255.255.255.255:65535",
	    &a), 0);
	sockaddr_format(&a.sa, small, sizeof(small));
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);

	/* The longest address fits in SOCKADDR_STRLEN. */
	ck_assert_int_eq(sockaddr_parse_hostport(
	    "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255%4294967295]:65535",
	    &a), 0);
	sockaddr_format(&a.sa, buf, sizeof(buf));
	ck_assert_str_eq(buf,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535");

	memset(&a, 0, sizeof(a));
	a.sa.sa_family = AF_UNIX;
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)), "?");
	ck_assert_uint_eq(sockaddr_len(&a.sa), 0);
	ck_assert_uint_eq(sockaddr_port(&a.sa), 0);
}
END_TEST

START_TEST(test_port_and_equal)
{
	union sockaddr_any a, b;

	ck_assert_int_eq(sockaddr_parse_hostport("10.0.0.1:80", &a), 0);
	ck_assert_int_eq(sockaddr_parse_hostport("10.0.0.1:81", &b), 0);
	ck_assert(!sockaddr_equal(&a.sa, &b.sa));
	ck_assert(sockaddr_equal_ip(&a.sa, &b.sa));
	sockaddr_set_port(&b.sa, 80);
	ck_assert_uint_eq(sockaddr_port(&b.sa), 80);
	ck_assert(sockaddr_equal(&a.sa, &b.sa));

	ck_assert_int_eq(sockaddr_parse_hostport("[::1]:80", &a), 0);
	ck_assert_int_eq(sockaddr_parse_hostport("[::2]:80", &b), 0);
	ck_assert(!sockaddr_equal_ip(&a.sa, &b.sa));
	ck_assert_int_eq(sockaddr_parse_hostport("[::1]:80", &b), 0);
	ck_assert(sockaddr_equal(&a.sa, &b.sa));

	/* Same bits, different family: not equal. */
	ck_assert_int_eq(sockaddr_parse_hostport("127.0.0.1:80", &a), 0);
	ck_assert_int_eq(sockaddr_parse_hostport("[::ffff:127.0.0.1]:80", &b),
	    0);
	ck_assert(!sockaddr_equal_ip(&a.sa, &b.sa));

	/* Different zones are different hosts. */
	ck_assert_int_eq(sockaddr_parse_hostport("[fe80::1%1]:80", &a), 0);
	ck_assert_int_eq(sockaddr_parse_hostport("[fe80::1%2]:80", &b), 0);
	ck_assert(!sockaddr_equal_ip(&a.sa, &b.sa));
}
END_TEST

START_TEST(test_loopback)
{
	ck_assert(is_loopback("127.0.0.1"));
	ck_assert(is_loopback("127.1.2.3"));
	ck_assert(is_loopback("127.255.255.255"));
	ck_assert(is_loopback("::1"));
	ck_assert(is_loopback("::ffff:127.0.0.1"));
	ck_assert(is_loopback("::ffff:127.9.9.9"));

	ck_assert(!is_loopback("0.0.0.0"));	/* wildcard: every interface */
	ck_assert(!is_loopback("::"));
	ck_assert(!is_loopback("128.0.0.1"));
	ck_assert(!is_loopback("126.255.255.255"));
	ck_assert(!is_loopback("10.0.0.1"));
	ck_assert(!is_loopback("::2"));
	ck_assert(!is_loopback("::ffff:10.0.0.1"));
	ck_assert(!is_loopback("::127.0.0.1"));	/* v4-compatible, not mapped */
	ck_assert(!is_loopback("fe80::1"));
}
END_TEST

START_TEST(test_cidr_parse)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
		"10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/8 ", "10.0.0.0/x",
		"10.0.0/8", "junk", "10.0.0.0//8", "[::1]/128", "::1%1/128",
		"2001:db8::/1000",
	};
	struct cidr c;
	size_t i;

	ck_assert_int_eq(cidr_parse("10.0.0.0/8", &c), 0);
	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_uint_eq(c.prefix, 8);
	ck_assert_uint_eq(c.addr[0], 10);

	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c), 0);
	ck_assert_uint_eq(c.prefix, 0);
	ck_assert_int_eq(cidr_parse("192.0.2.1/32", &c), 0);
	ck_assert_uint_eq(c.prefix, 32);
	ck_assert_uint_eq(c.addr[3], 1);

	/* A bare address is a host route. */
	ck_assert_int_eq(cidr_parse("192.0.2.7", &c), 0);
	ck_assert_int_eq(c.family, AF_INET);
	ck_assert_uint_eq(c.prefix, 32);
	ck_assert_int_eq(cidr_parse("2001:db8::1", &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_uint_eq(c.prefix, 128);

	ck_assert_int_eq(cidr_parse("2001:db8::/32", &c), 0);
	ck_assert_int_eq(c.family, AF_INET6);
	ck_assert_uint_eq(c.prefix, 32);
	ck_assert_int_eq(cidr_parse("::/0", &c), 0);
	ck_assert_uint_eq(c.prefix, 0);
	ck_assert_int_eq(cidr_parse("::1/128", &c), 0);
	ck_assert_uint_eq(c.prefix, 128);
	ck_assert_uint_eq(c.addr[15], 1);

	/* Host bits are cleared. */
	ck_assert_int_eq(cidr_parse("192.168.1.77/20", &c), 0);
	ck_assert_uint_eq(c.addr[2], 0);
	ck_assert_uint_eq(c.addr[3], 0);
	ck_assert_int_eq(cidr_parse("192.168.31.77/20", &c), 0);
	ck_assert_uint_eq(c.addr[2], 16);
	ck_assert_int_eq(cidr_parse("2001:db8:ffff::1/33", &c), 0);
	ck_assert_uint_eq(c.addr[4], 0x80);
	ck_assert_uint_eq(c.addr[5], 0);
	ck_assert_uint_eq(c.addr[15], 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(cidr_parse(bad[i], &c) == -1, "\"%s\" accepted",
		    bad[i]);
}
END_TEST

START_TEST(test_cidr_match)
{
	/* Edges of an IPv4 network. */
	ck_assert(in_net("10.1.0.0/16", "10.1.0.0"));
	ck_assert(in_net("10.1.0.0/16", "10.1.255.255"));
	ck_assert(!in_net("10.1.0.0/16", "10.0.255.255"));
	ck_assert(!in_net("10.1.0.0/16", "10.2.0.0"));
	/* A prefix that ends inside a byte. */
	ck_assert(in_net("192.168.16.0/20", "192.168.31.255"));
	ck_assert(!in_net("192.168.16.0/20", "192.168.32.0"));
	ck_assert(!in_net("192.168.16.0/20", "192.168.15.255"));
	/* /32 and bare addresses. */
	ck_assert(in_net("192.0.2.1/32", "192.0.2.1"));
	ck_assert(!in_net("192.0.2.1/32", "192.0.2.0"));
	ck_assert(!in_net("192.0.2.1", "192.0.2.2"));
	/* /0 is the whole family, and only that family. */
	ck_assert(in_net("0.0.0.0/0", "255.255.255.255"));
	ck_assert(in_net("0.0.0.0/0", "0.0.0.0"));
	ck_assert(!in_net("0.0.0.0/0", "::1"));
	ck_assert(in_net("::/0", "2001:db8::1"));
	ck_assert(in_net("::/0", "::"));
	ck_assert(!in_net("::/0", "1.2.3.4"));

	/* IPv6 edges. */
	ck_assert(in_net("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!in_net("2001:db8::/32", "2001:db9::"));
	ck_assert(!in_net("2001:db8::/32", "2001:db7:ffff::"));
	ck_assert(in_net("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!in_net("2001:db8::/33", "2001:db8:8000::"));
	ck_assert(in_net("::1/128", "::1"));
	ck_assert(!in_net("::1/128", "::2"));

	/* A dual-stack socket's IPv4 clients meet IPv4 rules. */
	ck_assert(in_net("127.0.0.0/8", "::ffff:127.0.0.1"));
	ck_assert(in_net("10.0.0.0/8", "::ffff:10.200.0.1"));
	ck_assert(!in_net("10.0.0.0/8", "::ffff:11.0.0.1"));
	ck_assert(in_net("0.0.0.0/0", "::ffff:8.8.8.8"));
	/* ...but only mapped ones: ::a00:1 is not 10.0.0.1. */
	ck_assert(!in_net("10.0.0.0/8", "::10.0.0.1"));
	ck_assert(!in_net("10.0.0.0/8", "2001:db8::a00:1"));
	/* The mapped form also matches a network written in it. */
	ck_assert(in_net("::ffff:10.0.0.0/104", "::ffff:10.1.1.1"));
	ck_assert(!in_net("::ffff:10.0.0.0/104", "10.1.1.1"));
}
END_TEST

START_TEST(test_unmap_unspecified)
{
	union sockaddr_any a;
	char buf[SOCKADDR_STRLEN];

	ck_assert_int_eq(sockaddr_parse_ip("::ffff:192.0.2.7", 4242, &a), 0);
	sockaddr_unmap(&a);
	ck_assert_int_eq(a.sa.sa_family, AF_INET);
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)), "192.0.2.7:4242");
	/* Others stay as they are. */
	ck_assert_int_eq(sockaddr_parse_ip("2001:db8::1", 1, &a), 0);
	sockaddr_unmap(&a);
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)), "[2001:db8::1]:1");
	ck_assert_int_eq(sockaddr_parse_ip("10.0.0.1", 1, &a), 0);
	sockaddr_unmap(&a);
	ck_assert_str_eq(sockaddr_format(&a.sa, buf, sizeof(buf)), "10.0.0.1:1");

	ck_assert_int_eq(sockaddr_parse_ip("0.0.0.0", 0, &a), 0);
	ck_assert(sockaddr_is_unspecified(&a));
	ck_assert_int_eq(sockaddr_parse_ip("::", 0, &a), 0);
	ck_assert(sockaddr_is_unspecified(&a));
	ck_assert_int_eq(sockaddr_parse_ip("0.0.0.1", 0, &a), 0);
	ck_assert(!sockaddr_is_unspecified(&a));
	ck_assert_int_eq(sockaddr_parse_ip("::1", 0, &a), 0);
	ck_assert(!sockaddr_is_unspecified(&a));
}
END_TEST

/* sockaddr_reach() of `ip` port 80 (pref64 as text or NULL): the verdict and the result. */
static enum sockaddr_reach
reach(const char *ip, const char *pref, unsigned plen, char *out, size_t cap)
{
	union sockaddr_any a, r;
	struct in6_addr p;
	enum sockaddr_reach v;

	ck_assert_msg(sockaddr_parse_ip(ip, 80, &a) == 0, "bad ip %s", ip);
	if (pref != NULL)
		ck_assert_int_eq(inet_pton(AF_INET6, pref, &p), 1);
	v = sockaddr_reach(&a.sa, pref != NULL ? &p : NULL, plen, &r);
	if (v == SOCKADDR_REACH_NONE)
		snprintf(out, cap, "-");
	else
		sockaddr_format(&r.sa, out, cap);
	return v;
}

START_TEST(test_reach)
{
	static const struct {
		const char *ip, *pref;
		unsigned plen;
		enum sockaddr_reach v;
		const char *out;
	} t[] = {
		/* Ordinary addresses are themselves. */
		{ "192.0.2.1", NULL, 0, SOCKADDR_REACH_ADDR, "192.0.2.1:80" },
		{ "127.0.0.1", NULL, 0, SOCKADDR_REACH_ADDR, "127.0.0.1:80" },
		{ "2001:db8::1", NULL, 0, SOCKADDR_REACH_ADDR, "[2001:db8::1]:80" },
		{ "::1", NULL, 0, SOCKADDR_REACH_ADDR, "[::1]:80" },
		{ "fe80::1%2", NULL, 0, SOCKADDR_REACH_ADDR, "[fe80::1%2]:80" },
		/* Unspecified: all of 0.0.0.0/8, and ::. */
		{ "0.0.0.0", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.0.0.0:80" },
		{ "0.1.2.3", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.1.2.3:80" },
		{ "0.255.255.255", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.255.255.255:80" },
		{ "1.0.0.0", NULL, 0, SOCKADDR_REACH_ADDR, "1.0.0.0:80" },
		{ "::", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "[::]:80" },
		/* IPv4-mapped. */
		{ "::ffff:127.0.0.1", NULL, 0, SOCKADDR_REACH_ADDR, "127.0.0.1:80" },
		{ "::ffff:192.0.2.9", NULL, 0, SOCKADDR_REACH_ADDR, "192.0.2.9:80" },
		{ "::ffff:0.0.0.0", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.0.0.0:80" },
		{ "::ffff:0.9.9.9", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.9.9.9:80" },
		/* IPv4-compatible, but not :: nor ::1. */
		{ "::127.0.0.1", NULL, 0, SOCKADDR_REACH_ADDR, "127.0.0.1:80" },
		{ "::169.254.169.254", NULL, 0, SOCKADDR_REACH_ADDR, "169.254.169.254:80" },
		{ "::0.0.0.2", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.0.0.2:80" },
		{ "::1:0:0", NULL, 0, SOCKADDR_REACH_ADDR, "[::1:0:0]:80" },
		/* NAT64, the well-known prefix. */
		{ "64:ff9b::7f00:1", NULL, 0, SOCKADDR_REACH_ADDR, "127.0.0.1:80" },
		{ "64:ff9b::192.0.2.33", NULL, 0, SOCKADDR_REACH_ADDR, "192.0.2.33:80" },
		{ "64:ff9b::", NULL, 0, SOCKADDR_REACH_UNSPECIFIED, "0.0.0.0:80" },
		{ "64:ff9b:1::7f00:1", NULL, 0, SOCKADDR_REACH_ADDR, "[64:ff9b:1::7f00:1]:80" },
		{ "64:ff9a::7f00:1", NULL, 0, SOCKADDR_REACH_ADDR, "[64:ff9a::7f00:1]:80" },
		/* A discovered prefix, /96 and /64 (the u octet skipped). */
		{ "2001:db8:64::7f00:1", "2001:db8:64::", 96, SOCKADDR_REACH_ADDR, "127.0.0.1:80" },
		{ "2001:db8:64::7f00:1", NULL, 0, SOCKADDR_REACH_ADDR, "[2001:db8:64::7f00:1]:80" },
		{ "2001:db8:65::7f00:1", "2001:db8:64::", 96, SOCKADDR_REACH_ADDR, "[2001:db8:65::7f00:1]:80" },
		{ "2001:db8:1:2:7f:0:100::", "2001:db8:1:2::", 64, SOCKADDR_REACH_ADDR, "127.0.0.1:80" },
		{ "2001:db8:1:2::", "2001:db8:1:2::", 64, SOCKADDR_REACH_UNSPECIFIED, "0.0.0.0:80" },
		{ "2001:db8:1c0:2:1::", "2001:db8:100::", 40, SOCKADDR_REACH_ADDR, "192.0.2.1:80" },
		/* A prefix length RFC 6052 does not have: ignored. */
		{ "2001:db8:64::7f00:1", "2001:db8:64::", 80, SOCKADDR_REACH_ADDR, "[2001:db8:64::7f00:1]:80" },
	};
	char out[SOCKADDR_STRLEN];
	struct sockaddr_un { sa_family_t f; char p[20]; } un = { AF_UNIX, "x" };
	union sockaddr_any r;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum sockaddr_reach v = reach(t[i].ip, t[i].pref, t[i].plen,
		    out, sizeof(out));

		ck_assert_msg(v == t[i].v, "%s: verdict %d, want %d", t[i].ip,
		    (int)v, (int)t[i].v);
		ck_assert_msg(strcmp(out, t[i].out) == 0, "%s: %s, want %s",
		    t[i].ip, out, t[i].out);
	}
	ck_assert_int_eq(sockaddr_reach((struct sockaddr *)&un, NULL, 0, &r),
	    SOCKADDR_REACH_NONE);
	ck_assert_int_eq(r.sa.sa_family, 0);
}
END_TEST

static Suite *
sockaddr_suite(void)
{
	Suite *s = suite_create("sockaddr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hostport_good);
	tcase_add_test(tc, test_hostport_bad);
	tcase_add_test(tc, test_parse_ip);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_port_and_equal);
	tcase_add_test(tc, test_loopback);
	tcase_add_test(tc, test_cidr_parse);
	tcase_add_test(tc, test_cidr_match);
	tcase_add_test(tc, test_unmap_unspecified);
	tcase_add_test(tc, test_reach);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(sockaddr_suite(), NULL);
}

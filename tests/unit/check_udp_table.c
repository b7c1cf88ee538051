/* SPDX-License-Identifier: ISC */
/*
 * check_udp_table.c - the UDP ASSOCIATE relay's pure tables
 * (udp_table.h): who is the client and when its port is learnt, the
 * bounded address map, the filtering decision, the name cache and its
 * TTLs. (Moved from check_udp.c with the code they test.)
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "socks5.h"
#include "udp_table.h"
#include "unit_util.h"

START_TEST(test_source_learn_first)
{
	struct udp_source src;
	union sockaddr_any peer = unit_addr("127.0.0.1", 40000);
	union sockaddr_any a = unit_addr("127.0.0.1", 5000);
	union sockaddr_any b = unit_addr("127.0.0.1", 5001);
	union sockaddr_any other = unit_addr("127.0.0.2", 5000);
	struct socks5_addr req = unit_saddr("0.0.0.0", 0);

	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 0);
	/* Before the port is known: any port of the client's IP. */
	ck_assert(udp_source_match(&src, &a.sa));
	ck_assert(udp_source_match(&src, &b.sa));
	ck_assert(!udp_source_match(&src, &other.sa));
	ck_assert(!udp_source_learn(&src, &other.sa));
	ck_assert(udp_source_learn(&src, &a.sa));
	ck_assert_uint_eq(src.port, 5000);
	/* Learnt once: the first valid datagram decides. */
	ck_assert(!udp_source_learn(&src, &b.sa));
	ck_assert(udp_source_match(&src, &a.sa));
	ck_assert(!udp_source_match(&src, &b.sa));
	ck_assert(!udp_source_match(&src, &other.sa));
}
END_TEST

START_TEST(test_source_request_port)
{
	struct udp_source src;
	union sockaddr_any peer = unit_addr("127.0.0.1", 40000);
	union sockaddr_any a = unit_addr("127.0.0.1", 6000);
	union sockaddr_any b = unit_addr("127.0.0.1", 6001);
	struct socks5_addr req;

	/* 0.0.0.0:6000 (PySocks): the port is believed. */
	req = unit_saddr("0.0.0.0", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 6000);
	ck_assert(udp_source_match(&src, &a.sa));
	ck_assert(!udp_source_match(&src, &b.sa));
	/* The client's own address with a port: believed. */
	req = unit_saddr("127.0.0.1", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 6000);
	/* As an IP literal in a name, too. */
	req = unit_sname("127.0.0.1", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 6000);
	/* The destination by mistake (gost, glider, hysteria): learnt. */
	req = unit_saddr("192.0.2.7", 53);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 0);
	ck_assert(udp_source_match(&src, &a.sa));
	/* A pre-NAT address, a name, an IPv6 address: the same. */
	req = unit_saddr("10.1.2.3", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 0);
	req = unit_sname("client.example", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 0);
	req = unit_saddr("::", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert_uint_eq(src.port, 6000);
	/* The IP is the TCP client's whatever the request said. */
	req = unit_saddr("127.0.0.2", 6000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert(sockaddr_equal_ip(&src.ip.sa, &peer.sa));
}
END_TEST

START_TEST(test_source_strict)
{
	struct udp_source src;
	union sockaddr_any peer = unit_addr("127.0.0.1", 40000);
	union sockaddr_any two = unit_addr("127.0.0.2", 7000);
	union sockaddr_any one = unit_addr("127.0.0.1", 7000);
	struct socks5_addr req;

	/* The RFC's letter: DST.ADDR and DST.PORT are the client's. */
	req = unit_saddr("127.0.0.2", 7000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, true, AF_INET), 0);
	ck_assert(udp_source_match(&src, &two.sa));
	ck_assert(!udp_source_match(&src, &one.sa));
	/* Zero: the TCP client's IP, the port learnt. */
	req = unit_saddr("0.0.0.0", 0);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, true, AF_INET), 0);
	ck_assert(udp_source_match(&src, &one.sa));
	ck_assert(!udp_source_match(&src, &two.sa));
	ck_assert_uint_eq(src.port, 0);
	/* Names and the other family cannot be sent from. */
	req = unit_sname("client.example", 7000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, true, AF_INET),
	    SOCKS5_REP_ATYP_NOT_SUPPORTED);
	req = unit_saddr("2001:db8::1", 7000);
	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, true, AF_INET),
	    SOCKS5_REP_ATYP_NOT_SUPPORTED);
}
END_TEST

START_TEST(test_source_mapped)
{
	struct udp_source src;
	union sockaddr_any peer = unit_addr("::ffff:127.0.0.1", 40000);
	union sockaddr_any a = unit_addr("127.0.0.1", 5000);
	union sockaddr_any m = unit_addr("::ffff:127.0.0.1", 5000);
	struct socks5_addr req = unit_saddr("0.0.0.0", 0);

	ck_assert_int_eq(udp_source_init(&src, &peer.sa, &req, false, AF_INET), 0);
	ck_assert(udp_source_match(&src, &a.sa));
	ck_assert(udp_source_learn(&src, &m.sa));
	ck_assert(udp_source_match(&src, &a.sa));
}
END_TEST

START_TEST(test_map)
{
	static struct udp_map m;
	union sockaddr_any a = unit_addr("192.0.2.1", 53);
	union sockaddr_any a2 = unit_addr("192.0.2.1", 54);
	union sockaddr_any b = unit_addr("2001:db8::1", 53);
	union sockaddr_any bm = unit_addr("::ffff:192.0.2.1", 99);
	uint8_t v = 0;
	unsigned i, present = 0;

	udp_map_init(&m);
	ck_assert(!udp_map_get(&m, &a.sa, true, &v));
	udp_map_put(&m, &a.sa, true, 1);
	ck_assert(udp_map_get(&m, &a.sa, true, &v));
	ck_assert_uint_eq(v, 1);
	ck_assert(!udp_map_get(&m, &a2.sa, true, &v));
	ck_assert(!udp_map_get(&m, &a.sa, false, &v));
	udp_map_put(&m, &a.sa, true, 2);	/* replaces */
	ck_assert(udp_map_get(&m, &a.sa, true, &v));
	ck_assert_uint_eq(v, 2);
	/* Without ports: any port matches; a mapped address is IPv4. */
	udp_map_put(&m, &a.sa, false, 7);
	ck_assert(udp_map_get(&m, &a2.sa, false, &v));
	ck_assert_uint_eq(v, 7);
	ck_assert(udp_map_get(&m, &bm.sa, false, &v));
	ck_assert(!udp_map_get(&m, &b.sa, false, &v));

	/*
	 * Bounded: after many more addresses than it holds, the map holds
	 * at most its size, and the one just put is always there.
	 */
	for (i = 0; i < 5000; i++) {
		union sockaddr_any x = unit_addr("10.0.0.0", (uint16_t)(i + 1));

		x.sin.sin_addr.s_addr = htonl(0x0a000000u + i);
		udp_map_put(&m, &x.sa, false, 1);
		ck_assert(udp_map_get(&m, &x.sa, false, &v));
	}
	for (i = 0; i < 5000; i++) {
		union sockaddr_any x = unit_addr("10.0.0.0", 0);

		x.sin.sin_addr.s_addr = htonl(0x0a000000u + i);
		if (udp_map_get(&m, &x.sa, false, &v))
			present++;
	}
	ck_assert_uint_le(present, UDP_MAP_SETS * UDP_MAP_WAYS);
	ck_assert_uint_ge(present, UDP_MAP_SETS * UDP_MAP_WAYS / 2);
}
END_TEST

START_TEST(test_map_lru)
{
	static struct udp_map m;
	union sockaddr_any keep = unit_addr("198.51.100.1", 0);
	uint8_t v;
	unsigned i;

	/* An entry in constant use survives a stream of new ones. */
	udp_map_init(&m);
	udp_map_put(&m, &keep.sa, false, 1);
	for (i = 0; i < 20000; i++) {
		union sockaddr_any x = unit_addr("10.0.0.0", 0);

		x.sin.sin_addr.s_addr = htonl(0x0a000000u + i);
		udp_map_put(&m, &x.sa, false, 1);
		ck_assert(udp_map_get(&m, &keep.sa, false, &v));
	}
}
END_TEST

START_TEST(test_filter)
{
	static struct udp_map sent;
	union sockaddr_any dst = unit_addr("192.0.2.9", 53);
	union sockaddr_any same_ip = unit_addr("192.0.2.9", 5353);
	union sockaddr_any other = unit_addr("192.0.2.10", 53);

	udp_map_init(&sent);
	ck_assert(udp_filter_allows(CONFIG_UDP_ENDPOINT_INDEPENDENT, &sent,
	    &other.sa));
	ck_assert(!udp_filter_allows(CONFIG_UDP_ADDRESS_DEPENDENT, &sent,
	    &dst.sa));
	udp_map_put(&sent, &dst.sa, false, 1);
	ck_assert(udp_filter_allows(CONFIG_UDP_ADDRESS_DEPENDENT, &sent,
	    &dst.sa));
	/* Address-dependent: the port does not matter (RFC 4787 5). */
	ck_assert(udp_filter_allows(CONFIG_UDP_ADDRESS_DEPENDENT, &sent,
	    &same_ip.sa));
	ck_assert(!udp_filter_allows(CONFIG_UDP_ADDRESS_DEPENDENT, &sent,
	    &other.sa));
}
END_TEST

START_TEST(test_names)
{
	static struct udp_names t;
	union sockaddr_any a = unit_addr("192.0.2.5", 0);
	struct udp_name *e;

	memset(&t, 0, sizeof(t));
	ck_assert_ptr_null(udp_names_find(&t, "dns.test", 1000));
	e = udp_names_add(&t, "dns.test", 1000);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->state, UDP_NAME_PENDING);
	/* Pending: found, whatever the time. */
	ck_assert_ptr_eq(udp_names_find(&t, "DNS.Test", 999999), e);
	udp_names_set(e, &a.sa, 10, 2000);
	ck_assert_int_eq(e->state, UDP_NAME_OK);
	ck_assert(sockaddr_equal_ip(&e->addr.sa, &a.sa));
	ck_assert_uint_eq(sockaddr_port(&e->addr.sa), 0);
	ck_assert_ptr_eq(udp_names_find(&t, "dns.test", 11999), e);
	/* The TTL honoured: expired, freed. */
	ck_assert_ptr_null(udp_names_find(&t, "dns.test", 12000));
	ck_assert_int_eq(e->state, UDP_NAME_FREE);

	/* No TTL: the default; a huge one: capped; a failure: short. */
	e = udp_names_add(&t, "hosts.test", 0);
	udp_names_set(e, &a.sa, 0, 0);
	ck_assert_uint_eq(e->expires_ms, UDP_NAME_TTL_UNKNOWN_S * 1000);
	e = udp_names_add(&t, "long.test", 0);
	udp_names_set(e, &a.sa, 86400 * 7, 0);
	ck_assert_uint_eq(e->expires_ms, UDP_NAME_TTL_MAX_S * 1000ull);
	e = udp_names_add(&t, "nx.test", 0);
	udp_names_set(e, NULL, 300, 0);
	ck_assert_int_eq(e->state, UDP_NAME_FAILED);
	ck_assert_uint_eq(e->expires_ms, UDP_NAME_TTL_FAILED_S * 1000);
	ck_assert_ptr_eq(udp_names_find(&t, "nx.test", 10), e);
}
END_TEST

START_TEST(test_names_full)
{
	static struct udp_names t;
	union sockaddr_any a = unit_addr("192.0.2.5", 0);
	struct udp_name *e, *victim = NULL;
	char name[32];
	int i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < UDP_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		e = udp_names_add(&t, name, 100);
		ck_assert_ptr_nonnull(e);
	}
	/* Every entry resolving: no room, nothing is evicted. */
	ck_assert_ptr_null(udp_names_add(&t, "more.test", 200));
	for (i = 0; i < UDP_NAMES_MAX; i++) {
		t.e[i].used_ms = 1000 + (uint64_t)i;
		udp_names_set(&t.e[i], &a.sa, 60, 1000);
	}
	/* n3 is used least recently. */
	t.e[3].used_ms = 10;
	victim = &t.e[3];
	e = udp_names_add(&t, "more.test", 2000);
	ck_assert_ptr_eq(e, victim);
	ck_assert_ptr_null(udp_names_find(&t, "n3.test", 2000));
	ck_assert_ptr_nonnull(udp_names_find(&t, "n4.test", 2000));
	ck_assert_ptr_nonnull(udp_names_find(&t, "more.test", 2000));
}
END_TEST

static Suite *
udp_table_suite(void)
{
	Suite *s = suite_create("udp_table");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_source_learn_first);
	tcase_add_test(tc, test_source_request_port);
	tcase_add_test(tc, test_source_strict);
	tcase_add_test(tc, test_source_mapped);
	tcase_add_test(tc, test_map);
	tcase_add_test(tc, test_map_lru);
	tcase_add_test(tc, test_filter);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_names_full);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(udp_table_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_dnscache.c - the resolver's cache: keys, TTLs (capped, 0 not
 * kept, "none" kept briefly), expiry, replacement, and the bound.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "dnscache.h"
#include "unit_util.h"

static const uint64_t key[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };

static struct dnscache_answer
answer(const char *ip4, size_t n)
{
	struct dnscache_answer a;
	size_t i;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < n; i++) {
		a.addrs[i].sin.sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, ip4,
		    &a.addrs[i].sin.sin_addr), 1);
		a.addrs[i].sin.sin_addr.s_addr =
		    htonl(ntohl(a.addrs[i].sin.sin_addr.s_addr) + (uint32_t)i);
	}
	a.n = n;
	return a;
}

START_TEST(test_positive)
{
	struct dnscache *c = dnscache_new(16, key);
	struct dnscache_answer a = answer("192.0.2.1", 3), got;

	ck_assert_ptr_nonnull(c);
	ck_assert(!dnscache_get(c, "a.test", AF_INET, 100., &got));
	dnscache_put(c, "A.Test.", AF_INET, &a, 60, 100.);
	ck_assert_uint_eq(dnscache_count(c), 1);
	ck_assert(dnscache_get(c, "a.test", AF_INET, 100.5, &got));
	ck_assert_uint_eq(got.n, 3);
	ck_assert_mem_eq(got.addrs, a.addrs, 3 * sizeof(a.addrs[0]));
	ck_assert_uint_eq(got.ttl, 59);
	ck_assert(dnscache_get(c, "a.test.", AF_INET, 159.9, &got));
	ck_assert_uint_eq(got.ttl, 0);
	/* expired at its TTL */
	ck_assert(!dnscache_get(c, "a.test", AF_INET, 160., &got));
	/* the family is part of the key */
	ck_assert(!dnscache_get(c, "a.test", AF_INET6, 100., &got));
	/* a longer name is another name */
	ck_assert(!dnscache_get(c, "a.test.x", AF_INET, 100., &got));
	dnscache_free(c);
}
END_TEST

START_TEST(test_ttls)
{
	struct dnscache *c = dnscache_new(16, key);
	struct dnscache_answer a = answer("192.0.2.1", 1), none, got;

	memset(&none, 0, sizeof(none));
	/* 0: not kept */
	dnscache_put(c, "zero.test", AF_INET, &a, 0, 0.);
	ck_assert(!dnscache_get(c, "zero.test", AF_INET, 0., &got));
	/* capped */
	dnscache_put(c, "long.test", AF_INET, &a, 86400, 0.);
	ck_assert(dnscache_get(c, "long.test", AF_INET, 0., &got));
	ck_assert_uint_eq(got.ttl, DNSCACHE_MAX_TTL);
	ck_assert(!dnscache_get(c, "long.test", AF_INET, DNSCACHE_MAX_TTL,
	    &got));
	/* "none": kept DNSCACHE_NEG_TTL, whatever TTL is given */
	dnscache_put(c, "nx.test", AF_INET, &none, 0, 0.);
	ck_assert(dnscache_get(c, "nx.test", AF_INET, 1., &got));
	ck_assert_uint_eq(got.n, 0);
	ck_assert(!dnscache_get(c, "nx.test", AF_INET, DNSCACHE_NEG_TTL,
	    &got));
	/* a new answer replaces the old one */
	dnscache_put(c, "nx.test", AF_INET, &a, 30, 5.);
	ck_assert(dnscache_get(c, "nx.test", AF_INET, 6., &got));
	ck_assert_uint_eq(got.n, 1);
	ck_assert_uint_eq(dnscache_count(c), 2);
	dnscache_free(c);
}
END_TEST

/* Names that are not names are neither kept nor found. */
START_TEST(test_bad_names)
{
	struct dnscache *c = dnscache_new(16, key);
	struct dnscache_answer a = answer("192.0.2.1", 1), got;
	char name[300];

	memset(name, 'x', 254);
	name[254] = '\0';
	dnscache_put(c, "", AF_INET, &a, 60, 0.);
	dnscache_put(c, ".", AF_INET, &a, 60, 0.);
	dnscache_put(c, name, AF_INET, &a, 60, 0.);
	ck_assert_uint_eq(dnscache_count(c), 0);
	ck_assert(!dnscache_get(c, "", AF_INET, 0., &got));
	name[253] = '\0';
	dnscache_put(c, name, AF_INET, &a, 60, 0.);
	ck_assert(dnscache_get(c, name, AF_INET, 0., &got));
	dnscache_free(c);
	/* no cache: nothing kept, nothing found */
	dnscache_put(NULL, "a.test", AF_INET, &a, 60, 0.);
	ck_assert(!dnscache_get(NULL, "a.test", AF_INET, 0., &got));
	dnscache_free(NULL);
}
END_TEST

/*
 * Bounded: a thousand names in 16 slots leave at most 16 entries, and the
 * latest name is always found (the entry expiring first gave way).
 */
START_TEST(test_bound)
{
	struct dnscache *c = dnscache_new(16, key);
	struct dnscache_answer a = answer("192.0.2.1", 16), got;
	char name[64];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		dnscache_put(c, name, AF_INET, &a, (uint32_t)(100 + i), 0.);
		ck_assert(dnscache_get(c, name, AF_INET, 0., &got));
		ck_assert_uint_eq(got.n, 16);
		ck_assert_uint_le(dnscache_count(c), 16);
	}
	dnscache_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dnscache");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_positive);
	tcase_add_test(tc, test_ttls);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_bound);
	suite_add_tcase(s, tc);
	return unit_run(s, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_util.c - util.h's hashes against their published values (FNV-1a's
 * reference vectors, SipHash-2-4's paper vectors), the finaliser, the
 * bounded copy, and the fatal hook.
 */
#include "config_auto.h"

#include <check.h>
#include <signal.h>
#include <string.h>

#include "util.h"
#include "unit_util.h"

START_TEST(test_fnv1a)
{
	ck_assert_uint_eq(util_fnv1a32(UTIL_FNV1A32_INIT, "", 0), 0x811c9dc5u);
	ck_assert_uint_eq(util_fnv1a32(UTIL_FNV1A32_INIT, "a", 1), 0xe40c292cu);
	ck_assert_uint_eq(util_fnv1a32(UTIL_FNV1A32_INIT, "foobar", 6),
	    0xbf9cf968u);
	ck_assert_uint_eq(util_fnv1a64(UTIL_FNV1A64_INIT, "a", 1),
	    0xaf63dc4c8601ec8cull);
	ck_assert_uint_eq(util_fnv1a64(UTIL_FNV1A64_INIT, "foobar", 6),
	    0x85944171f73967e8ull);
	/* hashing in pieces is hashing the whole */
	ck_assert_uint_eq(util_fnv1a32(util_fnv1a32(UTIL_FNV1A32_INIT, "foo",
	    3), "bar", 3), 0xbf9cf968u);
}
END_TEST

START_TEST(test_siphash)
{
	/* the paper's key 00..0f over 00..0e, and the empty input */
	uint64_t k[2] = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };
	uint8_t in[15];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	ck_assert_uint_eq(util_siphash24(k, in, 15), 0xa129ca6149be45e5ull);
	ck_assert_uint_eq(util_siphash24(k, in, 0), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(util_siphash24(k, in, 8), 0x93f5f5799a932462ull);
}
END_TEST

START_TEST(test_mix64)
{
	ck_assert_uint_eq(util_mix64(0), 0);
	ck_assert_uint_ne(util_mix64(1), util_mix64(2));
	/* a change in the top bit reaches the low bits */
	ck_assert_uint_ne(util_mix64(1ull << 63) & 0xffff, 0);
}
END_TEST

START_TEST(test_strlcpy)
{
	char buf[4];

	ck_assert_uint_eq(util_strlcpy(buf, "abcdef", sizeof(buf)), 6);
	ck_assert_str_eq(buf, "abc");
	ck_assert_uint_eq(util_strlcpy(buf, "ab", sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ab");
	buf[0] = 'x';
	ck_assert_uint_eq(util_strlcpy(buf, "ab", 0), 2);
	ck_assert_int_eq(buf[0], 'x');
}
END_TEST

static int bug_line;

/* What the hook is told is checked here; a wrong message fails the test
 * before the abort that the test expects. */
static void
hook(const char *file, int line, const char *func, const char *msg)
{
	ck_assert_ptr_nonnull(strstr(file, "check_util.c"));
	ck_assert_int_eq(line, bug_line);
	ck_assert_str_eq(func, "BUG_ON");
	ck_assert_str_eq(msg, "BUG: 1 + 1 == 2");
}

/* A BUG_ON tells the hook file, line and the condition, then aborts. */
START_TEST(test_bug_hook)
{
	util_set_fatal_hook(hook);
	bug_line = __LINE__ + 1;
	BUG_ON(1 + 1 == 2);
}
END_TEST

static Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("pure");
	TCase *tf = tcase_create("fatal");

	tcase_add_test(tc, test_fnv1a);
	tcase_add_test(tc, test_siphash);
	tcase_add_test(tc, test_mix64);
	tcase_add_test(tc, test_strlcpy);
	suite_add_tcase(s, tc);
	tcase_add_test_raise_signal(tf, test_bug_hook, SIGABRT);
	suite_add_tcase(s, tf);
	return s;
}

int
main(void)
{
	return unit_run(util_suite(), NULL);
}

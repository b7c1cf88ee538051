/* SPDX-License-Identifier: ISC */
/*
 * check_text.c - text.h: bytes from outside escaped for a log field
 * (text_escape) and quoted for a message (text_quote), every kind of byte
 * and every cut.
 */
#include "config_auto.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unit_util.h"

START_TEST(test_escape_plain)
{
	char buf[TEXT_ESCAPE_LEN(32)];

	ck_assert_str_eq(text_escape(buf, sizeof(buf), "alice", TEXT_CSTR),
	    "alice");
	ck_assert_str_eq(text_escape(buf, sizeof(buf), "", TEXT_CSTR), "");
	/* every printable byte but the four stays as is */
	ck_assert_str_eq(text_escape(buf, sizeof(buf), "!#~.-_@:[]", 10),
	    "!#~.-_@:[]");
}
END_TEST

START_TEST(test_escape_bytes)
{
	char buf[TEXT_ESCAPE_LEN(32)];

	/* space, '=', '"' and '\\' could forge a field; controls, DEL and
	 * non-ASCII a line or a terminal */
	ck_assert_str_eq(text_escape(buf, sizeof(buf),
	    "a b=c\"d\\e\n\x7f\xc3\xa9", TEXT_CSTR),
	    "a\\x20b\\x3dc\\x22d\\x5ce\\x0a\\x7f\\xc3\\xa9");
	/* with a length, a NUL is a byte like any other */
	ck_assert_str_eq(text_escape(buf, sizeof(buf), "a\0b\x01\x1b", 5),
	    "a\\x00b\\x01\\x1b");
	ck_assert_str_eq(text_escape(buf, sizeof(buf), "\xff", 1), "\\xff");
}
END_TEST

START_TEST(test_escape_cut)
{
	char buf[TEXT_ESCAPE_LEN(4)];

	/* an escape is written whole or not at all */
	ck_assert_str_eq(text_escape(buf, 6, "ab cd", TEXT_CSTR), "ab");
	ck_assert_str_eq(text_escape(buf, 7, "ab cd", TEXT_CSTR), "ab\\x20");
	ck_assert_str_eq(text_escape(buf, 3, "abcd", TEXT_CSTR), "ab");
	ck_assert_str_eq(text_escape(buf, 1, "abcd", TEXT_CSTR), "");
	/* cap 0 writes nothing at all */
	buf[0] = 'x';
	text_escape(buf, 0, "abcd", TEXT_CSTR);
	ck_assert_int_eq(buf[0], 'x');
	/* TEXT_ESCAPE_LEN is enough for the worst case */
	ck_assert_str_eq(text_escape(buf, sizeof(buf), "\x01\x02\x03\x04", 4),
	    "\\x01\\x02\\x03\\x04");
}
END_TEST

START_TEST(test_quote_bytes)
{
	char buf[64];

	ck_assert_str_eq(text_quote(buf, sizeof(buf), "0.0.0.0/33", TEXT_CSTR),
	    "0.0.0.0/33");
	/* quotes and spaces are fine in a message; what is not printable
	 * ASCII is '?' */
	ck_assert_str_eq(text_quote(buf, sizeof(buf), "a \"b\"\t\n\x7f", TEXT_CSTR),
	    "a \"b\"???");
	ck_assert_str_eq(text_quote(buf, sizeof(buf), "j\xc3\xb6rg\x1b[31m", TEXT_CSTR),
	    "j??rg?[31m");
	ck_assert_str_eq(text_quote(buf, sizeof(buf), "$y$j9T$x", 3), "$y$");
	ck_assert_str_eq(text_quote(buf, sizeof(buf), "", TEXT_CSTR), "");
}
END_TEST

START_TEST(test_quote_cut)
{
	char buf[64];
	char big[200];

	/* fits exactly: no "..." */
	ck_assert_str_eq(text_quote(buf, 5, "abcd", TEXT_CSTR), "abcd");
	/* one byte too many: cut to leave room for "..." */
	ck_assert_str_eq(text_quote(buf, 5, "abcde", TEXT_CSTR), "a...");
	ck_assert_str_eq(text_quote(buf, 4, "abcde", TEXT_CSTR), "...");
	ck_assert_str_eq(text_quote(buf, 3, "abcde", TEXT_CSTR), "");
	ck_assert_str_eq(text_quote(buf, 1, "abcde", TEXT_CSTR), "");
	buf[0] = 'x';
	text_quote(buf, 0, "abcde", TEXT_CSTR);
	ck_assert_int_eq(buf[0], 'x');
	/* a pasted blob: one line of cap - 1 bytes */
	memset(big, '\x01', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	text_quote(buf, sizeof(buf), big, TEXT_CSTR);
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	ck_assert_str_eq(buf + sizeof(buf) - 4, "...");
	ck_assert_int_eq(buf[0], '?');
}
END_TEST

static Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_escape_plain);
	tcase_add_test(tc, test_escape_bytes);
	tcase_add_test(tc, test_escape_cut);
	tcase_add_test(tc, test_quote_bytes);
	tcase_add_test(tc, test_quote_cut);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(text_suite(), NULL);
}

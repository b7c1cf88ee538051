/* SPDX-License-Identifier: ISC */
/*
 * check_chap_msg.c - unit tests for auth/chap_msg.c (suite "chap_msg"):
 * the CHAP message codec on every field and on malformed input, and
 * HMAC-MD5 (plain and from precomputed key states) against RFC 2202.
 */
#include "config_auto.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap_msg.h"
#include "unit_util.h"

/* Parse all of buf from a heap copy of exactly its size (ASan sees overreads). */
static enum chap_status
parse(const uint8_t *buf, size_t len, struct chap_msg *m, size_t *used,
    uint8_t **copy)
{
	*copy = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(*copy);
	memcpy(*copy, buf, len);
	return chap_parse_msg(*copy, len, m, used);
}

START_TEST(test_parse_fields)
{
	/* plink's first message: ALGORITHMS(85) + USER-IDENTITY("alice") */
	static const uint8_t msg[] = { 0x01, 0x02, 0x11, 0x01, 0x85,
	    0x02, 0x05, 'a', 'l', 'i', 'c', 'e', 0x05 /* next message */ };
	struct chap_msg m;
	uint8_t *copy;
	size_t used = 0;

	ck_assert_int_eq(parse(msg, sizeof(msg), &m, &used, &copy), CHAP_OK);
	ck_assert_uint_eq(used, 12);
	ck_assert_uint_eq(m.version, 1);
	ck_assert_uint_eq(m.navas, 2);
	ck_assert_uint_eq(m.avas[0].att, CHAP_ATT_ALGORITHMS);
	ck_assert_uint_eq(m.avas[0].len, 1);
	ck_assert_uint_eq(m.avas[0].val[0], 0x85);
	ck_assert_ptr_eq(m.avas[0].val, copy + 4);
	ck_assert_uint_eq(m.avas[1].att, CHAP_ATT_USER_IDENTITY);
	ck_assert_uint_eq(m.avas[1].len, 5);
	ck_assert_int_eq(memcmp(m.avas[1].val, "alice", 5), 0);
	ck_assert_ptr_eq(chap_msg_find(&m, CHAP_ATT_USER_IDENTITY), &m.avas[1]);
	ck_assert_ptr_null(chap_msg_find(&m, CHAP_ATT_RESPONSE));
	ck_assert_uint_eq(chap_msg_count(&m, CHAP_ATT_ALGORITHMS), 1);
	ck_assert(chap_algorithms_has(chap_msg_find(&m, CHAP_ATT_ALGORITHMS),
	    CHAP_ALG_HMAC_MD5));
	ck_assert(!chap_algorithms_has(chap_msg_find(&m, CHAP_ATT_ALGORITHMS),
	    0x05));
	ck_assert(!chap_algorithms_has(NULL, CHAP_ALG_HMAC_MD5));
	free(copy);
}
END_TEST

START_TEST(test_parse_zero_avas_and_empty_values)
{
	static const uint8_t none[] = { 0x01, 0x00 };
	static const uint8_t empty[] = { 0x01, 0x03, 0x01, 0x00, 0x77, 0x00,
	    0x00, 0x00 };
	struct chap_msg m;
	uint8_t *copy;
	size_t used = 0;

	ck_assert_int_eq(parse(none, sizeof(none), &m, &used, &copy), CHAP_OK);
	ck_assert_uint_eq(used, 2);
	ck_assert_uint_eq(m.navas, 0);
	free(copy);
	ck_assert_int_eq(parse(empty, sizeof(empty), &m, &used, &copy), CHAP_OK);
	ck_assert_uint_eq(used, sizeof(empty));
	ck_assert_uint_eq(m.navas, 3);
	ck_assert_uint_eq(m.avas[1].att, 0x77);	/* unknown: kept */
	ck_assert_uint_eq(m.avas[2].len, 0);
	/* An empty STATUS is not success. */
	ck_assert(!chap_status_is_success(&m.avas[2]));
	free(copy);
}
END_TEST

START_TEST(test_parse_prefixes)
{
	/* Every proper prefix of a valid message is NEED_MORE. */
	uint8_t msg[2 + 3 * 257];
	struct chap_msg m;
	size_t i, len = 2, used;

	msg[0] = 1;
	msg[1] = 3;
	for (i = 0; i < 3; i++) {
		msg[len] = (uint8_t)(0x01 + i);
		msg[len + 1] = 255;
		memset(msg + len + 2, (int)i, 255);
		len += 257;
	}
	for (i = 0; i < len; i++) {
		uint8_t *copy;

		ck_assert_int_eq(parse(msg, i, &m, &used, &copy),
		    CHAP_NEED_MORE);
		free(copy);
	}
	ck_assert_int_eq(chap_parse_msg(msg, len, &m, &used), CHAP_OK);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(m.avas[2].len, 255);
}
END_TEST

START_TEST(test_parse_bad_version)
{
	static const uint8_t socks5[] = { 0x05, 0x01, 0x00 };
	static const uint8_t zero[] = { 0x00 };
	struct chap_msg m;
	size_t used;

	ck_assert_int_eq(chap_parse_msg(socks5, 1, &m, &used),
	    CHAP_ERR_VERSION);
	ck_assert_int_eq(chap_parse_msg(socks5, sizeof(socks5), &m, &used),
	    CHAP_ERR_VERSION);
	ck_assert_int_eq(chap_parse_msg(zero, 1, &m, &used), CHAP_ERR_VERSION);
	ck_assert_str_eq(chap_status_str(CHAP_ERR_VERSION), "bad CHAP version");
	ck_assert_str_eq(chap_status_str(CHAP_OK), "ok");
	ck_assert_str_eq(chap_status_str(CHAP_NEED_MORE), "need more bytes");
	ck_assert_str_eq(chap_status_str((enum chap_status)99),
	    "unknown status");
}
END_TEST

START_TEST(test_parse_max)
{
	/* 255 AVAs of 255 bytes: the largest message there is. */
	uint8_t *msg = malloc(CHAP_MSG_MAX);
	struct chap_msg m;
	size_t i, used;

	ck_assert_ptr_nonnull(msg);
	msg[0] = 1;
	msg[1] = 255;
	for (i = 0; i < 255; i++) {
		msg[2 + i * 257] = (uint8_t)i;
		msg[3 + i * 257] = 255;
		memset(msg + 4 + i * 257, 0xee, 255);
	}
	ck_assert_int_eq(chap_parse_msg(msg, CHAP_MSG_MAX, &m, &used), CHAP_OK);
	ck_assert_uint_eq(used, CHAP_MSG_MAX);
	ck_assert_uint_eq(m.navas, 255);
	ck_assert_uint_eq(m.avas[254].att, 254);
	ck_assert_uint_eq(chap_msg_count(&m, 7), 1);
	ck_assert_int_eq(chap_parse_msg(msg, CHAP_MSG_MAX - 1, &m, &used),
	    CHAP_NEED_MORE);
	free(msg);
}
END_TEST

START_TEST(test_status)
{
	static const uint8_t z1[] = { 0 }, z3[] = { 0, 0, 0 }, ff[] = { 0xff },
	    mixed[] = { 0, 1 };
	struct chap_ava a = { CHAP_ATT_STATUS, 1, z1 };

	ck_assert(chap_status_is_success(&a));
	a.val = z3;
	a.len = 3;
	ck_assert(chap_status_is_success(&a));
	a.val = ff;
	a.len = 1;
	ck_assert(!chap_status_is_success(&a));
	a.val = mixed;
	a.len = 2;
	ck_assert(!chap_status_is_success(&a));
	ck_assert(!chap_status_is_success(NULL));
}
END_TEST

START_TEST(test_encode)
{
	static const uint8_t alg = 0x85, ch[16] = { 1, 2, 3 };
	struct chap_ava in[3] = {
		{ CHAP_ATT_ALGORITHMS, 1, &alg },
		{ CHAP_ATT_CHALLENGE, 16, ch },
		{ CHAP_ATT_TEXT_MESSAGE, 0, NULL },
	};
	uint8_t buf[64];
	struct chap_msg m;
	size_t n, used;

	n = chap_encode_msg(buf, sizeof(buf), in, 3);
	ck_assert_uint_eq(n, 2 + 3 + 18 + 2);
	ck_assert_uint_eq(buf[0], 1);
	ck_assert_uint_eq(buf[1], 3);
	ck_assert_uint_eq(buf[2], 0x11);
	ck_assert_uint_eq(buf[3], 1);
	ck_assert_uint_eq(buf[4], 0x85);
	ck_assert_uint_eq(buf[5], 0x03);
	ck_assert_uint_eq(buf[6], 16);
	ck_assert_int_eq(chap_parse_msg(buf, n, &m, &used), CHAP_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_int_eq(memcmp(m.avas[1].val, ch, 16), 0);
	ck_assert_uint_eq(m.avas[2].len, 0);
	/* Exactly enough room, then one byte less. */
	ck_assert_uint_eq(chap_encode_msg(buf, n, in, 3), n);
	ck_assert_uint_eq(chap_encode_msg(buf, n - 1, in, 3), 0);
	ck_assert_uint_eq(chap_encode_msg(buf, 1, in, 0), 0);
	ck_assert_uint_eq(chap_encode_msg(buf, 2, in, 0), 2);
	/* NULL value with a length, and too many AVAs, are refused. */
	in[2].len = 1;
	ck_assert_uint_eq(chap_encode_msg(buf, sizeof(buf), in, 3), 0);
	ck_assert_uint_eq(chap_encode_msg(buf, sizeof(buf), in, 256), 0);
}
END_TEST

static void
unhex(const char *h, uint8_t *out)
{
	size_t i;

	for (i = 0; h[2 * i] != '\0'; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 2202 section 2: the seven HMAC-MD5 test cases. */
static const struct {
	uint8_t key_byte;		/* 0: use key_text */
	size_t key_len;
	const char *key_text;
	uint8_t data_byte;		/* 0: use data_text */
	size_t data_len;
	const char *data_text;
	const char *digest;
} rfc2202[] = {
	{ 0x0b, 16, NULL, 0, 0, "Hi There",
	    "9294727a3638bb1c13f48ef8158bfc9d" },
	{ 0, 4, "Jefe", 0, 0, "what do ya want for nothing?",
	    "750c783e6ab0b503eaa86e310a5db738" },
	{ 0xaa, 16, NULL, 0xdd, 50, NULL,
	    "56be34521d144c88dbb8c733f0e8b3f6" },
	{ 1, 25, NULL, 0xcd, 50, NULL,	/* key 0x01..0x19 */
	    "697eaf0aca3a3aea3a75164746ffaa79" },
	{ 0x0c, 16, NULL, 0, 0, "Test With Truncation",
	    "56461ef2342edc00f9bab995690efd4c" },
	{ 0xaa, 80, NULL, 0, 0,
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd" },
	{ 0xaa, 80, NULL, 0, 0,
	    "Test Using Larger Than Block-Size Key and Larger Than One "
	    "Block-Size Data",
	    "6f630fad67cda0ee1fb1f562db3aa53e" },
};

START_TEST(test_hmac_md5_rfc2202)
{
	uint8_t key[80], data[80], want[16], got[16];
	struct chap_key k;
	size_t klen, dlen, i;

	klen = rfc2202[_i].key_len;
	if (rfc2202[_i].key_text != NULL)
		memcpy(key, rfc2202[_i].key_text, klen);
	else if (_i == 3)
		for (i = 0; i < klen; i++)
			key[i] = (uint8_t)(i + 1);
	else
		memset(key, rfc2202[_i].key_byte, klen);
	if (rfc2202[_i].data_text != NULL) {
		dlen = strlen(rfc2202[_i].data_text);
		memcpy(data, rfc2202[_i].data_text, dlen);
	} else {
		dlen = rfc2202[_i].data_len;
		memset(data, rfc2202[_i].data_byte, dlen);
	}
	unhex(rfc2202[_i].digest, want);

	ck_assert_int_eq(chap_hmac_md5(key, klen, data, dlen, got), 0);
	ck_assert_int_eq(memcmp(got, want, 16), 0);
	/* The precomputed states give the same MAC. */
	memset(got, 0, sizeof(got));
	chap_key_from_secret(&k, key, klen);
	chap_key_hmac(&k, data, dlen, got);
	ck_assert_int_eq(memcmp(got, want, 16), 0);
	ck_assert(chap_ct_equal(got, want, 16));
}
END_TEST

START_TEST(test_hmac_edge)
{
	uint8_t a[16], b[16], key[64];
	struct chap_key k;

	/* Empty key and empty data still work (and agree). */
	ck_assert_int_eq(chap_hmac_md5(NULL, 0, NULL, 0, a), 0);
	chap_key_from_secret(&k, (const uint8_t *)"", 0);
	chap_key_hmac(&k, NULL, 0, b);
	ck_assert_int_eq(memcmp(a, b, 16), 0);
	/* A 64-byte key is used as is, not hashed. */
	memset(key, 'k', sizeof(key));
	ck_assert_int_eq(chap_hmac_md5(key, 64, key, 64, a), 0);
	chap_key_from_secret(&k, key, 64);
	chap_key_hmac(&k, key, 64, b);
	ck_assert_int_eq(memcmp(a, b, 16), 0);
	b[15] ^= 1;
	ck_assert(!chap_ct_equal(a, b, 16));
}
END_TEST

START_TEST(test_key_text)
{
	struct chap_key k, k2;
	char s[CHAP_KEY_STRLEN + 1], bad[CHAP_KEY_STRLEN + 1];
	uint8_t a[16], b[16];

	chap_key_from_secret(&k, (const uint8_t *)"secret", 6);
	chap_key_format(&k, s);
	ck_assert_uint_eq(strlen(s), CHAP_KEY_STRLEN);
	ck_assert_uint_eq(strspn(s, "0123456789abcdef"), CHAP_KEY_STRLEN);
	ck_assert_int_eq(chap_key_parse(s, strlen(s), &k2), 0);
	ck_assert_int_eq(memcmp(&k, &k2, sizeof(k)), 0);
	chap_key_hmac(&k2, (const uint8_t *)"challenge", 9, a);
	ck_assert_int_eq(chap_hmac_md5((const uint8_t *)"secret", 6,
	    (const uint8_t *)"challenge", 9, b), 0);
	ck_assert_int_eq(memcmp(a, b, 16), 0);
	/* Upper case reads too; anything else does not. */
	memcpy(bad, s, sizeof(bad));
	bad[0] = 'A';
	ck_assert_int_eq(chap_key_parse(bad, CHAP_KEY_STRLEN, &k2), 0);
	bad[0] = 'g';
	ck_assert_int_eq(chap_key_parse(bad, CHAP_KEY_STRLEN, &k2), -1);
	bad[0] = ' ';
	ck_assert_int_eq(chap_key_parse(bad, CHAP_KEY_STRLEN, &k2), -1);
	ck_assert_int_eq(chap_key_parse(s, CHAP_KEY_STRLEN - 1, &k2), -1);
	ck_assert_int_eq(chap_key_parse(s, 0, &k2), -1);
}
END_TEST

static Suite *
chap_msg_suite(void)
{
	Suite *s = suite_create("chap_msg");
	TCase *tc = tcase_create("codec");
	TCase *th = tcase_create("hmac");

	tcase_add_test(tc, test_parse_fields);
	tcase_add_test(tc, test_parse_zero_avas_and_empty_values);
	tcase_add_test(tc, test_parse_prefixes);
	tcase_add_test(tc, test_parse_bad_version);
	tcase_add_test(tc, test_parse_max);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_encode);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(th, test_hmac_md5_rfc2202, 0,
	    (int)(sizeof(rfc2202) / sizeof(rfc2202[0])));
	tcase_add_test(th, test_hmac_edge);
	tcase_add_test(th, test_key_text);
	suite_add_tcase(s, th);
	return s;
}

int
main(void)
{
	return unit_run(chap_msg_suite(), NULL);
}

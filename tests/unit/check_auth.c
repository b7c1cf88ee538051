/* SPDX-License-Identifier: ISC */
/*
 * check_auth.c - unit tests for auth/ (suite "auth"): the RFC 1929 codec,
 * and the methods behind auth.h driven through their message exchanges
 * as a client would: none, password (with the verdict given by the test)
 * and CHAP, one-way and mutual under chap_mutual allow/require/deny, with
 * and without chap_server_secret, with real clients' merged messages and
 * every way a client can get it wrong.
 */
#include "config_auto.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "chap_msg.h"
#include "password_msg.h"
#include "userdb.h"
#include "unit_util.h"

#define ALICE_SECRET "alice's CHAP secret"
#define CAROL_SECRET "carol"
#define SERVER_SECRET "the server's own"

static struct userdb *db;
static struct auth_params params;
static struct chap_key server_key;

static void
no_report(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	ck_abort_msg("%s:%d: %s", file, line, msg);
}

static void
setup(void)
{
	char text[1024], line[512];
	struct chap_key k;
	size_t n = 0;

	/* alice: password + CHAP; bob: password only; carol: CHAP only. */
	chap_key_from_secret(&k, (const uint8_t *)ALICE_SECRET,
	    strlen(ALICE_SECRET));
	n += userdb_format_line(text + n, sizeof(text) - n, "alice",
	    "$5$salt$0123456789", &k);
	n += userdb_format_line(text + n, sizeof(text) - n, "bob",
	    "$5$salt$abcdef", NULL);
	chap_key_from_secret(&k, (const uint8_t *)CAROL_SECRET,
	    strlen(CAROL_SECRET));
	ck_assert_uint_gt(userdb_format_line(line, sizeof(line), "carol", "*",
	    &k), 0);
	memcpy(text + n, line, strlen(line));
	n += strlen(line);
	db = userdb_parse("test", text, n, no_report, NULL);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(userdb_count(db), 3);
	memset(&params, 0, sizeof(params));
	params.db = db;
	params.chap_mutual = AUTH_CHAP_MUTUAL_ALLOW;
	chap_key_from_secret(&server_key, (const uint8_t *)SERVER_SECRET,
	    strlen(SERVER_SECRET));
}

static void
teardown(void)
{
	userdb_free(db);
	db = NULL;
}

/* ------------------------------------------------------------------ */
/* RFC 1929 codec                                                       */

START_TEST(test_password_parse)
{
	static const uint8_t msg[] = { 0x01, 0x03, 'b', 'o', 'b', 0x02, 'p',
	    'w', 0x05, 0x01 };
	struct password_request r;
	size_t used = 0, i;
	uint8_t st;

	for (i = 0; i < 8; i++)
		ck_assert_int_eq(password_parse_request(msg, i, &r, &used),
		    PASSWORD_NEED_MORE);
	ck_assert_int_eq(password_parse_request(msg, sizeof(msg), &r, &used),
	    PASSWORD_OK);
	ck_assert_uint_eq(used, 8);		/* the request stays */
	ck_assert_uint_eq(r.ulen, 3);
	ck_assert_str_eq((char *)r.uname, "bob");
	ck_assert_uint_eq(r.plen, 2);
	ck_assert_str_eq((char *)r.passwd, "pw");

	ck_assert_int_eq(password_parse_reply(msg, 0, &st, &used),
	    PASSWORD_NEED_MORE);
	ck_assert_int_eq(password_parse_reply((const uint8_t *)"\x01", 1, &st,
	    &used), PASSWORD_NEED_MORE);
	ck_assert_int_eq(password_parse_reply((const uint8_t *)"\x01\x07", 2,
	    &st, &used), PASSWORD_OK);
	ck_assert_uint_eq(st, 7);
	ck_assert_uint_eq(used, 2);
	ck_assert_int_eq(password_parse_reply((const uint8_t *)"\x05\x00", 2,
	    &st, &used), PASSWORD_ERR_VERSION);
}
END_TEST

START_TEST(test_password_parse_errors)
{
	struct password_request r;
	size_t used;

	/* Version: known at the first byte. */
	ck_assert_int_eq(password_parse_request((const uint8_t *)"\x05", 1, &r,
	    &used), PASSWORD_ERR_VERSION);
	ck_assert_int_eq(password_parse_request((const uint8_t *)"\x00\x01",
	    2, &r, &used), PASSWORD_ERR_VERSION);
	/* ULEN 0: at the second. */
	ck_assert_int_eq(password_parse_request((const uint8_t *)"\x01\x00",
	    2, &r, &used), PASSWORD_ERR_ULEN);
	/* PLEN 0: at its byte, even with nothing after it. */
	ck_assert_int_eq(password_parse_request((const uint8_t *)"\x01\x01"
	    "a\x00", 4, &r, &used), PASSWORD_ERR_PLEN);
	ck_assert_str_eq(password_status_str(PASSWORD_ERR_ULEN),
	    "empty user name");
	ck_assert_str_eq(password_status_str(PASSWORD_ERR_PLEN),
	    "empty password");
	ck_assert_str_eq(password_status_str(PASSWORD_ERR_VERSION),
	    "bad subnegotiation version");
	ck_assert_str_eq(password_status_str((enum password_status)42),
	    "unknown status");
}
END_TEST

START_TEST(test_password_max_and_nul)
{
	uint8_t msg[PASSWORD_REQUEST_MAX], name[255], pw[255];
	struct password_request r;
	size_t n, used;

	memset(name, 'n', sizeof(name));
	memset(pw, 0, sizeof(pw));	/* NULs are bytes to the codec */
	pw[0] = 'x';
	n = password_encode_request(msg, sizeof(msg), name, 255, pw, 255);
	ck_assert_uint_eq(n, PASSWORD_REQUEST_MAX);
	ck_assert_int_eq(password_parse_request(msg, n, &r, &used), PASSWORD_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(r.ulen, 255);
	ck_assert_uint_eq(r.plen, 255);
	ck_assert_int_eq(memcmp(r.uname, name, 255), 0);
	ck_assert_int_eq(memcmp(r.passwd, pw, 255), 0);
	ck_assert_uint_eq(r.uname[255], 0);
	ck_assert_int_eq(password_parse_request(msg, n - 1, &r, &used),
	    PASSWORD_NEED_MORE);
	/* Encoder bounds. */
	ck_assert_uint_eq(password_encode_request(msg, n - 1, name, 255, pw,
	    255), 0);
	ck_assert_uint_eq(password_encode_request(msg, sizeof(msg), name, 0,
	    pw, 1), 0);
	ck_assert_uint_eq(password_encode_request(msg, sizeof(msg), name, 1,
	    pw, 0), 0);
	ck_assert_uint_eq(password_encode_request(msg, sizeof(msg), name, 256,
	    pw, 1), 0);
	ck_assert_uint_eq(password_encode_reply(msg, 1, 0), 0);
	ck_assert_uint_eq(password_encode_reply(msg, 2, 0), 2);
	ck_assert_uint_eq(msg[0], 1);
	ck_assert_uint_eq(msg[1], 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

static size_t
take_output(struct auth *a, uint8_t *buf)
{
	return auth_output(a, buf, AUTH_OUT_MAX);
}

/* Feed the whole buffer; the status, *used as consumed. */
static enum auth_status
feed(struct auth *a, const uint8_t *buf, size_t len, size_t *used)
{
	uint8_t *copy = malloc(len == 0 ? 1 : len);
	enum auth_status st;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, buf, len);
	st = auth_step(a, copy, len, used);
	free(copy);
	return st;
}

/* ------------------------------------------------------------------ */
/* Table, none, user name formatting                                     */

START_TEST(test_table)
{
	ck_assert_str_eq(auth_method_by_id(0x00)->name, "none");
	ck_assert_str_eq(auth_method_by_id(0x02)->name, "password");
	ck_assert_str_eq(auth_method_by_id(0x03)->name, "chap");
#ifdef HAVE_GSSAPI
	ck_assert_str_eq(auth_method_by_id(0x01)->name, "gssapi");
	ck_assert_uint_eq(auth_method_by_name("gssapi")->id, 0x01);
#else
	ck_assert_ptr_null(auth_method_by_id(0x01));
	ck_assert_ptr_null(auth_method_by_name("gssapi"));
#endif
	ck_assert_ptr_null(auth_method_by_id(0xff));
	ck_assert_uint_eq(auth_method_by_name("chap")->id, 0x03);
	/* GSS-API without acceptor credentials (params.gss NULL): none. */
	ck_assert_ptr_null(auth_new(0x01, &params));
	auth_free(NULL);
}
END_TEST

#ifdef HAVE_GSSAPI
/*
 * The GSS-API method's framing, before any token reaches GSS-API (the
 * tokens themselves are tested against a real KDC: 27-auth-gssapi.sh).
 * The credentials are never touched on these paths: a stand-in will do.
 */
START_TEST(test_gssapi_framing)
{
	static const struct {
		const char *in;
		size_t len;
		enum auth_status st;
		size_t used;
		const char *out;	/* expected output, or NULL: none */
		size_t outlen;
		const char *reason;
	} cases[] = {
		/* Half a header: wait. */
		{ "\x01\x01\x00", 3, AUTH_NEED_MORE, 0, NULL, 0, NULL },
		/* The client aborts: no answer. */
		{ "\x01\xff", 2, AUTH_FAIL, 2, NULL, 0, "client-abort" },
		/* Not version 1: abort. */
		{ "\x05\x01\x00\x01\x00", 5, AUTH_FAIL, 0, "\x01\xff", 2,
		  "bad-message" },
		/* An unknown type: abort. */
		{ "\x01\x04\x00\x01\x00", 5, AUTH_FAIL, 0, "\x01\xff", 2,
		  "bad-message" },
		/* A protection message before any token: abort. */
		{ "\x01\x02\x00\x01\x00", 5, AUTH_FAIL, 5, "\x01\xff", 2,
		  "bad-token" },
		/* An empty token: abort. */
		{ "\x01\x01\x00\x00", 4, AUTH_FAIL, 4, "\x01\xff", 2,
		  "bad-token" },
	};
	static int stand_in;
	struct auth_params gp = params;
	size_t i;

	gp.gss = (const struct auth_gss *)&stand_in;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth *a = auth_new(0x01, &gp);
		uint8_t out[AUTH_OUT_MAX];
		size_t used = 99, n;
		enum auth_status st;

		ck_assert_ptr_nonnull(a);
		ck_assert_str_eq(auth_method_name(a), "gssapi");
		st = auth_step(a, (const uint8_t *)cases[i].in, cases[i].len,
		    &used);
		ck_assert_msg(st == cases[i].st, "case %zu: status %d", i,
		    (int)st);
		if (st != AUTH_FAIL)
			ck_assert_uint_eq(used, cases[i].used);
		n = take_output(a, out);
		ck_assert_uint_eq(n, cases[i].outlen);
		if (n > 0)
			ck_assert_mem_eq(out, cases[i].out, n);
		if (cases[i].reason != NULL)
			ck_assert_str_eq(auth_fail_reason(a), cases[i].reason);
		/* Nothing was checked: no failure to count against the source. */
		ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_NONE);
		auth_free(a);
	}
}
END_TEST
#endif

START_TEST(test_none)
{
	struct auth *a = auth_new(0x00, &params);
	uint8_t out[AUTH_OUT_MAX];
	size_t used = 99;

	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(feed(a, (const uint8_t *)"\x05\x01", 2, &used),
	    AUTH_OK);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(take_output(a, out), 0);
	ck_assert_str_eq(auth_user(a), "");
	ck_assert_str_eq(auth_method_name(a), "none");
	auth_free(a);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Password method                                                      */

START_TEST(test_password_ok)
{
	struct auth *a = auth_new(0x02, &params);
	uint8_t msg[600], out[AUTH_OUT_MAX];
	const uint8_t *pw;
	size_t n, used, len, i;

	n = password_encode_request(msg, sizeof(msg), (const uint8_t *)"bob",
	    3, (const uint8_t *)"hunter2", 7);
	/* The request after it stays for the session. */
	memcpy(msg + n, "\x05\x01\x00", 3);
	/* Byte by byte: NEED_MORE until the last one. */
	for (i = 0; i < n - 1; i++) {
		ck_assert_int_eq(feed(a, msg, i, &used), AUTH_NEED_MORE);
		ck_assert_uint_eq(used, 0);
		ck_assert_uint_eq(take_output(a, out), 0);
	}
	ck_assert_int_eq(feed(a, msg, n + 3, &used), AUTH_VERIFY);
	ck_assert_uint_eq(used, n);
	ck_assert_str_eq(auth_user(a), "bob");
	pw = auth_password(a, &len);
	ck_assert_uint_eq(len, 7);
	ck_assert_int_eq(memcmp(pw, "hunter2", 7), 0);
	ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_NONE);
	/* Stepping while waiting changes nothing. */
	ck_assert_int_eq(feed(a, msg, n, &used), AUTH_VERIFY);
	ck_assert_uint_eq(used, 0);

	ck_assert_int_eq(auth_verdict(a, true), AUTH_OK);
	ck_assert_uint_eq(take_output(a, out), 2);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], 0);
	ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_OK);
	/* The password is gone. */
	pw = auth_password(a, &len);
	ck_assert_uint_eq(len, 0);
	for (i = 0; i < 7; i++)
		ck_assert_uint_eq(pw[i], 0);
	ck_assert_int_eq(feed(a, msg, n, &used), AUTH_OK);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(auth_verdict(a, false), AUTH_OK);
	auth_free(a);
}
END_TEST

START_TEST(test_password_wrong)
{
	struct auth *a = auth_new(0x02, &params);
	uint8_t msg[600], out[AUTH_OUT_MAX];
	size_t n, used;

	n = password_encode_request(msg, sizeof(msg), (const uint8_t *)"bob",
	    3, (const uint8_t *)"x", 1);
	ck_assert_int_eq(feed(a, msg, n, &used), AUTH_VERIFY);
	ck_assert_int_eq(auth_verdict(a, false), AUTH_FAIL);
	ck_assert_uint_eq(take_output(a, out), 2);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_ne(out[1], 0);
	ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_BAD);
	ck_assert_str_eq(auth_fail_reason(a), "bad-password");
	ck_assert_str_eq(auth_user(a), "bob");
	auth_free(a);
}
END_TEST

START_TEST(test_password_malformed)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *reason;
		enum auth_check check;
	} cases[] = {
		{ "\x05\x01\x00", 3, "bad-version", AUTH_CHECK_NONE },
		{ "\x01\x00", 2, "bad-message", AUTH_CHECK_NONE },
		{ "\x01\x01" "a\x00", 4, "bad-message", AUTH_CHECK_NONE },
		/* A NUL in the name: no such user can exist. */
		{ "\x01\x03" "a\x00" "b\x01p", 7, "bad-user-name",
		    AUTH_CHECK_BAD },
		/* A NUL in the password: crypt would see a prefix. */
		{ "\x01\x01" "a\x03p\x00q", 7, "bad-password", AUTH_CHECK_BAD },
	};
	uint8_t out[AUTH_OUT_MAX];
	size_t i, used;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth *a = auth_new(0x02, &params);

		ck_assert_int_eq(feed(a, (const uint8_t *)cases[i].bytes,
		    cases[i].len, &used), AUTH_FAIL);
		ck_assert_uint_eq(take_output(a, out), 2);
		ck_assert_uint_eq(out[0], 1);
		ck_assert_uint_eq(out[1], PASSWORD_STATUS_FAILURE);
		ck_assert_str_eq(auth_fail_reason(a), cases[i].reason);
		ck_assert_int_eq(auth_check_result(a), cases[i].check);
		auth_free(a);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* CHAP                                                                 */

static size_t
msg(uint8_t *buf, size_t cap, const struct chap_ava *avas, size_t n)
{
	size_t len = chap_encode_msg(buf, cap, avas, n);

	ck_assert_uint_gt(len, 0);
	return len;
}

/* Parse the server's output as exactly one CHAP message. */
static void
server_msg(struct auth *a, uint8_t *buf, struct chap_msg *m)
{
	size_t n = take_output(a, buf), used = 0;

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(chap_parse_msg(buf, n, m, &used), CHAP_OK);
	ck_assert_uint_eq(used, n);
}

static void
expect_status(struct auth *a, uint8_t value, size_t navas)
{
	uint8_t buf[AUTH_OUT_MAX];
	const struct chap_ava *st;
	struct chap_msg m;

	server_msg(a, buf, &m);
	ck_assert_uint_eq(m.navas, navas);
	st = chap_msg_find(&m, CHAP_ATT_STATUS);
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(st->len, 1);
	ck_assert_uint_eq(st->val[0], value);
}

static const uint8_t alg_md5 = CHAP_ALG_HMAC_MD5;

/*
 * Start a CHAP exchange: ALGORITHMS (+ USER-IDENTITY when `user`), then
 * check the server's ALGORITHMS(85) + CHALLENGE and return the challenge.
 */
static struct auth *
chap_begin(const char *user, uint8_t challenge[CHAP_CHALLENGE_LEN])
{
	struct auth *a = auth_new(0x03, &params);
	struct chap_ava avas[2] = {
		{ CHAP_ATT_ALGORITHMS, 1, &alg_md5 },
		{ CHAP_ATT_USER_IDENTITY, 0, NULL },
	};
	uint8_t buf[600], out[AUTH_OUT_MAX];
	const struct chap_ava *alg, *ch;
	struct chap_msg m;
	size_t n, used;

	ck_assert_ptr_nonnull(a);
	if (user != NULL) {
		avas[1].len = (uint8_t)strlen(user);
		avas[1].val = (const uint8_t *)user;
	}
	n = msg(buf, sizeof(buf), avas, user != NULL ? 2 : 1);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_NEED_MORE);
	ck_assert_uint_eq(used, n);
	server_msg(a, out, &m);
	ck_assert_uint_eq(m.navas, 2);
	alg = chap_msg_find(&m, CHAP_ATT_ALGORITHMS);
	ck_assert_ptr_nonnull(alg);
	ck_assert_uint_eq(alg->len, 1);
	ck_assert_uint_eq(alg->val[0], CHAP_ALG_HMAC_MD5);
	ch = chap_msg_find(&m, CHAP_ATT_CHALLENGE);
	ck_assert_ptr_nonnull(ch);
	ck_assert_uint_eq(ch->len, CHAP_CHALLENGE_LEN);
	memcpy(challenge, ch->val, CHAP_CHALLENGE_LEN);
	return a;
}

static void
hmac(const char *secret, const uint8_t *data, size_t len, uint8_t out[16])
{
	ck_assert_int_eq(chap_hmac_md5((const uint8_t *)secret, strlen(secret),
	    data, len, out), 0);
}

/*
 * The response message: USER-IDENTITY (when user), RESPONSE(HMAC(secret,
 * challenge)), CHALLENGE (when cc) and any extra AVAs. Returns its length.
 */
static size_t
chap_response(uint8_t *buf, size_t cap, const char *user, const char *secret,
    const uint8_t *challenge, const uint8_t *cc, size_t cclen,
    const struct chap_ava *extra, size_t nextra)
{
	struct chap_ava avas[8];
	uint8_t resp[16];
	size_t n = 0, i;

	for (i = 0; i < nextra; i++)
		avas[n++] = extra[i];
	if (user != NULL)
		avas[n++] = (struct chap_ava){ CHAP_ATT_USER_IDENTITY,
		    (uint8_t)strlen(user), (const uint8_t *)user };
	hmac(secret, challenge, CHAP_CHALLENGE_LEN, resp);
	avas[n++] = (struct chap_ava){ CHAP_ATT_RESPONSE, 16, resp };
	if (cc != NULL)
		avas[n++] = (struct chap_ava){ CHAP_ATT_CHALLENGE,
		    (uint8_t)cclen, cc };
	return msg(buf, cap, avas, n);
}

START_TEST(test_chap_one_way)
{
	uint8_t ch[16], buf[600];
	struct auth *a = chap_begin(NULL, ch);
	size_t n, used;

	n = chap_response(buf, sizeof(buf), "alice", ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	memcpy(buf + n, "\x05\x01\x00\x01", 4);	/* the request follows */
	ck_assert_int_eq(feed(a, buf, n + 4, &used), AUTH_OK);
	ck_assert_uint_eq(used, n);
	expect_status(a, 0x00, 1);
	ck_assert_str_eq(auth_user(a), "alice");
	ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_OK);
	ck_assert(!auth_mutual(a));
	ck_assert_str_eq(auth_method_name(a), "chap");
	auth_free(a);
}
END_TEST

/*
 * auth_input_checks(): true exactly when the next step would check the
 * credentials (the session makes a penalised client wait before it).
 */
START_TEST(test_input_checks)
{
	struct auth *a = auth_new(0x02, &params);
	struct chap_ava uid = { CHAP_ATT_USER_IDENTITY, 5,
	    (const uint8_t *)"alice" };
	uint8_t buf[600], ch[16];
	size_t n, used, i;

	n = password_encode_request(buf, sizeof(buf), (const uint8_t *)"bob",
	    3, (const uint8_t *)"hunter2", 7);
	for (i = 0; i < n; i++)
		ck_assert(!auth_input_checks(a, buf, i));
	ck_assert(auth_input_checks(a, buf, n));
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_VERIFY);
	/* Checked (or being checked): never again. */
	ck_assert(!auth_input_checks(a, buf, n));
	auth_free(a);
	/* A malformed request fails without a check. */
	a = auth_new(0x02, &params);
	ck_assert(!auth_input_checks(a, (const uint8_t *)"\x05\x01\x00", 3));
	auth_free(a);

	/* CHAP: not ALGORITHMS, not USER-IDENTITY; the RESPONSE message. */
	a = auth_new(0x03, &params);
	{
		struct chap_ava alg = { CHAP_ATT_ALGORITHMS, 1, &alg_md5 };

		n = msg(buf, sizeof(buf), &alg, 1);
		ck_assert(!auth_input_checks(a, buf, n));
	}
	auth_free(a);
	a = chap_begin(NULL, ch);
	n = msg(buf, sizeof(buf), &uid, 1);
	ck_assert(!auth_input_checks(a, buf, n));
	/* USER-IDENTITY alone, then RESPONSE, in one buffer. */
	n += chap_response(buf + n, sizeof(buf) - n, NULL, ALICE_SECRET, ch,
	    NULL, 0, NULL, 0);
	for (i = 0; i < n; i++)
		ck_assert(!auth_input_checks(a, buf, i));
	ck_assert(auth_input_checks(a, buf, n));
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_OK);
	ck_assert(!auth_input_checks(a, buf, n));
	auth_free(a);
}
END_TEST

/* PuTTY: USER-IDENTITY with ALGORITHMS, then RESPONSE on its own. */
START_TEST(test_chap_plink_order)
{
	uint8_t ch[16], buf[600];
	struct auth *a = chap_begin("alice", ch);
	size_t n, used;

	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_OK);
	expect_status(a, 0x00, 1);
	ck_assert_str_eq(auth_user(a), "alice");
	auth_free(a);
}
END_TEST

/* The name in a message of its own, then the response; and in pieces. */
START_TEST(test_chap_split_messages)
{
	uint8_t ch[16], buf[600], out[AUTH_OUT_MAX];
	struct auth *a = chap_begin(NULL, ch);
	struct chap_ava who = { CHAP_ATT_USER_IDENTITY, 5,
	    (const uint8_t *)"alice" };
	size_t n, m, used, i;

	n = msg(buf, sizeof(buf), &who, 1);
	m = chap_response(buf + n, sizeof(buf) - n, NULL, ALICE_SECRET, ch,
	    NULL, 0, NULL, 0);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(feed(a, buf, i, &used), AUTH_NEED_MORE);
		ck_assert_uint_eq(used, 0);
	}
	ck_assert_int_eq(feed(a, buf, n + 3, &used), AUTH_NEED_MORE);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(take_output(a, out), 0);
	ck_assert_int_eq(feed(a, buf + n, m, &used), AUTH_OK);
	ck_assert_uint_eq(used, m);
	expect_status(a, 0x00, 1);
	auth_free(a);
}
END_TEST

/* Unknown, ignorable attributes anywhere; attribute order free. */
START_TEST(test_chap_unknown_attributes)
{
	static const uint8_t idv = 7, junk[3] = { 1, 2, 3 };
	struct chap_ava first[4] = {
		{ 0x77, 3, junk },
		{ CHAP_ATT_TEXT_MESSAGE, 5, (const uint8_t *)"hello" },
		{ CHAP_ATT_CHARSET, 5, (const uint8_t *)"UTF-8" },
		{ CHAP_ATT_ALGORITHMS, 1, &alg_md5 },
	};
	struct chap_ava extra[2] = {
		{ CHAP_ATT_IDENTIFIER, 1, &idv },
		{ 0xee, 0, NULL },
	};
	struct auth *a = auth_new(0x03, &params);
	uint8_t buf[600], out[AUTH_OUT_MAX];
	const struct chap_ava *ch;
	struct chap_msg m;
	size_t n, used;

	n = msg(buf, sizeof(buf), first, 4);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_NEED_MORE);
	server_msg(a, out, &m);
	ch = chap_msg_find(&m, CHAP_ATT_CHALLENGE);
	ck_assert_ptr_nonnull(ch);
	n = chap_response(buf, sizeof(buf), "alice", ALICE_SECRET, ch->val,
	    NULL, 0, extra, 2);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_OK);
	auth_free(a);
}
END_TEST

START_TEST(test_chap_algorithms)
{
	static const uint8_t many[3] = { 0x05, 0x86, 0x85 }, other[2] = {
	    0x05, 0x86 };
	struct chap_ava alg = { CHAP_ATT_ALGORITHMS, 3, many };
	uint8_t buf[64], out[AUTH_OUT_MAX];
	struct chap_msg m;
	struct auth *a;
	size_t n, used;

	/* 85 among others is chosen. */
	a = auth_new(0x03, &params);
	n = msg(buf, sizeof(buf), &alg, 1);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_NEED_MORE);
	server_msg(a, out, &m);
	ck_assert_uint_eq(chap_msg_find(&m, CHAP_ATT_ALGORITHMS)->val[0], 0x85);
	auth_free(a);

	/* Without 85: STATUS(failure) and close. */
	a = auth_new(0x03, &params);
	alg.val = other;
	alg.len = 2;
	n = msg(buf, sizeof(buf), &alg, 1);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	expect_status(a, CHAP_STATUS_FAILURE, 1);
	ck_assert_str_eq(auth_fail_reason(a), "no-common-algorithm");
	ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_NONE);
	auth_free(a);

	/* No ALGORITHMS at all in the first message. */
	a = auth_new(0x03, &params);
	n = msg(buf, sizeof(buf), NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	expect_status(a, CHAP_STATUS_FAILURE, 1);
	ck_assert_str_eq(auth_fail_reason(a), "no-algorithms");
	auth_free(a);
}
END_TEST

/*
 * A wrong secret, an unknown user, a user without CHAP secret: each gets
 * a challenge and fails at the response with the same answer.
 */
START_TEST(test_chap_failures_look_alike)
{
	static const struct {
		const char *user, *secret, *reason;
	} cases[] = {
		{ "alice", "wrong", "bad-response" },
		{ "mallory", "anything", "unknown-user" },
		{ "bob", "anything", "unknown-user" },
		{ "carol", ALICE_SECRET, "bad-response" },
	};
	uint8_t ch[16], buf[600];
	size_t i, n, used;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct auth *a = chap_begin(cases[i].user, ch);

		n = chap_response(buf, sizeof(buf), NULL, cases[i].secret, ch,
		    NULL, 0, NULL, 0);
		ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
		expect_status(a, CHAP_STATUS_FAILURE, 1);
		ck_assert_str_eq(auth_fail_reason(a), cases[i].reason);
		ck_assert_int_eq(auth_check_result(a), AUTH_CHECK_BAD);
		auth_free(a);
	}
	/* carol has only a CHAP secret: CHAP works for her. */
	{
		struct auth *a = chap_begin("carol", ch);

		n = chap_response(buf, sizeof(buf), NULL, CAROL_SECRET, ch,
		    NULL, 0, NULL, 0);
		ck_assert_int_eq(feed(a, buf, n, &used), AUTH_OK);
		auth_free(a);
	}
}
END_TEST

START_TEST(test_chap_protocol_errors)
{
	static const uint8_t r16[16] = { 0 };
	uint8_t ch[16], buf[600], resp[16];
	struct chap_ava avas[3];
	struct auth *a;
	size_t n, used;

	/* RESPONSE before any challenge. */
	a = auth_new(0x03, &params);
	avas[0] = (struct chap_ava){ CHAP_ATT_ALGORITHMS, 1, &alg_md5 };
	avas[1] = (struct chap_ava){ CHAP_ATT_RESPONSE, 16, r16 };
	n = msg(buf, sizeof(buf), avas, 2);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	expect_status(a, CHAP_STATUS_FAILURE, 1);
	ck_assert_str_eq(auth_fail_reason(a), "response-before-challenge");
	auth_free(a);

	/* A different name in a later message. */
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), "bob", ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "user-identity-changed");
	auth_free(a);

	/* The same name again is fine. */
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), "alice", ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_OK);
	auth_free(a);

	/* A response and no name at all. */
	a = chap_begin(NULL, ch);
	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "no-user-identity");
	auth_free(a);

	/* An empty name. */
	a = auth_new(0x03, &params);
	avas[1] = (struct chap_ava){ CHAP_ATT_USER_IDENTITY, 0, NULL };
	n = msg(buf, sizeof(buf), avas, 2);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "bad-user-identity");
	auth_free(a);

	/* A name with a NUL. */
	a = auth_new(0x03, &params);
	avas[1] = (struct chap_ava){ CHAP_ATT_USER_IDENTITY, 3,
	    (const uint8_t *)"a\0b" };
	n = msg(buf, sizeof(buf), avas, 2);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	auth_free(a);

	/* Two responses. */
	a = chap_begin("alice", ch);
	hmac(ALICE_SECRET, ch, 16, resp);
	avas[0] = (struct chap_ava){ CHAP_ATT_RESPONSE, 16, resp };
	avas[1] = (struct chap_ava){ CHAP_ATT_RESPONSE, 16, resp };
	n = msg(buf, sizeof(buf), avas, 2);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "several-responses");
	auth_free(a);

	/* A response of the wrong length (the right prefix). */
	a = chap_begin("alice", ch);
	avas[0] = (struct chap_ava){ CHAP_ATT_RESPONSE, 15, resp };
	n = msg(buf, sizeof(buf), avas, 1);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "bad-response");
	auth_free(a);

	/* Not a CHAP message (a SOCKS5 request too early). */
	a = chap_begin("alice", ch);
	ck_assert_int_eq(feed(a, (const uint8_t *)"\x05\x01\x00", 3, &used),
	    AUTH_FAIL);
	expect_status(a, CHAP_STATUS_FAILURE, 1);
	ck_assert_str_eq(auth_fail_reason(a), "bad-version");
	auth_free(a);

	/* Endless chatter without a response. */
	a = chap_begin("alice", ch);
	n = msg(buf, sizeof(buf), NULL, 0);
	/* The 8 messages allowed: the first, then 7 empty ones. */
	for (used = 0; used < 7; used++) {
		size_t u;

		ck_assert_int_eq(feed(a, buf, n, &u), AUTH_NEED_MORE);
	}
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "too-many-messages");
	auth_free(a);
}
END_TEST

/* Mutual: the server answers the client's challenge, then waits. */
static void
mutual_run(enum auth_chap_mutual mode, bool server_secret, bool client_ok,
    enum auth_status want_after_response)
{
	static const uint8_t cc[20] = "client's challenge!";
	uint8_t ch[16], buf[600], out[AUTH_OUT_MAX], want[16];
	const struct chap_ava *r;
	struct chap_msg m;
	struct auth *a;
	size_t n, used;

	params.chap_mutual = mode;
	params.chap_server_key = server_secret ? &server_key : NULL;
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, cc,
	    sizeof(cc), NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), want_after_response);
	if (want_after_response == AUTH_OK) {
		/* deny: STATUS only, no RESPONSE. */
		expect_status(a, 0, 1);
		ck_assert(!auth_mutual(a));
		auth_free(a);
		return;
	}
	server_msg(a, out, &m);
	ck_assert_uint_eq(m.navas, 2);
	ck_assert(chap_status_is_success(chap_msg_find(&m, CHAP_ATT_STATUS)));
	r = chap_msg_find(&m, CHAP_ATT_RESPONSE);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->len, 16);
	hmac(server_secret ? SERVER_SECRET : ALICE_SECRET, cc, sizeof(cc),
	    want);
	ck_assert_int_eq(memcmp(r->val, want, 16), 0);
	ck_assert(auth_mutual(a));
	/* The client's verdict on us, with the request behind it. */
	{
		uint8_t st = client_ok ? 0 : 0xff;
		struct chap_ava sa = { CHAP_ATT_STATUS, 1, &st };

		n = msg(buf, sizeof(buf), &sa, 1);
		memcpy(buf + n, "\x05\x01", 2);
		ck_assert_int_eq(feed(a, buf, n + 2, &used),
		    client_ok ? AUTH_OK : AUTH_FAIL);
		ck_assert_uint_eq(used, n);
		ck_assert_uint_eq(take_output(a, out), 0);
		if (!client_ok)
			ck_assert_str_eq(auth_fail_reason(a),
			    "client-rejected-server");
	}
	auth_free(a);
}

START_TEST(test_chap_mutual_allow)
{
	mutual_run(AUTH_CHAP_MUTUAL_ALLOW, false, true, AUTH_NEED_MORE);
	mutual_run(AUTH_CHAP_MUTUAL_ALLOW, false, false, AUTH_NEED_MORE);
}
END_TEST

START_TEST(test_chap_mutual_server_secret)
{
	mutual_run(AUTH_CHAP_MUTUAL_ALLOW, true, true, AUTH_NEED_MORE);
	mutual_run(AUTH_CHAP_MUTUAL_REQUIRE, true, true, AUTH_NEED_MORE);
}
END_TEST

START_TEST(test_chap_mutual_require)
{
	uint8_t ch[16], buf[600];
	struct auth *a;
	size_t n, used;

	mutual_run(AUTH_CHAP_MUTUAL_REQUIRE, false, true, AUTH_NEED_MORE);
	/* No client challenge: refused, after a correct response. */
	params.chap_mutual = AUTH_CHAP_MUTUAL_REQUIRE;
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	expect_status(a, CHAP_STATUS_FAILURE, 1);
	ck_assert_str_eq(auth_fail_reason(a), "mutual-required");
	auth_free(a);
}
END_TEST

START_TEST(test_chap_mutual_deny)
{
	uint8_t ch[16], buf[600];
	struct auth *a;
	size_t n, used;

	mutual_run(AUTH_CHAP_MUTUAL_DENY, false, true, AUTH_OK);
	/* One-way still works under deny. */
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_OK);
	auth_free(a);
}
END_TEST

/* A client challenge equal to ours would make us its oracle. */
START_TEST(test_chap_reflection)
{
	uint8_t ch[16], buf[600];
	struct auth *a = chap_begin("alice", ch);
	size_t n, used;

	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, ch, 16,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	expect_status(a, CHAP_STATUS_FAILURE, 1);
	ck_assert_str_eq(auth_fail_reason(a), "reflected-challenge");
	auth_free(a);

	/* An empty client challenge is refused too. */
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch,
	    (const uint8_t *)"", 0, NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "bad-client-challenge");
	auth_free(a);
}
END_TEST

/* Challenges are fresh every time. */
START_TEST(test_chap_challenges_differ)
{
	uint8_t c1[16], c2[16];
	struct auth *a = chap_begin(NULL, c1), *b = chap_begin(NULL, c2);

	ck_assert_int_ne(memcmp(c1, c2, 16), 0);
	auth_free(a);
	auth_free(b);
}
END_TEST

/* Without a users database nobody gets in, and nothing crashes. */
START_TEST(test_chap_no_db)
{
	uint8_t ch[16], buf[600];
	struct auth *a;
	size_t n, used;

	params.db = NULL;
	a = chap_begin("alice", ch);
	n = chap_response(buf, sizeof(buf), NULL, ALICE_SECRET, ch, NULL, 0,
	    NULL, 0);
	ck_assert_int_eq(feed(a, buf, n, &used), AUTH_FAIL);
	ck_assert_str_eq(auth_fail_reason(a), "unknown-user");
	auth_free(a);
}
END_TEST

static Suite *
auth_suite(void)
{
	Suite *s = suite_create("auth");
	TCase *tp = tcase_create("password_msg");
	TCase *tm = tcase_create("methods");
	TCase *tc = tcase_create("chap");

	tcase_add_test(tp, test_password_parse);
	tcase_add_test(tp, test_password_parse_errors);
	tcase_add_test(tp, test_password_max_and_nul);
	suite_add_tcase(s, tp);

	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, test_table);
#ifdef HAVE_GSSAPI
	tcase_add_test(tm, test_gssapi_framing);
#endif
	tcase_add_test(tm, test_none);
	tcase_add_test(tm, test_password_ok);
	tcase_add_test(tm, test_password_wrong);
	tcase_add_test(tm, test_password_malformed);
	suite_add_tcase(s, tm);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_chap_one_way);
	tcase_add_test(tc, test_input_checks);
	tcase_add_test(tc, test_chap_plink_order);
	tcase_add_test(tc, test_chap_split_messages);
	tcase_add_test(tc, test_chap_unknown_attributes);
	tcase_add_test(tc, test_chap_algorithms);
	tcase_add_test(tc, test_chap_failures_look_alike);
	tcase_add_test(tc, test_chap_protocol_errors);
	tcase_add_test(tc, test_chap_mutual_allow);
	tcase_add_test(tc, test_chap_mutual_server_secret);
	tcase_add_test(tc, test_chap_mutual_require);
	tcase_add_test(tc, test_chap_mutual_deny);
	tcase_add_test(tc, test_chap_reflection);
	tcase_add_test(tc, test_chap_challenges_differ);
	tcase_add_test(tc, test_chap_no_db);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(auth_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_pam.c - unit tests for the PAM password backend, auth/pam.c
 * (suite "pam"): the conversation function (what it answers to each
 * kind of message, what it keeps for the log, how it fails), the
 * mapping of PAM results to verdicts for each call, and the checks
 * pam_backend_check() makes before it calls PAM at all. A real stack
 * runs in tests/integration/25-auth-pam.sh (pam_wrapper, pam_matrix)
 * and 26-auth-pam-unix.sh (pam_unix, as root).
 */
#include "config_auto.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_PAM
#include <security/pam_appl.h>
#endif

#include "pam.h"
#include "userdb.h"
#include "unit_util.h"

/* Before PAM: names and passwords no stack should be given. */
START_TEST(test_check_refuses_first)
{
	char why[128] = "x";

	/* An empty name would make the stack prompt for one. */
	ck_assert_int_eq(pam_backend_check("sockeye-no-such-service", "",
	    (const uint8_t *)"pw", 2, NULL, why, sizeof(why)),
	    pam_backend_available() ? USERDB_NO_USER : USERDB_PAM_ERROR);
	if (!pam_backend_available()) {
		ck_assert_str_eq(why, "this sockeyed was built without PAM");
		return;
	}
	ck_assert_str_eq(why, "");
	/* A NUL would cut the password short: never a prefix. */
	ck_assert_int_eq(pam_backend_check("sockeye-no-such-service", "a",
	    (const uint8_t *)"p\0w", 3, NULL, why, sizeof(why)),
	    USERDB_BAD_PASSWORD);
	{
		uint8_t longpw[256];

		memset(longpw, 'x', sizeof(longpw));
		ck_assert_int_eq(pam_backend_check("sockeye-no-such-service",
		    "a", longpw, sizeof(longpw), NULL, why, sizeof(why)),
		    USERDB_BAD_PASSWORD);
	}
}
END_TEST

#ifdef HAVE_PAM

START_TEST(test_result_mapping)
{
	static const struct {
		int rc;
		enum userdb_result auth, account;
	} t[] = {
		{ PAM_SUCCESS, USERDB_OK, USERDB_OK },
		{ PAM_AUTH_ERR, USERDB_BAD_PASSWORD, USERDB_ACCOUNT_REFUSED },
		{ PAM_CRED_INSUFFICIENT, USERDB_BAD_PASSWORD,
		    USERDB_ACCOUNT_REFUSED },
		{ PAM_MAXTRIES, USERDB_BAD_PASSWORD, USERDB_ACCOUNT_REFUSED },
		{ PAM_USER_UNKNOWN, USERDB_NO_USER, USERDB_NO_USER },
		{ PAM_ACCT_EXPIRED, USERDB_ACCOUNT_EXPIRED,
		    USERDB_ACCOUNT_EXPIRED },
		{ PAM_NEW_AUTHTOK_REQD, USERDB_PASSWORD_EXPIRED,
		    USERDB_PASSWORD_EXPIRED },
		{ PAM_AUTHTOK_EXPIRED, USERDB_PASSWORD_EXPIRED,
		    USERDB_PASSWORD_EXPIRED },
		{ PAM_PERM_DENIED, USERDB_ACCOUNT_REFUSED,
		    USERDB_ACCOUNT_REFUSED },
		/* The stack's own failures. */
		{ PAM_AUTHINFO_UNAVAIL, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ PAM_SERVICE_ERR, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ PAM_SYSTEM_ERR, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ PAM_BUF_ERR, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ PAM_CONV_ERR, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ PAM_ABORT, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ PAM_IGNORE, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
		{ 9999, USERDB_PAM_ERROR, USERDB_PAM_ERROR },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(pam_backend_result(PAM_BACKEND_AUTH, t[i].rc) ==
		    t[i].auth, "pam_authenticate %d", t[i].rc);
		ck_assert_msg(pam_backend_result(PAM_BACKEND_ACCOUNT,
		    t[i].rc) == t[i].account, "pam_acct_mgmt %d", t[i].rc);
	}
	/* pam_start and pam_set_item: success or the stack's failure. */
	ck_assert_int_eq(pam_backend_result(PAM_BACKEND_START, PAM_SUCCESS),
	    USERDB_OK);
	ck_assert_int_eq(pam_backend_result(PAM_BACKEND_START, PAM_AUTH_ERR),
	    USERDB_PAM_ERROR);
	ck_assert_int_eq(pam_backend_result(PAM_BACKEND_START,
	    PAM_USER_UNKNOWN), USERDB_PAM_ERROR);
	/* Every verdict has its own reason in the log. */
	ck_assert_str_eq(userdb_result_str(USERDB_ACCOUNT_EXPIRED),
	    "account-expired");
	ck_assert_str_eq(userdb_result_str(USERDB_PASSWORD_EXPIRED),
	    "password-expired");
	ck_assert_str_eq(userdb_result_str(USERDB_ACCOUNT_REFUSED),
	    "account-refused");
	ck_assert_str_eq(userdb_result_str(USERDB_PAM_ERROR), "pam-error");
	ck_assert_str_eq(userdb_result_str(USERDB_TIMEOUT), "timeout");
}
END_TEST

/* Run the conversation over `n` messages of the given styles and texts. */
static int
converse(struct pam_backend_conv *c, int n, const int *styles,
    const char *const *texts, struct pam_response **resp)
{
	struct pam_message m[40];
	const struct pam_message *mp[40];
	int i;

	ck_assert_int_le(n, 40);
	for (i = 0; i < n; i++) {
		m[i].msg_style = styles[i];
		m[i].msg = texts[i];
		mp[i] = &m[i];
	}
	return pam_backend_conv(n, mp, resp, c);
}

static void
free_resp(struct pam_response *r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
}

START_TEST(test_conv_answers)
{
	struct pam_backend_conv c = { .user = "alice", .pw = "s3cret pw" };
	static const int styles[] = {
		PAM_TEXT_INFO, PAM_PROMPT_ECHO_ON, PAM_PROMPT_ECHO_OFF,
		PAM_ERROR_MSG, PAM_PROMPT_ECHO_OFF, PAM_ERROR_MSG,
	};
	static const char *const texts[] = {
		"Welcome", "login: ", "Password: ", "Your account has expired",
		"Password again: ", "second message",
	};
	struct pam_response *r = NULL;

	ck_assert_int_eq(converse(&c, 6, styles, texts, &r), PAM_SUCCESS);
	ck_assert_ptr_nonnull(r);
	/* Informational messages get no answer; prompts get theirs. */
	ck_assert_ptr_null(r[0].resp);
	ck_assert_str_eq(r[1].resp, "alice");
	ck_assert_str_eq(r[2].resp, "s3cret pw");
	ck_assert_ptr_null(r[3].resp);
	ck_assert_str_eq(r[4].resp, "s3cret pw");
	ck_assert_ptr_null(r[5].resp);
	/* Each answer is a copy libpam frees, not ours. */
	ck_assert_ptr_ne(r[2].resp, c.pw);
	ck_assert_int_eq(r[2].resp_retcode, 0);
	/* The first error message is kept for the log. */
	ck_assert_str_eq(c.msg, "Your account has expired");
	free_resp(r, 6);

	/* A long one is cut to fit. */
	{
		char big[400];
		const char *bigtext[] = { big };
		static const int err[] = { PAM_ERROR_MSG };
		struct pam_backend_conv d = { .user = "a", .pw = "b" };

		memset(big, 'm', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		ck_assert_int_eq(converse(&d, 1, err, bigtext, &r),
		    PAM_SUCCESS);
		ck_assert_uint_eq(strlen(d.msg), sizeof(d.msg) - 1);
		free_resp(r, 1);
	}
}
END_TEST

START_TEST(test_conv_failures)
{
	struct pam_backend_conv c = { .user = "alice", .pw = "pw" };
	static const int styles[] = {
		PAM_PROMPT_ECHO_OFF, PAM_PROMPT_ECHO_ON, 77,
	};
	static const char *const texts[] = { "Password: ", "login: ", "?" };
	struct pam_response *r = (struct pam_response *)&c;
	int many[PAM_MAX_NUM_MSG + 1];
	const char *manytexts[PAM_MAX_NUM_MSG + 1];
	int i;

	/* An unknown style (a binary prompt): refused, nothing handed out
	 * (the password copy made for the first prompt is freed). */
	ck_assert_int_eq(converse(&c, 3, styles, texts, &r), PAM_CONV_ERR);
	ck_assert_ptr_null(r);
	/* No message, or more than PAM allows. */
	r = (struct pam_response *)&c;
	ck_assert_int_eq(pam_backend_conv(0, NULL, &r, &c), PAM_CONV_ERR);
	ck_assert_ptr_null(r);
	for (i = 0; i <= PAM_MAX_NUM_MSG; i++) {
		many[i] = PAM_TEXT_INFO;
		manytexts[i] = "hello";
	}
	ck_assert_int_eq(converse(&c, PAM_MAX_NUM_MSG + 1, many, manytexts,
	    &r), PAM_CONV_ERR);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(converse(&c, PAM_MAX_NUM_MSG, many, manytexts, &r),
	    PAM_SUCCESS);
	free_resp(r, PAM_MAX_NUM_MSG);
	/* Without its data. */
	ck_assert_int_eq(converse(NULL, 1, styles, texts, &r), PAM_CONV_ERR);
	ck_assert_ptr_null(r);
}
END_TEST

#endif /* HAVE_PAM */

static Suite *
pam_suite(void)
{
	Suite *s = suite_create("pam");
	TCase *tc = tcase_create("pam");

	tcase_add_test(tc, test_check_refuses_first);
#ifdef HAVE_PAM
	tcase_add_test(tc, test_result_mapping);
	tcase_add_test(tc, test_conv_answers);
	tcase_add_test(tc, test_conv_failures);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(pam_suite(), NULL);
}

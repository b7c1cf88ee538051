/*
 * check_quota.c - shared session accounting: global and per-key limits
 * across slots and across processes, release, a dead worker's slot
 * cleared, stale keys recycled, a table that is really full.
 */
#include "config_auto.h"

#include <check.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quota.h"

static union sockaddr_any
sa(const char *ip)
{
	union sockaddr_any a;

	ck_assert(sockaddr_parse_ip(ip, 1234, &a) == 0);
	return a;
}

START_TEST(global_limit)
{
	struct quota *l = quota_new(2, 64);
	union sockaddr_any a = sa("127.0.0.1"), b = sa("127.0.0.2");

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 3, 0, 32, 64), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 1, &b.sa, 3, 0, 32, 64), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 1, &b.sa, 3, 0, 32, 64), QUOTA_OK);
	ck_assert_uint_eq(quota_total(l), 3);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 3, 0, 32, 64),
	    QUOTA_OVER_GLOBAL);
	ck_assert_uint_eq(quota_total(l), 3);
	quota_release_client(l, 1, &b.sa, 32, 64);
	ck_assert_uint_eq(quota_total(l), 2);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 3, 0, 32, 64), QUOTA_OK);
	/* 0: no global limit. */
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 0, 32, 64), QUOTA_OK);
	ck_assert_uint_eq(quota_total(l), 4);
	quota_free(l);
}
END_TEST

START_TEST(per_client_across_slots)
{
	struct quota *l = quota_new(3, 64);
	union sockaddr_any a = sa("192.0.2.1"), mapped = sa("::ffff:192.0.2.1");
	union sockaddr_any b = sa("2001:db8::1");

	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 2, 32, 64), QUOTA_OK);
	/* The same client through a v4-mapped address, on another worker. */
	ck_assert_int_eq(quota_acquire_client(l, 2, &mapped.sa, 0, 2, 32, 64), QUOTA_OK);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 2);
	ck_assert_int_eq(quota_acquire_client(l, 1, &a.sa, 0, 2, 32, 64), QUOTA_OVER_KEY);
	/* Others are not affected. */
	ck_assert_int_eq(quota_acquire_client(l, 1, &b.sa, 0, 2, 32, 64), QUOTA_OK);
	ck_assert_uint_eq(quota_client_count(l, &b.sa, 32, 64), 1);
	quota_release_client(l, 0, &a.sa, 32, 64);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 1);
	ck_assert_int_eq(quota_acquire_client(l, 1, &a.sa, 0, 2, 32, 64), QUOTA_OK);
	/* Releasing what was never acquired changes nothing. */
	quota_release_client(l, 0, &b.sa, 32, 64);
	ck_assert_uint_eq(quota_client_count(l, &b.sa, 32, 64), 1);
	quota_free(l);
}
END_TEST

START_TEST(users)
{
	struct quota *l = quota_new(2, 16);

	ck_assert_int_eq(quota_acquire_user(l, 0, "alice", 2), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_user(l, 1, "alice", 2), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_user(l, 0, "alice", 2), QUOTA_OVER_KEY);
	ck_assert_int_eq(quota_acquire_user(l, 0, "alicf", 2), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_user(l, 0, "", 1), QUOTA_OK);
	ck_assert_uint_eq(quota_user_count(l, "alice"), 2);
	ck_assert_uint_eq(quota_user_count(l, "alicf"), 1);
	ck_assert_uint_eq(quota_user_count(l, "bob"), 0);
	quota_release_user(l, 1, "alice");
	ck_assert_int_eq(quota_acquire_user(l, 0, "alice", 2), QUOTA_OK);
	/* User counts are not session counts. */
	ck_assert_uint_eq(quota_total(l), 0);
	quota_free(l);
}
END_TEST

/* A dead worker's slot is cleared by the master: its sessions stop counting. */
START_TEST(clear_slot)
{
	struct quota *l = quota_new(2, 16);
	union sockaddr_any a = sa("10.0.0.1");
	int i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(quota_acquire_client(l, 1, &a.sa, 6, 5, 32, 64), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_user(l, 1, "bob", 1), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 6, 5, 32, 64), QUOTA_OVER_KEY);
	quota_clear_slot(l, 1);
	ck_assert_uint_eq(quota_total(l), 0);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 0);
	ck_assert_uint_eq(quota_user_count(l, "bob"), 0);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 6, 5, 32, 64), QUOTA_OK);
	quota_clear_slot(l, 7);	/* out of range: ignored */
	quota_free(l);
}
END_TEST

/* Many distinct clients over time, few at once: stale keys are recycled. */
START_TEST(recycle_stale_keys)
{
	struct quota *l = quota_new(1, 8);
	char ip[32];
	int i;

	for (i = 0; i < 20000; i++) {
		union sockaddr_any a;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		a = sa(ip);
		ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 10, 32, 64), QUOTA_OK);
		quota_release_client(l, 0, &a.sa, 32, 64);
	}
	ck_assert_uint_eq(quota_total(l), 0);
	quota_free(l);
}
END_TEST

/* More live keys than the table holds: refused, never corrupted. */
START_TEST(table_full)
{
	struct quota *l = quota_new(1, 8);	/* 16 entries */
	char ip[32];
	int i, ok = 0, full = 0;

	for (i = 0; i < 40; i++) {
		union sockaddr_any a;
		enum quota_verdict v;

		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		a = sa(ip);
		v = quota_acquire_client(l, 0, &a.sa, 0, 0, 32, 64);
		if (v == QUOTA_OK)
			ok++;
		else {
			ck_assert_int_eq(v, QUOTA_TABLE_FULL);
			full++;
		}
	}
	ck_assert_int_ge(ok, 8);
	ck_assert_int_gt(full, 0);
	ck_assert_uint_eq(quota_total(l), (uint64_t)ok);
	/* Every admitted client is still counted exactly once. */
	for (i = 0; i < ok; i++) {
		union sockaddr_any a;

		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		a = sa(ip);
		ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 1);
	}
	quota_free(l);
}
END_TEST

/* Another process (a worker) counts in its slot; the parent sees it. */
START_TEST(across_processes)
{
	struct quota *l = quota_new(2, 16);
	union sockaddr_any a = sa("127.0.0.9");
	int status;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int i;

		for (i = 0; i < 3; i++)
			if (quota_acquire_client(l, 1, &a.sa, 0, 0, 32, 64) != QUOTA_OK)
				_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(quota_total(l), 3);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 3);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 3, 32, 64), QUOTA_OVER_KEY);
	quota_free(l);
}
END_TEST

START_TEST(bad_args)
{
	ck_assert_ptr_null(quota_new(0, 16));
	quota_free(NULL);
}
END_TEST

static Suite *
quota_suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, global_limit);
	tcase_add_test(tc, per_client_across_slots);
	tcase_add_test(tc, users);
	tcase_add_test(tc, clear_slot);
	tcase_add_test(tc, recycle_stale_keys);
	tcase_add_test(tc, table_full);
	tcase_add_test(tc, across_processes);
	tcase_add_test(tc, bad_args);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(quota_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

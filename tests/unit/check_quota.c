/* SPDX-License-Identifier: ISC */
/*
 * check_quota.c - shared session accounting: global and per-key limits
 * across slots and across processes, release, a dead worker's slot
 * cleared, stale keys recycled, a table that is really full; exactness
 * when processes race for the last place, client networks (/64, /24),
 * counts rebuilt when a worker is killed at any instant, a hostile slot.
 */
#include "config_auto.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "quota.h"
#include "unit_util.h"

START_TEST(global_limit)
{
	struct quota *l = quota_new(2, 64);
	union sockaddr_any a = unit_addr("127.0.0.1", 1234);
	union sockaddr_any b = unit_addr("127.0.0.2", 1234);

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
	union sockaddr_any a = unit_addr("192.0.2.1", 1234);
	union sockaddr_any mapped = unit_addr("::ffff:192.0.2.1", 1234);
	union sockaddr_any b = unit_addr("2001:db8::1", 1234);

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
	union sockaddr_any a = unit_addr("10.0.0.1", 1234);
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
		a = unit_addr(ip, 1234);
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
	struct quota *l = quota_new(1, 8);	/* 64 entries, the least */
	char ip[32];
	int i, ok = 0, full = 0;

	for (i = 0; i < 100; i++) {
		union sockaddr_any a;
		enum quota_verdict v;

		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		a = unit_addr(ip, 1234);
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
		a = unit_addr(ip, 1234);
		ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 1);
	}
	quota_free(l);
}
END_TEST

/* Another process (a worker) counts in its slot; the parent sees it. */
START_TEST(across_processes)
{
	struct quota *l = quota_new(2, 16);
	union sockaddr_any a = unit_addr("127.0.0.9", 1234);
	int status;
	pid_t pid;

	pid = unit_fork();
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

/* IPv6 clients count by their /64 (or the configured prefix). */
START_TEST(client_prefixes)
{
	struct quota *l = quota_new(2, 64);
	union sockaddr_any a = unit_addr("2001:db8:1:2::1", 1234);
	union sockaddr_any b = unit_addr("2001:db8:1:2:ffff::9", 1234);
	union sockaddr_any c = unit_addr("2001:db8:1:3::1", 1234);
	union sockaddr_any v4a = unit_addr("192.0.2.1", 1234);
	union sockaddr_any v4b = unit_addr("192.0.2.200", 1234);
	union sockaddr_any v4m = unit_addr("::ffff:192.0.2.77", 1234);

	/* One /64, two addresses, two workers: one count. */
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 2, 32, 64),
	    QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 1, &b.sa, 0, 2, 32, 64),
	    QUOTA_OK);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 2);
	ck_assert_int_eq(quota_acquire_client(l, 1, &a.sa, 0, 2, 32, 64),
	    QUOTA_OVER_KEY);
	/* The next /64 is another client. */
	ck_assert_int_eq(quota_acquire_client(l, 0, &c.sa, 0, 2, 32, 64),
	    QUOTA_OK);
	ck_assert_uint_eq(quota_client_count(l, &c.sa, 32, 64), 1);
	/* With /128, every address is its own client. */
	ck_assert_uint_eq(quota_client_count(l, &b.sa, 32, 128), 0);
	/* IPv4: /32 by default, /24 when asked; mapped counts as IPv4. */
	ck_assert_int_eq(quota_acquire_client(l, 0, &v4a.sa, 0, 2, 24, 64),
	    QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 1, &v4m.sa, 0, 2, 24, 64),
	    QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 1, &v4b.sa, 0, 2, 24, 64),
	    QUOTA_OVER_KEY);
	ck_assert_uint_eq(quota_client_count(l, &v4b.sa, 24, 64), 2);
	ck_assert_uint_eq(quota_client_count(l, &v4b.sa, 32, 64), 0);
	/* Release with the same prefixes gives the count back. */
	quota_release_client(l, 1, &b.sa, 32, 64);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 1);
	quota_release_client(l, 0, &v4a.sa, 24, 64);
	ck_assert_int_eq(quota_acquire_client(l, 0, &v4b.sa, 0, 2, 24, 64),
	    QUOTA_OK);
	ck_assert_uint_eq(quota_total(l), 4);
	quota_free(l);
}
END_TEST

/*
 * Processes in four slots race for the last places of one client and one
 * user: exactly the limit is admitted, never one more.
 */
START_TEST(exact_under_race)
{
	enum { NPROC = 4, LIMIT = 37, ROUNDS = 20 };
	int round;

	for (round = 0; round < ROUNDS; round++) {
		struct quota *l = quota_new(NPROC, 64);
		union sockaddr_any a = unit_addr("2001:db8::5", 1234);
		int go[2], res[2], i, status;
		int admitted = 0, uadmitted = 0;
		pid_t pid[NPROC];

		ck_assert_ptr_nonnull(l);
		ck_assert_int_eq(pipe(go), 0);
		ck_assert_int_eq(pipe(res), 0);
		for (i = 0; i < NPROC; i++) {
			pid[i] = unit_fork();
			if (pid[i] == 0) {
				int n = 0, u = 0, tries;
				char c, out[32];

				close(go[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(2);
				/* Until the limit is reached, keep trying. */
				for (tries = 0; tries < 100000 &&
				    (quota_client_count(l, &a.sa, 32, 64) <
				    LIMIT || quota_user_count(l, "carol") <
				    LIMIT); tries++) {
					if (quota_acquire_client(l, i, &a.sa, 0,
					    LIMIT, 32, 64) == QUOTA_OK)
						n++;
					if (quota_acquire_user(l, i, "carol",
					    LIMIT) == QUOTA_OK)
						u++;
				}
				snprintf(out, sizeof(out), "%d %d\n", n, u);
				if (write(res[1], out, strlen(out)) < 0)
					_exit(3);
				_exit(0);
			}
		}
		close(go[0]);
		close(go[1]);	/* everyone starts at once */
		close(res[1]);
		for (i = 0; i < NPROC; i++) {
			ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
			ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
		{
			char buf[512];
			ssize_t n, off = 0;
			char *p;

			while ((n = read(res[0], buf + off,
			    sizeof(buf) - 1 - (size_t)off)) > 0)
				off += n;
			buf[off] = '\0';
			for (p = strtok(buf, "\n"); p != NULL;
			    p = strtok(NULL, "\n")) {
				int x, y;

				ck_assert_int_eq(sscanf(p, "%d %d", &x, &y), 2);
				admitted += x;
				uadmitted += y;
			}
		}
		close(res[0]);
		ck_assert_int_eq(admitted, LIMIT);
		ck_assert_int_eq(uadmitted, LIMIT);
		ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), LIMIT);
		ck_assert_uint_eq(quota_user_count(l, "carol"), LIMIT);
		ck_assert_uint_eq(quota_total(l), LIMIT);
		quota_free(l);
	}
}
END_TEST

/*
 * A worker killed at any instant, in the middle of counting: once the
 * master has cleared its slot, the total and the per-key counts are
 * exactly what the other slots hold.
 */
START_TEST(killed_any_instant)
{
	struct quota *l = quota_new(3, 64);
	union sockaddr_any a = unit_addr("10.1.2.3", 1234);
	union sockaddr_any b = unit_addr("10.1.2.4", 1234);
	int round, i;

	ck_assert_ptr_nonnull(l);
	srand(7);
	/* Slot 0 (the test itself) holds three sessions of a and "dave". */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 0, 32, 64),
		    QUOTA_OK);
		ck_assert_int_eq(quota_acquire_user(l, 0, "dave", 0), QUOTA_OK);
	}
	for (round = 0; round < 300; round++) {
		struct timespec ts = { 0, 20000 + (rand() % 400) * 1000 };
		int status;
		pid_t pid = unit_fork();
		if (pid == 0) {
			/* A busy worker in slot 1: counts up and down, forever. */
			for (;;) {
				for (i = 0; i < 8; i++) {
					(void)quota_acquire_client(l, 1, &a.sa,
					    1000, 1000, 32, 64);
					(void)quota_acquire_client(l, 1, &b.sa,
					    1000, 1000, 32, 64);
					(void)quota_acquire_user(l, 1, "dave",
					    1000);
				}
				for (i = 0; i < 8; i++) {
					quota_release_user(l, 1, "dave");
					quota_release_client(l, 1, &b.sa, 32, 64);
					quota_release_client(l, 1, &a.sa, 32, 64);
				}
			}
		}
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		quota_clear_slot(l, 1);
		ck_assert_uint_eq(quota_total(l), 3);
		ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 3);
		ck_assert_uint_eq(quota_client_count(l, &b.sa, 32, 64), 0);
		ck_assert_uint_eq(quota_user_count(l, "dave"), 3);
	}
	/* And the slot is reusable, the limits exact. */
	ck_assert_int_eq(quota_acquire_client(l, 1, &a.sa, 0, 4, 32, 64),
	    QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 2, &a.sa, 0, 4, 32, 64),
	    QUOTA_OVER_KEY);
	quota_free(l);
}
END_TEST

/*
 * A worker writes garbage over its slot (it is the only slot it may
 * write; nothing stops a compromised one): clearing it neither crashes
 * the master nor disturbs what the other slots hold.
 */
START_TEST(hostile_slot)
{
	struct quota *l = quota_new(2, 64);
	union sockaddr_any a = unit_addr("198.51.100.1", 1234);
	size_t len;
	unsigned char *p;

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(quota_acquire_client(l, 0, &a.sa, 0, 0, 32, 64),
	    QUOTA_OK);
	ck_assert_int_eq(quota_acquire_user(l, 0, "erin", 0), QUOTA_OK);
	ck_assert_int_eq(quota_acquire_client(l, 1, &a.sa, 0, 0, 32, 64),
	    QUOTA_OK);
	p = quota_slot_bytes(l, 1, &len);
	ck_assert_uint_gt(len, 64);
	memset(p, 0xff, len);	/* every count, index and bit at its maximum */
	quota_clear_slot(l, 1);
	ck_assert_uint_eq(quota_total(l), 1);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 1);
	ck_assert_uint_eq(quota_user_count(l, "erin"), 1);
	/* Garbage in slot 1 while slot 0's worker dies: clamped, not summed wild. */
	memset(p, 0xff, len);
	quota_clear_slot(l, 0);
	ck_assert_uint_le(quota_client_count(l, &a.sa, 32, 64), 16777215);
	quota_clear_slot(l, 1);
	ck_assert_uint_eq(quota_total(l), 0);
	ck_assert_uint_eq(quota_client_count(l, &a.sa, 32, 64), 0);
	ck_assert_uint_eq(quota_user_count(l, "erin"), 0);
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

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, global_limit);
	tcase_add_test(tc, per_client_across_slots);
	tcase_add_test(tc, users);
	tcase_add_test(tc, clear_slot);
	tcase_add_test(tc, recycle_stale_keys);
	tcase_add_test(tc, table_full);
	tcase_add_test(tc, across_processes);
	tcase_add_test(tc, client_prefixes);
	tcase_add_test(tc, exact_under_race);
	tcase_add_test(tc, killed_any_instant);
	tcase_add_test(tc, hostile_slot);
	tcase_add_test(tc, bad_args);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(quota_suite(), NULL);
}

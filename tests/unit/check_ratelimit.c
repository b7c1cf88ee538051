/* SPDX-License-Identifier: ISC */
/*
 * check_ratelimit.c - per-user bandwidth buckets: the arithmetic on a
 * given clock, one bucket shared by two processes (the cap holds for
 * their sum), a table that is full (private buckets, never a crash), a
 * full bucket's entry taken over and its user coming back.
 */
#include "config_auto.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "unit_util.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A private bucket (no shared table), on a made-up clock. */
START_TEST(arithmetic)
{
	struct ratelimit *rl = ratelimit_get("alice", 100000, 1000.);
	size_t got;

	ck_assert_ptr_nonnull(rl);
	ck_assert_int_eq(ratelimit_is_shared(rl), 0);
	/* Starts with the burst: max(rate / 10, 16 KiB) = 16384 bytes. */
	got = ratelimit_take(rl, RATELIMIT_UP, 1000., 1000000);
	ck_assert_uint_ge(got, 16383);
	ck_assert_uint_le(got, 16384);
	ck_assert_uint_eq(ratelimit_take(rl, RATELIMIT_UP, 1000., 10), 0);
	/* The other direction has its own balance. */
	ck_assert_uint_eq(ratelimit_take(rl, RATELIMIT_DOWN, 1000., 100), 100);
	/* A fiftieth of a second's worth (2000 bytes) after 20 ms. */
	ck_assert(ratelimit_wait(rl, RATELIMIT_UP, 1000., 1000000) > 0.019);
	ck_assert(ratelimit_wait(rl, RATELIMIT_UP, 1000., 1000000) < 0.021);
	got = ratelimit_take(rl, RATELIMIT_UP, 1000.1, 1000000);
	ck_assert_uint_ge(got, 9999);
	ck_assert_uint_le(got, 10000);
	/* A refund is there at once. */
	ratelimit_refund(rl, RATELIMIT_UP, 300);
	got = ratelimit_take(rl, RATELIMIT_UP, 1000.1, 1000000);
	ck_assert_uint_ge(got, 299);
	ck_assert_uint_le(got, 300);
	/* Idle for long: never more than the burst. */
	got = ratelimit_take(rl, RATELIMIT_UP, 2000., 1000000);
	ck_assert_uint_le(got, 16384);
	/* The same user: the same bucket (one reference more). */
	ck_assert_ptr_eq(ratelimit_get("alice", 100000, 2000.), rl);
	ratelimit_put(rl);
	ratelimit_put(rl);
	ratelimit_put(NULL);
}
END_TEST

/*
 * Two processes (two workers) relay for the same user at once, each
 * taking as fast as it can for a second: together they get the rate,
 * not twice the rate.
 */
START_TEST(shared_two_processes)
{
	const uint64_t rate = 200000;
	const double secs = 1.0;
	struct ratelimit *rl;
	double t0, total = 0;
	int res[2], status, k;
	pid_t pid;

	ck_assert_int_eq(ratelimit_shared_new(16), 0);
	ck_assert_int_eq(pipe(res), 0);
	t0 = now_s() + 0.05;
	for (k = 0; k < 2; k++) {
		pid = unit_fork();
		if (pid == 0) {
			struct ratelimit *r = ratelimit_get("bob", rate, now_s());
			unsigned long long sum = 0;
			double t;

			if (r == NULL || !ratelimit_is_shared(r))
				_exit(2);
			while ((t = now_s()) < t0)
				;
			while ((t = now_s()) < t0 + secs) {
				size_t got = ratelimit_take(r, RATELIMIT_DOWN, t,
				    65536);

				sum += got;
				if (got == 0) {
					struct timespec ts = { 0, 200000 };

					nanosleep(&ts, NULL);
				}
			}
			if (write(res[1], &sum, sizeof(sum)) != sizeof(sum))
				_exit(3);
			_exit(0);
		}
	}
	close(res[1]);
	for (k = 0; k < 2; k++) {
		unsigned long long sum;

		ck_assert_int_eq(read(res[0], &sum, sizeof(sum)), sizeof(sum));
		ck_assert_uint_gt(sum, 0);	/* nobody starved */
		total += (double)sum;
	}
	for (k = 0; k < 2; k++) {
		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* rate * secs + the burst (20000): within 10 %. */
	ck_assert(total <= 1.1 * ((double)rate * secs + 20000.));
	ck_assert(total >= 0.9 * (double)rate * secs);
	/* The parent is a third process: it finds the bucket drained. */
	rl = ratelimit_get("bob", rate, t0 + secs);
	ck_assert_ptr_nonnull(rl);
	ck_assert_int_eq(ratelimit_is_shared(rl), 1);
	ratelimit_put(rl);
	ratelimit_shared_free();
}
END_TEST

/*
 * More busy users than the table holds: the last get private buckets
 * (the cap per worker, as without a table); a user whose bucket is full
 * gives up its entry and gets one again when it comes back.
 */
START_TEST(table_full)
{
	struct ratelimit *rl[200], *back;
	char name[32];
	int i, shared = 0, private = 0;
	double t = 5000.;

	ck_assert_int_eq(ratelimit_shared_new(1), 0);	/* 64 entries */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		rl[i] = ratelimit_get(name, 1000000, t);
		ck_assert_ptr_nonnull(rl[i]);
		/* Busy: takes what it may now, so its bucket is not full. */
		ck_assert_uint_gt(ratelimit_take(rl[i], RATELIMIT_UP, t, 4096),
		    0);
		if (ratelimit_is_shared(rl[i]))
			shared++;
		else
			private++;
	}
	ck_assert_int_le(shared, 64);
	ck_assert_int_gt(shared, 0);
	ck_assert_int_gt(private, 0);
	/* A private bucket still caps. */
	for (i = 0; i < 200; i++)
		if (!ratelimit_is_shared(rl[i]))
			break;
	ck_assert_uint_le(ratelimit_take(rl[i], RATELIMIT_UP, t, 1 << 30),
	    100000);
	ck_assert_uint_eq(ratelimit_take(rl[i], RATELIMIT_UP, t, 1 << 30), 0);
	/* Later, every bucket is full again: entries can change hands. */
	t += 10.;
	back = ratelimit_get("newcomer", 1000000, t);
	ck_assert_int_eq(ratelimit_is_shared(back), 1);
	ck_assert_uint_gt(ratelimit_take(back, RATELIMIT_UP, t, 4096), 0);
	for (i = 0; i < 200; i++) {
		ck_assert_uint_gt(ratelimit_take(rl[i], RATELIMIT_UP, t, 1000),
		    0);
		ratelimit_put(rl[i]);
	}
	ratelimit_put(back);
	ratelimit_shared_free();
}
END_TEST

static Suite *
ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, arithmetic);
	tcase_add_test(tc, shared_two_processes);
	tcase_add_test(tc, table_full);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(ratelimit_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_failtab.c - unit tests for the failed-login table (auth/failtab.h):
 * the growing delay, forgetting, a success clearing, turns spaced by the
 * delay however many attempts come at once, /64 grouping and mapped
 * IPv4, eviction of the stalest entry with memory fixed, and processes
 * (fork) counting and booking turns in one table at the same time.
 */
#include "config_auto.h"

#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "failtab.h"
#include "unit_util.h"

/* The table keeps time in ticks of 16 ms. */
#define TICK 16

START_TEST(test_delay)
{
	struct failtab *t = failtab_new(64);
	union sockaddr_any a = unit_addr("192.0.2.1", 0);
	union sockaddr_any b = unit_addr("192.0.2.2", 0);
	unsigned i;

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(failtab_delay_for(0), 0);
	ck_assert_uint_eq(failtab_delay_for(FAILTAB_FREE - 1), 0);
	ck_assert_uint_eq(failtab_delay_for(FAILTAB_FREE), FAILTAB_BASE_MS);
	ck_assert_uint_eq(failtab_delay_for(FAILTAB_FREE + 1),
	    2 * FAILTAB_BASE_MS);
	ck_assert_uint_eq(failtab_delay_for(1000), FAILTAB_MAX_MS);

	for (i = 1; i <= 10; i++) {
		ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 100),
		    failtab_delay_for(i - 1));
		ck_assert_uint_eq(failtab_fail(t, &a.sa, 100), i);
	}
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 100), FAILTAB_MAX_MS);
	/* The count saturates; the delay stays at its maximum. */
	for (i = 0; i < 100; i++)
		(void)failtab_fail(t, &a.sa, 100);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 100), FAILTAB_MAX_MS);
	/* Others are not affected. */
	ck_assert_uint_eq(failtab_delay_ms(t, &b.sa, 100), 0);
	/* A success clears the source. */
	failtab_success(t, &a.sa);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 100), 0);
	ck_assert_uint_eq(failtab_fail(t, &a.sa, 100), 1);
	/* AF_UNIX and friends are not counted. */
	{
		union sockaddr_any u;

		memset(&u, 0, sizeof(u));
		u.sa.sa_family = AF_UNIX;
		ck_assert_uint_eq(failtab_fail(t, &u.sa, 100), 0);
		ck_assert_uint_eq(failtab_delay_ms(t, &u.sa, 100), 0);
	}
	failtab_free(t);
	failtab_free(NULL);
	ck_assert_uint_eq(failtab_delay_ms(NULL, &a.sa, 100), 0);
}
END_TEST

START_TEST(test_forget)
{
	struct failtab *t = failtab_new(64);
	union sockaddr_any a = unit_addr("192.0.2.1", 0);
	const uint64_t f = FAILTAB_FORGET_MS;
	int i;

	/* Forgotten FAILTAB_FORGET_MS after the last failure (+- a tick). */
	for (i = 0; i < 5; i++)
		failtab_fail(t, &a.sa, 1000);
	ck_assert_uint_gt(failtab_delay_ms(t, &a.sa, 1000), 0);
	ck_assert_uint_gt(failtab_delay_ms(t, &a.sa, 1000 + f - 50), 0);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 1000 + f + 50), 0);
	/* Counting starts again from one. */
	ck_assert_uint_eq(failtab_fail(t, &a.sa, 1000 + f + 50), 1);
	/* A failure refreshes. */
	ck_assert_uint_eq(failtab_fail(t, &a.sa, 2000 + f), 2);
	ck_assert_uint_eq(failtab_fail(t, &a.sa, 3000 + f), 3);
	ck_assert_uint_gt(failtab_delay_ms(t, &a.sa, 2 * f + 2900), 0);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 2 * f + 3100), 0);
	/* Any clock origin: times compare modulo their width. */
	for (i = 0; i < FAILTAB_FREE; i++)
		failtab_fail(t, &a.sa, UINT64_C(5000000000000));
	ck_assert_uint_gt(failtab_delay_ms(t, &a.sa,
	    UINT64_C(5000000000000) + 1000), 0);
	failtab_free(t);
}
END_TEST

/*
 * A penalised source's attempts are checked in turns spaced by its
 * delay, however many connections it opens: the turns are booked in the
 * table, not per connection. Booking a turn counts nothing: a right
 * password from many connections at once is no failure.
 */
START_TEST(test_turns)
{
	struct failtab *t = failtab_new(64);
	union sockaddr_any a = unit_addr("192.0.2.1", 0);
	union sockaddr_any b = unit_addr("192.0.2.2", 0);
	unsigned w, prev, want;
	int i;

	/* Not penalised: no wait, nothing booked, nothing counted. */
	for (i = 0; i < 50; i++)
		ck_assert_uint_eq(failtab_turn_ms(t, &a.sa, 10000), 0);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 10000), 0);
	for (i = 0; i < FAILTAB_FREE - 1; i++)
		failtab_fail(t, &a.sa, 10000);
	ck_assert_uint_eq(failtab_turn_ms(t, &a.sa, 10000), 0);
	failtab_fail(t, &a.sa, 10000);
	/* One client at a time: each attempt waits the delay it earned. */
	w = failtab_turn_ms(t, &a.sa, 10000);
	ck_assert_uint_ge(w, FAILTAB_BASE_MS);
	ck_assert_uint_lt(w, FAILTAB_BASE_MS + 16);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 10000), FAILTAB_BASE_MS);
	prev = 10000 + w;		/* times from here on: absolute */
	failtab_fail(t, &a.sa, prev);
	w = failtab_turn_ms(t, &a.sa, prev);
	ck_assert_uint_ge(w, 2 * FAILTAB_BASE_MS);
	ck_assert_uint_lt(w, 2 * FAILTAB_BASE_MS + 16);
	prev += w;
	/* Ten at once: their turns follow one another, 500 ms apart. */
	for (i = 0; i < 10; i++) {
		want = prev + 2 * FAILTAB_BASE_MS;
		w = 10300 + failtab_turn_ms(t, &a.sa, 10300);
		ck_assert_uint_ge(w + TICK, want);
		ck_assert_uint_lt(w, want + 32);
		prev = w;
	}
	/* A later failure keeps the booked turns, and spaces the next more. */
	ck_assert_uint_eq(failtab_fail(t, &a.sa, 12000), FAILTAB_FREE + 2);
	w = 12000 + failtab_turn_ms(t, &a.sa, 12000);
	ck_assert_uint_ge(w + TICK, prev + 4 * FAILTAB_BASE_MS);
	ck_assert_uint_lt(w, prev + 4 * FAILTAB_BASE_MS + 32);
	/* Others are not affected. */
	ck_assert_uint_eq(failtab_turn_ms(t, &b.sa, 12000), 0);
	/* No more than FAILTAB_AHEAD_MAX_MS of turns are booked. */
	for (i = 0; i < 200; i++)
		failtab_fail(t, &a.sa, 30000);
	for (i = 0; i < 1000; i++) {
		w = failtab_turn_ms(t, &a.sa, 30000);
		if (w == FAILTAB_THROTTLED)
			break;
		ck_assert_uint_le(w, FAILTAB_AHEAD_MAX_MS);
	}
	ck_assert_uint_eq(w, FAILTAB_THROTTLED);
	ck_assert_int_le(i, FAILTAB_AHEAD_MAX_MS / FAILTAB_MAX_MS + 1);
	ck_assert_uint_eq(failtab_turn_ms(t, &a.sa, 30000), FAILTAB_THROTTLED);
	/* Time passes: turns free up again. */
	ck_assert_uint_ne(failtab_turn_ms(t, &a.sa, 30000 + 60000),
	    FAILTAB_THROTTLED);
	/* A success clears the booked turns with the count. */
	failtab_success(t, &a.sa);
	ck_assert_uint_eq(failtab_turn_ms(t, &a.sa, 30000), 0);
	failtab_free(t);
}
END_TEST

START_TEST(test_ipv6_prefix)
{
	struct failtab *t = failtab_new(64);
	union sockaddr_any a = unit_addr("2001:db8:1:2::1", 0);
	union sockaddr_any b = unit_addr("2001:db8:1:2:ffff::9", 0);
	union sockaddr_any c = unit_addr("2001:db8:1:3::1", 0);
	union sockaddr_any m = unit_addr("::ffff:192.0.2.7", 0);
	union sockaddr_any v4 = unit_addr("192.0.2.7", 0);
	union sockaddr_any v4b = unit_addr("192.0.2.8", 0);
	uint8_t s1[FAILTAB_SOURCE_LEN], s2[FAILTAB_SOURCE_LEN];
	int i;

	/* One /64 is one client. */
	for (i = 0; i < FAILTAB_FREE; i++)
		failtab_fail(t, &a.sa, 0);
	ck_assert_uint_gt(failtab_delay_ms(t, &b.sa, 0), 0);
	ck_assert_uint_eq(failtab_delay_ms(t, &c.sa, 0), 0);
	/* A v4-mapped address is the IPv4 address, and a /32. */
	for (i = 0; i < FAILTAB_FREE; i++)
		failtab_fail(t, &m.sa, 0);
	ck_assert_uint_gt(failtab_delay_ms(t, &v4.sa, 0), 0);
	ck_assert_uint_eq(failtab_delay_ms(t, &v4b.sa, 0), 0);
	/* And a success from the IPv4 form clears the mapped one. */
	failtab_success(t, &v4.sa);
	ck_assert_uint_eq(failtab_delay_ms(t, &m.sa, 0), 0);
	ck_assert_int_eq(failtab_source(&m.sa, s1), 0);
	ck_assert_int_eq(failtab_source(&v4.sa, s2), 0);
	ck_assert_mem_eq(s1, s2, sizeof(s1));
	ck_assert_int_eq(failtab_source(&a.sa, s1), 0);
	ck_assert_int_eq(failtab_source(&b.sa, s2), 0);
	ck_assert_mem_eq(s1, s2, sizeof(s1));
	failtab_free(t);
}
END_TEST

/* 200 sources (10.1.0.0 up) fail once at `now`: a 16-slot table is full. */
static void
fill_old(struct failtab *t, uint64_t now)
{
	char ip[32];
	int i;

	for (i = 0; i < 200; i++) {
		union sockaddr_any o;

		snprintf(ip, sizeof(ip), "10.1.%d.%d", i >> 8, i & 255);
		o = unit_addr(ip, 0);
		failtab_fail(t, &o.sa, now);
	}
}

START_TEST(test_eviction)
{
	struct failtab *t = failtab_new(16);
	union sockaddr_any a = unit_addr("198.51.100.1", 0);
	char ip[32];
	int i, j, kept;

	/* Fill the table with old entries (second 1)... */
	fill_old(t, 1000);
	/* ...then our source fails, later (second 2). */
	for (i = 0; i < 5; i++)
		failtab_fail(t, &a.sa, 2000);
	ck_assert_uint_gt(failtab_delay_ms(t, &a.sa, 2000), 0);
	/*
	 * Five newcomers (second 3): each pushes out the stalest entry of
	 * its window, an old one, never ours (16 slots, windows of 8: each
	 * still holds old entries).
	 */
	for (i = 0; i < 5; i++) {
		union sockaddr_any o;

		snprintf(ip, sizeof(ip), "10.2.0.%d", i);
		o = unit_addr(ip, 0);
		ck_assert_uint_eq(failtab_fail(t, &o.sa, 3000), 1);
		ck_assert_uint_gt(failtab_delay_ms(t, &a.sa, 3000), 0);
	}
	/*
	 * A flood (second 4): each newcomer is counted, and in 16 slots our
	 * count, now among the stalest, is pushed out at last (not
	 * forgotten: seconds later).
	 */
	kept = 0;
	for (i = 0; i < 10000; i++) {
		union sockaddr_any o;

		snprintf(ip, sizeof(ip), "10.%d.%d.%d", 3 + (i >> 16),
		    (i >> 8) & 255, i & 255);
		o = unit_addr(ip, 0);
		for (j = 0; j < FAILTAB_FREE; j++)
			failtab_fail(t, &o.sa, 4000);
		if (failtab_delay_ms(t, &o.sa, 4000) > 0)
			kept++;
	}
	ck_assert_int_eq(kept, 10000);
	ck_assert_uint_eq(failtab_delay_ms(t, &a.sa, 4000), 0);
	failtab_free(t);
}
END_TEST

/* A forgotten entry's slot is taken before a live one is evicted. */
START_TEST(test_dead_first)
{
	struct failtab *t = failtab_new(16);
	union sockaddr_any a = unit_addr("198.51.100.1", 0);
	char ip[32];
	int i;

	fill_old(t, 1000);
	/* Long after: everything is forgotten; ours comes and stays. */
	for (i = 0; i < 5; i++)
		failtab_fail(t, &a.sa, 1000 + FAILTAB_FORGET_MS);
	for (i = 0; i < 7; i++) {
		union sockaddr_any o;

		snprintf(ip, sizeof(ip), "10.2.0.%d", i);
		o = unit_addr(ip, 0);
		failtab_fail(t, &o.sa, 2000 + FAILTAB_FORGET_MS);
	}
	ck_assert_uint_gt(failtab_delay_ms(t, &a.sa, 2000 + FAILTAB_FORGET_MS),
	    0);
	failtab_free(t);
}
END_TEST

/* Two processes, one table: what one counts the other sees. */
START_TEST(test_shared_after_fork)
{
	struct failtab *t = failtab_new(64);
	union sockaddr_any a = unit_addr("192.0.2.1", 0);
	union sockaddr_any b = unit_addr("192.0.2.2", 0);
	int go[2], st, i;
	pid_t pid;
	char c = 'x';

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pipe(go), 0);
	pid = unit_fork();
	if (pid == 0) {
		/* The child: 30 failures of `a`, as fast as the parent. */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < 30; i++)
			(void)failtab_fail(t, &a.sa, 5000);
		/* And `b`, which only the child touches. */
		for (i = 0; i < FAILTAB_FREE; i++)
			(void)failtab_fail(t, &b.sa, 5000);
		_exit(0);
	}
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	for (i = 0; i < 30; i++)
		(void)failtab_fail(t, &a.sa, 5000);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* No update lost: 60 failures, the next is the 61st. */
	ck_assert_uint_eq(failtab_fail(t, &a.sa, 5000), 61);
	ck_assert_uint_eq(failtab_delay_ms(t, &b.sa, 5000), FAILTAB_BASE_MS);

	/* Turns booked in one process are seen by the other. */
	{
		unsigned w1, w2;

		pid = unit_fork();
		if (pid == 0)
			_exit(failtab_turn_ms(t, &b.sa, 5000) >=
			    FAILTAB_BASE_MS ? 0 : 1);
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		/* After the child's turn, 250 ms more each. */
		w1 = failtab_turn_ms(t, &b.sa, 5000);
		ck_assert_uint_ge(w1, 2 * FAILTAB_BASE_MS);
		w2 = failtab_turn_ms(t, &b.sa, 5000);
		ck_assert_uint_ge(w2, w1 + FAILTAB_BASE_MS);
	}

	/* A success in one process clears the source for the other. */
	pid = unit_fork();
	if (pid == 0) {
		failtab_success(t, &b.sa);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_uint_eq(failtab_delay_ms(t, &b.sa, 5000), 0);

	/*
	 * A process killed while it counts leaves nothing held: the other
	 * keeps counting (there is no lock to leave behind).
	 */
	pid = unit_fork();
	if (pid == 0) {
		for (;;)
			(void)failtab_fail(t, &b.sa, 5000);
	}
	usleep(20000);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	failtab_success(t, &b.sa);
	ck_assert_uint_eq(failtab_fail(t, &b.sa, 5000), 1);
	close(go[0]);
	close(go[1]);
	failtab_free(t);
}
END_TEST

static Suite *
failtab_suite(void)
{
	Suite *s = suite_create("failtab");
	TCase *tc = tcase_create("failtab");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_delay);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_turns);
	tcase_add_test(tc, test_ipv6_prefix);
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_dead_first);
	tcase_add_test(tc, test_shared_after_fork);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(failtab_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_vcache.c - unit tests for the worker-side authentication helpers
 * (suite "vcache"): the verified-credential cache (hit, miss, expiry,
 * flush, eviction) and the verifier thread pool on a real ev loop
 * (results, cache fill, cancellation while parked, queued and running,
 * a full queue that parks instead of refusing, the per-source cap,
 * shutdown with work pending). The failed-login table: check_failtab.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <crypt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include "failtab.h"
#include "userdb.h"
#include "util.h"
#include "vcache.h"
#include "verifier.h"
#include "unit_util.h"

/* ------------------------------------------------------------------ */
/* Cache                                                                */

static void
key(const struct vcache *c, const char *user, const char *pw, uint8_t *k)
{
	vcache_key(c, user, (const uint8_t *)pw, strlen(pw), k);
}

START_TEST(test_cache_hit_miss)
{
	struct vcache *c = vcache_new(64, 1000);
	uint8_t k1[VCACHE_KEY_LEN], k2[VCACHE_KEY_LEN], k3[VCACHE_KEY_LEN];

	ck_assert_ptr_nonnull(c);
	key(c, "alice", "pw", k1);
	key(c, "alice", "pW", k2);
	key(c, "alic", "epw", k3);
	ck_assert_int_ne(memcmp(k1, k2, sizeof(k1)), 0);
	/* Lengths are part of the key: no ("alic", "epw") = ("alice", "pw"). */
	ck_assert_int_ne(memcmp(k1, k3, sizeof(k1)), 0);
	ck_assert(!vcache_lookup(c, k1, 0));
	vcache_insert(c, k1, 0);
	ck_assert(vcache_lookup(c, k1, 0));
	ck_assert(vcache_lookup(c, k1, 999));
	ck_assert(!vcache_lookup(c, k2, 0));
	ck_assert(!vcache_lookup(c, k3, 0));
	ck_assert_uint_eq(vcache_count(c, 0), 1);
	/* The same pair gives the same key; another cache another key. */
	{
		struct vcache *d = vcache_new(64, 1000);
		uint8_t again[VCACHE_KEY_LEN], other[VCACHE_KEY_LEN];

		key(c, "alice", "pw", again);
		key(d, "alice", "pw", other);
		ck_assert_int_eq(memcmp(k1, again, sizeof(k1)), 0);
		ck_assert_int_ne(memcmp(k1, other, sizeof(k1)), 0);
		ck_assert(!vcache_lookup(d, k1, 0));
		vcache_free(d);
	}
	vcache_free(c);
}
END_TEST

START_TEST(test_cache_expiry)
{
	struct vcache *c = vcache_new(64, 1000);
	uint8_t k[VCACHE_KEY_LEN];

	key(c, "alice", "pw", k);
	vcache_insert(c, k, 5000);
	ck_assert(vcache_lookup(c, k, 5999));
	ck_assert(!vcache_lookup(c, k, 6000));
	ck_assert_uint_eq(vcache_count(c, 6000), 0);
	/* A refresh extends it. */
	vcache_insert(c, k, 5500);
	ck_assert(vcache_lookup(c, k, 6400));
	vcache_insert(c, k, 6400);
	ck_assert(vcache_lookup(c, k, 7300));
	ck_assert_uint_eq(vcache_count(c, 7300), 1);
	vcache_free(c);
}
END_TEST

START_TEST(test_cache_flush)
{
	struct vcache *c = vcache_new(64, 60000);
	uint8_t k[VCACHE_KEY_LEN];
	char user[16];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		key(c, user, "pw", k);
		vcache_insert(c, k, 0);
	}
	ck_assert_uint_gt(vcache_count(c, 0), 10);
	vcache_flush(c);
	ck_assert_uint_eq(vcache_count(c, 0), 0);
	ck_assert(!vcache_lookup(c, k, 0));
	vcache_free(c);
	vcache_free(NULL);
}
END_TEST

START_TEST(test_cache_disabled_and_bounded)
{
	struct vcache *c = vcache_new(64, 0);
	uint8_t k[VCACHE_KEY_LEN];
	char user[16];
	int i;

	/* ttl 0: off. */
	key(c, "alice", "pw", k);
	vcache_insert(c, k, 0);
	ck_assert(!vcache_lookup(c, k, 0));
	vcache_free(c);

	/* Many more users than entries: bounded, newest kept. */
	c = vcache_new(16, 60000);
	for (i = 0; i < 1000; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		key(c, user, "pw", k);
		vcache_insert(c, k, (uint64_t)i);
		ck_assert(vcache_lookup(c, k, (uint64_t)i));
	}
	ck_assert_uint_le(vcache_count(c, 1000), 16);
	ck_assert_uint_ge(vcache_count(c, 1000), 4);
	vcache_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Verifier                                                             */

static struct userdb *db;
static struct ev_loop *loop;
static int calls;
static enum userdb_result last;

static void
no_report(void *arg, const char *file, int line, const char *msg)
{
	(void)arg;
	ck_abort_msg("%s:%d: %s", file, line, msg);
}

static char *
mkhash(const char *setting_prefix, unsigned long cost, const char *pw)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char *setting = crypt_gensalt_ra(setting_prefix, cost, NULL, 0), *out;

	ck_assert_ptr_nonnull(setting);
	out = strdup(crypt_r(pw, setting, cd));
	free(setting);
	free(cd);
	return out;
}

static void
vsetup(void)
{
	/* fast: cheap; slow: about 0.1-0.5 s, long enough to catch running. */
	char *fast = mkhash("$5$", 1000, "pw");
	char *slow = mkhash("$5$", 400000, "pw");
	char text[1024];

	snprintf(text, sizeof(text), "fast:%s\nslow:%s\n", fast, slow);
	free(fast);
	free(slow);
	db = userdb_parse("users", text, strlen(text), no_report, NULL);
	ck_assert_ptr_nonnull(db);
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	calls = 0;
}

static void
vteardown(void)
{
	ev_loop_destroy(loop);
	userdb_free(db);
}

static void
done_cb(void *arg, enum userdb_result r)
{
	ck_assert_ptr_eq(arg, &calls);
	calls++;
	last = r;
}

START_TEST(test_verifier_results_and_cache)
{
	struct vcache *c = vcache_new(64, 60000);
	struct verifier *v = verifier_new(loop, db, 2, 16, c);
	struct verifier_job *job;
	enum userdb_result r;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(verifier_check(v, "fast", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &job, &r), VERIFIER_PENDING);
	ck_assert_ptr_nonnull(job);
	ck_assert(unit_loop_until(loop, &calls, 1, 30));
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(last, USERDB_OK);
	/* Now cached: answered at once, no thread, no callback. */
	r = USERDB_ERROR;
	ck_assert_int_eq(verifier_check(v, "fast", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &job, &r), VERIFIER_DONE);
	ck_assert_int_eq(r, USERDB_OK);
	ck_assert_ptr_null(job);
	ck_assert_uint_eq(vcache_count(c, 0), 1);
	/* Wrong password: never cached. */
	ck_assert_int_eq(verifier_check(v, "fast", (const uint8_t *)"px", 2,
	    NULL, done_cb, &calls, &job, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 2, 30));
	ck_assert_int_eq(last, USERDB_BAD_PASSWORD);
	ck_assert_int_eq(verifier_check(v, "fast", (const uint8_t *)"px", 2,
	    NULL, done_cb, &calls, &job, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 3, 30));
	ck_assert_int_eq(last, USERDB_BAD_PASSWORD);
	/* Unknown user. */
	ck_assert_int_eq(verifier_check(v, "nobody", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &job, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 4, 30));
	ck_assert_int_eq(last, USERDB_NO_USER);
	ck_assert_uint_eq(verifier_pending(v), 0);
	/* After a flush (reload) it goes to a thread again. */
	vcache_flush(c);
	ck_assert_int_eq(verifier_check(v, "fast", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &job, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 5, 30));
	ck_assert_int_eq(last, USERDB_OK);
	verifier_free(v);
	vcache_free(c);
}
END_TEST

START_TEST(test_verifier_cancel)
{
	struct verifier *v = verifier_new(loop, db, 1, 16, NULL);
	struct verifier_job *running, *queued;
	enum userdb_result r;

	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &running, &r), VERIFIER_PENDING);
	usleep(50000);		/* the only thread has taken it */
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &queued, &r), VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_pending(v), 2);
	verifier_cancel(v, queued);	/* freed at once */
	ck_assert_uint_eq(verifier_pending(v), 1);
	verifier_cancel(v, running);	/* flagged; freed when done */
	/* Wait for the running one to finish: no callback comes. */
	{
		double end = ev_time() + 60;

		while (verifier_pending(v) > 0 && ev_time() < end)
			unit_loop_for(loop, 0.05);
	}
	ck_assert_uint_eq(verifier_pending(v), 0);
	ck_assert_int_eq(calls, 0);
	verifier_cancel(v, NULL);
	verifier_free(v);
}
END_TEST

/*
 * A full queue parks a check instead of refusing it (it used to answer
 * VERIFIER_BUSY, which the session turned into "wrong password").
 */
START_TEST(test_verifier_full_queue_parks)
{
	struct verifier *v = verifier_new(loop, db, 1, 1, NULL);
	struct verifier_job *j1, *j2, *j3, *j4;
	enum userdb_result r;

	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &j1, &r), VERIFIER_PENDING);
	usleep(50000);		/* the only thread has taken it */
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &j2, &r), VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 0);
	/* The queue (1) is full: parked, not refused. */
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &j3, &r), VERIFIER_PENDING);
	ck_assert_ptr_nonnull(j3);
	ck_assert_uint_eq(verifier_parked(v), 1);
	ck_assert_uint_eq(verifier_pending(v), 3);
	/* A parked check that goes away leaves the line cleanly. */
	verifier_cancel(v, j3);
	ck_assert_uint_eq(verifier_parked(v), 0);
	ck_assert_uint_eq(verifier_pending(v), 2);
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &j4, &r), VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 1);
	/* Every one is answered, and answered right. */
	ck_assert(unit_loop_until(loop, &calls, 3, 60));
	ck_assert_int_eq(calls, 3);
	ck_assert_int_eq(last, USERDB_OK);
	ck_assert_uint_eq(verifier_pending(v), 0);
	verifier_free(v);
}
END_TEST

/* Freed with work parked, queued and running: no callback, no leak. */
START_TEST(test_verifier_free_pending)
{
	struct verifier *v = verifier_new(loop, db, 1, 1, NULL);
	struct verifier_job *j;
	enum userdb_result r;
	int i;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(verifier_check(v, "slow",
		    (const uint8_t *)"pw", 2, NULL, done_cb, &calls, &j, &r),
		    VERIFIER_PENDING);
		if (i == 0)
			usleep(50000);
	}
	ck_assert_uint_eq(verifier_parked(v), 2);
	verifier_free(v);
	ck_assert_int_eq(calls, 0);
	verifier_free(NULL);
}
END_TEST

static int order[8], norder;

static void
order_cb(void *arg, enum userdb_result r)
{
	ck_assert_int_eq(r, USERDB_OK);
	if (norder < 8)
		order[norder++] = (int)(intptr_t)arg;
	calls++;
}

/*
 * One source has at most VERIFIER_PER_SOURCE checks queued or running,
 * and never all the threads' worth (one, with one thread); its others
 * wait parked, and do not hold up another source's check, which is
 * queued at once and answered before the first source's second.
 */
START_TEST(test_verifier_per_source_cap)
{
	struct verifier *v = verifier_new(loop, db, 1, 16, NULL);
	struct sockaddr_in a, b;
	struct verifier_job *j;
	enum userdb_result r;
	int i;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000002);
	b = a;
	b.sin_addr.s_addr = htonl(0x7f000001);
	ck_assert_int_eq(VERIFIER_PER_SOURCE, 2);
	for (i = 1; i <= 4; i++)
		ck_assert_int_eq(verifier_check(v, "slow",
		    (const uint8_t *)"pw", 2, (struct sockaddr *)&a, order_cb,
		    (void *)(intptr_t)i, &j, &r), VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 3);
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&b, order_cb, (void *)(intptr_t)9, &j, &r),
	    VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 3);
	ck_assert(unit_loop_until(loop, &calls, 5, 60));
	ck_assert_int_eq(calls, 5);
	/* a's first, then b's (queued behind it only), then a's rest. */
	ck_assert_int_eq(order[0], 1);
	ck_assert_int_eq(order[1], 9);
	ck_assert_int_eq(order[2], 2);
	ck_assert_int_eq(order[3], 3);
	ck_assert_int_eq(order[4], 4);
	verifier_free(v);
	/* Three threads: VERIFIER_PER_SOURCE at once, the rest parked. */
	v = verifier_new(loop, db, 3, 16, NULL);
	for (i = 1; i <= 4; i++)
		ck_assert_int_eq(verifier_check(v, "slow",
		    (const uint8_t *)"pw", 2, (struct sockaddr *)&a, order_cb,
		    (void *)(intptr_t)i, &j, &r), VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 2);
	/* Another address of the same /64 is the same source. */
	{
		struct sockaddr_in6 s1, s2;

		memset(&s1, 0, sizeof(s1));
		s1.sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1",
		    &s1.sin6_addr), 1);
		s2 = s1;
		ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::ffff:2",
		    &s2.sin6_addr), 1);
		ck_assert_int_eq(verifier_check(v, "slow",
		    (const uint8_t *)"pw", 2, (struct sockaddr *)&s1, order_cb,
		    (void *)(intptr_t)5, &j, &r), VERIFIER_PENDING);
		ck_assert_int_eq(verifier_check(v, "slow",
		    (const uint8_t *)"pw", 2, (struct sockaddr *)&s2, order_cb,
		    (void *)(intptr_t)6, &j, &r), VERIFIER_PENDING);
		ck_assert_uint_eq(verifier_parked(v), 2);
		ck_assert_int_eq(verifier_check(v, "slow",
		    (const uint8_t *)"pw", 2, (struct sockaddr *)&s2, order_cb,
		    (void *)(intptr_t)7, &j, &r), VERIFIER_PENDING);
		ck_assert_uint_eq(verifier_parked(v), 3);
	}
	verifier_free(v);
}
END_TEST

static enum userdb_result results[8];

static void
result_cb(void *arg, enum userdb_result r)
{
	if (norder < 8) {
		results[norder] = r;
		order[norder++] = (int)(intptr_t)arg;
	}
	calls++;
}

/*
 * A parked check whose user and password were verified meanwhile (a
 * browser's many connections from one address) is answered from the
 * cache, ahead of the parked ones that still need a thread.
 */
START_TEST(test_verifier_parked_cache_hit)
{
	struct vcache *c = vcache_new(64, 60000);
	struct verifier *v = verifier_new(loop, db, 1, 16, c);
	struct verifier_job *j;
	struct sockaddr_in a;
	enum userdb_result r;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000001);
	norder = 0;
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)1, &j, &r),
	    VERIFIER_PENDING);
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"px", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)2, &j, &r),
	    VERIFIER_PENDING);
	ck_assert_int_eq(verifier_check(v, "slow", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)3, &j, &r),
	    VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 2);
	ck_assert(unit_loop_until(loop, &calls, 3, 60));
	ck_assert_int_eq(calls, 3);
	ck_assert_int_eq(order[0], 1);
	ck_assert_int_eq(results[0], USERDB_OK);
	ck_assert_int_eq(order[1], 3);
	ck_assert_int_eq(results[1], USERDB_OK);
	ck_assert_int_eq(order[2], 2);
	ck_assert_int_eq(results[2], USERDB_BAD_PASSWORD);
	verifier_free(v);
	vcache_free(c);
}
END_TEST

static double stamps[8];

static void
stamp_cb(void *arg, enum userdb_result r)
{
	(void)arg;
	ck_assert_int_eq(r, USERDB_BAD_PASSWORD);
	if (norder < 8)
		stamps[norder++] = ev_time();
	calls++;
}

/*
 * Checks held back by their source's cap ask the failed-login table for
 * a turn when their place comes: failures counted while they waited
 * apply to them (many connections sending at once are not all checked
 * at an unpenalised pace).
 */
START_TEST(test_verifier_held_back_turns)
{
	struct failtab *ft = failtab_new(64);
	struct verifier *v = verifier_new(loop, db, 1, 16, NULL);
	struct verifier_job *j;
	struct sockaddr_in a;
	enum userdb_result r;
	double t0;
	int i;

	ck_assert_ptr_nonnull(ft);
	verifier_set_failtab(v, ft);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0x7f000002);
	/* Three failures counted elsewhere (another worker). */
	for (i = 0; i < FAILTAB_FREE; i++)
		failtab_fail(ft, (struct sockaddr *)&a, util_now_ms());
	norder = 0;
	t0 = ev_time();
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(verifier_check(v, "fast",
		    (const uint8_t *)"px", 2, (struct sockaddr *)&a, stamp_cb,
		    NULL, &j, &r), VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 2);
	ck_assert(unit_loop_until(loop, &calls, 3, 60));
	ck_assert_int_eq(calls, 3);
	/* The first was under way already; the others took turns. */
	ck_assert_double_ge(stamps[1] - t0, FAILTAB_BASE_MS / 1000.);
	ck_assert_double_ge(stamps[2] - t0, 2 * FAILTAB_BASE_MS / 1000.);
	verifier_free(v);
	failtab_free(ft);
}
END_TEST

START_TEST(test_verifier_bad_args)
{
	struct verifier_job *j;
	enum userdb_result r = USERDB_OK;
	struct verifier *v;
	char longname[300];

	ck_assert_ptr_null(verifier_new(loop, db, 0, 1, NULL));
	ck_assert_ptr_null(verifier_new(loop, db, 65, 1, NULL));
	v = verifier_new(loop, db, 1, 4, NULL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(verifier_check(v, longname, (const uint8_t *)"pw", 2,
	    NULL, done_cb, &calls, &j, &r), VERIFIER_DONE);
	ck_assert_int_eq(r, USERDB_BAD_PASSWORD);
	verifier_free(v);
}
END_TEST

static Suite *
vcache_suite(void)
{
	Suite *s = suite_create("vcache");
	TCase *tc = tcase_create("cache");
	TCase *tv = tcase_create("verifier");

	tcase_add_test(tc, test_cache_hit_miss);
	tcase_add_test(tc, test_cache_expiry);
	tcase_add_test(tc, test_cache_flush);
	tcase_add_test(tc, test_cache_disabled_and_bounded);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tv, 120);
	tcase_add_checked_fixture(tv, vsetup, vteardown);
	tcase_add_test(tv, test_verifier_results_and_cache);
	tcase_add_test(tv, test_verifier_cancel);
	tcase_add_test(tv, test_verifier_full_queue_parks);
	tcase_add_test(tv, test_verifier_free_pending);
	tcase_add_test(tv, test_verifier_per_source_cap);
	tcase_add_test(tv, test_verifier_parked_cache_hit);
	tcase_add_test(tv, test_verifier_held_back_turns);
	tcase_add_test(tv, test_verifier_bad_args);
	suite_add_tcase(s, tv);
	return s;
}

int
main(void)
{
	return unit_run(vcache_suite(), NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * check_vcache.c - unit tests for the worker-side authentication helpers
 * (suite "vcache"): the verified-credential cache (hit, miss, expiry,
 * flush, eviction) and the verifier thread pool on a real ev loop
 * (results, cache fill, cancellation while parked, queued and running,
 * a full queue that parks instead of refusing, the per-source cap,
 * shutdown with work pending), and with a backend in place of the users
 * file (PAM's way): its results and reports, a check that hangs answered
 * "timeout" and replaced by a spare thread, every thread stuck, a session
 * gone while its check hangs, shutdown that does not wait for a hung
 * stack. The failed-login table: check_failtab.
 */
#include "config_auto.h"

#include <arpa/inet.h>
#include <check.h>
#include <crypt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
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

/* ------------------------------------------------------------------ */
/* A backend in place of the users file (PAM's way), with a timeout     */

/*
 * The fake backend decides by the user name: "ok" passes, "why" fails
 * with an explanation, "hang" blocks until released (or 30 s pass).
 */
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cv = PTHREAD_COND_INITIALIZER;
static bool fake_released;
static int fake_returned;		/* checks that came back */
static char fake_arg[64];

static enum userdb_result
fake_check(const char *arg, const char *user, const uint8_t *pw, size_t len,
    const struct sockaddr *src, char *why, size_t whycap)
{
	enum userdb_result r = USERDB_BAD_PASSWORD;

	(void)src;
	pthread_mutex_lock(&fake_mu);
	snprintf(fake_arg, sizeof(fake_arg), "%s", arg);
	pthread_mutex_unlock(&fake_mu);
	if (strcmp(user, "hang") == 0) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 30;
		pthread_mutex_lock(&fake_mu);
		while (!fake_released &&
		    pthread_cond_timedwait(&fake_cv, &fake_mu, &until) == 0)
			;
		pthread_mutex_unlock(&fake_mu);
		r = USERDB_OK;
	} else if (strcmp(user, "why") == 0) {
		snprintf(why, whycap, "fake: the stack is broken");
		r = USERDB_PAM_ERROR;
	} else if (strcmp(user, "ok") == 0 && len == 2 &&
	    memcmp(pw, "pw", 2) == 0) {
		r = USERDB_OK;
	}
	pthread_mutex_lock(&fake_mu);
	fake_returned++;
	pthread_mutex_unlock(&fake_mu);
	return r;
}

static void
fake_release(void)
{
	pthread_mutex_lock(&fake_mu);
	fake_released = true;
	pthread_cond_broadcast(&fake_cv);
	pthread_mutex_unlock(&fake_mu);
}

static int
fake_returns(void)
{
	int n;

	pthread_mutex_lock(&fake_mu);
	n = fake_returned;
	pthread_mutex_unlock(&fake_mu);
	return n;
}

/* What the verifier reported, in order. */
static int nreports;
static enum verifier_note notes[16];
static char report_text[16][160];
static char report_user[16][32];

static void
fake_report(void *arg, enum verifier_note note, const char *user,
    const struct sockaddr *src, const char *text)
{
	ck_assert_ptr_eq(arg, &nreports);
	(void)src;
	if (nreports < 16) {
		notes[nreports] = note;
		snprintf(report_text[nreports], sizeof(report_text[0]), "%s",
		    text);
		snprintf(report_user[nreports], sizeof(report_user[0]), "%s",
		    user);
	}
	nreports++;
}

static struct verifier *
backend_verifier(unsigned nthreads, unsigned timeout_ms, struct vcache *c)
{
	struct verifier *v = verifier_new(loop, NULL, nthreads, 16, c);
	char arg[16];
	struct verifier_backend b = {
		.name = "FAKE",
		.check = fake_check,
		.arg = arg,
		.timeout_ms = timeout_ms,
		.report = fake_report,
		.report_arg = &nreports,
	};

	ck_assert_ptr_nonnull(v);
	/* The argument is copied: this buffer dies with the function. */
	snprintf(arg, sizeof(arg), "service-x");
	ck_assert_int_eq(verifier_set_backend(v, &b), 0);
	memset(arg, 0, sizeof(arg));
	return v;
}

static void
bsetup(void)
{
	loop = ev_loop_new(EVFLAG_AUTO);
	ck_assert_ptr_nonnull(loop);
	calls = 0;
	norder = 0;
	nreports = 0;
	fake_released = false;
	fake_returned = 0;
}

static void
bteardown(void)
{
	ev_loop_destroy(loop);
}

/* Wait, running the loop, until `n` checks came back from the backend. */
static void
wait_returns(int n)
{
	double end = ev_time() + 30;

	while (fake_returns() < n && ev_time() < end)
		unit_loop_for(loop, 0.02);
	ck_assert_int_ge(fake_returns(), n);
}

static struct sockaddr_in
src_addr(uint32_t a)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(a);
	return sa;
}

/*
 * The backend answers instead of the users file, with its argument;
 * what it explains is reported; its successes are cached like any.
 */
START_TEST(test_backend_results)
{
	struct vcache *c = vcache_new(64, 60000);
	struct verifier *v = backend_verifier(2, 5000, c);
	struct verifier_job *j;
	enum userdb_result r;

	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"pw", 2,
	    NULL, result_cb, (void *)(intptr_t)1, &j, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 1, 30));
	ck_assert_int_eq(results[0], USERDB_OK);
	ck_assert_str_eq(fake_arg, "service-x");
	ck_assert_int_eq(nreports, 0);
	/* Cached: no second trip to the backend. */
	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"pw", 2,
	    NULL, result_cb, (void *)(intptr_t)2, &j, &r), VERIFIER_DONE);
	ck_assert_int_eq(r, USERDB_OK);
	ck_assert_int_eq(fake_returns(), 1);
	/* A wrong password: no explanation needed. */
	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"px", 2,
	    NULL, result_cb, (void *)(intptr_t)3, &j, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 2, 30));
	ck_assert_int_eq(results[1], USERDB_BAD_PASSWORD);
	ck_assert_int_eq(nreports, 0);
	/* An error: its explanation is reported, with the user. */
	ck_assert_int_eq(verifier_check(v, "why", (const uint8_t *)"pw", 2,
	    NULL, result_cb, (void *)(intptr_t)4, &j, &r), VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 3, 30));
	ck_assert_int_eq(results[2], USERDB_PAM_ERROR);
	ck_assert_int_eq(nreports, 1);
	ck_assert_int_eq(notes[0], VERIFIER_NOTE_RESULT);
	ck_assert_str_eq(report_text[0], "fake: the stack is broken");
	ck_assert_str_eq(report_user[0], "why");
	ck_assert_uint_eq(verifier_threads(v), 2);
	verifier_free(v);
	vcache_free(c);
}
END_TEST

/*
 * A check that hangs is answered "timeout" at its deadline; a spare
 * thread takes its place, so the next check is answered at once; the
 * late result is thrown away (not cached, no callback) and reported;
 * the spare goes once the stuck thread is back.
 */
START_TEST(test_backend_timeout_spare)
{
	struct vcache *c = vcache_new(64, 60000);
	struct verifier *v = backend_verifier(1, 300, c);
	struct sockaddr_in a = src_addr(0x7f000001), b = src_addr(0x7f000002);
	struct verifier_job *j;
	enum userdb_result r;
	double t0 = ev_time();

	ck_assert_int_eq(verifier_check(v, "hang", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)1, &j, &r),
	    VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 1, 30));
	ck_assert_int_eq(results[0], USERDB_TIMEOUT);
	ck_assert_double_ge(ev_time() - t0, 0.29);
	ck_assert_double_lt(ev_time() - t0, 5);
	ck_assert_int_eq(nreports, 1);
	ck_assert_int_eq(notes[0], VERIFIER_NOTE_TIMEOUT);
	ck_assert_str_eq(report_text[0], "FAKE did not answer within 0.3 s");
	ck_assert_str_eq(report_user[0], "hang");
	ck_assert_uint_eq(verifier_stuck(v), 1);
	ck_assert_uint_eq(verifier_threads(v), 2);
	/* Still pending (its thread has it), still its source's. */
	ck_assert_uint_eq(verifier_pending(v), 1);
	/* Another source is served by the spare, at once. */
	t0 = ev_time();
	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&b, result_cb, (void *)(intptr_t)2, &j, &r),
	    VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 2, 30));
	ck_assert_int_eq(results[1], USERDB_OK);
	ck_assert_double_lt(ev_time() - t0, 0.29);
	ck_assert_uint_eq(vcache_count(c, util_now_ms()), 1);
	/* The stuck one comes back: thrown away, reported, not cached. */
	fake_release();
	wait_returns(2);
	{
		double end = ev_time() + 10;

		while ((verifier_pending(v) > 0 || nreports < 2) &&
		    ev_time() < end)
			unit_loop_for(loop, 0.02);
	}
	ck_assert_int_eq(calls, 2);
	ck_assert_int_eq(nreports, 2);
	ck_assert_int_eq(notes[1], VERIFIER_NOTE_LATE);
	ck_assert_msg(strstr(report_text[1], "too late: ok ignored") != NULL,
	    "%s", report_text[1]);
	ck_assert_uint_eq(vcache_count(c, util_now_ms()), 1);
	ck_assert_uint_eq(verifier_stuck(v), 0);
	/* The spare has gone: one thread again. */
	{
		double end = ev_time() + 10;

		while (verifier_threads(v) > 1 && ev_time() < end)
			unit_loop_for(loop, 0.02);
	}
	ck_assert_uint_eq(verifier_threads(v), 1);
	verifier_free(v);
	vcache_free(c);
}
END_TEST

/*
 * Every thread stuck, spares included: a new check is not left waiting
 * for ever, it is answered "timeout" at its deadline too, saying why.
 * Once the stack answers again, so does the verifier.
 */
START_TEST(test_backend_all_stuck)
{
	struct verifier *v = backend_verifier(1, 300, NULL);
	struct sockaddr_in a = src_addr(0x7f000001), b = src_addr(0x7f000002),
	    d = src_addr(0x7f000003);
	struct verifier_job *j;
	enum userdb_result r;
	double t0;

	ck_assert_int_eq(verifier_check(v, "hang", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)1, &j, &r),
	    VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 1, 30));
	ck_assert_int_eq(verifier_check(v, "hang", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&b, result_cb, (void *)(intptr_t)2, &j, &r),
	    VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 2, 30));
	ck_assert_uint_eq(verifier_stuck(v), 2);
	/* No more spares than threads. */
	ck_assert_uint_eq(verifier_threads(v), 2);
	t0 = ev_time();
	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&d, result_cb, (void *)(intptr_t)3, &j, &r),
	    VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 3, 30));
	ck_assert_int_eq(results[2], USERDB_TIMEOUT);
	ck_assert_double_ge(ev_time() - t0, 0.29);
	ck_assert_double_lt(ev_time() - t0, 5);
	ck_assert_int_eq(nreports, 3);
	ck_assert_str_eq(report_text[2], "no verifier thread was free within "
	    "0.3 s (2 stuck in FAKE)");
	ck_assert_uint_eq(verifier_threads(v), 2);
	fake_release();
	wait_returns(2);
	{
		double end = ev_time() + 10;

		while ((verifier_pending(v) > 0 || verifier_threads(v) > 1) &&
		    ev_time() < end)
			unit_loop_for(loop, 0.02);
	}
	ck_assert_uint_eq(verifier_threads(v), 1);
	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&d, result_cb, (void *)(intptr_t)4, &j, &r),
	    VERIFIER_PENDING);
	ck_assert(unit_loop_until(loop, &calls, 4, 30));
	ck_assert_int_eq(results[3], USERDB_OK);
	ck_assert_int_eq(calls, 4);
	verifier_free(v);
}
END_TEST

/*
 * A client's second check waits behind its first (the per-source share,
 * one with two threads); when the first hangs, the second is answered
 * "timeout" at its own deadline, saying so, and never runs.
 */
START_TEST(test_backend_held_back)
{
	struct verifier *v = backend_verifier(2, 300, NULL);
	struct sockaddr_in a = src_addr(0x7f000001);
	struct verifier_job *j;
	enum userdb_result r;

	ck_assert_int_eq(verifier_check(v, "hang", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)1, &j, &r),
	    VERIFIER_PENDING);
	ck_assert_int_eq(verifier_check(v, "ok", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)2, &j, &r),
	    VERIFIER_PENDING);
	ck_assert_uint_eq(verifier_parked(v), 1);
	ck_assert(unit_loop_until(loop, &calls, 2, 30));
	ck_assert_int_eq(results[0], USERDB_TIMEOUT);
	ck_assert_int_eq(results[1], USERDB_TIMEOUT);
	ck_assert_int_eq(nreports, 2);
	ck_assert_str_eq(report_text[1], "waited 0.3 s behind this client's "
	    "other checks (1 stuck in FAKE)");
	ck_assert_uint_eq(verifier_parked(v), 0);
	fake_release();
	wait_returns(1);
	unit_loop_for(loop, 0.2);
	/* The "ok" check never reached the backend. */
	ck_assert_int_eq(fake_returns(), 1);
	verifier_free(v);
}
END_TEST

/*
 * The session goes away while its check hangs: no callback, no report,
 * ever (the job outlives it, freed by the loop when the thread is back).
 * One that is answered "timeout" and then cancelled by a later callback
 * is fine too (nothing refers to it after its callback).
 */
START_TEST(test_backend_cancel_hung)
{
	struct verifier *v = backend_verifier(2, 200, NULL);
	struct sockaddr_in a = src_addr(0x7f000001);
	struct verifier_job *j;
	enum userdb_result r;

	ck_assert_int_eq(verifier_check(v, "hang", (const uint8_t *)"pw", 2,
	    (struct sockaddr *)&a, result_cb, (void *)(intptr_t)1, &j, &r),
	    VERIFIER_PENDING);
	unit_loop_for(loop, 0.05);
	verifier_cancel(v, j);
	/* Its deadline passes: stuck, yet nobody is told. */
	unit_loop_for(loop, 0.5);
	ck_assert_int_eq(calls, 0);
	ck_assert_int_eq(nreports, 0);
	ck_assert_uint_eq(verifier_stuck(v), 1);
	fake_release();
	wait_returns(1);
	{
		double end = ev_time() + 10;

		while (verifier_pending(v) > 0 && ev_time() < end)
			unit_loop_for(loop, 0.02);
	}
	ck_assert_uint_eq(verifier_pending(v), 0);
	ck_assert_int_eq(calls, 0);
	/* The late line still tells the admin the stack came back. */
	ck_assert_int_eq(nreports, 1);
	ck_assert_int_eq(notes[0], VERIFIER_NOTE_LATE);
	verifier_free(v);
}
END_TEST

/*
 * Freeing the verifier (a worker exiting) does not wait for a stack that
 * hangs: the stuck thread is left to finish on its own and frees what is
 * left, without a callback.
 */
START_TEST(test_backend_free_while_hung)
{
	struct verifier *v = backend_verifier(2, 10000, NULL);
	struct verifier_job *j;
	enum userdb_result r;
	double t0;
	int i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(verifier_check(v, "hang",
		    (const uint8_t *)"pw", 2, NULL, result_cb,
		    (void *)(intptr_t)i, &j, &r), VERIFIER_PENDING);
	unit_loop_for(loop, 0.1);
	t0 = ev_time();
	verifier_free(v);
	ck_assert_double_lt(ev_time() - t0, 1);
	ck_assert_int_eq(calls, 0);
	/* Both threads come back and free the verifier (ASan watches). */
	fake_release();
	{
		double end = ev_time() + 10;

		while (fake_returns() < 2 && ev_time() < end)
			usleep(10000);
	}
	ck_assert_int_eq(fake_returns(), 2);
	usleep(100000);
	ck_assert_int_eq(calls, 0);
	ck_assert_int_eq(nreports, 0);
}
END_TEST

static Suite *
vcache_suite(void)
{
	Suite *s = suite_create("vcache");
	TCase *tc = tcase_create("cache");
	TCase *tv = tcase_create("verifier");
	TCase *tb = tcase_create("backend");

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
	tcase_set_timeout(tb, 120);
	tcase_add_checked_fixture(tb, bsetup, bteardown);
	tcase_add_test(tb, test_backend_results);
	tcase_add_test(tb, test_backend_timeout_spare);
	tcase_add_test(tb, test_backend_all_stuck);
	tcase_add_test(tb, test_backend_held_back);
	tcase_add_test(tb, test_backend_cancel_hung);
	tcase_add_test(tb, test_backend_free_while_hung);
	suite_add_tcase(s, tb);
	return s;
}

int
main(void)
{
	return unit_run(vcache_suite(), NULL);
}

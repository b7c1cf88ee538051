/* SPDX-License-Identifier: ISC */
/*
 * verifier.h - password checks off the event loop.
 *
 * crypt(3) with a real cost takes milliseconds; on the loop it would
 * stall every session of the worker. A verifier owns a few threads that
 * run userdb_verify_password() and wake the loop through an ev_async
 * when a result is ready; the callback then runs on the loop thread.
 * It answers from the worker's verified-credential cache when it can
 * (VERIFIER_DONE at once, no thread involved), and fills the cache with
 * each success.
 *
 * A session that ends while its check is running cancels it: after
 * verifier_cancel() the callback is never called, and the job is freed
 * by whichever side touches it last, so a result can never land on a
 * freed session.
 *
 * A check is never refused for want of room. It is parked, in arrival
 * order, while the queue is full or while its source (failtab_source():
 * the /32, or the IPv6 /64) already has its share of checks queued or
 * running: VERIFIER_PER_SOURCE, and never as many as the verifier has
 * threads (with one thread, one). It moves to the queue as soon as a
 * thread takes a job or one of its source's checks ends. So one source
 * guessing on many connections keeps at least one thread free for
 * everyone else (when there are two or more), and their checks never
 * wait behind its backlog.
 *
 * A backend other than the users file (verifier_set_backend(): PAM) may
 * hang. With a timeout, a check that has not been answered within it,
 * from the moment it could have gone to a thread, is answered
 * USERDB_TIMEOUT on the loop: one running is abandoned to its thread
 * (its late result is discarded, never cached), which is replaced by a
 * spare so that the worker keeps its number of working threads, up to as
 * many spares as threads; one still waiting (every thread stuck, spares
 * included) is answered the same way. So a check always ends within the
 * timeout, whatever the stack does, and a stuck thread holds one job,
 * never a queue of them. An abandoned check still counts against its
 * source's share while its thread is stuck. A spare that finds the
 * worker with its threads again exits.
 */
#ifndef SOCKEYE_VERIFIER_H
#define SOCKEYE_VERIFIER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "userdb.h"
#include "util.h"

struct ev_loop;
struct failtab;
struct verifier;
struct verifier_job;
struct vcache;

/*
 * A check that had to wait for its source's earlier checks asks `ft` for
 * a turn (failtab_turn_ms()) before it goes to a thread, and waits for it
 * parked: the failures counted while it waited apply to it, so attempts
 * sent on many connections at once are not all checked at the pace of an
 * unpenalised source. NULL (the default): no such turn. Loop thread.
 */
void verifier_set_failtab(struct verifier *v, struct failtab *ft);

/* Called on the loop thread with the result; the job is gone after it. */
typedef void (*verifier_done_fn)(void *arg, enum userdb_result r);

/* What a report is about (verifier_report_fn). */
enum verifier_note {
	VERIFIER_NOTE_RESULT = 0,	/* the backend explained its verdict */
	VERIFIER_NOTE_TIMEOUT,		/* answered USERDB_TIMEOUT */
	VERIFIER_NOTE_LATE,		/* an abandoned check came back */
};

/*
 * A line for the log about the check of `user` from `src` (NULL: none),
 * on the loop thread: the backend's `why` for a verdict, why a check
 * timed out, or that an abandoned one finished. Never the password.
 */
typedef void (*verifier_report_fn)(void *arg, enum verifier_note note,
    const char *user, const struct sockaddr *src, const char *text);

/* A password backend in place of the users file. */
struct verifier_backend {
	const char *name;		/* "PAM", for messages */
	/*
	 * Check on a verifier thread (may block), with `arg`; `why` as
	 * pam.h's pam_backend_check(), "" when there is nothing to explain.
	 */
	enum userdb_result (*check)(const char *arg, const char *user,
	    const uint8_t *pw, size_t len, const struct sockaddr *src,
	    char *why, size_t whycap);
	/* The PAM service: copied, so that it lives as long as a thread. */
	const char *arg;
	unsigned timeout_ms;		/* 0: none (as for the users file) */
	verifier_report_fn report;	/* NULL: nothing reported */
	void *report_arg;
};

/*
 * Check passwords with `b` (copied, b->arg too) instead of the users
 * file. Before the first check; loop thread. 0, or -1 when out of memory.
 */
int verifier_set_backend(struct verifier *v, const struct verifier_backend *b)
    MUST_CHECK;

/*
 * Checks one source may have queued or running at once (per worker): at
 * most this, and at most the threads but one.
 */
#define VERIFIER_PER_SOURCE 2

/*
 * Start `nthreads` threads (1..64) checking against `db`, with at most
 * `max_queue` checks queued for the threads (more are parked); `cache`
 * may be NULL. Must be called on the
 * loop's thread; `db` and `cache` must outlive the verifier. NULL when
 * out of memory or when a thread cannot be created.
 */
struct verifier *verifier_new(struct ev_loop *loop, const struct userdb *db,
    unsigned nthreads, unsigned max_queue, struct vcache *cache);

enum verifier_status {
	VERIFIER_DONE = 0,	/* answered now (*result set); no callback */
	VERIFIER_PENDING,	/* *job set (queued or parked); callback later */
	VERIFIER_BUSY,		/* out of memory; nothing was checked */
};

/*
 * Check `user`/`pw` for the client `src` (NULL: no per-source cap). The
 * password is copied (and zeroed after use). Never blocks.
 */
enum verifier_status verifier_check(struct verifier *v, const char *user,
    const uint8_t *pw, size_t pwlen, const struct sockaddr *src,
    verifier_done_fn cb, void *arg, struct verifier_job **job,
    enum userdb_result *result);

/*
 * Forget a pending job (parked, queued, running or done): its callback
 * will not be called. Loop thread.
 */
void verifier_cancel(struct verifier *v, struct verifier_job *job);

/* Jobs parked, queued, running or done (tests, statistics). Loop thread. */
size_t verifier_pending(const struct verifier *v);

/* Jobs parked (tests, statistics). Loop thread. */
size_t verifier_parked(const struct verifier *v);

/* Threads running, spares included, and those stuck with an abandoned
 * check (tests, statistics). Loop thread. */
size_t verifier_threads(const struct verifier *v);
size_t verifier_stuck(const struct verifier *v);

/*
 * Stop: waits for the running checks to finish (at most one crypt per
 * thread), drops the rest (parked too) without callbacks, joins the
 * threads. With a backend that has a timeout it waits for none of them:
 * a thread still in a check is left to finish it on its own, and the
 * last such thread frees what remains of the verifier (the process is
 * exiting, and a hung stack must not hold that up).
 * verifier_free(NULL) is a no-op.
 */
void verifier_free(struct verifier *v);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * verifier.c - see verifier.h.
 *
 * Jobs move parked -> queued -> (a thread runs it) -> done -> (the loop
 * calls back). `parked` and the `inflight` list (queued, running or done:
 * what counts against a source's cap) belong to the loop thread alone;
 * `queued` and `done` are shared with the threads, under the mutex. A
 * cancelled job that is parked, queued or done is unlinked and freed at
 * once; one that a thread is running is only flagged, and the loop frees
 * it when it reaches `done` (until then it still holds its source's
 * place: the CPU is still spent).
 *
 * Admission (parked -> queued) runs on the loop after anything that may
 * make room: a new check, a cancel, a finished job, and a thread taking
 * a job from the queue while some are parked (it wakes the loop).
 *
 * With a backend timeout every job has a deadline: its timeout counted
 * from when it could go to a thread (its submission, or the turn it was
 * given). The loop's deadline timer answers the jobs past it (expire()):
 * parked and queued ones are unlinked and freed; a running one is marked
 * `answered` and `cancelled` and left to its thread, which is counted
 * `stuck` until it returns; the loop then starts a spare thread when
 * fewer than `nthreads` are free to work. A thread that returns from an
 * abandoned job while more than `nthreads` threads are free to work
 * exits (its slot is joined later, on the loop).
 */
#include "config_auto.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <ev.h>
#pragma GCC diagnostic pop

#include <openssl/crypto.h>

#include "failtab.h"
#include "util.h"
#include "vcache.h"
#include "verifier.h"

#define VERIFIER_MAX_THREADS 64
/* Room for the threads and as many spares (a backend that hangs). */
#define VERIFIER_MAX_SLOTS (2 * VERIFIER_MAX_THREADS)
/* The backend's explanation of a verdict, for the log. */
#define VERIFIER_WHY_MAX 256

enum job_state { JOB_PARKED, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct verifier_job {
	struct verifier_job *next, *prev;	/* parked, queued or done */
	struct verifier_job *inext, *iprev;	/* inflight (loop thread) */
	enum job_state state;
	bool cancelled;
	bool cached;			/* answered from the cache, once parked */
	bool has_src;
	bool parked;			/* in `parked` (the loop's own flag) */
	bool held_back;			/* parked for its source's cap */
	uint64_t not_before;		/* parked for its turn until then */
	uint8_t src[FAILTAB_SOURCE_LEN];
	struct sockaddr_storage sa;
	char user[256];
	uint8_t pw[256];
	size_t pwlen;
	uint8_t cache_key[VCACHE_KEY_LEN];
	enum userdb_result result;
	verifier_done_fn cb;
	void *arg;
	/* A backend with a timeout: */
	uint64_t deadline;		/* answered USERDB_TIMEOUT then */
	uint64_t started;		/* when a thread took it */
	bool answered;			/* it was: abandoned to its thread */
	bool expiring;			/* in expire()'s list (loop thread) */
	struct verifier_job *xnext;	/* that list */
	char why[VERIFIER_WHY_MAX];	/* the backend's, for the log */
};

/* One thread's place. */
enum slot_state { SLOT_FREE = 0, SLOT_LIVE, SLOT_EXITED };

struct verifier_slot {
	struct verifier *v;
	pthread_t tid;
	enum slot_state state;		/* under the mutex */
	struct verifier_job *job;	/* the one it runs, or NULL */
	bool orphan;			/* left to finish after verifier_free */
};

struct job_list {
	struct verifier_job *head, *tail;
	size_t n;
};

struct verifier {
	struct ev_loop *loop;
	ev_async async;
	const struct userdb *db;
	struct vcache *cache;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job_list queued, done;
	size_t running;
	/* The loop thread's own. */
	struct job_list parked;
	struct verifier_job *inflight;
	size_t nparked;			/* atomic: the threads read it */
	struct failtab *ft;		/* turns for held-back checks, or NULL */
	ev_timer turn_timer;		/* the next parked turn */
	unsigned max_queue;
	unsigned per_source;		/* a source's share: see verifier.h */
	bool stop;
	struct verifier_backend backend;	/* check NULL: the users file */
	char *backend_arg;		/* backend.arg's copy */
	ev_timer deadline_timer;	/* the next job deadline */
	uint64_t deadline_at;		/* when it fires; 0: not armed */
	/* Threads, under the mutex. */
	struct verifier_slot slots[VERIFIER_MAX_SLOTS];
	unsigned nthreads;		/* wanted free to work */
	unsigned nslots;		/* at most this many at once */
	unsigned live;			/* SLOT_LIVE */
	unsigned stuck;			/* running an abandoned job */
	unsigned orphans;		/* left running by verifier_free */
	bool freed;			/* verifier_free has returned */
};

static void
list_push(struct job_list *l, struct verifier_job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static void
list_unlink(struct job_list *l, struct verifier_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->next = j->prev = NULL;
	l->n--;
}

static void
inflight_push(struct verifier *v, struct verifier_job *j)
{
	j->iprev = NULL;
	j->inext = v->inflight;
	if (v->inflight != NULL)
		v->inflight->iprev = j;
	v->inflight = j;
}

static void
inflight_unlink(struct verifier *v, struct verifier_job *j)
{
	if (j->iprev != NULL)
		j->iprev->inext = j->inext;
	else if (v->inflight == j)
		v->inflight = j->inext;
	if (j->inext != NULL)
		j->inext->iprev = j->iprev;
	j->inext = j->iprev = NULL;
}

/* Checks of `src` queued, running or done but not yet delivered. */
static unsigned
source_inflight(const struct verifier *v, const uint8_t *src)
{
	const struct verifier_job *j;
	unsigned n = 0;

	for (j = v->inflight; j != NULL; j = j->inext)
		if (j->has_src && memcmp(j->src, src, sizeof(j->src)) == 0)
			n++;
	return n;
}

/*
 * Loop thread: make the deadline timer fire by `at` (ms, util_now_ms()'s
 * clock). It may fire early for a job answered meanwhile: expire() then
 * finds nothing and sets it for the next deadline.
 */
static void
verifier_arm(struct verifier *v, uint64_t at)
{
	uint64_t now;

	if (v->deadline_at != 0 && v->deadline_at <= at)
		return;
	now = util_now_ms();
	v->deadline_at = at;
	ev_timer_stop(v->loop, &v->deadline_timer);
	ev_timer_set(&v->deadline_timer,
	    at > now ? (double)(at - now) / 1000. : 0., 0.);
	ev_timer_start(v->loop, &v->deadline_timer);
}

/*
 * Loop thread: move parked jobs to the queue, oldest first, while there
 * is room, skipping those whose source is at its cap (they keep their
 * place for later).
 */
static void
verifier_admit(struct verifier *v)
{
	struct verifier_job *j, *next;
	uint64_t now = util_now_ms(), wake = 0;
	bool moved = false;

	if (v->parked.head == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	for (j = v->parked.head; j != NULL; j = next) {
		next = j->next;
		if (j->not_before > now) {
			if (wake == 0 || j->not_before < wake)
				wake = j->not_before;
			continue;
		}
		/*
		 * The same user and password may have been verified while
		 * this one waited (a browser's many connections): answer it
		 * from the cache, through the loop's async callback.
		 */
		if (v->cache != NULL &&
		    vcache_lookup(v->cache, j->cache_key, now)) {
			list_unlink(&v->parked, j);
			j->parked = false;
			__atomic_sub_fetch(&v->nparked, 1, __ATOMIC_RELAXED);
			OPENSSL_cleanse(j->pw, sizeof(j->pw));
			j->result = USERDB_OK;
			j->cached = true;
			j->state = JOB_DONE;
			list_push(&v->done, j);
			ev_async_send(v->loop, &v->async);
			continue;
		}
		if (v->queued.n >= v->max_queue)
			continue;
		if (j->has_src &&
		    source_inflight(v, j->src) >= v->per_source) {
			j->held_back = true;
			continue;
		}
		if (j->held_back && v->ft != NULL) {
			/* Failures may have been counted while it waited. */
			unsigned d = failtab_turn_ms(v->ft,
			    (const struct sockaddr *)&j->sa, now);

			j->held_back = false;
			if (d == FAILTAB_THROTTLED)
				d = FAILTAB_MAX_MS;
			if (d > 0) {
				j->not_before = now + d;
				if (wake == 0 || j->not_before < wake)
					wake = j->not_before;
				/* The timeout counts from its turn. */
				if (v->backend.timeout_ms > 0) {
					j->deadline = j->not_before +
					    v->backend.timeout_ms;
					verifier_arm(v, j->deadline);
				}
				continue;
			}
		}
		list_unlink(&v->parked, j);
		j->parked = false;
		__atomic_sub_fetch(&v->nparked, 1, __ATOMIC_RELAXED);
		inflight_push(v, j);
		j->state = JOB_QUEUED;
		list_push(&v->queued, j);
		moved = true;
	}
	if (moved)
		pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	ev_timer_stop(v->loop, &v->turn_timer);
	if (wake != 0) {
		ev_timer_set(&v->turn_timer, (double)(wake - now) / 1000., 0.);
		ev_timer_start(v->loop, &v->turn_timer);
	}
}

static void
verifier_turn_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	verifier_admit(t->data);
}

void
verifier_set_failtab(struct verifier *v, struct failtab *ft)
{
	v->ft = ft;
}

static void
job_free(struct verifier_job *j)
{
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/* Free what verifier_free() left to its orphans (the last one out). */
static void
verifier_destroy(struct verifier *v)
{
	free(v->backend_arg);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

/* One check, with no lock held: the slow part. */
static enum userdb_result
verifier_run(struct verifier *v, struct verifier_job *j)
{
	if (v->backend.check != NULL)
		return v->backend.check(v->backend.arg, j->user, j->pw,
		    j->pwlen, j->has_src ? (const struct sockaddr *)&j->sa :
		    NULL, j->why, sizeof(j->why));
	return userdb_verify_password(v->db, j->user, j->pw, j->pwlen);
}

static void *
verifier_thread(void *arg)
{
	struct verifier_slot *slot = arg;
	struct verifier *v = slot->v;

	pthread_mutex_lock(&v->mu);
	for (;;) {
		struct verifier_job *j;

		while (!v->stop && v->queued.head == NULL)
			pthread_cond_wait(&v->cv, &v->mu);
		if (v->stop)
			break;
		j = v->queued.head;
		list_unlink(&v->queued, j);
		j->state = JOB_RUNNING;
		j->started = util_now_ms();
		slot->job = j;
		v->running++;
		/* A place in the queue is free: a parked job may take it. */
		if (__atomic_load_n(&v->nparked, __ATOMIC_RELAXED) > 0)
			ev_async_send(v->loop, &v->async);
		pthread_mutex_unlock(&v->mu);

		j->result = verifier_run(v, j);
		OPENSSL_cleanse(j->pw, sizeof(j->pw));

		pthread_mutex_lock(&v->mu);
		slot->job = NULL;
		v->running--;
		if (j->answered)
			v->stuck--;
		if (slot->orphan) {
			/*
			 * verifier_free() has come and gone: nobody will
			 * take the result, and the last one out frees the
			 * verifier. The loop may be gone: no ev_async_send.
			 */
			bool last;

			job_free(j);
			v->orphans--;
			last = v->orphans == 0 && v->freed;
			pthread_mutex_unlock(&v->mu);
			if (last)
				verifier_destroy(v);
			return NULL;
		}
		j->state = JOB_DONE;
		list_push(&v->done, j);
		ev_async_send(v->loop, &v->async);
		/* A spare that is no longer needed. */
		if (!v->stop && v->live - v->stuck > v->nthreads) {
			v->live--;
			slot->state = SLOT_EXITED;
			break;
		}
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

/*
 * Start a thread in a free slot (joining one that has exited first).
 * Under the mutex; signals blocked around the creation (the threads
 * leave them to the loop). 0, or -1 when no slot is free or it fails.
 */
static int
verifier_spawn(struct verifier *v)
{
	struct verifier_slot *slot = NULL;
	sigset_t all, old;
	unsigned i;
	int rc;

	for (i = 0; i < v->nslots && slot == NULL; i++)
		if (v->slots[i].state != SLOT_LIVE)
			slot = &v->slots[i];
	if (slot == NULL)
		return -1;
	if (slot->state == SLOT_EXITED) {
		/* It has left its loop; it is returning, if not gone. */
		pthread_join(slot->tid, NULL);
		slot->state = SLOT_FREE;
	}
	slot->v = v;
	slot->job = NULL;
	slot->orphan = false;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&slot->tid, NULL, verifier_thread, slot);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	slot->state = SLOT_LIVE;
	v->live++;
	return 0;
}

/* Loop thread: the report callback, when there is one. */
static void
verifier_report(struct verifier *v, enum verifier_note note,
    const struct verifier_job *j, const char *text)
{
	if (v->backend.report != NULL)
		v->backend.report(v->backend.report_arg, note, j->user,
		    j->has_src ? (const struct sockaddr *)&j->sa : NULL, text);
}

/* On the loop: hand finished jobs to their owners, one at a time. */
static void
verifier_async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct verifier *v = w->data;

	(void)loop;
	(void)revents;
	for (;;) {
		struct verifier_job *j;
		verifier_done_fn cb;
		enum userdb_result r;
		void *arg;
		bool cancelled, cached;

		pthread_mutex_lock(&v->mu);
		j = v->done.head;
		if (j != NULL)
			list_unlink(&v->done, j);
		pthread_mutex_unlock(&v->mu);
		if (j == NULL)
			break;
		inflight_unlink(v, j);
		cancelled = j->cancelled;
		cached = j->cached;
		cb = j->cb;
		arg = j->arg;
		r = j->result;
		if (j->answered) {
			/* Timed out long ago: the result goes nowhere. */
			char text[128];

			snprintf(text, sizeof(text), "%s answered after %.1f s, "
			    "too late: %s ignored", v->backend.name,
			    (double)(util_now_ms() - j->started) / 1000.,
			    userdb_result_str(r));
			verifier_report(v, VERIFIER_NOTE_LATE, j, text);
			job_free(j);
			continue;
		}
		if (j->why[0] != '\0')
			verifier_report(v, VERIFIER_NOTE_RESULT, j, j->why);
		/*
		 * Cache a success even for a session that has gone: the
		 * browser's next connection will want it.
		 */
		if (r == USERDB_OK && !cached)
			vcache_insert(v->cache, j->cache_key, util_now_ms());
		job_free(j);
		/*
		 * Called after the job is freed and unlinked: the callback
		 * may cancel or submit other jobs freely.
		 */
		if (!cancelled)
			cb(arg, r);
	}
	/* Places freed above, or in the queue by the threads. */
	verifier_admit(v);
}

/*
 * Loop thread, under the mutex: start spares while fewer than nthreads
 * threads are free to work (some are stuck with abandoned jobs).
 */
static void
verifier_grow(struct verifier *v)
{
	while (v->live - v->stuck < v->nthreads && v->live < v->nslots)
		if (verifier_spawn(v) == -1)
			break;
}

/*
 * The deadline timer: answer USERDB_TIMEOUT for every job past its
 * deadline (see the top of the file), then set the timer for the next.
 */
static void
verifier_expire(struct verifier *v)
{
	struct verifier_job *j, *next, *expired = NULL, **tail = &expired;
	uint64_t now = util_now_ms(), soonest = 0;
	unsigned stuck;

	pthread_mutex_lock(&v->mu);
	for (j = v->inflight; j != NULL; j = next) {
		next = j->inext;
		if (j->answered || j->deadline == 0 || j->state == JOB_DONE)
			continue;
		if (j->deadline > now) {
			if (soonest == 0 || j->deadline < soonest)
				soonest = j->deadline;
			continue;
		}
		if (j->state == JOB_QUEUED) {
			list_unlink(&v->queued, j);
			inflight_unlink(v, j);
		} else {
			/*
			 * Running: its thread keeps it (and its source's
			 * place) until the stack returns; the session has
			 * its answer now, and the thread's is thrown away.
			 */
			j->answered = true;
			v->stuck++;
		}
		j->xnext = NULL;
		*tail = j;
		tail = &j->xnext;
	}
	verifier_grow(v);
	stuck = v->stuck;
	pthread_mutex_unlock(&v->mu);

	/*
	 * Parked: the loop's own list; those waiting for a turn wait.
	 * After the running ones, so that the log says what is stuck
	 * before what waited behind it.
	 */
	for (j = v->parked.head; j != NULL; j = next) {
		next = j->next;
		if (j->deadline == 0 || j->not_before > now ||
		    j->deadline > now) {
			if (j->deadline != 0 &&
			    (soonest == 0 || j->deadline < soonest))
				soonest = j->deadline;
			continue;
		}
		list_unlink(&v->parked, j);
		j->parked = false;
		__atomic_sub_fetch(&v->nparked, 1, __ATOMIC_RELAXED);
		j->xnext = NULL;
		*tail = j;
		tail = &j->xnext;
	}
	v->deadline_at = 0;
	if (soonest != 0)
		verifier_arm(v, soonest);

	/*
	 * One at a time, as verifier_async_cb() does: a callback may
	 * cancel any job, one of this list too (verifier_cancel() then
	 * only flags it: `expiring`).
	 */
	for (j = expired; j != NULL; j = j->xnext)
		j->expiring = true;
	for (j = expired; j != NULL; j = next) {
		verifier_done_fn cb = j->cb;
		void *arg = j->arg;
		bool cancelled = j->cancelled, running = j->answered;
		char text[128];

		next = j->xnext;
		j->expiring = false;
		if (running) {
			/* Nobody may call back through it now. */
			j->cancelled = true;
			j->arg = NULL;
			snprintf(text, sizeof(text), "%s did not answer within "
			    "%g s", v->backend.name,
			    v->backend.timeout_ms / 1000.);
		} else if (j->held_back)
			snprintf(text, sizeof(text), "waited %g s behind this "
			    "client's other checks (%u stuck in %s)",
			    v->backend.timeout_ms / 1000., stuck,
			    v->backend.name);
		else
			snprintf(text, sizeof(text), "no verifier thread was "
			    "free within %g s (%u stuck in %s)",
			    v->backend.timeout_ms / 1000., stuck,
			    v->backend.name);
		if (!cancelled)
			verifier_report(v, VERIFIER_NOTE_TIMEOUT, j, text);
		/* `j` is the thread's from here, or freed now. */
		if (!running) {
			OPENSSL_cleanse(j->pw, sizeof(j->pw));
			job_free(j);
		}
		if (!cancelled)
			cb(arg, USERDB_TIMEOUT);
	}
	/* Room in the queue, and for the sources of the jobs gone. */
	verifier_admit(v);
}

static void
verifier_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	verifier_expire(t->data);
}

struct verifier *
verifier_new(struct ev_loop *loop, const struct userdb *db, unsigned nthreads,
    unsigned max_queue, struct vcache *cache)
{
	struct verifier *v;
	unsigned i;

	if (nthreads < 1 || nthreads > VERIFIER_MAX_THREADS)
		return NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->loop = loop;
	v->db = db;
	v->cache = cache;
	v->max_queue = max_queue;
	/* A source may keep all threads but one busy, at most the cap. */
	v->per_source = nthreads > 1 ? nthreads - 1 : 1;
	if (v->per_source > VERIFIER_PER_SOURCE)
		v->per_source = VERIFIER_PER_SOURCE;
	v->nthreads = nthreads;
	/* Spares only with a backend that may hang (verifier_set_backend). */
	v->nslots = nthreads;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	ev_async_init(&v->async, verifier_async_cb);
	v->async.data = v;
	ev_timer_init(&v->turn_timer, verifier_turn_cb, 0., 0.);
	v->turn_timer.data = v;
	ev_timer_init(&v->deadline_timer, verifier_deadline_cb, 0., 0.);
	v->deadline_timer.data = v;
	ev_async_start(loop, &v->async);
	/* Signals are the loop's business: the threads block them all. */
	pthread_mutex_lock(&v->mu);
	for (i = 0; i < nthreads; i++)
		if (verifier_spawn(v) == -1)
			break;
	pthread_mutex_unlock(&v->mu);
	if (v->live != nthreads) {
		verifier_free(v);
		return NULL;
	}
	return v;
}

int
verifier_set_backend(struct verifier *v, const struct verifier_backend *b)
{
	char *arg = NULL;

	if (b->arg != NULL && (arg = strdup(b->arg)) == NULL)
		return -1;
	pthread_mutex_lock(&v->mu);
	free(v->backend_arg);
	v->backend = *b;
	v->backend.arg = v->backend_arg = arg;
	if (v->backend.name == NULL)
		v->backend.name = "the password backend";
	/* A stack that hangs keeps its thread: room for as many spares. */
	if (b->timeout_ms > 0)
		v->nslots = 2 * v->nthreads;
	pthread_mutex_unlock(&v->mu);
	return 0;
}

enum verifier_status
verifier_check(struct verifier *v, const char *user, const uint8_t *pw,
    size_t pwlen, const struct sockaddr *src, verifier_done_fn cb, void *arg,
    struct verifier_job **job, enum userdb_result *result)
{
	uint8_t key[VCACHE_KEY_LEN];
	struct verifier_job *j;
	size_t ulen = strlen(user);

	*job = NULL;
	if (ulen > 255 || pwlen > 255) {
		*result = USERDB_BAD_PASSWORD;
		return VERIFIER_DONE;
	}
	if (v->cache != NULL) {
		vcache_key(v->cache, user, pw, pwlen, key);
		if (vcache_lookup(v->cache, key, util_now_ms())) {
			OPENSSL_cleanse(key, sizeof(key));
			*result = USERDB_OK;
			return VERIFIER_DONE;
		}
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		OPENSSL_cleanse(key, sizeof(key));
		return VERIFIER_BUSY;
	}
	j->has_src = src != NULL && failtab_source(src, j->src) == 0;
	if (j->has_src)
		memcpy(&j->sa, src, src->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	memcpy(j->user, user, ulen + 1);
	memcpy(j->pw, pw, pwlen);
	j->pwlen = pwlen;
	if (v->cache != NULL)
		memcpy(j->cache_key, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	j->cb = cb;
	j->arg = arg;
	if (v->backend.timeout_ms > 0) {
		j->deadline = util_now_ms() + v->backend.timeout_ms;
		verifier_arm(v, j->deadline);
	}
	/* In line behind the parked ones: admission keeps the order. */
	j->state = JOB_PARKED;
	j->parked = true;
	list_push(&v->parked, j);
	__atomic_add_fetch(&v->nparked, 1, __ATOMIC_RELAXED);
	verifier_admit(v);
	*job = j;
	return VERIFIER_PENDING;
}

void
verifier_cancel(struct verifier *v, struct verifier_job *j)
{
	bool freed = true;

	if (v == NULL || j == NULL)
		return;
	if (j->expiring) {
		/* Being answered "timeout" (verifier_expire): no more. */
		j->cancelled = true;
		j->arg = NULL;
		return;
	}
	/* Not j->state: a thread may be writing it (queued -> running). */
	if (j->parked) {
		list_unlink(&v->parked, j);
		__atomic_sub_fetch(&v->nparked, 1, __ATOMIC_RELAXED);
		job_free(j);
		return;
	}
	pthread_mutex_lock(&v->mu);
	switch (j->state) {
	case JOB_PARKED:
		break;		/* handled above; the state is the loop's */
	case JOB_QUEUED:
		list_unlink(&v->queued, j);
		inflight_unlink(v, j);
		job_free(j);
		break;
	case JOB_DONE:
		list_unlink(&v->done, j);
		inflight_unlink(v, j);
		job_free(j);
		break;
	case JOB_RUNNING:
		/* The thread finishes it; the loop frees it, silently. */
		j->cancelled = true;
		j->arg = NULL;
		freed = false;
		break;
	}
	pthread_mutex_unlock(&v->mu);
	if (freed)
		verifier_admit(v);	/* its place, queue or source, is free */
}

size_t
verifier_pending(const struct verifier *v)
{
	size_t n;

	pthread_mutex_lock((pthread_mutex_t *)&v->mu);
	n = v->queued.n + v->running + v->done.n + v->parked.n;
	pthread_mutex_unlock((pthread_mutex_t *)&v->mu);
	return n;
}

size_t
verifier_parked(const struct verifier *v)
{
	return v->parked.n;
}

size_t
verifier_threads(const struct verifier *v)
{
	size_t n;

	pthread_mutex_lock((pthread_mutex_t *)&v->mu);
	n = v->live;
	pthread_mutex_unlock((pthread_mutex_t *)&v->mu);
	return n;
}

size_t
verifier_stuck(const struct verifier *v)
{
	size_t n;

	pthread_mutex_lock((pthread_mutex_t *)&v->mu);
	n = v->stuck;
	pthread_mutex_unlock((pthread_mutex_t *)&v->mu);
	return n;
}

/* Free every job of a list (the threads have stopped: nobody else looks). */
static void
list_free_jobs(struct job_list *l)
{
	struct verifier_job *j, *next;

	for (j = l->head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	l->head = l->tail = NULL;
	l->n = 0;
}

void
verifier_free(struct verifier *v)
{
	enum { KEEP, JOIN, DETACH } what[VERIFIER_MAX_SLOTS];
	unsigned i, n;
	bool last;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	n = v->nslots;
	v->stop = true;
	pthread_cond_broadcast(&v->cv);
	/*
	 * A thread in a backend check that may hang is not waited for: it
	 * finishes on its own and frees its job (and, the last one, what
	 * is left of the verifier). A crypt always ends: those are joined.
	 * After `stop` no thread changes its slot's state.
	 */
	for (i = 0; i < n; i++) {
		struct verifier_slot *slot = &v->slots[i];

		what[i] = slot->state == SLOT_FREE ? KEEP : JOIN;
		if (v->backend.timeout_ms > 0 && slot->state == SLOT_LIVE &&
		    slot->job != NULL) {
			slot->orphan = true;
			v->orphans++;
			what[i] = DETACH;
		}
	}
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < n; i++) {
		if (what[i] == DETACH)
			pthread_detach(v->slots[i].tid);
		else if (what[i] == JOIN)
			pthread_join(v->slots[i].tid, NULL);
	}
	list_free_jobs(&v->parked);
	list_free_jobs(&v->queued);
	list_free_jobs(&v->done);
	ev_async_stop(v->loop, &v->async);
	ev_timer_stop(v->loop, &v->turn_timer);
	ev_timer_stop(v->loop, &v->deadline_timer);
	pthread_mutex_lock(&v->mu);
	v->freed = true;
	last = v->orphans == 0;
	pthread_mutex_unlock(&v->mu);
	if (last)
		verifier_destroy(v);
}

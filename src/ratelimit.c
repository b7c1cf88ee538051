/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.c - see ratelimit.h.
 *
 * A balance is kept as GCRA's theoretical arrival time `tat`, in
 * nanoseconds of the callers' clock: the bucket is full when tat <= now,
 * and holds (now + burst_ns - max(tat, now)) * rate bytes otherwise.
 * Taking n bytes moves tat forward by n / rate, refunding moves it back.
 * Each change is one compare-and-swap on one word, so every worker takes
 * from the same balance and none can lose another's update. A worker
 * whose `now` lags (libev caches it per loop turn) sees a fuller tat and
 * so takes less, never more.
 *
 * A shared entry is { key, tat[2] }; key 0 marks an entry never used.
 * A process keeps one handle per user (struct ratelimit) for all its
 * sessions of that user, with the entry's index and key: when the entry
 * was taken over meanwhile (its bucket was full), the next call finds or
 * takes another one.
 */
#include "config_auto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "ratelimit.h"
#include "text.h"
#include "util.h"

#define RATELIMIT_MIN_BURST 16384.
#define PROBE_MAX 32
#define CAP_MIN 64
#define CAP_MAX (1u << 18)
#define NO_ENTRY SIZE_MAX

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define CAS(p, e, d)	__atomic_compare_exchange_n((p), (e), (d), false, \
			    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

struct rl_entry {
	uint64_t key;		/* the user's hash; 0: never used */
	uint64_t tat[2];	/* per direction, ns */
};

/* The shared table, inherited from the master; private fields per process. */
static struct {
	struct rl_entry *e;	/* NULL: no shared table */
	size_t cap;		/* a power of two */
	size_t map_len;
	uint64_t seed;
} shared;

struct ratelimit {
	struct ratelimit *next;
	char *user;
	unsigned refs;
	uint64_t key;		/* the user's hash */
	size_t idx;		/* its shared entry, or NO_ENTRY */
	bool fallback_logged;
	double rate;		/* bytes per second */
	uint64_t burst_ns;	/* the burst, as time at `rate` */
	uint64_t tat[2];	/* the private balance when idx == NO_ENTRY */
};

/* This process's handles (this worker's); few users are active at once. */
static struct ratelimit *handles;

int
ratelimit_shared_new(size_t users)
{
	size_t cap = CAP_MIN, len;
	void *map;

	ratelimit_shared_free();
	while (cap < users * 2 && cap < CAP_MAX)
		cap *= 2;
	len = cap * sizeof(struct rl_entry);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		return -1;
	if (getrandom(&shared.seed, sizeof(shared.seed), 0) !=
	    sizeof(shared.seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		shared.seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32);
	}
	shared.e = map;
	shared.cap = cap;
	shared.map_len = len;
	return 0;
}

void
ratelimit_shared_free(void)
{
	struct ratelimit *rl;

	if (shared.e == NULL)
		return;
	munmap(shared.e, shared.map_len);
	shared.e = NULL;
	shared.cap = 0;
	for (rl = handles; rl != NULL; rl = rl->next)
		rl->idx = NO_ENTRY;
}

/* FNV-1a from a random start, then a finaliser; never 0. */
static uint64_t
user_key(const char *user)
{
	uint64_t h = util_fnv1a64(UTIL_FNV1A64_INIT ^ shared.seed, user,
	    strlen(user));

	h = util_mix64(h);
	return h != 0 ? h : 1;
}

static uint64_t
to_ns(double t)
{
	return t > 0 ? (uint64_t)(t * 1e9) : 0;
}

/* Bytes `n` as time at the handle's rate, rounded up. */
static uint64_t
cost_ns(const struct ratelimit *rl, size_t n)
{
	return (uint64_t)((double)n * 1e9 / rl->rate + 0.999);
}

static void
set_rate(struct ratelimit *rl, uint64_t rate)
{
	double burst;

	rl->rate = (double)rate;
	burst = rl->rate / 10.;
	if (burst < RATELIMIT_MIN_BURST)
		burst = RATELIMIT_MIN_BURST;
	rl->burst_ns = (uint64_t)(burst * 1e9 / rl->rate);
}

/*
 * Find or take the shared entry of the handle's user. NO_ENTRY when there
 * is no table or every entry near the hash is busy with someone else.
 */
static size_t
entry_bind(const struct ratelimit *rl, uint64_t now_ns)
{
	size_t mask, i, probe, evict = NO_ENTRY;
	uint64_t evict_key = 0;

	if (shared.e == NULL)
		return NO_ENTRY;
	mask = shared.cap - 1;
	probe = shared.cap < PROBE_MAX ? shared.cap : PROBE_MAX;
	/* cppcheck-suppress knownConditionTrueFalse ; cap >= 1 once e is set */
	for (i = 0; i < probe; i++) {
		size_t p = (rl->key + i) & mask;
		struct rl_entry *e = &shared.e[p];
		uint64_t k = LOAD(&e->key), zero = 0;

		if (k == rl->key)
			return p;
		if (k == 0) {
			/* The first unused entry ends the chain: take it. */
			if (CAS(&e->key, &zero, rl->key) || zero == rl->key)
				return p;
			continue;
		}
		if (evict == NO_ENTRY && LOAD(&e->tat[0]) <= now_ns &&
		    LOAD(&e->tat[1]) <= now_ns) {
			evict = p;	/* full: nothing to lose */
			evict_key = k;
		}
	}
	if (evict != NO_ENTRY && (CAS(&shared.e[evict].key, &evict_key,
	    rl->key) || evict_key == rl->key))
		return evict;
	return NO_ENTRY;
}

/* The balance to use: the shared entry if it is still ours, else private. */
static uint64_t *
balance(struct ratelimit *rl, enum ratelimit_dir dir, uint64_t now_ns)
{
	if (shared.e != NULL && (rl->idx == NO_ENTRY ||
	    LOAD(&shared.e[rl->idx].key) != rl->key)) {
		rl->idx = entry_bind(rl, now_ns);
		if (rl->idx == NO_ENTRY && !rl->fallback_logged) {
			char user[AUTH_USER_STRLEN];

			rl->fallback_logged = true;
			logit("bandwidth cap of user %s: the shared table is "
			    "full near its entry; the cap holds per worker "
			    "for now",
			    text_escape(user, sizeof(user),
			    rl->user, TEXT_CSTR));
		}
	}
	if (rl->idx != NO_ENTRY)
		return &shared.e[rl->idx].tat[dir];
	return &rl->tat[dir];
}

struct ratelimit *
ratelimit_get(const char *user, uint64_t rate, double now)
{
	struct ratelimit *rl;

	for (rl = handles; rl != NULL; rl = rl->next) {
		if (strcmp(rl->user, user) == 0) {
			if (rl->rate != (double)rate)
				set_rate(rl, rate);
			rl->refs++;
			if (rl->idx == NO_ENTRY)
				(void)balance(rl, RATELIMIT_UP, to_ns(now));
			return rl;
		}
	}
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->user = strdup(user)) == NULL) {
		free(rl);
		return NULL;
	}
	set_rate(rl, rate);
	rl->key = user_key(user);
	rl->idx = NO_ENTRY;
	/* A private bucket starts full too: a new session need not wait. */
	rl->tat[0] = rl->tat[1] = 0;
	(void)balance(rl, RATELIMIT_UP, to_ns(now));
	rl->refs = 1;
	rl->next = handles;
	handles = rl;
	return rl;
}

void
ratelimit_put(struct ratelimit *rl)
{
	struct ratelimit **pp;

	if (rl == NULL || --rl->refs > 0)
		return;
	for (pp = &handles; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == rl) {
			*pp = rl->next;
			break;
		}
	}
	/* The shared entry stays: it is free for another user once full. */
	free(rl->user);
	free(rl);
}

size_t
ratelimit_take(struct ratelimit *rl, enum ratelimit_dir dir, double now,
    size_t want)
{
	uint64_t now_ns = to_ns(now), *tp = balance(rl, dir, now_ns);
	uint64_t t = LOAD(tp), base, nt;
	double have;

	do {
		base = t > now_ns ? t : now_ns;
		if (base >= now_ns + rl->burst_ns)
			return 0;
		have = (double)(now_ns + rl->burst_ns - base) * rl->rate / 1e9;
		if (have < 1.)
			return 0;
		if ((double)want > have)
			want = (size_t)have;
		nt = base + cost_ns(rl, want);
	} while (!CAS(tp, &t, nt));
	return want;
}

void
ratelimit_refund(struct ratelimit *rl, enum ratelimit_dir dir, size_t n)
{
	uint64_t *tp, t, back;

	if (n == 0)
		return;
	/*
	 * The entry the bytes were taken from, if still ours; a refund
	 * that finds it gone is dropped (the bucket was full anyway).
	 */
	if (rl->idx != NO_ENTRY && shared.e != NULL) {
		if (LOAD(&shared.e[rl->idx].key) != rl->key)
			return;
		tp = &shared.e[rl->idx].tat[dir];
	} else {
		tp = &rl->tat[dir];
	}
	back = (uint64_t)((double)n * 1e9 / rl->rate);
	t = LOAD(tp);
	/* Below `now` it only means "full": the burst caps it when read. */
	while (!CAS(tp, &t, t > back ? t - back : 0))
		;
}

double
ratelimit_wait(const struct ratelimit *rl, enum ratelimit_dir dir, double now,
    size_t want)
{
	/* Wait for a fiftieth of a second's worth, not for single bytes. */
	double target = rl->rate / 50.;
	uint64_t now_ns = to_ns(now), t, ready;

	if (target < 1.)
		target = 1.;
	if (target > (double)want)
		target = (double)want;
	if (rl->idx != NO_ENTRY && shared.e != NULL) {
		if (LOAD(&shared.e[rl->idx].key) != rl->key)
			return 0.;	/* taken over: the next take rebinds */
		t = LOAD(&shared.e[rl->idx].tat[dir]);
	} else {
		t = rl->tat[dir];
	}
	/* `target` bytes are there once tat <= now + burst - target/rate. */
	ready = t + (uint64_t)(target * 1e9 / rl->rate);
	if (ready <= now_ns + rl->burst_ns)
		return 0.;
	return (double)(ready - now_ns - rl->burst_ns) / 1e9;
}

int
ratelimit_is_shared(const struct ratelimit *rl)
{
	return rl->idx != NO_ENTRY && shared.e != NULL &&
	    LOAD(&shared.e[rl->idx].key) == rl->key;
}

/* SPDX-License-Identifier: ISC */
/*
 * failtab.c - see failtab.h.
 *
 * One entry is one 64-bit word, so that a single compare-and-swap moves
 * it from one consistent value to the next whatever the other processes
 * do (and a process killed between two instructions leaves either the
 * old word or the new one):
 *
 *	63          36 35      30 29                      0
 *	| fingerprint  | failures |  time, in 16 ms ticks   |
 *	|  (28 bits)   | (6 bits) |  (30 bits)              |
 *
 * The time is the last failure's, or the last turn booked (failtab_turn_ms,
 * which may lie in the future), whichever is later. 0 is an empty slot (a
 * fingerprint is never 0). The fingerprint comes from the same keyed hash
 * as the slot, from other bits: two sources share a slot window and a
 * fingerprint with a chance of 2^-28 per probe, which at worst lends one
 * of them the other's count. Times are compared as signed differences
 * modulo 2^30 ticks (198 days), so the clock's origin does not matter.
 */
#include "config_auto.h"

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "failtab.h"
#include "util.h"

/* Slots looked at per source: a bounded cost whatever the table holds. */
#define FAILTAB_PROBE 8
/* Compare-and-swap rounds before giving up on a contended update. */
#define FAILTAB_TRIES 16

#define FP_SHIFT 36
#define FP_MASK ((1ULL << 28) - 1)
#define FAIL_SHIFT 30
#define FAIL_MAX 63ULL
#define TICK_MS 16
#define TIME_MASK ((1ULL << 30) - 1)

struct failtab {
	uint64_t *slot;			/* the shared mapping */
	size_t mask;			/* private: never read from the map */
	size_t map_len;
	uint64_t k0, k1;		/* SipHash key */
};

struct failtab *
failtab_new(size_t capacity)
{
	struct failtab *t;
	size_t n = 16;
	uint64_t k[2];
	void *map;

	while (n < capacity && n < ((size_t)1 << 24))
		n *= 2;
	if (getrandom(k, sizeof(k), 0) != (ssize_t)sizeof(k)) {
		if (errno == 0)
			errno = EIO;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->map_len = n * sizeof(uint64_t);
	map = mmap(NULL, t->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		free(t);
		return NULL;
	}
	t->slot = map;
	t->mask = n - 1;
	t->k0 = k[0];
	t->k1 = k[1];
	explicit_bzero(k, sizeof(k));
	return t;
}

void
failtab_free(struct failtab *t)
{
	if (t == NULL)
		return;
	munmap(t->slot, t->map_len);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

int
failtab_source(const struct sockaddr *sa, uint8_t src[FAILTAB_SOURCE_LEN])
{
	memset(src, 0, FAILTAB_SOURCE_LEN);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		src[10] = src[11] = 0xff;
		memcpy(src + 12, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memcpy(src, &in6->sin6_addr, 16);
		else
			memcpy(src, &in6->sin6_addr, 8);	/* the /64 */
		return 0;
	}
	return -1;
}

/* The table's keyed hash of a 16-byte source. */
static uint64_t
hash_source(const struct failtab *t, const uint8_t src[FAILTAB_SOURCE_LEN])
{
	const uint64_t k[2] = { t->k0, t->k1 };

	return util_siphash24(k, src, FAILTAB_SOURCE_LEN);
}

/*
 * Where the source's window starts, and its fingerprint (never 0); false
 * when there is no table or the address is no source (nothing to count).
 */
static bool
locate(const struct failtab *t, const struct sockaddr *sa, size_t *first,
    uint64_t *fp)
{
	uint8_t src[FAILTAB_SOURCE_LEN];
	uint64_t h;

	if (t == NULL || failtab_source(sa, src) != 0)
		return false;
	h = hash_source(t, src);
	*first = (size_t)h & t->mask;
	*fp = (h >> FP_SHIFT) & FP_MASK;
	if (*fp == 0)
		*fp = 1;
	return true;
}

static uint64_t
ticks_of(uint64_t now_ms)
{
	return (now_ms / TICK_MS) & TIME_MASK;
}

static unsigned
failures_of(uint64_t w)
{
	return (unsigned)((w >> FAIL_SHIFT) & FAIL_MAX);
}

/* Ticks from the entry's time to now: negative for a turn ahead. */
static int64_t
age_of(uint64_t w, uint64_t now_ms)
{
	uint64_t d = (ticks_of(now_ms) - (w & TIME_MASK)) & TIME_MASK;

	return (d & (1ULL << 29)) != 0 ? (int64_t)d - (1LL << 30) :
	    (int64_t)d;
}

static int
live(uint64_t w, uint64_t now_ms)
{
	return w != 0 && failures_of(w) != 0 &&
	    age_of(w, now_ms) < FAILTAB_FORGET_MS / TICK_MS;
}

/* The word's time, moved to now unless it is later already. */
static uint64_t
time_at_least_now(uint64_t w, uint64_t now_ms)
{
	return age_of(w, now_ms) < 0 ? (w & TIME_MASK) : ticks_of(now_ms);
}

static uint64_t *
slot_at(const struct failtab *t, size_t first, size_t i)
{
	return &t->slot[(first + i) & t->mask];
}

static uint64_t
load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static int
cas(uint64_t *p, uint64_t old, uint64_t new)
{
	return __atomic_compare_exchange_n(p, &old, new, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* The live entry of `fp` in the window, or NULL; *seen is its word. */
static uint64_t *
find(const struct failtab *t, size_t first, uint64_t fp, uint64_t now_ms,
    uint64_t *seen)
{
	size_t i;

	for (i = 0; i < FAILTAB_PROBE; i++) {
		uint64_t *p = slot_at(t, first, i);
		uint64_t w = load(p);

		if (live(w, now_ms) && (w >> FP_SHIFT) == fp) {
			*seen = w;
			return p;
		}
	}
	return NULL;
}

unsigned
failtab_delay_for(unsigned failures)
{
	unsigned d = FAILTAB_BASE_MS, k;

	if (failures < FAILTAB_FREE)
		return 0;
	for (k = FAILTAB_FREE; k < failures && d < FAILTAB_MAX_MS; k++)
		d *= 2;
	return d < FAILTAB_MAX_MS ? d : FAILTAB_MAX_MS;
}

unsigned
failtab_delay_ms(const struct failtab *t, const struct sockaddr *sa,
    uint64_t now_ms)
{
	uint64_t fp = 0, w = 0;
	size_t first = 0;

	if (!locate(t, sa, &first, &fp) ||
	    find(t, first, fp, now_ms, &w) == NULL)
		return 0;
	return failtab_delay_for(failures_of(w));
}

unsigned
failtab_fail(struct failtab *t, const struct sockaddr *sa, uint64_t now_ms)
{
	uint64_t fp = 0, w = 0, nw;
	size_t first = 0, i;
	unsigned tries, n;

	if (!locate(t, sa, &first, &fp))
		return 0;
	for (tries = 0; tries < FAILTAB_TRIES; tries++) {
		uint64_t *p = find(t, first, fp, now_ms, &w), *victim = NULL;
		uint64_t vw = 0;

		if (p != NULL) {
			n = failures_of(w);
			if (n < FAIL_MAX)
				n++;
			nw = fp << FP_SHIFT | (uint64_t)n << FAIL_SHIFT |
			    time_at_least_now(w, now_ms);
			if (cas(p, w, nw))
				return n;
			continue;	/* changed under us: look again */
		}
		/* New here: the first dead slot, else the stalest. */
		for (i = 0; i < FAILTAB_PROBE; i++) {
			uint64_t *c = slot_at(t, first, i);
			uint64_t cw = load(c);

			if (!live(cw, now_ms)) {
				victim = c;
				vw = cw;
				break;
			}
			if (victim == NULL ||
			    age_of(cw, now_ms) > age_of(vw, now_ms)) {
				victim = c;
				vw = cw;
			}
		}
		nw = fp << FP_SHIFT | 1ULL << FAIL_SHIFT | ticks_of(now_ms);
		if (cas(victim, vw, nw))
			return 1;
	}
	/* Contended beyond reason (FAILTAB_TRIES other writers): let go. */
	return 0;
}

unsigned
failtab_turn_ms(struct failtab *t, const struct sockaddr *sa, uint64_t now_ms)
{
	uint64_t fp = 0, w = 0, nw, ahead;
	size_t first = 0;
	unsigned tries, d;
	int64_t age;

	if (!locate(t, sa, &first, &fp))
		return 0;
	for (tries = 0; tries < FAILTAB_TRIES; tries++) {
		uint64_t *p = find(t, first, fp, now_ms, &w);

		if (p == NULL || (d = failtab_delay_for(failures_of(w))) == 0)
			return 0;
		/* After the last turn booked (or now), plus the delay. */
		age = age_of(w, now_ms);
		ahead = (age < 0 ? (uint64_t)-age : 0) +
		    (d + TICK_MS - 1) / TICK_MS;
		if (ahead * TICK_MS > FAILTAB_AHEAD_MAX_MS)
			return FAILTAB_THROTTLED;
		nw = (w & ~TIME_MASK) | ((ticks_of(now_ms) + ahead) & TIME_MASK);
		if (cas(p, w, nw))
			return (unsigned)(ahead * TICK_MS);
	}
	/* Contended beyond reason: this attempt waits the longest delay. */
	return FAILTAB_MAX_MS;
}

void
failtab_success(struct failtab *t, const struct sockaddr *sa)
{
	uint64_t fp = 0;
	size_t first = 0, i;

	if (!locate(t, sa, &first, &fp))
		return;
	for (i = 0; i < FAILTAB_PROBE; i++) {
		uint64_t *p = slot_at(t, first, i);
		uint64_t w = load(p);

		/* Dead or alive: an entry of this source is cleared. */
		if (w != 0 && (w >> FP_SHIFT) == fp)
			(void)cas(p, w, 0);
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * quota.c - see quota.h.
 *
 * Layout of the shared mapping:
 *
 *   struct quota_hdr | keys[cap] | slot 0 | slot 1 | ... | slot n-1
 *   slot = struct slot_hdr | held[cap]
 *
 * keys[p] is one 64-bit word: the key's 40-bit tag above a 24-bit count.
 * 0 is an entry never used; a word with count 0 is stale and may take
 * another key. A key lives within PROBE_MAX entries of its hash; two
 * workers adding the same key at once may put it in two entries, which
 * is harmless: a key's count is the sum over its entries. Because a tag
 * cannot change while its count is above 0, a worker finds the entries
 * it added to again by its own held[] share.
 *
 * held[p] is the slot's share of keys[p]'s count. A worker changes a
 * count in this order: `pending` = what it changes, then the shared word
 * (compare-and-swap), then its own share, then `pending` = 0. The master
 * rebuilding a count reads the word, the others' `pending` and shares,
 * and swaps the sum in only if the word did not change meanwhile; it
 * tries again while another worker is in the middle of changing that
 * count or the sum moved under it. All atomics are sequentially
 * consistent: the argument needs that order.
 *
 * A slot's `touched` bitmap marks the pages of held[] its worker ever
 * wrote, so the master clearing a slot reads only those (most of a large
 * mapping is never touched, and stays unallocated). The total is counted
 * the same way: the slot's `sessions` is its share, PENDING_TOTAL its
 * `pending`.
 */
#include "config_auto.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "quota.h"
#include "util.h"

#define COUNT_BITS 24
#define COUNT_MASK ((uint64_t)QUOTA_KEY_MAX)
#define PROBE_MAX 64		/* entries a key may live in */
#define CAP_MIN 64
#define CAP_MAX (1u << 20)
#define CHUNK 1024		/* held[] entries per `touched` bit: a page */
#define TOUCHED_WORDS (CAP_MAX / CHUNK / 64)
#define PENDING_TOTAL 1		/* slot_hdr.pending: 0, 1, or 2 + a key index */
#define SESSIONS_MAX 0xffffffffULL	/* a slot's sessions, as the master reads them */
#define REBUILD_TRIES 2000	/* about 20 ms of waiting at most per count */
#define ACQUIRE_TRIES 1000

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define CAS(p, e, d)	__atomic_compare_exchange_n((p), (e), (d), false, \
			    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

struct quota_hdr {
	uint64_t total;		/* sessions in all slots */
};

struct slot_hdr {
	uint64_t sessions;	/* sessions this slot added to the total */
	uint64_t pending;	/* the count being changed: see PENDING_TOTAL */
	uint64_t touched[TOUCHED_WORDS];	/* held[] chunks ever written */
};

/* Private to each process (copied at fork): nothing here is shared. */
struct quota {
	size_t map_len;
	int nslots;
	size_t cap;		/* entries in keys[] and held[], a power of two */
	size_t probe;		/* min(PROBE_MAX, cap) */
	size_t slot_len;	/* bytes per slot */
	uint64_t seed[2];	/* the hash key, drawn by the master */
	struct quota_hdr *hdr;
	uint64_t *keys;
	uint8_t *slots;
};

/* --- keyed hash (SipHash, util.h): a client cannot aim at a chain ---------- */

/* The 40-bit tag of a hash, never 0 (0 marks an entry never used). */
static uint64_t
hash_tag(uint64_t h)
{
	uint64_t tag = h >> COUNT_BITS;

	return tag != 0 ? tag : 1;
}

static uint64_t
client_hash(const struct quota *l, const struct sockaddr *sa, int prefix4,
    int prefix6)
{
	uint8_t key[17];
	const uint8_t *a = NULL;
	int bits = 0, i;
	static const uint8_t mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(key, 0, sizeof(key));
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
		bits = prefix4;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d. */
		if (memcmp(a, mapped, 12) == 0) {
			key[0] = 4;
			a += 12;
			bits = prefix4;
		} else {
			key[0] = 6;
			bits = prefix6;
		}
	}
	if (a != NULL) {
		int len = key[0] == 4 ? 4 : 16;

		if (bits < 0)
			bits = 0;
		if (bits > len * 8)
			bits = len * 8;
		for (i = 0; i < len; i++) {
			int keep = bits - 8 * i;

			if (keep >= 8)
				key[1 + i] = a[i];
			else if (keep > 0)
				key[1 + i] = a[i] & (uint8_t)(0xff << (8 - keep));
		}
	}
	return util_siphash24(l->seed, key, sizeof(key));
}

static uint64_t
user_hash(const struct quota *l, const char *user)
{
	size_t len = strlen(user);
	uint8_t *buf = xmalloc(len + 1);
	uint64_t h;

	/* 'u' first: no user collides with a client by construction. */
	buf[0] = 'u';
	memcpy(buf + 1, user, len);
	h = util_siphash24(l->seed, buf, len + 1);
	free(buf);
	return h;
}

/* --- the mapping ----------------------------------------------------------- */

static struct slot_hdr *
slot_at(const struct quota *l, int slot)
{
	return (struct slot_hdr *)(void *)(l->slots +
	    (size_t)slot * l->slot_len);
}

static uint32_t *
held_at(const struct quota *l, int slot)
{
	return (uint32_t *)(void *)((uint8_t *)slot_at(l, slot) +
	    sizeof(struct slot_hdr));
}

struct quota *
quota_new(int nslots, size_t max_keys)
{
	struct quota *l;
	size_t cap = CAP_MIN, keys_len, len;
	void *map;

	if (nslots <= 0) {
		errno = EINVAL;
		return NULL;
	}
	/* Twice the keys, so chains stay short. */
	while (cap < max_keys * 2 && cap < CAP_MAX)
		cap *= 2;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if (getrandom(l->seed, sizeof(l->seed), 0) != sizeof(l->seed)) {
		/* Only before the entropy pool is ready; still unguessable. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		l->seed[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)(uintptr_t)l;
		l->seed[1] ^= (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 32);
	}
	l->nslots = nslots;
	l->cap = cap;
	l->probe = cap < PROBE_MAX ? cap : PROBE_MAX;
	l->slot_len = sizeof(struct slot_hdr) + cap * sizeof(uint32_t);
	l->slot_len = (l->slot_len + 4095) & ~(size_t)4095;
	keys_len = (cap * sizeof(uint64_t) + 4095) & ~(size_t)4095;
	len = 4096 + keys_len + l->slot_len * (size_t)nslots;
	/* Most of it is never touched: reserve nothing up front. */
	map = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		free(l);
		return NULL;
	}
	l->map_len = len;
	l->hdr = map;
	l->keys = (uint64_t *)(void *)((uint8_t *)map + 4096);
	l->slots = (uint8_t *)map + 4096 + keys_len;
	return l;
}

void
quota_free(struct quota *l)
{
	if (l == NULL)
		return;
	munmap(l->hdr, l->map_len);
	free(l);
}

/* --- a worker's side ------------------------------------------------------- */

/* The slot's share of keys[p] changes by `delta` (the writer only). */
static void
held_add(const struct quota *l, int slot, size_t p, int delta)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint32_t *h = &held_at(l, slot)[p];
	size_t c = p / CHUNK;

	if ((sh->touched[c / 64] & (1ULL << (c % 64))) == 0)
		STORE(&sh->touched[c / 64], sh->touched[c / 64] |
		    (1ULL << (c % 64)));
	STORE(h, (uint32_t)((int64_t)*h + delta));
}

/* Sessions counted for the key of hash `h`, over all its entries. */
static uint64_t
key_sum(const struct quota *l, uint64_t h)
{
	uint64_t tag = hash_tag(h), sum = 0;
	size_t mask = l->cap - 1, i;

	for (i = 0; i < l->probe; i++) {
		uint64_t w = LOAD(&l->keys[(h + i) & mask]);

		if (w >> COUNT_BITS == tag)
			sum += w & COUNT_MASK;
	}
	return sum;
}

/* Give back one count of keys[p], which this slot holds a share of. */
static void
key_release_at(struct quota *l, int slot, size_t p)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint64_t w;

	STORE(&sh->pending, 2 + (uint64_t)p);
	w = LOAD(&l->keys[p]);
	while ((w & COUNT_MASK) > 0 && !CAS(&l->keys[p], &w, w - 1))
		;
	held_add(l, slot, p, -1);
	STORE(&sh->pending, 0);
}

static enum quota_verdict
key_acquire(struct quota *l, int slot, uint64_t h, int max)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint64_t tag = hash_tag(h);
	size_t mask = l->cap - 1;
	int tries;

	if (max > 0 && key_sum(l, h) >= (uint64_t)max)
		return QUOTA_OVER_KEY;
	for (tries = 0; tries < ACQUIRE_TRIES; tries++) {
		size_t i, pick = 0;
		uint64_t pw = 0, nw;
		int rank = 3;

		/*
		 * Best: an entry of this key with sessions; then one of this
		 * key without; then any stale or unused entry.
		 */
		for (i = 0; i < l->probe && rank > 0; i++) {
			size_t p = (h + i) & mask;
			uint64_t w = LOAD(&l->keys[p]), c = w & COUNT_MASK;
			int r;

			if (w >> COUNT_BITS == tag)
				r = c == COUNT_MASK ? 3 : c > 0 ? 0 : 1;
			else
				r = c == 0 ? 2 : 3;
			if (r < rank) {
				rank = r;
				pick = p;
				pw = w;
			}
		}
		if (rank == 3)
			return QUOTA_TABLE_FULL;
		nw = rank == 2 ? (tag << COUNT_BITS) | 1 : pw + 1;
		STORE(&sh->pending, 2 + (uint64_t)pick);
		if (!CAS(&l->keys[pick], &pw, nw)) {
			STORE(&sh->pending, 0);
			continue;	/* someone else changed it: look again */
		}
		held_add(l, slot, pick, 1);
		STORE(&sh->pending, 0);
		/*
		 * Added first, checked after: of two workers racing for the
		 * last place, at least one sees both adds and gives its back.
		 */
		if (max > 0 && key_sum(l, h) > (uint64_t)max) {
			key_release_at(l, slot, pick);
			return QUOTA_OVER_KEY;
		}
		return QUOTA_OK;
	}
	return QUOTA_TABLE_FULL;
}

static void
key_release(struct quota *l, int slot, uint64_t h)
{
	uint64_t tag = hash_tag(h);
	const uint32_t *held = held_at(l, slot);
	size_t mask = l->cap - 1, i;

	for (i = 0; i < l->probe; i++) {
		size_t p = (h + i) & mask;

		if (held[p] > 0 && LOAD(&l->keys[p]) >> COUNT_BITS == tag) {
			key_release_at(l, slot, p);
			return;
		}
	}
	/* Not held here: nothing to give back. */
}

static enum quota_verdict
total_acquire(struct quota *l, int slot, int max)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint64_t t;

	STORE(&sh->pending, PENDING_TOTAL);
	t = LOAD(&l->hdr->total);
	do {
		if (max > 0 && t >= (uint64_t)max) {
			STORE(&sh->pending, 0);
			return QUOTA_OVER_GLOBAL;
		}
	} while (!CAS(&l->hdr->total, &t, t + 1));
	STORE(&sh->sessions, sh->sessions + 1);
	STORE(&sh->pending, 0);
	return QUOTA_OK;
}

static void
total_release(struct quota *l, int slot)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint64_t t;

	if (sh->sessions == 0)
		return;		/* never below zero, whatever the caller does */
	STORE(&sh->pending, PENDING_TOTAL);
	t = LOAD(&l->hdr->total);
	while (t > 0 && !CAS(&l->hdr->total, &t, t - 1))
		;
	STORE(&sh->sessions, sh->sessions - 1);
	STORE(&sh->pending, 0);
}

enum quota_verdict
quota_acquire_client(struct quota *l, int slot, const struct sockaddr *client,
    int max_total, int max_per_client, int prefix4, int prefix6)
{
	enum quota_verdict v;

	BUG_ON(slot < 0 || slot >= l->nslots);
	if ((v = total_acquire(l, slot, max_total)) != QUOTA_OK)
		return v;
	v = key_acquire(l, slot, client_hash(l, client, prefix4, prefix6),
	    max_per_client);
	if (v != QUOTA_OK)
		total_release(l, slot);
	return v;
}

void
quota_release_client(struct quota *l, int slot, const struct sockaddr *client,
    int prefix4, int prefix6)
{
	BUG_ON(slot < 0 || slot >= l->nslots);
	key_release(l, slot, client_hash(l, client, prefix4, prefix6));
	total_release(l, slot);
}

enum quota_verdict
quota_acquire_user(struct quota *l, int slot, const char *user,
    int max_per_user)
{
	BUG_ON(slot < 0 || slot >= l->nslots);
	return key_acquire(l, slot, user_hash(l, user), max_per_user);
}

void
quota_release_user(struct quota *l, int slot, const char *user)
{
	BUG_ON(slot < 0 || slot >= l->nslots);
	key_release(l, slot, user_hash(l, user));
}

uint64_t
quota_total(const struct quota *l)
{
	return LOAD(&l->hdr->total);
}

uint64_t
quota_client_count(const struct quota *l, const struct sockaddr *client,
    int prefix4, int prefix6)
{
	return key_sum(l, client_hash(l, client, prefix4, prefix6));
}

uint64_t
quota_user_count(const struct quota *l, const char *user)
{
	return key_sum(l, user_hash(l, user));
}

/* --- the master's side ----------------------------------------------------- */

/*
 * Everything below reads memory a worker can write: indices are checked,
 * counts clamped, loops bounded by the master's own sizes.
 */

/*
 * Wait for a worker in the middle of changing a count, but not for ever:
 * one stopped there (SIGSTOP, or dead and not yet reaped) must not hang
 * the master, which then takes the sum as it is.
 */
#define PATIENT(tries) ((tries) < REBUILD_TRIES / 2)

static void
rebuild_pause(int tries)
{
	struct timespec ts = { 0, 10000 };	/* 10 us */

	if (tries < 10)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

/*
 * Sum of what the slots other than `dead` hold of `what` (PENDING_TOTAL,
 * or 2 + a key index); *busy when one of them is changing it now.
 */
static uint64_t
others_hold(const struct quota *l, int dead, uint64_t what, bool *busy)
{
	uint64_t sum = 0, v;
	int s;

	*busy = false;
	for (s = 0; s < l->nslots; s++) {
		const struct slot_hdr *sh = slot_at(l, s);

		if (s == dead)
			continue;
		if (LOAD(&sh->pending) == what)
			*busy = true;
		if (what == PENDING_TOTAL) {
			v = LOAD(&sh->sessions);
			sum += v > SESSIONS_MAX ? SESSIONS_MAX : v;
		} else {
			v = LOAD(&held_at(l, s)[what - 2]);
			sum += v > COUNT_MASK ? COUNT_MASK : v;
		}
	}
	return sum;
}

/* keys[p] := its tag with what the live slots hold of it. */
static void
rebuild_key(struct quota *l, int dead, size_t p)
{
	uint64_t what = 2 + (uint64_t)p, sum, again, w;
	bool busy;
	int tries;

	for (tries = 0; tries < REBUILD_TRIES; tries++) {
		w = LOAD(&l->keys[p]);
		sum = others_hold(l, dead, what, &busy);
		if (busy && PATIENT(tries)) {
			rebuild_pause(tries);
			continue;
		}
		if (sum > COUNT_MASK)
			sum = COUNT_MASK;
		if (w == 0 && sum == 0)
			return;		/* never used */
		if (!CAS(&l->keys[p], &w, (w & ~COUNT_MASK) | sum))
			continue;
		/* A share that moved while we summed: do it again. */
		again = others_hold(l, dead, what, &busy);
		if ((!busy || !PATIENT(tries)) && again == sum)
			return;
	}
}

static void
rebuild_total(struct quota *l, int dead)
{
	uint64_t sum, again, t;
	bool busy;
	int tries;

	for (tries = 0; tries < REBUILD_TRIES; tries++) {
		t = LOAD(&l->hdr->total);
		sum = others_hold(l, dead, PENDING_TOTAL, &busy);
		if (busy && PATIENT(tries)) {
			rebuild_pause(tries);
			continue;
		}
		if (!CAS(&l->hdr->total, &t, sum))
			continue;
		again = others_hold(l, dead, PENDING_TOTAL, &busy);
		if ((!busy || !PATIENT(tries)) && again == sum)
			return;
	}
}

void
quota_clear_slot(struct quota *l, int slot)
{
	struct slot_hdr *sh;
	uint32_t *held;
	uint64_t pending;
	size_t c, p, nchunks;

	if (l == NULL || slot < 0 || slot >= l->nslots)
		return;
	sh = slot_at(l, slot);
	held = held_at(l, slot);
	nchunks = (l->cap + CHUNK - 1) / CHUNK;
	/* Its share of every count first, then the counts it touched. */
	for (c = 0; c < nchunks; c++) {
		if ((LOAD(&sh->touched[c / 64]) & (1ULL << (c % 64))) == 0)
			continue;
		for (p = c * CHUNK; p < (c + 1) * CHUNK && p < l->cap; p++) {
			if (LOAD(&held[p]) == 0)
				continue;
			STORE(&held[p], 0);
			rebuild_key(l, slot, p);
		}
	}
	/* Killed between the shared add and its own share: that one too. */
	pending = LOAD(&sh->pending);
	if (pending >= 2 && pending - 2 < l->cap)
		rebuild_key(l, slot, (size_t)(pending - 2));
	memset(sh, 0, sizeof(*sh));
	rebuild_total(l, slot);
}

void *
quota_slot_bytes(struct quota *l, int slot, size_t *len)
{
	BUG_ON(slot < 0 || slot >= l->nslots);
	*len = l->slot_len;
	return slot_at(l, slot);
}

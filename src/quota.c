/*
 * quota.c - see quota.h.
 *
 * Layout of the shared mapping:
 *
 *   struct quota_hdr | slot 0 | slot 1 | ... | slot n-1
 *   slot = struct slot_hdr | clients[cap] | users[cap]
 *
 * Each slot has one writer (its worker); every process may read. Counts
 * and the `state` of an entry are read and written with relaxed atomics,
 * so a reader sees a value that was true at some moment. A table is
 * compacted by its writer when stale entries (count 0) crowd it; a reader
 * racing with that sees a count too low for an instant, which a limit can
 * afford.
 */
#include "config_auto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "quota.h"

#define KEY_LEN 17

enum entry_state {
	ENTRY_EMPTY = 0,	/* never used since the last compaction: ends a probe */
	ENTRY_USED,		/* holds a key; count may be 0 (stale) */
};

struct entry {
	uint8_t key[KEY_LEN];
	uint8_t state;
	uint32_t count;
};

struct table {
	size_t used;		/* entries not EMPTY (writer's bookkeeping) */
	struct entry e[];	/* `cap` entries */
};

struct slot_hdr {
	uint64_t sessions;
};

struct quota {
	size_t map_len;
	int nslots;
	size_t cap;		/* entries per table, a power of two */
	size_t slot_len;	/* bytes per slot */
	uint64_t *total;	/* sessions in all slots: exact, atomic */
	uint8_t *base;		/* the slots */
};

static size_t
table_len(size_t cap)
{
	return sizeof(struct table) + cap * sizeof(struct entry);
}

static struct slot_hdr *
slot_at(const struct quota *l, int slot)
{
	return (struct slot_hdr *)(void *)(l->base + (size_t)slot * l->slot_len);
}

static struct table *
table_at(const struct quota *l, int slot, int which)
{
	uint8_t *p = (uint8_t *)slot_at(l, slot) + sizeof(struct slot_hdr);

	return (struct table *)(void *)(p + (size_t)which * table_len(l->cap));
}

struct quota *
quota_new(int nslots, size_t keys_per_slot)
{
	struct quota *l;
	size_t cap = 16, len;
	void *map;

	if (nslots <= 0) {
		errno = EINVAL;
		return NULL;
	}
	/* Twice the keys, so probes stay short. */
	while (cap < keys_per_slot * 2)
		cap *= 2;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->nslots = nslots;
	l->cap = cap;
	l->slot_len = sizeof(struct slot_hdr) + 2 * table_len(cap);
	l->slot_len = (l->slot_len + 63) & ~(size_t)63;
	len = 64 + l->slot_len * (size_t)nslots;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (map == MAP_FAILED) {
		free(l);
		return NULL;
	}
	l->map_len = len;
	l->total = map;
	l->base = (uint8_t *)map + 64;
	return l;
}

void
quota_free(struct quota *l)
{
	if (l == NULL)
		return;
	munmap(l->total, l->map_len);
	free(l);
}

void
quota_clear_slot(struct quota *l, int slot)
{
	if (slot < 0 || slot >= l->nslots)
		return;
	/* Its sessions are gone with it: take them off the total. */
	__atomic_sub_fetch(l->total,
	    __atomic_load_n(&slot_at(l, slot)->sessions, __ATOMIC_RELAXED),
	    __ATOMIC_RELAXED);
	memset(slot_at(l, slot), 0, l->slot_len);
}

static uint64_t
hash_key(const uint8_t *key)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a 64 */
	size_t i;

	for (i = 0; i < KEY_LEN; i++) {
		h ^= key[i];
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

static void
client_key(const struct sockaddr *sa, uint8_t *key)
{
	memset(key, 0, KEY_LEN);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		key[0] = 4;
		memcpy(key + 1, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;
		const uint8_t *a = sin6->sin6_addr.s6_addr;
		static const uint8_t mapped[12] =
		    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

		/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d. */
		if (memcmp(a, mapped, 12) == 0) {
			key[0] = 4;
			memcpy(key + 1, a + 12, 4);
		} else {
			key[0] = 6;
			memcpy(key + 1, a, 16);
		}
	}
}

static void
user_key(const char *user, uint8_t *key)
{
	uint64_t h1 = 1469598103934665603ULL, h2 = 0x9e3779b97f4a7c15ULL;
	const unsigned char *p;

	/* Two independent 64-bit hashes: a collision is not a concern. */
	for (p = (const unsigned char *)user; *p != '\0'; p++) {
		h1 = (h1 ^ *p) * 1099511628211ULL;
		h2 = (h2 ^ *p) * 0xff51afd7ed558ccdULL;
		h2 ^= h2 >> 31;
	}
	memset(key, 0, KEY_LEN);
	key[0] = 'u';
	memcpy(key + 1, &h1, 8);
	memcpy(key + 9, &h2, 8);
}

/* Sum of `key`'s counts in one table (any process). */
static uint64_t
table_count(const struct quota *l, const struct table *t, const uint8_t *key)
{
	size_t mask = l->cap - 1, i = (size_t)hash_key(key) & mask, n;
	uint64_t sum = 0;

	for (n = 0; n < l->cap; n++, i = (i + 1) & mask) {
		const struct entry *e = &t->e[i];

		if (__atomic_load_n(&e->state, __ATOMIC_ACQUIRE) == ENTRY_EMPTY)
			break;
		if (memcmp(e->key, key, KEY_LEN) == 0)
			sum += __atomic_load_n(&e->count, __ATOMIC_RELAXED);
	}
	return sum;
}

static uint64_t
count_all(const struct quota *l, int which, const uint8_t *key)
{
	uint64_t sum = 0;
	int s;

	for (s = 0; s < l->nslots; s++)
		sum += table_count(l, table_at(l, s, which), key);
	return sum;
}

/* Writer: rebuild a table without its stale entries. */
static void
table_compact(const struct quota *l, struct table *t)
{
	size_t i, n = 0, mask = l->cap - 1;
	struct entry *live;

	live = malloc(l->cap * sizeof(*live));
	if (live == NULL)
		return;
	for (i = 0; i < l->cap; i++)
		if (t->e[i].state == ENTRY_USED && t->e[i].count > 0)
			live[n++] = t->e[i];
	for (i = 0; i < l->cap; i++)
		__atomic_store_n(&t->e[i].state, ENTRY_EMPTY, __ATOMIC_RELEASE);
	t->used = 0;
	for (i = 0; i < n; i++) {
		size_t j = (size_t)hash_key(live[i].key) & mask;

		while (t->e[j].state != ENTRY_EMPTY)
			j = (j + 1) & mask;
		memcpy(t->e[j].key, live[i].key, KEY_LEN);
		__atomic_store_n(&t->e[j].count, live[i].count, __ATOMIC_RELAXED);
		__atomic_store_n(&t->e[j].state, ENTRY_USED, __ATOMIC_RELEASE);
		t->used++;
	}
	free(live);
}

/*
 * Writer: the entry for `key` in its own table, made if `create`.
 * NULL when absent (or, with `create`, when the table is full).
 */
static struct entry *
table_find(const struct quota *l, struct table *t, const uint8_t *key,
    bool create)
{
	size_t mask = l->cap - 1, i, n;
	struct entry *reuse = NULL;

	if (create && t->used >= l->cap - l->cap / 4)
		table_compact(l, t);
	i = (size_t)hash_key(key) & mask;
	for (n = 0; n < l->cap; n++, i = (i + 1) & mask) {
		struct entry *e = &t->e[i];

		if (e->state == ENTRY_EMPTY)
			break;
		if (memcmp(e->key, key, KEY_LEN) == 0)
			return e;
		if (reuse == NULL && e->count == 0)
			reuse = e;	/* stale: may take a new key */
	}
	if (!create)
		return NULL;
	if (reuse != NULL) {
		/* Hide it while its key changes, so no reader sees a mix. */
		__atomic_store_n(&reuse->count, 0, __ATOMIC_RELAXED);
		memcpy(reuse->key, key, KEY_LEN);
		return reuse;
	}
	if (n == l->cap || t->used >= l->cap - 1)
		return NULL;
	memcpy(t->e[i].key, key, KEY_LEN);
	__atomic_store_n(&t->e[i].count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->e[i].state, ENTRY_USED, __ATOMIC_RELEASE);
	t->used++;
	return &t->e[i];
}

static void
entry_add(struct entry *e, int delta)
{
	uint32_t c = __atomic_load_n(&e->count, __ATOMIC_RELAXED);

	if (delta < 0 && c == 0)
		return;		/* never below zero, whatever the caller does */
	__atomic_store_n(&e->count, (uint32_t)((int64_t)c + delta), __ATOMIC_RELAXED);
}

uint64_t
quota_total(const struct quota *l)
{
	return __atomic_load_n(l->total, __ATOMIC_RELAXED);
}

enum quota_verdict
quota_acquire_client(struct quota *l, int slot, const struct sockaddr *client,
    int max_total, int max_per_client)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint8_t key[KEY_LEN];
	struct entry *e;

	BUG_ON(slot < 0 || slot >= l->nslots);
	/*
	 * The global limit is exact: take a place first (an atomic add
	 * every worker sees), give it back when over. Per-client counts
	 * are summed over the slots and may, in a race between workers,
	 * let a client exceed its limit by a session or two.
	 */
	if (__atomic_add_fetch(l->total, 1, __ATOMIC_RELAXED) >
	    (uint64_t)max_total && max_total > 0) {
		__atomic_sub_fetch(l->total, 1, __ATOMIC_RELAXED);
		return QUOTA_OVER_GLOBAL;
	}
	client_key(client, key);
	if (max_per_client > 0 &&
	    count_all(l, 0, key) >= (uint64_t)max_per_client) {
		__atomic_sub_fetch(l->total, 1, __ATOMIC_RELAXED);
		return QUOTA_OVER_KEY;
	}
	if ((e = table_find(l, table_at(l, slot, 0), key, true)) == NULL) {
		__atomic_sub_fetch(l->total, 1, __ATOMIC_RELAXED);
		return QUOTA_TABLE_FULL;
	}
	entry_add(e, 1);
	__atomic_store_n(&sh->sessions, sh->sessions + 1, __ATOMIC_RELAXED);
	return QUOTA_OK;
}

void
quota_release_client(struct quota *l, int slot, const struct sockaddr *client)
{
	struct slot_hdr *sh = slot_at(l, slot);
	uint8_t key[KEY_LEN];
	struct entry *e;

	client_key(client, key);
	if ((e = table_find(l, table_at(l, slot, 0), key, false)) != NULL)
		entry_add(e, -1);
	if (sh->sessions > 0) {
		__atomic_store_n(&sh->sessions, sh->sessions - 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(l->total, 1, __ATOMIC_RELAXED);
	}
}

enum quota_verdict
quota_acquire_user(struct quota *l, int slot, const char *user,
    int max_per_user)
{
	uint8_t key[KEY_LEN];
	struct entry *e;

	BUG_ON(slot < 0 || slot >= l->nslots);
	user_key(user, key);
	if (max_per_user > 0 && count_all(l, 1, key) >= (uint64_t)max_per_user)
		return QUOTA_OVER_KEY;
	if ((e = table_find(l, table_at(l, slot, 1), key, true)) == NULL)
		return QUOTA_TABLE_FULL;
	entry_add(e, 1);
	return QUOTA_OK;
}

void
quota_release_user(struct quota *l, int slot, const char *user)
{
	uint8_t key[KEY_LEN];
	struct entry *e;

	user_key(user, key);
	if ((e = table_find(l, table_at(l, slot, 1), key, false)) != NULL)
		entry_add(e, -1);
}

uint64_t
quota_client_count(const struct quota *l, const struct sockaddr *client)
{
	uint8_t key[KEY_LEN];

	client_key(client, key);
	return count_all(l, 0, key);
}

uint64_t
quota_user_count(const struct quota *l, const char *user)
{
	uint8_t key[KEY_LEN];

	user_key(user, key);
	return count_all(l, 1, key);
}

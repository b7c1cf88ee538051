/*
 * failtab.c - see failtab.h.
 */
#include "config_auto.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "failtab.h"

/* Slots looked at per address: a bounded cost whatever the table holds. */
#define FAILTAB_PROBE 8

struct failtab_entry {
	uint8_t addr[16];		/* IPv4-mapped, or the IPv6 /64 */
	uint32_t failures;		/* 0: empty */
	uint64_t last_ms;
};

struct failtab {
	struct failtab_entry *e;
	size_t mask;
	uint64_t seed;
};

struct failtab *
failtab_new(size_t capacity)
{
	struct failtab *t = calloc(1, sizeof(*t));
	size_t n = 16;

	if (t == NULL)
		return NULL;
	while (n < capacity)
		n *= 2;
	if ((t->e = calloc(n, sizeof(*t->e))) == NULL) {
		free(t);
		return NULL;
	}
	t->mask = n - 1;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t * 0x9e3779b97f4a7c15ULL;
	return t;
}

/* The address key; -1 for families we do not count (AF_UNIX). */
static int
key_of(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			memcpy(key, &in6->sin6_addr, 16);
		else
			memcpy(key, &in6->sin6_addr, 8);	/* the /64 */
		return 0;
	}
	return -1;
}

static size_t
slot_of(const struct failtab *t, const uint8_t key[16])
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h = (a ^ t->seed) * 0xff51afd7ed558ccdULL;
	h ^= (h >> 33) ^ b;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (size_t)h & t->mask;
}

static int
live(const struct failtab_entry *e, uint64_t now_ms)
{
	return e->failures != 0 && now_ms - e->last_ms < FAILTAB_FORGET_MS;
}

static struct failtab_entry *
find(const struct failtab *t, const uint8_t key[16], uint64_t now_ms)
{
	size_t i, s = slot_of(t, key);

	for (i = 0; i < FAILTAB_PROBE; i++) {
		struct failtab_entry *e = &t->e[(s + i) & t->mask];

		if (live(e, now_ms) && memcmp(e->addr, key, 16) == 0)
			return e;
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
	const struct failtab_entry *e;
	uint8_t key[16];

	if (t == NULL || key_of(sa, key) == -1)
		return 0;
	e = find(t, key, now_ms);
	return e != NULL ? failtab_delay_for(e->failures) : 0;
}

unsigned
failtab_fail(struct failtab *t, const struct sockaddr *sa, uint64_t now_ms)
{
	struct failtab_entry *e, *victim = NULL;
	uint8_t key[16];
	size_t i, s;

	if (t == NULL || key_of(sa, key) == -1)
		return 0;
	if ((e = find(t, key, now_ms)) == NULL) {
		s = slot_of(t, key);
		for (i = 0; i < FAILTAB_PROBE; i++) {
			struct failtab_entry *c = &t->e[(s + i) & t->mask];

			if (!live(c, now_ms)) {
				victim = c;
				break;
			}
			if (victim == NULL || c->last_ms < victim->last_ms)
				victim = c;
		}
		e = victim;
		memcpy(e->addr, key, 16);
		e->failures = 0;
	}
	if (e->failures < UINT32_MAX)
		e->failures++;
	e->last_ms = now_ms;
	return e->failures;
}

void
failtab_success(struct failtab *t, const struct sockaddr *sa)
{
	struct failtab_entry *e;
	uint8_t key[16];
	size_t i, s;

	if (t == NULL || key_of(sa, key) == -1)
		return;
	s = slot_of(t, key);
	for (i = 0; i < FAILTAB_PROBE; i++) {
		e = &t->e[(s + i) & t->mask];
		if (e->failures != 0 && memcmp(e->addr, key, 16) == 0)
			e->failures = 0;
	}
}

void
failtab_free(struct failtab *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t);
}

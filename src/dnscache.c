/* SPDX-License-Identifier: ISC */
/*
 * dnscache.c - see dnscache.h.
 *
 * Open addressing without deletion: a name lives in one of DNSCACHE_PROBE
 * slots from its hash; an expired entry stays until a put reuses its slot,
 * so a probe may stop at the first empty slot. Entries are allocated as
 * they come and freed when replaced: an idle worker's cache costs only the
 * slot array.
 */
#include "config_auto.h"

#include <stdlib.h>
#include <string.h>

#include "dnscache.h"

#define DNSCACHE_PROBE 8
#define DNSCACHE_NAME_MAX 253

struct dnscache_entry {
	uint64_t hash;
	double expires;
	int family;
	size_t n;
	union sockaddr_any *addrs;	/* n of them, after the name */
	char name[];			/* lower case, no trailing dot */
};

struct dnscache {
	struct dnscache_entry **slot;
	size_t mask;
	size_t count;
	uint64_t key[2];
};

/* The name as a key: lower case, no trailing dot; 0 when not a name. */
static size_t
normalise(const char *name, char *out)
{
	size_t len = strlen(name), i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNSCACHE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] - 'A' + 'a' : name[i]);
	out[len] = '\0';
	return len;
}

static uint64_t
hash_of(const struct dnscache *c, const char *key, size_t len, int family)
{
	return util_siphash24(c->key, key, len) ^ (uint64_t)family;
}

struct dnscache *
dnscache_new(size_t slots, const uint64_t key[2])
{
	struct dnscache *c = calloc(1, sizeof(*c));
	size_t n = DNSCACHE_PROBE;

	if (c == NULL)
		return NULL;
	while (n < slots)
		n *= 2;
	c->slot = calloc(n, sizeof(*c->slot));
	if (c->slot == NULL) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->key[0] = key[0];
	c->key[1] = key[1];
	return c;
}

void
dnscache_free(struct dnscache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i <= c->mask; i++)
		free(c->slot[i]);
	free(c->slot);
	free(c);
}

/* The slot holding name/family, or NULL. */
static struct dnscache_entry **
find(struct dnscache *c, const char *key, int family, uint64_t h)
{
	size_t i;

	for (i = 0; i < DNSCACHE_PROBE; i++) {
		struct dnscache_entry **s = &c->slot[(h + i) & c->mask];

		if (*s == NULL)
			return NULL;
		if ((*s)->hash == h && (*s)->family == family &&
		    strcmp((*s)->name, key) == 0)
			return s;
	}
	return NULL;
}

bool
dnscache_get(struct dnscache *c, const char *name, int family, double now,
    struct dnscache_answer *out)
{
	char key[DNSCACHE_NAME_MAX + 1];
	size_t len = normalise(name, key);
	struct dnscache_entry **s;

	if (c == NULL || len == 0)
		return false;
	s = find(c, key, family, hash_of(c, key, len, family));
	if (s == NULL || (*s)->expires <= now)
		return false;
	out->n = (*s)->n;
	memcpy(out->addrs, (*s)->addrs, (*s)->n * sizeof(out->addrs[0]));
	out->ttl = (uint32_t)((*s)->expires - now);
	return true;
}

void
dnscache_put(struct dnscache *c, const char *name, int family,
    const struct dnscache_answer *a, uint32_t ttl, double now)
{
	char key[DNSCACHE_NAME_MAX + 1];
	size_t len = normalise(name, key), i, n, off;
	struct dnscache_entry *e, **s, **victim = NULL;
	uint64_t h;

	if (c == NULL || len == 0)
		return;
	if (a->n > 0 && ttl == 0)
		return;
	if (a->n == 0)
		ttl = DNSCACHE_NEG_TTL;
	else if (ttl > DNSCACHE_MAX_TTL)
		ttl = DNSCACHE_MAX_TTL;
	h = hash_of(c, key, len, family);
	s = find(c, key, family, h);
	/* Else an empty slot, else the entry that expires first. */
	for (i = 0; s == NULL && i < DNSCACHE_PROBE; i++) {
		struct dnscache_entry **t = &c->slot[(h + i) & c->mask];

		if (*t == NULL)
			s = t;
		else if (victim == NULL || (*t)->expires < (*victim)->expires)
			victim = t;
	}
	if (s == NULL)
		s = victim;
	n = a->n < DNSCACHE_MAX_ADDRS ? a->n : DNSCACHE_MAX_ADDRS;
	/* The addresses go after the name, aligned. */
	off = (sizeof(*e) + len + 1 + _Alignof(union sockaddr_any) - 1) &
	    ~(_Alignof(union sockaddr_any) - 1);
	e = malloc(off + n * sizeof(union sockaddr_any));
	if (e == NULL)
		return;
	e->hash = h;
	e->expires = now + ttl;
	e->family = family;
	e->n = n;
	memcpy(e->name, key, len + 1);
	e->addrs = (union sockaddr_any *)(void *)((char *)e + off);
	memcpy(e->addrs, a->addrs, n * sizeof(a->addrs[0]));
	if (*s == NULL)
		c->count++;
	free(*s);
	*s = e;
}

size_t
dnscache_count(const struct dnscache *c)
{
	return c != NULL ? c->count : 0;
}

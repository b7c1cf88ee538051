/* SPDX-License-Identifier: ISC */
/*
 * vcache.c - see vcache.h.
 */
#include "config_auto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "vcache.h"

#define VCACHE_WAYS 4

struct vcache_entry {
	uint8_t key[VCACHE_KEY_LEN];
	uint64_t expires_ms;		/* 0: empty */
};

struct vcache {
	struct vcache_entry *e;
	size_t nsets;			/* a power of two */
	uint64_t ttl_ms;
	uint8_t hkey[32];
};

struct vcache *
vcache_new(size_t capacity, uint64_t ttl_ms)
{
	struct vcache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->nsets = 1;
	while (c->nsets * VCACHE_WAYS < capacity)
		c->nsets *= 2;
	c->ttl_ms = ttl_ms;
	c->e = calloc(c->nsets * VCACHE_WAYS, sizeof(*c->e));
	if (c->e == NULL || RAND_bytes(c->hkey, sizeof(c->hkey)) != 1) {
		free(c->e);
		free(c);
		return NULL;
	}
	return c;
}

void
vcache_key(const struct vcache *c, const char *user, const uint8_t *pw,
    size_t pwlen, uint8_t key[VCACHE_KEY_LEN])
{
	uint8_t buf[4 + 255 + 255];
	unsigned int len = VCACHE_KEY_LEN;
	size_t ulen = strlen(user);

	if (ulen > 255 || pwlen > 255) {
		/* A random key matches nothing: a miss, never a false hit. */
		if (RAND_bytes(key, VCACHE_KEY_LEN) != 1)
			memset(key, 0xa5, VCACHE_KEY_LEN);
		return;
	}
	/* Lengths first, so ("ab", "c") and ("a", "bc") differ. */
	buf[0] = 0;
	buf[1] = (uint8_t)ulen;
	buf[2] = 0;
	buf[3] = (uint8_t)pwlen;
	memcpy(buf + 4, user, ulen);
	memcpy(buf + 4 + ulen, pw, pwlen);
	if (HMAC(EVP_sha256(), c->hkey, sizeof(c->hkey), buf, 4 + ulen + pwlen,
	    key, &len) == NULL || len != VCACHE_KEY_LEN) {
		if (RAND_bytes(key, VCACHE_KEY_LEN) != 1)
			memset(key, 0xa5, VCACHE_KEY_LEN);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
}

static struct vcache_entry *
set_of(const struct vcache *c, const uint8_t key[VCACHE_KEY_LEN])
{
	uint64_t idx;

	memcpy(&idx, key, sizeof(idx));
	return &c->e[(idx & (c->nsets - 1)) * VCACHE_WAYS];
}

bool
vcache_lookup(const struct vcache *c, const uint8_t key[VCACHE_KEY_LEN],
    uint64_t now_ms)
{
	const struct vcache_entry *set;
	int i;

	if (c == NULL || c->ttl_ms == 0)
		return false;
	set = set_of(c, key);
	for (i = 0; i < VCACHE_WAYS; i++)
		if (set[i].expires_ms > now_ms &&
		    CRYPTO_memcmp(set[i].key, key, VCACHE_KEY_LEN) == 0)
			return true;
	return false;
}

void
vcache_insert(struct vcache *c, const uint8_t key[VCACHE_KEY_LEN],
    uint64_t now_ms)
{
	struct vcache_entry *set, *victim;
	int i;

	if (c == NULL || c->ttl_ms == 0)
		return;
	set = set_of(c, key);
	victim = &set[0];
	for (i = 0; i < VCACHE_WAYS; i++) {
		if (memcmp(set[i].key, key, VCACHE_KEY_LEN) == 0) {
			victim = &set[i];
			break;
		}
		/* Empty and expired entries first, then the oldest. */
		if (set[i].expires_ms < victim->expires_ms)
			victim = &set[i];
	}
	memcpy(victim->key, key, VCACHE_KEY_LEN);
	victim->expires_ms = now_ms + c->ttl_ms;
}

void
vcache_flush(struct vcache *c)
{
	if (c != NULL)
		OPENSSL_cleanse(c->e, c->nsets * VCACHE_WAYS * sizeof(*c->e));
}

size_t
vcache_count(const struct vcache *c, uint64_t now_ms)
{
	size_t i, n = 0;

	if (c == NULL)
		return 0;
	for (i = 0; i < c->nsets * VCACHE_WAYS; i++)
		if (c->e[i].expires_ms > now_ms)
			n++;
	return n;
}

void
vcache_free(struct vcache *c)
{
	if (c == NULL)
		return;
	vcache_flush(c);
	OPENSSL_cleanse(c->hkey, sizeof(c->hkey));
	free(c->e);
	free(c);
}

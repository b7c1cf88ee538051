/* SPDX-License-Identifier: ISC */
/*
 * vcache.h - the verified-credential cache of one worker.
 *
 * A browser opens dozens of connections with the same user and password;
 * crypt(3) for each would cost dozens of hash computations. After one
 * successful verification the worker remembers a keyed hash of (user,
 * password) for `ttl` seconds, and a later login with the same pair is
 * accepted without crypt. The key is random per cache (per worker
 * process), so the entries are worthless outside this process, and only
 * successes are stored, so a wrong guess always costs a crypt.
 *
 * Memory is fixed at creation (4-way set-associative; the oldest entry of
 * a set makes room). Loop thread only; never blocks.
 */
#ifndef SOCKEYE_VCACHE_H
#define SOCKEYE_VCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VCACHE_KEY_LEN 32

struct vcache;

/*
 * A cache of about `capacity` entries (rounded up to a power of two,
 * at least 4) living `ttl_ms`; ttl_ms 0 disables it (every lookup
 * misses). NULL when out of memory or without randomness.
 */
struct vcache *vcache_new(size_t capacity, uint64_t ttl_ms);

/* The cache key of (user, password): HMAC-SHA256 under the cache's key. */
void vcache_key(const struct vcache *c, const char *user, const uint8_t *pw,
    size_t pwlen, uint8_t key[VCACHE_KEY_LEN]);

/* A live entry for `key` at time now_ms? */
bool vcache_lookup(const struct vcache *c, const uint8_t key[VCACHE_KEY_LEN],
    uint64_t now_ms);

/* Remember `key` until now_ms + ttl (refreshing it when present). */
void vcache_insert(struct vcache *c, const uint8_t key[VCACHE_KEY_LEN],
    uint64_t now_ms);

/* Forget everything (reload: users or passwords may have changed). */
void vcache_flush(struct vcache *c);

/* Live entries at now_ms (tests, statistics). */
size_t vcache_count(const struct vcache *c, uint64_t now_ms);

void vcache_free(struct vcache *c);

#endif

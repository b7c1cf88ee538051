/* SPDX-License-Identifier: ISC */
/*
 * dnscache.h - a worker's cache of DNS answers, positive and negative.
 *
 * Keyed by name (without regard to case and to a trailing dot) and
 * family. An answer is kept for its TTL (capped at DNSCACHE_MAX_TTL; a TTL
 * of 0 is not kept), "no such name or address" for DNSCACHE_NEG_TTL (the
 * resolver library does not give the SOA's negative TTL). The table is
 * bounded: a full neighbourhood gives up the entry that expires first.
 * Clients choose the names, so the slots are chosen by a keyed hash.
 * Pure: the caller says what time it is.
 */
#ifndef SOCKEYE_DNSCACHE_H
#define SOCKEYE_DNSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockaddr.h"
#include "util.h"

#define DNSCACHE_MAX_TTL 3600
#define DNSCACHE_NEG_TTL 10
/* Addresses kept per answer (the resolver returns no more). */
#define DNSCACHE_MAX_ADDRS 16

struct dnscache;

/* An answer: n addresses (0: the name or the family has none). */
struct dnscache_answer {
	size_t n;
	union sockaddr_any addrs[DNSCACHE_MAX_ADDRS];
	uint32_t ttl;		/* seconds left when read */
};

/* A cache of `slots` entries at most (rounded up to a power of two). */
struct dnscache *dnscache_new(size_t slots, const uint64_t key[2])
    MUST_CHECK;

void dnscache_free(struct dnscache *c);

/* The kept answer for name/family, if any and fresh at `now` (seconds). */
bool dnscache_get(struct dnscache *c, const char *name, int family,
    double now, struct dnscache_answer *out);

/*
 * Keep an answer: a->n > 0 for a positive one, kept for ttl seconds; a->n
 * == 0 for "none", kept DNSCACHE_NEG_TTL. Out of memory: not kept.
 */
void dnscache_put(struct dnscache *c, const char *name, int family,
    const struct dnscache_answer *a, uint32_t ttl, double now);

/* Entries held (fresh or not yet replaced). */
size_t dnscache_count(const struct dnscache *c);

#endif

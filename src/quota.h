/* SPDX-License-Identifier: ISC */
/*
 * quota.h - session accounting shared by the master and its workers.
 *
 * `limits.max_sessions`, `limits.max_sessions_per_client` and the
 * per-user session limits hold exactly across all workers. The counts
 * live in one anonymous shared mapping that the master makes before
 * forking:
 *
 *  - the total of sessions, one atomic word;
 *  - one table of keys (a client's network, a user name), each entry one
 *    atomic word holding the key's tag and its count;
 *  - one slot per worker, written only by that worker, remembering what
 *    it holds: its sessions, its share of every key's count, and the
 *    operation it is in the middle of.
 *
 * A count is taken the way a global limit is: an atomic add that every
 * worker sees, given back at once when it went over. Nothing is locked,
 * so a worker killed at any instant leaves no lock held. When a worker
 * dies the master rebuilds every count it touched (and the total) from
 * the slots of the others, so a worker killed between two updates cannot
 * leave a count higher than the sessions that exist. The master treats
 * the shared mapping as untrusted: every index and count it reads there
 * is clamped before use.
 *
 * A key is a keyed hash (SipHash-2-4, with a seed drawn at quota_new()) of
 * the client's network or the user's name; entries hold 40 bits of it, so
 * two keys counted at once share a count with a chance of about one in
 * 2^40 per pair, and a client cannot choose addresses that collide. A key
 * counts at most QUOTA_KEY_MAX sessions.
 */
#ifndef SOCKEYE_QUOTA_H
#define SOCKEYE_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

#define QUOTA_KEY_MAX 16777215	/* sessions one key can count (2^24 - 1) */

struct quota;

enum quota_verdict {
	QUOTA_OK = 0,
	QUOTA_OVER_GLOBAL,	/* max_sessions reached */
	QUOTA_OVER_KEY,	/* the client's (or user's) own limit reached */
	QUOTA_TABLE_FULL,	/* too many distinct keys counted at once */
};

/*
 * Map the shared region: `nslots` worker slots and a key table able to
 * count `max_keys` distinct keys (clients' networks and users together)
 * at once; beyond that an acquire may answer QUOTA_TABLE_FULL. The table
 * is at most 2^20 entries (half of them usable). Master only, before
 * forking. NULL with errno on failure.
 */
struct quota *quota_new(int nslots, size_t max_keys) MUST_CHECK;

/* Unmap (every process that inherited it may call this). NULL: no-op. */
void quota_free(struct quota *l);

/*
 * Master, once the worker of `slot` is gone: forget what the slot held,
 * and rebuild the total and every key count it touched as the sum of
 * what the other slots hold. Never blocks for long: it waits at most a
 * few milliseconds for another worker that is in the middle of changing
 * the same count. Out-of-range slots are ignored.
 */
void quota_clear_slot(struct quota *l, int slot);

/*
 * Worker in slot `slot`: count one more session for `client`, unless that
 * would exceed `max_total` sessions in all (0: no limit) or
 * `max_per_client` for the client's network (0: no limit). The network is
 * the address's first `prefix4` bits (IPv4, and IPv4-mapped IPv6) or
 * `prefix6` bits (IPv6); a release must pass the same prefixes.
 */
enum quota_verdict quota_acquire_client(struct quota *l, int slot,
    const struct sockaddr *client, int max_total, int max_per_client,
    int prefix4, int prefix6);
void quota_release_client(struct quota *l, int slot,
    const struct sockaddr *client, int prefix4, int prefix6);

/* The same for an authenticated user (max 0: no limit); no total. */
enum quota_verdict quota_acquire_user(struct quota *l, int slot,
    const char *user, int max_per_user);
void quota_release_user(struct quota *l, int slot, const char *user);

/* Sessions counted now: in all slots, for one client network, one user. */
uint64_t quota_total(const struct quota *l);
uint64_t quota_client_count(const struct quota *l,
    const struct sockaddr *client, int prefix4, int prefix6);
uint64_t quota_user_count(const struct quota *l, const char *user);

/*
 * For tests: the bytes of `slot` in the shared mapping and their number,
 * so a test can write what a hostile worker might.
 */
void *quota_slot_bytes(struct quota *l, int slot, size_t *len);

#endif

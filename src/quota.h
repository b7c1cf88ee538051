/*
 * quota.h - session accounting shared by the master and its workers.
 *
 * `limits.max_sessions` and `limits.max_sessions_per_client` hold across
 * all workers, so the counts live in one anonymous shared mapping that the
 * master makes before forking. Each worker writes only its own slot: a
 * session counter and a small open-addressing table of per-key counts
 * (client addresses, user names), plus one atomic total. Nothing is
 * locked. The global limit is exact (an atomic add, undone when over);
 * a per-key check sums the slots and may be off by the sessions other
 * workers are admitting at that very moment, which a per-client limit can
 * afford. A worker that dies can never leave a lock held or a count
 * behind: the master clears its slot (and takes its sessions off the
 * total) before it reuses it.
 */
#ifndef SOCKEYE_QUOTA_H
#define SOCKEYE_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

struct quota;

enum quota_verdict {
	QUOTA_OK = 0,
	QUOTA_OVER_GLOBAL,	/* max_sessions reached */
	QUOTA_OVER_KEY,	/* the client's (or user's) own limit reached */
	QUOTA_TABLE_FULL,	/* this worker tracks too many distinct keys */
};

/*
 * Map the shared region: `nslots` worker slots, each able to track
 * `keys_per_slot` distinct clients and as many users at once. Master only,
 * before forking. NULL with errno on failure.
 */
struct quota *quota_new(int nslots, size_t keys_per_slot) MUST_CHECK;

/* Unmap (every process that inherited it may call this). NULL: no-op. */
void quota_free(struct quota *l);

/* Master: forget everything slot `slot` counted (its worker is gone). */
void quota_clear_slot(struct quota *l, int slot);

/*
 * Worker in slot `slot`: count one more session for `client`, unless that
 * would exceed `max_total` sessions in all (0: no limit) or
 * `max_per_client` for this client's address (0: no limit).
 */
enum quota_verdict quota_acquire_client(struct quota *l, int slot,
    const struct sockaddr *client, int max_total, int max_per_client);
void quota_release_client(struct quota *l, int slot,
    const struct sockaddr *client);

/* The same for an authenticated user (max 0: no limit). */
enum quota_verdict quota_acquire_user(struct quota *l, int slot,
    const char *user, int max_per_user);
void quota_release_user(struct quota *l, int slot, const char *user);

/* Sessions counted now, in all slots / for one client address. */
uint64_t quota_total(const struct quota *l);
uint64_t quota_client_count(const struct quota *l,
    const struct sockaddr *client);
uint64_t quota_user_count(const struct quota *l, const char *user);

#endif

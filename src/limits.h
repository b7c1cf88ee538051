/*
 * limits.h - session accounting shared by the master and its workers.
 *
 * `limits.max_sessions` and `limits.max_sessions_per_client` hold across
 * all workers, so the counts live in one anonymous shared mapping that the
 * master makes before forking. Each worker writes only its own slot: a
 * session counter and a small open-addressing table of per-key counts
 * (client addresses, user names). A limit check sums the slots. Nothing
 * is locked: a check may be off by the sessions that other workers are
 * accepting at that very moment, which is fine for a limit, and a worker
 * that dies can never leave a lock held or a count behind: the master
 * clears the slot of a dead worker before it reuses it.
 */
#ifndef SOCKEYE_LIMITS_H
#define SOCKEYE_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

struct limits;

enum limits_verdict {
	LIMITS_OK = 0,
	LIMITS_OVER_GLOBAL,	/* max_sessions reached */
	LIMITS_OVER_KEY,	/* the client's (or user's) own limit reached */
	LIMITS_TABLE_FULL,	/* this worker tracks too many distinct keys */
};

/*
 * Map the shared region: `nslots` worker slots, each able to track
 * `keys_per_slot` distinct clients and as many users at once. Master only,
 * before forking. NULL with errno on failure.
 */
struct limits *limits_new(int nslots, size_t keys_per_slot) MUST_CHECK;

/* Unmap (every process that inherited it may call this). NULL: no-op. */
void limits_free(struct limits *l);

/* Master: forget everything slot `slot` counted (its worker is gone). */
void limits_clear_slot(struct limits *l, int slot);

/*
 * Worker in slot `slot`: count one more session for `client`, unless that
 * would exceed `max_total` sessions in all (0: no limit) or
 * `max_per_client` for this client's address (0: no limit).
 */
enum limits_verdict limits_acquire_client(struct limits *l, int slot,
    const struct sockaddr *client, int max_total, int max_per_client);
void limits_release_client(struct limits *l, int slot,
    const struct sockaddr *client);

/* The same for an authenticated user (max 0: no limit). */
enum limits_verdict limits_acquire_user(struct limits *l, int slot,
    const char *user, int max_per_user);
void limits_release_user(struct limits *l, int slot, const char *user);

/* Sessions counted now, in all slots / for one client address. */
uint64_t limits_total(const struct limits *l);
uint64_t limits_client_count(const struct limits *l,
    const struct sockaddr *client);
uint64_t limits_user_count(const struct limits *l, const char *user);

#endif

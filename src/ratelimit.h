/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.h - per-user bandwidth caps: token buckets that all the
 * relays of one user share, in every worker.
 *
 * Each bucket has one balance per direction (up: client to destination,
 * down: the other way), refilled at `rate` bytes per second up to a burst
 * of a tenth of a second's worth (at least 16 KiB, so a relay can always
 * fill its buffer). The buckets live in a table in shared memory that the
 * master maps before forking (ratelimit_shared_new()), so a user's cap
 * holds for the sum of its sessions in all workers. A balance is one
 * atomic word (the time at which the bucket will be full again, the
 * "theoretical arrival time" of GCRA): taking and refunding are
 * compare-and-swaps, nothing is locked, and a worker killed at any
 * instant leaves nothing held.
 *
 * The table is fixed-size. A user takes a free entry near its name's
 * hash, or one whose bucket is full (a full bucket is the same whoever
 * owns it, so nothing is lost when its user comes back: that user takes
 * another entry). When every nearby entry is busy with a user who used
 * their allowance within the last burst, the user gets a bucket private
 * to this worker, as if the table did not exist (the cap then holds per
 * worker for that user), with a log line; such a handle tries the shared
 * table again at each call until it finds room.
 *
 * Without ratelimit_shared_new() (unit tests), every bucket is private.
 * Arithmetic on a caller's clock (`now`, seconds, the same clock in every
 * process: libev's ev_now()); no I/O, never blocks.
 */
#ifndef SOCKEYE_RATELIMIT_H
#define SOCKEYE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

struct ratelimit;

enum ratelimit_dir {
	RATELIMIT_UP = 0,
	RATELIMIT_DOWN = 1,
};

/*
 * Master, before forking: map the shared table, with room for `users`
 * users at once (the table has twice as many entries, at most 2^18).
 * The children inherit it. Returns 0, or -1 with errno.
 */
int ratelimit_shared_new(size_t users) MUST_CHECK;

/* Unmap the shared table (any process). No-op when there is none. */
void ratelimit_shared_free(void);

/*
 * The bucket of `user` at `rate` bytes/s (> 0), made if needed; one
 * reference more. If it exists with another rate (a reload changed it),
 * the new rate applies. NULL when out of memory.
 */
struct ratelimit *ratelimit_get(const char *user, uint64_t rate, double now)
    MUST_CHECK;

/* One reference less; the handle goes with the last. NULL: no-op. */
void ratelimit_put(struct ratelimit *rl);

/* Take up to `want` bytes of allowance now; returns what was granted. */
size_t ratelimit_take(struct ratelimit *rl, enum ratelimit_dir dir,
    double now, size_t want);

/* Give back bytes granted but not used (a short read). */
void ratelimit_refund(struct ratelimit *rl, enum ratelimit_dir dir, size_t n);

/* Seconds until a worthwhile amount (up to `want`) can be taken. */
double ratelimit_wait(const struct ratelimit *rl, enum ratelimit_dir dir,
    double now, size_t want);

/* True when `rl` counts in the shared table (false: private fallback). */
int ratelimit_is_shared(const struct ratelimit *rl);

#endif

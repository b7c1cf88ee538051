/*
 * ratelimit.h - per-user bandwidth caps: token buckets the relays of one
 * user in this worker process share.
 *
 * Each bucket has one balance per direction (up: client to destination,
 * down: the other way), refilled at `rate` bytes per second up to a burst
 * of a tenth of a second's worth (at least 16 KiB, so a relay can always
 * fill its buffer). Buckets are looked up by user name in a per-process
 * table (a worker is a process) and freed with their last session.
 * Pure arithmetic on a caller's clock: no I/O, never blocks.
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
 * The bucket of `user` at `rate` bytes/s (> 0), made if needed; one
 * reference more. If it exists with another rate (a reload changed it),
 * the new rate applies. NULL when out of memory.
 */
struct ratelimit *ratelimit_get(const char *user, uint64_t rate, double now)
    MUST_CHECK;

/* One reference less; the bucket goes with the last. NULL: no-op. */
void ratelimit_put(struct ratelimit *rl);

/* Take up to `want` bytes of allowance now; returns what was granted. */
size_t ratelimit_take(struct ratelimit *rl, enum ratelimit_dir dir,
    double now, size_t want);

/* Give back bytes granted but not used (a short read). */
void ratelimit_refund(struct ratelimit *rl, enum ratelimit_dir dir, size_t n);

/* Seconds until a worthwhile amount (up to `want`) can be taken. */
double ratelimit_wait(const struct ratelimit *rl, enum ratelimit_dir dir,
    double now, size_t want);

#endif

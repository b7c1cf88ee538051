/*
 * ratelimit.c - see ratelimit.h.
 */
#include "config_auto.h"

#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RATELIMIT_MIN_BURST 16384.

struct ratelimit {
	struct ratelimit *next;
	char *user;
	unsigned refs;
	double rate;		/* bytes per second */
	double burst;
	double tokens[2];
	double last[2];		/* when tokens[] was last brought up to date */
};

/* The buckets of this process (this worker); few users are active at once. */
static struct ratelimit *buckets;

static void
refill(struct ratelimit *rl, int dir, double now)
{
	double dt = now - rl->last[dir];

	if (dt > 0) {
		rl->tokens[dir] += dt * rl->rate;
		if (rl->tokens[dir] > rl->burst)
			rl->tokens[dir] = rl->burst;
	}
	rl->last[dir] = now;
}

static void
set_rate(struct ratelimit *rl, uint64_t rate)
{
	rl->rate = (double)rate;
	rl->burst = rl->rate / 10.;
	if (rl->burst < RATELIMIT_MIN_BURST)
		rl->burst = RATELIMIT_MIN_BURST;
}

struct ratelimit *
ratelimit_get(const char *user, uint64_t rate, double now)
{
	struct ratelimit *rl;

	for (rl = buckets; rl != NULL; rl = rl->next) {
		if (strcmp(rl->user, user) == 0) {
			if (rl->rate != (double)rate)
				set_rate(rl, rate);
			rl->refs++;
			return rl;
		}
	}
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	if ((rl->user = strdup(user)) == NULL) {
		free(rl);
		return NULL;
	}
	set_rate(rl, rate);
	/* Start with a burst's worth: a new session need not wait. */
	rl->tokens[0] = rl->tokens[1] = rl->burst;
	rl->last[0] = rl->last[1] = now;
	rl->refs = 1;
	rl->next = buckets;
	buckets = rl;
	return rl;
}

void
ratelimit_put(struct ratelimit *rl)
{
	struct ratelimit **pp;

	if (rl == NULL || --rl->refs > 0)
		return;
	for (pp = &buckets; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == rl) {
			*pp = rl->next;
			break;
		}
	}
	free(rl->user);
	free(rl);
}

size_t
ratelimit_take(struct ratelimit *rl, enum ratelimit_dir dir, double now,
    size_t want)
{
	double have;

	refill(rl, dir, now);
	have = rl->tokens[dir];
	if (have < 1.)
		return 0;
	if ((double)want > have)
		want = (size_t)have;
	rl->tokens[dir] -= (double)want;
	return want;
}

void
ratelimit_refund(struct ratelimit *rl, enum ratelimit_dir dir, size_t n)
{
	rl->tokens[dir] += (double)n;
	if (rl->tokens[dir] > rl->burst)
		rl->tokens[dir] = rl->burst;
}

double
ratelimit_wait(const struct ratelimit *rl, enum ratelimit_dir dir, double now,
    size_t want)
{
	/* Wait for a fiftieth of a second's worth, not for single bytes. */
	double target = rl->rate / 50., tokens = rl->tokens[dir];
	double dt = now - rl->last[dir];

	if (target < 1.)
		target = 1.;
	if (target > (double)want)
		target = (double)want;
	if (dt > 0)
		tokens += dt * rl->rate;
	if (tokens >= target)
		return 0.;
	return (target - tokens) / rl->rate;
}

/* SPDX-License-Identifier: ISC */
/*
 * status_int.h - the layout of the status mapping, shared by
 * status_counters.c (which makes it and writes it) and status_json.c
 * (which renders it). Internal to the status module: nothing outside
 * src/status_*.c includes it; everyone else uses status.h.
 *
 * Layout of the shared mapping:
 *
 *   struct status_hdr (totals, the user table) | slot 0 | ... | slot n-1
 *
 * Totals and the user table's counters have many writers and use atomic
 * read-modify-write operations (ADD). A slot has one writer (its worker,
 * or the master while no worker owns it) and uses relaxed loads and
 * stores (LOAD, STORE), so a reader sees values that were true at some
 * moment.
 *
 * Any worker may have written anything in the mapping. A counter read
 * with LOAD is just a number, whatever it holds; names, times and sums
 * are read through the status_user_*() and status_*uptime_s() calls
 * below, which clamp them, and a slot's state must be checked against
 * the states the reader knows.
 */
#ifndef SOCKEYE_STATUS_INT_H
#define SOCKEYE_STATUS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"

#define USER_CAP (2 * STATUS_MAX_USERS)	/* entries; power of two */
#define USER_OTHER USER_CAP			/* index of the "(other)" entry */

enum user_state {
	USER_EMPTY = 0,
	USER_CLAIMED,
	USER_READY,
};

enum he_outcome {
	HE_IPV6 = 0,
	HE_IPV4,
	HE_FALLBACK,
	HE_NAT64,
	HE_FAILED,
	HE_COUNT
};

struct status_user {
	uint32_t state;			/* enum user_state */
	uint32_t len;
	uint64_t sessions;		/* logins since start */
	uint64_t bytes_up;		/* of the sessions that ended */
	uint64_t bytes_down;
	char name[STATUS_USER_MAX + 1];
};

struct status_hdr {
	uint64_t start_ms;		/* util_now_ms() at status_new() */
	int64_t start_wall;		/* time(NULL) then */
	uint32_t generation;
	uint32_t nusers;		/* READY or CLAIMED entries */
	uint64_t reloads;
	uint64_t worker_deaths;
	uint64_t accepted;
	uint64_t ended;
	uint64_t cmd[STATUS_CMD_COUNT];
	uint64_t bytes_up;
	uint64_t bytes_down;
	uint64_t refused[STATUS_REFUSAL_COUNT];
	uint64_t he[HE_COUNT];
	/* Ended sessions by command and REP; those without a reply. */
	uint64_t replies[STATUS_CMD_COUNT][STATUS_REPLY_CODES];
	uint64_t unanswered[STATUS_UNANSWERED_COUNT];
	uint64_t auth[STATUS_AUTH_METHODS][STATUS_AUTH_RESULTS];
	/* CONNECT: time to the outcome ([0] connected, [1] failed), per
	 * bucket, and its sum; attempts per CONNECT, per bucket, and sum. */
	uint64_t connect_ms[2][STATUS_CONNECT_BUCKETS];
	uint64_t connect_ms_sum[2];
	uint64_t attempts[STATUS_ATTEMPT_BUCKETS];
	uint64_t attempts_sum;
	uint64_t dns[STATUS_DNS_SOURCES][STATUS_DNS_RESULTS];
	uint64_t udp_dgrams_up;
	uint64_t udp_dgrams_down;
	uint64_t udp_drops[STATUS_UDP_DROPS];
	struct status_user users[USER_CAP + 1];	/* + "(other)" */
};

struct status_slot {
	int32_t pid;
	uint32_t gen;
	uint32_t state;			/* enum status_worker_state */
	uint32_t pad;
	uint64_t started_ms;
	uint64_t active;		/* sessions open now */
	uint64_t accepted;		/* since this worker started */
	uint32_t uactive[USER_CAP + 1];	/* open sessions per user entry */
};

struct status {
	uint64_t start_ms;		/* the master's own copies: workers */
	int64_t start_wall;		/* can write the mapping's */
	size_t map_len;
	int nslots;
	size_t slot_len;
	struct status_hdr *hdr;
	uint8_t *slots;
};

#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) ((void)__atomic_fetch_add((p), (v), __ATOMIC_RELAXED))

/* Slot `slot` (0 <= slot < st->nslots: the caller checks). */
static inline struct status_slot *
status_slot_at(const struct status *st, int slot)
{
	return (struct status_slot *)(void *)(st->slots +
	    (size_t)slot * st->slot_len);
}

/* a + b, UINT64_MAX when it overflows. */
static inline uint64_t
status_add_sat(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* --- Reading (status_counters.c): bounded whatever the mapping holds - */

/* Seconds since status_new(), from the master's own copy of the start. */
uint64_t status_uptime_s(const struct status *st);

/*
 * Seconds since slot `s` was started; 0 when its start time is before
 * the master's or in the future.
 */
uint64_t status_slot_uptime_s(const struct status *st,
    const struct status_slot *s);

/* Open sessions of user entry `i` (0 <= i <= USER_CAP), over every slot. */
uint64_t status_user_active(const struct status *st, size_t i);

/*
 * Is user entry `i` (0 <= i <= USER_CAP) to be shown: READY, and for
 * "(other)" only once something was counted there.
 */
bool status_user_listed(const struct status *st, size_t i);

/*
 * Copy entry `u`'s name, at most STATUS_USER_MAX bytes, into `buf`
 * (STATUS_USER_MAX + 1 bytes), NUL-terminated; returns its length. Use
 * the copy only: the mapping's bytes may change meanwhile.
 */
size_t status_user_name(const struct status_user *u, char *buf);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * happy.h - the pure half of Happy Eyeballs (RFC 8305): address sorting
 * (RFC 6724), family interleaving, the connection-attempt scheduler, the
 * reply code chosen from several failures, and NAT64 address synthesis
 * (RFC 6052, RFC 7050).
 *
 * Nothing here does I/O, allocates, logs or reads a clock: time is a
 * number of milliseconds the caller passes in, so the unit tests drive the
 * scheduler with a fake clock. connector.c owns the sockets, timers and
 * lookups and asks this module what to do next.
 */
#ifndef SOCKEYE_HAPPY_H
#define SOCKEYE_HAPPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "sockaddr.h"

/* --- RFC 6724 destination address selection ---------------------------- */

/*
 * One destination to sort, with the source address the kernel would use
 * to reach it (found by the caller, e.g. with a connected UDP socket).
 * src.sa.sa_family == 0 means "not known": the rules that compare the
 * source with the destination (2, 5, 9) then do not apply.
 */
struct happy_dst {
	union sockaddr_any addr;
	union sockaddr_any src;
	bool unusable;		/* no route to it (rule 1) */
};

/*
 * Sort `v` in place by RFC 6724 section 6: rules 1 (avoid unusable),
 * 2 (matching scope), 5 (matching label), 6 (higher precedence),
 * 8 (smaller scope), 9 (longest matching prefix, IPv6 only, up to the
 * 64-bit prefix), 10 (otherwise keep the order). Rules 3, 4 and 7 need
 * facts a proxy does not have (deprecated and home addresses, tunnels)
 * and are skipped. IPv4 addresses are compared as IPv4-mapped IPv6, as
 * the RFC says. Stable.
 */
void happy_sort(struct happy_dst *v, size_t n);

/* The RFC 6724 default policy table and scopes, for tests and logging. */
int happy_precedence(const struct sockaddr *sa);
int happy_label(const struct sockaddr *sa);
int happy_scope(const struct sockaddr *sa);

/* --- interleaving --------------------------------------------------------- */

/*
 * The order in which addresses are tried (RFC 8305 section 4): start with
 * `first_family` (AF_INET6 or AF_INET; the other one when it has no
 * address), take `first_family_count` of it, then alternate one by one;
 * when one family runs out the rest of the other follows. Each family
 * keeps its order in `in`. Writes n indices into `in` to `out`.
 */
void happy_interleave(const union sockaddr_any *in, size_t n,
    int first_family, int first_family_count, size_t *out);

/* --- the attempt scheduler ------------------------------------------------ */

/* Candidates per request: both families' answers, plus NAT64 synthesis. */
#define HAPPY_MAX_CANDS 40

/*
 * What one request may cost: at most HAPPY_MAX_INFLIGHT connection
 * attempts at once (RFC 8305 section 5 lets an implementation limit
 * them) and HAPPY_MAX_ATTEMPTS in all. A name with 16 AAAA and 16 A
 * records would otherwise hold 32 sockets for connect.timeout_s. A start
 * that the in-flight cap holds back waits for a failure, or for the
 * oldest attempt to have gone HAPPY_STALE_MS without an answer: that one
 * is abandoned (as timed out) to make room, so that black holes ahead of
 * a working address cannot use up every place. Candidates past the
 * total are never tried.
 */
#define HAPPY_MAX_INFLIGHT	4
#define HAPPY_MAX_ATTEMPTS	16
#define HAPPY_STALE_MS		2000

/* Lookups a request waits for (bits of happy.pending). */
#define HAPPY_LOOKUP_V6 1u
#define HAPPY_LOOKUP_V4 2u

enum happy_cand_state {
	HAPPY_UNTRIED = 0,
	HAPPY_RUNNING,
	HAPPY_FAILED,
};

struct happy_cand {
	union sockaddr_any addr;	/* with the destination port */
	enum happy_cand_state state;
	int err;			/* errno of its failure */
	int64_t started;		/* when its attempt started (ms) */
	unsigned flags;			/* the caller's (HAPPY_F_*) */
};

/*
 * Flags the caller may keep with a candidate. The scheduler ignores them,
 * but for HAPPY_F_LITERAL when Happy Eyeballs is off (happy_set_on()).
 */
#define HAPPY_F_LITERAL	1u	/* the client's literal, not a DNS answer */
#define HAPPY_F_NAT64	2u	/* synthesised from an IPv4 literal */

struct happy_params {
	int attempt_delay_ms;		/* between two attempt starts */
	int resolution_delay_ms;	/* wait for the preferred family */
	int first_family_count;
	int prefer_family;		/* AF_INET6 or AF_INET */
	int64_t timeout_ms;		/* the whole request */
};

/*
 * One request's race: a plain struct so that the connector can embed it.
 * Callers may read it (c[], n, order[], n_started, denied) but change it
 * only through the functions below.
 */
struct happy {
	struct happy_params p;
	int64_t deadline;		/* absolute ms */
	int64_t resolution_until;	/* -1: not waiting for the other family */
	int64_t next_start;		/* earliest start without a kick */
	bool racing;			/* attempts may start */
	bool kick;			/* an attempt failed: start the next now */
	bool timed_out;			/* the deadline ended it, work left */
	unsigned pending;		/* HAPPY_LOOKUP_* not done yet */
	bool off;			/* Happy Eyeballs off: happy_set_on() */
	struct happy_cand c[HAPPY_MAX_CANDS];
	size_t n;
	size_t order[HAPPY_MAX_CANDS];	/* indices in the order started */
	size_t n_started;
	int running;
	int denied;			/* candidates the access check refused */
	int best_rank;			/* of the most meaningful failure */
	uint8_t best_rep;
	int best_err;
};

enum happy_action {
	HAPPY_START = 0,	/* start an attempt to c[*idx] now */
	HAPPY_WAIT,		/* nothing to do before *wake or an event */
	HAPPY_FAIL,		/* give up: see happy_result() */
	HAPPY_ABANDON,		/* close the attempt to c[*idx]: it timed out */
};

/*
 * Begin a race at `now`, waiting for the lookups in `pending` (0 for a
 * literal, HAPPY_LOOKUP_V6 | HAPPY_LOOKUP_V4 for a name).
 */
void happy_init(struct happy *h, const struct happy_params *p, int64_t now,
    unsigned pending);

/*
 * Turn Happy Eyeballs off (on = false) or back on for this request, right
 * after happy_init(), before any candidate was added. Off, the request is
 * the plain one a client without Happy Eyeballs would make:
 *
 *   one family   the preferred one (prefer_family). The other family is a
 *                fallback, not a race: its candidates are tried only once
 *                the preferred family's lookup has ended without adding a
 *                candidate (no address, or every one refused by the
 *                access check: the caller never adds those). Until then
 *                they wait, however long, with no resolution delay.
 *   in order     the order in which happy_add() got them (the caller's
 *                RFC 6724 sort), no interleaving.
 *   one at once  the next attempt starts only after the previous failed;
 *                no attempt delay, and no attempt is abandoned as stale:
 *                each has until it fails or the deadline ends the request.
 *
 * Candidates flagged HAPPY_F_LITERAL (the client's literal and the NAT64
 * address that stands for it) are one destination and escape the family
 * rule, so a literal behaves as with Happy Eyeballs on. The attempt cap,
 * the deadline, access refusals and happy_result() are unchanged.
 */
void happy_set_on(struct happy *h, bool on);

/*
 * Off only: true when the preferred family's lookup has ended and added no
 * candidate, so the caller should look the other family up now (if it has
 * not yet). Always false when Happy Eyeballs is on.
 */
bool happy_need_fallback(const struct happy *h);

/*
 * New candidates of one family (a lookup's answer, already sorted, or a
 * literal), with their flags. They join the untried part of the list;
 * duplicates and those beyond HAPPY_MAX_CANDS are dropped. Returns how
 * many were added. An answer of the preferred family starts the race at
 * once; one of the other family first waits up to resolution_delay_ms
 * for the preferred family's lookup.
 */
size_t happy_add(struct happy *h, const union sockaddr_any *addrs, size_t n,
    unsigned flags, int64_t now);

/* A lookup (HAPPY_LOOKUP_*) is started, or has ended (answer or not). */
void happy_lookup_start(struct happy *h, unsigned which);
void happy_lookup_done(struct happy *h, unsigned which, int64_t now);

/* A candidate was refused by the access check and never added. */
void happy_denied(struct happy *h);

/*
 * The attempt to c[i] (RUNNING) failed with `err`. The next candidate
 * starts at once rather than after the attempt delay.
 */
void happy_attempt_failed(struct happy *h, size_t i, int err, int64_t now);

/*
 * What to do at `now`. HAPPY_START marks c[*idx] RUNNING (the caller
 * starts it, then reports a failure with happy_attempt_failed() or ends
 * the race on success); call again until it says WAIT or FAIL.
 * HAPPY_WAIT sets *wake (absolute ms, never later than the deadline):
 * call again then, or after any event. HAPPY_FAIL is final.
 */
enum happy_action happy_next(struct happy *h, int64_t now, size_t *idx,
    int64_t *wake);

/* Attempts started so far. */
int happy_attempts(const struct happy *h);

/*
 * The reply code for a race that failed: the most meaningful failure of
 * all (refused over host unreachable over network unreachable over
 * timeout over not allowed over the rest), REP 2 when the access check
 * refused every candidate, REP 4 when there was no candidate at all.
 * *err gets the errno behind it (0 when none), except when the deadline
 * ended the race while an attempt or a lookup was still outstanding:
 * then *err is ETIMEDOUT whatever the reply code says (an earlier
 * refusal still makes it REP 5), so that a caller can tell "timed out"
 * from every other failure by *err alone.
 */
uint8_t happy_result(const struct happy *h, int *err);

/* Map a connect(2)/SO_ERROR errno to a SOCKS5 reply code. */
uint8_t happy_errno_to_rep(int err);

/* --- NAT64 (RFC 6052 addresses, RFC 7050 prefix discovery) -------------- */

struct happy_pref64 {
	struct in6_addr prefix;		/* bits past `len` are zero */
	uint8_t len;			/* 32, 40, 48, 56, 64 or 96 */
};

/*
 * Find the NAT64 prefix in one AAAA record of ipv4only.arpa: where the
 * well-known address 192.0.0.170 or 192.0.0.171 is embedded (RFC 7050
 * section 3), trying /96 first, then /64, /56, /48, /40, /32. 0 or -1.
 */
int happy_pref64_from_aaaa(const struct in6_addr *aaaa,
    struct happy_pref64 *out);

/*
 * The IPv6 address that stands for `v4` behind the NAT64 `p` (RFC 6052
 * section 2.2). -1 for addresses that must not be synthesised: 0/8,
 * 127/8, 169.254/16 and 224/3 (this host, loopback, link-local,
 * multicast and reserved).
 */
int happy_pref64_synth(const struct happy_pref64 *p, const struct in_addr *v4,
    struct in6_addr *out);

#endif

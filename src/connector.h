/* SPDX-License-Identifier: ISC */
/*
 * connector.h - reach a SOCKS destination: resolve it and connect to one
 * of its addresses, on the worker's loop, without blocking.
 *
 * This is the one place every outbound TCP connection is made, with Happy
 * Eyeballs v2 (RFC 8305): AAAA and A lookups in parallel, attempts as soon
 * as the preferred family answers (or connect.resolution_delay_ms after
 * the other one did), addresses sorted (RFC 6724) and interleaved by
 * family (connect.first_family_count), a new attempt every
 * connect.attempt_delay_ms or as soon as one fails (at most
 * HAPPY_MAX_INFLIGHT at once, HAPPY_MAX_ATTEMPTS in all), the first
 * connection wins and the rest are closed; connect.timeout_s bounds it
 * all. connector_cancel() closes every socket, a won one not yet
 * delivered included, and cancels the lookups. An IPv4
 * literal that has no route is reached through NAT64 when the resolver
 * finds a prefix (RFC 7050). connector_set_happy() turns Happy Eyeballs
 * off for one connection. The decisions are in happy.h (pure); this
 * module does the sockets, timers and lookups.
 */
#ifndef SOCKEYE_CONNECTOR_H
#define SOCKEYE_CONNECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

struct ev_loop;
struct resolver;
struct config;
struct socks5_addr;
struct connector;

struct connector_result {
	int fd;			/* connected non-blocking socket, or -1 */
	uint8_t rep;		/* SOCKS5_REP_*: 0 on success */
	/*
	 * errno of the failure that chose `rep` (0 if none); ETIMEDOUT
	 * whenever connect.timeout_s ended the request with an attempt or
	 * lookup still outstanding, even where an earlier failure chose
	 * `rep` (say REP 5 after one address refused and the next hung).
	 * So "timed out" is `err == ETIMEDOUT`, not a reply code.
	 */
	int err;
	union sockaddr_any addr; /* the address connected to (or last tried) */
	bool has_addr;
	int attempts;		/* connection attempts started */
	/*
	 * For the access log and counters: the winner's family is
	 * addr.sa.sa_family; `nat64` says addr was synthesised from the
	 * client's IPv4 literal; `denied` counts candidates the check hook
	 * refused; `ms` is the time from connector_start() to the result.
	 */
	bool nat64;
	int denied;
	uint32_t ms;
};

/*
 * Called exactly once, from the loop, never from inside connector_start().
 * On success the callee owns res->fd. The connector is freed right after
 * the callback returns: do not cancel it from inside.
 */
typedef void (*connector_cb)(void *arg, const struct connector_result *res);

/*
 * Start reaching `dst` (IPv4, IPv6, or a name; a name that is an IP literal,
 * bracketed or not, is used without DNS). Uses cfg->connect (delays,
 * family preference, timeout, bind addresses); cfg must outlive the
 * connector. Does no I/O but start the lookups: the first connection
 * attempt is made from the loop. Returns NULL only when out of memory.
 */
struct connector *connector_start(struct ev_loop *loop, struct resolver *res,
    const struct config *cfg, const struct socks5_addr *dst,
    connector_cb cb, void *arg) MUST_CHECK;

/*
 * The access-rules hook: asked about every candidate address (with the
 * destination port) before it may be tried, literals and DNS answers
 * alike, so that a name can never lead a client past a rule; for a NAT64
 * address, both the client's IPv4 literal and the synthesised IPv6
 * address are asked about. A refused candidate is never tried; when every
 * candidate is refused the request fails with REP 2 (not allowed). May be
 * called many times per request, from the loop only; must not block and
 * must not cancel the connector.
 */
enum connector_verdict {
	CONNECTOR_ALLOW = 0,
	CONNECTOR_DENY,
};
typedef enum connector_verdict (*connector_check_fn)(void *arg,
    const struct sockaddr *addr);

/*
 * Install the hook (fn NULL: allow everything, the default until the
 * access rules exist). Call it right after connector_start(), before
 * control returns to the loop: no candidate is known before then.
 */
void connector_set_check(struct connector *c, connector_check_fn fn,
    void *arg);

/*
 * Happy Eyeballs for this connection: on (the default) as described at
 * the top, or off, as a client without it would connect (SOCKS 6 Happy
 * Eyeballs Stack option "off"):
 *
 *   one family   connect.prefer_family's. Only when the name has no
 *                address of that family (the lookup failed or found
 *                none, or the check hook refused every one) is the
 *                other family looked up and used: a fallback, after the
 *                first lookup has ended, not a race. The other family's
 *                lookup, already sent by connector_start(), is cancelled
 *                here (a DNS query may have left; its answer is dropped).
 *   in order     the family's addresses in RFC 6724 order.
 *   one at once  the next attempt only after the previous failed; no
 *                attempt delay, no resolution delay, no attempt dropped
 *                to make room (HAPPY_STALE_MS): each has until it fails
 *                or connect.timeout_s ends the request.
 *
 * An IP literal is unchanged (one address, and its NAT64 stand-in). The
 * check hook, NAT64, the overall timeout, HAPPY_MAX_ATTEMPTS and the
 * result fields are as with Happy Eyeballs on. Call it right after
 * connector_start() (and connector_set_check(), in either order), before
 * control returns to the loop; never from a callback.
 */
void connector_set_happy(struct connector *c, bool on);

/* Connection attempts started so far (for the access log of a cancel). */
int connector_attempts(const struct connector *c);

/*
 * Stop: close every socket (a connection already won but not yet
 * delivered to cb included) and cancel the lookups; cb is never called.
 */
void connector_cancel(struct connector *c);

/* Map a connect(2)/SO_ERROR errno to a SOCKS5 reply code. */
uint8_t connector_errno_to_rep(int err);

#endif

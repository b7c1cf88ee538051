/* SPDX-License-Identifier: ISC */
/*
 * bind.h - the BIND command (RFC 1928 section 6): listen, on the client's
 * behalf, for one inbound connection from the host it names.
 *
 * A bind finds the address to listen on (the first of
 * bind.external_addresses of the right family, else the local address
 * the kernel would use to reach the named host: a UDP socket connected
 * to it, which sends nothing, then getsockname), listens there on a port
 * the kernel picks, and reports it (the first reply). It then accepts
 * connections until one comes from an expected peer, within
 * bind.accept_timeout_s, and hands that connection over (the second
 * reply). The caller relays after that; the bind is done.
 *
 * Expected peers: the address the client named (DST.ADDR), or every
 * address its name resolves to in the listener's family. A connection
 * from anywhere else is closed and counted, and the wait goes on (a
 * stranger must not be able to spoil a client's BIND). DST.ADDR 0.0.0.0
 * or :: (a wildcard) accepts any peer, unless bind.require_peer_match,
 * which refuses such requests. DST.PORT is not used: a peer's source
 * port is not predictable (an FTP server connects from port 20 or from
 * any port), and the listening port is the kernel's choice.
 *
 * The access check is asked about the accepted peer (address and port);
 * a peer it refuses fails the bind with REP 2.
 *
 * Everything runs on the caller's libev loop; nothing blocks.
 */
#ifndef SOCKEYE_BIND_H
#define SOCKEYE_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

struct ev_loop;
struct resolver;
struct config;
struct socks5_addr;
struct bind;

enum bind_event {
	BIND_LISTENING = 0,	/* listening at `addr`: send the first reply */
	BIND_ACCEPTED,		/* `fd` is the peer's connection, `addr` its address */
	BIND_FAILED,		/* `rep` and `why` say what went wrong */
};

struct bind_result {
	enum bind_event ev;
	uint8_t rep;		/* SOCKS5_REP_*: 0 unless BIND_FAILED */
	int fd;			/* BIND_ACCEPTED: non-blocking, the callee owns it */
	union sockaddr_any addr; /* listening address, or the peer's */
	/*
	 * BIND_FAILED: why, for the access log's end= field:
	 * "resolve-failed", "not-allowed" (a wildcard with
	 * bind.require_peer_match), "bind-failed" (no address to listen
	 * on, or the socket could not be made), "accept-timeout",
	 * "peer-denied" (the access check refused the peer) or
	 * "accept-failed". Static; NULL otherwise.
	 */
	const char *why;
	unsigned refused;	/* peers closed so far: not an expected address */
};

/*
 * Called from the loop (never from inside bind_start()): BIND_LISTENING
 * once, then BIND_ACCEPTED or BIND_FAILED once; or BIND_FAILED alone.
 * After BIND_ACCEPTED or BIND_FAILED the bind does nothing more but wait
 * for bind_free(). The callee may call bind_free() from inside any call;
 * the bind does not touch itself after calling back.
 */
typedef void (*bind_cb)(void *arg, const struct bind_result *r);

/*
 * The access-rules hook: nonzero when the client may be connected with
 * `peer` (address and port of the host that connected). Must not block
 * and must not free the bind.
 */
typedef int (*bind_check_fn)(void *arg, const struct sockaddr *peer);

struct bind_params {
	struct ev_loop *loop;
	struct resolver *resolver;	/* for a DST.ADDR that is a name */
	const struct config *cfg;	/* bind.*, connect.prefer_family; outlives the bind */
	const struct socks5_addr *dst;	/* the request's DST (copied) */
	/*
	 * The local address of the client's control connection: where a
	 * wildcard request listens when bind.external_addresses has no
	 * address of its family.
	 */
	const struct sockaddr *local;
	bind_check_fn check;		/* NULL: every peer allowed */
	void *check_arg;
	bind_cb cb;
	void *arg;
};

/*
 * Start: resolve the name (if any), then listen, from the loop. Returns
 * NULL only when out of memory (then cb is never called).
 */
struct bind *bind_start(const struct bind_params *p) MUST_CHECK;

/*
 * Stop and free: close the listener (and a connection not yet handed
 * over), cancel lookups; cb is not called again. NULL is a no-op.
 */
void bind_free(struct bind *b);

/*
 * Pure helpers, exposed for tests/unit/check_bind.c (and
 * bind_pick_external() for session_cmd.c: bind.advertise_addresses).
 *
 * bind_peer_expected: is `peer` (port ignored; an IPv4-mapped IPv6
 * address counts as IPv4) one of the n addresses of `expect`?
 *
 * bind_pick_external: the first of `ext` (n entries) of `family`, copied
 * to *out (port 0); false when there is none.
 */
bool bind_peer_expected(const union sockaddr_any *expect, size_t n,
    const struct sockaddr *peer);
bool bind_pick_external(const union sockaddr_any *ext, size_t n, int family,
    union sockaddr_any *out);

#endif

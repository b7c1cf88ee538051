/* SPDX-License-Identifier: ISC */
/*
 * resolver.h - asynchronous DNS: c-ares driven from a worker's libev loop.
 *
 * One resolver per worker loop. A lookup asks for one address family (the
 * caller issues AAAA and A lookups in parallel, as Happy Eyeballs needs) and
 * calls back exactly once, from the loop, unless cancelled first. The hosts
 * file comes first (read once, when the resolver is made), then a cache
 * of DNS answers when asked for (dnscache.h: TTLs honoured, "none" kept
 * briefly), then DNS; "localhost" is always the loopback address of the
 * family asked for (RFC 6761). Nothing here blocks.
 */
#ifndef SOCKEYE_RESOLVER_H
#define SOCKEYE_RESOLVER_H

#include <stddef.h>
#include <stdint.h>
#include "happy.h"
#include "sockaddr.h"
#include "util.h"

struct ev_loop;
struct resolver;
struct resolver_query;

enum resolver_status {
	RESOLVER_OK = 0,	/* at least one address */
	RESOLVER_NOTFOUND,	/* NXDOMAIN, or no address of that family */
	RESOLVER_TIMEOUT,	/* no server answered in time */
	RESOLVER_FAIL,		/* anything else (bad name, server failure, ...) */
};

struct resolver_options {
	const union sockaddr_any *servers;	/* NULL/0: /etc/resolv.conf */
	size_t n_servers;
	int timeout_ms;		/* per try */
	int tries;
	const char *hosts_file;	/* NULL: RESOLVER_HOSTS_FILE; "": none */
	size_t cache_entries;	/* 0: no cache of DNS answers */
};

#define RESOLVER_HOSTS_FILE "/etc/hosts"
/* What a worker's cache holds at most (about 0.1 to 0.5 KiB an entry). */
#define RESOLVER_CACHE_ENTRIES 4096

/* Up to this many addresses are returned per lookup. */
#define RESOLVER_MAX_ADDRS 16

struct resolver_result {
	size_t n;			/* 1..RESOLVER_MAX_ADDRS when RESOLVER_OK */
	union sockaddr_any addrs[RESOLVER_MAX_ADDRS];	/* port 0, in answer order */
	uint32_t ttl;			/* smallest TTL seen (s); 0 if unknown */
};

/*
 * Called once per lookup. `res` is valid only during the call (NULL unless
 * RESOLVER_OK). The query handle is dead once the callback starts: do not
 * cancel it from inside or afterwards.
 */
typedef void (*resolver_cb)(void *arg, enum resolver_status st,
    const struct resolver_result *res);

/*
 * Make a resolver on `loop`. Returns NULL and writes a message to err
 * (errlen bytes) on failure (c-ares init, bad servers).
 */
struct resolver *resolver_new(struct ev_loop *loop,
    const struct resolver_options *opt, char *err, size_t errlen) MUST_CHECK;

/*
 * Free the resolver. Pending lookups are cancelled: their callbacks are
 * never called. resolver_free(NULL) is a no-op.
 */
void resolver_free(struct resolver *r);

/*
 * Look up `name` (a host name, not an IP literal: callers handle literals)
 * for `family` (AF_INET or AF_INET6). Returns a handle, or NULL when the
 * lookup could not be started (out of memory): then cb is never called.
 */
struct resolver_query *resolver_lookup(struct resolver *r, const char *name,
    int family, resolver_cb cb, void *arg) MUST_CHECK;

/*
 * Cancel a pending lookup: its callback will not be called. When no
 * other lookup still waits for its answer, c-ares' queries are ended
 * at once (their sockets closed), not left to run to their timeout.
 */
void resolver_cancel(struct resolver_query *q);

/*
 * NAT64 prefix discovery (RFC 7050): the AAAA records of ipv4only.arpa,
 * as the configured DNS64 resolver synthesises them, tell where the
 * well-known IPv4 address sits and so the Pref64::/n (happy.h). Called
 * once, from the loop, with the prefix or NULL when there is none (no
 * DNS64, or the lookup failed). The answer is kept per resolver for its
 * TTL (10 s to 1 h), "none" for 5 minutes and a failed lookup for 30 s,
 * so only the first IPv4 literal on an IPv6-only host waits for DNS.
 * Returns a handle for resolver_cancel(), or NULL when out of memory
 * (then cb is never called).
 */
typedef void (*resolver_pref64_cb)(void *arg, const struct happy_pref64 *p);
struct resolver_query *resolver_pref64(struct resolver *r,
    resolver_pref64_cb cb, void *arg) MUST_CHECK;

/*
 * The NAT64 prefix the last discovery found, for the access rules
 * (sockaddr_reach()): copied to *out and true, or false when none was
 * found (yet). Never starts a lookup; an expired prefix is still
 * returned until the next discovery ends.
 */
bool resolver_pref64_current(const struct resolver *r,
    struct happy_pref64 *out);

/* Text for a status ("not found"); never NULL. */
const char *resolver_status_str(enum resolver_status st);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * udp.h - the UDP ASSOCIATE command (RFC 1928 section 7): relay a
 * client's datagrams, each wrapped in the SOCKS UDP header, to their
 * destinations and the answers back.
 *
 * An association has one socket facing the client (the relay socket,
 * whose address is BND.ADDR/BND.PORT of the reply) and, made when first
 * needed, one outbound socket per address family. A datagram from the
 * client loses its header and goes out of the outbound socket to its
 * destination (an IPv4 or IPv6 address, or a name resolved through the
 * worker's resolver and kept in a small per-association cache for the
 * answer's TTL); a datagram arriving at an outbound socket goes to the
 * client with a header naming its source.
 *
 * Who is the client (udp_source_init() in udp_table.h): the source IP is
 * the TCP client's address; the port is the request's when its DST.ADDR
 * is zero or the client's own address and its DST.PORT is not zero, else
 * the port of the first valid datagram from that IP. udp.strict_source
 * instead takes DST.ADDR itself, as RFC 1928 words it.
 *
 * Nothing is queued without bound: a datagram that cannot be relayed at
 * once (a send that would block, a name still resolving beyond a few
 * datagrams, a refused destination, a fragment) is dropped and counted by
 * reason (struct udp_stats), as are the datagrams the kernel dropped
 * because a socket's receive queue was full.
 *
 * The association lives until udp_free() (the session frees it when the
 * control connection ends) or until udp.idle_timeout_s pass without a
 * datagram relayed either way, when it calls back once. Everything runs
 * on the caller's libev loop; nothing blocks.
 */
#ifndef SOCKEYE_UDP_H
#define SOCKEYE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"
#include "util.h"

struct ev_loop;
struct resolver;
struct config;
struct socks5_addr;
struct udp_assoc;

/* Why datagrams were dropped; the first group is client -> destination. */
enum udp_drop {
	UDP_DROP_SOURCE = 0,	/* at the relay socket, not from the client */
	UDP_DROP_MALFORMED,	/* header truncated, or a bad address type */
	UDP_DROP_FRAG,		/* FRAG != 0: fragments are not supported */
	UDP_DROP_DENIED,	/* the access check refused the destination */
	UDP_DROP_RESOLVE,	/* the name did not resolve */
	UDP_DROP_PENDING,	/* too many datagrams wait for names already */
	UDP_DROP_SEND_UP,	/* sending to the destination failed */
	UDP_DROP_KERNEL_UP,	/* the relay socket's queue overflowed */
	/* destination -> client */
	UDP_DROP_FILTERED,	/* from a host the client has not sent to, or refused */
	UDP_DROP_NO_CLIENT,	/* before the client's port was known */
	UDP_DROP_SEND_DOWN,	/* sending to the client failed */
	UDP_DROP_KERNEL_DOWN,	/* an outbound socket's queue overflowed */
	UDP_DROP_MAX,
};
#define UDP_DROP_FIRST_DOWN UDP_DROP_FILTERED

struct udp_stats {
	uint64_t dgrams_up;	/* datagrams sent to destinations */
	uint64_t bytes_up;	/* their payload bytes */
	uint64_t dgrams_down;	/* datagrams sent to the client */
	uint64_t bytes_down;	/* their payload bytes (without the header) */
	uint64_t drops[UDP_DROP_MAX];
};

/* Short name of a drop reason for the access log ("frag"); never NULL. */
const char *udp_drop_name(enum udp_drop d);
/* The same names, indexed by enum udp_drop (udp_table.c). */
extern const char *const udp_drop_names[UDP_DROP_MAX];

/* How an association ended by itself. */
enum udp_end {
	UDP_END_IDLE = 0,	/* udp.idle_timeout_s without traffic */
	UDP_END_ERROR,		/* the relay socket failed */
};

/* Called at most once, from the loop; the callee may call udp_free(). */
typedef void (*udp_done_cb)(void *arg, enum udp_end how);

/*
 * The access-rules hook: nonzero when the client may exchange datagrams
 * with `addr` (address and port): asked once per destination and per
 * source of datagrams for the client, then remembered for the
 * association. Must not block or free the association.
 */
typedef int (*udp_check_fn)(void *arg, const struct sockaddr *addr);

struct udp_params {
	struct ev_loop *loop;
	struct resolver *resolver;	/* for names; NULL: names are dropped */
	const struct config *cfg;	/* udp.*, connect.*; outlives the association */
	const struct sockaddr *client;	/* the TCP client's address */
	const struct sockaddr *local;	/* the control connection's local address */
	const struct socks5_addr *req;	/* the request's DST.ADDR/DST.PORT */
	udp_check_fn check;		/* NULL: everything allowed */
	void *check_arg;
	udp_done_cb done;
	void *arg;
};

/*
 * Open the relay socket and start. On success, *bnd is the address for
 * the reply (udp.external_address when set and of the control
 * connection's family, with the relay socket's port). Returns NULL with
 * *rep set to a SOCKS5_REP_* code when the request cannot be served
 * (no port free in udp.port_range, out of memory, a strict request
 * naming an address the client cannot send from).
 */
struct udp_assoc *udp_start(const struct udp_params *p, struct socks5_addr *bnd,
    uint8_t *rep) MUST_CHECK;

/* The counts so far, including the kernel's drops on our sockets. */
void udp_stats(const struct udp_assoc *a, struct udp_stats *out);

/* Close every socket, cancel lookups, free queued datagrams. NULL: no-op. */
void udp_free(struct udp_assoc *a);

#endif

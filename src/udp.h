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
 * Who is the client (see udp_source_init()): the source IP is the TCP
 * client's address; the port is the request's when its DST.ADDR is zero
 * or the client's own address and its DST.PORT is not zero, else the
 * port of the first valid datagram from that IP. udp.strict_source
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

/*
 * ---- Pure parts (no I/O), used by udp.c and tests/unit/check_udp.c ----
 */

/* Who the client is: its IP, and its port once known. */
struct udp_source {
	union sockaddr_any ip;		/* port 0 */
	uint16_t port;			/* 0 until known */
};

/*
 * Set *src from the TCP client's address and the request's DST (see the
 * top of this file). strict: DST.ADDR, when not zero, is the client's IP
 * even if it is not the TCP client's. Returns 0, or a REP code: strict,
 * and DST.ADDR is a name that is not an IP literal, or an address of a
 * family other than `family` (the relay socket's), which the client
 * could not send from (REP 8).
 */
int udp_source_init(struct udp_source *src, const struct sockaddr *tcp_client,
    const struct socks5_addr *req, bool strict, int family);

/* Is `from` the client: its IP, and its port once known? */
bool udp_source_match(const struct udp_source *src, const struct sockaddr *from);

/*
 * Learn the port from a valid datagram from the client's IP, when it is
 * not known yet; returns true when it was learnt now.
 */
bool udp_source_learn(struct udp_source *src, const struct sockaddr *from);

/*
 * A bounded map from an address (with or without its port) to a byte:
 * UDP_MAP_SETS sets of UDP_MAP_WAYS entries, the least recently used
 * entry of a set replaced when the set is full. IPv4-mapped IPv6
 * addresses are keyed as IPv4.
 */
#define UDP_MAP_WAYS 4
#define UDP_MAP_SETS 32
struct udp_map_entry {
	uint32_t used;			/* 0: free; else the map's tick when used */
	uint16_t port;
	uint8_t family;			/* 4 or 6 */
	uint8_t val;
	uint8_t addr[16];
};
struct udp_map {
	uint32_t tick;
	struct udp_map_entry e[UDP_MAP_SETS * UDP_MAP_WAYS];
};

void udp_map_init(struct udp_map *m);
/* true with *val set when present (and marks it used). */
bool udp_map_get(struct udp_map *m, const struct sockaddr *sa, bool with_port,
    uint8_t *val);
void udp_map_put(struct udp_map *m, const struct sockaddr *sa, bool with_port,
    uint8_t val);

/*
 * Filtering (RFC 4787): may a datagram from `from` go to the client?
 * Endpoint-independent: yes. Address-dependent: only when the client has
 * sent to that address (any port), as recorded in `sent` (without ports).
 */
bool udp_filter_allows(int filtering, struct udp_map *sent,
    const struct sockaddr *from);

/*
 * The name cache: UDP_NAMES_MAX names per association, each resolving,
 * resolved to one address, or failed, until it expires. A TTL of 0 (the
 * hosts file, or unknown) is kept UDP_NAME_TTL_UNKNOWN_S; longer TTLs
 * are capped at UDP_NAME_TTL_MAX_S; a failure is kept
 * UDP_NAME_TTL_FAILED_S.
 */
#define UDP_NAMES_MAX 16
#define UDP_NAME_TTL_UNKNOWN_S 5
#define UDP_NAME_TTL_MAX_S 3600
#define UDP_NAME_TTL_FAILED_S 5

enum udp_name_state {
	UDP_NAME_FREE = 0,
	UDP_NAME_PENDING,	/* lookups under way */
	UDP_NAME_OK,
	UDP_NAME_FAILED,
};

struct udp_name {
	enum udp_name_state state;
	char name[256];
	union sockaddr_any addr;	/* UDP_NAME_OK: port 0 */
	uint64_t expires_ms;		/* OK, FAILED */
	uint64_t used_ms;
};

struct udp_names {
	struct udp_name e[UDP_NAMES_MAX];
};

/*
 * The entry for `name` (case-insensitive): pending, or resolved or
 * failed and not expired; NULL otherwise (an expired entry is freed).
 */
struct udp_name *udp_names_find(struct udp_names *t, const char *name,
    uint64_t now_ms);
/*
 * A new PENDING entry for `name`: a free slot, else the least recently
 * used entry that is not pending; NULL when every entry is pending.
 */
struct udp_name *udp_names_add(struct udp_names *t, const char *name,
    uint64_t now_ms);
/* The lookups ended: `addr` (NULL: failed) and its TTL in seconds. */
void udp_names_set(struct udp_name *e, const struct sockaddr *addr,
    uint32_t ttl_s, uint64_t now_ms);

#endif

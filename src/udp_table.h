/* SPDX-License-Identifier: ISC */
/*
 * udp_table.h - the UDP ASSOCIATE relay's pure tables (see udp.h): who
 * the client is (struct udp_source), the bounded address map behind the
 * access verdicts and the filtering (struct udp_map), and the name cache
 * (struct udp_names). No I/O, no allocation, no clock: times are the
 * caller's, in milliseconds. Used by udp.c and
 * tests/unit/check_udp_table.c.
 */
#ifndef SOCKEYE_UDP_TABLE_H
#define SOCKEYE_UDP_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaddr.h"

struct socks5_addr;

/*
 * Copy `sa` into *out (zeroed first; left zero when `sa` is NULL or of
 * no known family), an IPv4-mapped IPv6 address turned into IPv4.
 */
void udp_addr_copy(union sockaddr_any *out, const struct sockaddr *sa);

/* Who the client is: its IP, and its port once known. */
struct udp_source {
	union sockaddr_any ip;		/* port 0 */
	uint16_t port;			/* 0 until known */
};

/*
 * Set *src from the TCP client's address and the request's DST (see
 * udp.h). strict: DST.ADDR, when not zero, is the client's IP
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

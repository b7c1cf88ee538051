/* SPDX-License-Identifier: ISC */
/*
 * sockaddr.h - socket address utilities: parse, format, compare, classify.
 * Pure functions, no I/O, no allocation.
 */
#ifndef SOCKEYE_SOCKADDR_H
#define SOCKEYE_SOCKADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "util.h"

/*
 * An IPv4 or IPv6 address: the only families a SOCKS server deals in, so
 * 28 bytes rather than sockaddr_storage's 128 (a session holds three).
 * A call that may return another family (accept, recvfrom) is given
 * sizeof this and finds the family truncated; nothing here expects one.
 */
union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* Enough for "[ffff:...:255.255.255.255%ifname]:65535". */
#define SOCKADDR_STRLEN 80

/* sizeof the concrete struct for sa->sa_family (0 for unknown families). */
socklen_t sockaddr_len(const struct sockaddr *sa);

/*
 * Parse "IP:PORT" or "[IPv6]:PORT" (port 0..65535, decimal, required).
 * A bare IPv6 without brackets is rejected (ambiguous). 0 or -1.
 */
int sockaddr_parse_hostport(const char *s, union sockaddr_any *out) MUST_CHECK;

/*
 * Parse an IP literal: "1.2.3.4", "::1" or "[::1]" (brackets allowed, as
 * PuTTY sends them in DOMAINNAME requests), setting `port`. 0 or -1.
 */
int sockaddr_parse_ip(const char *s, uint16_t port, union sockaddr_any *out) MUST_CHECK;

/* Format "IP:PORT" or "[IPv6]:PORT"; always terminates; returns buf. */
char *sockaddr_format(const struct sockaddr *sa, char *buf, size_t cap);

/* Format the address without port ("1.2.3.4", "::1"); returns buf. */
char *sockaddr_format_ip(const struct sockaddr *sa, char *buf, size_t cap);

/* Port in host order (0 for unknown families). */
uint16_t sockaddr_port(const struct sockaddr *sa);
void sockaddr_set_port(struct sockaddr *sa, uint16_t port);

/* Same family, address and port. */
bool sockaddr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* Same family and address, port ignored. */
bool sockaddr_equal_ip(const struct sockaddr *a, const struct sockaddr *b);

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes a.b.c.d, port kept. */
void sockaddr_unmap(union sockaddr_any *a);

/* 0.0.0.0 or ::. */
bool sockaddr_is_unspecified(const union sockaddr_any *a);

/*
 * What a destination really reaches, for the access rules: the address the
 * packets end up at, not its spelling.
 *
 * - An IPv4-mapped address (::ffff:a.b.c.d) and an IPv4-compatible one
 *   (::a.b.c.d, except :: and ::1) are the IPv4 address a.b.c.d.
 * - A NAT64 address is the IPv4 address it embeds (RFC 6052 section 2.2):
 *   one in the well-known prefix 64:ff9b::/96, or in `pref64` (its first
 *   `pref64_len` bits: 32, 40, 48, 56, 64 or 96), the prefix a DNS64
 *   resolver announced (RFC 7050); pref64 NULL when none is known.
 * - Anything else is itself.
 *
 * *out gets that address, with the port of `sa` (an IPv6 scope id is
 * dropped when the result is IPv4). Returns SOCKADDR_REACH_UNSPECIFIED
 * when it lies in 0.0.0.0/8 or is :: (Linux connects those to this host,
 * past any rule about loopback), SOCKADDR_REACH_NONE for a family other
 * than IPv4 and IPv6 (*out zeroed), SOCKADDR_REACH_ADDR otherwise. Pure.
 */
enum sockaddr_reach {
	SOCKADDR_REACH_ADDR = 0,
	SOCKADDR_REACH_UNSPECIFIED,
	SOCKADDR_REACH_NONE,
};
enum sockaddr_reach sockaddr_reach(const struct sockaddr *sa,
    const struct in6_addr *pref64, unsigned pref64_len,
    union sockaddr_any *out);

/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. */
bool sockaddr_is_loopback(const struct sockaddr *sa);

/*
 * A network in CIDR form. `addr` holds 4 (AF_INET) or 16 (AF_INET6) bytes
 * with host bits cleared.
 */
struct cidr {
	int family;
	uint8_t prefix;
	uint8_t addr[16];
};

/* Parse "10.0.0.0/8", "2001:db8::/32" or a bare address (/32, /128). 0 or -1. */
int cidr_parse(const char *s, struct cidr *out) MUST_CHECK;
/* Does `sa` lie in `c`? An IPv4-mapped IPv6 address matches IPv4 networks. */
bool cidr_match(const struct cidr *c, const struct sockaddr *sa);

#endif
